from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from councils.access import council_view
from councils.models import Capability, Council
from councils.periods import FinancialYear
from socialvalue.models import Target
from spend.models import SpendUpload, year_figures, year_months


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
