"""The Local Government Transparency Code 2015 files: contracts and spend; and
the contract register as the officer filtered it.

Contracts file (Code, para. 33 onwards): every contract of the council whose value
exceeds £5,000 — its whole-life value, or its annual value when no whole-life value
is recorded. Contracts still in the pipeline (not yet awarded) are left out.

Spend file (Code, para. 28 onwards): every payment exceeding £500 in the chosen
period. Credit notes are included when they exceed £500 either way (an amount below
-£500), so the file reconciles with the ledger; payments of exactly £500 are not
"over £500" and are left out. A redacted payee stays "REDACTED": no supplier name,
register number or purpose is shown for it. Amounts are as the council published
them, with the VAT basis of the file they came from in their own column.
"""

from __future__ import annotations

from calendar import month_name, monthrange
from datetime import date
from decimal import Decimal
from itertools import chain

from django import forms
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Abs, Coalesce
from django.utils import timezone

from councils.models import Council
from councils.periods import FinancialYear
from procure.models import Contract, ContractStatus
from procure.tables import DUE_ORDER_WORDS
from socialvalue.models import SME_VALUES, Commitment, SupplierTag, TagKind
from spend.export import csv_stream_response
from spend.models import SpendLine, VatBasis

CONTRACT_THRESHOLD = Decimal("5000")
SPEND_THRESHOLD = Decimal("500")
REDACTED = "REDACTED"

CONTRACT_COLUMNS = [
    "Reference number",
    "Title of agreement",
    "Department responsible",
    "Description of goods and/or services",
    "Supplier name",
    "Supplier company registration number",
    "Supplier charity registration number",
    "Start date",
    "End date",
    "Review date",
    "End date if extended",
    "Value of agreement (whole life) (£)",
    "Estimated annual value (£)",
    "Irrecoverable VAT (£)",
    "Tendered or quoted",
    "Procurement route",
    "SME",
    "VCSE",
    "Contract status",
]

SPEND_COLUMNS = [
    "Body name",
    "Body (GSS code)",
    "Date",
    "Transaction number",
    "Department",
    "Service area",
    "Expense type",
    "Purpose of expenditure",
    "Supplier name",
    "Supplier company registration number",
    "Supplier charity registration number",
    "Amount (£)",
    "Amount basis",
    "Irrecoverable VAT (£)",
    "Procurement category",
]


def _tag(kind: str):
    tags = SupplierTag.objects.filter(supplier=OuterRef("supplier_id"), kind=kind)
    return Coalesce(Subquery(tags.values("value")[:1]), Value("unknown"))


def _yes_no(yes: bool, no: bool) -> str:
    return "Yes" if yes else "No" if no else "Not known"


def transparency_contracts(council: Council):
    """The contracts the Code asks to publish, with the supplier's size and VCSE
    tags (SME means micro, small or medium)."""
    over = Q(value__gt=CONTRACT_THRESHOLD) | Q(
        value__isnull=True, annual_value__gt=CONTRACT_THRESHOLD
    )
    return (
        Contract.objects.for_council(council)
        .filter(over)
        .exclude(status=ContractStatus.PIPELINE)
        .select_related("supplier")
        .annotate(size=_tag(TagKind.SIZE), vcse=_tag(TagKind.VCSE))
        .order_by("reference")
    )


def unvalued_contracts(council: Council) -> list[Contract]:
    """Awarded contracts with no whole-life value and no annual value over £5,000
    (none at all, or a smaller one for a contract running over a year or with no
    end date): whether they pass the Code's £5,000 in all cannot be told, so the
    contracts file leaves them out, and the exports page names them."""
    candidates = (
        Contract.objects.for_council(council)
        .filter(value__isnull=True)
        .filter(Q(annual_value__isnull=True) | Q(annual_value__lte=CONTRACT_THRESHOLD))
        .exclude(status=ContractStatus.PIPELINE)
        .order_by("reference")
    )
    return [
        contract
        for contract in candidates
        if contract.annual_value is None
        or contract.end_date is None
        or (contract.end_date - contract.start_date).days > 365
    ]


