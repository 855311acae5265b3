"""Importing an existing contract register (CSV, XLSX or a ZIP of one).

The file is read by the spend importer's reader (``spend.reading.read_sheets``),
its header found and its columns recognised here, and every row checked by the
contract form's own rules (``procure.forms.ContractRowForm``), so an imported
contract obeys exactly what an officer typing it in would.

* A reference the council already has updates that contract (only the columns
  the file has are changed); a reference seen twice in one file is rejected the
  second time. "C-101", "c-101" and "C‑101" (a look-alike dash) are one
  reference (``procure.forms.reference_key``).
* Suppliers are matched by company number, then by normalised name (the register,
  then this council's aliases), else created unverified, as the spend importer does
  (its history names the file, as the contracts' does). A company number whose
  supplier is not the one the row's name finds, or whose name is clearly unlike
  the row's, rejects the row; a name only somewhat like it is a warning.
* A total row ("Total", "Sub total" and no reference or title) is skipped and
  counted, as in a spend file.
* With a buyer column (Contracts Finder's "Organisation Name"), only rows whose
  buyer is this council are imported unless the officer asks for every row.
* Everything happens in one transaction. The reconciliation always adds up:
  rows read = created + updated + unchanged + rejected + other buyer + blank
  + total rows.
* The council's contracts, and the suppliers the file could name, are loaded
  once before the rows (`_Held`), not looked up row by row: a row costs only
  its own writes (852 rows of Contracts Finder in under 2 s on SQLite;
  bench/register_bench.py).
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist
from django.db import IntegrityError, router, transaction
from django.db.models import Count, Exists, OuterRef
from django.db.models.deletion import Collector
from django.forms.models import model_to_dict
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.text import get_text_list
from rapidfuzz import fuzz

from councils.models import Council
from councils.templatetags.money import gbp
from procure.models import (
    AwardMethod,
    Contract,
    ContractKPI,
    ContractStatus,
    MatchSuggestion,
    ProcurementRoute,
    RegisterImport,
    Supplier,
    SupplierAlias,
    split_codes,
)
from socialvalue.models import Commitment
from socialvalue.tagging import classify_suppliers
from spend.export import unneutralise
from spend.importer import (
    GENERIC_WORDS,
    distinctive_words_agree,
    distinctive_words_held,
    suggest_matches,
)
from spend.parse import _is_total_label
from spend.reading import FileRefused, Sheet, clean_header, read_sheets
from spend.values import (
    CellError,
    clean_text,
    is_company_number,
    is_redacted,
    normalise_name,
    parse_amount,
    parse_date,
    tidy_company_number,
)

__all__ = ["FIELDS", "FileRefused", "Register", "Report", "import_register", "read"]

# field -> (label, header names, normalised; the first found wins)
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "reference": (
        "Reference",
        (
            "reference",
            "contract reference",
            "contract ref",
            "our reference",
            "notice identifier",
            "notice id",
            "contract id",
            "contract number",
            "reference number",
            "ref",
        ),
    ),
    # The Transparency Code's headings too, as LocalSpend's own download writes
    # them (procure.exports.CONTRACT_COLUMNS; QA: its own file was not read).
    "title": (
        "Title",
        ("title", "contract title", "contract name", "subject", "title of agreement"),
    ),
    "description": (
        "Description",
        (
            "description",
            "contract description",
            "summary",
            "scope",
            "description of goods and or services",
        ),
    ),
    "supplier_name": (
        "Supplier name",
        (
            "supplier name",
            "supplier",
            "awarded supplier",
            "contractor",
            "contractor name",
            "provider",
            "supplier name address ref type ref number is sme is vcse",
        ),
    ),
    "company_number": (
        "Supplier company number",
        (
            "company number",
            "supplier company number",
            "companies house number",
            "company registration number",
            "supplier company registration number",
            "company reg no",
            "company no",
            "companies house no",
            "companies house reg no",
            "crn",
        ),
    ),
    "value": (
        "Whole-life value",
        (
            "whole life value",
            "contract value",
            "total contract value",
            "total value",
            "awarded value",
            "value",
            "estimated value",
            "value of agreement whole life",
            "value of agreement",
        ),
    ),
    "value_high": ("Value high (estimate)", ("value high", "maximum value")),
    "value_low": ("Value low (estimate)", ("value low", "minimum value")),
    "start_date": (
        "Start date",
        ("start date", "contract start date", "commencement date", "start"),
    ),
    "end_date": (
        "End date",
        ("end date", "contract end date", "expiry date", "end"),
    ),
    "review_date": (
        "Review date",
        ("review date", "contract review date", "next review date"),
    ),
    "extension_end_date": (
        "End date if extended",
        (
            "end date if extended",
            "extended end date",
            "extension end date",
            "end date including extensions",
            "end date with extensions",
        ),
    ),
    "annual_value": (
        "Estimated annual value",
        (
            "estimated annual value",
            "annual value",
            "annual contract value",
            "value per year",
        ),
    ),
    "irrecoverable_vat": (
        "Irrecoverable VAT",
        ("irrecoverable vat", "irrecoverable vat amount", "non recoverable vat"),
    ),
    "award_method": (
        "Tendered or quoted",
        (
            "tendered or quoted",
            "whether tendered or quoted",
            "tender or quote",
            "tendered quoted",  # "Tendered / Quoted"
            "tender quote",
        ),
    ),
    "department": (
        "Department",
        (
            "department",
            "directorate",
            "service area",
            "service",
            "team",
            "department responsible",
        ),
    ),
    "buyer": (
        "Buyer (organisation)",
        (
            "organisation name",
            "buyer",
            "buyer name",
            "contracting authority",
            "organisation",
        ),
    ),
    "cpv_codes": ("CPV codes", ("cpv codes", "cpv code", "cpv")),
    "route": (
        "Procurement route",
        (
            "procurement route",
            "route",
            "procedure type",
            "ojeu procedure type",
            "procurement procedure",
            "procedure",
        ),
    ),
    "status": ("Status", ("status", "contract status")),
    "ocid": ("OCID", ("ocid", "ocds id")),
}
REQUIRED = ("reference", "title", "start_date")
# A whole-life value outside these is named for a check, not rejected: under
# £100 is most likely a value in thousands or a placeholder, over £10 billion a
# slip of digits (a council's largest contracts run to hundreds of millions).
VALUE_BOUNDS = (Decimal(100), Decimal(10_000_000_000))
_FORM_TO_FIELD = {"supplier": "supplier_name", "__all__": ""}
_HEADER_SEARCH_ROWS = 30

_STATUS_WORDS = {
    ContractStatus.PIPELINE: {
        "pipeline",
        "planned",
        "open",
        "tender",
        "tendering",
        "pre procurement",
        "preprocurement",
        "future opportunity",
        "not yet awarded",
    },
    ContractStatus.ACTIVE: {"active", "awarded", "live", "current", "ongoing"},
    ContractStatus.ENDED: {"ended", "expired", "complete", "completed", "terminated"},
}
_WITHDRAWN = {"withdrawn", "cancelled", "canceled"}

# Procedure names (Procurement Act 2023 and PCR 2015 / Contracts Finder) -> route.
# Anything else (DPS, "Other …", blank) leaves the route empty, never rejects.
_ROUTES = (
    ("below threshold", ProcurementRoute.BELOW_THRESHOLD),
    ("quotation", ProcurementRoute.BELOW_THRESHOLD),
    ("call off", ProcurementRoute.FRAMEWORK_CALL_OFF),
    ("calloff", ProcurementRoute.FRAMEWORK_CALL_OFF),
    ("framework", ProcurementRoute.FRAMEWORK_CALL_OFF),
    ("direct award", ProcurementRoute.DIRECT_AWARD),
    ("single tender", ProcurementRoute.DIRECT_AWARD),
    ("singletender", ProcurementRoute.DIRECT_AWARD),
    ("competitive flexible", ProcurementRoute.COMPETITIVE_FLEXIBLE),
    ("restricted", ProcurementRoute.COMPETITIVE_FLEXIBLE),
    ("negotiat", ProcurementRoute.COMPETITIVE_FLEXIBLE),
    ("dialogue", ProcurementRoute.COMPETITIVE_FLEXIBLE),
    ("open", ProcurementRoute.OPEN),
)
_BARE_CPV = re.compile(r"^\d{8}$")
_BUYER_NOISE = {
    "the",
    "council",
    "borough",
    "county",
    "city",
    "district",
    "metropolitan",
    "royal",
    "of",
    "london",
}


def _norm(text: object) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", clean_header(text).lower()).split())


@dataclass
class Register:
    """A file read and its header found: what the preview shows."""

    file_name: str
    sheet: str
    header: list[str]
    header_row: int
    rows: list[list[object]]
    row_numbers: list[int]
    mapping: dict[str, int]  # field -> column index

    def column_name(self, index: int | None) -> str:
        if index is None or index >= len(self.header):
            return ""
        return self.header[index] or f"column {index + 1}"


def recognise(header: list[str]) -> dict[str, int]:
    names = [_norm(h) for h in header]
    mapping: dict[str, int] = {}
    taken: set[int] = set()
    for name, (_, synonyms) in FIELDS.items():
        for synonym in synonyms:
            found = [i for i, n in enumerate(names) if n == synonym and i not in taken]
            if found:
                mapping[name] = found[0]
                taken.add(found[0])
                break
    return mapping


def read(data: bytes, file_name: str) -> Register:
    """Read the file and find its header; raise FileRefused if there is none."""
    sheets = read_sheets(data, file_name)
    for sheet in sheets:
        found = _find_header(sheet)
        if found is not None:
            at, mapping = found
            return Register(
                file_name=file_name,
                sheet=sheet.name,
                header=[clean_header(c) for c in sheet.rows[at]],
                header_row=sheet.row_numbers[at],
                rows=sheet.rows[at + 1 :],
                row_numbers=sheet.row_numbers[at + 1 :],
                mapping=mapping,
            )
    raise FileRefused(
        f'"{file_name}" has no header row naming at least a contract reference or '
        "title and one other column (such as start date, value or supplier) in its "
        f"first {_HEADER_SEARCH_ROWS} rows."
    )


def _find_header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    for at, row in enumerate(sheet.rows[:_HEADER_SEARCH_ROWS]):
        mapping = recognise([clean_header(c) for c in row])
        if len(mapping) >= 2 and ("reference" in mapping or "title" in mapping):
            return at, mapping
    return None


@dataclass
class Rejection:
    row: int
    column: str
    reason: str
    cells: list[object]
    also: str = ""  # a second column the reason is about, if any

    def message(self, file_name: str = "") -> str:
        """ "'register.csv' row 5, column "Value": why"; without the file's name
        "Row 5, …", for a list headed by it (QA: the name on every row)."""
        if self.column and self.also:
            where = f', columns "{self.column}" and "{self.also}"'
        else:
            where = f', column "{self.column}"' if self.column else ""
        if not file_name:
            return f"Row {self.row}{where}: {self.reason}"
        return f'"{file_name}" row {self.row}{where}: {self.reason}'


@dataclass
class Report:
    file_name: str
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    other_buyer: int = 0
    blank: int = 0
    # The file rows of total rows ("Total", "Sub total" with no reference and no
    # title), skipped: not contracts.
    total_rows: list[int] = field(default_factory=list)
    suppliers_created: int = 0
    # Payments newly linked to a contract by this import, and their amount.
    spend_lines_linked: int = 0
    amount_linked: Decimal = Decimal(0)
    # Payments that were linked to another contract and now are to one of these
    # ("the later contract wins"): (from reference, to reference, lines, amount).
    moved: list[tuple[str, str, int, Decimal]] = field(default_factory=list)
    # Payments that were linked to a contract and now are to none (its dates or
    # supplier changed): (from reference, lines, amount).
    unlinked: list[tuple[str, int, Decimal]] = field(default_factory=list)
    # The contracts added, (reference, title, supplier's name or ""), and the
    # names of the suppliers added to the register, in file order.
    added: list[tuple[str, str, str]] = field(default_factory=list)
    new_suppliers: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The import as recorded, to be undone; None when it saved nothing.
    record: RegisterImport | None = None
    # What each updated contract's row changes: (reference, [(detail, before,
    # after)]), in file order, so an officer checking the import sees it.
    changes: list[tuple[str, list[tuple[str, str, str]]]] = field(default_factory=list)
    # Rows created or updated whose supplier name and company number do not quite
    # agree (a name only somewhat like the number's supplier's, or a number not
    # the named supplier's): worth a check (messages naming the row).
    warnings: list[str] = field(default_factory=list)
    # Contracts created, or updated with a new whole-life value, whose value is
    # implausible for a council contract (`VALUE_BOUNDS`): imported, but worth a check (QA: £1.00
    # and £80,000,000,000.00 came in without comment): (reference, title, value).
    odd_values: list[tuple[str, str, Decimal]] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    @property
    def totals(self) -> int:
        return len(self.total_rows)

    @property
    def totals_text(self) -> str:
        """ "1 total row skipped (row 13)", "" if none."""
        rows = [str(row) for row in self.total_rows]
        if not rows:
            return ""
        if len(rows) == 1:
            return f"1 total row skipped (row {rows[0]})"
        listed = ", ".join(rows[:-1]) + f" and {rows[-1]}"
        return f"{len(rows)} total rows skipped (rows {listed})"

    @property
    def reconciles(self) -> bool:
        return self.rows_read == (
            self.created
            + self.updated
            + self.unchanged
            + self.rejected
            + self.other_buyer
            + self.blank
            + self.totals
        )


class _Rejected(Exception):
    def __init__(self, field_name: str, reason: str, also: str = "") -> None:
        super().__init__(reason)
        self.field_name = field_name
        self.reason = reason
        self.also = also  # a second field the reason is about


def is_ours(buyer: str, council: Council) -> bool:
    """Is the buyer named in the file this council? "London Borough of Lambeth",
    "Lambeth Council" and "Lambeth" are all Lambeth; "North Lincolnshire Council"
    is not Lincolnshire."""

    def key(text: str) -> str:
        words = normalise_name(text).split()
        return " ".join(w for w in words if w not in _BUYER_NOISE)

    ours = {key(council.name), key(council.short_name)} - {""}
    return key(buyer) in ours


def import_register(
    council: Council,
    register: Register,
    mapping: dict[str, int],
    *,
    user=None,
    only_ours: bool = True,
    today: date | None = None,
    check_only: bool = False,
    sha256: str = "",
) -> Report:
    """Import the register's rows as the council's contracts; all in one transaction.
    What it added and updated is recorded (`RegisterImport`, `report.record`), so
    that it can be undone (`undo`).

    `check_only`: do all of it (rows checked, suppliers matched, payments linked)
    and roll it back, so the report says what importing would do and nothing is
    kept: the page an officer sees before pressing "Import"."""
    from procure.forms import reference_key
    from procure.linking import link_spend, release_other_suppliers

    today = today or timezone.localdate()
    report = Report(file_name=register.file_name)
    only_ours = only_ours and "buyer" in mapping
    # First the rows' values, so what they name is loaded in a few queries.
    rows: list[tuple[int, list[object], tuple[dict, list[str]] | _Rejected]] = []
    for row, number in zip(register.rows, register.row_numbers, strict=True):
        report.rows_read += 1
        cells = {name: _cell(row, i) for name, i in mapping.items()}
        if not any(clean_text(c) for c in row):
            report.blank += 1
            continue
        if _is_total_row(row, cells):
            report.total_rows.append(number)
            continue
        if only_ours and not is_ours(clean_text(cells["buyer"]), council):
            report.other_buyer += 1
            continue
        try:
            rows.append((number, row, _values(cells, today)))
        except _Rejected as error:
            rows.append((number, row, error))
    saved: list[tuple[str, Contract]] = []
    bare_cpv_rows = 0
    bare_cpv: list[str] = []  # the codes left out for want of a check digit
    reason = f"Imported from {register.file_name}"

    def column_of(field_name: str) -> str:
        column = register.column_name(mapping.get(field_name))
        if not column and field_name in FIELDS:
            column = FIELDS[field_name][0]
        return column

    before: dict[int, dict] = {}  # updated contracts' details before the import
    with transaction.atomic():
        # One writer of the council's register at a time (an undo locks it too):
        # the contracts are read once, below, and saved from those copies.
        Council.objects.select_for_update().filter(pk=council.pk).first()
        held = _Held.load(council, [v[0] for _, _, v in rows if isinstance(v, tuple)])
        for number, row, parsed in rows:
            try:
                if isinstance(parsed, _Rejected):
                    raise parsed
                values, bare = parsed
                existing = held.contracts.get(reference_key(values["reference"]))
                with transaction.atomic():  # a rejected row leaves nothing behind
                    outcome, contract, new_supplier, warning, changes = _import_row(
                        council, values, held, user, today, reason
                    )
            except _Rejected as error:
                report.rejections.append(
                    Rejection(
                        number,
                        column_of(error.field_name),
                        error.reason,
                        list(row),
                        also=column_of(error.also) if error.also else "",
                    )
                )
                continue
            except IntegrityError as error:
                report.rejections.append(
                    Rejection(number, "", f"the database refused it ({error})", row)
                )
                continue
            held.imported(contract, number, new_supplier)
            bare_cpv_rows += bool(bare)
            bare_cpv += bare
            if new_supplier is not None:
                report.suppliers_created += 1
                report.new_suppliers.append(new_supplier.name)
            if outcome == "created":
                report.added.append(
                    (
                        contract.reference,
                        contract.title,
                        contract.supplier.name if contract.supplier else "",
                    )
                )
            setattr(report, outcome, getattr(report, outcome) + 1)
            if changes:
                report.changes.append((contract.reference, changes))
            if outcome == "updated":
                before[contract.pk] = snapshot(existing)
            if outcome != "unchanged":
                saved.append((outcome, contract))
                # Named only when this import gave the value (review: an update
                # of its title named a contract whose odd value it already had).
                given = outcome == "created" or existing.value != contract.value
                if (
                    given
                    and contract.value is not None
                    and not (VALUE_BOUNDS[0] <= contract.value <= VALUE_BOUNDS[1])
                ):
                    report.odd_values.append(
                        (contract.reference, contract.title, contract.value)
                    )
                if warning:
                    # The file is named once, above the list.
                    report.warnings.append(f"Row {number}: {warning}")
        _write_history(saved, user, reason)
        if held.made:  # tagged, as a spend file's new suppliers are
            classify_suppliers(
                supplier_ids=held.made_ids(), councils=[council], user=user
            )
            # Near namesakes offered for review, as a spend file's are (QA:
            # "Ashcrft Joinery LLP" was added and never offered against
            # "Ashcroft Joinery LLP").
            near = _suggest_near_matches(held, user=user, reason=reason)
            if near:
                report.notes.append(_near_words(near, check_only))
        if saved:
            touched = [contract for _, contract in saved]
            released = release_other_suppliers(
                touched,
                cause=f"in the register import of “{register.file_name}”, which "
                "changed the contract's supplier",
                user=user,
            )
            if released:
                report.notes.append(
                    f"{released} payment(s) linked by hand to contracts whose "
                    "supplier the file changes are to their old supplier: they go "
                    "back to the linking rule (to another of that supplier's "
                    "contracts covering them, or none)."
                )
            linked = link_spend(
                council,
                touched,
                cause=f"in the register import of “{register.file_name}”",
                user=user,
            )
            _report_links(report, linked)
        if check_only:
            transaction.set_rollback(True)
        elif saved:
            report.record = _record(
                council, register.file_name, user, saved, before, sha256
            )
    if only_ours:
        report.notes.append(
            f"Only rows whose buyer is {council.short_name} are imported; "
            f"{report.other_buyer} row(s) for other buyers are left out."
        )
    if bare_cpv:
        report.notes.append(_bare_cpv_words(bare_cpv, bare_cpv_rows))
    if report.total_rows:
        report.notes.append(
            f"{report.totals_text}: a total is not a contract, so it is not imported."
        )
    return report


def _suggest_near_matches(held: _Held, *, user, reason: str) -> list[tuple[str, str]]:
    """Store near matches between the suppliers this import made and the register
    as it was, for an officer to confirm on the review page, by the spend
    importer's own rules (`spend.importer.suggest_matches`). Returns the pairs
    suggested: (new name, the name in the register)."""
    made = {s.normalised_name: s.pk for s in held.made.values()}
    ours = set(made.values())
    # As the spend importer reads it: of suppliers sharing a normalised name,
    # the verified, else the oldest, stands for it (the last here).
    register = {
        name: pk
        for name, pk in Supplier.objects.order_by("verified", "-pk").values_list(
            "normalised_name", "pk"
        )
        if pk not in ours
    }
    suggest_matches(made, register, user=user, reason=reason)
    pairs = []
    for chunk in _chunks(ours):
        pairs += MatchSuggestion.objects.filter(
            supplier_id__in=chunk, dismissed_at__isnull=True
        ).values_list("supplier__name", "candidate__name")
    return sorted(pairs)


def _near_words(pairs: list[tuple[str, str]], check_only: bool) -> str:
    shown = [f"“{new}” (like “{old}”)" for new, old in pairs[:5]]
    if len(pairs) > 5:
        shown.append(f"{len(pairs) - 5} more")
    one = len(pairs) == 1
    offered = "it is" if one else "they are"
    return (
        f"{len(pairs)} of the new suppliers {'has' if one else 'have'} a name close "
        f"to one already in the register: {get_text_list(shown, 'and')}. "
        f"{'Once imported, ' if check_only else ''}{offered} offered on the Review "
        "page, under “Possibly the same organisation”, to merge or to note as a "
        "different organisation."
    )


_CHUNK = 500  # values in one IN (...), well inside SQLite's limit


def _chunks(values: set):
    ordered = sorted(values)
    for at in range(0, len(ordered), _CHUNK):
        yield ordered[at : at + _CHUNK]


class _Held:
    """What the import checks rows against, loaded once and kept up to date as
    rows are imported: the council's contracts by `reference_key`, the
    references imported so far (with their rows), and the suppliers the rows
    could name (by company number, by normalised name, by this council's
    aliases, and those this import made)."""

    def __init__(self) -> None:
        self.contracts: dict[str, Contract] = {}
        self.rows: dict[str, int] = {}  # reference_key -> the row that imported it
        self.by_number: dict[str, Supplier] = {}
        self.by_name: dict[str, Supplier] = {}
        self.by_alias: dict[str, Supplier] = {}
        self.made: dict[str, Supplier] = {}  # by normalised name

    @classmethod
    def load(cls, council: Council, rows: list[dict]) -> _Held:
        from procure.forms import reference_key

        held = cls()
        # In the model's order, as `.first()` of a lookup by reference took them.
        for contract in Contract.objects.filter(council=council).select_related(
            "supplier"
        ):
            held.contracts.setdefault(reference_key(contract.reference), contract)
        numbers = {v["company_number"] for v in rows if v["company_number"]}
        names = {
            normalise_name(v["supplier_name"])
            for v in rows
            if v["supplier_name"] and not is_redacted(v["supplier_name"])
        }
        names.discard("")
        for chunk in _chunks(numbers):
            for supplier in Supplier.objects.filter(company_number__in=chunk):
                held.by_number.setdefault(supplier.company_number, supplier)
        for chunk in _chunks(names):
            found = Supplier.objects.filter(
                normalised_name__in=chunk, merged_into__isnull=True
            ).order_by("-verified", "pk")
            for supplier in found:
                held.by_name.setdefault(supplier.normalised_name, supplier)
            aliases = SupplierAlias.objects.filter(
                council=council, normalised_name__in=chunk
            ).select_related("supplier")
            for alias in aliases:
                held.by_alias.setdefault(alias.normalised_name, alias.supplier)
        return held

    def suppliers(self, *more: Supplier | None) -> dict[str, Supplier]:
        """The suppliers a row's form may take without a query, by primary key."""
        return {str(s.pk): s for s in more if s is not None and s.pk is not None}

    def made_ids(self) -> list[int]:
        """The suppliers this import made."""
        return [supplier.pk for supplier in self.made.values()]

    def imported(
        self, contract: Contract, row: int, new_supplier: Supplier | None
    ) -> None:
        from procure.forms import reference_key

        key = reference_key(contract.reference)
        self.rows[key] = row
        self.contracts[key] = contract
        if new_supplier is not None:
            self.made[new_supplier.normalised_name] = new_supplier
            if new_supplier.company_number:
                self.by_number.setdefault(new_supplier.company_number, new_supplier)


