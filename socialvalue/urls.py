from django.urls import path

from socialvalue import views

app_name = "socialvalue"

urlpatterns = [
    path("targets/", views.target_list, name="targets"),
    path("targets/new/", views.target_edit, name="target-new"),
    path("targets/<int:pk>/edit/", views.target_edit, name="target-edit"),
]
