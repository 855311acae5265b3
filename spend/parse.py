"""A spend file → payment lines, rejected rows and skipped summary rows.

Pure Python, no database: `spend.importer` saves what this returns. Every data row
of the file lands in exactly one bucket (a line, a rejection or a skipped row), so
rows read = lines + rejected + skipped, and the same holds for amounts.

Lines come out while the file is read, in batches (`LineReader.batches`), so a
million-row file never exists as a million objects: a CSV file is read row by row
from its text, and each line is a small tuple carrying its row for PostgreSQL's COPY
ready-made (see `LineRecord`).
"""

from __future__ import annotations

import csv
import hashlib
import operator
import re
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property, partial
from itertools import compress, count, islice, repeat, takewhile
from operator import itemgetter

from spend.export import unneutralise
from spend.reading import (
    FIELDS,
    FILE_ROW_COLUMN,
    TEXT_SUFFIXES,
    Block,
    CsvText,
    FileRefused,
    Sheet,
    clean_header,
    find_blocks,
    guess_columns,
    has_content,
    has_data_above,
    is_blank_row,
    is_body_heading,
    is_header_row,
    is_headerless,
    is_localspend_column,
    layout_key,
    looks_like_value,
    open_sheets,
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
    parse_plain_amounts,
    point_before_three_digits,
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
# No spend file pays before this (it is also the earliest Excel date number read);
# a payment in year 1 had no financial year and stopped the import.
EARLIEST_PAYMENT = date(1990, 1, 1)


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
            header[i] if i < len(header) and header[i] else f"Column {column_letter(i)}"
            for i in range(self.width)
        ]

    @property
    def heading_cells(self) -> list[tuple[str, list[str]]]:
        """Each column's heading (`column_names`) with the items proposed from it,
        for the preview's sample table."""
        fields: dict[int, list[str]] = {}
        for name in FIELD_LABELS:
            if name in self.columns:
                fields.setdefault(self.columns[name], []).append(FIELD_LABELS[name])
        return [(text, fields.get(i, [])) for i, text in enumerate(self.column_names)]

    def column_label(self, index: int) -> str:
        """A column as a person sees it: its header, or its spreadsheet letter."""
        letter = column_letter(index)
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


# One payment line: (line_key, payment_date, amount, normalised supplier name or ""
# when the payee is redacted, COPY row). The COPY row holds COPY_COLUMNS in
# PostgreSQL's COPY text format: tab-separated, backslashes doubled, \N for NULL,
# no newline; the importer adds the council, the upload and the supplier.
LineRecord = tuple[str, date, Decimal, str, str]
KEY, PAID, AMOUNT, SUPPLIER, COPY_ROW = range(5)
COPY_TEXT_FIELDS = TEXT_FIELDS[1:]  # all but supplier_name, in this order
COPY_COLUMNS = (
    "source_row",
    "payment_date",
    "amount",
    "supplier_name",
    "redacted",
    *COPY_TEXT_FIELDS,
    "source_sheet",
    "irrecoverable_vat",
    "line_key",
)


@dataclass
class ParsedFile:
    """What was read besides the lines: filled in while the lines are read."""

    file_name: str
    blocks: list[BlockPlan]
    line_count: int = 0
    rejected: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    file_stated_total: Decimal | None = None
    blank_rows: int = 0
    # Each block's (plan, stated total or None, its lines' sum, its line count).
    totals: list[tuple[BlockPlan, Decimal | None, Decimal, int]] = field(
        default_factory=list
    )
    # Rows read as payments though a cell reads "Total": (where, column, label).
    labelled_payments: list[tuple[str, str, str]] = field(default_factory=list)
    # Amounts like "1.234", read as pounds and rounded: (where, text, as read).
    rounded_amounts: list[tuple[str, str, str]] = field(default_factory=list)
    # In a corrected download of rejected rows, the line keys of rows with no
    # "LocalSpend: file row": rows the officer added, not ones it rejected
    # (`spend.importer.HeldLines.split`).
    added_rows: Counter[str] = field(default_factory=Counter)
    rows_added: int = 0  # how many, all told

    def rounded_note(self) -> str:
        """A warning on amounts like "1.234": read as pounds (£1.23), which a file
        exported with continental number settings means as £1,234."""
        found = self.rounded_amounts
        if not found:
            return ""
        where, text, read = found[0]
        count = len(found)
        return (
            f"{count:,} amount{'s' if count != 1 else ''} {AMOUNTS_ROUNDED} "
            f"{'were' if count != 1 else 'was'} rounded to the penny (the first: "
            f"{where}, “{text}” read as £{read}). If a point in "
            "them separates thousands (£1,234 written “1.234”), export the file "
            "again with UK number settings and upload that instead."
        )

    def labelled_note(self) -> str:
        """A warning on payments with a "Total" label in a cell (an expense type,
        say): read as payments, as they have a date and a payee, but worth a
        look in case one is a total after all."""
        found = self.labelled_payments
        if not found:
            return ""
        where, column, label = found[0]
        count = len(found)
        return (
            f"{count:,} row{'s were' if count != 1 else ' was'} {TOTAL_LABEL_PAID} "
            "a cell "
            f"reads “{label}”, as {'each has' if count != 1 else 'it has'} a date "
            f"and a payee (the first: {where}, column {column}). Check that "
            f"{'none is a total' if count != 1 else 'it is not a total'} of the rows "
            "above."
        )

    def check_stated_totals(self) -> None:
        """The file's stated total: the sum of its blocks' totals where every block
        of payments states one. Where only some do, each is checked against its
        own payments in a note, and the file's total is left unknown."""
        parts = self._parts()
        stated = [total for _, total, _, _ in parts if total is not None]
        if not stated:
            return
        paying = [total for _, total, _, lines in parts if lines]
        sheets = len({plan.sheet for plan, _, _, _ in parts}) > 1
        if None not in paying or not any(t is not None for t in paying):
            # Every part with payments states its total, or only a part with no
            # payments does (a grand total of its own): the file's total. Each
            # part of several that its payments do not come to is named (QA: a
            # file-wide mismatch alone did not say which sheet).
            self.file_stated_total = sum(stated, Decimal(0))
            if len(paying) > 1:
                for plan, total, amount, lines in parts:
                    if total is not None and lines and total != amount:
                        where, states = _part(plan, sheets)
                        self.notes.append(
                            f"{where} {states} a total of {_pounds(total)}, "
                            f"{PART_TOTAL_DIFFERS}{_pounds(amount)}."
                        )
            return
        for plan, total, amount, lines in parts:
            if total is None or not lines:
                continue
            where, states = _part(plan, sheets)
            agrees = (
                "which matches its payments to the penny"
                if total == amount
                else f"{PART_TOTAL_DIFFERS}{_pounds(amount)}"
            )
            self.notes.append(
                f"{where} {states} a total of {_pounds(total)}, {agrees}. The other "
                "parts of the file state no total, so the file's total is not "
                "checked as a whole."
            )

    def _parts(self) -> list[tuple[BlockPlan, Decimal | None, Decimal, int]]:
        """The blocks, as parts stating their totals: blocks of one sheet that
        state none, followed by one whose total is theirs and its own together,
        are one part (QA: a heading row repeated mid-file split the file in two,
        and its grand total was said not to match the rows after the repeat)."""
        parts, run = [], []
        for entry in self.totals:
            plan, total, amount, lines = entry
            if total is None:
                run.append(entry)
                continue
            if run and all(other.sheet == plan.sheet for other, *_ in run):
                whole = sum((a for _, _, a, _ in run), amount)
                if total == whole and total != amount:
                    count = sum(n for *_, n in run) + lines
                    parts.append((run[0][0], total, whole, count))
                    run = []
                    continue
            parts += run
            run = []
            parts.append(entry)
        return parts + run

    @property
    def rows_read(self) -> int:
        return self.line_count + len(self.rejected) + len(self.skipped)