def contract_row(contract: Contract) -> list:
    supplier = contract.supplier
    size = contract.size if supplier else "unknown"
    vcse = contract.vcse if supplier else "unknown"
    return [
        contract.reference,
        contract.title,
        contract.department,
        contract.description,
        supplier.name if supplier else "",
        supplier.company_number if supplier else "",
        supplier.charity_number if supplier else "",
        contract.start_date,
        contract.end_date,
        contract.review_date,
        contract.extension_end_date,
        contract.value,
        contract.annual_value,
        contract.irrecoverable_vat,
        contract.get_award_method_display(),
        contract.get_route_display(),
        _yes_no(size in SME_VALUES, size in ("large", "public_sector")),
        _yes_no(vcse == "yes", vcse == "no"),
        contract.get_current_status_display(),
    ]


def contracts_csv(council: Council):
    rows = (contract_row(c) for c in transparency_contracts(council).iterator())
    return csv_stream_response(
        f"{council.slug}-contracts-over-5000.csv", chain([CONTRACT_COLUMNS], rows)
    )


def transparency_spend(council: Council, start: date, end: date):
    """Payments in the period exceeding £500 either way, oldest first."""
    return (
        SpendLine.objects.for_council(council)
        .in_period(start, end)
        .annotate(size=Abs("amount"))
        .filter(size__gt=SPEND_THRESHOLD)
        .order_by("payment_date", "upload_id", "source_sheet", "source_row")
        .values(
            "payment_date",
            "transaction_ref",
            "department",
            "service_area",
            "expense_type",
            "description",
            "supplier_name",
            "redacted",
            "supplier__company_number",
            "supplier__charity_number",
            "amount",
            "upload__vat_basis",
            "irrecoverable_vat",
            "procurement_category",
        )
    )


_BASIS = dict(VatBasis.choices)


def spend_row(council: Council, line: dict) -> list:
    redacted = line["redacted"]
    return [
        council.name,
        council.gss_code,
        line["payment_date"],
        line["transaction_ref"],
        line["department"],
        line["service_area"],
        line["expense_type"],
        "" if redacted else line["description"],
        REDACTED if redacted else line["supplier_name"],
        "" if redacted else line["supplier__company_number"] or "",
        "" if redacted else line["supplier__charity_number"] or "",
        line["amount"],
        _BASIS.get(line["upload__vat_basis"], line["upload__vat_basis"]),
        line["irrecoverable_vat"],
        line["procurement_category"],
    ]


def spend_csv(council: Council, start: date, end: date, label: str):
    lines = transparency_spend(council, start, end).iterator(chunk_size=2000)
    rows = (spend_row(council, line) for line in lines)
    return csv_stream_response(
        f"{council.slug}-spend-over-500-{label}.csv", chain([SPEND_COLUMNS], rows)
    )


# Months in financial-year order: April (4) to March (3).
FY_MONTHS = [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]


def _years_held(years: list[FinancialYear]) -> str:
    """The years a spend file can be had for, in words, with how a web address
    gives one (by the year it starts in)."""
    example = years[0]
    how = (
        f"in a web address, give the year it starts in (year={example.start_year} "
        f"for {example})"
    )
    if len(years) == 1:
        return f"The only financial year held is {example}: {how}."
    labels = [str(fy) for fy in years]
    listed = ", ".join(labels[:-1]) + f" and {labels[-1]}"
    return f"The financial years held are {listed}: {how}."


