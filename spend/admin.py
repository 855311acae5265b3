from django.contrib import admin
from django.core.exceptions import PermissionDenied

from councils.history_admin import HistoryAdmin
from spend.models import SpendLine, SpendUpload


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added or changed here: payments and uploads come from the
    council's files, and a change made here would leave the dashboards' rollups,
    the upload's reconciliation and the links to contracts disagreeing with them
    (roll the upload back in LocalSpend and import a corrected file instead).
    Not deleted here either (a rollback deletes an upload's payments and
    recounts); the delete permission stays, so that deleting a council in the
    admin deletes its spend with it."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        raise PermissionDenied


@admin.register(SpendUpload)
class SpendUploadAdmin(ReadOnlyAdmin, HistoryAdmin):
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