def _import_row(council, values, held: _Held, user, today, reason: str):
    """Create or update one row's contract: (outcome, contract, the supplier made
    for it if any, a warning about its supplier or "", what an update changed)."""
    from procure.forms import ContractRowForm, reference_key

    reference = values["reference"]
    key = reference_key(reference)
    if key in held.rows:  # "C-101", "c-101" and "C‑101" are one reference
        raise _Rejected(
            "reference",
            f"the reference {reference} is already on row "
            f"{held.rows[key]} of this file",
        )
    existing = held.contracts.get(key)
    supplier, warning = _supplier(values, held, existing)
    new_supplier = None
    if supplier is not None and supplier.pk is None:
        supplier._history_user = user
        # Its history names the file, as the contracts' does (QA: "created by
        # demo-officer" and nothing more).
        supplier._change_reason = reason
        supplier.save()
        new_supplier = supplier
    data = _form_data(existing, values, supplier, today)
    # A copy: a rejected row must not leave its values on the contract held.
    instance = copy.copy(existing) if existing is not None else None
    form = ContractRowForm(
        data,
        instance=instance,
        council=council,
        taken=held.contracts,
        suppliers=held.suppliers(supplier, existing and existing.supplier),
    )
    if not form.is_valid():
        name, errors = next(iter(form.errors.items()))
        reason = " ".join(errors)
        if (
            name == "supplier"
            and "status" not in values
            and not values.get("supplier_name")
            and reason.startswith(
                "Choose the supplier. Only a contract still in the pipeline"
            )
        ):
            # Said for the file (QA: no way to mark a row as pipeline was given).
            reason = (
                "The supplier name is empty. Only a contract still in the pipeline "
                "can be without a supplier: put “pipeline” in a Status column "
                "for such rows, or give the supplier."
            )
        raise _Rejected(_FORM_TO_FIELD.get(name, name), reason)
    if existing is not None and not form.has_changed():
        return "unchanged", existing, new_supplier, warning, []
    contract = form.instance
    changes = []
    if existing is not None:
        changes = [
            (
                str(form[name].label),
                _shown(existing, name),
                _shown(contract, name),
            )
            for name in form.changed_data
        ]
    contract._history_user = user
    # Its history is written with the others' in one go (`_write_history`).
    contract.skip_history_when_saving = True
    try:
        contract.save()
    finally:
        del contract.skip_history_when_saving
    contract._history_date = timezone.now()
    outcome = "created" if existing is None else "updated"
    return outcome, contract, new_supplier, warning, changes