class SpendPeriodForm(forms.Form):
    """A financial year, and optionally one month of it, for the spend file."""

    year = forms.TypedChoiceField(
        coerce=int,
        label="Financial year",
        error_messages={"invalid_choice": "Choose a financial year from the list."},
    )
    month = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        label="Month",
        choices=[("", "The whole year")] + [(m, month_name[m]) for m in FY_MONTHS],
        error_messages={
            "invalid_choice": (
                "Choose a month from the list. In a web address, give the month "
                "as a number from 1 (January) to 12 (December), or leave it out "
                "for the whole year; January to March fall at the end of the "
                "financial year (with year=2025, month=1 is January 2026)."
            )
        },
    )

    def __init__(self, *args, years: list[FinancialYear], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(fy.start_year, fy.label) for fy in years]
        self.fields["year"].initial = years[0].start_year
        # Only a web address typed or edited by hand gives a year not in the
        # list: the message names the years held, as the address gives them (QA:
        # the public pages have no list to choose from).
        self.fields["year"].error_messages["invalid_choice"] = (
            f"Choose a financial year from the list. {_years_held(years)}"
        )

    def period(self) -> tuple[date, date, str]:
        """Start, end and a label for the file name; call after is_valid()."""
        fy = FinancialYear(self.cleaned_data["year"])
        month = self.cleaned_data.get("month")
        if not month:
            return fy.start, fy.end, f"{fy.start_year}-{(fy.start_year + 1) % 100:02d}"
        year = fy.start_year if month >= 4 else fy.start_year + 1
        last = monthrange(year, month)[1]
        return date(year, month, 1), date(year, month, last), f"{year}-{month:02d}"


# --- The contract register, as the list shows it ------------------------------------

REGISTER_COLUMNS = [
    "Reference",
    "Title",
    "Supplier",
    "LocalSpend supplier number",
    "Department",
    "Status",
    "Procurement route",
    "Start date",
    "End date",
    "Whole-life value (£)",
    "Annual value (£)",
    "Spend to date (£)",
    "Spend to date as a share of the value (%)",
    "Social value commitments",
]

# How each sortable column of the list reads in the preamble and on the page,
# ascending and descending (procure.tables.ContractTable); "due", the list's
# first order, is no column's.
_SORTED_BY = {
    "due": (DUE_ORDER_WORDS, f"the reverse of: {DUE_ORDER_WORDS}"),
    "reference": ("contract reference, A to Z", "contract reference, Z to A"),
    "supplier": ("supplier, A to Z", "supplier, Z to A"),
    "status": ("status, A to Z", "status, Z to A"),
    "end_date": ("end date, earliest first", "end date, latest first"),
    "value": ("value, lowest first", "value, highest first"),
    "spend_to_date": ("spend to date, lowest first", "spend to date, highest first"),
}


def sorted_by(order_by) -> str:
    """The contracts list's order in words (its table's `order_by`), for the
    page and its download."""
    words = [
        _SORTED_BY.get(o.bare, (o.bare, o.bare))[o.is_descending] for o in order_by
    ]
    return "; ".join(words) or "not sorted"


def _share(spent: Decimal, value: Decimal | None) -> str:
    """The percentage to one place, as text (a Decimal cell is written to the
    penny); blank with no whole-life value."""
    if not value:
        return ""
    return str((spent * 100 / value).quantize(Decimal("0.1")))


def contract_register_csv(council: Council, contracts, filters: list[str], order_by):
    """Every contract the list's filters select (all its pages), in the list's
    order (`contracts`: the table's sorted queryset, `order_by` its ordering),
    with a preamble saying the council, the filters, the order, how many and
    the day of export. Money to the penny; every text made safe to open."""
    commitments = (
        Commitment.objects.filter(contract=OuterRef("pk"))
        .order_by()
        .values("contract")
        .annotate(n=Count("pk"))
        .values("n")
    )
    contracts = contracts.annotate(
        commitment_count=Coalesce(Subquery(commitments), Value(0))
    )
    today = timezone.localdate()
    preamble = [
        ["Council", council.name],
        ["Filters", "; ".join(filters) or "none"],
        ["Sorted by", sorted_by(order_by)],
        ["Contracts", contracts.count()],
        ["Exported on", today],
        [],
        REGISTER_COLUMNS,
    ]
    rows = (
        [
            c.reference,
            c.title,
            c.supplier.name if c.supplier else "",
            c.supplier_id or "",
            c.department,
            c.get_current_status_display(),
            c.get_route_display(),
            c.start_date,
            c.end_date,
            c.value,
            c.annual_value,
            c.spend_to_date,
            _share(c.spend_to_date, c.value),
            c.commitment_count,
        ]
        for c in contracts.iterator(chunk_size=2000)
    )
    return csv_stream_response(
        f"{council.slug}-contracts-{today:%Y-%m-%d}.csv", chain(preamble, rows)
    )
