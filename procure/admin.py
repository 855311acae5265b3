from django.contrib import admin

from councils.history_admin import HistoryAdmin
from procure.models import (
    Contract,
    ContractKPI,
    KPIRating,
    Supplier,
    SupplierAlias,
    SupplierMerge,
)
from socialvalue.tagging import supplier_saved


class SupplierAliasInline(admin.TabularInline):
    model = SupplierAlias
    extra = 0
    fields = ["council", "name", "council_supplier_id"]


@admin.register(Supplier)
class SupplierAdmin(HistoryAdmin):
    list_display = [
        "name",
        "organisation_type",
        "postcode",
        "company_number",
        "charity_number",
        "employees",
        "verified",
    ]
    list_filter = [
        "organisation_type",
        "verified",
        "living_wage_accredited",
        "accounts_category",
    ]
    search_fields = [
        "name",
        "normalised_name",
        "company_number",
        "charity_number",
        "postcode",
    ]
    readonly_fields = ["normalised_name", "created_at", "updated_at"]
    inlines = [SupplierAliasInline]

    def save_model(self, request, obj, form, change):
        """As the supplier page's edit does: its tags worked out again and the
        dashboards' rollups kept true."""
        super().save_model(request, obj, form, change)
        supplier_saved(
            obj.pk, request.user, verified_changed="verified" in form.changed_data
        )


@admin.register(SupplierAlias)
class SupplierAliasAdmin(HistoryAdmin):
    list_display = ["name", "supplier", "council", "council_supplier_id"]
    list_filter = ["council"]
    search_fields = ["name", "supplier__name", "council_supplier_id"]
    autocomplete_fields = ["supplier"]


class ContractKPIInline(admin.TabularInline):
    model = ContractKPI
    extra = 0
    fields = ["name", "target"]


@admin.register(Contract)
class ContractAdmin(HistoryAdmin):
    list_display = [
        "reference",
        "title",
        "council",
        "supplier",
        "status",
        "route",
        "value",
        "start_date",
        "end_date",
    ]
    list_filter = ["council", "status", "route", "award_method"]
    search_fields = ["reference", "title", "supplier__name", "ocid", "cpv_codes"]
    autocomplete_fields = ["supplier"]
    date_hierarchy = "start_date"
    inlines = [ContractKPIInline]

    def get_readonly_fields(self, request, obj=None):
        # A contract's payments, returns and history belong to its council:
        # moving it to another council would strand them.
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "council"] if obj is not None else readonly


@admin.register(KPIRating)
class KPIRatingAdmin(HistoryAdmin):
    list_display = ["kpi", "period_end", "rating"]
    list_filter = ["rating", "kpi__contract__council"]
    search_fields = ["kpi__name", "kpi__contract__reference"]
    raw_id_fields = ["kpi"]


@admin.register(ContractKPI)
class ContractKPIAdmin(HistoryAdmin):
    """Edited on the contract's pages (or inline here); registered so an
    administrator can read each KPI's history: who changed it, and when."""

    list_display = ["name", "contract"]
    list_filter = ["contract__council"]
    search_fields = ["name", "contract__reference", "contract__title"]
    raw_id_fields = ["contract"]


@admin.register(SupplierMerge)
class SupplierMergeAdmin(HistoryAdmin):
    """Merges are made and undone on the review pages, which move the payments,
    aliases and contracts with them; here they are only read, with their history."""

    list_display = ["kept", "merged", "merged_by", "merged_at", "undone_at"]
    search_fields = ["kept__name", "merged__name", "reason"]
    raw_id_fields = ["kept", "merged"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
