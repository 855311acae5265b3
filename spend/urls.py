from django.urls import path

from spend import dashboard_views, views

app_name = "spend"

urlpatterns = [
    path("uploads/", views.upload_list, name="uploads"),
    path("uploads/new/", views.upload, name="upload"),
    path("uploads/<int:pk>/", views.upload_detail, name="upload-detail"),
    path("uploads/<int:pk>/preview/", views.upload_preview, name="upload-preview"),
    path(
        "uploads/<int:pk>/rejected.csv", views.upload_issues_csv, name="upload-issues"
    ),
    path("uploads/<int:pk>/rollback/", views.upload_rollback, name="upload-rollback"),
    path("uploads/<int:pk>/retry/", views.upload_retry, name="upload-retry"),
    path("uploads/<int:pk>/read-again/", views.upload_reread, name="upload-reread"),
    path("uploads/<int:pk>/discard/", views.upload_discard, name="upload-discard"),
    path("uploads/columns/", views.mapping_list, name="mappings"),
    path(
        "uploads/columns/<int:pk>/forget/",
        views.mapping_forget,
        name="mapping-forget",
    ),
    path("spend/", views.line_list, name="lines"),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
]