_MONEY = {"value", "annual_value", "irrecoverable_vat"}


def _shown(contract: Contract, name: str) -> str:
    """A contract's detail as the contract page shows it, for a list of changes."""
    if name == "social_value_weighting" and contract.social_value_weighting is not None:
        return f"{contract.social_value_weighting.normalize():f}%"
    display = getattr(contract, f"get_{name}_display", None)
    value = display() if display is not None else getattr(contract, name)
    if value is None or value == "":
        return "blank"
    if isinstance(value, date):
        return f"{value.day} {value:%B %Y}"
    if isinstance(value, Decimal):
        return gbp(value) if name in _MONEY else f"{value:,}"
    text = " ".join(str(value).split())
    return text if len(text) <= 80 else text[:79] + "…"


def _write_history(saved: list[tuple[str, Contract]], user, reason: str) -> None:
    """The history records of the contracts created and updated, each as its own
    save would have written it (who, when, what), with the file it came from,
    in two bulk inserts."""
    for outcome, update in (("created", False), ("updated", True)):
        contracts = [c for o, c in saved if o == outcome]
        if contracts:
            Contract.history.bulk_history_create(
                contracts,
                update=update,
                default_user=user,
                default_change_reason=reason,
                batch_size=500,
            )


# --- Undoing an import -------------------------------------------------------------


