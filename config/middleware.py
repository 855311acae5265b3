"""Response headers Django does not set itself."""

from __future__ import annotations

from django.conf import settings
from django.db import OperationalError
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string


class PermissionsPolicyMiddleware:
    """Send `Permissions-Policy` (settings.PERMISSIONS_POLICY): the browser
    features no LocalSpend page uses (camera, microphone, location, payment, …)
    are switched off for the site and anything it embeds."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(allowed)})"
            for feature, allowed in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response


class MethodNotAllowedPageMiddleware:
    """Give a refused method (405) a page that says what happened: Django sends
    an empty body. Typically a button's address opened as a link (a bookmark, a
    reload, a link pasted from history), or a form sent to a page that only shows."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 405 or response.streaming or response.content:
            return response
        allowed = {m.strip() for m in response.get("Allow", "").split(",")} - {""}
        if "POST" in allowed and "GET" not in allowed:
            takes = "button"  # it does something when its button is pressed
        elif allowed and allowed <= {"GET", "HEAD"}:
            takes = "reading"  # it only shows
        else:
            takes = ""
        page = render(request, "405.html", {"takes": takes}, status=405)
        page["Allow"] = response.get("Allow", "")
        return page


class DatabaseBusyMiddleware:
    """A page saying "busy, try again", not a server error, when the database
    stayed locked for longer than the connection waits (SQLite, the embedded
    default, lets one connection write at a time: while the worker saves a big
    spend file, signing in or saving a change waits, then fails; QA: a 500 on
    sign-in during a 38,000-row import). Status 503 with Retry-After; nothing
    was saved, as the failed write rolled back."""

    RETRY_AFTER_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not (
            isinstance(exception, OperationalError)
            and "locked" in str(exception).lower()
        ):
            return None
        # No request context: its processors may read the database.
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        return response
