"""The Django admin of models with history (django-simple-history)."""

from __future__ import annotations

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin


class HistoryAdmin(SimpleHistoryAdmin):
    """django-simple-history's admin, whose form of an old version ("Revert")
    saves only for someone who may change the record. Its own view saves a POST
    with only the view permission checked, so a record the admin shows read-only
    (a supplier merge, a spend upload) could be rewritten through it (review)."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            obj = self.get_object(request, unquote(object_id))
            if obj is None or not self.has_change_permission(request, obj):
                raise PermissionDenied
        return super().history_form_view(
            request, object_id, version_id, extra_context=extra_context
        )
