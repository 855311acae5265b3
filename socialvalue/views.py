from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from councils.access import council_view
from councils.models import Capability, Council
from councils.periods import FinancialYear
from socialvalue.forms import TargetForm
from socialvalue.models import Target


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
