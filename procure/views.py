from __future__ import annotations

import json
import re
from calendar import monthrange
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.http import content_disposition_header
from django.utils.text import capfirst, get_text_list
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from councils.access import (
    People,
    can,
    council_view,
    history_who,
    names_as_administrator,
    with_previous,
)
from councils.models import Capability, Council
from councils.periods import FinancialYear
from councils.tables import order, paginate
from councils.templatetags.money import gbp
from procure.filters import ContractFilter, SupplierFilter
from procure.forms import (
    ContractDeleteForm,
    ContractForm,
    KPIFormSet,
    KPIRatingForm,
    OffContractForm,
    OtherPaymentsForm,
    SupplierForm,
    SupplierNameForm,
)
from procure.linking import (
    LinkRefused,
    LinkResult,
    link_lines,
    link_spend,
    off_contract_suppliers,
    release_lines,
    release_other_suppliers,
    unlink_lines,
)
from procure.merging import (
    DROPPED_BY_MERGE,
    MOVED_BY_MERGE,
    PUT_BACK_BY_UNDO,
    SETTLED_BY_MERGE,
    TAKEN_BACK_BY_UNDO,
    UNSETTLED_BY_UNDO,
    MergeRefused,
    held_warning,
    identity_clash,
    merge_plan,
    merge_suppliers,
    moved_note,
    undo_merge,
    undo_plan,
    undo_refusal,
)
from procure.models import (
    KPIS_REQUIRED,
    Contract,
    ContractKPI,
    ContractLinkChange,
    ContractStatus,
    HandLink,
    KPIRating,
    MatchSuggestion,
    RegisterImport,
    Supplier,
    SupplierAlias,
    SupplierMerge,
)
from procure.ocds import contracts_for_package, release_package
from procure.tables import ContractTable, OffContractTable, SupplierTable
from socialvalue.decisions import decided_elsewhere
from socialvalue.models import (
    SME_VALUES,
    TAG_VALUES,
    SupplierTag,
    TagKind,
    TagOverride,
    TagSource,
    source_label,
)
from socialvalue.tagging import (
    FACT_FIELDS,
    KIND_WORDS,
    rules_verdict,
    supplier_saved,
)
from spend.export import csv_stream_response
from spend.models import SpendLine
from spend.values import normalise_name, parse_whole_number


def _supplier_for(council: Council, pk: int) -> Supplier:
    """A supplier this council deals with (paid, named or contracted); 404 otherwise."""
    return get_object_or_404(Supplier.objects.dealt_with_by(council), pk=pk)


@council_view(Capability.VIEW)
def supplier_list(request: HttpRequest, council: Council) -> HttpResponse:
    """The council's suppliers, filterable by every tag, by spend this financial year."""
    fy = FinancialYear.for_date(timezone.localdate())
    suppliers = Supplier.objects.for_council_list(council, fy).annotate(
        **_officer_decided(council)
    )
    filterset = SupplierFilter(request.GET, queryset=suppliers, council=council)
    table = SupplierTable(
        filterset.qs, council=council, period_label=f"in {fy}", order_by="-spend_period"
    )
    if request.GET.get("format") == "csv":
        order(request, table)  # sorted as shown
        return _suppliers_csv(council, fy, table)
    paginate(request, table, 50)
    query = request.GET.copy()
    query.pop("page", None)
    query["format"] = "csv"
    context = {
        "council": council,
        "table": table,
        "filter": filterset,
        "fy": fy,
        "csv_query": query.urlencode(),
    }
    return render(request, "procure/supplier_list.html", context)


def _officer_decided(council: Council) -> dict:
    """Annotations for the supplier list: `<kind>_by_officer`, whether the tag
    the list shows (as this council sees it) is an officer's decision."""

    def decided(kind: str):
        tags = SupplierTag.objects.filter(
            supplier=OuterRef("pk"), kind=kind, source=TagSource.OFFICER_OVERRIDE
        )
        if kind == TagKind.LOCALITY:
            tags = tags.filter(council=council)
        return Exists(tags)

    return {f"{kind}_by_officer": decided(kind) for kind in TagKind}


def _suppliers_csv(council: Council, fy: FinancialYear, table: SupplierTable):
    """Every supplier the list shows (all pages), filtered and sorted as it is;
    after the columns it always had, whether each tag is an officer's decision
    or the rules' (QA: the file did not say)."""

    def label(kind: str, value: str) -> str:
        return TAG_VALUES[kind].get(value, value)

    def decided_by(supplier: Supplier, kind: str) -> str:
        return "officer" if getattr(supplier, f"{kind}_by_officer") else "rules"

    header = [
        "Supplier",
        "LocalSpend supplier number",
        "Companies House number",
        "Charity number",
        "Postcode",
        "Location",
        "Size",
        "VCSE",
        "Living Wage",
        f"Spend in {fy} (£)",
        "Checked by an officer",
        "Location decided by",
        "Size decided by",
        "VCSE decided by",
        "Living Wage decided by",
    ]
    rows = (
        [
            supplier.name,
            supplier.pk,
            supplier.company_number,
            supplier.charity_number,
            supplier.postcode,
            label("locality", supplier.locality),
            label("size", supplier.size),
            label("vcse", supplier.vcse),
            label("living_wage", supplier.living_wage),
            supplier.spend_period,
            supplier.verified,
            *(decided_by(supplier, kind) for kind in TagKind),
        ]
        for supplier in table.data.data.iterator(chunk_size=2000)
    )
    return csv_stream_response(
        f"{council.slug}-suppliers-{fy.start_year}.csv", chain([header], rows)
    )


