from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_tables2 import RequestConfig

from councils.access import council_view
from councils.models import Capability, Council
from spend.filters import SpendLineFilter
from spend.models import SpendLine, SpendUpload
from spend.tables import SpendLineTable, UploadTable


@council_view(Capability.VIEW)
def upload_list(request: HttpRequest, council: Council) -> HttpResponse:
    uploads = SpendUpload.objects.for_council(council).select_related("uploaded_by")
    table = UploadTable(uploads)
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    return render(
        request, "spend/upload_list.html", {"council": council, "table": table}
    )


@council_view(Capability.VIEW)
def line_list(request: HttpRequest, council: Council) -> HttpResponse:
    lines = SpendLine.objects.for_council(council)
    filterset = SpendLineFilter(request.GET, queryset=lines)
    table = SpendLineTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    context = {
        "council": council,
        "filter": filterset,
        "table": table,
        "figures": filterset.qs.headline() if filterset.is_valid() else None,
    }
    return render(request, "spend/line_list.html", context)
