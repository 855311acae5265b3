from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from councils.access import can, council_view
from councils.forms import (
    ROLE_HINTS,
    LocalAreaForm,
    MemberAddForm,
    MemberRemoveForm,
    MemberRoleForm,
    PublicPagesForm,
    split_name,
)
from councils.models import Capability, Council, Membership, Role, WiderKind
from councils.periods import FinancialYear
from procure.models import Supplier
from socialvalue.models import TAG_VALUES, SupplierTag, TagKind, Target
from socialvalue.tagging import classify_suppliers
from spend.models import SpendUpload, year_figures, year_months
from spend.values import parse_whole_number


def _current_fy() -> FinancialYear:
    return FinancialYear.for_date(timezone.localdate())


def home(request: HttpRequest) -> HttpResponse:
    """The user's councils, each with this financial year's headline figures."""
    fy = _current_fy()
    councils = list(Council.objects.for_user(request.user))
    rows = [
        {
            "council": council,
            "figures": year_figures(council, fy),
        }
        for council in councils
    ]
    return render(request, "councils/home.html", {"rows": rows, "fy": fy})


def switch(request: HttpRequest) -> HttpResponse:
    """The council switcher's form sends ?council=slug; go to that council's page."""
    slug = request.GET.get("council", "")
    if not Council.objects.for_user(request.user).filter(slug=slug).exists():
        raise Http404("No such council, or you are not a member of it.")
    return redirect("councils:overview", council_slug=slug)


@council_view(Capability.VIEW)
def overview(request: HttpRequest, council: Council) -> HttpResponse:
    fy = _current_fy()
    context = {
        "council": council,
        "fy": fy,
        "figures": year_figures(council, fy),
        "previous": year_figures(council, fy.previous()),
        "previous_fy": fy.previous(),
        "months": year_months(council, fy),
        "targets": [
            {"target": t, "share_now": t.share_for(fy)}
            for t in Target.objects.for_council(council)
        ],
        "uploads": SpendUpload.objects.for_council(council).select_related(
            "uploaded_by"
        )[:5],
    }
    return render(request, "councils/overview.html", context)


@login_not_required
def public_council(request: HttpRequest, council_slug: str) -> HttpResponse:
    """Headline figures a council has chosen to publish. No login needed."""
    from procure.views import public_downloads

    council = get_object_or_404(Council, slug=council_slug, public_pages_enabled=True)
    fy = _current_fy()
    context = {
        "council": council,
        "fy": fy,
        "figures": year_figures(council, fy),
        "previous_fy": fy.previous(),
        "previous": year_figures(council, fy.previous()),
        "downloads": public_downloads(council),
    }
    return render(request, "councils/public.html", context)


# ==================================================================== council settings
# The council administrator's pages: the local area, the public pages and who has
# access. Every change is saved with history, its reason naming who made it.


def _posted(request: HttpRequest):
    """The form data of a POST (even an empty one), else None: an unbound form."""
    return request.POST if request.method == "POST" else None


def _by(request: HttpRequest) -> str:
    return f"by {request.user.get_username()}"


def _locations(council: Council) -> dict[str, int]:
    """How many of the council's suppliers have each location tag."""
    counts = dict(
        SupplierTag.objects.filter(
            council=council, kind=TagKind.LOCALITY, supplier__merged_into__isnull=True
        )
        .order_by()
        .values_list("value")
        .annotate(n=Count("pk"))
    )
    return {value: counts.get(value, 0) for value in TAG_VALUES[TagKind.LOCALITY]}


def _members(council: Council):
    return (
        Membership.objects.filter(council=council)
        .select_related("user")
        .order_by("user__username")
    )


def _wider_summary(council: Council) -> str:
    """The wider area in words, as the classifier will read it."""
    kind = council.wider_kind
    if kind == WiderKind.REGION:
        return f"Suppliers in the {council.wider_region or '(no region chosen)'} region"
    if kind == WiderKind.RADIUS:
        miles = council.wider_radius_miles
        shown = f"{miles.normalize():f}" if miles is not None else "?"
        return (
            f"Suppliers within {shown} miles of "
            f"{council.wider_centre_district or '(no centre chosen)'}"
        )
    if kind == WiderKind.AUTHORITIES:
        codes = ", ".join(council.wider_authority_codes) or "none given"
        districts = ", ".join(council.wider_districts) or "none"
        return (
            f"Local authorities {codes} (by the ONS postcode directory; until it is "
            f"loaded, the districts {districts})"
        )
    if council.wider_districts:
        return "Postcode districts " + ", ".join(council.wider_districts)
    return "None: no wider area is counted"


