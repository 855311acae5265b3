from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from socialvalue.models import Target


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
