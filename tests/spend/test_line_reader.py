"""spend.parse.LineReader: a big CSV file read row by row gives exactly what reading
the whole sheet gives, and the column-wise short cut what the rules as written give.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from spend import parse
from spend.parse import COPY_COLUMNS, FileRefused, LineReader, copy_values
from spend.reading import layout_key, read_sheets

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "csv"
REAL_SPEND = REPO.parent / "shared" / "data" / "real" / "spend"
TODAY = date(2026, 7, 1)


def read(data: bytes, name: str = "spend.csv", **kwargs):
    reader = LineReader(data, name, today=TODAY, **kwargs)
    batches = list(reader.batches())
    return reader.parsed, [line for batch in batches for line in batch], batches


def read_whole(data: bytes, name: str = "spend.csv", **kwargs):
    """The same file, its sheets read whole (as read_sheets reads them)."""
    reader = LineReader(data, name, today=TODAY, **kwargs)
    reader.batches = lambda: _whole(reader)  # type: ignore[method-assign]
    return read_with(reader)


def _whole(reader: LineReader):
    yield from reader._whole_sheets(read_sheets(reader.data, reader.file_name))
    if not reader.parsed.line_count and not reader.parsed.rejected:
        raise FileRefused(
            f'"{reader.file_name}" has no payment rows: only totals or notes.'
        )
    reader.parsed.check_stated_totals()


def read_with(reader: LineReader):
    lines = [line for batch in reader.batches() for line in batch]
    return reader.parsed, lines, None


def outcome(read_file, data: bytes, **kwargs):
    """Everything a reading gives, or the refusal."""
    try:
        parsed, lines, _ = read_file(data, **kwargs)
    except FileRefused as refusal:
        return ("refused", str(refusal))
    plans = [
        (p.sheet, p.header, p.header_row, p.layout, p.columns, p.source, p.notes)
        for p in parsed.blocks
    ]
    return (
        lines,
        [vars(p) for p in parsed.rejected],
        [vars(p) for p in parsed.skipped],
        parsed.blank_rows,
        parsed.file_stated_total,
        parsed.rows_read,
        plans,
        [p.row_count for p in parsed.blocks],
    )


def csv_bytes(rows: list[list[str]], ending: str = "\r\n") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=ending).writerows(rows)
    return buffer.getvalue().encode()


HEADER = ["Date", "Supplier Name", "Amount", "Department", "Transaction Number"]
OTHER_HEADER = ["Payment Date", "Vendor", "Net Amount", "Description", "Notes"]
ROW = ["01/04/2025", "Wardown Plumbing Ltd", "1,200.00", "Housing", "T1"]

LAYOUTS = {
    "plain": [HEADER, *[ROW] * 5],
    "preamble and blank rows": [
        ["Spend over £500"],
        [],
        HEADER,
        ROW,
        [],
        [",", ""],
        ROW,
    ],
    "header mid-sheet": [HEADER, ROW, ROW, OTHER_HEADER, ROW, ROW],
    "empty block between headers": [HEADER, [], OTHER_HEADER, ROW, ROW],
    "header at the bottom": [ROW, ROW, ROW, HEADER],
    "data above the first header": [ROW, ROW, ROW, HEADER, ROW],
    "no header": [ROW, ROW, ROW],
    "only a header": [HEADER, [], []],
    "totals and notes": [
        HEADER,
        ROW,
        ["", "", "2,400.00", "", ""],
        ["Total", "", "9", "", ""],
    ],
    "unusable second block": [
        HEADER,
        ROW,
        ["Supplier", "Amount", "Cost Centre"],
        ["A", "1"],
    ],
    "rejections": [
        HEADER,
        ["31/02/2025", "A Ltd", "5", "", ""],
        ["01/04/2025", "A Ltd", "12x", "", ""],
        ["01/04/2025", "", "5", "", ""],
        ["01/12/2030", "A Ltd", "5", "", ""],
        ROW,
    ],
    "ragged rows": [HEADER, ROW, ROW[:3], [*ROW, "extra", "Total"], [*ROW, ""], ROW],
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("ending", ["\r\n", "\r"])
def test_reading_row_by_row_gives_what_reading_the_whole_sheet_gives(layout, ending):
    data = csv_bytes(LAYOUTS[layout], ending)
    assert outcome(read, data) == outcome(read_whole, data)


def test_a_remembered_column_beyond_the_header_is_found_as_in_the_whole_sheet():
    header = ["Date", "Supplier Name", "Amount"]
    data = csv_bytes([header, [*ROW[:3], "", "Housing"], [*ROW[:3], "", "Parks"]])
    layout = layout_key(header, 3)
    remembered = {
        layout: {"payment_date": 0, "supplier_name": 1, "amount": 2, "department": 4}
    }
    streamed = outcome(read, data, remembered=remembered)
    assert streamed == outcome(read_whole, data, remembered=remembered)
    lines = streamed[0]
    assert copy_values(lines[0][parse.COPY_ROW])["department"] == "Housing"


def test_random_files_read_the_same_row_by_row_and_whole():
    rng = random.Random(2026)
    cells = {
        "date": ["01/04/2025", "2025-04-02", "3 Apr 2025", "", "Total", "31/02/2025"],
        "amount": ["1,234.56", "12", "-5.00", "(978.00)", "-£12.00", "5 CR", "", "12x"],
        "supplier": ["Acme Ltd", "REDACTED PERSONAL DATA", "", "Total Gas & Power Ltd"],
        "text": ["Housing", "", "NA", "back\\slash", "x" * 300, "Sub-total:", "T1"],
    }
    kinds = ["date", "supplier", "amount", "text", "text"]
    for _ in range(150):
        rows: list[list[str]] = []
        for _ in range(rng.choice([1, 1, 2])):
            rows.append(rng.choice([HEADER, OTHER_HEADER]))
            good = rng.random()
            for _ in range(rng.randint(0, 60)):
                if rng.random() < 0.05:
                    rows.append([])
                elif rng.random() < good:
                    rows.append(list(ROW))
                else:
                    rows.append([rng.choice(cells[kind]) for kind in kinds])
        data = csv_bytes(rows, rng.choice(["\r\n", "\n", "\r"]))
        assert outcome(read, data) == outcome(read_whole, data)


def test_the_short_cut_gives_what_the_rules_as_written_give(monkeypatch):
    rows = [HEADER]
    for number in range(2000):
        amount = ["1,200.00", "(5.00)", "-£3.10", "0.00", "-0", str(number)][number % 6]
        supplier = ["Acme Ltd", "REDACTED PERSONAL DATA", "Back\\slash Ltd"][number % 3]
        rows.append(["01/04/2025", supplier, amount, "Housing", f"T{number}"])
    rows.append(["Total", "", "1", "", ""])
    data = csv_bytes(rows)
    short_cut = outcome(read, data)
    monkeypatch.setattr(
        parse._BlockReader, "_short_cut", lambda self, numbers, rows: [None] * len(rows)
    )
    assert outcome(read, data) == short_cut


def test_lines_come_in_batches_while_the_file_is_read():
    data = csv_bytes([HEADER, *[ROW] * 3000])
    parsed, lines, batches = read(data)
    assert len(lines) == parsed.line_count == 3000
    assert len(batches) > 1 and max(map(len, batches)) <= 2 * parse.BATCH


def test_progress_is_reported_every_so_many_rows():
    seen = []
    data = csv_bytes([HEADER, *[ROW] * 12_000])
    read(data, progress=seen.append)
    assert seen == [5000, 10_000, 12_000]


@pytest.fixture
def csv_field_limit():
    """The csv module's limit on a field, which other code may have raised."""
    old = csv.field_size_limit(131_072)
    yield
    csv.field_size_limit(old)


