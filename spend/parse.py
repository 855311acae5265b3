"""A spend file → payment lines, rejected rows and skipped summary rows.

Pure Python, no database: `spend.importer` saves what this returns. Every data row
of the file lands in exactly one bucket (a line, a rejection or a skipped row), so
rows read = lines + rejected + skipped, and the same holds for amounts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

from spend.reading import (
    FIELDS,
    Block,
    FileRefused,
    find_blocks,
    guess_columns,
    layout_key,
    read_sheets,
    recognise_columns,
)
from spend.values import (
    CellError,
    clean_text,
    is_redacted,
    normalise_name,
    parse_amount,
    parse_date,
)

REQUIRED = ("payment_date", "amount", "supplier_name")
FIELD_LABELS = {
    "payment_date": "Payment date",
    "amount": "Amount",
    "supplier_name": "Supplier",
    "department": "Department",
    "service_area": "Service area",
    "expense_type": "Expense type",
    "description": "Description",
    "transaction_ref": "Transaction reference",
    "council_supplier_id": "Council's supplier ID",
    "vat_number": "VAT number",
    "postcode": "Postcode",
    "irrecoverable_vat": "Irrecoverable VAT",
    "procurement_category": "Procurement category",
}
# Longest text each field may hold (the SpendLine columns).
MAX_LENGTHS = {
    "supplier_name": 300,
    "department": 200,
    "service_area": 200,
    "expense_type": 200,
    "description": 500,
    "transaction_ref": 100,
    "council_supplier_id": 50,
    "vat_number": 20,
    "postcode": 10,
    "procurement_category": 200,
}
TEXT_FIELDS = tuple(MAX_LENGTHS)
_TOTAL_LABEL = re.compile(
    r"^\s*(grand\s+|sub[\s-]?)?totals?(\s+(spend|payments|amount|for .*))?\s*:?\s*$",
    re.IGNORECASE,
)
FUTURE_GRACE = timedelta(days=31)


@dataclass
class BlockPlan:
    """How one block of the file will be read: shown on the preview page."""

    sheet: str
    header: list[str] | None
    header_row: int | None
    width: int
    layout: str
    columns: dict[str, int]
    source: str  # recognised, remembered, guessed or chosen
    notes: list[str]
    row_count: int
    sample: list[list[str]]

    @property
    def missing(self) -> list[str]:
        return [name for name in REQUIRED if name not in self.columns]

    @cached_property
    def text_columns(self) -> list[tuple[str, int, int]]:
        """(field, column, longest length) of each mapped text field but supplier."""
        return [
            (name, self.columns[name], MAX_LENGTHS[name])
            for name in TEXT_FIELDS
            if name != "supplier_name" and name in self.columns
        ]

    @property
    def column_names(self) -> list[str]:
        """Each column's heading, or its spreadsheet letter where it has none."""
        header = self.header or []
        return [
            header[i]
            if i < len(header) and header[i]
            else f"Column {_column_letter(i)}"
            for i in range(self.width)
        ]

    def column_label(self, index: int) -> str:
        """A column as a person sees it: its header, or its spreadsheet letter."""
        letter = _column_letter(index)
        if self.header and index < len(self.header) and self.header[index]:
            return f'{letter} "{self.header[index]}"'
        return f"column {letter}"


@dataclass
class Problem:
    """A row that was not imported, and why: rejected, or skipped as a total."""

    kind: str  # "rejected" or "skipped"
    sheet: str
    row: int
    column: str
    value: str
    message: str
    amount: Decimal | None = None
    cells: list[list[str]] = field(default_factory=list)


@dataclass
class Line:
    source_sheet: str
    source_row: int
    payment_date: date
    amount: Decimal
    supplier_name: str
    redacted: bool
    normalised_name: str
    line_key: str
    irrecoverable_vat: Decimal | None = None
    text: dict[str, str] = field(default_factory=dict)