def snapshot(contract: Contract) -> dict[str, object]:
    """A contract's details that an import sets, as JSON: what `undo` compares
    (changed since?) and puts back."""
    from procure.forms import ContractRowForm

    details = {}
    for name in ContractRowForm.Meta.fields:
        value = getattr(contract, Contract._meta.get_field(name).attname)
        if isinstance(value, Decimal | date):
            value = str(value)
        details[name] = value
    return details


def _record(
    council, file_name: str, user, saved, before, sha256: str = ""
) -> RegisterImport:
    """The import's record: each contract's details as saved (read back, so they
    compare with what a later read gives), and the updated ones' before."""
    ids = [contract.pk for _, contract in saved]
    after = {c.pk: snapshot(c) for c in Contract.objects.filter(pk__in=ids)}
    return RegisterImport.objects.create(
        council=council,
        file_name=file_name[:255],
        sha256=sha256,
        imported_by=user,
        created=[
            {"id": c.pk, "after": after[c.pk]} for o, c in saved if o == "created"
        ],
        updated=[
            {"id": c.pk, "before": before[c.pk], "after": after[c.pk]}
            for o, c in saved
            if o == "updated"
        ],
    )


class UndoRefused(Exception):
    """The import cannot be undone; the message says why, naming the contracts."""


