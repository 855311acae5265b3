from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from socialvalue.models import (
    LivingWageEmployer,
    LivingWageSnapshot,
    SupplierTag,
    TagOverride,
    Target,
)


@admin.register(Target)
class TargetAdmin(SimpleHistoryAdmin):
    list_display = [
        "council",
        "metric",
        "baseline_year",
        "baseline_share",
        "target_year",
        "target_share",
    ]
    list_filter = ["council", "metric"]


@admin.register(SupplierTag)
class SupplierTagAdmin(SimpleHistoryAdmin):
    list_display = [
        "supplier",
        "council",
        "kind",
        "value",
        "source",
        "confidence",
        "decided_at",
    ]
    list_filter = ["kind", "value", "source", "confidence", "council"]
    search_fields = ["supplier__name", "evidence"]
    raw_id_fields = ["supplier"]


@admin.register(TagOverride)
class TagOverrideAdmin(SimpleHistoryAdmin):
    list_display = ["supplier", "council", "kind", "value", "created_by", "created_at"]
    list_filter = ["kind", "council"]
    search_fields = ["supplier__name", "reason"]
    raw_id_fields = ["supplier"]


class LivingWageEmployerInline(admin.TabularInline):
    model = LivingWageEmployer
    extra = 0
    fields = ["name", "location"]


@admin.register(LivingWageSnapshot)
class LivingWageSnapshotAdmin(admin.ModelAdmin):
    list_display = ["taken_on", "file_name", "loaded_at", "loaded_by"]
    inlines = [LivingWageEmployerInline]


@admin.register(LivingWageEmployer)
class LivingWageEmployerAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "snapshot"]
    search_fields = ["name", "normalised_name"]
    list_filter = ["snapshot"]