@dataclass
class ParsedFile:
    file_name: str
    blocks: list[BlockPlan]
    lines: list[Line] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    file_stated_total: Decimal | None = None
    blank_rows: int = 0

    @property
    def rows_read(self) -> int:
        return len(self.lines) + len(self.rejected) + len(self.skipped)

    @property
    def amount_lines(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0"))


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def plan_file(
    data: bytes, file_name: str, remembered: Mapping[str, dict[str, int]] | None = None
) -> tuple[list[BlockPlan], list[Block]]:
    """Read the file and decide how to map each block's columns.

    A mapping the council confirmed before for the same layout wins; then the
    columns recognised from the header; with no header, columns guessed from the
    values. Raises FileRefused for files that are not spend transactions.
    """
    remembered = remembered or {}
    blocks = [
        block for sheet in read_sheets(data, file_name) for block in find_blocks(sheet)
    ]
    blocks = [block for block in blocks if block.rows]
    if not blocks:
        raise FileRefused(f'"{file_name}" has no rows of data under its header.')
    plans = [_plan_block(block, remembered) for block in blocks]
    return plans, blocks


def _plan_block(block: Block, remembered: Mapping[str, dict[str, int]]) -> BlockPlan:
    width = max(len(row) for row in block.rows)
    if block.header:
        width = max(width, len(block.header))
    layout = layout_key(block.header, width)
    if layout in remembered:
        columns, source, notes = dict(remembered[layout]), "remembered", []
        notes.append("Columns mapped as this council confirmed for this layout before.")
    elif block.header is not None:
        mapping = recognise_columns(block.header)
        columns, source, notes = mapping.columns, "recognised", mapping.notes
    else:
        mapping = guess_columns(block.rows)
        columns, source, notes = mapping.columns, "guessed", mapping.notes
    columns = {name: index for name, index in columns.items() if 0 <= index < width}
    sample = [
        [clean_text(cell) for cell in row[:width]] + [""] * (width - len(row))
        for row in block.rows[:5]
    ]
    return BlockPlan(
        sheet=block.sheet,
        header=block.header,
        header_row=block.header_row,
        width=width,
        layout=layout,
        columns=columns,
        source=source,
        notes=notes,
        row_count=len(block.rows),
        sample=sample,
    )


def _has_date_column(plan: BlockPlan) -> bool:
    """Does any column of the sample rows hold dates, whatever its heading?"""
    for index in range(plan.width):
        values = [row[index] for row in plan.sample if row[index]]
        if values and sum(_is_date(v) for v in values) * 2 > len(values):
            return True
    return False


def _is_date(value: str) -> bool:
    try:
        parse_date(value, today=date.today())
    except CellError:
        return False
    return not value.replace(".", "").isdigit()  # a bare number is not a date here


def refuse_summaries(plans: list[BlockPlan], file_name: str) -> None:
    """Refuse a summary of totals per supplier: amounts and names, but no dates."""
    for plan in plans:
        if (
            "payment_date" not in plan.columns
            and {"amount", "supplier_name"} <= set(plan.columns)
            and not _has_date_column(plan)
        ):
            where = f' (sheet "{plan.sheet}")' if plan.sheet != file_name else ""
            raise FileRefused(
                f'"{file_name}"{where} has no payment dates: it looks like a summary of '
                "totals per supplier, not a list of payments. Upload the file that lists "
                "each payment with its date."
            )


def refuse_unusable(plans: list[BlockPlan], file_name: str) -> None:
    """Refuse a file whose columns cannot make payment lines, saying why."""
    refuse_summaries(plans, file_name)
    for plan in plans:
        where = f'sheet "{plan.sheet}"' if plan.sheet != file_name else "the file"
        if plan.missing:
            names = ", ".join(FIELD_LABELS[name].lower() for name in plan.missing)
            found = ", ".join(f'"{h}"' for h in (plan.header or []) if h) or "none"
            raise FileRefused(
                f'"{file_name}": no {names} column was found in {where} (columns '
                f"found: {found}). Choose the columns on the preview page."
            )


def parse_file(
    data: bytes,
    file_name: str,
    *,
    remembered: Mapping[str, dict[str, int]] | None = None,
    chosen: Mapping[str, dict[str, int]] | None = None,
    today: date,
    progress: Callable[[int], None] | None = None,
) -> ParsedFile:
    """Read every data row of the file into a line, a rejection or a skipped row.

    `chosen` holds mappings an officer set on the preview page, by layout; they win
    over `remembered` ones. Raises FileRefused when the file cannot be imported.
    """
    plans, blocks = plan_file(data, file_name, {**(remembered or {}), **(chosen or {})})
    for plan in plans:
        if chosen and plan.layout in chosen:
            plan.source = "chosen"
    refuse_unusable(plans, file_name)
    parsed = ParsedFile(file_name=file_name, blocks=plans)
    done = 0
    for plan, block in zip(plans, blocks, strict=True):
        parsed.blank_rows += block.blank_rows
        _parse_block(plan, block, parsed, today, progress, done)
        done += len(block.rows)
        if progress:
            progress(done)
    if not parsed.lines and not parsed.rejected:
        raise FileRefused(f'"{file_name}" has no payment rows: only totals or notes.')
    return parsed


PROGRESS_EVERY = 5000


def _parse_block(
    plan: BlockPlan,
    block: Block,
    parsed: ParsedFile,
    today: date,
    progress: Callable[[int], None] | None,
    done_before: int,
) -> None:
    stated: Decimal | None = None
    for count, (row, number) in enumerate(
        zip(block.rows, block.row_numbers, strict=True), start=1
    ):
        if progress and count % PROGRESS_EVERY == 0:
            progress(done_before + count)
        outcome = _parse_row(plan, row, number, today)
        if isinstance(outcome, Line):
            parsed.lines.append(outcome)
        elif outcome.kind == "skipped":
            parsed.skipped.append(outcome)
            if outcome.amount is not None:
                stated = outcome.amount  # the last total in a block is its total
        else:
            parsed.rejected.append(outcome)
    if stated is not None:
        parsed.file_stated_total = (parsed.file_stated_total or Decimal(0)) + stated


def _cell(row: list[object], index: int | None) -> object:
    if index is None or index >= len(row):
        return None
    return row[index]


def _cells_of(plan: BlockPlan, row: list[object]) -> list[list[str]]:
    return [
        [
            plan.header[i]
            if plan.header and i < len(plan.header)
            else _column_letter(i),
            clean_text(cell),
        ]
        for i, cell in enumerate(row)
        if i < plan.width
    ]


def _parse_row(plan: BlockPlan, row: list[object], number: int, today: date):
    columns = plan.columns
    raw_date = _cell(row, columns["payment_date"])
    raw_amount = _cell(row, columns["amount"])
    supplier = clean_text(_cell(row, columns["supplier_name"]))
    date_text = clean_text(raw_date)
    summary = _summary_reason(row, date_text, supplier, raw_amount)
    if summary:
        return Problem(
            "skipped",
            plan.sheet,
            number,
            "",
            "",
            summary,
            _amount_or_none(raw_amount),
            _cells_of(plan, row),
        )

    def reject(field_name: str, value: object, message: str) -> Problem:
        return Problem(
            "rejected",
            plan.sheet,
            number,
            plan.column_label(columns[field_name]),
            clean_text(value)[:500],
            message,
            _amount_or_none(raw_amount),
            _cells_of(plan, row),
        )

    try:
        amount = parse_amount(raw_amount)
    except CellError as error:
        return reject("amount", raw_amount, f"Amount: {error}")
    try:
        paid = parse_date(raw_date, today=today)
    except CellError as error:
        return reject("payment_date", raw_date, f"Payment date: {error}")
    if paid > today + FUTURE_GRACE:
        return reject(
            "payment_date", raw_date, f"Payment date: {paid:%d/%m/%Y} is in the future"
        )
    if not supplier:
        return reject("supplier_name", supplier, "Supplier: the supplier name is empty")
    return _make_line(plan, row, number, paid, amount, supplier)


def _summary_reason(
    row: list[object], date_text: str, supplier: str, raw_amount: object
) -> str:
    """Why a row is a total or note rather than a payment, or "" if it is not."""
    labels = (cell for cell in row if type(cell) is str and "otal" in cell.lower())
    if any(_TOTAL_LABEL.match(clean_text(label)) for label in labels):
        return "Total row: not a payment"
    if not date_text and not supplier:
        if clean_text(raw_amount):
            return "Unlabelled total row (no date or supplier): not a payment"
        return "Note row (no date, supplier or amount): not a payment"
    return ""


def _amount_or_none(value: object) -> Decimal | None:
    try:
        return parse_amount(value)
    except CellError:
        return None


def _make_line(
    plan: BlockPlan,
    row: list[object],
    number: int,
    paid: date,
    amount: Decimal,
    supplier: str,
) -> Line:
    text = {}
    for name, index, length in plan.text_columns:
        value = clean_text(row[index]) if index < len(row) else ""
        if value == "NA" or value == "na":  # Trafford's way of writing "none"
            value = ""
        text[name] = value if len(value) <= length else _fit(value, length)
    vat_index = plan.columns.get("irrecoverable_vat")
    vat = None if vat_index is None else _amount_or_none(_cell(row, vat_index))
    redacted = is_redacted(supplier)
    normalised = "" if redacted else normalise_name(supplier)
    key = "|".join(
        [
            paid.isoformat(),
            str(amount),
            normalised or supplier.casefold(),
            text.get("transaction_ref", ""),
        ]
    )
    return Line(
        source_sheet=plan.sheet[:100],
        source_row=number,
        payment_date=paid,
        amount=amount,
        supplier_name=_fit(supplier, MAX_LENGTHS["supplier_name"]),
        redacted=redacted,
        normalised_name=normalised[:300],
        line_key=hashlib.md5(key.encode(), usedforsecurity=False).hexdigest(),
        irrecoverable_vat=vat,
        text=text,
    )


def _fit(value: str, length: int) -> str:
    return value if len(value) <= length else value[: length - 1] + "…"


__all__ = [
    "FIELDS",
    "BlockPlan",
    "FileRefused",
    "Line",
    "ParsedFile",
    "Problem",
    "parse_file",
    "plan_file",
]
