from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django_tables2 import RequestConfig

from councils.access import council_view
from councils.models import Capability, Council
from procure.forms import SupplierForm
from procure.models import Contract, Supplier
from procure.tables import ContractTable, SupplierSpendTable
from spend.models import SpendLine


def _supplier_for(council: Council, pk: int) -> Supplier:
    """A supplier this council deals with (paid, named or contracted); 404 otherwise."""
    supplier = get_object_or_404(Supplier, pk=pk)
    linked = (
        SpendLine.objects.for_council(council).filter(supplier=supplier).exists()
        or supplier.aliases.filter(council=council).exists()
        or supplier.contracts.filter(council=council).exists()
    )
    if not linked:
        raise Http404("This supplier has no dealings with this council.")
    return supplier


@council_view(Capability.VIEW)
def supplier_list(request: HttpRequest, council: Council) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    suppliers = (
        SpendLine.objects.for_council(council)
        .filter(supplier__isnull=False)
        .values(
            "supplier",
            "supplier__name",
            "supplier__organisation_type",
            "supplier__postcode",
        )
        .annotate(total=Sum("amount"), lines=Count("id"))
        .order_by("-total")
    )
    if query:
        suppliers = suppliers.filter(Q(supplier__name__icontains=query))
    table = SupplierSpendTable(suppliers, council=council, order_by="-total")
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(
        request,
        "procure/supplier_list.html",
        {"council": council, "table": table, "query": query},
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
    }
    return render(request, "procure/supplier_detail.html", context)


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
