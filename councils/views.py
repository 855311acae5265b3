from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, Exists, Max, OuterRef, Q, Sum, Value
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_safe

from councils.access import People, can, council_view, history_who
from councils.forms import (
    ROLE_HINTS,
    LocalAreaForm,
    MemberAddForm,
    MemberRemoveForm,
    MemberRoleForm,
    PublicPagesForm,
    split_name,
)
from councils.models import (
    FIRST_RECORDED,
    PRESET_LOADED,
    Capability,
    Council,
    Membership,
    Role,
    WiderKind,
)
from councils.periods import FinancialYear
from procure.models import Supplier
from socialvalue.models import TAG_VALUES, Metric, SupplierTag, TagKind, Target
from socialvalue.tagging import classify_suppliers
from spend.dashboard import Targets, describe_months, months_held
from spend.models import (
    SpendLine,
    SpendUpload,
    year_figures,
    year_months,
)
from spend.values import parse_whole_number


def _current_fy() -> FinancialYear:
    return FinancialYear.for_date(timezone.localdate())


@require_safe
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


@require_safe
def switch(request: HttpRequest) -> HttpResponse:
    """The council switcher's form sends ?council=slug; go to that council's page."""
    slug = request.GET.get("council", "")
    if not Council.objects.for_user(request.user).filter(slug=slug).exists():
        raise Http404("No such council, or you are not a member of it.")
    return redirect("councils:overview", council_slug=slug)


def _targets_for(council: Council, fy: FinancialYear) -> list[dict]:
    """Each measure's target for `fy`, as the dashboard judges it (`Targets`): one
    per measure, so a target since replaced is not shown beside its successor."""
    targets = Targets(council)
    rows = []
    for metric in Metric:
        target = targets.governing(metric, fy)
        if target is not None:
            rows.append(
                {
                    "target": target,
                    "share_now": target.share_for(fy),
                    "deadline_passed": target.target_year < fy.start_year,
                }
            )
    return rows


@council_view(Capability.VIEW)
def overview(request: HttpRequest, council: Council) -> HttpResponse:
    fy = _current_fy()
    people = People(council)
    context = {
        "council": council,
        "fy": fy,
        "figures": year_figures(council, fy),
        "previous": year_figures(council, fy.previous()),
        "previous_fy": fy.previous(),
        "months": year_months(council, fy),
        "targets": _targets_for(council, fy),
        "uploads": [
            (upload, people.uploader(upload))
            for upload in SpendUpload.objects.for_council(council).select_related(
                "uploaded_by"
            )[:5]
        ],
    }
    return render(request, "councils/overview.html", context)


def _months_held(council: Council, years: list[FinancialYear]) -> dict:
    """The months with spend imported in these financial years, by year."""
    held: dict[FinancialYear, list[date]] = {}
    if years:
        first, last = min(years).start, max(years).end
        for month in sorted(months_held(council, first, last)):
            held.setdefault(FinancialYear.for_date(month), []).append(month)
    return held


def _year_held(months: list[date]) -> dict:
    """Which of a financial year's months are held, in words."""
    whole = len(months) == 12
    return {
        "months": describe_months(months) if months else "",
        "whole": whole,
        "partial": bool(months) and not whole,
    }


def _over_500(council: Council, fy: FinancialYear) -> dict:
    """The payments of the year the Transparency Code spend file lists."""
    from procure.exports import transparency_spend

    return (
        transparency_spend(council, fy.start, fy.end)
        .order_by()
        .aggregate(lines=Count("payment_date"), total=Sum("amount"))
    )


def _not_over_500(figures: dict, over: dict) -> dict:
    """The payments a year's headline counts that its spend file leaves out: those
    of £500 or less either way (the headline counts every payment held)."""
    lines = (figures.get("lines") or 0) - (over.get("lines") or 0)
    total = (figures.get("total") or Decimal("0")) - (over.get("total") or Decimal("0"))
    return {"lines": lines, "total": total}


