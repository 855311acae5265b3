from django.urls import path

from procure import views

app_name = "procure"

urlpatterns = [
    path("suppliers/", views.supplier_list, name="suppliers"),
    path("suppliers/<int:pk>/", views.supplier_detail, name="supplier-detail"),
    path("suppliers/<int:pk>/edit/", views.supplier_edit, name="supplier-edit"),
    path(
        "suppliers/<int:pk>/merge/<int:into>/",
        views.supplier_merge,
        name="supplier-merge",
    ),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge-undo"),
    path("review/", views.review_queue, name="review"),
    path(
        "review/suggestions/<int:pk>/dismiss/",
        views.suggestion_dismiss,
        name="suggestion-dismiss",
    ),
    path("contracts/", views.contract_list, name="contracts"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract-detail"),
]