def undo_blockers(record: RegisterImport) -> list[str]:
    """Why the import cannot be undone now ([] if it can): it was undone already,
    or undoing would lose or garble work done since: a contract it added or
    updated edited or imported again; one it updated deleted (one it added,
    deleted since, is skipped: the undo would delete it); a contract it added given social
    value commitments, KPIs or hand decisions on payments (linked or taken off),
    which would be deleted with it; a contract whose supplier it changed given
    payments by hand since; the supplier a contract had before gone from the
    register; a contract it updated that its old details would leave where the
    contract form would not (back in the pipeline with social value delivered or
    payments linked by hand, or dates outside its social value commitments or
    returns: `_would_not_fit`). A supplier merged since is not a change: the
    contract follows it."""
    if record.undone_at is not None:
        return ["It has already been undone."]
    from procure.models import HandLink

    entries = [*record.created, *record.updated]
    held = {
        c.pk: c
        for c in Contract.objects.filter(
            council=record.council, pk__in=[e["id"] for e in entries]
        ).annotate(
            has_commitments=Exists(Commitment.objects.filter(contract=OuterRef("pk"))),
            has_kpis=Exists(ContractKPI.objects.filter(contract=OuterRef("pk"))),
            has_hand_links=Exists(HandLink.objects.filter(contract=OuterRef("pk"))),
        )
    }
    kept_as = _merged_into(
        {e["after"]["supplier"] for e in entries}
        | {e["before"]["supplier"] for e in record.updated}
    )
    gone, changed, edited, kept, handled, lost = [], [], [], [], [], []
    added = {e["id"] for e in record.created}
    for entry in entries:
        contract = held.get(entry["id"])
        if contract is None:
            # One it added, deleted since, is what the undo would do anyway
            # (QA: one deleted contract blocked the undo for good); one it
            # updated cannot be put back.
            if entry["id"] not in added:
                gone.append(str(entry["after"]["reference"]))
            continue
        after = dict(entry["after"])
        after["supplier"] = kept_as.get(after["supplier"], after["supplier"])
        now = snapshot(contract)
        if now != after:
            # Named with what changed, so it can be put back (QA).
            fields = get_text_list(
                [_field_words(name) for name in after if now.get(name) != after[name]],
                "and",
            )
            (edited if entry["id"] in added else changed).append(
                f"{contract.reference} ({fields})" if fields else contract.reference
            )
    for entry in record.created:
        contract = held.get(entry["id"])
        if contract is not None and (
            contract.has_commitments or contract.has_kpis or contract.has_hand_links
        ):
            kept.append(contract.reference)
    for entry in record.updated:
        contract = held.get(entry["id"])
        before = entry["before"]["supplier"]
        if contract is None:
            continue
        if before is not None and kept_as.get(before, before) is None:
            lost.append(contract.reference)
        if before != entry["after"]["supplier"] and contract.has_hand_links:
            handled.append(contract.reference)
    reasons = []
    if changed:
        reasons.append(
            f"{_listed(changed)} {_has(changed)} been changed since (edited, or "
            "imported again): undoing would lose that."
        )
    if edited:
        them = "it" if len(edited) == 1 else "them"
        reasons.append(
            f"{_listed(edited)}, added by the import, {_has(edited)} been changed "
            f"since (edited, or imported again): undoing would delete {them} and "
            f"lose that. To undo the import, first delete {them} (“Delete this "
            f"contract” on the contract's page), or put back the details the "
            f"import gave {them}."
        )
    if gone:
        reasons.append(
            f"{_listed(gone)}, updated by the import, {_has(gone)} been deleted "
            "since: undoing cannot put "
            f"{'it' if len(gone) == 1 else 'them'} back as before."
        )
    if kept:
        reasons.append(
            f"{_listed(kept)}, added by the import, now {_has(kept)} social value "
            "commitments, KPIs or payments linked or taken off by hand, which "
            f"undoing would delete with {'it' if len(kept) == 1 else 'them'}."
        )
    if handled:
        reasons.append(
            f"{_listed(handled)} {_has(handled)} payments linked or taken off by "
            "hand since the import gave "
            f"{'it' if len(handled) == 1 else 'them'} another supplier: put back "
            "on the supplier before, those decisions would no longer fit."
        )
    if lost:
        reasons.append(
            f"The supplier {_listed(lost)[0].lower()}{_listed(lost)[1:]} had before "
            "the import has been "
            "deleted from the register since."
        )
    return reasons + _would_not_fit(record, held)


def _would_not_fit(record: RegisterImport, held: dict[int, Contract]) -> list[str]:
    """Why contracts the import updated cannot be put back as they were: the
    contract form would not let an officer save them so, and the undo must not
    either (review: it wrote the old details straight to the database). By the
    facts the form's rules read (`ContractForm._not_back_to_the_pipeline` and
    `_social_value_still_fits`): a contract put back in the pipeline that has
    social value delivery returns, or payments linked to it by hand; old dates
    that would leave its social value commitments or returns outside them.
    A few queries for the whole import, not a form per contract."""
    from socialvalue.models import DeliveryReturn
    from spend.models import SpendLine

    pipeline = ContractStatus.PIPELINE
    to_pipeline: list[Contract] = []
    redated: dict[int, tuple[Contract, date, date | None]] = {}
    for entry in record.updated:
        contract = held.get(entry["id"])
        if contract is None:
            continue
        before = entry["before"]
        if before["status"] == pipeline and (
            contract.status != pipeline or before["supplier"] != contract.supplier_id
        ):
            to_pipeline.append(contract)
        old = {
            name: date.fromisoformat(before[name]) if before[name] else None
            for name in ("start_date", "end_date", "extension_end_date")
        }
        if old["start_date"] and any(
            old[name] != getattr(contract, name) for name in old
        ):
            last = old["extension_end_date"] or old["end_date"]
            redated[contract.pk] = (contract, old["start_date"], last)
    reasons = []
    if to_pipeline:
        ids = [c.pk for c in to_pipeline]
        returns = dict(
            DeliveryReturn.objects.filter(commitment__contract_id__in=ids)
            .values("commitment__contract_id")
            .annotate(n=Count("pk"))
            .values_list("commitment__contract_id", "n")
        )
        payments = dict(
            SpendLine.objects.filter(contract_id__in=ids, contract_link_manual=True)
            .values("contract_id")
            .annotate(n=Count("pk"))
            .values_list("contract_id", "n")
        )
        for contract in to_pipeline:
            reason = _back_in_the_pipeline(
                contract, returns.get(contract.pk, 0), payments.get(contract.pk, 0)
            )
            if reason:
                reasons.append(reason)
    if redated:
        items: dict[int, list[tuple[str, str, date, date]]] = defaultdict(list)
        for c in Commitment.objects.filter(contract_id__in=redated).select_related(
            "measure"
        ):
            items[c.contract_id].append(
                (
                    f"the commitment to {c.measure.code} ({c.period})",
                    "commitment",
                    c.period_start,
                    c.period_end,
                )
            )
        for d in DeliveryReturn.objects.filter(
            commitment__contract_id__in=redated
        ).select_related("commitment__measure"):
            items[d.commitment.contract_id].append(
                (
                    f"the delivery return for {d.period} (commitment to "
                    f"{d.commitment.measure.code})",
                    "return",
                    d.period_start,
                    d.period_end,
                )
            )
        for pk, (contract, start, last) in redated.items():
            outside = sorted(
                (
                    item
                    for item in items[pk]
                    if item[2] < start or (last is not None and item[3] > last)
                ),
                key=lambda item: (item[2], item[0]),
            )
            if outside:
                reasons.append(_outside_old_dates(contract, start, last, outside))
    return reasons


