from django.urls import path

from socialvalue import views

app_name = "socialvalue"

urlpatterns = [
    path("targets/", views.target_list, name="targets"),
    path("targets/new/", views.target_edit, name="target-new"),
    path("targets/<int:pk>/edit/", views.target_edit, name="target-edit"),
    path(
        "suppliers/<int:pk>/tags/<slug:kind>/override/",
        views.tag_override,
        name="tag-override",
    ),
    path(
        "suppliers/<int:pk>/tags/<slug:kind>/override/remove/",
        views.tag_override_remove,
        name="tag-override-remove",
    ),
]
