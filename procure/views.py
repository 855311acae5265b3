from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.db.models import (
    DecimalField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from councils.access import council_view
from councils.models import Capability, Council
from councils.periods import FinancialYear
from procure.filters import SupplierFilter
from procure.forms import SupplierForm
from procure.merging import MergeRefused, merge_suppliers, undo_merge
from procure.models import Contract, MatchSuggestion, Supplier, SupplierMerge
from procure.tables import ContractTable, SupplierTable
from socialvalue.models import SupplierTag, TagKind
from spend.models import SpendLine


def _supplier_for(council: Council, pk: int) -> Supplier:
    """A supplier this council deals with (paid, named or contracted); 404 otherwise."""
    return get_object_or_404(Supplier.objects.dealt_with_by(council), pk=pk)


@council_view(Capability.VIEW)
def supplier_list(request: HttpRequest, council: Council) -> HttpResponse:
    """The council's suppliers, filterable by every tag, by spend this financial year."""
    fy = FinancialYear.for_date(timezone.localdate())
    suppliers = Supplier.objects.for_council_list(council, fy.start, fy.end)
    filterset = SupplierFilter(request.GET, queryset=suppliers)
    table = SupplierTable(
        filterset.qs, council=council, period_label=f"in {fy}", order_by="-spend_period"
    )
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(
        request,
        "procure/supplier_list.html",
        {"council": council, "table": table, "filter": filterset, "fy": fy},
    )


@council_view(Capability.VIEW)
def supplier_detail(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    supplier = _supplier_for(council, pk)
    lines = SpendLine.objects.for_council(council).filter(supplier=supplier)
    context = {
        "council": council,
        "supplier": supplier,
        "figures": lines.headline(),
        "recent_lines": lines.order_by("-payment_date")[:20],
        "aliases": supplier.aliases.filter(council=council),
        "contracts": Contract.objects.for_council(council).filter(supplier=supplier),
        "history": supplier.history.select_related("history_user")[:20],
        "tags": _tags_for(supplier, council),
        "tag_history": SupplierTag.history.filter(supplier_id=supplier.pk)
        .filter(Q(council_id=council.pk) | Q(council_id__isnull=True))
        .select_related("history_user")
        .order_by("-history_date")[:30],
        "suggestions": supplier.match_suggestions.filter(
            dismissed_at__isnull=True
        ).select_related("candidate"),
        "merges": SupplierMerge.objects.filter(kept=supplier).select_related(
            "merged", "merged_by"
        ),
    }
    return render(request, "procure/supplier_detail.html", context)


def _tags_for(supplier: Supplier, council: Council) -> list[dict]:
    """Each kind of tag as this council sees it, with whether an officer overrode it."""
    mine = Q(council=council) | Q(council__isnull=True)
    tags = {t.kind: t for t in supplier.tags.filter(mine).select_related("decided_by")}
    overridden = set(supplier.tag_overrides.filter(mine).values_list("kind", flat=True))
    return [
        {"kind": kind, "tag": tags.get(kind), "overridden": kind in overridden}
        for kind in TagKind
    ]


@council_view(Capability.EDIT_REGISTER)
def supplier_edit(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    supplier = _supplier_for(council, pk)
    form = SupplierForm(request.POST or None, instance=supplier)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Saved the changes to {supplier.name}.")
        return redirect("procure:supplier-detail", council.slug, supplier.pk)
    return render(
        request,
        "procure/supplier_form.html",
        {"council": council, "supplier": supplier, "form": form},
    )


@council_view(Capability.VIEW)
def contract_list(request: HttpRequest, council: Council) -> HttpResponse:
    contracts = Contract.objects.for_council(council).select_related(
        "supplier", "council"
    )
    table = ContractTable(contracts)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(
        request, "procure/contract_list.html", {"council": council, "table": table}
    )


@council_view(Capability.VIEW)
def contract_detail(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    contract = get_object_or_404(
        Contract.objects.for_council(council).select_related("supplier"), pk=pk
    )
    spend = SpendLine.objects.for_council(council).filter(
        supplier=contract.supplier, payment_date__gte=contract.start_date
    )
    if contract.end_date:
        spend = spend.filter(payment_date__lte=contract.end_date)
    context = {
        "council": council,
        "contract": contract,
        "spend": spend.headline() if contract.supplier else None,
    }
    return render(request, "procure/contract_detail.html", context)


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
    suggestions = (
        MatchSuggestion.objects.filter(
            dismissed_at__isnull=True,
            supplier__in=Supplier.objects.dealt_with_by(council),
        )
        .select_related("supplier", "candidate")
        .order_by("-score")[:QUEUE_LENGTH]
    )
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
        ),
        pk=pk,
    )
    suggestion.dismissed_at, suggestion.dismissed_by = timezone.now(), request.user
    suggestion.save()
    messages.success(
        request,
        f"Noted: {suggestion.supplier.name} and {suggestion.candidate.name} are "
        "different organisations.",
    )
    return redirect("procure:review", council.slug)


@council_view(Capability.EDIT_REGISTER)
def supplier_merge(
    request: HttpRequest, council: Council, pk: int, into: int
) -> HttpResponse:
    """Confirm, then merge supplier `pk` into supplier `into` (reversible)."""
    merged = _supplier_for(council, pk)
    kept = get_object_or_404(Supplier, pk=into, merged_into__isnull=True)
    if request.method == "POST":
        try:
            merge_suppliers(
                kept=kept,
                merged=merged,
                user=request.user,
                reason=request.POST.get("reason", "").strip(),
            )
        except MergeRefused as refusal:
            messages.error(request, str(refusal))
            return redirect("procure:supplier-detail", council.slug, merged.pk)
        messages.success(
            request,
            f"Merged {merged.name} into {kept.name}. You can undo this from "
            f"{kept.name}'s page.",
        )
        return redirect("procure:supplier-detail", council.slug, kept.pk)
    context = {
        "council": council,
        "kept": kept,
        "merged": merged,
        "lines": merged.spend_lines.count(),
        "aliases": merged.aliases.count(),
        "contracts": merged.contracts.count(),
    }
    return render(request, "procure/supplier_merge.html", context)


@council_view(Capability.EDIT_REGISTER)
@require_POST
def merge_undo(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    record = get_object_or_404(
        SupplierMerge.objects.filter(kept__in=Supplier.objects.dealt_with_by(council)),
        pk=pk,
    )
    try:
        undo_merge(record, user=request.user)
    except MergeRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request, f"Undid the merge: {record.merged.name} stands on its own again."
        )
    return redirect("procure:supplier-detail", council.slug, record.kept.pk)
