"""Response headers Django does not set itself."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render


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