@council_view(Capability.VIEW)
def supplier_detail(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    try:
        supplier = _supplier_for(council, pk)
    except Http404:
        # A merged supplier's old address leads to the supplier it became.
        kept = _merged_into(pk)
        if (
            kept is None
            or not Supplier.objects.dealt_with_by(council).filter(pk=kept.pk).exists()
        ):
            raise
        messages.info(request, f"That supplier was merged into {kept.name}.")
        return redirect("procure:supplier-detail", council.slug, kept.pk)
    lines = SpendLine.objects.for_council(council).filter(supplier=supplier)
    people = People(council)
    context = {
        "council": council,
        "supplier": supplier,
        "figures": lines.headline(),
        "years": _spend_by_year(council, supplier, lines),
        "recent_lines": lines.order_by("-payment_date")[:20],
        "aliases": supplier.aliases.filter(council=council),
        "contracts": Contract.objects.for_council(council).filter(supplier=supplier),
        "history": _supplier_history(supplier, council, people),
        "tags": _tags_for(supplier, council, people, user=request.user),
        "tag_history": _tag_history(supplier, council, people),
        "suggestion_history": _suggestion_history(supplier, council, people),
        "name_history": _name_history(supplier, council, people),
        "suggestions": supplier.match_suggestions.filter(dismissed_at__isnull=True)
        .select_related("candidate")
        .annotate(
            # The candidate's page can be opened here (one this council deals
            # with), so its name links to it.
            candidate_here=Exists(
                Supplier.objects.dealt_with_by(council).filter(pk=OuterRef("candidate"))
            )
        ),
        "different": _decided_different(supplier, council, people),
        "merges": _merges_into(supplier, council, people, request.user),
    }
    context.update(_same_as(request, council, supplier))
    return render(request, "procure/supplier_detail.html", context)


def _spend_by_year(council: Council, supplier: Supplier, lines) -> list[dict]:
    """The council's spend with the supplier per financial year, newest first,
    each with the address of its payments (QA: the page showed an all-years total
    and 20 payments, and no way to the rest)."""
    years: dict[FinancialYear, dict] = {}
    for row in (
        lines.annotate(month=TruncMonth("payment_date"))
        .order_by()
        .values("month")
        .annotate(total=Sum("amount"), count=Count("pk"))
    ):
        fy = FinancialYear.for_date(row["month"])
        year = years.setdefault(fy, {"fy": fy, "total": Decimal("0"), "lines": 0})
        year["total"] += row["total"]
        year["lines"] += row["count"]
    address = reverse("spend:lines", args=[council.slug])
    for fy, year in years.items():
        query = {"supplier_id": supplier.pk, "date_from": fy.start, "date_to": fy.end}
        year["url"] = f"{address}?{urlencode(query)}"
    return sorted(years.values(), key=lambda year: year["fy"].start, reverse=True)


def _merges_into(
    supplier: Supplier, council: Council, people: People, user
) -> list[dict]:
    """The merges into the supplier, as this council may see them: who merged
    (named only to their own council), the reason (only the merging council's),
    and whether this council's officers (or the administrator `user`) may undo it."""
    admin = names_as_administrator(user)
    rows = []
    for merge in SupplierMerge.objects.filter(kept=supplier).select_related(
        "merged", "merged_by"
    ):
        here = merge.council_id == council.pk
        ours = here or (
            merge.council_id is None
            and people.ours(merge.merged_by_id, merge.merged_by)
        )
        rows.append(
            {
                "pk": merge.pk,
                "merged": merge.merged,
                "by": people.name(
                    merge.merged_by_id, merge.merged_by, here=here, nobody="an officer"
                ),
                "at": merge.merged_at,
                "reason": merge.reason if ours else "",
                "reason_elsewhere": bool(merge.reason) and not ours,
                "undone_at": merge.undone_at,
                "can_undo": merge.undone_at is None
                and (admin or not undo_refusal(merge, council)),
            }
        )
    return rows


def _merged_into(pk: int) -> Supplier | None:
    """The supplier a merged one ended up in, following merges of merges."""
    supplier = Supplier.objects.filter(pk=pk).first()
    seen = set()
    while supplier is not None and supplier.merged_into_id and supplier.pk not in seen:
        seen.add(supplier.pk)
        supplier = supplier.merged_into
    if supplier is None or supplier.pk == pk:
        return None
    return supplier


def _same_as(request: HttpRequest, council: Council, supplier: Supplier) -> dict:
    """Suppliers the council deals with whose name holds what the officer typed
    (?same_as=), to merge this one into: the way to merge when no near match was
    suggested."""
    typed = request.GET.get("same_as", "").strip()[:100]
    if not typed or not can(request.user, council, Capability.EDIT_REGISTER):
        return {"same_as": typed, "same_as_found": None}
    found = (
        Supplier.objects.dealt_with_by(council)
        .filter(merged_into__isnull=True)
        .exclude(pk=supplier.pk)
        .filter(
            Q(name__icontains=typed)
            | Q(normalised_name__icontains=normalise_name(typed) or typed)
        )
        .order_by("name")[:20]
    )
    return {"same_as": typed, "same_as_found": list(found)}


def _tag_values(supplier: Supplier, council: Council) -> dict[str, str]:
    """Each kind of tag's value, in words, as this council sees the supplier."""
    mine = Q(council=council) | Q(council__isnull=True)
    return {
        kind: TAG_VALUES[kind].get(value, value)
        for kind, value in supplier.tags.filter(mine).values_list("kind", "value")
    }


def _overrides_seen(supplier: Supplier, council: Council) -> dict[str, str]:
    """The value of each officer's decision on the supplier's tags, by kind, as
    this council sees them (its own location decision and the shared ones)."""
    mine = Q(council=council) | Q(council__isnull=True)
    return dict(supplier.tag_overrides.filter(mine).values_list("kind", "value"))


# The facts a change to which is named in words ("from the new postcode").
_FACT_WORDS = {
    "postcode": "postcode",
    "employees": "number of employees",
    "turnover": "turnover",
    "balance_sheet_total": "balance sheet total",
}


def _rules_moved(
    supplier: Supplier,
    council: Council,
    decided: dict[str, str],
    rules_before: dict[str, str],
    changed_fields: list[str],
) -> list[str]:
    """For each officer's decision (`decided`: kind → value) whose rules' answer
    the change moved from `rules_before`, a sentence saying so: "Location stays
    Local (an officer's decision); from the new postcode the rules would now say
    Elsewhere in the UK." `supplier` holds the saved facts."""
    # A location is worked out from the postcode alone; the other tags from
    # the rest of the facts.
    others = [n for n in changed_fields if n in FACT_FIELDS and n != "postcode"]
    if others and all(name in _FACT_WORDS for name in others):
        source = f"the new {get_text_list([_FACT_WORDS[n] for n in others], 'and')}"
    else:
        source = "the changed details"
    notes = []
    for kind in TagKind:
        if kind not in decided:
            continue
        now = rules_verdict(supplier, council, kind).value
        if now == rules_before.get(kind):
            continue
        came = "the new postcode" if kind == TagKind.LOCALITY else source
        words = TAG_VALUES[kind]
        kept = words.get(decided[kind], decided[kind])
        note = f"{TagKind(kind).label} stays {kept} (an officer's decision); "
        if now == decided[kind]:
            note += f"from {came} the rules would now say the same."
        else:
            note += f"from {came} the rules would now say {words.get(now, now)}."
        notes.append(note)
    return notes


def _tags_for(
    supplier: Supplier, council: Council, people: People | None = None, *, user=None
) -> list[dict]:
    """Each kind of tag as this council sees it, with whether an officer overrode
    it, its evidence and who decided it (other councils' people unnamed); with
    `user`, whether the decision is one they may not change (`held_elsewhere`)."""
    people = people or People(council)
    mine = Q(council=council) | Q(council__isnull=True)
    tags = {t.kind: t for t in supplier.tags.filter(mine).select_related("decided_by")}
    overrides = {
        o.kind: o
        for o in supplier.tag_overrides.filter(mine).select_related("created_by")
    }
    rows = []
    for kind in TagKind:
        tag, override = tags.get(kind), overrides.get(kind)
        rules = rules_verdict(supplier, council, kind) if override else None
        rows.append(
            {
                "kind": kind,
                "tag": tag,
                "overridden": override is not None,
                # Offered to see, not to change (QA: "Change decision" led to
                # a refusal).
                "held_elsewhere": user is not None
                and decided_elsewhere(override, council, user),
                "evidence": _evidence(tag, override, council, people),
                "decided_by": (
                    people.name(
                        tag.decided_by_id,
                        tag.decided_by,
                        here=tag.council_id == council.pk,
                        nobody=None,
                    )
                    if tag
                    else None
                ),
                # What the rules alone would say now, beside an officer's decision.
                "rules": rules,
                "rules_label": (
                    TAG_VALUES[kind].get(rules.value, rules.value) if rules else ""
                ),
                "rules_agree": rules is not None and rules.value == override.value,
            }
        )
    return rows


def _evidence(
    tag: SupplierTag | None,
    override: TagOverride | None,
    council: Council,
    people: People,
) -> str:
    """The tag's evidence in words. An officer's decision is told from the
    override: by whom and why to their own council, "someone at another council"
    and no reason to the others (a size, VCSE or Living Wage decision is shared)."""
    if tag is None:
        return "Not classified yet."
    if tag.source != TagSource.OFFICER_OVERRIDE:
        return tag.evidence
    if override is None:  # removed, not yet reclassified
        return "An officer decided this."
    who, reason = override_as_seen(override, council, people)
    when = format_date(timezone.localtime(override.created_at), "j F Y")
    if reason is None:
        withheld = people.reason_withheld(override.created_by_id)
        return f"Set by {who} on {when}, {withheld}."
    return f"Set by {who} on {when}: {reason}"


def override_as_seen(
    override: TagOverride, council: Council, people: People | None = None
) -> tuple[object, str | None]:
    """(who, reason) of an officer's tag decision as `council`'s members may see
    it: the officer and their reason when it is this council's decision (a
    location, or made by one of its members); else who in words and None (see
    `People.reason_withheld`). `who` is in words (`councils.access.People`)."""
    people = people or People(council)
    here = override.council_id == council.pk
    who = people.name(
        override.created_by_id, override.created_by, here=here, nobody="an officer"
    )
    ours = here or people.ours(override.created_by_id, override.created_by)
    return who, override.reason if ours else None


@council_view(Capability.EDIT_REGISTER)
def supplier_edit(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    supplier = _supplier_for(council, pk)
    form = SupplierForm(request.POST or None, instance=supplier, council=council)
    if request.method == "POST" and form.is_valid():
        before = _tag_values(supplier, council)
        with transaction.atomic():
            # Locked, and checked again: a save between this one's check and
            # now (another tab, another council's officer).
            held = Supplier.objects.select_for_update().get(pk=supplier.pk)
            if form.refuse_if_stale(held):
                return render(
                    request,
                    "procure/supplier_form.html",
                    _supplier_form_context(council, held, form),
                )
            if not form.changes(held):
                messages.info(
                    request, f"Nothing was changed: {held.name} is as it was."
                )
                return redirect("procure:supplier-detail", council.slug, supplier.pk)
            # What the rules said, under each officer's decision, before the
            # change (`held` has the facts as they were).
            decided = _overrides_seen(supplier, council)
            rules_before = {
                kind: rules_verdict(held, council, kind).value for kind in decided
            }
            form.save()
            # Postcode, size, numbers and accreditation decide the tags: work
            # them out again now, for every council (overrides still win).
            supplier_saved(
                supplier.pk,
                request.user,
                verified_changed="verified" in form.changed_data,
            )
        after = _tag_values(supplier, council)
        changed = [
            f"{TagKind(kind).label}: {before.get(kind, 'none')} → {value}"
            for kind, value in after.items()
            if before.get(kind) != value
        ]
        said = f"Saved the changes to {supplier.name}."
        if changed:
            said += f" Its tags were worked out again: {'; '.join(changed)}."
        # A tag an officer decided stays as decided; what the rules would now
        # say under it is told when the change moved it (QA: only "Saved the
        # changes", and the dashboard went on counting the decision).
        said += "".join(
            f" {note}"
            for note in _rules_moved(
                supplier, council, decided, rules_before, form.changed_data
            )
        )
        messages.success(request, said)
        return redirect("procure:supplier-detail", council.slug, supplier.pk)
    return render(
        request,
        "procure/supplier_form.html",
        _supplier_form_context(council, supplier, form),
    )


def _supplier_form_context(council: Council, supplier: Supplier, form) -> dict:
    """The supplier form's context, with how many other councils deal with the
    supplier (as `dealt_with_by`: payments, names from their files, contracts):
    what is saved here changes their tags and figures too (security review:
    said nowhere)."""
    # One probe of each index per council (review: a DISTINCT over every one of
    # a national supplier's payments).
    others = (
        Council.objects.exclude(pk=council.pk)
        .filter(
            Exists(SpendLine.objects.filter(council=OuterRef("pk"), supplier=supplier))
            | Exists(
                SupplierAlias.objects.filter(council=OuterRef("pk"), supplier=supplier)
            )
            | Exists(Contract.objects.filter(council=OuterRef("pk"), supplier=supplier))
        )
        .count()
    )
    return {
        "council": council,
        "supplier": supplier,
        "form": form,
        "other_councils": others,
    }


@council_view(Capability.EDIT_REGISTER)
@require_http_methods(["GET", "HEAD", "POST"])
def supplier_name_add(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Add a name the supplier goes by in this council's spend files: payments so
    named in later files go to it (QA: only a merge or the admin could add one).
    A name that already means another supplier is refused, with the merge that
    would bring that supplier's payments here."""
    supplier = _supplier_for(council, pk)
    form = SupplierNameForm(request.POST or None, supplier=supplier, council=council)
    if request.method == "POST" and form.is_valid():
        alias = SupplierAlias(
            supplier=supplier,
            council=council,
            name=form.cleaned_data["name"],
            council_supplier_id=form.cleaned_data["council_supplier_id"],
        )
        alias._history_user = request.user
        alias._change_reason = "Added by an officer on the supplier's page"
        try:
            with transaction.atomic():
                alias.save()
        except IntegrityError:  # the same name, added meanwhile
            form.add_error(
                "name", "That name was added meanwhile: see the supplier's page."
            )
        else:
            messages.success(
                request,
                f"Added “{alias.name}” to {supplier.name}'s names in "
                f"{council.short_name}'s files: payments in that name in files "
                "imported from now on go to it.",
            )
            return redirect("procure:supplier-detail", council.slug, supplier.pk)
    context = {
        "council": council,
        "supplier": supplier,
        "form": form,
        "held_by": getattr(form, "held_by", None),
        "aliases": supplier.aliases.filter(council=council),
    }
    return render(request, "procure/supplier_name_form.html", context)


UNKNOWN_KINDS = (TagKind.LOCALITY, TagKind.SIZE, TagKind.VCSE)
QUEUE_LENGTH = 50


@council_view(Capability.VIEW)
def review_queue(request: HttpRequest, council: Council) -> HttpResponse:
    """What officers should look at next, biggest spend first."""
    spend = SpendLine.objects.for_council(council).filter(supplier=OuterRef("pk"))
    with_spend = Supplier.objects.dealt_with_by(council).annotate(
        spend=Coalesce(
            Subquery(
                spend.values("supplier").annotate(total=Sum("amount")).values("total")
            ),
            Value(Decimal("0")),
            output_field=DecimalField(),
        )
    )
    unknown = SupplierTag.objects.filter(
        supplier=OuterRef("pk"), value="unknown", kind__in=UNKNOWN_KINDS
    ).filter(Q(council=council) | Q(council__isnull=True))
    unknowns = (
        with_spend.filter(Exists(unknown))
        .prefetch_related(
            Prefetch(
                "tags",
                queryset=SupplierTag.objects.filter(
                    value="unknown", kind__in=UNKNOWN_KINDS
                ).filter(Q(council=council) | Q(council__isnull=True)),
                to_attr="unknown_tags",
            )
        )
        .order_by("-spend")[:QUEUE_LENGTH]
    )
    # The council's spend with the new name: clearing the biggest moves the
    # figures most. Summed in the database, like the unknowns' spend.
    suggestion_spend = (
        SpendLine.objects.for_council(council)
        .filter(supplier=OuterRef("supplier_id"))
        .values("supplier")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    suggestions = (
        MatchSuggestion.objects.filter(
            dismissed_at__isnull=True,
            supplier__in=Supplier.objects.dealt_with_by(council),
        )
        .select_related("supplier", "candidate")
        .annotate(
            spend=Coalesce(
                Subquery(suggestion_spend),
                Value(Decimal("0")),
                output_field=DecimalField(),
            ),
            # The candidate's page can be opened here (one this council deals
            # with), to check it before merging.
            candidate_here=Exists(
                Supplier.objects.dealt_with_by(council).filter(pk=OuterRef("candidate"))
            ),
        )
        .order_by("-spend", "-score", "pk")[:QUEUE_LENGTH]
    )
    # Two registered numbers that differ: not one organisation, whatever the
    # names (numbers added since the suggestion); said, and not offered to merge.
    for suggestion in suggestions:
        suggestion.clash = identity_clash(suggestion.candidate, suggestion.supplier)
    context = {
        "council": council,
        "unknowns": unknowns,
        "unknown_count": with_spend.filter(Exists(unknown)).count(),
        "suggestions": suggestions,
        "unverified_count": with_spend.filter(verified=False).count(),
    }
    return render(request, "procure/review.html", context)


@council_view(Capability.EDIT_REGISTER)
@require_POST
def suggestion_dismiss(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Record that two similar names are different organisations."""
    suggestion = get_object_or_404(
        MatchSuggestion.objects.filter(
            supplier__in=Supplier.objects.dealt_with_by(council)
        ).select_related("supplier", "candidate", "dismissed_by"),
        pk=pk,
    )
    if suggestion.dismissed_at is not None:  # QA: a second tab recorded it twice
        by = People(council).name(
            suggestion.dismissed_by_id, suggestion.dismissed_by, here=False
        )
        messages.info(
            request,
            f"Already noted by {by} on "
            f"{format_date(timezone.localtime(suggestion.dismissed_at), 'j F Y')}: "
            f"{suggestion.supplier.name} and {suggestion.candidate.name} are "
            "different organisations.",
        )
        return redirect("procure:review", council.slug)
    suggestion.dismissed_at, suggestion.dismissed_by = timezone.now(), request.user
    suggestion.save()
    messages.success(
        request,
        f"Noted: {suggestion.supplier.name} and {suggestion.candidate.name} are "
        "different organisations.",
    )
    return redirect("procure:review", council.slug)


@council_view(Capability.EDIT_REGISTER)
@require_POST
def suggestion_restore(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Undo "different organisations": the near match is suggested again, for an
    officer to check. The history keeps both decisions."""
    suggestion = get_object_or_404(
        MatchSuggestion.objects.filter(
            supplier__in=Supplier.objects.dealt_with_by(council),
            dismissed_at__isnull=False,
        ).select_related("supplier", "candidate"),
        pk=pk,
    )
    suggestion.dismissed_at, suggestion.dismissed_by = None, None
    suggestion._change_reason = "Undone: may be the same organisation after all"
    suggestion.save()
    messages.success(
        request,
        f"Undone: {suggestion.supplier.name} and {suggestion.candidate.name} may be "
        "the same organisation, and are in the review queue again.",
    )
    return redirect("procure:supplier-detail", council.slug, suggestion.supplier_id)


def _decided_different(supplier: Supplier, council: Council, people) -> list[dict]:
    """Near matches of this supplier that an officer decided are different
    organisations, whichever of the two this one is; who decided is named only
    to their own council."""
    # Settled by a merge that stands: the officer said they are the same.
    merged = SupplierMerge.objects.filter(
        merged=OuterRef("supplier"), kept=OuterRef("candidate"), undone_at__isnull=True
    )
    decided = list(
        MatchSuggestion.objects.filter(dismissed_at__isnull=False)
        .filter(Q(supplier=supplier) | Q(candidate=supplier))
        .exclude(Exists(merged))
        .select_related("supplier", "candidate", "dismissed_by")
        .order_by("-dismissed_at")
    )
    # Undone from the page of the supplier it was suggested for, which this
    # council must deal with (as when it was dismissed): one query for them all.
    ours = set(
        Supplier.objects.dealt_with_by(council)
        .filter(pk__in={s.supplier_id for s in decided})
        .values_list("pk", flat=True)
    )
    return [
        {
            "pk": suggestion.pk,
            "other": (
                suggestion.candidate
                if suggestion.supplier_id == supplier.pk
                else suggestion.supplier
            ),
            "by": people.name(
                suggestion.dismissed_by_id, suggestion.dismissed_by, here=False
            ),
            "at": suggestion.dismissed_at,
            "can_undo": suggestion.supplier_id in ours,
        }
        for suggestion in decided
    ]


@council_view(Capability.EDIT_REGISTER)
def supplier_merge(
    request: HttpRequest, council: Council, pk: int, into: int
) -> HttpResponse:
    """Confirm, then merge supplier `pk` into supplier `into` (reversible)."""
    done = _merged_already(request, council, pk)
    if done is not None:  # from a page opened before the merge (another tab)
        return done
    merged = _supplier_for(council, pk)
    # The supplier to keep is one this council deals with, or the register's near
    # match suggested for `merged`; never any supplier picked by its number.
    suggested = MatchSuggestion.objects.filter(
        supplier=merged, candidate=OuterRef("pk")
    )
    kept = get_object_or_404(
        Supplier.objects.filter(merged_into__isnull=True)
        .filter(Q(pk__in=Supplier.objects.dealt_with_by(council)) | Exists(suggested))
        .exclude(pk=merged.pk),
        pk=into,
    )
    # A council's officers merge only suppliers in no other council's records,
    # and drop no shared decision they may not change; a LocalSpend administrator
    # may merge for every council.
    plan = merge_plan(kept, merged, council, request.user)
    admin = names_as_administrator(request.user)
    refusal = plan.clash or ("" if admin else plan.refusal)
    everywhere = admin and plan.in_other_councils
    if request.method == "POST":
        try:
            if refusal:
                raise MergeRefused(refusal)
            merge_suppliers(
                kept=kept,
                merged=merged,
                user=request.user,
                reason=request.POST.get("reason", "").strip(),
                council=None if everywhere else council,
            )
        except MergeRefused as refused:
            messages.error(request, str(refused))
            return redirect("procure:supplier-detail", council.slug, merged.pk)
        messages.success(
            request,
            f"Merged {merged.name} into {kept.name}. You can undo this below, "
            "under “Merged into this supplier”.",
        )
        return redirect("procure:supplier-detail", council.slug, kept.pk)
    context = {
        "council": council,
        "kept": kept,
        "merged": merged,
        "plan": plan,
        "refusal": refusal,
        "everywhere": everywhere,
        "shared_kinds": get_text_list(
            [KIND_WORDS[k].noun for k in plan.shared_kinds], "and"
        ),
        "dropped_kinds": get_text_list(
            [KIND_WORDS[k].noun for k in _dropped_kinds(kept, merged, council)],
            "and",
        ),
        # Shared decisions by an officer who may have made them for another
        # council: dropped (only an administrator gets this far), or moving.
        "held_warning": (
            held_warning(kept, merged, plan.held_dropped) if plan.held_dropped else ""
        ),
        "moved_note": moved_note(merged, plan.held_moved) if plan.held_moved else "",
    }
    return render(request, "procure/supplier_merge.html", context)


def _dropped_kinds(kept: Supplier, merged: Supplier, council: Council) -> list[str]:
    """The kinds of tag on which `merged` has an officer's decision (this
    council's location, or a shared one) that gives way to `kept`'s own in the
    merge, as `merge_plan` counts them in `dropped` (QA: the page did not say
    which tag)."""
    mine = Q(council=council) | Q(council__isnull=True)
    kept_own = set(kept.tag_overrides.values_list("council_id", "kind"))
    clashing = {
        kind
        for council_id, kind in merged.tag_overrides.filter(mine).values_list(
            "council_id", "kind"
        )
        if (council_id, kind) in kept_own
    }
    return [kind for kind in TagKind if kind in clashing]


def _merged_already(
    request: HttpRequest, council: Council, pk: int
) -> HttpResponse | None:
    """For a supplier merged since the page was opened (another tab): say so and
    show the supplier it went into, if this council deals with it (it was a
    404)."""
    kept = _merged_into(pk)
    if (
        kept is None
        or not Supplier.objects.dealt_with_by(council).filter(pk=kept.pk).exists()
    ):
        return None
    merged = Supplier.objects.get(pk=pk)
    messages.info(
        request,
        f"{merged.name} has already been merged into {kept.name}: there is "
        "nothing more to merge. Its history is below.",
    )
    return redirect("procure:supplier-detail", council.slug, kept.pk)


@council_view(Capability.EDIT_REGISTER)
@require_http_methods(["GET", "HEAD", "POST"])
def merge_undo(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Confirm, then undo a merge: this council's own (see
    `procure.merging.undo_refusal`), or any for a LocalSpend administrator."""
    record = get_object_or_404(
        SupplierMerge.objects.filter(
            Q(council=council) | Q(kept__in=Supplier.objects.dealt_with_by(council))
        ).select_related("kept", "merged"),
        pk=pk,
    )
    admin = names_as_administrator(request.user)
    if request.method == "POST":
        try:
            undo_merge(record, user=request.user, council=None if admin else council)
        except MergeRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(
                request,
                f"Undid the merge: {record.merged.name} stands on its own again.",
            )
        return redirect(_undo_landing(council, record))
    refusal = "" if admin else undo_refusal(record, council)
    plan = None if record.undone_at or refusal else undo_plan(record, council)
    merges = _merges_into(record.kept, council, People(council), request.user)
    context = {
        "council": council,
        "record": record,
        "merge": next(m for m in merges if m["pk"] == record.pk),
        "kept": record.kept,
        "merged": record.merged,
        "refusal": refusal,
        "plan": plan,
        "everywhere": plan is not None and plan.in_other_councils,
        "back": _undo_landing(council, record),
    }
    return render(request, "procure/merge_undo.html", context)


def _undo_landing(council: Council, record: SupplierMerge) -> str:
    """The kept supplier's page, or the merged one's, whichever this council still
    deals with (undone, the kept one may be only another council's again)."""
    shown = Supplier.objects.dealt_with_by(council).filter(
        pk__in=[record.kept_id, record.merged_id]
    )
    open_here = set(shown.values_list("pk", flat=True))
    for pk in (record.kept_id, record.merged_id):
        if pk in open_here:
            return reverse("procure:supplier-detail", args=[council.slug, pk])
    return reverse("procure:review", args=[council.slug])


# --- Contracts ------------------------------------------------------------------

LINES_SHOWN = 25
PIPELINE_BANDS = (6, 12, 18)  # months ahead


def _contract_for(council: Council, pk: int) -> Contract:
    return get_object_or_404(
        Contract.objects.for_council(council).select_related("supplier", "council"),
        pk=pk,
    )


@council_view(Capability.VIEW)
def contract_list(request: HttpRequest, council: Council) -> HttpResponse:
    from procure.exports import sorted_by

    contracts = (
        Contract.objects.for_council(council)
        .with_spend()
        .select_related("supplier", "council")
    )
    filterset = ContractFilter(request.GET, queryset=contracts, council=council)
    valid = filterset.is_valid()
    # A social value figure's link (`measure`, `social_value`) that is no longer
    # a choice (a measure no longer committed to, say): no contracts, rather
    # than all of them as if they were the figure's (QA), as the payments list
    # does for its links. A filter chosen on this page filters nothing, as said.
    broken_link = not valid and any(
        name in filterset.form.errors for name in ("measure", "social_value")
    )
    # First the contracts still running, ending soonest (QA: "Ends, latest
    # first" put pipeline notices ending in 2041 on page 1 after an import).
    table = ContractTable(
        contracts.none() if broken_link else filterset.qs, order_by="due"
    )
    wants_csv = request.GET.get("format") == "csv"
    if wants_csv and valid:
        from procure.exports import contract_register_csv

        order(request, table)  # sorted as shown
        return contract_register_csv(
            council,
            table.data.data,
            filterset.describe(),
            table.order_by,
        )
    paginate(request, table, 50)
    query = request.GET.copy()
    query.pop("page", None)
    first_order = query.copy()
    first_order.pop("sort", None)
    query["format"] = "csv"
    # Searched: the deleted contracts the search finds, by the list's own rule
    # (QA: "1 deleted contract" said of one unlike the search).
    deleted = Contract.history.filter(council_id=council.pk, history_type="-")
    search = filterset.form.cleaned_data.get("q", "") if valid else ""
    if search:
        deleted = filterset.filter_search(deleted, "q", search)
    context = {
        "council": council,
        "table": table,
        "filter": filterset,
        # A filter that is not valid filters nothing: no download until it is put
        # right, so the file never holds contracts the officer meant to leave out.
        "csv_query": query.urlencode() if valid else "",
        "csv_count": table.paginator.count if valid else 0,
        "deleted_count": deleted.count(),
        "search": search,
        "broken_link": broken_link,
        "order_words": sorted_by(table.order_by) if table.order_by else "",
        "first_order": None
        if [o.bare for o in table.order_by] == ["due"]
        and not table.order_by[0].is_descending
        else first_order.urlencode(),
    }
    # Asked for the file with filters that are not valid: the page, saying why.
    status = 400 if wants_csv else 200
    return render(request, "procure/contract_list.html", context, status=status)


@council_view(Capability.VIEW)
def contract_detail(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    try:
        contract = _contract_for(council, pk)
    except Http404:
        # A deleted contract's old address (a bookmark, a link in an email)
        # says so and where to read why (QA: a bare "Not found").
        gone = (
            Contract.history.filter(id=pk, council_id=council.pk, history_type="-")
            .select_related("history_user")
            .order_by("-history_date")
            .first()
        )
        if gone is None:
            raise
        context = {
            "council": council,
            "record": gone,
            "who": People(council).name(
                gone.history_user_id, gone.history_user, here=True
            ),
        }
        return render(request, "procure/contract_gone.html", context, status=404)
    # A line is only ever linked to a contract of its own council, so the
    # contract alone picks them, through its index (procure/models.py,
    # ContractQuerySet.with_spend).
    linked = SpendLine.objects.filter(contract=contract)
    spend = linked.headline()
    people = People(council)
    # Every linked payment, a page at a time, so any can be taken off.
    linked_lines = _with_hands(
        Paginator(
            linked.select_related("hand_link__by", "hand_link__contract").order_by(
                "-contract_link_manual", "-payment_date", "pk"
            ),
            LINES_SHOWN,
        ).get_page(request.GET.get("linked")),
        people,
    )
    # Those taken off it by hand (while they stay so), to link again.
    unlinked_lines = _with_hands(
        Paginator(_unlinked_here(contract), LINES_SHOWN).get_page(
            request.GET.get("unlinked")
        ),
        people,
    )
    other_form = OtherPaymentsForm(request.GET, prefix="other")
    other_lines = _with_hands(
        Paginator(_other_lines(council, contract, other_form), LINES_SHOWN).get_page(
            request.GET.get("other")
        ),
        people,
    )
    context = {
        "council": council,
        "contract": contract,
        "spend": spend,
        "spent_share": (
            (spend["total"] * 100 / contract.value).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
            if contract.value
            else None
        ),
        "lines_url": _lines_url(council, contract),
        "contract_lines_url": (
            reverse("spend:lines", args=[council.slug])
            + "?"
            + urlencode({"contract": contract.pk})
        ),
        "linked_lines": linked_lines,
        "unlinked_lines": unlinked_lines,
        "other_lines": other_lines,
        "other_form": other_form,
        # Open where the officer chose a page or dates of them.
        "other_open": not linked_lines
        or any(key.startswith("other") for key in request.GET),
        "supplier_status": _supplier_status(contract.supplier, council),
        "kpis": contract.kpis.prefetch_related("ratings"),
        **_kpi_context(contract),
        "history": _contract_history(contract, people=people),
        "kpi_history": _kpi_history(contract, people=people),
        "lines_shown": LINES_SHOWN,
    }
    return render(request, "procure/contract_detail.html", context)


def _lines_url(council: Council, contract: Contract) -> str | None:
    """The spend line list for the contract's supplier over its period."""
    if contract.supplier_id is None:
        return None
    query = {"date_from": contract.start_date.isoformat()}
    if contract.end_date:
        query["date_to"] = contract.end_date.isoformat()
    query["supplier_id"] = contract.supplier_id
    return reverse("spend:lines", args=[council.slug]) + "?" + urlencode(query)


def _other_lines(council: Council, contract: Contract, form: OtherPaymentsForm):
    """The supplier's payments not linked to this contract, to link by hand: those
    with no contract first, then the latest; paid between the form's days (none
    while they are not valid). Those taken off this contract by hand are listed
    on their own (`_unlinked_here`)."""
    if contract.supplier_id is None or not form.is_valid():
        return SpendLine.objects.none()
    lines = (
        SpendLine.objects.for_council(council)
        .filter(supplier_id=contract.supplier_id)
        .exclude(contract=contract)
        .exclude(pk__in=_unlinked_here(contract).values("pk"))
    )
    if form.cleaned_data["date_from"]:
        lines = lines.filter(payment_date__gte=form.cleaned_data["date_from"])
    if form.cleaned_data["date_to"]:
        lines = lines.filter(payment_date__lte=form.cleaned_data["date_to"])
    return lines.select_related(
        "contract", "hand_link__by", "hand_link__contract"
    ).order_by(F("contract_id").asc(nulls_first=True), "-payment_date", "pk")


def _unlinked_here(contract: Contract):
    """The payments an officer took off this contract by hand, still with no
    contract and left alone by the linker, the latest taken off first."""
    return (
        SpendLine.objects.filter(
            council_id=contract.council_id,
            hand_link__contract=contract,
            hand_link__linked=False,
            contract__isnull=True,
            contract_link_manual=True,
        )
        .select_related("hand_link__by", "hand_link__contract")
        .order_by("-hand_link__at", "-payment_date", "pk")
    )


def _with_hands(page, people: People):
    """The page's payments, each linked or unlinked by hand with `hand`: who did
    it (as `People` names them), when, and to or from which contract; None
    where the decision is from before LocalSpend kept who made it."""
    page.object_list = list(page.object_list)
    for line in page.object_list:
        hand: HandLink | None = getattr(line, "hand_link", None)
        stands = (
            line.contract_link_manual
            and hand is not None
            and (
                hand.contract_id == line.contract_id
                if hand.linked
                else line.contract_id is None
            )
        )
        line.hand = (
            {
                "who": people.name(hand.by_id, hand.by, here=True, nobody="an officer"),
                "at": hand.at,
                "linked": hand.linked,
                "contract": hand.contract,
            }
            if stands
            else None
        )
    return page


def _supplier_status(supplier: Supplier | None, council: Council) -> list[dict]:
    """SME, VCSE, location and Living Wage status from the supplier's current tags
    (the Transparency Code asks whether the supplier is an SME and/or a VCSE)."""
    if supplier is None:
        return []
    rows = []
    for row in _tags_for(supplier, council):
        tag, kind = row["tag"], row["kind"]
        value = tag.value if tag else "unknown"
        label = tag.label if tag else TAG_VALUES[kind]["unknown"]
        if kind == TagKind.SIZE:
            sme = {"unknown": None}.get(value, value in SME_VALUES)
            label = {True: "SME", False: "Not an SME", None: "Size unknown"}[sme] + (
                f" ({tag.label.lower()})" if tag and value != "unknown" else ""
            )
            good = sme
        else:
            good = {"unknown": None, "local": True, "yes": True}.get(value, False)
        rows.append(
            {
                "kind": "SME" if kind == TagKind.SIZE else kind.label,
                "label": label,
                "colour": {True: "green", False: "blue", None: "grey"}[good],
                "evidence": row["evidence"],
                "overridden": row["overridden"],
            }
        )
    return rows


def _kpi_shortfall(contract: Contract) -> int:
    """How many KPIs a contract over £5m lacks (0 when it has enough)."""
    if not contract.needs_kpis:
        return 0
    return max(0, KPIS_REQUIRED - contract.kpis.count())


def _kpi_context(contract: Contract) -> dict:
    return {
        "kpi_shortfall": _kpi_shortfall(contract),
        "kpi_count": contract.kpis.count(),
    }


def _shown(field, value, names: dict[int, str]) -> str:
    if value in (None, ""):
        return "—"
    if field.is_relation:
        return names.get(value, f"#{value}")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field.name == "social_value_weighting":
        return f"{value}%"
    if isinstance(value, Decimal):
        return gbp(value)
    if isinstance(value, date):
        return format_date(value, "j M Y")
    return str(value)


def _label(field) -> str:
    """ "Whole-life value" for "whole-life value (£)": the units are in the values."""
    return capfirst(field.verbose_name.removesuffix(" (£)").removesuffix(" (%)"))


def _contract_history(
    contract: Contract, limit: int = 30, *, people: People | None = None
) -> list[dict]:
    """The contract's changes, newest first: who, when and what changed; and the
    payments the linker moved onto or off it (`ContractLinkChange`), each with
    `what` it did."""
    people = people or People(contract.council)
    records = list(
        contract.history.select_related("history_user").order_by(
            "-history_date", "-history_id"
        )[: limit + 1]
    )
    suppliers = {r.supplier_id for r in records if r.supplier_id}
    names = dict(Supplier.objects.filter(pk__in=suppliers).values_list("pk", "name"))
    who = history_who(contract.council, people)
    rows = _changes(Contract, records, names, who)[:limit]
    rows += [
        {
            "when": change.recorded_at,
            "who": people.name(change.recorded_by_id, change.recorded_by, here=True),
            "what": change.what,
        }
        for change in ContractLinkChange.objects.filter(contract=contract)
        .select_related("recorded_by")
        .order_by("-recorded_at", "-pk")[:limit]
    ]
    rows.sort(key=lambda row: row["when"], reverse=True)
    return rows[:limit]


def _changes(model, records: list, names: dict[int, str], who=None) -> list[dict]:
    """History records (newest first) as rows of who, when and what changed, each
    field by its label with its old and new values as a person reads them.
    `who(record)` names the person, where not every user may be named."""
    rows = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        changes = []
        if older is not None:
            for change in newer.diff_against(older).changes:
                field = model._meta.get_field(change.field)
                if not field.editable or getattr(field, "auto_now", False):
                    continue
                changes.append(
                    {
                        "field": _label(field),
                        "old": _shown(field, change.old, names),
                        "new": _shown(field, change.new, names),
                    }
                )
        rows.append(
            {
                "when": newer.history_date,
                "who": who(newer) if who else newer.history_user,
                "kind": newer.get_history_type_display(),
                "reason": readable_reason(newer.history_change_reason),
                "changes": changes,
            }
        )
    return rows


_RECORD_NUMBER = re.compile(r" \(#\d+\)")


def readable_reason(reason: str | None) -> str | None:
    """A history record's reason as people read it: without the record numbers
    a merge writes into it ("Merged into Ashcroft Joinery LLP (#31)"; QA:
    internal ids on the page). The record keeps them, for an audit."""
    return _RECORD_NUMBER.sub("", reason) if reason else reason


def _shared_who(council: Council, people: People | None = None):
    """`who(record)`: the author of a change to what every council shares (a
    supplier, a near match), as `People.name` words it; None for no one."""
    people = people or People(council)

    def who(record):
        return people.name(
            record.history_user_id, record.history_user, here=False, nobody=None
        )

    return who


def _supplier_history(
    supplier: Supplier, council: Council, people: People | None = None, limit: int = 20
):
    """The supplier's changes, newest first."""
    records = list(
        supplier.history.select_related("history_user").order_by(
            "-history_date", "-history_id"
        )[: limit + 1]
    )
    merged = {r.merged_into_id for r in records if r.merged_into_id}
    names = dict(Supplier.objects.filter(pk__in=merged).values_list("pk", "name"))
    return _changes(Supplier, records, names, _shared_who(council, people))[:limit]


def _name_history(
    supplier: Supplier, council: Council, people: People | None = None, limit: int = 20
) -> list[dict]:
    """The names of the supplier in this council's files, as added (by an
    import, a merge or an officer), changed or removed, newest first."""
    people = people or People(council)
    records = (
        SupplierAlias.history.filter(supplier_id=supplier.pk, council_id=council.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[:limit]
    )
    done = {"+": "added", "-": "removed", "~": "changed"}
    return [
        {
            "when": record.history_date,
            "what": f"“{record.name}” {done.get(record.history_type, 'changed')}",
            "who": people.name(
                record.history_user_id, record.history_user, here=True, nobody=None
            ),
            "reason": readable_reason(record.history_change_reason) or "",
        }
        for record in records
    ]


def _suggestion_history(
    supplier: Supplier, council: Council, people: People | None = None, limit: int = 20
):
    """The near matches suggested for or against this supplier, and what officers
    decided of them, newest first, in words."""
    who = _shared_who(council, people)
    records = list(
        MatchSuggestion.history.filter(
            Q(supplier_id=supplier.pk) | Q(candidate_id=supplier.pk)
        )
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[:limit]
    )
    others = {
        r.candidate_id if r.supplier_id == supplier.pk else r.supplier_id
        for r in records
    }
    names = dict(Supplier.objects.filter(pk__in=others).values_list("pk", "name"))
    rows = []
    for record in records:
        other_id = (
            record.candidate_id
            if record.supplier_id == supplier.pk
            else record.supplier_id
        )
        other = names.get(other_id, "a supplier since removed")
        if record.history_type == "+":
            what = f"Suggested as possibly the same as {other} (words {record.score}% alike)"
        elif record.history_type == "-":
            what = f"The suggestion of {other} was removed"
        elif (record.history_change_reason or "").startswith(SETTLED_BY_MERGE):
            what = f"Decided to be the same as {other}: merged"
        elif record.history_change_reason == UNSETTLED_BY_UNDO:
            what = f"Suggested again as possibly the same as {other}: merge undone"
        elif record.dismissed_at is not None:
            what = f"Decided to be a different organisation from {other}"
        else:
            what = f"Undone: may be the same as {other} after all"
        rows.append({"when": record.history_date, "what": what, "who": who(record)})
    return rows


# What a removed override's history said before officers gave a reason for it.
OLD_REMOVAL_WORDS = "Removed: the rules decide this tag again"


def _tag_history(
    supplier: Supplier, council: Council, people: People | None = None, limit: int = 30
):
    """How the supplier's tags, as this council sees them, were decided: newest
    first, in words (a location is this council's own). An officer's decisions
    are told from the overrides' own history (set, changed, removed) with the
    reason where this council may read it (`override_as_seen`'s rule); the tag
    rows written for them would only repeat the value."""
    people = people or People(council)
    mine = Q(council_id=council.pk) | Q(council_id__isnull=True)

    def who(record, nobody=None):
        return people.name(
            record.history_user_id,
            record.history_user,
            here=record.council_id == council.pk,
            nobody=nobody,
        )

    tag_records = list(
        SupplierTag.history.filter(supplier_id=supplier.pk)
        .filter(mine)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    # What each tag record changed from: the value of the record before it.
    was = {
        h.history_id: older.value
        for h, older in with_previous(tag_records)
        if older is not None
    }
    # A record that only reworded the evidence (the wider area renamed, say)
    # changed nothing a reader decides on (QA: "Location: Elsewhere in the UK"
    # twice, with no change to see).
    reworded = {
        h.history_id
        for h, older in with_previous(tag_records)
        if older is not None
        and h.history_type == "~"
        and (h.value, h.source) == (older.value, older.source)
    }
    shown = [
        h
        for h in reversed(tag_records)
        if (h.source != TagSource.OFFICER_OVERRIDE or h.history_type == "-")
        and h.history_id not in reworded
    ][:limit]
    rows = []
    for h in shown:
        value, by = TAG_VALUES[h.kind].get(h.value, h.value), who(h)
        before = was.get(h.history_id)
        if h.history_type == "-":
            what = f"{value} removed" + (f" ({by})" if by else "")
            if h.history_change_reason:  # a merge, say
                what += f": {readable_reason(h.history_change_reason)}"
        else:
            source = source_label(h.kind, h.source).lower()
            if before is not None and before != h.value:  # QA: "was" left unsaid
                value += f", was {TAG_VALUES[h.kind].get(before, before)}"
            what = f"{value} ({source}, {by})" if by else f"{value} ({source})"
        rows.append(
            {"when": h.history_date, "kind": h.get_kind_display(), "what": what}
        )
    for h in (
        TagOverride.history.filter(supplier_id=supplier.pk)
        .filter(mine)
        .select_related("history_user", "created_by")
        .order_by("-history_date")[:limit]
    ):
        value, by = TAG_VALUES[h.kind].get(h.value, h.value), who(h, "an officer")
        readable = h.council_id == council.pk or people.ours(
            h.history_user_id, h.history_user
        )
        merge_words = _merge_moved(h, council, people, value, by)
        if merge_words:
            what = merge_words
        elif h.history_type == "-":
            what = f"{by} removed the officer's decision ({value})"
            # The reason for removing it (none before removals asked for one).
            why = readable_reason(h.history_change_reason)
            if why and why != OLD_REMOVAL_WORDS:
                if readable:
                    what += f", because “{why}”"
                else:
                    what += f", {people.reason_withheld(h.history_user_id)}"
            what += ": the rules decide again"
        else:
            if h.history_type == "+":
                what = f"set to {value} by {by}, overriding the rules"
            else:
                what = f"{by} changed the officer's decision: {value}"
            if readable:
                what += f", because “{h.reason}”"
            else:
                what += f", {people.reason_withheld(h.history_user_id)}"
        rows.append(
            {"when": h.history_date, "kind": h.get_kind_display(), "what": what}
        )
    rows.sort(key=lambda row: row["when"], reverse=True)
    return rows[:limit]


def _merge_moved(h, council: Council, people: People, value: str, by) -> str:
    """An officer's decision's history record written by a merge or its undoing
    (its change reason starts with `MOVED_BY_MERGE`, `DROPPED_BY_MERGE`,
    `PUT_BACK_BY_UNDO` or `TAKEN_BACK_BY_UNDO`), in words: what happened to the
    decision and the officer's own reason for it (where this council may read
    it, by `override_as_seen`'s rule: the decision's author's, not the merging
    officer's); "" for any other record (QA: a moved decision read as the
    merging officer setting it, a dropped one as "the rules decide again")."""
    reason = readable_reason(h.history_change_reason) or ""
    ours = h.council_id == council.pk or people.ours(h.created_by_id, h.created_by)
    if ours:
        decision = f"{value}, because “{h.reason}”"
    else:
        decision = f"{value}, {people.reason_withheld(h.created_by_id)}"
    decision = f"the officer's decision ({decision})"
    if reason.startswith(MOVED_BY_MERGE):
        merge = reason.removeprefix(MOVED_BY_MERGE)
        return f"{decision} moved here by the merge of {merge} ({by})"
    if reason.startswith(DROPPED_BY_MERGE):
        merge = reason.removeprefix(DROPPED_BY_MERGE)
        return (
            f"{decision} gave way to the kept supplier's own decision in the "
            f"merge of {merge} ({by})"
        )
    if reason.startswith(PUT_BACK_BY_UNDO):
        merge = reason.removeprefix(PUT_BACK_BY_UNDO)
        return f"{decision} put back here by undoing the merge of {merge} ({by})"
    if reason.startswith(TAKEN_BACK_BY_UNDO):
        merge = reason.removeprefix(TAKEN_BACK_BY_UNDO)
        return (
            f"{decision} went back to the merged supplier on undoing the merge of "
            f"{merge} ({by})"
        )
    return ""


def _kpi_history(
    contract: Contract, limit: int = 30, *, people: People | None = None
) -> list[dict]:
    """Changes to the contract's KPIs and their ratings, newest first, each
    change saying what it changed from."""
    who = history_who(contract.council, people)
    records = list(
        ContractKPI.history.filter(contract_id=contract.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    kpis = {h.id: h.name for h in records}  # each KPI by its latest name
    events = [
        {"when": h.history_date, "who": who(h), "text": _kpi_event(h, older)}
        for h, older in with_previous(records)
    ][-limit:]
    ratings = list(
        KPIRating.history.filter(kpi_id__in=list(kpis))
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    events += [
        {
            "when": h.history_date,
            "who": who(h),
            "text": _rating_event(h, older, kpis.get(h.kpi_id, "A KPI")),
        }
        for h, older in with_previous(ratings)
    ][-limit:]
    return sorted(events, key=lambda e: e["when"], reverse=True)[:limit]


def _kpi_event(record, older=None) -> str:
    """A KPI's history record in words: a change says what it changed from."""
    verb = {"+": "added", "~": "changed", "-": "removed"}[record.history_type]
    if record.history_type != "~" or older is None:
        return f"KPI “{record.name}” {verb}"
    changes = []
    if older.name != record.name:
        changes.append(f"renamed from “{older.name}”")
    if older.target != record.target:
        changes.append(f"target changed from “{older.target}” to “{record.target}”")
    if not changes:
        return f"KPI “{record.name}” saved with nothing changed"
    return f"KPI “{record.name}” {get_text_list(changes, 'and')}"


def _rating_event(record, older, name: str) -> str:
    """A KPI rating's history record in words: a rating replaced says what it was."""
    rating = record.get_rating_display().lower()
    period = format_date(record.period_end, "j M Y")
    if record.history_type == "-":
        return f"{name}: the rating for the period to {period} ({rating}) removed"
    if record.history_type == "~" and older is not None:
        was = older.get_rating_display().lower()
        if was != rating:
            return (
                f"{name}: the rating for the period to {period} changed from "
                f"{was} to {rating}"
            )
        if older.note != record.note:
            return f"{name}: the note on the rating for the period to {period} changed"
        return f"{name} rated {rating} again for the period to {period}"
    return f"{name} rated {rating} for the period to {period}"


@council_view(Capability.EDIT_REGISTER)
def contract_new(request: HttpRequest, council: Council) -> HttpResponse:
    form = ContractForm(request.POST or None, council=council)
    if request.method == "POST" and form.is_valid():
        contract = form.save()
        _after_save(request, contract, "Added")
        return redirect(contract.get_absolute_url())
    return render(
        request, "procure/contract_form.html", {"council": council, "form": form}
    )


@council_view(Capability.EDIT_REGISTER)
def contract_edit(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    contract = _contract_for(council, pk)
    form = ContractForm(request.POST or None, instance=contract, council=council)
    if request.method == "POST" and form.is_valid():
        if form.has_changed():
            with transaction.atomic():
                # Locked, and checked again: a save between this one's check
                # and now (another tab, another officer).
                held = Contract.objects.select_for_update().get(pk=contract.pk)
                if form.refuse_if_stale(held):
                    context = {
                        "council": council,
                        "form": form,
                        "contract": held,
                        **_kpi_context(held),
                    }
                    return render(request, "procure/contract_form.html", context)
                form.save()
                if "supplier" in form.changed_data:
                    release_other_suppliers(
                        [contract],
                        cause=f"when contract {contract.reference} was given "
                        "another supplier",
                        user=request.user,
                    )
            _after_save(request, contract, "Saved")
        return redirect(contract.get_absolute_url())
    context = {
        "council": council,
        "form": form,
        "contract": contract,
        **_kpi_context(contract),
    }
    return render(request, "procure/contract_form.html", context)


@council_view(Capability.EDIT_REGISTER)
@require_http_methods(["GET", "HEAD", "POST"])
def contract_delete(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Ask why, then (on POST) delete a contract entered by mistake (QA: there
    was no way to). Its payments go back to the rule: to another of the
    supplier's contracts covering their date, or to none, moves recorded on the
    contracts that gain them; its KPIs go with it. Its history keeps it, with
    who deleted it and why (`contracts_deleted`), and where its payments went:
    in its deletion's change reason and in a link change that outlives it
    (`procure.linking.contract_deleted`; audit: only this page's message said
    so). A contract with social value commitments is not deleted: they hold
    delivery returns and evidence."""
    contract = _contract_for(council, pk)
    commitments = contract.commitments.count()
    form = ContractDeleteForm(request.POST or None)
    if request.method == "POST" and not commitments and form.is_valid():
        with transaction.atomic():
            held = Contract.objects.select_for_update().get(pk=contract.pk)
            if held.commitments.exists():  # added meanwhile
                return redirect(request.path)
            line_ids = list(held.spend_lines.values_list("pk", flat=True))
            held._history_user = request.user
            held._change_reason = form.cleaned_data["reason"]
            held.delete()  # procure.linking.contract_deleted relinks its payments
            went = (
                SpendLine.objects.filter(pk__in=line_ids)
                .values("contract__reference")
                .annotate(lines=Count("pk"))
                .order_by("-lines", "contract__reference")
            )
        messages.success(request, _deleted_words(held, went, len(line_ids)))
        return redirect("procure:contracts", council.slug)
    context = {
        "council": council,
        "contract": contract,
        "form": form,
        "commitments": commitments,
        "kpis": contract.kpis.count(),
        "spend": SpendLine.objects.filter(contract=contract).headline(),
    }
    status = 409 if request.method == "POST" and commitments else 200
    return render(request, "procure/contract_delete.html", context, status=status)


def _deleted_words(contract: Contract, went, lines: int) -> str:
    words = f"Deleted contract {contract.reference}, {_full_stop(contract.title)}"
    if not lines:
        return words
    parts = [
        f"{row['lines']:,} to contract {row['contract__reference']}"
        if row["contract__reference"]
        else f"{row['lines']:,} to no contract"
        for row in went
    ]
    some = f"{lines:,} payment{pluralize(lines)}"
    return f"{words} Its {some} went back to the linking rule: {get_text_list(parts, 'and')}."


@council_view(Capability.VIEW)
@require_safe
def contracts_deleted(request: HttpRequest, council: Council) -> HttpResponse:
    """The council's deleted contracts, latest first: what each was, who deleted
    it, when and why (from the contracts' history). With `q`, those the
    contracts list's search finds, as its link counts them (review: "1 deleted
    contract matches “x”" opened every deleted contract)."""
    records = (
        Contract.history.filter(council_id=council.pk, history_type="-")
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
    )
    filterset = ContractFilter(
        {"q": request.GET.get("q", "")},
        queryset=Contract.objects.none(),
        council=council,
    )
    search = filterset.form.cleaned_data.get("q", "") if filterset.is_valid() else ""
    if search:
        records = filterset.filter_search(records, "q", search)
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    who = history_who(council)
    suppliers = Supplier.objects.in_bulk({r.supplier_id for r in page} - {None})
    rows = [
        {"record": r, "who": who(r), "supplier": suppliers.get(r.supplier_id)}
        for r in page
    ]
    context = {
        "council": council,
        "page": page,
        "rows": rows,
        "search": search,
        "search_query": urlencode({"q": search}) if search else "",
    }
    return render(request, "procure/contracts_deleted.html", context)


def _after_save(request: HttpRequest, contract: Contract, verb: str) -> None:
    """Link spend to the saved contract, and say what that did: how many payments
    it newly holds and holds in all, which came from other contracts (the
    latest-starting contract takes a payment both cover) or went to them, and
    whether they now come to more than the contract's value. What moved is kept
    in the history of each contract concerned."""
    result = link_spend(
        contract.council,
        [contract],
        cause=f"when contract {contract.reference} was saved",
        user=request.user,
    )
    held = contract.spend_lines.aggregate(lines=Count("pk"), total=Sum("amount"))
    messages.success(request, _linked_words(contract, verb, result, held["lines"]))
    total = held["total"] or Decimal("0")
    if contract.value is not None and total > contract.value:
        messages.warning(
            request,
            f"The payments linked to {contract.reference} come to {gbp(total)}, "
            f"more than its whole-life value of {gbp(contract.value)}. Check the "
            "value, or whether some payments belong to another contract.",
        )
    shortfall = _kpi_shortfall(contract)
    if shortfall:
        messages.warning(
            request,
            f"{contract.reference} is worth more than £5 million: the Procurement "
            f"Act 2023 asks for at least {KPIS_REQUIRED} KPIs. Add {shortfall} more.",
        )


def _full_stop(text: str) -> str:
    """The text ended as a sentence: a full stop added unless it has one (or
    another end: "?", "!", "…")."""
    text = text.rstrip()
    return text if text.endswith((".", "?", "!", "…")) else f"{text}."


def _linked_words(contract: Contract, verb: str, result: LinkResult, lines: int) -> str:
    """What saving the contract did to its payments, from `result` (with its
    moves) and the `lines` it now holds: those newly linked (and in all), which
    came from other contracts and which went to them."""
    moves = result.moves
    refs = dict(
        Contract.objects.filter(
            pk__in={pk for move in moves for pk in move[:2] if pk}
        ).values_list("pk", "reference")
    )
    gained = [(before, n) for before, after, n, _ in moves if after == contract.pk]
    lost = [(after, n) for before, after, n, _ in moves if before == contract.pk]
    newly = sum(n for _, n in gained)
    # A reference ending in a full stop is not given a second (QA: "Centre..").
    said = f"{verb} contract {_full_stop(contract.reference)} "
    if newly == lines:
        said += f"{lines or 'No'} payment{pluralize(lines)} linked to it"
    else:
        said += (
            f"{newly or 'No'} payment{pluralize(newly)} newly linked to it "
            f"({lines} in all)"
        )
    froms = sorted(
        ((n, refs.get(pk, "another contract")) for pk, n in gained if pk), reverse=True
    )
    if froms:
        said += (
            ": "
            + ", ".join(f"{n} from {ref}" for n, ref in froms)
            + " (a payment two contracts cover goes to the one that started later, "
            "or was added later when they start on the same day; link it by hand "
            "to change that)"
        )
    if lost:
        gone = sum(n for _, n in lost)
        tos = sorted(
            (
                (n, refs.get(pk, "another contract") if pk else "no contract")
                for pk, n in lost
            ),
            reverse=True,
        )
        said += (
            f". {gone} payment{pluralize(gone)} it held "
            f"{'is' if gone == 1 else 'are'} no longer linked to it: "
            + ", ".join(f"{n} went to {where}" for n, where in tos)
        )
    return f"{said}."


@council_view(Capability.EDIT_REGISTER)
def contract_kpis(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Add, change or remove the contract's KPIs; rate them (`kpi_rate`)."""
    contract = _contract_for(council, pk)
    formset = KPIFormSet(request.POST or None, instance=contract, prefix="kpi")
    # "Go back" from the question below: the form as the officer left it, unsaved.
    back = request.method == "POST" and "back" in request.POST
    if request.method == "POST" and not back and formset.is_valid():
        removed = [
            (form.instance, form.instance.ratings.count())
            for form in formset.deleted_forms
            if form.instance.pk
        ]
        # Removing a KPI removes its ratings: asked first, saying how many (and
        # asked again if that changed since).
        rated = [(kpi, n) for kpi, n in removed if n]
        asked = ",".join(f"{kpi.pk}:{n}" for kpi, n in rated)
        if rated and request.POST.get("confirm_removal") != asked:
            return _kpi_removal_question(request, contract, rated, asked)
        with transaction.atomic():
            formset.save()
        said = f"Saved the KPIs of {contract.reference}."
        if removed:
            said += " Removed " + get_text_list(
                [
                    f"“{kpi.name}”"
                    + (f" and its {n} rating{pluralize(n)}" if n else "")
                    for kpi, n in removed
                ],
                "and",
            )
            said += "."
        messages.success(request, said)
        return redirect("procure:contract-kpis", council.slug, contract.pk)
    return _kpi_page(request, contract, formset, KPIRatingForm(contract=contract))


def _kpi_removal_question(request, contract, rated, asked: str) -> HttpResponse:
    """Ask before removing KPIs with ratings: the page carries the officer's
    form, to save as it was once confirmed, or to go back to unsaved."""
    carried = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in {"csrfmiddlewaretoken", "confirm_removal", "back"}
        for value in values
    ]
    context = {
        "council": contract.council,
        "contract": contract,
        "rated": [
            {"kpi": kpi, "ratings": n, "latest": kpi.ratings.order_by("-period_end")[0]}
            for kpi, n in rated
        ],
        "ratings": sum(n for _, n in rated),
        "asked": asked,
        "carried": carried,
    }
    return render(request, "procure/contract_kpis_remove.html", context)


def _kpi_page(request, contract, formset, rating_form) -> HttpResponse:
    context = {
        "council": contract.council,
        "contract": contract,
        "formset": formset,
        "rating_form": rating_form,
        **_kpi_context(contract),
        "kpis": contract.kpis.prefetch_related("ratings"),
    }
    return render(request, "procure/contract_kpis.html", context)


@council_view(Capability.EDIT_REGISTER)
@require_POST
def kpi_rate(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    contract = _contract_for(council, pk)
    form = KPIRatingForm(request.POST, contract=contract)
    if not form.is_valid():
        formset = KPIFormSet(instance=contract, prefix="kpi")
        return _kpi_page(request, contract, formset, form)
    rating, created = form.save()
    messages.success(
        request,
        f"{'Recorded' if created else 'Replaced'} the rating of “{rating.kpi.name}” "
        f"for the period to {format_date(rating.period_end, 'j F Y')}.",
    )
    return redirect("procure:contract-kpis", council.slug, contract.pk)


@council_view(Capability.EDIT_REGISTER)
@require_POST
def contract_lines(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Link payments to the contract by hand, take them off, or hand them back to
    the linking rule. The contract's history records who did it, and to which
    payments; each payment keeps who linked or unlinked it (`HandLink`)."""
    contract = _contract_for(council, pk)
    action = request.POST.get("action")
    sent = map(parse_whole_number, request.POST.getlist("lines"))
    ids = [pk for pk in sent if pk is not None]
    actions = {"link": link_lines, "unlink": unlink_lines, "release": release_lines}
    if action not in actions or not ids:
        messages.error(request, "Choose at least one payment, then an action.")
        return redirect(contract.get_absolute_url())
    ids = list(dict.fromkeys(ids))
    before = {
        line["pk"]: line
        for line in SpendLine.objects.for_council(council)
        .filter(pk__in=ids)
        .values("pk", "supplier_id", "contract_id", "contract_link_manual")
    }
    try:
        done = actions[action](contract, ids, user=request.user)
    except LinkRefused as refusal:
        messages.error(request, str(refusal))
        return redirect(contract.get_absolute_url())
    reasons, unchanged, changed = _not_done(council, contract, action, ids, before)
    done -= unchanged  # linked again to where they already were: nothing changed
    if not done:
        verb = {"link": "linked", "unlink": "taken off", "release": "handed back"}
        because = f": {'; '.join(reasons)}" if reasons else ""
        messages.error(
            request, f"None of the chosen payments could be {verb[action]}{because}."
        )
        return redirect(contract.get_absolute_url())
    said = {
        "link": "Linked {} payment{} to this contract by hand",
        "unlink": "Took {} payment{} off this contract by hand",
        "release": "Handed {} payment{} back to the linking rule",
    }[action].format(done, pluralize(done))
    # The history says which payments (the first few, by date and amount); its
    # record says who.
    contract._change_reason = f"{said}: {_which_payments(changed, done)}"
    contract.save()
    messages.success(request, f"{said}.")
    if reasons:
        messages.warning(
            request, f"The others were left as they were: {'; '.join(reasons)}."
        )
    return redirect(contract.get_absolute_url())


def _not_done(
    council: Council, contract: Contract, action: str, ids: list[int], before: dict
) -> tuple[list[str], int, list[int]]:
    """Why some of the chosen payments were not linked, taken off or handed back
    (from the state `before` the action), how many the action counted that were
    already as asked (linked to this contract by hand), and the ids of those it
    changed."""
    counts: dict[str, int] = {}
    supplier = contract.supplier.name if contract.supplier else "its supplier"
    unchanged, done = 0, []
    for pk in ids:
        line, reason = before.get(pk), None
        on_this = line is not None and line["contract_id"] == contract.pk
        if line is None:
            reason = f"not one of {council.short_name or council.name}'s payments"
        elif action == "link":
            if line["supplier_id"] != contract.supplier_id:
                reason = f"paid to a supplier other than {supplier}"
            elif on_this and line["contract_link_manual"]:
                reason = "already linked to this contract by hand"
                unchanged += 1
        elif action == "unlink":
            if not on_this:
                reason = "not linked to this contract"
        elif not line["contract_link_manual"]:
            reason = "already left to the linking rule"
        elif not on_this and line["supplier_id"] != contract.supplier_id:
            reason = f"neither linked to this contract nor paid to {supplier}"
        if reason is None:
            done.append(pk)
        else:
            counts[reason] = counts.get(reason, 0) + 1
    return (
        [f"{n} {'is' if n == 1 else 'are'} {reason}" for reason, n in counts.items()],
        unchanged,
        done,
    )


LINES_NAMED = 3  # payments named in a hand link's history, then "and N more"


def _which_payments(ids: list[int], count: int) -> str:
    """The payments `ids` (of `count` done) as a history names them: the first
    few by date with their amounts, then how many more. "1 May 2025 (£1,000.00),
    3 June 2025 (£500.00) and 2 more"."""
    named = [
        f"{format_date(day, 'j M Y')} ({gbp(amount)})"
        for day, amount in SpendLine.objects.filter(pk__in=ids)
        .order_by("payment_date", "pk")
        .values_list("payment_date", "amount")[:LINES_NAMED]
    ]
    more = count - len(named)
    if more > 0:
        named.append(f"{more} more")
    return get_text_list(named, "and")


def _months_ahead(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


@council_view(Capability.VIEW)
def contract_pipeline(request: HttpRequest, council: Council) -> HttpResponse:
    """Active contracts ending in the next 6, 12 and 18 months (by end date: the
    day by which the council must extend or re-procure), with spend to date and
    where the supplier is, to plan re-procurement."""
    today = timezone.localdate()
    limits = [_months_ahead(today, months) for months in PIPELINE_BANDS]
    locality = SupplierTag.objects.filter(
        supplier_id=OuterRef("supplier_id"), council=council, kind=TagKind.LOCALITY
    ).values("value")[:1]
    contracts = list(
        Contract.objects.for_council(council)
        .filter(status=ContractStatus.ACTIVE, end_date__gte=today)
        .filter(end_date__lte=limits[-1])
        .with_spend()
        .annotate(locality=Subquery(locality))
        .select_related("supplier", "council")
        .order_by("end_date", "reference")
    )
    for contract in contracts:
        contract.locality = contract.locality or "unknown"
        contract.locality_label = TAG_VALUES[TagKind.LOCALITY][contract.locality]
    bands = []
    after, before = today, 0
    for months, limit in zip(PIPELINE_BANDS, limits, strict=True):
        rows = [c for c in contracts if after <= c.end_date <= limit]
        label = (
            f"Ending in {before} to {months} months"
            if before
            else f"Ending within {months} months"
        )
        bands.append(
            {"months": months, "label": label, "until": limit, "contracts": rows}
        )
        after, before = limit + timedelta(days=1), months
    if request.GET.get("export") == "csv":
        return _pipeline_csv(council, today, bands)
    context = {"council": council, "today": today, "bands": bands}
    return render(request, "procure/contract_pipeline.html", context)


def _pipeline_csv(council: Council, today: date, bands: list[dict]):
    header = [
        "Ends within (months)",
        "Reference",
        "Title",
        "Supplier",
        "Supplier location",
        "Department",
        "Procurement route",
        "Start date",
        "End date",
        "End date if extended",
        "Whole-life value (£)",
        "Spend to date (£)",
        "Contract manager",
    ]
    rows = [header]
    for band in bands:
        for c in band["contracts"]:
            rows.append(
                [
                    band["months"],
                    c.reference,
                    c.title,
                    c.supplier.name if c.supplier else "",
                    c.locality_label,
                    c.department,
                    c.get_route_display(),
                    c.start_date,
                    c.end_date,
                    c.extension_end_date,
                    c.value,
                    c.spend_to_date,
                    c.contract_manager,
                ]
            )
    return csv_stream_response(
        f"{council.slug}-contract-pipeline-{today:%Y-%m-%d}.csv", rows
    )


def _years_with_spend(council: Council) -> list[FinancialYear]:
    """Financial years from the council's latest spend (or this year) back to its
    earliest, newest first."""
    span = SpendLine.objects.for_council(council).aggregate(
        first=Min("payment_date"), last=Max("payment_date")
    )
    current = FinancialYear.for_date(timezone.localdate())
    last = FinancialYear.for_date(span["last"]) if span["last"] else current
    first = FinancialYear.for_date(span["first"]) if span["first"] else last
    return [FinancialYear(y) for y in range(last.start_year, first.start_year - 1, -1)]


@council_view(Capability.VIEW)
def off_contract(request: HttpRequest, council: Council) -> HttpResponse:
    """Suppliers whose spend with no contract in a financial year reaches a
    threshold, biggest first: the list an officer works through."""
    data = request.GET if "year" in request.GET else None
    form = OffContractForm(data, years=_years_with_spend(council))
    fy, threshold, public = form.chosen()
    suppliers = off_contract_suppliers(
        council, fy.start, fy.end, threshold, public_bodies=public
    )
    if request.GET.get("export") == "csv":
        return _off_contract_csv(council, fy, threshold, suppliers)
    # The year's lines are summed once: the page, its count and its totals are
    # all taken from the suppliers found (a few thousand rows at most), not from
    # three aggregations of the lines.
    rows = list(suppliers)
    table = OffContractTable(rows, council=council, fy=fy, orderable=False)
    paginate(request, table, 50)
    query = request.GET.copy()
    query.pop("page", None)
    query["export"] = "csv"
    totals = {
        "suppliers": len(rows),
        "amount": sum((row["off_contract"] for row in rows), Decimal("0")),
    }
    context = {
        "council": council,
        "form": form,
        "fy": fy,
        "threshold": threshold,
        "table": table,
        "totals": totals,
        "csv_query": query.urlencode(),
    }
    return render(request, "procure/off_contract.html", context)


def _off_contract_csv(council, fy, threshold, suppliers):
    header = [
        "Supplier",
        "Register number",
        "Supplier location",
        "Spend with no contract (£)",
        "Payments with no contract",
        f"All spend in {fy} (£)",
        "Contracts held",
    ]
    localities = TAG_VALUES[TagKind.LOCALITY]
    rows = (
        [
            s["supplier_name"],
            s["supplier_id"],
            localities.get(s["locality"], s["locality"]),
            s["off_contract"],
            s["payments"],
            s["total"],
            s["contracts"],
        ]
        for s in suppliers.iterator()
    )
    name = f"{council.slug}-off-contract-{fy.start_year}-from-{threshold:.0f}.csv"
    return csv_stream_response(name, chain([header], rows))


# --- Exports: the Transparency Code files and the OCDS release package ----------


def _spend_period_form(request: HttpRequest, council: Council):
    from procure.exports import SpendPeriodForm

    years = _years_with_spend(council)
    form = SpendPeriodForm(years=years)
    if "year" not in request.GET and "month" not in request.GET:
        return SpendPeriodForm(
            {"year": form.fields["year"].initial, "month": ""}, years=years
        )
    # A month is checked whether or not a year is given, the year then being
    # the latest (review: ?month=13 alone gave the whole year, without a word).
    data = {
        "year": request.GET.get("year", form.fields["year"].initial),
        "month": request.GET.get("month", ""),
    }
    return SpendPeriodForm(data, years=years)


@council_view(Capability.VIEW)
def exports(request: HttpRequest, council: Council) -> HttpResponse:
    """The downloads: the Transparency Code contracts and spend files, and the
    contracts as an OCDS release package. Read-only; every member may download."""
    return _exports_page(request, council, _spend_period_form(request, council))


def _exports_page(request, council: Council, form, status: int = 200):
    from procure.exports import transparency_contracts, unvalued_contracts
    from procure.ocds import ocds_prefix

    unvalued = unvalued_contracts(council)
    context = {
        "council": council,
        "form": form,
        "contracts_count": transparency_contracts(council).count(),
        "unvalued": unvalued[:10],
        "unvalued_count": len(unvalued),
        "ocds_count": Contract.objects.for_council(council).count(),
        "ocds_prefix": ocds_prefix(),
    }
    return render(request, "procure/exports.html", context, status=status)


@council_view(Capability.VIEW)
def export_contracts_csv(request: HttpRequest, council: Council) -> HttpResponse:
    from procure.exports import contracts_csv

    return contracts_csv(council)


@council_view(Capability.VIEW)
def export_spend_csv(request: HttpRequest, council: Council) -> HttpResponse:
    """Spend over £500 for a financial year or one month of it (?year=&month=)."""
    from procure.exports import spend_csv

    form = _spend_period_form(request, council)
    if not form.is_valid():
        return _exports_page(request, council, form, status=400)
    start, end, label = form.period()
    return spend_csv(council, start, end, label)


@council_view(Capability.VIEW)
def export_ocds(request: HttpRequest, council: Council) -> HttpResponse:
    package = release_package(council, request.build_absolute_uri())
    if not package["releases"]:  # not a valid package: say so instead
        messages.info(
            request,
            "There are no contracts to publish yet: an OCDS release package needs "
            "at least one.",
        )
        return redirect("procure:exports", council.slug)
    response = HttpResponse(
        json.dumps(package, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    name = f"{council.slug}-contracts-ocds.json"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


# --- Importing a contract register -------------------------------------------------

_KEPT_NAME = r"[0-9a-f]{64}\.(csv|xlsx|zip|txt|bin)"


@council_view(Capability.EDIT_REGISTER)
def contract_import(request: HttpRequest, council: Council) -> HttpResponse:
    """Upload a contract register → check its columns → import → reconciliation.

    The file is kept (spend.storage) between the steps; the later steps name it by
    its hash, checked to be under this council's folder."""
    from procure import register_import
    from procure.forms import ContractImportUploadForm
    from spend.export import csv_response
    from spend.storage import keep_file, read_kept

    step = request.POST.get("step", "") if request.method == "POST" else ""
    context: dict = {"council": council, "fields": register_import.FIELDS}
    kept = request.POST.get("kept", "")
    file_name = request.POST.get("file_name", "")[:200] or "register.csv"
    kept_ok = re.fullmatch(rf"{re.escape(council.slug)}/{_KEPT_NAME}", kept)
    if step == "rejected":
        if kept_ok and kept.endswith(".csv"):
            import csv
            import io

            try:
                text = read_kept(kept).decode("utf-8", errors="replace")
            except OSError:
                text = ""
            rows = list(csv.reader(io.StringIO(text)))
            if rows:
                return csv_response("rejected-rows.csv", rows[0], rows[1:])
            messages.error(
                request,
                "The rejected rows are no longer kept: import the register again "
                "to see them.",
            )
        step = ""
    if step not in {"", "upload", "rejected"} and not kept_ok:
        step = ""  # a tampered or missing file (or a step unknown): start again
    if step in {"", "upload"}:
        form = ContractImportUploadForm(
            request.POST or None, request.FILES or None, prefix="register"
        )
        people = People(council)
        imports = RegisterImport.objects.filter(council=council).select_related(
            "imported_by", "undone_by"
        )
        context["earlier"] = [
            {
                "record": record,
                "by": people.name(record.imported_by_id, record.imported_by, here=True),
                "undone_by": people.name(
                    record.undone_by_id, record.undone_by, here=True
                ),
                # An import that can no longer be undone says so, not "Undo" (QA).
                "blocked": not record.undone_at
                and bool(register_import.undo_blockers(record)),
            }
            for record in imports[:10]
        ]
        if step == "upload" and form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            try:
                register = register_import.read(data, upload.name)
            except register_import.FileRefused as error:
                form.add_error("file", str(error))
            else:
                kept = keep_file(council, data, upload.name)
                return _import_preview(request, context, register, kept, {})
        context["form"] = form
        return render(request, "procure/contract_import.html", context)
    try:
        register = register_import.read(read_kept(kept), file_name)
    except (OSError, register_import.FileRefused):
        context["form"] = ContractImportUploadForm(prefix="register")
        messages.error(request, "The uploaded file has gone: upload it again.")
        return render(request, "procure/contract_import.html", context)
    mapping, errors = _chosen_mapping(request, register)
    if errors or step == "columns":
        return _import_preview(request, context, register, kept, errors, mapping)
    # "check": everything the import would do, rolled back, shown with a button
    # to import; "import": done (QA: 826 contracts updated and payments moved
    # between contracts in one click, with no way to see it first).
    checking = step != "import"
    changed_since = False
    sha256 = kept.split("/")[-1].split(".")[0]  # the kept file is named by it
    with transaction.atomic():
        report = register_import.import_register(
            council,
            register,
            mapping,
            user=request.user,
            only_ours=request.POST.get("rows") != "all",
            check_only=checking,
            sha256=sha256,
        )
        # Imported from a check page: if the import did other than the page
        # said (the register changed since: another officer, another tab),
        # nothing is kept and the page shows what it would do now (QA).
        seen = request.POST.get("checked", "")
        if not checking and seen and seen != _report_digest(report):
            transaction.set_rollback(True)
            checking = changed_since = True
            report.record = None
    # Changed by this very file, imported a moment ago: a second press of the
    # button, or the page sent again (review: "nothing was imported" was said
    # of an import that had been made).
    just_imported = None
    if changed_since:
        just_imported = (
            RegisterImport.objects.filter(
                council=council,
                sha256=sha256,
                undone_at=None,
                imported_at__gte=timezone.now() - timedelta(hours=1),
            )
            .select_related("imported_by")
            .first()
        )
    rejected_kept = ""
    if report.rejections:
        buffer = _rejected_csv(report, register)
        rejected_kept = keep_file(council, buffer.encode("utf-8"), "rejected.csv")
    context.update(
        report=report,
        register=register,
        rejected_kept=rejected_kept,
        # The file named once, above the list (QA: on every row, noisy).
        messages_shown=[r.message() for r in report.rejections],
        checking=checking,
        changed_since=changed_since,
        just_imported=just_imported,
        just_imported_by=just_imported
        and People(council).name(
            just_imported.imported_by_id, just_imported.imported_by, here=True
        ),
        checked=_report_digest(report) if checking else "",
        kept=kept,
        chosen=sorted(mapping.items()),
        rows_all=request.POST.get("rows") == "all",
    )
    return render(request, "procure/contract_import_result.html", context)


@council_view(Capability.EDIT_REGISTER)
@require_http_methods(["GET", "HEAD", "POST"])
def contract_import_undo(request: HttpRequest, council: Council, pk: int):
    """Confirm, then undo a register import: the contracts it added deleted, those
    it updated put back, payments linked again by the rule. Refused, saying why,
    once a contract it touched has changed since (`register_import.undo_blockers`)."""
    from procure import register_import

    record = get_object_or_404(
        RegisterImport.objects.select_related("imported_by", "undone_by"),
        council=council,
        pk=pk,
    )
    if request.method == "POST":
        try:
            deleted, restored = register_import.undo(record, request.user)
        except register_import.UndoRefused as refusal:
            messages.error(request, str(refusal))
            return redirect(request.path)
        done = []
        gone = len(record.created) - deleted  # deleted by hand since: skipped
        if deleted:
            done.append(
                f"the {deleted:,} contract{pluralize(deleted)} it added "
                f"{pluralize(deleted, 'was,were')} deleted"
                + (f" ({gone:,} more had been deleted already)" if gone else "")
            )
        elif gone:
            done.append(
                f"the {gone:,} contract{pluralize(gone)} it added had been "
                "deleted already"
            )
        if restored:
            done.append(
                f"the {restored:,} contract{pluralize(restored)} it updated "
                f"{pluralize(restored, 'was,were')} put back as "
                f"{pluralize(restored, 'it was,they were')}"
            )
        messages.success(
            request,
            f"Undid the import of “{record.file_name}”: "
            f"{get_text_list(done, 'and') or 'there was nothing left to change'}.",
        )
        return redirect("procure:contract-import", council.slug)
    people = People(council)
    added = Contract.objects.filter(
        council=council, pk__in=[e["id"] for e in record.created]
    ).order_by("reference")
    held_ids = set(added.values_list("pk", flat=True))
    context = {
        "council": council,
        "record": record,
        "by": people.name(record.imported_by_id, record.imported_by, here=True),
        "undone_by": people.name(record.undone_by_id, record.undone_by, here=True),
        "blockers": register_import.undo_blockers(record),
        "added": added,
        # Those it added deleted since: the undo skips them (QA: they blocked it).
        "added_gone": sorted(
            str(e["after"]["reference"])
            for e in record.created
            if e["id"] not in held_ids
        ),
        "put_back": Contract.objects.filter(
            council=council, pk__in=[e["id"] for e in record.updated]
        ).order_by("reference"),
    }
    return render(request, "procure/contract_import_undo.html", context)


def _report_digest(report) -> str:
    """What a register import does, in a few hex digits: the check page carries
    it, so an import that would do otherwise than the page said is stopped."""
    import hashlib

    done = [
        report.created,
        report.updated,
        report.unchanged,
        report.rejected,
        report.other_buyer,
        report.suppliers_created,
        report.spend_lines_linked,
        report.changes,
        report.moved,
        report.unlinked,
        report.added,
        report.new_suppliers,
    ]
    return hashlib.sha256(json.dumps(done, default=str).encode()).hexdigest()[:32]


def _import_preview(request, context, register, kept, errors, mapping=None):
    mapping = register.mapping if mapping is None else mapping
    columns = list(enumerate(register.header))
    context.update(
        register=register,
        kept=kept,
        errors=errors,
        choices=[
            {
                "name": name,
                "label": label,
                "chosen": mapping.get(name),
                "required": name in _IMPORT_REQUIRED,
                "error": errors.get(name, ""),
                "sample": [
                    str(row[mapping[name]])[:60]
                    for row in register.rows[:3]
                    if name in mapping and mapping[name] < len(row)
                ],
            }
            for name, (label, _) in context["fields"].items()
        ],
        columns=columns,
        # Named, so an officer knows a change there will not be imported (QA:
        # edits to unread columns came back "already up to date").
        unread=[
            header
            for index, header in columns
            if header and index not in mapping.values()
        ],
        error_list=list(errors.items()),
        has_buyer="buyer" in mapping,
        rows_all=request.POST.get("rows") == "all",
        sample_count=len(register.rows),
    )
    status = 400 if errors else 200
    return render(request, "procure/contract_import.html", context, status=status)


_IMPORT_REQUIRED = ("reference", "title", "start_date")


def _chosen_mapping(request, register) -> tuple[dict[str, int], dict[str, str]]:
    from procure.register_import import FIELDS

    mapping: dict[str, int] = {}
    errors: dict[str, str] = {}
    used: dict[int, str] = {}
    for name, (label, _) in FIELDS.items():
        raw = request.POST.get(f"map-{name}", "")
        if raw == "":
            continue
        index = parse_whole_number(raw, below=len(register.header))
        if index is None:
            errors[name] = f"Choose a column of the file for {label.lower()}."
            continue
        if index in used:
            errors[name] = (
                f"{register.column_name(index)} is already chosen for "
                f"{FIELDS[used[index]][0].lower()}."
            )
            continue
        used[index] = name
        mapping[name] = index
    for name in _IMPORT_REQUIRED:
        if name not in mapping and name not in errors:
            errors[name] = (
                f"Choose the column that holds the {FIELDS[name][0].lower()}."
            )
    return mapping, errors


def _rejected_csv(report, register) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Row", "Column", "Why rejected", *register.header])
    for r in report.rejections:
        cells = ["" if c is None else str(c) for c in r.cells]
        writer.writerow([r.row, r.column, r.reason, *cells])
    return out.getvalue()


# --- Published downloads (no login, where the council publishes) ----------------------


def _published(council_slug: str) -> Council:
    """The council, if it has turned its public pages on; else 404."""
    return get_object_or_404(Council, slug=council_slug, public_pages_enabled=True)


def public_downloads(council: Council) -> dict:
    """What the council's public page offers to download: the Transparency Code
    contracts file, a spend file for each financial year, the OCDS package."""
    from procure.exports import transparency_contracts

    spend_url = reverse("councils:public-spend-csv", args=[council.slug])
    return {
        "contracts_count": transparency_contracts(council).count(),
        "contracts_url": reverse("councils:public-contracts-csv", args=[council.slug]),
        "spend_years": [
            (fy, f"{spend_url}?{urlencode({'year': fy.start_year})}")
            for fy in _years_with_spend(council)
        ],
        "ocds_count": contracts_for_package(council, public=True).count(),
        "ocds_url": reverse("councils:public-ocds", args=[council.slug]),
    }


@login_not_required
@require_safe
def public_contracts_csv(request: HttpRequest, council_slug: str) -> HttpResponse:
    from procure.exports import contracts_csv

    return contracts_csv(_published(council_slug))


@login_not_required
@require_safe
def public_spend_csv(request: HttpRequest, council_slug: str) -> HttpResponse:
    """Spend over £500 for a financial year or a month of it (?year=&month=)."""
    from procure.exports import spend_csv

    council = _published(council_slug)
    form = _spend_period_form(request, council)
    if not form.is_valid():
        problems = " ".join(e for errors in form.errors.values() for e in errors)
        return HttpResponse(
            # Sentences of their own, each starting with a capital (review: a
            # capital after a colon).
            f"No spend file for that period. {problems} The years published are "
            f"listed on {request.build_absolute_uri(_public_page(council))}\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    start, end, label = form.period()
    return spend_csv(council, start, end, label)


@login_not_required
@require_safe
def public_ocds(request: HttpRequest, council_slug: str) -> HttpResponse:
    council = _published(council_slug)
    package = release_package(council, request.build_absolute_uri(), public=True)
    if not package["releases"]:
        return HttpResponse(
            f"{council.name} has no contracts published yet.\n",
            status=404,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(
        json.dumps(package, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    name = f"{council.slug}-contracts-ocds.json"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def _public_page(council: Council) -> str:
    return reverse("councils:public", args=[council.slug])
