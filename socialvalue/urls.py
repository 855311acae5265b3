from django.urls import path

from socialvalue import views

app_name = "socialvalue"

urlpatterns = [
    path("targets/", views.target_list, name="targets"),
    path("targets/new/", views.target_edit, name="target-new"),
    path("targets/<int:pk>/edit/", views.target_edit, name="target-edit"),
    path("targets/<int:pk>/remove/", views.target_remove, name="target-remove"),
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
    # Social value: the catalogue, proxy values, commitments and delivery returns.
    path("social-value/", views.totals, name="totals"),
    path("social-value/totals.csv", views.totals_csv, name="totals-csv"),
    path("social-value/overdue/", views.overdue, name="overdue"),
    path("social-value/measures/", views.measures, name="measures"),
    path("social-value/proxy-values/", views.proxy_values, name="proxy-values"),
    path(
        "social-value/proxy-values/new/",
        views.proxy_value_edit,
        name="proxy-value-new",
    ),
    path(
        "social-value/proxy-values/<int:pk>/edit/",
        views.proxy_value_edit,
        name="proxy-value-edit",
    ),
    path(
        "social-value/proxy-values/<int:pk>/remove/",
        views.proxy_value_remove,
        name="proxy-value-remove",
    ),
    path(
        "contracts/<int:pk>/social-value/",
        views.contract_social_value,
        name="contract",
    ),
    path(
        "contracts/<int:pk>/social-value/commitments/new/",
        views.commitment_new,
        name="commitment-new",
    ),
    path(
        "social-value/commitments/<int:pk>/edit/",
        views.commitment_edit,
        name="commitment-edit",
    ),
    path(
        "social-value/commitments/<int:pk>/remove/",
        views.commitment_remove,
        name="commitment-remove",
    ),
    path(
        "social-value/commitments/<int:pk>/returns/new/",
        views.return_new,
        name="return-new",
    ),
    path(
        "social-value/returns/<int:pk>/edit/",
        views.return_edit,
        name="return-edit",
    ),
    path(
        "social-value/returns/<int:pk>/remove/",
        views.return_remove,
        name="return-remove",
    ),
    path(
        "social-value/returns/<int:pk>/evidence/",
        views.return_evidence,
        name="return-evidence",
    ),
]
