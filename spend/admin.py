from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from spend.models import SpendLine, SpendUpload


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added or changed here: payments and uploads come from the
    council's files, and a change made here would leave the dashboards' rollups,
    the upload's reconciliation and the links to contracts disagreeing with them
    (roll the upload back in LocalSpend and import a corrected file instead).
    Deleting stays possible, so that deleting a council deletes its spend."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SpendUpload)
class SpendUploadAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = [
        "file_name",
        "council",
        "status",
        "uploaded_by",
        "uploaded_at",
        "rows_read",
        "rows_imported",
        "rows_rejected",
        "amount_imported",
    ]
    list_filter = ["council", "status", "vat_basis"]
    search_fields = ["file_name", "sha256"]
    readonly_fields = ["sha256", "uploaded_at", "finished_at"]


@admin.register(SpendLine)
class SpendLineAdmin(ReadOnlyAdmin):
    list_display = [
        "payment_date",
        "supplier_name",
        "amount",
        "council",
        "redacted",
        "department",
    ]
    list_filter = ["council", "redacted"]
    search_fields = ["supplier_name", "transaction_ref"]
    date_hierarchy = "payment_date"
    raw_id_fields = ["supplier", "upload"]
    list_select_related = ["council"]
    show_full_result_count = False
