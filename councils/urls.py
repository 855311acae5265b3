from django.urls import path

from councils import views
from procure import views as procure_views

app_name = "councils"

urlpatterns = [
    path("", views.home, name="home"),
    path("switch/", views.switch, name="switch"),
    path("c/<slug:council_slug>/", views.overview, name="overview"),
    path("public/<slug:council_slug>/", views.public_council, name="public"),
    path(
        "public/<slug:council_slug>/contracts.csv",
        procure_views.public_contracts_csv,
        name="public-contracts-csv",
    ),
    path(
        "public/<slug:council_slug>/spend.csv",
        procure_views.public_spend_csv,
        name="public-spend-csv",
    ),
    path(
        "public/<slug:council_slug>/contracts-ocds.json",
        procure_views.public_ocds,
        name="public-ocds",
    ),
]