@council_view(Capability.MANAGE_COUNCIL)
def settings_hub(request: HttpRequest, council: Council) -> HttpResponse:
    """What the administrator can set, each with where it is set."""
    members = list(_members(council))
    roles = {role: 0 for role in Role.values}
    for membership in members:
        roles[membership.role] += 1
    context = {
        "council": council,
        "wider_summary": _wider_summary(council),
        "other_authorities": [
            code for code in council.local_authority_codes if code != council.gss_code
        ],
        "locations": [
            (TAG_VALUES[TagKind.LOCALITY][value], count)
            for value, count in _locations(council).items()
        ],
        "members": members,
        "roles": [(Role(role).label, n) for role, n in roles.items()],
        "targets": Target.objects.for_council(council).count(),
    }
    return render(request, "councils/settings.html", context)


@council_view(Capability.MANAGE_COUNCIL)
def settings_area(request: HttpRequest, council: Council) -> HttpResponse:
    """The local area and the wider tier; saving works every location out again."""
    form = LocalAreaForm(_posted(request), instance=council)
    if request.method == "POST" and form.is_valid():
        before = _locations(council)["local"]
        with transaction.atomic():
            council = form.save(commit=False)
            council._change_reason = f"Local area changed {_by(request)}"
            council.save(update_fields=LocalAreaForm.Meta.fields)
            suppliers = list(
                Supplier.objects.dealt_with_by(council)
                .filter(merged_into__isnull=True)
                .values_list("pk", flat=True)
            )
            if suppliers:
                classify_suppliers(
                    supplier_ids=suppliers, councils=[council], user=request.user
                )
        locations = _locations(council)
        located = sum(locations.values())
        local = locations["local"]
        change = (
            "unchanged"
            if local == before
            else f"{'up' if local > before else 'down'} from {before:,}"
        )
        messages.success(
            request,
            f"Saved {council.short_name}’s local area and worked out every "
            f"supplier’s location again: {local:,} of the {located:,} suppliers "
            f"{council.short_name} deals with are local now ({change}). "
            "Officers’ own decisions on a supplier’s location still stand.",
        )
        return redirect("councils:settings", council.slug)
    return render(
        request,
        "councils/settings_area.html",
        {"council": council, "form": form, "kinds": WiderKind},
    )


@council_view(Capability.MANAGE_COUNCIL)
def settings_public(request: HttpRequest, council: Council) -> HttpResponse:
    """Turn the public pages (headline figures, Transparency Code files) on or off."""
    initial = {"public_pages_enabled": "yes" if council.public_pages_enabled else "no"}
    form = PublicPagesForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        enabled = form.cleaned_data["public_pages_enabled"]
        if enabled == council.public_pages_enabled:
            messages.info(
                request,
                f"The public pages were already {'on' if enabled else 'off'}: "
                "nothing changed.",
            )
        else:
            council.public_pages_enabled = enabled
            council._change_reason = (
                f"Public pages switched {'on' if enabled else 'off'} {_by(request)}"
            )
            council.save(update_fields=["public_pages_enabled"])
            messages.success(
                request,
                "The public pages are on: anyone can now open them without signing in."
                if enabled
                else "The public pages are off: they now answer “page not found”.",
            )
        return redirect("councils:settings-public", council.slug)
    context = {
        "council": council,
        "form": form,
        "radios": _radios(form["public_pages_enabled"]),
    }
    return render(request, "councils/settings_public.html", context)


@council_view(Capability.MANAGE_COUNCIL)
def settings_members(request: HttpRequest, council: Council) -> HttpResponse:
    return render(
        request,
        "councils/settings_members.html",
        {
            "council": council,
            "members": list(_members(council)),
            "role_hints": [
                (Role(role).label, hint) for role, hint in ROLE_HINTS.items()
            ],
        },
    )


