from django.urls import path

from procure import views

app_name = "procure"

urlpatterns = [
    path("suppliers/", views.supplier_list, name="suppliers"),
    path("suppliers/<int:pk>/", views.supplier_detail, name="supplier-detail"),
    path("suppliers/<int:pk>/edit/", views.supplier_edit, name="supplier-edit"),
    path(
        "suppliers/<int:pk>/names/add/",
        views.supplier_name_add,
        name="supplier-name-add",
    ),
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
    path(
        "review/suggestions/<int:pk>/restore/",
        views.suggestion_restore,
        name="suggestion-restore",
    ),
    path("contracts/", views.contract_list, name="contracts"),
    path("contracts/new/", views.contract_new, name="contract-new"),
    path("contracts/pipeline/", views.contract_pipeline, name="contract-pipeline"),
    path("contracts/off-contract/", views.off_contract, name="off-contract"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract-detail"),
    path("contracts/<int:pk>/edit/", views.contract_edit, name="contract-edit"),
    path("contracts/<int:pk>/delete/", views.contract_delete, name="contract-delete"),
    path("contracts/deleted/", views.contracts_deleted, name="contracts-deleted"),
    path("contracts/<int:pk>/kpis/", views.contract_kpis, name="contract-kpis"),
    path("contracts/<int:pk>/kpis/rate/", views.kpi_rate, name="kpi-rate"),
    path("contracts/<int:pk>/payments/", views.contract_lines, name="contract-lines"),
    path("exports/", views.exports, name="exports"),
    path(
        "exports/contracts.csv",
        views.export_contracts_csv,
        name="export-contracts-csv",
    ),
    path("exports/spend.csv", views.export_spend_csv, name="export-spend-csv"),
    path("exports/contracts-ocds.json", views.export_ocds, name="export-ocds"),
    path("contracts/import/", views.contract_import, name="contract-import"),
    path(
        "contracts/import/<int:pk>/undo/",
        views.contract_import_undo,
        name="contract-import-undo",
    ),
]
