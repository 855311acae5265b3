from __future__ import annotations

from django.http import HttpRequest

from councils.models import ROLE_CAPABILITIES, Council, Role


def current_council(request: HttpRequest) -> dict:
    """The council the page is about (or the one last visited) and the user's councils."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    council = getattr(request, "council", None)
    role = getattr(request, "council_role", None)
    councils = list(Council.objects.for_user(user).only("slug", "name", "short_name"))
    if council is None:
        slug = request.session.get("council")
        council = next((c for c in councils if c.slug == slug), None)
        role = None
    return {
        "current_council": council,
        "current_role": Role(role).label if role else "",
        "capabilities": {c.value for c in ROLE_CAPABILITIES.get(role, ())},
        "user_councils": councils,
    }
