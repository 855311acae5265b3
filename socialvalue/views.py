from __future__ import annotations

import mimetypes
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from councils.access import (
    People,
    council_view,
    history_who,
    with_previous,
)
from councils.models import Capability, Council
from councils.periods import FinancialYear
from procure.models import Contract, Supplier
from procure.views import override_as_seen
from socialvalue.decisions import DECIDED_ELSEWHERE, decided_elsewhere
from socialvalue.forms import (
    CommitmentForm,
    DeliveryReturnForm,
    ProxyValueForm,
    TagOverrideForm,
    TagOverrideRemoveForm,
    TargetForm,
    decision_token,
)
from socialvalue.models import (
    RETURN_DUE_DAYS,
    TAG_VALUES,
    Commitment,
    DeliveryReturn,
    Measure,
    MeasureTotal,
    Metric,
    ProxyValue,
    SupplierTag,
    TagKind,
    TagOverride,
    Target,
    Theme,
    evidence_path,
    keep_evidence,
    measure_totals,
    period_text,
    proxy_values_for,
    share_text,
)
from socialvalue.tagging import KIND_WORDS, classify_suppliers
from spend.export import csv_response


@council_view(Capability.VIEW)
def target_list(request: HttpRequest, council: Council) -> HttpResponse:
    from spend.dashboard import Targets

    fy = FinancialYear.for_date(timezone.localdate())
    # The dashboard judges each measure by one target a year: say which.
    governing = Targets(council)
    targets = [
        {
            "target": t,
            "share_now": t.share_for(fy),
            "governs": (g := governing.governing(t.metric, fy)) is not None
            and g.pk == t.pk,
        }
        # In the measures' own order (local, SME, VCSE, Living Wage), as the
        # overview and the dashboard list them; each measure's by year.
        for t in sorted(
            Target.objects.for_council(council),
            key=lambda t: (list(Metric).index(t.metric), t.target_year),
        )
    ]
    history = _target_history(
        Target.history.filter(council_id=council.pk), council, limit=20
    )
    return render(
        request,
        "socialvalue/target_list.html",
        {"council": council, "targets": targets, "fy": fy, "history": history},
    )


@council_view(Capability.MANAGE_COUNCIL)
def target_edit(
    request: HttpRequest, council: Council, pk: int | None = None
) -> HttpResponse:
    target = (
        get_object_or_404(Target.objects.for_council(council), pk=pk) if pk else None
    )
    form = TargetForm(request.POST or None, instance=target, council=council)
    if request.method == "POST":
        with transaction.atomic():
            # Hold the council while checking for overlapping targets, so two
            # administrators adding targets at once cannot both succeed.
            Council.objects.select_for_update().filter(pk=council.pk).first()
            held = Target.objects.get(pk=target.pk) if target else None
            if form.is_valid() and not (held and form.refuse_if_stale(held)):
                saved = form.save()
                messages.success(request, f"Saved the target: {saved}.")
                return redirect("socialvalue:targets", council.slug)
    history = _target_history(target.history.all(), council) if target else []
    return render(
        request,
        "socialvalue/target_form.html",
        {"council": council, "form": form, "target": target, "history": history},
    )


def lower_first(words: str) -> str:
    """Words as they read mid-sentence: "Local spend" -> "local spend", but
    "SME spend" as it is."""
    return words[:1].lower() + words[1:] if words[1:2].islower() else words