def _back_in_the_pipeline(contract: Contract, returns: int, payments: int) -> str:
    from procure.forms import awarded_by

    held, steps = awarded_by(returns, payments)
    if not held:
        return ""
    return (
        f"Contract {contract.reference} was in the pipeline (not yet awarded) "
        f"before the import, and now has {held}: undoing would put "
        "it back in the pipeline, which an awarded contract cannot be. Keep the "
        f"import, or, if the contract was never awarded, first {steps}."
    )


def _outside_old_dates(
    contract: Contract, start: date, last: date | None, outside: list[tuple]
) -> str:
    names = [item[0] for item in outside[:3]]
    if len(outside) > 3:
        names.append(f"{len(outside) - 3} more")
    listed = get_text_list(names, "and")
    dates = f"from {_day(start)} to {_day(last)}" if last else f"from {_day(start)}"
    one = len(outside) == 1
    return (
        f"Contract {contract.reference} ran {dates} before the import: undoing "
        f"would put those dates back, and {listed} would then fall outside them. "
        f"To undo the import, first change or remove {'it' if one else 'them'} on "
        "the contract's social value page, or keep the import."
    )


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _has(references: list[str]) -> str:
    return "has" if len(references) == 1 else "have"


def _merged_into(supplier_ids: set[int | None]) -> dict[int, int | None]:
    """For each supplier id, the supplier it is now: itself, the one it was merged
    into (through every merge since), or None where it has been deleted."""
    ids = {pk for pk in supplier_ids if pk is not None}
    found: dict[int, int | None] = {}
    parent = dict(
        Supplier.objects.filter(pk__in=ids).values_list("pk", "merged_into_id")
    )
    for pk in ids:
        if pk not in parent:
            found[pk] = None
            continue
        current = pk
        seen = {current}
        while parent.get(current):
            current = parent[current]
            if current in seen:  # never expected: a merge loop
                break
            seen.add(current)
            if current not in parent:
                parent.update(
                    Supplier.objects.filter(pk=current).values_list(
                        "pk", "merged_into_id"
                    )
                )
        found[pk] = current
    return found