def test_a_csv_error_deep_in_the_file_is_refused_as_read_sheets_refuses_it(
    csv_field_limit,
):
    text = csv_bytes([HEADER, *[ROW] * 1000]) + b'01/04/2025,"' + b"x" * 140_000
    with pytest.raises(FileRefused) as whole:
        read_sheets(text, "spend.csv")
    with pytest.raises(FileRefused) as streamed:
        read(text)
    assert str(streamed.value) == str(whole.value)


def test_the_copy_row_holds_every_column_and_comes_back_as_written():
    sheet = "odd\tname\\.csv"
    data = csv_bytes([HEADER, ["01/04/2025", "Back\\slash Ltd", "-5", "A\\B", "T\\1"]])
    _, lines, _ = read(data, sheet)
    key, paid, amount, supplier, row = lines[0]
    values = copy_values(row)
    assert list(values) == list(COPY_COLUMNS)
    assert values["source_sheet"] == sheet
    assert values["supplier_name"] == "Back\\slash Ltd"
    assert values["department"] == "A\\B" and values["transaction_ref"] == "T\\1"
    assert values["irrecoverable_vat"] is None and values["line_key"] == key
    assert (paid, amount, supplier) == (
        date(2025, 4, 1),
        Decimal("-5.00"),
        "back slash ltd",
    )


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="fixtures missing")
@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.csv")), ids=lambda p: p.name)
def test_fixture_files_read_the_same_row_by_row_and_whole(path):
    data = path.read_bytes()
    assert outcome(read, data, name=path.name) == outcome(
        read_whole, data, name=path.name
    )


@pytest.mark.skipif(not REAL_SPEND.is_dir(), reason="the real spend files are not here")
def test_real_files_read_the_same_row_by_row_and_whole():
    for path in sorted(REAL_SPEND.iterdir()):
        data = path.read_bytes()
        assert outcome(read, data, name=path.name) == outcome(
            read_whole, data, name=path.name
        ), path.name