@council_view(Capability.MANAGE_COUNCIL)
@require_http_methods(["GET", "HEAD", "POST"])
def target_remove(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Ask, then (on POST only) remove a target; its history keeps what it said."""
    target = get_object_or_404(Target.objects.for_council(council), pk=pk)
    if request.method == "POST":
        text = str(target)
        target._change_reason = f"Removed by {request.user.get_username()}"
        target.delete()
        messages.success(request, f"Removed the target: {text}.")
        return redirect("socialvalue:targets", council.slug)
    # What the dashboard judges the measure against once this one is gone
    # (`spend.dashboard.Targets.governing`; QA: the page said "no trajectory",
    # and an older target then governed).
    others = list(
        Target.objects.for_council(council)
        .filter(metric=target.metric)
        .exclude(pk=target.pk)
        .order_by("target_year")
    )
    return render(
        request,
        "socialvalue/target_remove.html",
        {
            "council": council,
            "target": target,
            "others": others,
            # Mid-sentence: "local spend", "SME spend".
            "measure": lower_first(target.get_metric_display()),
        },
    )


# How a target's fields read in its history, and how their values are written.
_TARGET_FIELDS = {
    "metric": ("Measure", lambda v: Metric(v).label if v in Metric.values else v),
    "baseline_year": ("Baseline financial year", lambda v: FinancialYear(v).label),
    "baseline_share": ("Baseline share", share_text),
    "target_year": ("Target financial year", lambda v: FinancialYear(v).label),
    "target_share": ("Target share", share_text),
    "notes": ("Notes", str),
}
_HISTORY_KINDS = {"+": "Added", "~": "Changed", "-": "Removed"}


def _target_history(records, council: Council, limit: int | None = None) -> list[dict]:
    """Targets' history records as rows, newest first: who (`history_who`), when,
    which target, and each changed field by its label with its old and new values
    in words."""
    who = history_who(council)
    records = list(
        records.select_related("history_user").order_by("history_date", "history_id")
    )
    rows = []
    for record, older in with_previous(records):
        changes = []
        if older is not None and record.history_type == "~":
            for change in record.diff_against(older).changes:
                if change.field not in _TARGET_FIELDS:
                    continue
                label, shown = _TARGET_FIELDS[change.field]
                changes.append(
                    {
                        "field": label,
                        "old": "—" if change.old in (None, "") else shown(change.old),
                        "new": "—" if change.new in (None, "") else shown(change.new),
                    }
                )
        rows.append(
            {
                "when": record.history_date,
                "who": who(record),
                "kind": _HISTORY_KINDS.get(record.history_type, "Changed"),
                "what": str(record.instance),
                "reason": record.history_change_reason,
                "changes": changes,
            }
        )
    rows.reverse()
    return rows[:limit] if limit else rows


def _supplier_and_kind(council: Council, pk: int, kind: str) -> tuple[Supplier, str]:
    if kind not in TagKind.values:
        raise Http404("No such tag.")
    supplier = get_object_or_404(Supplier.objects.dealt_with_by(council), pk=pk)
    return supplier, kind


def _tag_council(council: Council, kind: str) -> Council | None:
    """Location is decided per council; the other tags belong to the supplier."""
    return council if kind == TagKind.LOCALITY else None


@council_view(Capability.EDIT_REGISTER)
def tag_override(
    request: HttpRequest, council: Council, pk: int, kind: str
) -> HttpResponse:
    """Set (or change) an officer's override of one tag, with a required reason."""
    supplier, kind = _supplier_and_kind(council, pk, kind)
    if request.method != "POST":
        return _tag_override(request, council, supplier, kind)
    with transaction.atomic():
        # The decision is read, checked against the page's and saved with the
        # supplier held: two saves from pages showing the same decision cannot
        # both pass the check (review).
        Supplier.objects.select_for_update().filter(pk=supplier.pk).first()
        return _tag_override(request, council, supplier, kind)


def _tag_override(request, council, supplier, kind) -> HttpResponse:
    scope = {"supplier": supplier, "council": _tag_council(council, kind), "kind": kind}
    override = TagOverride.objects.filter(**scope).select_related("created_by").first()
    tag = SupplierTag.objects.filter(**scope).first()
    if request.method == "POST" and decided_elsewhere(override, council, request.user):
        return _refused_elsewhere(request, council, supplier, kind, override, tag)
    # The officer's decision to change, or else the tag as the rules set it.
    if override:
        reason = override_as_seen(override, council, People(council))[1]
        initial = {"value": override.value, "reason": reason or ""}
    else:
        initial = {"value": tag.value} if tag else {}
    state = _decision_state(override, tag)
    initial["seen"] = decision_token(state)
    form = TagOverrideForm(request.POST or None, kind=kind, initial=initial)
    if request.method == "POST" and form.is_valid():
        form.refuse_if_stale(state, _decision_now(council, kind, override, tag))
    if (
        request.method == "POST"
        and form.is_valid()
        and override is not None
        and form.cleaned_data["value"] != override.value
        and form.cleaned_data["reason"] == " ".join(override.reason.split())
    ):
        # The decision changed, its reason the old one, shown in the form to
        # edit (QA: a new answer saved with the reason for the last).
        old = TAG_VALUES[kind].get(override.value, override.value)
        form.add_error(
            "reason",
            f"Say why the decision changes: this is the reason given for “{old}”.",
        )
    if request.method == "POST" and form.is_valid():
        same = override is not None and (override.value, override.reason) == (
            form.cleaned_data["value"],
            form.cleaned_data["reason"],
        )
        if same:  # nothing to record (QA: it wrote a "changed" history line)
            messages.info(
                request, f"Nothing changed: your decision on {supplier.name} stands."
            )
            return redirect("procure:supplier-detail", council.slug, supplier.pk)
        TagOverride.objects.update_or_create(
            **scope,
            defaults={
                "value": form.cleaned_data["value"],
                "reason": form.cleaned_data["reason"],
                "created_by": request.user,
            },
        )
        classify_suppliers(
            supplier_ids=[supplier.pk], councils=[council], user=request.user
        )
        messages.success(request, f"Saved your decision on {supplier.name}.")
        return redirect("procure:supplier-detail", council.slug, supplier.pk)
    return _override_page(
        request, council, supplier, kind, override, tag, form, TagOverrideRemoveForm()
    )


def _refused_elsewhere(request, council, supplier, kind, override, tag):
    """The override page, saying why this officer cannot change the decision."""
    response = _override_page(
        request, council, supplier, kind, override, tag, None, None
    )
    response.status_code = 403
    return response


def _decision_state(override: TagOverride | None, tag: SupplierTag | None) -> list:
    """What the override page shows of a tag's decision, as `seen` keeps it."""
    return [
        [override.value, " ".join(override.reason.split())] if override else None,
        tag.value if tag else None,
    ]


def _decision_now(council, kind, override, tag) -> str:
    """The decision as it now is, in words, for a refused save."""
    if override is not None:
        who = override_as_seen(override, council, People(council))[0]
        when = timezone.localtime(override.created_at)
        label = TAG_VALUES[kind].get(override.value, override.value)
        return (
            f"{who or 'another officer'} decided “{label}” (at {when:%H:%M} on "
            f"{when.day} {when:%B %Y})"
        )
    if tag is not None:
        # Changed by the rules, or an officer's decision removed (the rules may
        # say what it said).
        return f"the decision changed: the tag is now “{tag.label}”, by the rules"
    return "the decision was removed"


def _override_page(
    request, council, supplier, kind, override, tag, form, remove_form
) -> HttpResponse:
    """The page deciding one tag: `form` sets the officer's decision,
    `remove_form` (shown when there is one) removes it."""
    # Another council's officer and reason are not shown to this council.
    people = People(council)
    who, reason = (
        override_as_seen(override, council, people) if override else (None, None)
    )
    context = {
        "council": council,
        "supplier": supplier,
        "kind": TagKind(kind),
        "kind_words": KIND_WORDS[kind],
        "tag": tag,
        "override": override,
        "override_by": who,
        "override_reason": reason,
        # Why the reason is not shown, when it is not.
        "reason_withheld": (
            people.reason_withheld(override.created_by_id) if override else ""
        ),
        "form": form,
        "remove_form": remove_form,
        "decided_elsewhere": decided_elsewhere(override, council, request.user),
        "decided_elsewhere_words": DECIDED_ELSEWHERE,
    }
    return render(request, "socialvalue/tag_override.html", context)


@council_view(Capability.EDIT_REGISTER)
@require_POST
def tag_override_remove(
    request: HttpRequest, council: Council, pk: int, kind: str
) -> HttpResponse:
    """Remove an override, with a required reason: the rules decide the tag again."""
    supplier, kind = _supplier_and_kind(council, pk, kind)
    scope = {"supplier": supplier, "council": _tag_council(council, kind), "kind": kind}
    override = TagOverride.objects.filter(**scope).select_related("created_by").first()
    if override is None:  # removed already (another tab, another officer)
        messages.info(
            request, "There is no override to remove: the rules decide this tag."
        )
        return redirect("procure:supplier-detail", council.slug, supplier.pk)
    if decided_elsewhere(override, council, request.user):
        tag = SupplierTag.objects.filter(**scope).first()
        return _refused_elsewhere(request, council, supplier, kind, override, tag)
    remove_form = TagOverrideRemoveForm(request.POST)
    if not remove_form.is_valid():
        reason = override_as_seen(override, council, People(council))[1]
        form = TagOverrideForm(
            kind=kind, initial={"value": override.value, "reason": reason or ""}
        )
        tag = SupplierTag.objects.filter(**scope).first()
        return _override_page(
            request, council, supplier, kind, override, tag, form, remove_form
        )
    override._change_reason = remove_form.cleaned_data["reason"]
    override.delete()
    classify_suppliers(
        supplier_ids=[supplier.pk], councils=[council], user=request.user
    )
    messages.success(request, "Removed the override: the rules now decide this tag.")
    return redirect("procure:supplier-detail", council.slug, supplier.pk)


# ================================================================ social value


def _contract_for(council: Council, pk: int) -> Contract:
    return get_object_or_404(
        Contract.objects.for_council(council).select_related("supplier"), pk=pk
    )


def _commitment_for(council: Council, pk: int) -> Commitment:
    return get_object_or_404(
        Commitment.objects.for_council(council).select_related("contract", "measure"),
        pk=pk,
    )


def _return_for(council: Council, pk: int) -> DeliveryReturn:
    return get_object_or_404(
        DeliveryReturn.objects.for_council(council).select_related(
            "commitment__contract", "commitment__measure"
        ),
        pk=pk,
    )


def _commitments(queryset) -> list[Commitment]:
    """Commitments with their measure, contract and returns (and who entered them)."""
    returns = DeliveryReturn.objects.select_related("entered_by")
    return list(
        queryset.select_related("measure", "contract").prefetch_related(
            Prefetch("returns", queryset=returns)
        )
    )


def _contract_page_url(contract: Contract, commitment: Commitment | None = None):
    url = reverse("socialvalue:contract", args=[contract.council.slug, contract.pk])
    return url + (f"#commitment-{commitment.pk}" if commitment else "")


@council_view(Capability.VIEW)
def contract_social_value(
    request: HttpRequest, council: Council, pk: int
) -> HttpResponse:
    """A contract's commitments against delivery, per measure, with its returns."""
    contract = _contract_for(council, pk)
    commitments = _commitments(contract.commitments.all())
    totals = _valued_totals(commitments, council)
    by_measure = {row.measure.pk: row for row in totals}
    today = timezone.localdate()
    for commitment in commitments:
        commitment.overdue = commitment.missing_quarters(today)
        row = by_measure[commitment.measure_id]
        commitment.over_delivery = _over_delivery_text(
            commitment.measure, row.delivered, row.committed
        )
    context = {
        "council": council,
        "contract": contract,
        "commitments": commitments,
        "totals": totals,
        "history": _history(contract, council),
        "due_days": RETURN_DUE_DAYS,
    }
    return render(request, "socialvalue/contract.html", context)


def _history(contract: Contract, council: Council, limit: int = 20) -> list[dict]:
    """Who (`history_who`) added, changed or removed the contract's commitments
    and returns, newest first, in words: what each was when added or removed, and
    each changed field with its old and new value."""
    who = history_who(council)
    commitments = list(
        Commitment.history.filter(contract_id=contract.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    returns = list(
        DeliveryReturn.history.filter(
            commitment_id__in={record.id for record in commitments}
        )
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    measures = Measure.objects.in_bulk({record.measure_id for record in commitments})
    # A return is in its commitment's measure (which cannot change once it has
    # returns); a commitment's record, in the measure it had then.
    measure_of = {record.id: measures.get(record.measure_id) for record in commitments}

    def amount(record, measure) -> str:
        return (
            measure.quantity_text(record.quantity) if measure else str(record.quantity)
        )

    rows = []
    for records, is_commitment in ((commitments, True), (returns, False)):
        for record, older in with_previous(records):
            if is_commitment:
                measure = measures.get(record.measure_id)
            else:
                measure = measure_of.get(record.commitment_id)
            code = measure.code if measure else "a measure"
            period = period_text(record.period_start, record.period_end)
            if is_commitment:
                what = f"Commitment to {code}"
                fields = _COMMITMENT_FIELDS
            else:
                what = f"Return for {code}, {period}"
                fields = _RETURN_FIELDS
            if record.history_type in "+-":
                verb = "added" if record.history_type == "+" else "removed"
                what += f" {verb}: {amount(record, measure)}"
                if is_commitment:
                    what += f", {period}"
            else:
                what += " changed"
            changes = []
            if older is not None and record.history_type == "~":
                for field, label in fields.items():
                    old = _field_text(older, field, measures)
                    new = _field_text(record, field, measures)
                    if field == "quantity":
                        was = (
                            measures.get(older.measure_id) if is_commitment else measure
                        )
                        old, new = amount(older, was), amount(record, measure)
                    if old != new:
                        changes.append({"field": label, "old": old, "new": new})
                if not changes:
                    what += ": saved with nothing changed"
            rows.append(
                {
                    "when": record.history_date,
                    "who": who(record),
                    "what": what,
                    "changes": changes,
                }
            )
    rows.sort(key=lambda row: row["when"], reverse=True)
    return rows[:limit]


# How a commitment's and a return's fields read in the contract's history.
_COMMITMENT_FIELDS = {
    "measure_id": "Measure",
    "quantity": "Quantity",
    "period": "Period",
    "note": "Note",
}
_RETURN_FIELDS = {
    "quantity": "Quantity delivered",
    "period": "Period",
    "evidence_note": "Evidence",
    "evidence_file_name": "Evidence file",
    "confirmed": "Confirmed",
}


def _field_text(record, field: str, measures: dict[int, Measure]) -> str:
    """A history record's field in words, for comparing and showing."""
    from django.utils.text import Truncator

    if field == "period":
        return period_text(record.period_start, record.period_end)
    if field == "measure_id":
        measure = measures.get(record.measure_id)
        return str(measure) if measure else "a measure since removed"
    value = getattr(record, field)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return Truncator(str(value)).chars(200) if value not in (None, "") else "—"


@council_view(Capability.EDIT_REGISTER)
def commitment_new(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    contract = _contract_for(council, pk)
    return _commitment_form(request, council, contract, None)


@council_view(Capability.EDIT_REGISTER)
def commitment_edit(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    commitment = _commitment_for(council, pk)
    return _commitment_form(request, council, commitment.contract, commitment)


def _commitment_form(
    request: HttpRequest,
    council: Council,
    contract: Contract,
    commitment: Commitment | None,
) -> HttpResponse:
    form = CommitmentForm(request.POST or None, instance=commitment, contract=contract)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            # Checked again with the row locked: a save from another tab
            # between the form's check and now (councils.stale).
            held = (
                Commitment.objects.select_for_update()
                .select_related("contract__council")
                .get(pk=commitment.pk)
                if commitment is not None
                else None
            )
            if held is None or not form.refuse_if_stale(held):
                saved = form.save()
                messages.success(request, f"Saved the commitment: {saved}.")
                return redirect(_contract_page_url(contract, saved))
    context = {
        "council": council,
        "contract": contract,
        "commitment": commitment,
        "form": form,
    }
    return render(request, "socialvalue/commitment_form.html", context)


@council_view(Capability.EDIT_REGISTER)
@require_http_methods(["GET", "HEAD", "POST"])
def commitment_remove(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Ask, then (on POST only) remove a commitment with no returns (returns are
    evidence: remove them first). Its history keeps what it said."""
    commitment = _commitment_for(council, pk)
    contract = commitment.contract
    count = commitment.returns.count()
    if request.method != "POST" and not count:
        context = {"council": council, "contract": contract, "commitment": commitment}
        return render(request, "socialvalue/commitment_remove.html", context)
    if count:
        messages.error(
            request,
            f"{commitment.measure.code} has {count} delivery return"
            f"{'' if count == 1 else 's'} recorded against it: remove "
            f"{'it' if count == 1 else 'them'} first.",
        )
        return redirect(_contract_page_url(contract, commitment))
    text = str(commitment)
    commitment._change_reason = f"Removed by {request.user.get_username()}"
    commitment.delete()
    messages.success(request, f"Removed the commitment: {text}.")
    return redirect(_contract_page_url(contract))


@council_view(Capability.EDIT_REGISTER)
def return_new(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Record a delivery return, with evidence, against one commitment."""
    commitment = _commitment_for(council, pk)
    form = DeliveryReturnForm(commitment=commitment)
    if request.method == "POST":
        with transaction.atomic():
            # Hold the commitment while checking for overlaps, so two officers
            # entering the same return at once cannot both succeed.
            Commitment.objects.select_for_update().filter(pk=commitment.pk).first()
            form = DeliveryReturnForm(
                request.POST, request.FILES, commitment=commitment
            )
            if form.is_valid():
                saved = _save_return(form, council, request)
                messages.success(request, f"Recorded the return: {saved}.")
                _notice_over_delivery(request, saved)
                return redirect(_contract_page_url(commitment.contract, commitment))
        # Keep the evidence file, so it need not be chosen again.
        form.keep_evidence_for_retry()
    context = {
        "council": council,
        "contract": commitment.contract,
        "commitment": commitment,
        "form": form,
    }
    return render(request, "socialvalue/return_form.html", context)


@council_view(Capability.EDIT_REGISTER)
def return_edit(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Correct a delivery return: its quantity, period or evidence (a new file
    replaces the old one; none chosen keeps it). Who entered it stays; the
    history says who changed what."""
    delivery = _return_for(council, pk)
    commitment = delivery.commitment
    form = DeliveryReturnForm(instance=delivery, commitment=commitment)
    if request.method == "POST":
        with transaction.atomic():
            # As for a new return: two officers saving at once cannot both make
            # returns overlap.
            Commitment.objects.select_for_update().filter(pk=commitment.pk).first()
            form = DeliveryReturnForm(
                request.POST, request.FILES, instance=delivery, commitment=commitment
            )
            held = (
                DeliveryReturn.objects.select_for_update()
                .select_related("commitment__contract__council")
                .get(pk=delivery.pk)
            )
            if form.is_valid() and not form.refuse_if_stale(held):
                saved = _save_return(form, council, request, entering=False)
                messages.success(request, f"Saved the return: {saved}.")
                if "quantity" in form.changed_data:
                    _notice_over_delivery(request, saved)
                return redirect(_contract_page_url(commitment.contract, commitment))
        form.keep_evidence_for_retry()
    context = {
        "council": council,
        "contract": commitment.contract,
        "commitment": commitment,
        "delivery": delivery,
        "form": form,
    }
    return render(request, "socialvalue/return_form.html", context)


def _save_return(
    form: DeliveryReturnForm,
    council: Council,
    request: HttpRequest,
    *,
    entering: bool = True,
) -> DeliveryReturn:
    delivery = form.save(commit=False)
    upload = form.cleaned_data.get("evidence_upload")
    if upload:
        data = b"".join(upload.chunks())
        delivery.evidence_file = keep_evidence(council, upload.name, data)
        delivery.evidence_file_name = Path(upload.name).name[:255]
    elif form.held:
        delivery.evidence_file = form.held["file"]
        delivery.evidence_file_name = form.held["name"]
    if entering:
        delivery.entered_by = request.user
    delivery.save()
    return delivery


def _over_delivery_text(measure: Measure, delivered, committed) -> str:
    """What a contract's returns for a measure deliver beyond its commitments to
    it, in words, or "" when they do not: over-delivery is real, but an extra 0
    typed should be noticed (QA: 1,000,000 hours against 300 committed was saved
    with no remark)."""
    if delivered <= committed:
        return ""
    return (
        f"Delivery now exceeds the commitment by "
        f"{measure.quantity_text(delivered - committed)}: "
        f"{measure.quantity_text(delivered)} of {measure.code} delivered against "
        f"{measure.quantity_text(committed)} committed on this contract. If that is "
        "right, there is nothing to do; if not, check the returns' quantities for "
        "a typing slip, like an extra 0."
    )


def _notice_over_delivery(request: HttpRequest, delivery: DeliveryReturn) -> None:
    """After a return is saved, a notice (not an error: the return stands) when
    the contract's returns for its measure now exceed its commitments to it."""
    if not delivery.quantity:
        return
    commitment = delivery.commitment
    commitments = Commitment.objects.filter(
        contract=commitment.contract, measure=commitment.measure
    )
    committed = commitments.aggregate(total=Sum("quantity"))["total"] or Decimal(0)
    delivered = DeliveryReturn.objects.filter(commitment__in=commitments).aggregate(
        total=Sum("quantity")
    )["total"] or Decimal(0)
    text = _over_delivery_text(commitment.measure, delivered, committed)
    if text:
        messages.warning(request, text)


@council_view(Capability.EDIT_REGISTER)
@require_http_methods(["GET", "HEAD", "POST"])
def return_remove(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Ask, then (on POST only) remove a return entered in error; its history keeps
    what it said, and its evidence file."""
    delivery = _return_for(council, pk)
    commitment = delivery.commitment
    if request.method != "POST":
        entered_by = SimpleNamespace(
            history_user_id=delivery.entered_by_id, history_user=delivery.entered_by
        )
        context = {
            "council": council,
            "contract": commitment.contract,
            "commitment": commitment,
            "delivery": delivery,
            # Named only if a member of this council (`history_who`).
            "entered_by": history_who(council)(entered_by),
        }
        return render(request, "socialvalue/return_remove.html", context)
    text = str(delivery)
    delivery._change_reason = f"Removed by {request.user.get_username()}"
    delivery.delete()
    messages.success(request, f"Removed the return: {text}.")
    return redirect(_contract_page_url(commitment.contract, commitment))


@council_view(Capability.VIEW)
def return_evidence(request: HttpRequest, council: Council, pk: int) -> FileResponse:
    """The evidence file, only to members of the contract's council, as a download."""
    delivery = _return_for(council, pk)
    if not delivery.evidence_file:
        raise Http404("This return has no evidence file.")
    path = evidence_path(delivery.evidence_file)
    if not path.is_file():
        raise Http404("The evidence file is missing.")
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=delivery.evidence_file_name or path.name,
        # The type follows the kept file's checked suffix, never the name typed.
        content_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
    )
    # Opened in place by mistake, it still runs nothing.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def _valued_totals(commitments: list[Commitment], council: Council) -> list:
    """`measure_totals` at the council's proxy values, each row with
    `delivered_proxy_shown` (`_delivered_proxy`) for the pages and the CSV."""
    rows = measure_totals(commitments, proxy_values_for(council))
    # The contracts whose returns for a measure exceed their commitments to it:
    # named beside the measure's totals, which a cabinet paper quotes (QA: an
    # extra 0 typed on one contract showed only as a share of 464%).
    pairs: dict[tuple[int, int], list] = {}
    for commitment in commitments:
        pair = pairs.setdefault(
            (commitment.contract_id, commitment.measure_id),
            [Decimal(0), Decimal(0), commitment.contract],
        )
        pair[0] += commitment.quantity
        pair[1] += sum((r.quantity for r in commitment.returns.all()), Decimal(0))
    over: dict[int, list] = {}
    for (_, measure_id), (committed, delivered, contract) in pairs.items():
        if delivered > committed:
            over.setdefault(measure_id, []).append(contract)
    for row in rows:
        row.delivered_proxy_shown = _delivered_proxy(row)
        row.over_delivered = sorted(
            over.get(row.measure.pk, []), key=lambda c: c.reference
        )
    return rows


def _delivered_proxy(row: MeasureTotal) -> Decimal | None:
    """The proxy value delivered, None only where it is not known. Nothing
    delivered (no returns yet, or returns of 0) is worth £0 whatever the values,
    so it is £0.00 where the commitment is valued (QA: it showed as "—", as if
    missing); with neither valued, the row says "Not valued"."""
    if row.delivered_proxy is not None:
        return row.delivered_proxy
    if not row.delivered and row.committed_proxy is not None:
        return Decimal("0.00")
    return None


def _council_totals(council: Council) -> tuple[list[Commitment], list[dict]]:
    """All the council's commitments, and their totals per measure grouped by theme."""
    commitments = _commitments(Commitment.objects.for_council(council))
    rows = _valued_totals(commitments, council)
    themes = []
    for theme in Theme:
        theme_rows = [r for r in rows if r.measure.theme == theme]
        if theme_rows:
            themes.append(
                {
                    "label": theme.label,
                    "rows": theme_rows,
                    "delivered_proxy": _proxy_sum(theme_rows),
                }
            )
    return commitments, themes


def _proxy_sum(rows: list[MeasureTotal]) -> Decimal | None:
    values = [
        r.delivered_proxy_shown for r in rows if r.delivered_proxy_shown is not None
    ]
    return sum(values, Decimal(0)) if values else None


@council_view(Capability.VIEW)
def totals(request: HttpRequest, council: Council) -> HttpResponse:
    """The council's social value: committed against delivered, by theme and measure."""
    commitments, themes = _council_totals(council)
    today = timezone.localdate()
    rows = [row for theme in themes for row in theme["rows"]]
    context = {
        "council": council,
        "themes": themes,
        "contracts": len({c.contract_id for c in commitments}),
        "commitments": len(commitments),
        "returns": sum(r.returns for r in rows),
        "overdue": sum(1 for c in commitments if c.missing_quarters(today)),
        "delivered_proxy": _proxy_sum(rows),
        "partly_valued": any(r.missing_years for r in rows),
        "here": "totals",
    }
    return render(request, "socialvalue/totals.html", context)


@council_view(Capability.VIEW)
def totals_csv(request: HttpRequest, council: Council) -> HttpResponse:
    _, themes = _council_totals(council)
    header = [
        "Theme",
        "Measure code",
        "Measure",
        "Unit",
        "Commitments",
        "Committed",
        "Returns",
        "Delivered",
        "Delivered (% of committed)",
        "Proxy value of commitments (£)",
        "Proxy value delivered (£)",
        "Financial years with no proxy value",
        "Proxy values used (the council's own)",
    ]
    rows = [
        [
            theme["label"],
            row.measure.code,
            row.measure.name,
            row.measure.unit_label,
            row.commitments,
            row.committed,
            row.returns,
            row.delivered,
            row.share,
            row.committed_proxy,
            row.delivered_proxy_shown,
            "; ".join(row.missing_labels),
            "; ".join(f"{p}: {p.source}" for p in row.sources),
        ]
        for theme in themes
        for row in theme["rows"]
    ]
    stamp = timezone.localdate().isoformat()
    return csv_response(f"{council.slug}-social-value-{stamp}.csv", header, rows)


@council_view(Capability.EDIT_REGISTER)
def overdue(request: HttpRequest, council: Council) -> HttpResponse:
    """Commitments with a quarter's delivery return past its due date."""
    today = timezone.localdate()
    rows = []
    for commitment in _commitments(Commitment.objects.for_council(council)):
        missing = commitment.missing_quarters(today)
        if missing:
            rows.append(
                {
                    "commitment": commitment,
                    "missing": missing,
                    "days": (today - missing[0].due).days,
                }
            )
    rows.sort(key=lambda r: (-r["days"], r["commitment"].contract.reference))
    context = {
        "council": council,
        "rows": rows,
        "today": today,
        "example": _example_quarter(today),
        "due_days": RETURN_DUE_DAYS,
        "here": "overdue",
    }
    return render(request, "socialvalue/overdue.html", context)


def _example_quarter(today: date) -> dict:
    fy = FinancialYear.for_date(today)
    end = date(fy.start_year, 6, 30)
    return {
        "label": f"{fy} Q1",
        "end": end,
        "due": end + timedelta(days=RETURN_DUE_DAYS),
    }


@council_view(Capability.VIEW)
def measures(request: HttpRequest, council: Council) -> HttpResponse:
    """The catalogue of measures, by theme (read only)."""
    catalogue = list(Measure.objects.all())
    themes = [
        {"label": theme.label, "measures": [m for m in catalogue if m.theme == theme]}
        for theme in Theme
    ]
    context = {"council": council, "themes": themes, "here": "measures"}
    return render(request, "socialvalue/measures.html", context)


@council_view(Capability.MANAGE_COUNCIL)
def proxy_values(request: HttpRequest, council: Council) -> HttpResponse:
    """The council's proxy values, and who entered, changed and removed them: the
    latest changes, newest first, each in words."""
    from django.utils.text import Truncator

    values = ProxyValue.objects.for_council(council).select_related(
        "measure", "entered_by"
    )
    limit = 50
    records = list(
        ProxyValue.history.filter(council_id=council.pk)
        .select_related("history_user", "entered_by")
        .order_by("-history_date", "-history_id")[:limit]
    )
    earlier: dict[int, list] = {}  # each changed value's records, oldest first
    for record in ProxyValue.history.filter(
        council_id=council.pk,
        id__in={r.id for r in records if r.history_type == "~"},
    ).order_by("history_date", "history_id"):
        earlier.setdefault(record.id, []).append(record)
    # The measures of the records shown and of those they are compared with.
    compared = [r for runs in earlier.values() for r in runs]
    measures = Measure.objects.in_bulk({r.measure_id for r in [*records, *compared]})
    named_within = history_who(council)

    def who(record) -> str:
        if record.history_user_id is None and record.history_type != "-":
            # Saved by a script (the demo, say) in the name of `entered_by`.
            return named_within(
                SimpleNamespace(
                    history_user_id=record.entered_by_id,
                    history_user=record.entered_by,
                )
            )
        return named_within(record)

    def named(record) -> str:
        measure = measures.get(record.measure_id)
        code = measure.code if measure else "A measure"
        return f"{code} in {FinancialYear(record.year)}"

    def worth(record) -> str:
        measure = measures.get(record.measure_id)
        per_unit = f" {measure.per_unit}" if measure else ""
        return ProxyValue(value=record.value).value_text + per_unit

    history = []
    for record in records:
        changes = []
        if record.history_type == "+":
            what = f"Entered {named(record)}: {worth(record)}"
        elif record.history_type == "-":
            what = f"Removed {named(record)}, which was {worth(record)}"
        else:
            runs = earlier.get(record.id, [])
            at = [r.history_id for r in runs].index(record.history_id)
            older = runs[at - 1] if at > 0 else None
            what = f"Changed {named(record)}"
            if older is not None:
                if (older.measure_id, older.year) != (record.measure_id, record.year):
                    changes.append(("Measure and year", named(older), named(record)))
                if older.value != record.value:
                    changes.append(("Value", worth(older), worth(record)))
                if older.source != record.source:
                    changes.append(
                        (
                            "Source",
                            Truncator(older.source).chars(200),
                            Truncator(record.source).chars(200),
                        )
                    )
                if not changes:
                    what = f"Saved {named(record)} with nothing changed"
        history.append(
            {
                "when": record.history_date,
                "who": who(record),
                "what": what,
                "changes": [
                    {"field": field, "old": old, "new": new}
                    for field, old, new in changes
                ],
            }
        )
    context = {
        "council": council,
        "values": values,
        "here": "proxy",
        "history": history,
        "history_limit": limit,
    }
    return render(request, "socialvalue/proxy_values.html", context)


@council_view(Capability.MANAGE_COUNCIL)
def proxy_value_edit(
    request: HttpRequest, council: Council, pk: int | None = None
) -> HttpResponse:
    value = (
        get_object_or_404(ProxyValue.objects.for_council(council), pk=pk)
        if pk
        else None
    )
    form = ProxyValueForm(request.POST or None, instance=value, council=council)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.entered_by = request.user
        saved.save()
        messages.success(request, f"Saved the proxy value: {saved}.")
        return redirect("socialvalue:proxy-values", council.slug)
    context = {"council": council, "form": form, "value": value, "here": "proxy"}
    return render(request, "socialvalue/proxy_value_form.html", context)


@council_view(Capability.MANAGE_COUNCIL)
@require_http_methods(["GET", "HEAD", "POST"])
def proxy_value_remove(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Ask, then (on POST only) remove a proxy value; its history keeps it."""
    value = get_object_or_404(
        ProxyValue.objects.for_council(council).select_related("measure"), pk=pk
    )
    if request.method != "POST":
        return render(
            request,
            "socialvalue/proxy_value_remove.html",
            {"council": council, "value": value},
        )
    text = str(value)
    value._change_reason = f"Removed by {request.user.get_username()}"
    value.delete()
    messages.success(request, f"Removed the proxy value: {text}.")
    return redirect("socialvalue:proxy-values", council.slug)
