from django.urls import path

from councils import views

app_name = "councils"

urlpatterns = [
    path("", views.home, name="home"),
    path("switch/", views.switch, name="switch"),
    path("c/<slug:council_slug>/", views.overview, name="overview"),
    path("public/<slug:council_slug>/", views.public_council, name="public"),
]
