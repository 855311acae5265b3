from django.contrib import admin

from councils.history_admin import HistoryAdmin
from councils.models import Council, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Council)
class CouncilAdmin(HistoryAdmin):
    list_display = [
        "name",
        "slug",
        "gss_code",
        "wider_kind",
        "wider_label",
        "public_pages_enabled",
    ]
    list_filter = ["wider_kind", "public_pages_enabled"]
    search_fields = ["name", "slug", "gss_code"]
    prepopulated_fields = {"slug": ["short_name"]}
    inlines = [MembershipInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "short_name",
                    "slug",
                    "gss_code",
                    "public_pages_enabled",
                ]
            },
        ),
        (
            "Local area",
            {"fields": ["local_districts", "local_authority_codes", "area_notes"]},
        ),
        (
            "Wider area",
            {
                "fields": [
                    "wider_kind",
                    "wider_label",
                    "wider_districts",
                    "wider_authority_codes",
                    "wider_region",
                    "wider_radius_miles",
                    "wider_centre_district",
                ]
            },
        ),
    ]


@admin.register(Membership)
class MembershipAdmin(HistoryAdmin):
    list_display = ["user", "council", "role"]
    list_filter = ["council", "role"]
    search_fields = ["user__username", "user__email", "council__name"]
    autocomplete_fields = ["user", "council"]