def _field_words(name: str) -> str:
    """A contract field as people read it ("whole-life value"), from its name
    in an import's record (one since renamed: its name)."""
    try:
        label = str(Contract._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name.replace("_", " ")
    return re.sub(r"\s*\(.*?\)", "", label)


def _listed(references: list[str]) -> str:
    """ "Contract C-1", "Contracts C-1, C-2 and C-3", "… and 4 more" past ten."""
    more = len(references) - 10
    shown = references[:10] + ([f"{more} more"] if more > 0 else [])
    contracts = "Contract" if len(references) == 1 else "Contracts"
    return f"{contracts} {get_text_list(shown, 'and')}"


def undo(record: RegisterImport, user) -> tuple[int, int]:
    """Undo the import: delete the contracts it added, put those it updated back
    as they were (on the supplier they had, or the one it has been merged into),
    and link the payments again by the rule, once, each move recorded on the
    contracts. Suppliers it added stay in the register. Raises `UndoRefused`
    (`undo_blockers`) when it cannot. Returns (deleted, put back).

    The council's row is locked first, as an import of its register does, so an
    import cannot save a contract from a copy read before the undo."""
    from procure.linking import deletion_reason, drop_hand_links, relink_suppliers
    from procure.models import HandLink

    with transaction.atomic():
        Council.objects.select_for_update().filter(pk=record.council_id).first()
        record = RegisterImport.objects.select_for_update().get(pk=record.pk)
        ids = [e["id"] for e in [*record.created, *record.updated]]
        held = {
            c.pk: c
            for c in Contract.objects.select_for_update().filter(
                council=record.council, pk__in=ids
            )
        }
        reasons = undo_blockers(record)
        if reasons:
            raise UndoRefused(" ".join(reasons))
        reason = f"Undoing the import of {record.file_name}"
        suppliers = {c.supplier_id for c in held.values() if c.supplier_id}
        kept_as = _merged_into({e["before"]["supplier"] for e in record.updated})
        for entry in record.updated:
            contract = held[entry["id"]]
            for name, value in entry["before"].items():
                model_field = Contract._meta.get_field(name)
                if name == "supplier" and value is not None:
                    value = kept_as[value]
                setattr(contract, model_field.attname, model_field.to_python(value))
            contract._history_user = user
            contract._change_reason = reason
            contract.save()
            suppliers.add(contract.supplier_id)
        # Those deleted since are skipped: deleting them was the undo's job.
        added = [held[e["id"]] for e in record.created if e["id"] in held]
        for contract in added:
            contract._history_user = user
            contract._change_reason = reason
            contract._relinked_by_caller = True  # once, below, not per contract
            # No payment is linked to them by hand, nor taken off them (that
            # stops the undo): nothing for the delete signals to look up.
            contract._released_lines = []
        # Out of the linking rule's reach before it runs (no supplier: they
        # cover no payment), so the payments they held are recorded as moved
        # from them, by reference, not as having had no contract (QA). Their
        # deletion's history keeps the supplier they had (these copies).
        for chunk in _chunks({c.pk for c in added}):
            Contract.objects.filter(pk__in=chunk).update(supplier=None)
        suppliers.discard(None)
        moved = []
        if suppliers:
            moved = relink_suppliers(
                suppliers,
                cause=f"when the register import of “{record.file_name}” was undone",
                user=user,
            )
        # Where the payments of each contract deleted went, in its deletion's
        # reason too: the same words as the record of the moves, which stays
        # once the contract is gone (audit: it went with it).
        deleting = {c.pk: c for c in added}
        for change in moved:
            if change.contract_id in deleting and change.lines_lost:
                contract = deleting[change.contract_id]
                contract._change_reason = deletion_reason(reason, change.what)
        # Those linked by hand stop the undo; any linked since it looked go,
        # each in their history, as a contract's deletion takes them.
        for chunk in _chunks(set(deleting)):
            drop_hand_links(
                HandLink.objects.filter(contract_id__in=chunk),
                user=user,
                reason=reason,
            )
        # Deleted together, as Model.delete deletes one: what goes with them
        # in a query per kind, not per contract; the history of their links
        # stays, no longer linked to them (`ContractLinkChange.contract_reference`
        # still names them).
        collector = Collector(using=router.db_for_write(Contract), origin=None)
        collector.collect(added)
        collector.delete()
        record.undone_at = timezone.now()
        record.undone_by = user
        record._history_user = user
        record.save()
    return len(added), len(record.updated)


def _report_links(report: Report, result) -> None:
    """What linking the imported contracts to the council's payments did: the
    payments newly linked, and those taken from another contract."""
    references = dict(
        Contract.objects.filter(
            pk__in={pk for move in result.moves for pk in move[:2] if pk}
        ).values_list("pk", "reference")
    )
    for before, after, lines, amount in result.moves:
        if after is None:
            if before is not None:  # taken off, onto no contract (QA: unsaid)
                report.unlinked.append(
                    (references[before], lines, amount or Decimal(0))
                )
            continue
        if before is None:
            report.spend_lines_linked += lines
            report.amount_linked += amount or 0
        else:
            report.moved.append(
                (references[before], references[after], lines, amount or Decimal(0))
            )


def _is_total_row(row: list[object], cells: dict[str, object]) -> bool:
    """A total or summary row: a cell labelled as the spend importer's total rows
    are ("Total", "Sub total", "Grand total", "Total value") and no reference and
    no title (other than that label). A row with a reference or a title is never
    one, whatever its other cells say."""
    for name in ("reference", "title"):
        text = _text(cells, name)
        if text and not _is_total_label(text):
            return False
    return any(type(c) is str and _is_total_label(c) for c in row)


def _cell(row: list[object], index: int) -> object:
    return row[index] if index < len(row) else None


def _text(cells: dict[str, object], name: str) -> str:
    return unneutralise(clean_text(cells.get(name))) if name in cells else ""


def _values(cells: dict[str, object], today: date) -> tuple[dict, list[str]]:
    """The row's values in the contract form's terms, or _Rejected."""
    values: dict[str, object] = {}
    for name in ("reference", "title", "department", "ocid"):
        if name in cells:
            values[name] = _text(cells, name)
    if "description" in cells:
        values["description"] = unneutralise(str(cells["description"] or "").strip())
    if not values.get("reference"):
        raise _Rejected("reference", "the contract reference is empty")
    if "title" in cells and not values["title"]:
        raise _Rejected("title", "the contract title is empty")
    for name in ("start_date", "end_date", "review_date", "extension_end_date"):
        if name in cells and _text(cells, name):
            try:
                values[name] = parse_date(cells[name], today=today)
            except CellError as error:
                raise _Rejected(name, str(error)) from error
        elif name in cells:
            values[name] = None
    if any(name in cells for name in ("value", "value_high", "value_low")):
        values["value"] = _value(cells)
    for name in ("annual_value", "irrecoverable_vat"):
        if name in cells:
            values[name] = _amount(cells, name)
    if "award_method" in cells:
        values["award_method"] = _award_method(_text(cells, "award_method"))
    bare: list[str] = []
    if "cpv_codes" in cells:
        codes = split_codes(_text(cells, "cpv_codes"))
        kept = [c for c in codes if not _BARE_CPV.match(c)]
        bare = [c for c in codes if _BARE_CPV.match(c)]
        values["cpv_codes"] = ", ".join(kept)
    if "route" in cells:
        values["route"] = _route(_text(cells, "route"))
    if _text(cells, "status"):
        values["status"] = _status(_text(cells, "status"))
    supplier = _text(cells, "supplier_name").split("|")[0].strip()
    values["supplier_name"] = supplier
    values["company_number"] = _company_number(_text(cells, "company_number"))
    values["company_number_given"] = _text(cells, "company_number")  # as written
    return values, bare


def _bare_cpv_words(codes: list[str], rows: int) -> str:
    """The CPV codes left out for want of their check digit, said once. The
    digit is not worked out here: LocalSpend holds no CPV list to take it from
    (QA: Contracts Finder's export writes every code without it)."""
    different = len(set(codes))
    kinds = f" ({different:,} different)" if different < len(codes) else ""
    return (
        f"{len(codes):,} CPV code{pluralize(len(codes))}{kinds} on {rows:,} "
        f"row{pluralize(rows)} {pluralize(len(codes), 'has,have')} no check digit "
        "(45000000 rather than 45000000-7), as Contracts Finder's exports write "
        "them, so they are left out; the rest of each row is imported. To keep "
        "them, add each code with its check digit (from the CPV list) on the "
        "contract's page, or in the file before importing it."
    )


def _value(cells: dict[str, object]):
    """The whole-life value; else the top, then the bottom, of an estimated range
    (where 0 means "not stated", as in Contracts Finder)."""
    for name in ("value", "value_high", "value_low"):
        amount = _amount(cells, name)
        if amount is not None and (name == "value" or amount > 0):
            return amount
    return None


def _amount(cells: dict[str, object], name: str) -> Decimal | None:
    """The column's amount, None when blank or not in the file, or _Rejected."""
    if not _text(cells, name):
        return None
    try:
        return parse_amount(cells[name])
    except CellError as error:
        raise _Rejected(name, str(error)) from error


def _award_method(text: str) -> str:
    """The Transparency Code's "tendered or quoted": blank, or one of the two."""
    word = _norm(text)
    if not word:
        return ""
    for method in AwardMethod:
        if word in (method.value, _norm(method.label)):
            return method.value
    raise _Rejected(
        "award_method",
        f'"{text}" is neither "Tendered" nor "Quoted": write one of them, or '
        "leave the cell blank",
    )


def _status(text: str) -> str:
    word = _norm(text)
    if word in _WITHDRAWN:
        raise _Rejected("status", f"a {text.lower()} notice is not a contract")
    for status, words in _STATUS_WORDS.items():
        # Its label too, as LocalSpend's own download writes it ("Pipeline (not
        # yet awarded)": QA, the contracts list's CSV imported again).
        if word in words or word == _norm(ContractStatus(status).label):
            return status
    raise _Rejected(
        "status",
        f'"{text}" is not a status LocalSpend knows: use pipeline (or open, '
        "planned), active (or awarded, live) or ended (or expired)",
    )


def _route(text: str) -> str:
    words = _norm(text)
    for fragment, route in _ROUTES:
        if fragment in words:
            return route
    return ""


def _company_number(text: str) -> str:
    number = tidy_company_number(text)
    # As the supplier form checks one (QA: "ABC" and "XX123456" were taken).
    if number and not is_company_number(number):
        raise _Rejected(
            "company_number",
            f'"{text}" is not a Companies House number (8 digits, like 01234567, '
            "or 2 letters and 6 digits, like SC123456)",
        )
    return number


def _supplier(
    values: dict, held: _Held, existing: Contract | None = None
) -> tuple[Supplier | None, str]:
    """The register's supplier for the row and a warning about it (or ""): the
    supplier the contract already has when the row names it (by its name, and
    its company number if the row gives one), else by company number, then by
    name (the register, then this council's aliases), else a new unverified one
    (unsaved).

    A number is taken only when the row's name agrees with it (QA: "Ashcroft
    Print Ltd" with Amber Cleaning Limited's number was attached to Amber
    Cleaning): a name that is another supplier's, or is clearly unlike the
    number's supplier's name, rejects the row (`_number_and_name`)."""
    number, name = values["company_number"], values["supplier_name"]
    if not name and not number:
        return None, ""
    held_now = existing.supplier if existing is not None else None
    if (
        held_now is not None
        and name
        and normalise_name(name) == held_now.normalised_name
        and (not number or number == held_now.company_number)
    ):
        # Its own supplier, not another of the same name (QA: a download of
        # the register imported again gave "Chiltern Cleaning Ltd"'s contract
        # to "Chiltern Cleaning Limited", a verified supplier of that name,
        # and moved its payments).
        return _unmerged(held_now), ""
    named = None
    if name and not is_redacted(name):
        norm = normalise_name(name)
        named = held.made.get(norm) or held.by_name.get(norm)
        if named is None and norm in held.by_alias:
            named = _unmerged(held.by_alias[norm])
    numbered = held.by_number.get(number) if number else None
    if numbered is not None:
        numbered = _unmerged(numbered)
        return numbered, _number_and_name(values, numbered, named)
    if named is not None:
        return named, _other_number(values, named)
    if not name or is_redacted(name):
        return None, ""
    return Supplier(name=name[:300], company_number=number, verified=False), ""


def _number_and_name(values: dict, numbered: Supplier, named: Supplier | None) -> str:
    """Check the row's supplier name against the supplier its company number
    found: "" when they agree, a warning when the names are only somewhat alike
    (a trading name, an abbreviation), else _Rejected naming both values."""
    name = values["supplier_name"]
    if not name or is_redacted(name) or named == numbered:
        return ""
    given = values["company_number_given"] or values["company_number"]
    likeness = _likeness(normalise_name(name), normalise_name(numbered.name))
    if likeness == _ALIKE:
        # Two suppliers of one name (one not yet merged): the number decides.
        return ""
    todo = (
        "Correct the company number, or the supplier name if the contract is "
        f'with "{numbered.name}".'
    )
    if named is not None:
        theirs = (
            f" (company number {named.company_number})" if named.company_number else ""
        )
        raise _Rejected(
            "supplier_name",
            f'the supplier name "{name}" and the company number {given} point to '
            f'different suppliers: {given} is the company number of "{numbered.name}", '
            f'and "{name}" is the supplier "{named.name}"{theirs}. {todo}',
            also="company_number",
        )
    if likeness == _UNLIKE:
        raise _Rejected(
            "supplier_name",
            f'the company number {given} is that of "{numbered.name}", whose name '
            f'is unlike the supplier name "{name}". {todo}',
            also="company_number",
        )
    return (
        f'the company number {given} is that of "{numbered.name}", whose name is '
        f'only somewhat like the supplier name "{name}" (a trading name or an '
        f'abbreviation?): the contract goes to "{numbered.name}". If that is '
        "wrong, correct the company number or the supplier name in the file."
    )


def _other_number(values: dict, named: Supplier) -> str:
    """A warning when the row's company number (found for no supplier) is not
    the number held for the supplier its name found; else ""."""
    number = values["company_number"]
    if not number or not named.company_number or named.company_number == number:
        return ""
    given = values["company_number_given"] or number
    return (
        f'the supplier name "{values["supplier_name"]}" is "{named.name}", whose '
        f"company number is {named.company_number}, not {given}: the contract "
        f'goes to "{named.name}" by its name. Check the company number.'
    )


_ALIKE, _SOMEWHAT, _UNLIKE = "alike", "somewhat alike", "unlike"
_INITIALS_SKIPPED = frozenset({"ltd", "plc", "llp", "co", "cic", "and", "of", "the"})


def _distinctive(name: str) -> str:
    return " ".join(w for w in name.split() if w not in GENERIC_WORDS)


def _likeness(first: str, second: str) -> str:
    """How alike two normalised supplier names are, judged conservatively on
    their distinctive (not generic) words: alike ("Green Spaces Ltd" and "Green
    Spaces (Luton) Limited"), unlike ("Ashcroft Print Ltd" and "Amber Cleaning
    Limited": no distinctive word in common, the first ones unlike, neither the
    other's initials, under 60 on rapidfuzz's ratio run together), else somewhat
    alike (a trading name, an abbreviation, a misspelling)."""
    a, b = _distinctive(first), _distinctive(second)
    if first == second or a.replace(" ", "") == b.replace(" ", ""):
        return _ALIKE
    if not a or not b:  # only generic words: nothing to go on
        return _SOMEWHAT
    shared = fuzz.token_set_ratio(a, b)
    held_a, held_b = distinctive_words_held(a, b), distinctive_words_held(b, a)
    agree = distinctive_words_agree(a, b)
    if held_a and held_b and (shared >= 90 or (shared >= 80 and agree)):
        return _ALIKE
    if held_a or held_b or agree or _initials_of(first, second):
        return _SOMEWHAT
    if fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")) >= 60:
        return _SOMEWHAT
    return _UNLIKE


def _initials_of(first: str, second: str) -> bool:
    """Is one name (one word) the other's initials ("BT", "British Telecoms")?"""

    def initials(name: str) -> set[str]:
        words = [w for w in name.split() if w not in _INITIALS_SKIPPED]
        return {
            "".join(w[0] for w in words),
            "".join(w[0] for w in _distinctive(name).split()),
        } - {""}

    for one, other in ((first, second), (second, first)):
        words = [w for w in one.split() if w not in _INITIALS_SKIPPED]
        if len(words) == 1 and len(words[0]) >= 2 and words[0] in initials(other):
            return True
    return False


def _unmerged(supplier: Supplier) -> Supplier:
    while supplier.merged_into_id:
        supplier = supplier.merged_into
    return supplier


def _form_data(
    existing: Contract | None, values: dict, supplier: Supplier | None, today: date
) -> dict:
    """The form's data: the contract as it is (or the defaults), with the file's
    columns laid over it. Columns the file does not have are left as they are."""
    from procure.forms import ContractRowForm

    names = ContractRowForm.Meta.fields
    if existing is not None:
        data: dict[str, object] = model_to_dict(existing, fields=names)
    else:
        end = values.get("end_date")
        ended = isinstance(end, date) and end < today
        data = {"status": ContractStatus.ENDED if ended else ContractStatus.ACTIVE}
    for name in names:
        # A blank cell leaves a held contract's value as it is: only what the
        # file gives is changed (QA: a blank CPV cell wiped the codes held).
        if name in values and (existing is None or values[name] not in ("", None)):
            data[name] = values[name]
    if existing is not None:
        # The same reference written another way ("lbc-001" for "LBC-001"): the
        # register keeps its spelling, so a re-import changes nothing for it.
        data["reference"] = existing.reference
        if values.get("status") == existing.current_status:
            # The status as LocalSpend shows it (and downloads it): "Ended" for
            # an active contract past its end date. Not a change to record (QA:
            # a download imported again recorded such contracts as ended, and
            # an extension entered afterwards left them so).
            data["status"] = existing.status
    if supplier is not None:
        data["supplier"] = supplier.pk
    return {k: ("" if v is None else v) for k, v in data.items()}
