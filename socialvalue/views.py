from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from councils.access import council_view
from councils.models import Capability, Council
from councils.periods import FinancialYear
from procure.models import Supplier
from socialvalue.forms import TagOverrideForm, TargetForm
from socialvalue.models import SupplierTag, TagKind, TagOverride, Target
from socialvalue.tagging import classify_suppliers


@council_view(Capability.VIEW)
def target_list(request: HttpRequest, council: Council) -> HttpResponse:
    fy = FinancialYear.for_date(timezone.localdate())
    targets = [
        {"target": t, "share_now": t.share_for(fy)}
        for t in Target.objects.for_council(council)
    ]
    return render(
        request,
        "socialvalue/target_list.html",
        {"council": council, "targets": targets, "fy": fy},
    )


@council_view(Capability.MANAGE_COUNCIL)
def target_edit(
    request: HttpRequest, council: Council, pk: int | None = None
) -> HttpResponse:
    target = (
        get_object_or_404(Target.objects.for_council(council), pk=pk) if pk else None
    )
    form = TargetForm(request.POST or None, instance=target, council=council)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, f"Saved the target: {saved}.")
        return redirect("socialvalue:targets", council.slug)
    return render(
        request,
        "socialvalue/target_form.html",
        {"council": council, "form": form, "target": target},
    )


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
    scope = {"supplier": supplier, "council": _tag_council(council, kind), "kind": kind}
    override = TagOverride.objects.filter(**scope).first()
    tag = SupplierTag.objects.filter(**scope).first()
    initial = {"value": override.value, "reason": override.reason} if override else {}
    form = TagOverrideForm(request.POST or None, kind=kind, initial=initial)
    if request.method == "POST" and form.is_valid():
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
    context = {
        "council": council,
        "supplier": supplier,
        "kind": TagKind(kind),
        "tag": tag,
        "override": override,
        "form": form,
    }
    return render(request, "socialvalue/tag_override.html", context)


@council_view(Capability.EDIT_REGISTER)
@require_POST
def tag_override_remove(
    request: HttpRequest, council: Council, pk: int, kind: str
) -> HttpResponse:
    """Remove an override: the rules decide the tag again."""
    supplier, kind = _supplier_and_kind(council, pk, kind)
    scope = {"supplier": supplier, "council": _tag_council(council, kind), "kind": kind}
    for override in TagOverride.objects.filter(**scope):
        override._change_reason = f"Removed by {request.user.get_username()}"
        override.delete()
    classify_suppliers(
        supplier_ids=[supplier.pk], councils=[council], user=request.user
    )
    messages.success(request, "Removed the override: the rules now decide this tag.")
    return redirect("procure:supplier-detail", council.slug, supplier.pk)
