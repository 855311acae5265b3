from django.urls import path

from spend import views

app_name = "spend"

urlpatterns = [
    path("uploads/", views.upload_list, name="uploads"),
    path("spend/", views.line_list, name="lines"),
]
