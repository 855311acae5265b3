from django.urls import path

from councils import views
from procure import views as procure_views

app_name = "councils"

urlpatterns = [
    path("", views.home, name="home"),
    path("switch/", views.switch, name="switch"),
    path("c/<slug:council_slug>/", views.overview, name="overview"),
    path("c/<slug:council_slug>/settings/", views.settings_hub, name="settings"),
    path(
        "c/<slug:council_slug>/settings/area/",
        views.settings_area,
        name="settings-area",
    ),
    path(
        "c/<slug:council_slug>/settings/public-pages/",
        views.settings_public,
        name="settings-public",
    ),
    path(
        "c/<slug:council_slug>/settings/members/",
        views.settings_members,
        name="settings-members",
    ),
    path(
        "c/<slug:council_slug>/settings/members/add/",
        views.settings_member_add,
        name="settings-member-add",
    ),
    path(
        "c/<slug:council_slug>/settings/members/role/",
        views.settings_member_role,
        name="settings-member-role",
    ),
    path(
        "c/<slug:council_slug>/settings/members/remove/",
        views.settings_member_remove,
        name="settings-member-remove",
    ),
    path(
        "c/<slug:council_slug>/settings/history/",
        views.settings_history,
        name="settings-history",
    ),
    path("public/", views.public_councils, name="public-list"),
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