REMEMBERED_NOTE = "Columns mapped as this council confirmed for this layout before."
# A part of the file states a total its payments do not come to (a warning).
PART_TOTAL_DIFFERS = "but its payments come to "
# Rows read as payments though a cell reads "Total" (a warning).
TOTAL_LABEL_PAID = "read as payments although"
# Amounts with three decimal places, like "1.234", rounded (a warning).
AMOUNTS_ROUNDED = "with three decimal places"
# The file names another body than the council it was uploaded to (a warning).
OTHER_BODY = "check you are uploading to the right council"
CHOSEN_NOTE = "Columns mapped as chosen on the preview page."


def _part(plan: BlockPlan, sheets: bool) -> tuple[str, str]:
    """A part of the file, named in a note (its sheet, or where its header is),
    and "states" as it takes it."""
    if sheets:
        return f'Sheet "{plan.sheet}"', "states"
    return f"The rows under the header on row {plan.header_row}", "state"


def _pounds(amount: Decimal) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"


def column_letter(index: int) -> str:
    """0-based column index -> its spreadsheet letters: 0 -> A, 27 -> AB."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


@dataclass
class ColumnsUsed:
    """Which of a layout's columns each field was read from, and the columns not
    read at all, as a person sees them (`B "Net Amount"`, `column D`)."""

    used: list[tuple[str, str]]  # (field label, column)
    unused: list[str]


def header_of_layout(layout: str) -> tuple[list[str] | None, int]:
    """The headings (lower-cased) and width a layout key stands for, where only
    the key was kept (`layout_key`)."""
    if is_headerless(layout):
        return None, int(layout.removeprefix("no-header:") or 0)
    names = layout.split("|")
    return names, len(names)


def columns_used(
    header: list[str] | None, width: int, columns: Mapping[str, int]
) -> ColumnsUsed:
    """Describe a mapping of `columns` (field -> 0-based index) onto a layout of
    `width` columns headed `header` (None: no header row). A column with no
    heading is listed as unused only in a file with no header row: under a header
    an unheaded column is a spacer."""
    header = header or None

    def label(index: int) -> str:
        letter = column_letter(index)
        if header and index < len(header) and header[index]:
            return f'{letter} "{header[index]}"'
        return f"column {letter}"

    used = [
        (FIELD_LABELS[name], label(columns[name]))
        for name in FIELD_LABELS
        if name in columns
    ]
    taken = set(columns.values())
    unused = [
        label(index)
        for index in range(width)
        if index not in taken
        and (header is None or (index < len(header) and header[index]))
        and not (header and is_localspend_column(header[index]))
    ]
    return ColumnsUsed(used=used, unused=unused)


def columns_read(mappings: list[dict], file_name: str) -> list[dict]:
    """For an upload's result page and `import_spend`: each layout of the file
    (`mappings`, as an upload keeps them), in file order, with its sheets, how its
    columns were chosen and which column each field came from."""
    layouts: dict[str, dict] = {}
    for block in mappings:
        layout = block.get("layout", "")
        # A CSV's one "sheet" is the file itself: not named.
        sheet = block.get("sheet", "")
        sheets = [sheet] if sheet and sheet != file_name else []
        if layout in layouts:
            held = layouts[layout]["sheets"]
            held.extend(name for name in sheets if name not in held)
            continue
        header, width = header_of_layout(layout)
        if "width" in block:
            header, width = block["header"], block["width"]
        layouts[layout] = {
            "sheets": sheets,
            # A CSV unzipped from a ZIP is named by its file name: a file, not a sheet.
            "of_a_file": bool(sheets) and sheet.lower().endswith(TEXT_SUFFIXES),
            "source": block.get("source", ""),
            "has_header": bool(header),
            "columns": columns_used(header, width, block.get("columns", {})),
        }
    return list(layouts.values())


def plan_file(
    data: bytes, file_name: str, remembered: Mapping[str, dict[str, int]] | None = None
) -> tuple[list[BlockPlan], list[Block]]:
    """Read the file and decide how to map each block's columns.

    A mapping the council confirmed before for the same layout wins; then the
    columns recognised from the header; with no header, columns guessed from the
    values. Raises FileRefused for files that are not spend transactions.
    """
    remembered = remembered or {}
    sheets = read_sheets(data, file_name)
    blocks = [block for sheet in sheets for block in find_blocks(sheet)]
    blocks = [block for block in blocks if block.rows]
    if not blocks:
        raise FileRefused(f'"{file_name}" has no rows of data under its header.')
    plans = [_plan_block(block, remembered) for block in blocks]
    keep, notes = payment_sheets(
        plans, {sheet.name for sheet in sheets if sheet.hidden}
    )
    plans = [plans[at] for at in keep]
    plans[0].notes[:0] = notes  # shown with the first block on the preview page
    return plans, [blocks[at] for at in keep]


def payment_sheets(
    plans: list[BlockPlan], hidden: set[str]
) -> tuple[list[int], list[str]]:
    """Which blocks of a workbook to read (their indexes), and notes on the sheets
    left out. A sheet with no payment dates (notes, a summary of totals, a list of
    codes) is left out, as is a hidden sheet, so long as another sheet holds
    payments: a workbook of only such sheets is read whole, to be refused with the
    reason. Each sheet left out is named, with its rows, never skipped silently."""
    sheets = list(dict.fromkeys(plan.sheet for plan in plans))
    everything = list(range(len(plans)))
    if len(sheets) < 2:
        return everything, []

    def dated(sheet: str) -> bool:
        return any(_could_hold_payments(plan) for plan in plans if plan.sheet == sheet)

    payments = [sheet for sheet in sheets if dated(sheet)]
    read = [sheet for sheet in payments if sheet not in hidden] or payments
    if not read:
        return everything, []
    notes = [
        f'Sheet "{sheet}" is hidden in the workbook; its rows were read, as no '
        "sheet on show holds payments."
        for sheet in read
        if sheet in hidden
    ]
    for sheet in sheets:
        if sheet in read:
            continue
        rows = sum(plan.row_count for plan in plans if plan.sheet == sheet)
        counted = f"{rows:,} row{'s' if rows != 1 else ''}"
        if sheet in payments:
            notes.append(
                f'Sheet "{sheet}" ({counted}) was left out: it is hidden in the '
                "workbook. If its rows are payments to import, unhide it in Excel "
                "and upload the file again."
            )
        else:
            notes.append(
                f'Sheet "{sheet}" ({counted}) was left out: it has no payment '
                "dates, so it is not a list of payments (notes or a summary, "
                "perhaps)."
            )
    keep = [at for at, plan in enumerate(plans) if plan.sheet in read]
    return keep, notes


def _plan_block(block: Block, remembered: Mapping[str, dict[str, int]]) -> BlockPlan:
    width = max(len(row) for row in block.rows)
    if block.header:
        width = max(width, len(block.header))
        # Columns with no heading and nothing in any row, after the last one used
        # (a sheet formatted far to the right), are not offered as columns.
        while (
            width
            and (width > len(block.header) or not block.header[width - 1])
            and not any(
                width <= len(row) and has_content(row[width - 1]) for row in block.rows
            )
        ):
            width -= 1
    layout = layout_key(block.header, width)
    if layout in remembered:
        columns, source, notes = dict(remembered[layout]), "remembered", []
        notes.append(REMEMBERED_NOTE)
    elif block.header is not None:
        mapping = recognise_columns(block.header)
        columns, source, notes = mapping.columns, "recognised", mapping.notes
    else:
        mapping = guess_columns(block.rows)
        columns, source, notes = mapping.columns, "guessed", mapping.notes
    columns = {name: index for name, index in columns.items() if 0 <= index < width}
    sample = _sample_of(block.rows[:SAMPLE_ROWS], width)
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


SAMPLE_ROWS = 5  # the first rows of a block, shown on the preview page


def _sample_of(rows: list[list[object]], width: int) -> list[list[str]]:
    """The sample of a block's first rows: `width` cells of text each (blank
    rows left out, as `find_blocks` leaves them out of a block)."""
    return [
        [clean_text(cell) for cell in row[:width]] + [""] * (width - len(row))
        for row in rows
        if not is_blank_row(row)
    ]


def _has_date_column(plan: BlockPlan) -> bool:
    """Does any column of the sample rows hold dates, whatever its heading?"""
    for index in range(plan.width):
        values = [row[index] for row in plan.sample if row[index]]
        if values and sum(_is_date(v) for v in values) * 2 > len(values):
            return True
    return False


def _could_hold_payments(plan: BlockPlan) -> bool:
    """Room for a date, a payee and an amount (three columns at least), and dates
    in it: a sheet of notes with a publication date in it holds no payments."""
    return plan.width >= 3 and (
        "payment_date" in plan.columns or _has_date_column(plan)
    )


def _is_date(value: str) -> bool:
    try:
        parse_date(value, today=date.today())
    except CellError:
        return False
    return not value.replace(".", "").isdigit()  # a bare number is not a date here


def refuse_summaries(plans: list[BlockPlan], file_name: str) -> None:
    """Refuse a summary of totals per supplier (amounts and names, but no dates),
    and a file with no header row in which no column holds dates or amounts
    (prose, a letter saved as text): neither is a list of payments."""
    for plan in plans:
        if (
            plan.header is None
            and not {"payment_date", "amount"} & set(plan.columns)
            and not _has_date_column(plan)
        ):
            where = f' (sheet "{plan.sheet}")' if plan.sheet != file_name else ""
            raise FileRefused(
                f'"{file_name}"{where} does not look like a list of payments: it has no '
                "row of column headings, and no column holds dates or amounts. Upload "
                "the spend file itself (CSV or Excel)."
            )
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


# Words of a council's name that tell no council from another ("Borough",
# "North"), and abbreviations of its kind ("MBC").
_BODY_KIND_WORDS = frozenset(
    (
        "a and the of upon on under in council borough district county city"
        " metropolitan london royal unitary authority corporation combined greater"
        " north south east west central mid cyngor sir dinas bwrdeistref sirol"
        " bc dc cc mbc lbc rbc cbc mdc"
    ).split()
)


def _body_words(text: str) -> set[str]:
    """The words of a body's name that tell it apart, casefolded: ``Craven
    District Council`` -> {"craven"}; none in a code such as ``18``."""
    words = re.sub(r"[^\w]+|_", " ", text.casefold().replace("&", " and ")).split()
    return {
        word
        for word in words
        if word not in _BODY_KIND_WORDS and not any(ch.isdigit() for ch in word)
    }


def _initials(name: str) -> set[str]:
    """A council's name in initials, as a file may write it: "LBC" for Luton
    Borough Council."""
    words = re.sub(r"[^\w]+|_", " ", name.casefold()).split()
    short = [word for word in words if word not in {"of", "the", "and", "upon"}]
    return {"".join(w[0] for w in ws) for ws in (words, short) if len(ws) > 1}


def other_body_note(plans: list[BlockPlan], council_names: Iterable[str]) -> str:
    """A warning where a column that names the body publishing the file
    (`is_body_heading`: "Body Name", "Organisation") names, in the plans' sample
    rows, a body whose name shares no telling word with the council's
    (`council_names`: its name and short name): a file of another council, most
    likely uploaded to the wrong one. "" where it names this council, or no body
    (a code such as Devon's "18", an empty column), or has no such column."""
    ours: set[str] = set()
    initials: set[str] = set()
    for name in council_names:
        ours |= _body_words(name or "")
        initials |= _initials(name or "")
    sheets = len({plan.sheet for plan in plans}) > 1
    found = ""
    for plan in plans:
        for index, heading in enumerate(plan.header or []):
            if not is_body_heading(heading):
                continue
            for row in plan.sample:
                value = row[index] if index < len(row) else ""
                words = _body_words(value)
                if not any(len(word) > 2 for word in words):
                    continue  # no name: a code, a placeholder, "Council"
                if words & ours or words & initials:
                    return ""  # the file names this council
                if not found:
                    where = f', sheet "{plan.sheet}"' if sheets else ""
                    found = (
                        f"This file says it is {_fit(value, 100)}'s spend (column "
                        f'"{heading}"{where}): {OTHER_BODY}.'
                    )
    return found


def parse_file(
    data: bytes,
    file_name: str,
    *,
    remembered: Mapping[str, dict[str, int]] | None = None,
    chosen: Mapping[str, dict[str, int]] | None = None,
    today: date,
    progress: Callable[[int], None] | None = None,
) -> tuple[ParsedFile, list[LineRecord]]:
    """Read every data row of the file into a line, a rejection or a skipped row.

    The whole file at once; `LineReader` gives the same lines batch by batch.
    """
    reader = LineReader(
        data,
        file_name,
        remembered=remembered,
        chosen=chosen,
        today=today,
        progress=progress,
    )
    lines = [line for batch in reader.batches() for line in batch]
    return reader.parsed, lines


PROGRESS_EVERY = 5000
BATCH = 512  # lines handed over at a time


class LineReader:
    """Reads a spend file's lines, batch by batch, without holding them all.

    Iterate `batches()`; `parsed` holds the block plans, rejected and skipped rows,
    counts and totals, complete once the batches are exhausted. `chosen` holds
    mappings an officer set on the preview page, by layout; they win over
    `remembered` ones. `batches()` raises FileRefused when the file cannot be
    imported, possibly after some batches were handed over: a caller that saves
    as it goes must do so in a transaction.

    The lines, problems, plans and refusals are those `read_sheets`, `find_blocks`
    and `refuse_unusable` give for the whole file. A CSV file is read once, row by
    row, finding headers as they come; where a layout needs the whole sheet to be
    read right (no header, data above the first header, a remembered column beyond
    the header, columns that cannot be used) the rest of it is read into memory and
    goes the way of an Excel workbook: `find_blocks` over the rows.
    """

    def __init__(
        self,
        data: bytes,
        file_name: str,
        *,
        remembered: Mapping[str, dict[str, int]] | None = None,
        chosen: Mapping[str, dict[str, int]] | None = None,
        today: date,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.data = data
        self.file_name = file_name
        self.chosen = chosen or {}
        self.mappings = {**(remembered or {}), **self.chosen}
        self.today = today
        self.progress = progress
        self.parsed = ParsedFile(file_name=file_name, blocks=[])
        self.done = 0  # data rows worked through, for progress

    def batches(self) -> Iterator[list[LineRecord]]:
        sheets = open_sheets(self.data, self.file_name)
        if len(sheets) == 1 and isinstance(sheets[0], CsvText):
            yield from self._stream_csv(sheets[0])
        else:
            yield from self._whole_sheets([s for s in sheets if isinstance(s, Sheet)])
        parsed = self.parsed
        if not parsed.line_count and not parsed.rejected:
            raise FileRefused(
                f'"{self.file_name}" has no payment rows: only totals or notes.'
            )
        parsed.check_stated_totals()

    # ------------------------------------------------------------ whole sheets

    def _whole_sheets(self, sheets: list[Sheet]) -> Iterator[list[LineRecord]]:
        """Blocks found over whole sheets, as `plan_file` finds them."""
        blocks = [block for sheet in sheets for block in find_blocks(sheet)]
        blocks = [block for block in blocks if block.rows]
        if not blocks and not self.parsed.blocks:
            raise FileRefused(
                f'"{self.file_name}" has no rows of data under its header.'
            )
        plans = [_plan_block(block, self.mappings) for block in blocks]
        keep, notes = payment_sheets(
            plans, {sheet.name for sheet in sheets if sheet.hidden}
        )
        plans, blocks = [plans[at] for at in keep], [blocks[at] for at in keep]
        self.parsed.notes.extend(notes)
        for plan in plans:
            if plan.layout in self.chosen:
                plan.source = "chosen"
                plan.notes = [
                    CHOSEN_NOTE if note == REMEMBERED_NOTE else note
                    for note in plan.notes
                ]
        refuse_unusable([*self.parsed.blocks, *plans], self.file_name)
        self.parsed.blocks.extend(plans)
        for plan, block in zip(plans, blocks, strict=True):
            rows = _Rows(block.rows, block.row_numbers)
            yield from self._block(plan, rows, classify=False, blank=block.blank_rows)

    def _block(
        self,
        plan: BlockPlan,
        rows: _Rows,
        *,
        classify: bool,
        blank: int,
    ) -> Generator[list[LineRecord], None, tuple[int, list[object]] | None]:
        block = _BlockReader(plan, self.parsed, self.today)
        after = yield from block.read(rows, classify, self.progress, self.done)
        plan.row_count = block.count
        self.done += block.count
        if self.progress:
            self.progress(self.done)
        parsed = self.parsed
        parsed.blank_rows += blank + block.blank
        parsed.line_count += block.lines
        if block.lines or block.stated is not None:
            parsed.totals.append((plan, block.stated, block.amount, block.lines))
        return after

    # ------------------------------------------------------------- a CSV file

    def _stream_csv(self, csv_text: CsvText) -> Iterator[list[LineRecord]]:
        name = csv_text.name
        rows = _Rows(csv_text.records(), count(1), csv_text.refusal)
        above: list[list[object]] = []
        header: tuple[int, list[object]] | None = None
        for number, row in rows:
            if is_header_row(row):
                header = (number, row)
                break
            above.append(row)
        if header is None:  # no header anywhere
            numbers = list(range(1, len(above) + 1))
            yield from self._whole_sheets([Sheet(name, above, numbers)])
            return
        if has_data_above(above, header[1]):
            above.append(header[1])
            above.extend(rest for _, rest in rows)
            numbers = list(range(1, len(above) + 1))
            yield from self._whole_sheets([Sheet(name, above, numbers)])
            return
        del above
        while header is not None:
            header = yield from self._stream_block(name, header, rows)
        if not self.parsed.blocks:
            raise FileRefused(
                f'"{self.file_name}" has no rows of data under its header.'
            )

    def _stream_block(
        self,
        name: str,
        header_at: tuple[int, list[object]],
        rows: _Rows,
    ) -> Generator[list[LineRecord], None, tuple[int, list[object]] | None]:
        """Read the block under a header; return the next header row, if any."""
        blanks = []
        for number, row in rows:
            if is_blank_row(row):
                blanks.append((number, row))
            elif is_header_row(row):  # an empty block: left out, as plan_file does
                return number, row
            else:
                first = (number, row)
                break
        else:
            return None
        header_number, header_row = header_at
        header = [clean_header(cell) for cell in header_row]
        plan = self._plan_streamed(name, header, header_number)
        if plan is None:  # the rest of the sheet decides: read it all
            rest = [header_at, *blanks, first, *rows]
            sheet = Sheet(name, [r for _, r in rest], [n for n, _ in rest])
            yield from self._whole_sheets([sheet])
            return None
        self.parsed.blocks.append(plan)
        # Its first rows, as `plan_file` samples them (the body a file names is
        # looked for in them: `other_body_note`), then read like the rest.
        numbers, more = rows.take(SAMPLE_ROWS - 1)
        taken = [first[1], *more]
        block_rows = list(takewhile(lambda row: not is_header_row(row), taken))
        plan.sample = _sample_of(block_rows, plan.width)
        rows.put_back([first[0], *numbers], taken)
        return (yield from self._block(plan, rows, classify=True, blank=len(blanks)))

    def _plan_streamed(
        self, name: str, header: list[str], header_row: int
    ) -> BlockPlan | None:
        """`_plan_block` for a header block not read yet, or None where the plan
        would depend on rows below (a column beyond the header) or the file
        will be refused (`refuse_unusable` must see every block)."""
        width = len(header)
        layout = layout_key(header, width)
        if layout in self.mappings:
            columns, source = dict(self.mappings[layout]), "remembered"
            notes = [REMEMBERED_NOTE]
        else:
            mapping = recognise_columns(header)
            columns, source, notes = mapping.columns, "recognised", mapping.notes
        if any(index >= width for index in columns.values()):
            return None
        plan = BlockPlan(  # its sample rows are taken once it is to be read
            sheet=name,
            header=header,
            header_row=header_row,
            width=width,
            layout=layout,
            columns={n: index for n, index in columns.items() if 0 <= index},
            source="chosen" if layout in self.chosen else source,
            notes=[CHOSEN_NOTE] if layout in self.chosen else notes,
            row_count=0,  # counted as the rows are read
            sample=[],
        )
        return None if plan.missing else plan


class _Slow(Exception):
    """This cell needs the full checks of its row (see `_BlockReader`)."""


class _Rows:
    """Numbered rows, one at a time or a run at a time; rows taken can be put back."""

    def __init__(
        self,
        rows: Iterable[list[object]],
        numbers: Iterable[int],
        refusal: Callable[[csv.Error], FileRefused] | None = None,
    ) -> None:
        self.rows = iter(rows)
        self.numbers = iter(numbers)
        self.refusal = refusal  # for a CSV text that cannot be read
        self.back: tuple[list[int], list[list[object]]] = ([], [])

    def __iter__(self) -> _Rows:
        return self

    def __next__(self) -> tuple[int, list[object]]:
        numbers, rows = self.take(1)
        if not rows:
            raise StopIteration
        return numbers[0], rows[0]

    def take(self, count: int) -> tuple[list[int], list[list[object]]]:
        """The next `count` rows (fewer at the end) and their numbers."""
        numbers, rows = self.back
        if rows:
            self.back = (numbers[count:], rows[count:])
            numbers, rows = numbers[:count], rows[:count]
        try:
            more = list(islice(self.rows, count - len(rows)))
        except csv.Error as error:
            raise (error if self.refusal is None else self.refusal(error)) from error
        if more:
            rows = rows + more if rows else more
            numbers = numbers + list(islice(self.numbers, len(more)))
        return numbers, rows

    def put_back(self, numbers: list[int], rows: list[list[object]]) -> None:
        self.back = (numbers + self.back[0], rows + self.back[1])


RUN = 512  # rows looked at together by the short cut
_CACHE_LIMIT = 50_000  # entries per cache before it starts again
# Text made only of digits, dots, commas and minus signs, with a digit: it looks
# like a value (see reading.looks_like_value) and cannot be a total label.
_NUMERIC = re.compile(r"[-.,0-9]*[0-9][-.,0-9]*")
try:  # CPython's own MD5 is twice as fast as OpenSSL's on short texts
    from _md5 import md5 as _MD5
except ImportError:  # pragma: no cover
    _MD5 = partial(hashlib.md5, usedforsecurity=False)
_HEX = type(_MD5(b"")).hexdigest
_SEP = "\x1f"  # between cells joined to be searched at once


@dataclass
class _TextColumn:
    """A text field's column in a block, and what is known of its cells."""

    index: int
    length: int  # longest value kept
    cache: dict[str, str] = field(default_factory=dict)
    repeats: bool = True  # its cells repeat: worth looking up in the cache


def _row_added(row: list[object], file_row_at: int) -> bool:
    """Whether a row of a corrected download has no "LocalSpend: file row"."""
    cell = row[file_row_at] if file_row_at < len(row) else None
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _unneutralised(cell: object) -> object:
    if type(cell) is str and cell[:1] == "'":
        return unneutralise(cell)
    return cell


class _BlockReader:
    """The rows of one block → line records, rejected and skipped rows.

    `_row` applies the rules as written, one row at a time. The rows of a big file
    are mostly alike, so `read` first tries a short cut over runs of rows, a column
    at a time (`_short_cut`): a row takes it when each cell it needs passes every
    check on its own, which makes the row a payment line: a date that parses and is
    not in the future, an amount that parses and reads as a value (so the row is
    neither blank nor a header), a supplier that is not empty, no cell that is a
    total label. The values of repeated cells are kept in caches of cell text →
    value. Any other row (a cell that fails a check, a short row, a cell that is
    not text) takes `_row`. Both make the same record (see `_line`).
    """

    def __init__(self, plan: BlockPlan, parsed: ParsedFile, today: date) -> None:
        self.plan = plan
        self.parsed = parsed
        self.today = today
        self.latest = today + FUTURE_GRACE
        columns = plan.columns
        self.date_at = columns["payment_date"]
        self.amount_at = columns["amount"]
        self.supplier_at = columns["supplier_name"]
        self.vat_at = columns.get("irrecoverable_vat")
        self.text_format = "\t".join(
            "%s" if name in columns else "" for name in COPY_TEXT_FIELDS
        )
        mapped_texts = [name for name, _, _ in plan.text_columns]
        self.ref_slot = (
            mapped_texts.index("transaction_ref")
            if "transaction_ref" in mapped_texts
            else None
        )
        self.sheet = _copy_escape(plan.sheet[:100])
        self.sheet_tail = f"\t{self.sheet}\t"
        self.mapped = frozenset(columns.values())
        self.reach = max(self.mapped) + 1
        # A value beyond the header's last column (and beyond every mapped column)
        # means the row's values have shifted: an unquoted "£2,500.00" is split
        # in two. Such a row is rejected, never imported with the wrong amount.
        # With no header, the width most of the first rows have stands for it,
        # for the split amount alone: a row whose amount and the cell after it
        # read as one amount cut at its comma is rejected (QA: "1,750.00" became
        # £1.00 in a file read without a header). A value further along is not
        # a sign there (a last column some rows leave empty).
        self.split_only = plan.header is None
        # A download of rejected rows (its added "LocalSpend: …" columns), put
        # right and uploaded again: the apostrophe the download put before a
        # cell starting with = + - or @ comes off (QA: "+Plus Ltd" came back as
        # "'+Plus Ltd", and a credit note "- 520.00" was rejected again).
        self.ours = plan.header is not None and any(
            is_localspend_column(heading) for heading in plan.header
        )
        # Its rows with no "LocalSpend: file row" were not rejected: the
        # officer added them (the month's other payments pasted back in, QA).
        self.file_row_at = (
            next(
                (
                    at
                    for at, heading in enumerate(plan.header)
                    if isinstance(heading, str)
                    and heading.strip().casefold() == FILE_ROW_COLUMN.casefold()
                ),
                None,
            )
            if self.ours
            else None
        )
        self.overflow_at = max(
            len(plan.header) if plan.header is not None else _usual_width(plan),
            self.reach,
        )
        self.dates: dict[str, tuple[date, str]] = {}
        self.amounts: dict[str, tuple[Decimal, str]] = {}
        self.suppliers: dict[str, tuple[str, str, str, str]] = {}
        self.vats: dict[str, str] = {}
        self.texts = [
            _TextColumn(index, length) for _, index, length in plan.text_columns
        ]
        self.count = 0  # rows read: lines, rejected and skipped
        self.lines = 0
        self.blank = 0
        self.stated: Decimal | None = None  # the last total row's amount
        self.amount = Decimal(0)  # the block's lines' amounts, as handed over

    def read(
        self,
        rows: _Rows,
        classify: bool,
        progress: Callable[[int], None] | None,
        done_before: int,
    ) -> Generator[list[LineRecord], None, tuple[int, list[object]] | None]:
        """Yield the block's lines in batches. With `classify`, blank rows are
        counted and left out and a header row ends the block: it is returned."""
        batch: list[LineRecord] = []
        while True:
            numbers, run = rows.take(RUN)
            if not run:
                break
            added: list[bool] = []
            if self.ours:
                run = [list(map(_unneutralised, row)) for row in run]
                if self.file_row_at is not None:
                    added = [_row_added(row, self.file_row_at) for row in run]
            records = self._short_cut(numbers, run)
            if None not in records:
                batch += records
                self.lines += len(records)
                self._counted(len(records), progress, done_before)
            else:
                for at, record in enumerate(records):
                    if record is not None:
                        batch.append(record)
                        self.lines += 1
                        self._counted(1, progress, done_before)
                        continue
                    number, row = numbers[at], run[at]
                    if classify:
                        if is_blank_row(row):
                            self.blank += 1
                            continue
                        if is_header_row(row):
                            rows.put_back(numbers[at + 1 :], run[at + 1 :])
                            self._note_added(records[:at], added)
                            if batch:
                                yield self._summed(batch)
                            return number, row
                    self._counted(1, progress, done_before)
                    outcome = self._row(row, number)
                    if type(outcome) is tuple:
                        batch.append(outcome)
                        self.lines += 1
                        records[at] = outcome
                    else:
                        self._problem(outcome)
            self._note_added(records, added)
            if len(batch) >= BATCH:
                yield self._summed(batch)
                batch = []
        if batch:
            yield self._summed(batch)
        return None

    def _note_added(self, records: list, added: list[bool]) -> None:
        """Count the lines of rows the officer added to a corrected download."""
        if added:  # `records` may stop short of `added` (a header row met)
            keys = [
                record[KEY]
                for record, new in zip(records, added, strict=False)
                if new and record is not None
            ]
            self.parsed.added_rows.update(keys)
            self.parsed.rows_added += len(keys)

    def _summed(self, batch: list[LineRecord]) -> list[LineRecord]:
        self.amount += sum(map(itemgetter(AMOUNT), batch), Decimal(0))
        return batch

    def _counted(
        self, rows: int, progress: Callable[[int], None] | None, done_before: int
    ) -> None:
        """Count rows read; report progress every PROGRESS_EVERY rows of the block."""
        before, self.count = self.count, self.count + rows
        if progress:
            first = (before // PROGRESS_EVERY + 1) * PROGRESS_EVERY
            for mark in range(first, self.count + 1, PROGRESS_EVERY):
                progress(done_before + mark)

    def _where(self, number: int) -> str:
        """A row of the file, named in a note: with its sheet, if it has one."""
        if self.plan.sheet != self.parsed.file_name:
            return f'sheet "{self.plan.sheet}" row {number}'
        return f"row {number}"

    def _note_label(self, row: list[object], number: int) -> None:
        """A payment with a "Total" label in one of its cells: kept for a warning
        (`ParsedFile.labelled_note`)."""
        at = _total_label_at(row)
        if at is not None:
            self.parsed.labelled_payments.append(
                (self._where(number), self.plan.column_label(at), clean_text(row[at]))
            )

    def _problem(self, problem: Problem) -> None:
        if problem.kind == "skipped":
            self.parsed.skipped.append(problem)
            if problem.amount is not None:
                self.stated = problem.amount  # the last total in a block is its total
        else:
            self.parsed.rejected.append(problem)

    # --------------------------------------------------------- the short cut

    def _short_cut(
        self, numbers: list[int], rows: list[list[object]]
    ) -> list[LineRecord | None]:
        """The record of each row the short cut can take, None for the others."""
        lengths = list(map(len, rows))
        width = lengths[0]
        if lengths.count(width) == len(lengths):
            if width < self.reach:
                return [None] * len(rows)
            return self._columns(rows, numbers, width)
        # Rows of different lengths: the commonest length goes the short way.
        width = max(sorted(set(lengths)), key=lengths.count)
        records: list[LineRecord | None] = [None] * len(rows)
        if width < self.reach:
            return records
        alike = [at for at, length in enumerate(lengths) if length == width]
        found = self._columns(
            [rows[at] for at in alike], [numbers[at] for at in alike], width
        )
        for at, record in zip(alike, found, strict=True):
            records[at] = record
        return records

    def _columns(
        self, rows: list[list[object]], numbers: list[int], width: int
    ) -> list[LineRecord | None]:
        """`_short_cut` for rows of one width."""
        slow = bytearray(len(rows))  # 1: the row needs `_row`
        column = list(zip(*rows, strict=True))  # rows → columns
        for index in range(width):
            if index not in self.mapped:
                _mark_totals(column[index], slow)
        if width > self.overflow_at:
            # Longer than the header: `_row` checks for values moved along.
            for index in range(self.overflow_at, width):
                if self.split_only:
                    break
                for at, cell in enumerate(column[index]):
                    if cell != "" and has_content(cell):
                        slow[at] = 1
            if self.amount_at + 1 < width:
                pairs = zip(
                    column[self.amount_at], column[self.amount_at + 1], strict=True
                )
                for at, (amount, after) in enumerate(pairs):
                    if _split_thousands(amount, after):
                        slow[at] = 1
        amounts = self._amounts(column[self.amount_at], slow)
        dates = _values(column[self.date_at], self.dates, self._fast_date, slow)
        suppliers = _values(
            column[self.supplier_at], self.suppliers, self._fast_supplier, slow
        )
        texts = [self._texts(text, column[text.index], slow) for text in self.texts]
        vats: Iterable[str] = (
            repeat("\\N")
            if self.vat_at is None
            else _values(column[self.vat_at], self.vats, self._fast_vat, slow)
        )
        if any(slow):
            keep = [not flag for flag in slow]
            found = self._records(
                list(compress(numbers, keep)),
                list(compress(dates, keep)),
                list(compress(amounts, keep)),
                list(compress(suppliers, keep)),
                [list(compress(values, keep)) for values in texts],
                compress(vats, keep),
            )
            records: list[LineRecord | None] = [None] * len(rows)
            for at, record in zip(compress(range(len(rows)), keep), found, strict=True):
                records[at] = record
            return records
        return self._records(numbers, dates, amounts, suppliers, texts, vats)  # type: ignore[arg-type]

    def _records(
        self,
        numbers: list[int],
        dates: list[tuple[date, str]],
        amounts: list[tuple[Decimal, str]],
        suppliers: list[tuple[str, str, str, str]],
        texts: list[list[str]],
        vats: Iterable[str],
    ) -> list[LineRecord]:
        """`_line` for many rows at once."""
        day_texts = list(map(itemgetter(1), dates))
        amount_texts = list(map(itemgetter(1), amounts))
        refs = repeat("") if self.ref_slot is None else texts[self.ref_slot]
        key_names = map(itemgetter(3), suppliers)
        key_texts = zip(day_texts, amount_texts, key_names, refs, strict=False)
        keys = list(map(_HEX, map(_MD5, map(str.encode, map("|".join, key_texts)))))
        by_field = map(_copy_escaped, texts)
        text_columns = [
            next(by_field) if name in self.plan.columns else repeat("")
            for name in COPY_TEXT_FIELDS
        ]
        fields = zip(
            map(str, numbers),
            day_texts,
            amount_texts,
            _copy_escaped(list(map(itemgetter(0), suppliers))),
            map(itemgetter(1), suppliers),
            *text_columns,
            repeat(self.sheet),
            vats,
            keys,
            strict=False,
        )
        return list(
            zip(
                keys,
                map(itemgetter(0), dates),
                map(itemgetter(0), amounts),
                map(itemgetter(2), suppliers),
                map("\t".join, fields),
                strict=True,
            )
        )

    def _amounts(self, cells: list, slow: bytearray) -> list:
        """Amount cells → (amount, text); the plain ones ("1,234.56") in one go."""
        amounts = parse_plain_amounts(cells)
        values: list = list(zip(amounts, map(str, amounts), strict=True))
        if None in amounts:
            for at in _where_none(amounts):
                cell = cells[at]
                value = self.amounts.get(cell)
                if value is None:
                    try:
                        value = self._fast_amount(cell)
                    except _Slow:
                        slow[at] = 1
                values[at] = value
        return values

    def _texts(self, column: _TextColumn, cells: list, slow: bytearray) -> list:
        """A text column's values, as `_text_value` gives them."""
        cache = column.cache
        if column.repeats:
            values = list(map(cache.get, cells))
            if None not in values:
                return values
        found = _plain_texts(cells, column.length)
        if found is None:
            fast = partial(self._fast_text, cache=cache, length=column.length)
            return _values(cells, cache, fast, slow)
        if column.repeats:
            if len(set(cells)) * 2 > len(cells):
                column.repeats = False  # references and the like: no use caching
            else:
                if len(cache) + len(cells) > _CACHE_LIMIT:
                    cache.clear()
                cache.update(zip(cells, found, strict=True))
        return found

    def _fast_amount(self, raw: object) -> tuple[Decimal, str]:
        if type(raw) is not str or point_before_three_digits(raw):
            raise _Slow
        if not _NUMERIC.fullmatch(raw) and (
            _is_total_label(raw) or not (looks_like_value(raw) or len(raw) > 80)
        ):
            raise _Slow
        try:
            amount = parse_amount(raw)
        except CellError:
            raise _Slow from None
        return _remember(self.amounts, raw, (amount, str(amount)))

    def _fast_date(self, raw: object) -> tuple[date, str]:
        if type(raw) is not str or _is_total_label(raw):
            raise _Slow
        try:
            paid = parse_date(raw, today=self.today)
        except CellError:
            raise _Slow from None
        if paid > self.latest or paid < EARLIEST_PAYMENT:
            raise _Slow
        return _remember(self.dates, raw, (paid, paid.isoformat()))

    def _fast_supplier(self, raw: object) -> tuple[str, str, str, str]:
        if type(raw) is not str or _is_total_label(raw):
            raise _Slow
        supplier = clean_text(raw)
        if not supplier or _is_email(supplier):
            raise _Slow
        return _remember(self.suppliers, raw, _supplier_parts(supplier))

    def _fast_text(self, raw: object, cache: dict[str, str], length: int) -> str:
        if type(raw) is not str or _is_total_label(raw):
            raise _Slow
        return _remember(cache, raw, _text_value(raw, length))

    def _fast_vat(self, raw: object) -> str:
        if type(raw) is not str or _is_total_label(raw):
            raise _Slow
        return _remember(self.vats, raw, _vat_text(raw))

    # ------------------------------------------------------- the rules as written

    def _row(self, row: list[object], number: int) -> LineRecord | Problem:
        plan = self.plan
        columns = plan.columns
        raw_date = _cell(row, columns["payment_date"])
        raw_amount = _cell(row, columns["amount"])
        supplier = clean_text(_cell(row, columns["supplier_name"]))
        date_text = clean_text(raw_date)
        summary = _summary_reason(row, date_text, supplier, raw_amount)
        if not summary:
            self._note_label(row, number)
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

        if len(row) > self.overflow_at:
            shifted = self._shifted(row, number, raw_amount)
            if shifted is not None:
                return shifted
        try:
            amount = parse_amount(raw_amount)
        except CellError as error:
            return reject("amount", raw_amount, f"Amount: {error}")
        if point_before_three_digits(raw_amount):  # said: £1,234 perhaps
            self.parsed.rounded_amounts.append(
                (self._where(number), clean_text(raw_amount), f"{amount:,.2f}")
            )
        try:
            paid = parse_date(raw_date, today=self.today)
        except CellError as error:
            return reject("payment_date", raw_date, f"Payment date: {error}")
        if paid > self.latest:
            return reject(
                "payment_date",
                raw_date,
                f"Payment date: {paid:%d/%m/%Y} is in the future",
            )
        if paid < EARLIEST_PAYMENT:
            return reject(
                "payment_date",
                raw_date,
                f"Payment date: {paid.day:02d}/{paid.month:02d}/{paid.year:04d} is "
                f"before {EARLIEST_PAYMENT.year}: check the date",
            )
        if not supplier:
            return reject(
                "supplier_name", supplier, "Supplier: the supplier name is empty"
            )
        if _is_email(supplier):
            return reject(
                "supplier_name",
                supplier,
                "Supplier: an email address, not a supplier's name (is the "
                "supplier column the right one?)",
            )
        texts = tuple(
            _text_value(row[index] if index < len(row) else "", length)
            for _, index, length in plan.text_columns
        )
        vat_at = self.vat_at
        return self._line(
            number,
            (paid, paid.isoformat()),
            (amount, str(amount)),
            _supplier_parts(supplier),
            texts,
            "\\N" if vat_at is None else _vat_text(_cell(row, vat_at)),
        )

    def _shifted(
        self, row: list[object], number: int, raw_amount: object
    ) -> Problem | None:
        """A row longer than its header whose values have moved along: a value
        beyond the header's last column, or an amount split in two by an unquoted
        thousands comma ("£2" then "500.00"). Such a row is rejected: imported,
        it would hold the wrong amount or put values under the wrong headings."""
        plan = self.plan
        extra = next(
            (i for i in range(self.overflow_at, len(row)) if has_content(row[i])),
            None,
        )
        after = _cell(row, self.amount_at + 1)
        amount = _amount_or_none(raw_amount)
        if _split_thousands(raw_amount, after):
            at, value = self.amount_at, f"{clean_text(raw_amount)},{clean_text(after)}"
            amount = _amount_or_none(value)  # the amount as the file meant it
            message = (
                f"Amount: “{clean_text(raw_amount)}” and “{clean_text(after)}” look "
                f"like one amount ({value}) split by a comma without quotes around "
                "it, which shifts the row's other values along. Put the amount in "
                "quotes, or leave out the comma, and upload the row again"
            )
        elif extra is not None and not self.split_only:
            at, value = extra, row[extra]
            # Shifted along, its amount column may hold anything (QA: the "1.234"
            # of an unquoted "1.234,56" was counted as £1.23 rejected): unknown.
            amount = None
            message = (
                f"The row has more values than the header has columns (a value in "
                f"column {column_letter(extra)}, which has no heading): a comma "
                "in an amount or a name without quotes around it shifts the values "
                "along. Correct the row and upload it again"
            )
        else:
            return None
        return Problem(
            "rejected",
            plan.sheet,
            number,
            plan.column_label(at),
            clean_text(value)[:500],
            message,
            amount,
            _cells_of(plan, row),
        )

    def _line(
        self,
        number: int,
        paid: tuple[date, str],
        amount: tuple[Decimal, str],
        supplier: tuple[str, str, str, str],
        texts: tuple[str, ...],
        vat: str,
    ) -> LineRecord:
        """The line record; `texts` are the mapped text fields, in COPY order."""
        day, day_text = paid
        value, value_text = amount
        name, redacted, normalised, key_name = supplier
        ref = "" if self.ref_slot is None else texts[self.ref_slot]
        key = hashlib.md5(
            f"{day_text}|{value_text}|{key_name}|{ref}".encode(),
            usedforsecurity=False,
        ).hexdigest()
        row = (
            f"{number}\t{day_text}\t{value_text}\t{name}\t{redacted}\t"
            f"{self.text_format % texts}"
        )
        if "\\" in row:
            row = row.replace("\\", "\\\\")
        return key, day, value, normalised, f"{row}{self.sheet_tail}{vat}\t{key}"


_AMOUNT_HEAD = re.compile(r"\s*[-(]?\s*£?\s*-?\d{1,3}\s*")
_THOUSANDS_TAIL = re.compile(
    r"\s*\d{3}(?:,\d{3})*(?:\.\d{1,2})?\s*(?:\)|-|CR)?\s*", re.I
)


def _usual_width(plan: BlockPlan) -> int:
    """The width most of the block's first rows have, to their last value."""
    widths = Counter(
        max((i + 1 for i, cell in enumerate(row) if cell.strip()), default=0)
        for row in plan.sample
    )
    return widths.most_common(1)[0][0] if widths else plan.width


def _split_thousands(amount: object, after: object) -> bool:
    """Do `amount` and the cell after it read as one amount cut at its thousands
    comma: "£2" and "500.00", "(1" and "250.00)"?"""
    return (
        type(amount) is str
        and type(after) is str
        and _AMOUNT_HEAD.fullmatch(amount) is not None
        and _THOUSANDS_TAIL.fullmatch(after) is not None
    )


def _one_cell_text(index: int, row: list[object]) -> str:
    cell = row[index]
    return cell if type(cell) is str else "otal"  # not text: take the long way


def _cells_text(pick: Callable[[list[object]], tuple], row: list[object]) -> str:
    try:
        return "\x00".join(pick(row))
    except TypeError:  # a cell that is not text: take the long way
        return "otal"


def _values(
    cells: list, cache: dict, fast: Callable[[object], object], slow: bytearray
) -> list:
    """Each cell's value from the cache, else from `fast`; a cell `fast` turns
    down marks its row slow."""
    values = list(map(cache.get, cells))
    if None in values:
        for at in _where_none(values):
            cell = cells[at]
            value = cache.get(cell)  # met earlier in this run?
            if value is None:
                try:
                    value = fast(cell)
                except _Slow:
                    slow[at] = 1
            values[at] = value
    return values


def _plain_texts(cells: list, length: int) -> list[str] | None:
    """`_text_value` of each cell when all are plain text that `clean_text` would
    only strip (printable ASCII, no double space), none a total label; else None."""
    try:
        if not (all(map(str.isascii, cells)) and all(map(str.isprintable, cells))):
            return None
    except TypeError:  # a cell that is not text
        return None
    joined = _SEP.join(cells)
    if "  " in joined or "otal" in joined.lower():
        return None
    values = list(map(str.strip, cells))
    if "NA" in values or "na" in values:  # Trafford's way of writing "none"
        values = ["" if value in ("NA", "na") else value for value in values]
    if max(map(len, values), default=0) > length:
        values = [_fit(value, length) for value in values]
    return values


def _where_none(values: list) -> Iterator[int]:
    """The positions of None in `values`."""
    return compress(range(len(values)), map(operator.is_, values, repeat(None)))


def _mark_totals(cells: list, slow: bytearray) -> None:
    """Mark the rows whose cell might be a total label (or is not text)."""
    try:
        if "otal" not in _SEP.join(cells).lower():
            return
    except TypeError:
        pass
    for at, cell in enumerate(cells):
        if type(cell) is not str or "otal" in cell.lower():
            slow[at] = 1


def _remember(cache: dict, key: str, value):  # noqa: ANN001, ANN202
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


def _is_total_label(text: str) -> bool:
    return "otal" in text.lower() and _TOTAL_LABEL.match(clean_text(text)) is not None


# A cell holding only an email address (QA: a Contracts Finder export, read
# with its "Contact Email" column as the supplier, put officials' addresses in
# the supplier register).
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _is_email(text: str) -> bool:
    return "@" in text and _EMAIL.fullmatch(text) is not None


def _supplier_parts(supplier: str) -> tuple[str, str, str, str]:
    """(name as saved, redacted "t"/"f", normalised name as saved, name in the key)
    for a cleaned, non-empty supplier name."""
    redacted = is_redacted(supplier)
    normalised = "" if redacted else normalise_name(supplier)
    return (
        _fit(supplier, MAX_LENGTHS["supplier_name"]),
        "t" if redacted else "f",
        normalised[:300],
        normalised or supplier.casefold(),
    )


def _text_value(cell: object, length: int) -> str:
    value = clean_text(cell)
    if value == "NA" or value == "na":  # Trafford's way of writing "none"
        value = ""
    return value if len(value) <= length else _fit(value, length)


def _vat_text(cell: object) -> str:
    vat = _amount_or_none(cell)
    return "\\N" if vat is None else str(vat)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_UNESCAPE = re.compile(r"\\(.)")
_COPY_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def _copy_escape(text: str) -> str:
    return text.translate(_COPY_ESCAPES)


def _copy_escaped(values: list[str]) -> list[str]:
    """Text values, backslashes doubled for COPY (they hold no tab or newline)."""
    if "\\" in _SEP.join(values):
        return [value.replace("\\", "\\\\") for value in values]
    return values


def copy_values(row: str) -> dict[str, str | None]:
    """A line's COPY row back as text values by column (None for NULL)."""
    return {
        name: None
        if value == "\\N"
        else _COPY_UNESCAPE.sub(lambda m: _COPY_UNESCAPES.get(m[1], m[1]), value)
        for name, value in zip(COPY_COLUMNS, row.split("\t"), strict=True)
    }


def _cell(row: list[object], index: int | None) -> object:
    if index is None or index >= len(row):
        return None
    return row[index]


def _cells_of(plan: BlockPlan, row: list[object]) -> list[list[str]]:
    return [
        [
            plan.header[i]
            if plan.header and i < len(plan.header)
            else column_letter(i),
            clean_text(cell),
        ]
        for i, cell in enumerate(row)
    ]


def _total_label_at(row: list[object]) -> int | None:
    """The first cell of the row that is a total label ("Total", "Sub total")."""
    return next(
        (
            at
            for at, cell in enumerate(row)
            if type(cell) is str and _is_total_label(cell)
        ),
        None,
    )


def _summary_reason(
    row: list[object], date_text: str, supplier: str, raw_amount: object
) -> str:
    """Why a row is a total or note rather than a payment, or "" if it is not.

    A "Total" label makes a total row when the payee is the label, or the row
    has no date or no payee; a dated row paying a named supplier is a payment
    whatever its other cells say (an expense type or service area "Total", as
    QA found, was read as a total row and its payment left out)."""
    if date_text and supplier and not _is_total_label(supplier):
        return ""
    if _total_label_at(row) is not None:
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


def _fit(value: str, length: int) -> str:
    return value if len(value) <= length else value[: length - 1] + "…"


__all__ = [
    "COPY_COLUMNS",
    "FIELDS",
    "BlockPlan",
    "FileRefused",
    "LineReader",
    "LineRecord",
    "ParsedFile",
    "Problem",
    "copy_values",
    "parse_file",
    "plan_file",
]
