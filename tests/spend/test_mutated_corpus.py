"""Every real council file, damaged in many ways, through the real import pipeline.

Each file in ../shared/data/real/spend/ (see test_real_files.py, which imports
each one whole) is cut to its first rows, then mutated: truncated mid-row, bytes
flipped, re-encoded (UTF-16 with and without a BOM, UTF-16 cut short or with
bytes flipped, Windows-1252 bytes inside UTF-8, UTF-8 read as Windows-1252 and
saved again, NUL bytes), columns shuffled, rows duplicated, the header removed,
only the header kept. Empty and blank files, and the crashes this module found
(each fixed), have tests of their own at the end.

Each mutated file goes the way an upload goes: `plan_file` and `refuse_summaries`
(the preview page), then `import_spend_file` with the columns the preview found
(what the upload task runs once they are confirmed). Every run must end in one of
two ways, with no other exception escaping:

* imported: rows read = imported + rejected + duplicate + skipped; the upload's
  lines in the database are exactly the rows imported and add up to the amount
  imported, to the penny; its row issues are exactly the rejected and skipped rows;
* refused: a `FileRefused` whose message names the file, the upload marked failed
  with that message, and nothing of it in the database.

The mutations are drawn from a random generator seeded by (file, mutation), so a
failing case reproduces from its test id alone: FILE-MUTATION-SEED.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import zipfile
import zlib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

REAL_SPEND = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real" / "spend"
)
BASE_ROWS = 150  # rows of each file (each sheet of a workbook) to mutate
BASE_SHEETS = 2  # sheets of a workbook kept

pytestmark = pytest.mark.django_db
needs_real_files = pytest.mark.skipif(
    not REAL_SPEND.is_dir(),
    reason=f"the real spend files are not here ({REAL_SPEND}); see SOURCES.md",
)

TEXT_MUTATIONS = (
    "truncated-mid-row",
    "bytes-flipped",
    "utf-16",
    "utf-16le-no-bom",
    "utf-16-truncated",
    "utf-16-bytes-flipped",
    "cp1252-bytes-in-utf8",
    "utf8-read-as-cp1252",
    "nul-bytes",
    "columns-shuffled",
    "rows-duplicated",
    "header-removed",
    "only-header",
)
WORKBOOK_MUTATIONS = (
    "truncated-mid-row",  # the XLSX (a ZIP) cut short
    "bytes-flipped",
    "columns-shuffled",
    "rows-duplicated",
    "header-removed",
    "only-header",
)


def _files() -> list[str]:
    if not REAL_SPEND.is_dir():
        return []
    return sorted(path.name for path in REAL_SPEND.iterdir() if path.is_file())


def _seed(name: str, mutation: str) -> int:
    return zlib.crc32(f"{name}|{mutation}".encode())


CASES = [
    pytest.param(
        name,
        mutation,
        _seed(name, mutation),
        id=f"{name}-{mutation}-{_seed(name, mutation)}",
    )
    for name in _files()
    for mutation in (WORKBOOK_MUTATIONS if name.endswith(".xlsx") else TEXT_MUTATIONS)
]


# ------------------------------------------------------------------ the bases


@dataclass(frozen=True)
class Base:
    """A real file cut to its first rows: its sheets as rows of cells, and how to
    write rows back into a file of the same kind."""

    kind: str  # "text", "xlsx" or "zip"
    sheets: tuple[tuple[str, tuple[tuple, ...]], ...]
    member: str = ""  # the CSV's name inside a ZIP

    def write(self, sheets=None) -> bytes:
        sheets = self.sheets if sheets is None else sheets
        if self.kind == "xlsx":
            return _workbook(sheets)
        text = _csv_bytes(sheets[0][1])
        if self.kind == "zip":
            return _zipped(self.member, text)
        return text


@cache
def base_of(name: str) -> Base:
    data = (REAL_SPEND / name).read_bytes()
    if name.endswith(".xlsx"):
        return Base("xlsx", _workbook_rows(data))
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            member = archive.namelist()[0]
            data = archive.read(member)
        return Base("zip", (("", _text_rows(data)),), member)
    return Base("text", (("", _text_rows(data)),))


def _text_rows(data: bytes) -> tuple[tuple, ...]:
    """The first rows of a CSV as cells; bytes that are not UTF-8 are kept as they
    were (surrogateescape), so a Windows-1252 file stays Windows-1252."""
    text = data.decode("utf-8", errors="surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    for row in reader:
        rows.append(tuple(row))
        if len(rows) >= BASE_ROWS:
            break
    return tuple(rows)


def _csv_bytes(rows) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8", errors="surrogateescape")


def _zipped(member: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, data)
    return buffer.getvalue()


def _workbook_rows(data: bytes) -> tuple:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheets = []
        for sheet in book.worksheets[:BASE_SHEETS]:
            rows = []
            for row in sheet.iter_rows(values_only=True):
                rows.append(tuple(row))
                if len(rows) >= BASE_ROWS:
                    break
            sheets.append((sheet.title, tuple(rows)))
        return tuple(sheets)
    finally:
        book.close()


def _workbook(sheets) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------ mutations


def _header_at(rows) -> int | None:
    from spend.reading import clean_header, is_header_row

    for at, row in enumerate(rows):
        cells = [clean_header(c) if isinstance(c, str) else c for c in row]
        if is_header_row(cells):
            return at
    return None


def _shuffle_columns(rows, rng: random.Random):
    width = max((len(row) for row in rows), default=0)
    order = list(range(width))
    while width > 1 and order == sorted(order):
        rng.shuffle(order)
    padded = [tuple(row) + (None,) * (width - len(row)) for row in rows]
    return tuple(tuple(row[i] for i in order) for row in padded)


def _duplicate_rows(rows, rng: random.Random):
    out = list(rows)
    for _ in range(rng.randint(1, 20)):
        if not out:
            break
        at = rng.randrange(len(out))
        out.insert(rng.randrange(len(out) + 1), out[at])
    return tuple(out)


def _rows_mutation(mutation: str, rows, rng: random.Random):
    if mutation == "columns-shuffled":
        return _shuffle_columns(rows, rng)
    if mutation == "rows-duplicated":
        return _duplicate_rows(rows, rng)
    at = _header_at(rows)
    if mutation == "header-removed":
        return rows if at is None else rows[:at] + rows[at + 1 :]
    if mutation == "only-header":
        return rows[: (at if at is not None else rng.randrange(len(rows) or 1)) + 1]
    raise AssertionError(mutation)


def _text_of(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _bytes_mutation(mutation: str, data: bytes, rng: random.Random) -> bytes:
    if mutation == "truncated-mid-row":
        cut = rng.randrange(len(data) // 3, len(data))
        while cut > 1 and data[cut - 1 : cut] in (b"\n", b"\r"):
            cut -= 1  # mid-row, not just after a line ending
        return data[:cut]
    if mutation == "bytes-flipped":
        out = bytearray(data)
        for _ in range(rng.randint(1, 24)):
            at = rng.randrange(len(out))
            out[at] ^= rng.randint(1, 255)
        return bytes(out)
    if mutation == "utf-16":
        return _text_of(data).encode("utf-16")
    if mutation == "utf-16le-no-bom":
        return _text_of(data).encode("utf-16-le")
    if mutation == "utf-16-truncated":  # an odd number of bytes, mid-row
        return _bytes_mutation(
            "truncated-mid-row", _text_of(data).encode("utf-16"), rng
        )
    if mutation == "utf-16-bytes-flipped":  # lone surrogates and all
        return _bytes_mutation("bytes-flipped", _text_of(data).encode("utf-16"), rng)
    if mutation == "cp1252-bytes-in-utf8":
        out = bytearray(_text_of(data).encode("utf-8"))
        for _ in range(rng.randint(1, 30)):
            out.insert(
                rng.randrange(len(out) + 1), rng.choice(b"\xa3\x80\x92\x96\xe9\xa0\x9c")
            )
        return bytes(out)
    if mutation == "utf8-read-as-cp1252":
        text = _text_of(data).replace("\ufffd", "?")
        twice = text.encode("utf-8").decode("cp1252", errors="replace")
        return twice.encode("utf-8")
    if mutation == "nul-bytes":
        out = bytearray(data)
        for _ in range(rng.randint(1, 10)):
            out.insert(rng.randrange(len(out) + 1), 0)
        return bytes(out)
    raise AssertionError(mutation)


def mutated(name: str, mutation: str, seed: int) -> bytes:
    rng = random.Random(seed)
    base = base_of(name)
    if mutation in (
        "columns-shuffled",
        "rows-duplicated",
        "header-removed",
        "only-header",
    ):
        return base.write(
            tuple(
                (title, _rows_mutation(mutation, rows, rng))
                for title, rows in base.sheets
            )
        )
    data = base.write()
    if base.kind == "zip" and mutation not in ("truncated-mid-row", "bytes-flipped"):
        inner = _bytes_mutation(mutation, _csv_bytes(base.sheets[0][1]), rng)
        return _zipped(base.member, inner)
    return _bytes_mutation(mutation, data, rng)


# ------------------------------------------------------------------ the pipeline


def run_upload(council, name: str, data: bytes):
    """The upload's path: preview (plan the columns, refuse summaries), then the
    import with the columns found. (upload, result or None, refusal or None)."""
    from spend.importer import import_spend_file, remembered_mappings
    from spend.models import SpendUpload
    from spend.parse import FileRefused, plan_file, refuse_summaries
    from spend.storage import sha256_of

    upload = SpendUpload.objects.create(
        council=council, file_name=name, sha256=sha256_of(data), size_bytes=len(data)
    )
    try:
        plans, _ = plan_file(data, name, remembered_mappings(council))
        refuse_summaries(plans, name)
        chosen = {plan.layout: plan.columns for plan in plans}
        result = import_spend_file(upload=upload, data=data, chosen=chosen)
    except FileRefused as refusal:
        return upload, None, str(refusal)
    return upload, result, None


def assert_all_or_nothing(upload, result, refusal: str | None, case: str) -> None:
    from spend.models import RowIssue, SpendLine, UploadStatus

    upload.refresh_from_db()
    lines = SpendLine.objects.filter(upload=upload)
    issues = RowIssue.objects.filter(upload=upload)
    if refusal is not None:
        assert f'"{upload.file_name}"' in refusal, (case, refusal)
        assert "Traceback" not in refusal and len(refusal) < 1000, (case, refusal)
        assert lines.count() == 0, case
        assert issues.count() == 0, case
        # Refused by the import itself (not already by the preview): marked failed.
        if upload.status != UploadStatus.PENDING:
            failed = (UploadStatus.FAILED, refusal)
            assert (upload.status, upload.message) == failed, case
        return
    assert result.status == "imported", (case, result)
    parts = (
        result.rows_imported,
        result.rows_rejected,
        result.rows_duplicate,
        result.rows_skipped,
    )
    assert result.rows_read == sum(parts), (case, result.rows_read, parts)
    assert lines.count() == result.rows_imported, case
    # Summed here, line by line, in Decimal: SQLite's SUM() adds in binary floats.
    held = sum(lines.values_list("amount", flat=True), Decimal("0.00"))
    assert held == result.amount_imported, (case, held, result.amount_imported)
    if connection.vendor == "postgresql":
        assert lines.aggregate(total=Sum("amount"))["total"] == held, case
    assert issues.filter(kind=RowIssue.Kind.REJECTED).count() == result.rows_rejected
    assert issues.filter(kind=RowIssue.Kind.SKIPPED).count() == result.rows_skipped
    assert all(error["message"] for error in result.errors), case
    assert upload.status == UploadStatus.IMPORTED, case
    assert (upload.rows_read, upload.rows_imported, upload.amount_imported) == (
        result.rows_read,
        result.rows_imported,
        result.amount_imported,
    ), case


@needs_real_files
@pytest.mark.parametrize(("name", "mutation", "seed"), CASES)
def test_a_damaged_real_file_imports_whole_or_is_refused_whole(
    council, name, mutation, seed
):
    case = f"{name} / {mutation} / seed {seed}"
    data = mutated(name, mutation, seed)

    upload, result, refusal = run_upload(council, name, data)

    assert_all_or_nothing(upload, result, refusal, case)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("empty.csv", b""),
        ("empty.xlsx", b""),
        ("empty.zip", b""),
        ("blank.csv", b"\xef\xbb\xbf\r\n , ,\t,\r\n\r\n"),
    ],
)
def test_an_empty_file_is_refused_naming_it(council, name, data):
    upload, result, refusal = run_upload(council, name, data)

    assert result is None
    assert re.search(r"empty|blank|no data", refusal), refusal
    assert_all_or_nothing(upload, result, refusal, f"{name} / empty")


@needs_real_files
@pytest.mark.parametrize("name", _files())
def test_the_undamaged_base_of_each_file_imports_cleanly(council, name):
    """The cut-down base itself (first rows, written again by the csv module or
    openpyxl) is not refused unless the whole file is, and rejects no row, so the
    mutations start from a good file."""
    from tests.spend.test_real_files import REFUSED

    upload, result, refusal = run_upload(council, name, base_of(name).write())

    assert_all_or_nothing(upload, result, refusal, f"{name} / base")
    assert (refusal is not None) == (name in REFUSED), refusal
    if result is not None:
        assert result.rows_imported > 0
        assert result.rows_rejected == 0, result.errors[:3]


def _damaged_deflate(archive_bytes: bytes, member: str) -> bytes:
    """The archive with a byte of the member's compressed data changed so that
    unzipping it raises zlib.error (not just a bad CRC); its directory still reads."""
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        info = archive.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for at in range(start, start + info.compress_size):
        for flip in (0x01, 0x10, 0x80, 0xFF):
            out = bytearray(archive_bytes)
            out[at] ^= flip
            try:
                with zipfile.ZipFile(io.BytesIO(out)) as archive:
                    archive.read(member)
            except zlib.error:
                return bytes(out)
            except zipfile.BadZipFile:
                continue
    raise AssertionError("no single byte change breaks the deflate stream")


@pytest.mark.parametrize("kind", ["zip", "xlsx"])
def test_an_archive_damaged_inside_is_refused_naming_it(kind):
    """A corrupt deflate stream raises zlib.error, which zipfile lets through: it
    must become a refusal, not an internal error (found by the corpus above)."""
    from spend.reading import FileRefused, open_sheets, read_sheets

    rows = [["Date", "Amount", "Supplier"]] + [
        ["01/04/2024", f"{n}.00", f"Supplier number {n} Ltd"] for n in range(2000)
    ]
    if kind == "zip":
        data = _damaged_deflate(_zipped("april.csv", _csv_bytes(rows)), "april.csv")
    else:
        book = _workbook((("Sheet1", tuple(map(tuple, rows))),))
        data = _damaged_deflate(book, "xl/worksheets/sheet1.xml")
    name = f"april.{kind}"

    for read in (read_sheets, open_sheets):
        with pytest.raises(FileRefused, match=f'"{name}".*damaged'):
            read(data, name)


def _payments(amounts: list[str]) -> bytes:
    rows = [["Payment Date", "Amount", "Supplier"]] + [
        ["01/04/2024", amount, f"Supplier number {n} Ltd"]
        for n, amount in enumerate(amounts)
    ]
    return _csv_bytes(rows)


@pytest.mark.parametrize(
    "amounts",
    [
        ["999,999,999,999.99"] * 150,  # would overflow the totals' 14 digits
        ["600,000,000,000.00", "-600,000,000,000.00"],  # cancel out, but not in rollups
    ],
    ids=["over-the-columns", "credits-cancelling"],
)
def test_a_file_adding_up_to_a_trillion_pounds_is_refused_not_a_crash(council, amounts):
    """Found by this module: such a file overflowed the upload's and the rollups'
    16-digit totals on PostgreSQL (a database error, not a refusal)."""
    upload, result, refusal = run_upload(council, "huge.csv", _payments(amounts))

    assert result is None
    assert "more than any spend file holds" in refusal, refusal
    assert_all_or_nothing(upload, result, refusal, "huge.csv")


def test_a_dry_run_refuses_a_trillion_pound_file_as_the_import_does(council, tmp_path):
    """`import_spend --dry-run` said such a file would import."""
    from spend.models import SpendUpload

    path = tmp_path / "huge.csv"
    path.write_bytes(_payments(["999,999,999,999.99"] * 150))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_status:
        call_command(
            "import_spend",
            str(path),
            council=council.slug,
            dry_run=True,
            format="json",
            stdout=out,
        )
    assert exit_status.value.code == 1
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    assert report["status"] == "refused"
    assert "more than any spend file holds" in report["errors"][0]["message"]
    assert not SpendUpload.objects.exists()


def test_a_file_just_under_a_trillion_pounds_imports(council):
    amounts = ["999,999,999,999.00", "-0.99"]  # £999,999,999,999.99, signs ignored
    upload, result, refusal = run_upload(council, "big.csv", _payments(amounts))

    assert refusal is None
    assert result.amount_imported == Decimal("999999999998.01")
    assert_all_or_nothing(upload, result, refusal, "big.csv")


def test_a_date_whose_london_day_is_off_the_calendar_is_a_rejected_row(council):
    """Found by test_parse_properties: "0001-01-01T00:00+01:00" raised OverflowError
    out of parse_date, which stopped the whole import."""
    rows = [
        ["Payment Date", "Amount", "Supplier"],
        ["2024-04-01T00:00+01:00", "10.00", "Acme Ltd"],
        ["0001-01-01T00:00+01:00", "20.00", "Acme Ltd"],
    ]
    upload, result, refusal = run_upload(council, "edge.csv", _csv_bytes(rows))

    assert refusal is None
    assert (result.rows_imported, result.rows_rejected) == (1, 1)
    assert result.errors[0]["row"] == 3
    assert "out of range" in result.errors[0]["message"]
    assert_all_or_nothing(upload, result, refusal, "edge.csv")


@pytest.mark.parametrize(
    ("day", "why"),
    [
        ("01/01/0001", "before 1990"),  # had no financial year: the import stopped
        ("01/04/1900", "before 1990"),  # Excel's day nought, as text
        ("31/12/9999", "in the future"),
    ],
)
def test_a_payment_date_off_any_spend_file_is_a_rejected_row(council, day, why):
    """Found by this module: a payment dated in year 1 imported, then stopped the
    import when the dashboard rollups looked for its financial year (year 0)."""
    rows = [
        ["Payment Date", "Amount", "Supplier"],
        ["01/04/2024", "1.00", "Acme Ltd"],
        [day, "2.00", "Acme Ltd"],
    ]
    upload, result, refusal = run_upload(council, "old.csv", _csv_bytes(rows))

    assert refusal is None
    assert (result.rows_imported, result.rows_rejected) == (1, 1)
    assert (result.errors[0]["row"], result.errors[0]["value"]) == (3, day)
    assert why in result.errors[0]["message"], result.errors[0]
    assert_all_or_nothing(upload, result, refusal, day)
