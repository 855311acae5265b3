"""The one place that decides which council a request may see and what it may do there.

Every view of council-owned data gets its council through `council_view`; every
query of council-owned data goes through `.for_user(user)` or `.for_council(council)`.
A user who is not a member gets a 404 (the council's private pages do not reveal
that they exist); a member whose role lacks the capability gets a 403.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property, wraps

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed

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
            f"Your role at {council.short_name} is {Role(role).label.lower()}, "
            "which cannot do this."
        )
    request.council = council
    request.council_role = role
    if request.session.get("council") != council.slug:  # no session write otherwise
        request.session["council"] = council.slug
    return council


READ_METHODS = ["GET", "HEAD"]


def council_view(
    capability: Capability = Capability.VIEW,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a view taking `council_slug` from the URL; it receives `council`.

    A view that needs only `Capability.VIEW` reads and never writes, so it answers
    GET and HEAD only: anything else is refused (405) once the user is known to be
    a member, so a form pointed at it cannot pass for a write that was done."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, council_slug: str, *args, **kwargs):
            council = get_council_for(request, council_slug, capability)
            if capability == Capability.VIEW and request.method not in READ_METHODS:
                return HttpResponseNotAllowed(READ_METHODS)
            return view(request, council, *args, **kwargs)

        wrapped.capability = capability  # read by the permission matrix test
        return wrapped

    return decorator


def with_previous(records):
    """Each history record of `records` (oldest first) with the record of the
    same object just before it, or None for its first: what a change changed."""
    last: dict = {}
    for record in records:
        yield record, last.get(record.id)
        last[record.id] = record


def history_who(council: Council, people: People | None = None):
    """`who(record)`: who made a change to something `council` owns (its settings,
    members, uploads, contracts, social value), in the words of `People.name` for
    what was done here: members and former members named, "a LocalSpend
    administrator" for a superuser, "the system" for no one, else "someone who
    is not a member of <council>"."""
    people = people or People(council)

    def who(record) -> str:
        return people.name(record.history_user_id, record.history_user, here=True)

    return who


LOCALSPEND_ADMINISTRATOR = "a LocalSpend administrator"


def names_as_administrator(user) -> bool:
    """A superuser: administrator at every council (see `role_in`), so named to
    each as "a LocalSpend administrator", never by name."""
    return user is not None and user.is_superuser


def members_elsewhere(user_ids: Iterable[int], council: Council) -> set[int]:
    """Those of `user_ids` who are, or have been, a member of a council other than
    `council` (memberships now, and removed ones from the memberships' history).
    Such an account is not `council`'s alone: only a LocalSpend administrator may
    add it there, and what it wrote on what every council shares may have been
    written for the other council."""
    user_ids = set(user_ids)
    if not user_ids:
        return set()
    now = Membership.objects.filter(user_id__in=user_ids).exclude(council=council)
    before = Membership.history.filter(user_id__in=user_ids).exclude(
        council_id=council.pk
    )
    return set(now.values_list("user_id", flat=True)) | set(
        before.values_list("user_id", flat=True)
    )


class People:
    """The one rule for naming people to a council's members, on every page,
    history and download of that council.

    - No user (a script, a migration, an account since deleted): `nobody`.
    - A member of the council: named, for everything. Their reasons on what
      every council shares are shown only if they have never been a member of
      another council: such a record does not say which council it was written
      for, and it may have been the other one.
    - A former member: named for what was done here (to something the council
      owns, or decided for it), as they were named while a member; for changes
      to what every council shares (suppliers, their size, VCSE and Living Wage
      tags, near matches), which they may have made for another council since
      leaving, "a former member of <council>", unnamed, their reasons not shown.
    - A superuser: "a LocalSpend administrator".
    - Anyone else: "someone who is not a member of <council>" for what was done
      here; "someone at another council" for what every council shares.
    """

    def __init__(self, council: Council):
        self.council = council
        self.members = set(council.memberships.values_list("user_id", flat=True))
        self.former = (
            set(
                Membership.history.filter(council_id=council.pk).values_list(
                    "user_id", flat=True
                )
            )
            - self.members
        )

    @cached_property
    def _also_elsewhere(self) -> set[int]:
        """Members who are, or have been, members of another council too."""
        return members_elsewhere(self.members, self.council)

    def ours(self, user_id: int | None, user=None) -> bool:
        """A LocalSpend administrator, or a member of this council and of no other
        (now or before): someone whose free-text reasons on what every council
        shares were written for this council, so its members may read them. A
        member who is or was also a member elsewhere may have written them there
        (the record does not say), so they are held back (`reason_withheld`)."""
        if names_as_administrator(user):
            return True
        return user_id in self.members and user_id not in self._also_elsewhere

    def uploader(self, upload) -> str:
        """Who uploaded a spend file of this council (`here`): no one is the
        command line."""
        return self.name(
            upload.uploaded_by_id,
            upload.uploaded_by,
            here=True,
            nobody="the command line",
        )

    def name(self, user_id: int | None, user=None, *, here: bool, nobody="the system"):
        """The words for the person `user_id` (`user`, to save a query) to this
        council's members; `here`: the change was to something this council
        owns, or made for it (a location tag, a merge or decision made here)."""
        if user_id is not None and user is None:
            user = get_user_model().objects.filter(pk=user_id).first()
        if user is None:
            return nobody
        if user_id in self.members or (here and user_id in self.former):
            return user.get_username()
        if names_as_administrator(user):
            return LOCALSPEND_ADMINISTRATOR
        if here:
            return f"someone who is not a member of {self.council.short_name}"
        if user_id in self.former:  # what they did may have been for another council
            return f"a former member of {self.council.short_name}"
        return "someone at another council"

    def reason_withheld(self, user_id: int | None) -> str:
        """Why the reason for a shared decision by `user_id` is not shown: a
        member or former member here may have given it here or elsewhere."""
        if user_id in self.former or user_id in self.members:
            return (
                "for a reason not shown here: it may have been given for another "
                "council"
            )
        return "for a reason given there"