@council_view(Capability.MANAGE_COUNCIL)
def settings_member_add(request: HttpRequest, council: Council) -> HttpResponse:
    """Give a person a role here: an existing account, or a new one."""
    form = MemberAddForm(_posted(request), council=council)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        role = Role(data["role"])
        try:
            with transaction.atomic():
                if form.user is None:
                    first, last = split_name(data["full_name"])
                    user = get_user_model().objects.create_user(
                        data["username"].strip(),
                        email=data["email"],
                        password=data["password"],
                        first_name=first,
                        last_name=last,
                    )
                    made = "Created the account"
                else:
                    user = form.user
                    made = "Added"
                membership = Membership(user=user, council=council, role=role)
                membership._change_reason = (
                    f"Added as {role.label.lower()} {_by(request)}"
                )
                membership.save()
        except IntegrityError:
            # Someone else made the same account or membership a moment ago.
            form.add_error(
                None,
                "Someone else has just added this person or made this username. "
                "Check the list of members, then try again.",
            )
        else:
            messages.success(
                request,
                f"{made} {user.get_username()} and gave them the role of "
                f"{role.label.lower()} at {council.short_name}."
                + (
                    " Give them the initial password yourself; LocalSpend does not "
                    "show it again."
                    if form.user is None
                    else ""
                ),
            )
            return redirect("councils:settings-members", council.slug)
    return render(
        request,
        "councils/settings_member_add.html",
        {
            "council": council,
            "form": form,
            "role_radios": _radios(form["role"], ROLE_HINTS),
        },
    )


def _radios(field, hints: dict | None = None) -> list[tuple]:
    """A radio field's radios, each with its hint, for settings_radios.html."""
    return [(radio, (hints or {}).get(radio.data["value"], "")) for radio in field]


def _chosen_member(request: HttpRequest, council: Council) -> dict:
    """The form's initial member, from ?member= on a link from the members list."""
    pk = parse_whole_number(request.GET.get("member", ""))
    if pk is not None:
        membership = Membership.objects.filter(council=council, pk=pk).first()
        if membership is not None:
            return {"member": membership.pk, "role": membership.role}
    return {}


def _only_admin(council: Council, membership: Membership) -> bool:
    """Whether `membership` is the council's last administrator (checked with the
    administrators' rows held, so two changes at once cannot both pass)."""
    if membership.role != Role.ADMIN:
        return False
    admins = list(
        Membership.objects.select_for_update()
        .filter(council=council, role=Role.ADMIN)
        .values_list("pk", flat=True)
    )
    return admins == [membership.pk]


def _after_own_change(request: HttpRequest, council: Council, url: str):
    """Where to go once a change may have taken the user's own access away."""
    if can(request.user, council, Capability.MANAGE_COUNCIL):
        return redirect(url, council.slug)
    if can(request.user, council, Capability.VIEW):
        return redirect("councils:overview", council.slug)
    return redirect("councils:home")


@council_view(Capability.MANAGE_COUNCIL)
def settings_member_role(request: HttpRequest, council: Council) -> HttpResponse:
    form = MemberRoleForm(
        _posted(request), council=council, initial=_chosen_member(request, council)
    )
    if request.method == "POST" and form.is_valid():
        membership, role = form.cleaned_data["member"], Role(form.cleaned_data["role"])
        name = membership.user.get_username()
        with transaction.atomic():
            if membership.role == role:
                messages.info(
                    request, f"{name} already has the role of {role.label.lower()}."
                )
                return redirect("councils:settings-members", council.slug)
            if _only_admin(council, membership):
                form.add_error(
                    "role",
                    f"{name} is {council.short_name}’s only council administrator. "
                    "Make someone else an administrator first, then change this "
                    "role.",
                )
            else:
                old = Role(membership.role).label.lower()
                membership.role = role
                membership._change_reason = (
                    f"Role changed from {old} to {role.label.lower()} {_by(request)}"
                )
                membership.save(update_fields=["role"])
                messages.success(
                    request, f"{name} now has the role of {role.label.lower()}."
                )
                return _after_own_change(request, council, "councils:settings-members")
    return render(
        request,
        "councils/settings_member_role.html",
        {
            "council": council,
            "form": form,
            "role_radios": _radios(form["role"], ROLE_HINTS),
        },
    )


@council_view(Capability.MANAGE_COUNCIL)
def settings_member_remove(request: HttpRequest, council: Council) -> HttpResponse:
    form = MemberRemoveForm(
        _posted(request), council=council, initial=_chosen_member(request, council)
    )
    if request.method == "POST" and form.is_valid():
        membership = form.cleaned_data["member"]
        name = membership.user.get_username()
        with transaction.atomic():
            if _only_admin(council, membership):
                form.add_error(
                    "member",
                    f"{name} is {council.short_name}’s only council administrator, "
                    "so cannot be removed. Make someone else an administrator "
                    "first.",
                )
            else:
                membership._change_reason = (
                    f"Removed from {council.short_name} {_by(request)}"
                )
                membership.delete()
                messages.success(
                    request,
                    f"Removed {name} from {council.short_name}. Their account and "
                    "any roles at other councils are unchanged.",
                )
                return _after_own_change(request, council, "councils:settings-members")
    return render(
        request,
        "councils/settings_member_remove.html",
        {"council": council, "form": form},
    )