@login_not_required
@require_safe
def public_councils(request: HttpRequest) -> HttpResponse:
    """The councils that publish their figures here, for a visitor (QA: the
    public pages could be found only by knowing their address). Those with their
    pages on but no payments held are listed apart: they have published nothing
    yet, or contracts only."""
    councils = (
        Council.objects.filter(public_pages_enabled=True)
        .annotate(
            has_payments=Exists(SpendLine.objects.filter(council_id=OuterRef("pk")))
        )
        .order_by("name")
    )
    context = {
        "councils": [c for c in councils if c.has_payments],
        "not_yet": [c for c in councils if not c.has_payments],
    }
    return render(request, "councils/public_list.html", context)


@login_not_required
@require_safe
def public_council(request: HttpRequest, council_slug: str) -> HttpResponse:
    """Headline figures a council has chosen to publish. No login needed. Says
    how recent they are, which months each year holds, and how the headline (every
    payment) reconciles with the spend files (payments over £500). A council with
    nothing to publish yet says so once, and offers no empty file."""
    from procure.exports import transparency_spend
    from procure.views import public_downloads

    council = Council.objects.filter(
        slug=council_slug, public_pages_enabled=True
    ).first()
    if council is None:
        # The 404 page says no council publishes at this address (other public
        # addresses not found may belong to a council that does).
        return render(request, "404.html", {"unpublished": True}, status=404)
    fy = _current_fy()
    downloads = public_downloads(council)
    years = [fy, fy.previous(), *(year for year, _ in downloads["spend_years"])]
    held = _months_held(council, years)
    latest = SpendLine.objects.for_council(council).aggregate(last=Max("payment_date"))
    figures = year_figures(council, fy)
    over_500 = _over_500(council, fy)
    previous = year_figures(council, fy.previous())
    previous_over_500 = _over_500(council, fy.previous())
    over = {fy: over_500, fy.previous(): previous_over_500}
    spend_files = []
    for year, url in downloads["spend_years"]:
        # A year with no payment over £500 (none at all, or only smaller ones)
        # would give a file of headings only: it is not offered.
        if year in over:
            listed = bool(over[year]["lines"])
        else:
            listed = transparency_spend(council, year.start, year.end).exists()
        if listed:
            spend_files.append((year, url, _year_held(held.get(year, []))))
    context = {
        "council": council,
        "public_council": council,  # the header names it, for a visitor
        "fy": fy,
        "figures": figures,
        "held": _year_held(held.get(fy, [])),
        "over_500": over_500,
        "not_over_500": _not_over_500(figures, over_500),
        "previous_fy": fy.previous(),
        "previous": previous,
        "previous_held": _year_held(held.get(fy.previous(), [])),
        "previous_over_500": previous_over_500,
        "previous_not_over_500": _not_over_500(previous, previous_over_500),
        "latest": latest["last"],
        "downloads": downloads,
        "spend_files": spend_files,
        "nothing_published": latest["last"] is None
        and not downloads["contracts_count"]
        and not downloads["ocds_count"],
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


# Saving only these fields leaves every supplier's location as it was.
_NOT_CLASSIFIED = {"area_notes"}


@council_view(Capability.MANAGE_COUNCIL)
def settings_area(request: HttpRequest, council: Council) -> HttpResponse:
    """The local area and the wider tier; saving works every location out again.
    Saved with nothing changed, it writes no history and reclassifies no one."""
    fields = LocalAreaForm.Meta.fields
    before_values = {name: getattr(council, name) for name in fields}
    form = LocalAreaForm(_posted(request), instance=council)
    if request.method == "POST" and form.is_valid():
        # Validating has put the new values on the council (not yet saved).
        changed = [
            name for name in fields if getattr(council, name) != before_values[name]
        ]
        if not changed:
            messages.info(
                request,
                f"Nothing changed: {council.short_name}’s local area is as it was, "
                "so no supplier’s location was worked out again.",
            )
            return redirect("councils:settings", council.slug)
        before = _locations(council)["local"]
        with transaction.atomic():
            # Locked, and checked again: a save between this one's check and now.
            held = Council.objects.select_for_update().get(pk=council.pk)
            if form.refuse_if_stale(held):
                return render(
                    request,
                    "councils/settings_area.html",
                    {"council": held, "form": form, "kinds": WiderKind},
                )
            council = form.save(commit=False)
            council._change_reason = f"Local area changed {_by(request)}"
            council.save(update_fields=fields)
            if set(changed) <= _NOT_CLASSIFIED:
                messages.success(
                    request,
                    "Saved the notes on the area. The area itself is unchanged, so "
                    "no supplier’s location was worked out again.",
                )
                return redirect("councils:settings", council.slug)
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


def _has_payments(council: Council) -> bool:
    return SpendLine.objects.for_council(council).exists()


def _until_spend_imported(council: Council) -> str:
    """What the public page shows of a council with no payments held (QA: the
    administrator turned the pages on and was not told they would be empty)."""
    from procure.views import public_downloads

    downloads = public_downloads(council)
    if downloads["contracts_count"] or downloads["ocds_count"]:
        return (
            f"No spend has been imported for {council.short_name} yet: until it "
            "is, the public page shows no spending figures and no spend files: "
            "only the contracts."
        )
    return (
        f"No spend has been imported for {council.short_name} yet: until it is, "
        "the public page shows only that nothing has been published."
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
                f"Nothing changed: the public pages were already "
                f"{'on' if enabled else 'off'}.",
            )
        else:
            council.public_pages_enabled = enabled
            council._change_reason = (
                f"Public pages switched {'on' if enabled else 'off'} {_by(request)}"
            )
            council.save(update_fields=["public_pages_enabled"])
            if not enabled:
                said = "The public pages are off: they now answer “page not found”."
            else:
                said = (
                    "The public pages are on: anyone can now open them without "
                    "signing in."
                )
                if not _has_payments(council):
                    said += f" {_until_spend_imported(council)}"
            messages.success(request, said)
        return redirect("councils:settings-public", council.slug)
    context = {
        "council": council,
        "form": form,
        "radios": _radios(form["public_pages_enabled"]),
        "until_spend_imported": None
        if _has_payments(council)
        else _until_spend_imported(council),
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
    form = MemberAddForm(_posted(request), council=council, by=request.user)
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
                    # In the account's history in the Django admin (Users > the
                    # user > History): who made it, for which council.
                    LogEntry.objects.log_actions(
                        user_id=request.user.pk,
                        queryset=[user],
                        action_flag=ADDITION,
                        change_message=(
                            f"Account created to add as {role.label.lower()} at "
                            f"{council.short_name}."
                        ),
                        single_object=True,
                    )
                else:
                    user = form.user
                    made = "Added"
                membership = Membership(user=user, council=council, role=role)
                membership._change_reason = (
                    f"{'Account created and added' if form.user is None else 'Added'}"
                    f" as {role.label.lower()} {_by(request)}"
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


# ==================================================================== settings history
# Who changed the council's settings and its members, newest first, from the history
# django-simple-history keeps of Council and Membership. Nobody outside the council
# is named: a change made by someone who has never been a member is attributed to
# "a LocalSpend administrator" (a superuser, in the Django admin) or "someone who is
# not a member" (`councils.access.People`).

HISTORY_PER_PAGE = 25
_LONGEST_SHOWN = 12  # codes listed in full, before only what was added or removed
_NOTES_SHOWN = 200  # characters of the notes on the area shown before "…"

# How each of the council's fields is named in its history.
_COUNCIL_LABELS = {
    "local_districts": "Local postcode districts",
    "local_authority_codes": "Local authorities (ONS codes)",
    "wider_kind": "How the wider area is defined",
    "wider_label": "Name of the wider area",
    "wider_districts": "Postcode districts in the wider area",
    "wider_authority_codes": "Local authorities in the wider area (ONS codes)",
    "wider_region": "Region of the wider area",
    "wider_radius_miles": "Radius of the wider area",
    "wider_centre_district": "Centre of the wider area",
    "area_notes": "Notes on the area",
    "public_pages_enabled": "Public pages",
}
_AREA_FIELDS = set(LocalAreaForm.Meta.fields)


def _codes_text(codes: list) -> str:
    return ", ".join(codes) if codes else "none"


def _codes_shown(codes: list) -> str:
    """A list of codes in full when short, else how many."""
    if len(codes) <= _LONGEST_SHOWN:
        return _codes_text(codes)
    return f"{len(codes):,} codes"


def _some(codes: list) -> str:
    shown = ", ".join(codes[:_LONGEST_SHOWN])
    more = len(codes) - _LONGEST_SHOWN
    return shown + (f" and {more:,} more" if more > 0 else "")


def _list_change(label: str, old, new) -> dict:
    """A list of codes that changed: each side in full when short (else its
    count), and what was added and removed."""
    old, new = list(old or []), list(new or [])
    notes = []
    if old and new:  # "none → LU1, LU2" says it all
        was, now = set(old), set(new)
        added = [code for code in new if code not in was]
        removed = [code for code in old if code not in now]
        if added:
            notes.append(f"added {_some(added)}")
        if removed:
            notes.append(f"removed {_some(removed)}")
        if not notes:
            notes.append("the same codes, in another order")

    return {
        "field": label,
        "old": _codes_shown(old),
        "new": _codes_shown(new),
        "note": "; ".join(notes),
    }


def _council_value(name: str, value) -> str:
    if value in (None, ""):
        return "—"
    if name == "public_pages_enabled":
        return "on" if value else "off"
    if name == "wider_kind":
        return str(dict(WiderKind.choices).get(value, value))
    if name == "wider_radius_miles":
        return f"{value.normalize():f} miles"
    if name == "area_notes" and len(value) > _NOTES_SHOWN:
        return value[:_NOTES_SHOWN].rstrip() + "…"
    return str(value)


def _council_changes(newer, older) -> list[dict]:
    """What changed between two of the council's history records, in words."""
    changes = []
    order = [field.name for field in Council._meta.fields]
    diff = sorted(newer.diff_against(older).changes, key=lambda c: order.index(c.field))
    for change in diff:
        field = Council._meta.get_field(change.field)
        label = _COUNCIL_LABELS.get(change.field) or capfirst(field.verbose_name)
        if isinstance(change.old, list) or isinstance(change.new, list):
            changes.append(_list_change(label, change.old, change.new))
        else:
            row = {
                "field": label,
                "old": _council_value(change.field, change.old),
                "new": _council_value(change.field, change.new),
                "note": "",
            }
            # Notes cut short above are there in full, on asking (QA: the cut
            # notes could not be read anywhere).
            if change.field == "area_notes" and "…" in (row["old"] + row["new"]):
                row["old_full"], row["new_full"] = change.old or "—", change.new or "—"
            changes.append(row)
    return changes


def _by_reason(record) -> str:
    """What a record did, from the reason the settings pages give it."""
    reason = record.history_change_reason or ""
    if reason.startswith("Local area"):
        return "the local area"
    if reason.startswith("Public pages"):
        return "the public pages"
    return "the council’s details"


def _council_start(record) -> list[dict]:
    """The area settings and public pages a council's first record holds, each
    in words (`old` None: a value, not a change)."""
    rows = []
    for name, label in _COUNCIL_LABELS.items():
        value = getattr(record, name)
        if value in (None, "", []):
            continue
        if isinstance(value, list):
            shown = _codes_shown(value)
        else:
            shown = _council_value(name, value)
        rows.append({"field": label, "old": None, "new": shown, "note": ""})
    return rows


def _council_event(record, older) -> tuple[str, list[dict]]:
    """What a history record of the council did, and the fields it changed."""
    if record.history_type == "+":
        # The settings it started with (QA: only the later changes' "old" side
        # said them).
        start = _council_start(record)
        if record.history_change_reason == PRESET_LOADED:
            return "Set up the council from LocalSpend’s presets", start
        if record.history_change_reason == FIRST_RECORDED:
            return (
                "Recorded the council’s settings as they stood, so that later "
                "changes show what they were before",
                start,
            )
        return "Set up the council in LocalSpend", start
    if older is None:  # the first record kept (the council came from a fixture)
        what = _by_reason(record)
        if what == "the public pages":
            switched = "on" if record.public_pages_enabled else "off"
            return f"Switched the public pages {switched}", []
        return f"Changed {what} (what it was before is not recorded)", []
    changes = _council_changes(record, older)
    fields = {c["field"] for c in changes}
    area = fields & {_COUNCIL_LABELS[name] for name in _AREA_FIELDS}
    public = _COUNCIL_LABELS["public_pages_enabled"]
    parts = []
    if area:
        parts.append("changed the local area")
    if public in fields:
        parts.append(
            f"switched the public pages {'on' if record.public_pages_enabled else 'off'}"
        )
    if fields - area - {public}:
        parts.append("changed the council’s details")
    if not parts:
        return f"Saved {_by_reason(record)} with nothing changed", []
    return capfirst(" and ".join(parts)), changes


def _role(value: str) -> str:
    return Role(value).label.lower() if value in Role.values else value


def _member_event(record, older, name: str) -> str:
    """What a history record of a membership did, naming the member."""
    if record.history_type == "+":
        return f"Added {name} as {_role(record.role)}"
    if record.history_type == "-":
        return f"Removed {name}, who was {_role(record.role)}"
    if older is not None and older.role != record.role:
        return f"Changed {name}’s role from {_role(older.role)} to {_role(record.role)}"
    return f"Saved {name}’s role, {_role(record.role)}, with nothing changed"


def _history_page(council: Council, number) -> tuple:
    """One page of the council's and its members' history, newest first: the
    page, and its events as rows of when, who, what and the fields changed."""
    text = CharField()
    council_history = Council.history.filter(id=council.pk)
    member_history = Membership.history.filter(council_id=council.pk)
    both = (
        council_history.order_by()
        .annotate(source=Value("council", output_field=text))
        .values_list("history_date", "history_id", "source")
        .union(
            member_history.order_by()
            .annotate(source=Value("member", output_field=text))
            .values_list("history_date", "history_id", "source"),
            all=True,
        )
        .order_by("-history_date", "-history_id")
    )
    page = Paginator(both, HISTORY_PER_PAGE).get_page(number)
    keys = list(page.object_list)
    ids = {
        source: [pk for _, pk, kind in keys if kind == source]
        for source in ("council", "member")
    }
    newest_first = ("-history_date", "-history_id")
    council_records = list(
        council_history.filter(history_id__in=ids["council"])
        .select_related("history_user")
        .order_by(*newest_first)
    )
    if council_records:
        # The council's records on the page run on from one another; the record
        # before the oldest is what it changed.
        oldest = council_records[-1]
        council_records.append(
            council_history.filter(
                Q(history_date__lt=oldest.history_date)
                | Q(history_date=oldest.history_date, history_id__lt=oldest.history_id)
            )
            .order_by(*newest_first)
            .first()
        )
    # Each of the page's council records, and the record before it.
    council_pairs = {
        newer.history_id: (newer, older)
        for newer, older in zip(council_records, council_records[1:], strict=False)
    }
    member_records = {
        r.history_id: r
        for r in member_history.filter(history_id__in=ids["member"]).select_related(
            "history_user"
        )
    }
    # Each membership's earlier records, for what a change changed from.
    earlier: dict[int, list] = {}
    for r in member_history.filter(
        id__in={r.id for r in member_records.values()}
    ).order_by("history_date", "history_id"):
        earlier.setdefault(r.id, []).append(r)
    users = {r.user_id for r in member_records.values()}
    names = dict(
        get_user_model()
        .objects.filter(pk__in=users)
        .values_list("pk", get_user_model().USERNAME_FIELD)
    )
    who = history_who(council)
    rows = []
    for _, pk, source in keys:
        if source == "council":
            record, older = council_pairs[pk]
            what, changes = _council_event(record, older)
        else:
            record = member_records[pk]
            runs = [r.history_id for r in earlier.get(record.id, [])]
            at = runs.index(pk) if pk in runs else 0
            older = earlier[record.id][at - 1] if at > 0 else None
            name = names.get(record.user_id, "an account since deleted")
            what, changes = _member_event(record, older, name), []
        rows.append(
            {
                "when": record.history_date,
                "who": who(record),
                "what": what,
                "changes": changes,
            }
        )
    return page, rows


@council_view(Capability.MANAGE_COUNCIL)
def settings_history(request: HttpRequest, council: Council) -> HttpResponse:
    """Who changed the local area, the public pages and the members, and when."""
    page, rows = _history_page(council, request.GET.get("page"))
    return render(
        request,
        "councils/settings_history.html",
        {
            "council": council,
            "page": page,
            "rows": rows,
            "page_range": list(
                page.paginator.get_elided_page_range(page.number, on_each_side=2)
            ),
            "ellipsis": page.paginator.ELLIPSIS,
        },
    )
