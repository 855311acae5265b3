"""The one place that decides which council a request may see and what it may do there.

Every view of council-owned data gets its council through `council_view`; every
query of council-owned data goes through `.for_user(user)` or `.for_council(council)`.
A user who is not a member gets a 404 (the council's private pages do not reveal
that they exist); a member whose role lacks the capability gets a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from councils.models import ROLE_CAPABILITIES, Capability, Council, Membership, Role


def role_in(user, council: Council) -> str | None:
    """The user's role in `council`, or None. Superusers act as administrators."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    return (
        Membership.objects.filter(user=user, council=council)
        .values_list("role", flat=True)
        .first()
    )


def can(user, council: Council, capability: Capability) -> bool:
    role = role_in(user, council)
    return role is not None and capability in ROLE_CAPABILITIES[role]


def get_council_for(request: HttpRequest, slug: str, capability: Capability) -> Council:
    """The council `slug` if the user may `capability` there; 404 or 403 otherwise."""
    council = Council.objects.filter(slug=slug).first()
    role = role_in(request.user, council) if council else None
    if council is None or role is None:
        raise Http404("No such council, or you are not a member of it.")
    if capability not in ROLE_CAPABILITIES[role]:
        raise PermissionDenied(
            f"Your role at {council.short_name} ({Role(role).label}) cannot do this."
        )
    request.council = council
    request.council_role = role
    if request.session.get("council") != council.slug:  # no session write otherwise
        request.session["council"] = council.slug
    return council


def council_view(
    capability: Capability = Capability.VIEW,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a view taking `council_slug` from the URL; it receives `council`."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, council_slug: str, *args, **kwargs):
            council = get_council_for(request, council_slug, capability)
            return view(request, council, *args, **kwargs)

        wrapped.capability = capability  # read by the permission matrix test
        return wrapped

    return decorator


def history_who(council: Council):
    """`who(record)`: who made a change to something `council` owns, named only
    if they are or were a member of it (the system, a site administrator or
    someone outside the council otherwise)."""
    members = set(
        Membership.history.filter(council_id=council.pk).values_list(
            "user_id", flat=True
        )
    ) | set(council.memberships.values_list("user_id", flat=True))

    def who(record) -> str:
        # No user: a script or migration (a deleted account's changes read so
        # too: history keeps no user once the account is gone).
        if record.history_user_id is None:
            return "the system"
        user = record.history_user
        if record.history_user_id in members:
            return user.get_username()
        if user.is_superuser:
            return "a site administrator"
        return f"someone who is not a member of {council.short_name}"

    return who
