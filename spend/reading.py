"""Reading councils' spend files: bytes -> sheets -> header blocks -> columns.

Pure Python (no database; the archive and content checks it shares with the
other upload pages come from ``councils.uploads``). Nothing here converts
values: CSV cells stay text and XLSX cells keep their native type, so dates and
amounts are parsed later, on purpose, by ``spend.values``.

The three steps:

* ``read_sheets(data, filename)`` sniffs the content (ZIP, XLSX, HTML, binary,
  CSV in UTF-8 / Windows-1252 / DOS code page) and returns the raw sheets, or
  raises ``FileRefused`` with a message a finance officer can act on.
* ``find_blocks(sheet)`` finds the header row(s) by scoring every row against
  known column names, so preamble rows, blank lines and a header that changes
  mid-sheet are handled.
* ``recognise_columns(header)`` maps header texts to ``FIELDS``;
  ``guess_columns(rows)`` does the same from the values when there is no header.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import statistics
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import PurePosixPath
from typing import Any

from django.utils.text import get_text_list

from councils.uploads import (
    SPREADSHEET_ZIP,
    ArchiveRefused,
    check_zip_directory,
    read_member,
    sniff,
    verify_members,
)
from spend.sheet_extent import grid_size, worksheets

FIELDS = (
    "payment_date",
    "amount",
    "supplier_name",
    "department",
    "service_area",
    "expense_type",
    "description",
    "transaction_ref",
    "council_supplier_id",
    "vat_number",
    "postcode",
    "irrecoverable_vat",
    "procurement_category",
)

MAX_MEMBER_BYTES = 500 * 1024 * 1024  # refuse ZIP members bigger than this
# ZIPs and XLSX workbooks: at most SPREADSHEET_ZIP.max_total bytes unzipped in all,
# no member compressed more than 100 to 1, checked before unzipping (see
# councils.uploads).
_SAMPLE_LINES = 30  # lines looked at to sniff the delimiter
_GUESS_SAMPLE = 300  # rows looked at to guess columns of a header-less block


class FileRefused(Exception):
    """The whole file cannot be imported.

    ``str()`` is a user-facing message naming the file and why.
    """


@dataclass
class Sheet:
    """One sheet of raw cells: a worksheet of an XLSX, or a whole CSV."""

    name: str
    rows: list[list[object]]
    # 1-based physical row number of each entry of ``rows``: the XLSX row, or
    # for CSV the record number (see ``_parse_csv``), counting every row.
    row_numbers: list[int]
    hidden: bool = False  # a worksheet hidden in the workbook


@dataclass
class Block:
    """A header (or none) and the data rows below it, up to the next header."""

    sheet: str
    header: list[str] | None
    header_row: int | None
    rows: list[list[object]]
    row_numbers: list[int]
    blank_rows: int


@dataclass
class ColumnMapping:
    columns: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------
# read_sheets: sniffing
# ---------------------------------------------------------------------------


class CsvText:
    """A CSV file's decoded text, read row by row when asked rather than held as
    rows: a million-row file stays one string instead of millions of lists.

    ``numbered_rows()`` yields what ``read_sheets`` would hold for the same file,
    as (row number, row) pairs. Where the text cannot be read as CSV it raises
    ``csv.Error``, which ``refusal`` turns into the ``FileRefused`` that
    ``read_sheets`` raises for the file.
    """

    def __init__(self, name: str, text: str, label: str) -> None:
        self.name = name
        self.text = text
        self.label = label
        self._reader: Any = None

    def numbered_rows(self) -> Iterator[tuple[int, list[str]]]:
        return enumerate(self.records(), start=1)

    def records(self) -> Iterator[list[str]]:
        """The rows alone; the row number of each is its place, from 1."""
        self._reader = _csv_reader(self.text)
        return self._reader

    def refusal(self, error: csv.Error) -> FileRefused:
        line = self._reader.line_num if self._reader is not None else 0
        return _csv_refusal(self.label, line, error)


def read_sheets(data: bytes, filename: str) -> list[Sheet]:
    """Read a CSV, XLSX or a ZIP holding one of them into raw sheets."""
    return [
        _materialise(sheet)
        for sheet in _read(data, filename, f'"{filename}"', inside_zip=False)
    ]


def open_sheets(data: bytes, filename: str) -> list[Sheet | CsvText]:
    """Like ``read_sheets``, but a CSV file comes back as its text, to be read
    row by row (``CsvText.numbered_rows``). Refuses the same files, except that
    a CSV error deep in the file is found only when the rows get there."""
    return _read(data, filename, f'"{filename}"', inside_zip=False)


def _materialise(sheet: Sheet | CsvText) -> Sheet:
    if isinstance(sheet, Sheet):
        return sheet
    rows = _parse_csv(sheet.text, sheet.label)
    return Sheet(name=sheet.name, rows=rows, row_numbers=list(range(1, len(rows) + 1)))


def _read(
    data: bytes, name: str, label: str, *, inside_zip: bool
) -> list[Sheet | CsvText]:
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            return _read_zip_or_xlsx(data, name, label, inside_zip=inside_zip)
        except (zlib.error, zipfile.BadZipFile, EOFError) as exc:
            # A member damaged inside (a corrupt deflate stream raises zlib.error,
            # which zipfile passes on as it is) is found only while unzipping.
            raise FileRefused(_damaged(label)) from exc
    _refuse_non_spreadsheets(data, label)
    text = _decode(data)
    _refuse_text_that_is_not_csv(text, label)
    return [CsvText(name=name, text=text, label=label)]


_NOT_PADDING = re.compile(rb"[^ \t\r\n\x00\xef\xbb\xbf]")


def refuse_by_content(head: bytes, filename: str) -> None:
    """Refuse, from its first bytes alone (64 KB), a file that is plainly not a
    spreadsheet: an image, a program, a PDF, an old .xls, another kind of archive
    or binary data, whatever its name. Used when the file is uploaded, so nothing
    is kept; text, HTML and ZIP files are read in full later."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return  # a ZIP or XLSX: its directory is checked when it is read
    if not _NOT_PADDING.search(head):
        return  # all padding so far: decided when the whole file is read
    _refuse_non_spreadsheets(head, f'"{filename}"')


def _refuse_non_spreadsheets(data: bytes, label: str) -> None:
    head = data[:8]
    if not _NOT_PADDING.search(data):
        raise FileRefused(f"{label} is empty: there is nothing to import.")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(
            f"{label} is an old Excel 97-2003 .xls workbook (or a password-"
            "protected one): save it as .xlsx or CSV and upload that."
        )
    if head.startswith(b"%PDF"):
        raise FileRefused(
            f"{label} is a PDF document, not a spreadsheet: ask for the CSV or "
            "Excel version of the file."
        )
    if (
        head.startswith(b"\x1f\x8b")
        or head.startswith(b"Rar!")
        or head.startswith(b"7z\xbc\xaf")
    ):
        raise FileRefused(
            f"{label} is a compressed archive (gzip, RAR or 7z): only ZIP archives "
            "holding one CSV or XLSX can be imported."
        )
    sniffed = sniff(data[:65536])
    if sniffed.kind in _NOT_SPREADSHEETS:
        raise FileRefused(
            f"{label} is {sniffed.description}, not a CSV or Excel spreadsheet: "
            "upload the spend file itself, saved as .xlsx or CSV."
        )
    if b"\x00" in data and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefused(
            f"{label} is a binary file, not a CSV or Excel spreadsheet: save it "
            "as .xlsx or CSV and upload that."
        )


_NOT_SPREADSHEETS = frozenset({"png", "jpeg", "gif", "tiff", "webp", "exe", "rtf"})

_NOT_LEADING = re.compile("[^\ufeff \t\r\n]")


def _refuse_text_that_is_not_csv(text: str, label: str) -> None:
    first = _NOT_LEADING.search(text)  # where text.lstrip("\ufeff \t\r\n") starts
    start = text[first.start() : first.start() + 65536] if first else ""
    if not start.startswith("<"):
        if not re.search(r"[^\W_]", text):
            raise FileRefused(f"{label} holds no data: every row is blank.")
        return
    lowered = start[:4096].lower()
    if lowered.startswith("<!doctype html") or "<html" in lowered:
        raise FileRefused(
            f"{label} is a web page (HTML), not a spreadsheet: the download "
            f"probably failed{_page_title(start)}. Open the council's link in a "
            "browser, download the CSV or Excel file again and check it opens "
            "in a spreadsheet before uploading."
        )
    raise FileRefused(
        f"{label} is an XML document, not a CSV or .xlsx spreadsheet: save it "
        "as .xlsx or CSV and upload that."
    )


def _page_title(html: str) -> str:
    match = re.search(r"<title[^>]*>([^<]{1,120})", html[:20000], re.IGNORECASE)
    if not match:
        return ""
    return f' (the page says "{" ".join(match.group(1).split())}")'


# ---------------------------------------------------------------------------
# ZIP archives and XLSX workbooks
# ---------------------------------------------------------------------------

# A delimited text file's one "sheet" is named by its file name (in a ZIP).
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
_DATA_SUFFIXES = (*TEXT_SUFFIXES, ".xlsx", ".xlsm")
_ARCHIVE_SUFFIXES = (".zip", ".gz", ".7z", ".rar", ".tar", ".tgz", ".bz2", ".xz")
_JUNK_MEMBER = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$)")


def _damaged(label: str) -> str:
    # In words, not the library's ("File is not a zip file"; QA).
    return (
        f"{label} looks like a ZIP or Excel (.xlsx) file but is damaged: it may "
        "have been cut short while it was downloaded or copied. Download or export "
        "it again, check that it opens in Excel, then upload that."
    )


def _read_zip_or_xlsx(
    data: bytes, name: str, label: str, *, inside_zip: bool
) -> list[Sheet | CsvText]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileRefused(_damaged(label)) from exc
    try:
        # Bombs and unsafe names are refused from the directory, before any
        # member is unzipped; a workbook's members are then unzipped once, counted,
        # so calamine and openpyxl never unzip more than the limits allow.
        check_zip_directory(archive, label, SPREADSHEET_ZIP)
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            verify_members(archive, label, SPREADSHEET_ZIP)
            return _read_workbook(data, label)
    except ArchiveRefused as refused:
        raise FileRefused(str(refused)) from refused
    _refuse_other_office_zips(archive, names, label)
    if inside_zip:
        raise FileRefused(f"{label} is an archive inside the ZIP: unzip it first.")
    member = _single_member(archive, label)
    inner_label = f'"{member.filename}" (inside {label})'
    inner = _read_member(archive, member, inner_label)
    return _read(inner, member.filename, inner_label, inside_zip=True)


def _refuse_other_office_zips(
    archive: zipfile.ZipFile, names: list[str], label: str
) -> None:
    if "mimetype" in names:
        with archive.open("mimetype") as member:
            mimetype = member.read(100).decode("ascii", "replace")
        if "opendocument" in mimetype:
            raise FileRefused(
                f"{label} is an OpenDocument file (LibreOffice/OpenOffice): save "
                "it as .xlsx or CSV and upload that."
            )
    if "word/document.xml" in names or "ppt/presentation.xml" in names:
        raise FileRefused(
            f"{label} is a Word or PowerPoint document, not a spreadsheet."
        )


def _single_member(archive: zipfile.ZipFile, label: str) -> zipfile.ZipInfo:
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir() and not _JUNK_MEMBER.search(info.filename)
    ]
    for info in members:
        _refuse_unsafe_member_name(info.filename, label)
        if info.filename.lower().endswith(_ARCHIVE_SUFFIXES):
            raise FileRefused(
                f'{label} holds another archive ("{info.filename}"): archives '
                "inside archives are not imported; unzip it and upload the CSV "
                "or XLSX file."
            )
    wanted = [m for m in members if m.filename.lower().endswith(_DATA_SUFFIXES)]
    if len(wanted) == 1:
        return wanted[0]
    if not wanted:
        listing = ", ".join(f'"{m.filename}"' for m in members[:5]) or "nothing"
        raise FileRefused(
            f"{label} is a ZIP archive with no CSV or XLSX file in it "
            f"(it holds {listing})."
        )
    listing = ", ".join(f'"{m.filename}"' for m in wanted[:5])
    raise FileRefused(
        f"{label} is a ZIP archive holding {len(wanted)} spreadsheets ({listing}): "
        "upload them one at a time."
    )


def _refuse_unsafe_member_name(member: str, label: str) -> None:
    path = PurePosixPath(member.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", member):
        raise FileRefused(
            f'{label} contains a file with an unsafe path ("{member}"): the '
            "archive is refused."
        )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> bytes:
    if info.file_size > MAX_MEMBER_BYTES:
        raise FileRefused(
            f"{label} is {info.file_size // 2**20} MB once unzipped, more than the "
            f"{MAX_MEMBER_BYTES // 2**20} MB limit."
        )
    limit = min(MAX_MEMBER_BYTES, SPREADSHEET_ZIP.max_total)
    try:  # a chunk at a time, never more than the limit, whatever the header says
        return read_member(archive, info, label, limit)
    except ArchiveRefused as refused:
        raise FileRefused(str(refused)) from refused


# The most cells LocalSpend reads from a workbook, its sheets together, counted
# over each sheet's grid from A1 to its last cell (a million payments of 30
# columns). A few kilobytes can hold one cell at XFD1048576: opened as the
# readers open sheets, that is a grid of 17 billion cells, and the process dies.
MAX_WORKBOOK_CELLS = 30_000_000


def _check_grid_sizes(data: bytes, label: str) -> None:
    """Refuse a workbook whose sheets, as grids, hold more than
    MAX_WORKBOOK_CELLS cells, from their XML (`spend.sheet_extent`), before a
    reader opens it. (Binary .xlsb sheets are not measured.)"""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = worksheets(archive)

        def sizes(limit: int) -> list[tuple[int, int]]:
            return [grid_size(archive.read(member), limit) for _, member in sheets]

        # Quick bounds first; exact sizes only if the bounds pass the limit.
        grids = sizes(MAX_WORKBOOK_CELLS)
        if sum(rows * columns for rows, columns in grids) > MAX_WORKBOOK_CELLS:
            grids = sizes(0)
    used = 0
    for (sheet, _), (rows, columns) in zip(sheets, grids, strict=True):
        before, used = used, used + rows * columns
        if used > MAX_WORKBOOK_CELLS:
            corner = _column_name(max(columns, 1) - 1).removeprefix("column ")
            corner += str(rows)
            count = f"{used:,} cells" + (" with the sheets before it" if before else "")
            raise FileRefused(
                f'{label}: sheet "{sheet}" runs to cell {corner}, {count}, more '
                f"than the {MAX_WORKBOOK_CELLS:,} LocalSpend reads from a "
                "workbook. If most of it is empty, delete the rows and columns "
                "after the data (or copy the data to a new workbook), save it "
                "and upload it again."
            )


def _read_workbook(data: bytes, label: str) -> list[Sheet]:
    _check_grid_sizes(data, label)
    try:
        sheets = _read_with_calamine(data)
    except Exception:  # any calamine failure: try openpyxl
        sheets = _read_with_openpyxl(data, label)
    if not any(
        _has_content(cell) for sheet in sheets for row in sheet.rows for cell in row
    ):
        raise FileRefused(f"{label} is an Excel workbook with no data in any sheet.")
    return sheets


def _read_with_calamine(data: bytes) -> list[Sheet]:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    worksheet = python_calamine.SheetTypeEnum.WorkSheet
    sheets = []
    for meta in book.sheets_metadata:
        if meta.typ != worksheet:
            continue
        # skip_empty_area=False pads from A1, so list index + 1 = Excel row.
        raw = book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
        sheet = _sheet_from_cells(meta.name, raw)
        sheet.hidden = meta.visible != python_calamine.SheetVisibleEnum.Visible
        sheets.append(sheet)
    return sheets


def _read_with_openpyxl(data: bytes, label: str) -> list[Sheet]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds
        raise FileRefused(
            f"{label} could not be opened as an Excel workbook ({exc}): open it "
            "in Excel, save it again as .xlsx or CSV and upload that."
        ) from exc
    try:
        sheets = []
        for ws in book.worksheets:
            sheet = _sheet_from_cells(
                ws.title, ws.iter_rows(min_row=1, values_only=True)
            )
            sheet.hidden = ws.sheet_state != "visible"
            sheets.append(sheet)
        return sheets
    finally:
        book.close()


def _sheet_from_cells(name: str, raw: Iterable[Sequence[object]]) -> Sheet:
    rows = [[_native_cell(cell) for cell in row] for row in raw]
    return Sheet(name=name, rows=rows, row_numbers=list(range(1, len(rows) + 1)))


def _native_cell(cell: object) -> object:
    """Empty strings become None; whole-number floats become int (Excel
    stores every number as a float, so 107639310.0 is the integer 107639310)."""
    if isinstance(cell, str):
        return cell if cell != "" else None
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    return cell


# ---------------------------------------------------------------------------
# CSV text: decoding, delimiter, parsing
# ---------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 (BOM or not) or UTF-16 with a BOM; bytes that are not valid UTF-8
    are read as Windows-1252 (0xA3 = £), except that a 0x9C byte in a file
    without any 0xA3 is the DOS code page 437/850 £ (Hyndburn's ``Net
    Amount(œ)``). Decoding byte by byte also copes with files that mix the two.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # A truncated file (an odd number of bytes) or a damaged character (a lone
        # surrogate) must not stop the file: it reads as "\ufffd", and the cell it
        # is in is rejected or shown as it is.
        return data.decode("utf-16", errors="replace")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    handler = _DOS_POUND_HANDLER if _uses_dos_pound(data) else _CP1252_HANDLER
    return data.decode("utf-8", errors=handler)


def _uses_dos_pound(data: bytes) -> bool:
    return b"\x9c" in data and b"\xa3" not in data


def _cp1252_fallback(error: UnicodeError, dos_pound: bool) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    chunk = error.object[error.start : error.end]
    text = "".join(
        "£" if dos_pound and byte == 0x9C else _cp1252_char(byte) for byte in chunk
    )
    return text, error.end


def _cp1252_char(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined
        return chr(byte)


_CP1252_HANDLER = "localspend-cp1252"
_DOS_POUND_HANDLER = "localspend-cp1252-dos-pound"
codecs.register_error(_CP1252_HANDLER, lambda e: _cp1252_fallback(e, False))
codecs.register_error(_DOS_POUND_HANDLER, lambda e: _cp1252_fallback(e, True))


def _sniff_delimiter(text: str) -> str:
    """Comma, unless the first lines clearly use tab, semicolon or pipe more."""
    lines = [line for line in text[:65536].splitlines() if line.strip()]
    lines = lines[:_SAMPLE_LINES]
    if not lines:
        return ","
    best, best_count = ",", statistics.median(line.count(",") for line in lines)
    for candidate in ("\t", ";", "|"):
        counts = [line.count(candidate) for line in lines]
        if min(counts) >= 1 and statistics.median(counts) > best_count:
            best, best_count = candidate, statistics.median(counts)
    return best


def _parse_csv(text: str, label: str) -> list[list[object]]:
    """Parse CSV text; rows keep their own lengths (ragged rows stay ragged).

    ``newline=""`` lets the csv module see CR-only, LF and CRLF line endings and
    keep newlines inside quoted cells. Each *record* is one row, so a record
    whose quoted cell spans three lines is still one row: row numbers count
    records, as Excel does, not physical lines of the text.
    """
    return list(_csv_records(text, label))


def _csv_records(text: str, label: str) -> Iterator[list[str]]:
    """The records of CSV text, one list of cells each (see ``_parse_csv``)."""
    reader = _csv_reader(text)
    try:
        yield from reader
    except csv.Error as exc:
        raise _csv_refusal(label, reader.line_num, exc) from exc


def _csv_reader(text: str) -> Any:
    return csv.reader(_lines_of(text), delimiter=_sniff_delimiter(text))


# Characters str.splitlines breaks at but io.StringIO(newline="") does not.
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_SLICE = 1 << 20  # characters split into lines at a time


def _lines_of(text: str) -> Iterator[str]:
    """The lines of ``io.StringIO(text, newline="")``: ending at LF, CR LF or a
    bare CR, endings kept, without the copy of the text at four bytes a
    character that StringIO makes; a slice of the text at a time."""
    if any(char in text for char in _OTHER_BREAKS):  # fast: no regex over it all
        return iter(io.StringIO(text, newline=""))
    cuts, start, size = [0], 0, len(text)
    while start < size:
        cut = text.find("\n", start + _SLICE)  # a cut after LF keeps CR LF whole
        if cut == -1:
            cut = text.find("\r", start + _SLICE)  # no LF after: bare CR endings
        start = size if cut == -1 else cut + 1
        cuts.append(start)
    slices = map(text.__getitem__, map(slice, cuts, cuts[1:]))
    return chain.from_iterable(map(str.splitlines, slices, repeat(True)))


def _csv_refusal(label: str, line: int, error: csv.Error) -> FileRefused:
    return FileRefused(
        f"{label} could not be read as CSV at line {line} ({error}); "
        "an opening quote may never be closed."
    )


# ---------------------------------------------------------------------------
# find_blocks: header rows and data blocks
# ---------------------------------------------------------------------------

_ALNUM = re.compile(r"[^\W_]")
_DIGIT_OR_PUNCT = re.compile(r"[\d.,/:;()£$€%+\-]")


def find_blocks(sheet: Sheet) -> list[Block]:
    """Split a sheet into blocks, each starting at a header row.

    Rows above the first header (titles, report parameters, blank lines) are
    preamble and belong to no block. With no header anywhere the whole sheet is
    one block with ``header=None``. If data rows sit above the first header,
    they form a block of their own: with that header when nothing follows it
    (a header written at the bottom, as in Hyndburn's March-25 file), else with
    ``header=None``. Blank rows (no letter or digit in any cell, such as
    ``,,,,`` or Lambeth's ``,†††,,,``) are dropped and counted.
    """
    rows = sheet.rows
    starts = [i for i, row in enumerate(rows) if _is_header_row(row)]
    if not starts:
        block = _make_block(sheet, None, 0, len(rows))
        return [block] if block.rows else []
    ends = starts[1:] + [len(rows)]
    blocks = [
        _make_block(sheet, s, s + 1, e) for s, e in zip(starts, ends, strict=True)
    ]
    if not _data_above(rows[: starts[0]], rows[starts[0]]):
        return blocks
    if not blocks[0].rows:  # the header is at the bottom of the data
        return [_make_block(sheet, starts[0], 0, starts[0])] + blocks[1:]
    return [_make_block(sheet, None, 0, starts[0])] + blocks


def _data_above(above: list[list[object]], header: list[object]) -> bool:
    """Do the rows above the first header hold data rather than a preamble?

    A data row fills at least half of the header's columns and has a value (a
    number, a date …); preamble rows are mostly single titles or parameters.
    """
    width = sum(1 for cell in header if _has_content(cell))
    needed = max(2, (width + 1) // 2)
    filled = [row for row in above if not _is_blank(row)]
    data = [
        row
        for row in filled
        if sum(1 for cell in row if _has_content(cell)) >= needed
        and any(_is_value_cell(cell) for cell in row)
    ]
    return len(data) * 2 > len(filled)


def _is_value_cell(cell: object) -> bool:
    if isinstance(cell, str):
        return _looks_like_value(cell)
    return cell is not None


def _make_block(sheet: Sheet, header_at: int | None, start: int, end: int) -> Block:
    rows: list[list[object]] = []
    numbers: list[int] = []
    blank = 0
    for row, number in zip(
        sheet.rows[start:end], sheet.row_numbers[start:end], strict=True
    ):
        if _is_blank(row):
            blank += 1
        else:
            rows.append(row)
            numbers.append(number)
    header = (
        None if header_at is None else [clean_header(c) for c in sheet.rows[header_at]]
    )
    header_row = None if header_at is None else sheet.row_numbers[header_at]
    return Block(sheet.name, header, header_row, rows, numbers, blank)


def _has_content(cell: object) -> bool:
    if cell is None:
        return False
    if isinstance(cell, str):
        return _ALNUM.search(cell) is not None
    return True


def _is_blank(row: Sequence[object]) -> bool:
    return not any(_has_content(cell) for cell in row)


# The headings of the columns LocalSpend adds to a download of rejected rows
# ("LocalSpend: problem"), so that the corrected file, uploaded again, is read as
# the original was: they are not the council's columns.
LOCALSPEND_COLUMN = "LocalSpend: "
# The one naming each rejected row's row in the original file: a row without it
# was added to the download by the officer.
FILE_ROW_COLUMN = "LocalSpend: file row"


def is_localspend_column(heading: object) -> bool:
    return isinstance(heading, str) and heading.strip().casefold().startswith(
        LOCALSPEND_COLUMN.strip().casefold()
    )


def _is_header_row(row: Sequence[object]) -> bool:
    """Most non-empty cells are known column names (at least two), and no cell
    looks like a value (a number, a date, a reference full of digits). The
    columns LocalSpend adds to its rejected-rows download are left out."""
    texts: list[str] = []
    for cell in row:
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        if is_localspend_column(cell):
            continue
        if not isinstance(cell, str) or _looks_like_value(cell) or len(cell) > 80:
            return False
        texts.append(cell)
    if len(texts) < 2:
        return False
    known = sum(1 for text in texts if _is_known_name(_norm(text)))
    return known >= 2 and known * 2 >= len(texts)


def _looks_like_value(text: str) -> bool:
    chars = "".join(text.split())
    if not any(ch.isdigit() for ch in chars):
        return False
    return len(_DIGIT_OR_PUNCT.findall(chars)) * 2 >= len(chars)


# The same row tests, for readers that walk a sheet row by row instead of calling
# find_blocks (spend.parse streams big CSV files that way).
is_blank_row = _is_blank
has_content = _has_content
is_header_row = _is_header_row
has_data_above = _data_above
looks_like_value = _looks_like_value


def clean_header(value: object) -> str:
    """Strip, NBSP -> space, collapse inner whitespace, drop '*' prefixes and a
    trailing ':'; keep a £ / (£) suffix (``Name:  `` -> ``Name``)."""
    text = "" if value is None else str(value)
    text = text.replace("\u200b", "").replace("\ufeff", "")
    text = " ".join(text.replace("\xa0", " ").split())
    text = text.lstrip("* ").rstrip(": ").strip()
    return text


# ---------------------------------------------------------------------------
# recognise_columns: header names -> fields
# ---------------------------------------------------------------------------

# field -> tiers of normalised names ("|"-separated); a lower tier wins when
# several columns could be the same field.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "payment_date": (
        "payment date|date paid|paid date|invoice payment date|date of payment"
        "|pay date|payment run date|cheque date",
        "date|transaction date|effective date|posting date|posted date"
        "|processed date|process date|value date|date of transaction|period date"
        "|when|when paid|date spent",
        "invoice date|invoice creation date|invoice approval date"
        "|invoice posted date|invoice received date|date of invoice|approval date",
    ),
    "amount": (
        "net amount|net|amount excluding vat|amount excl vat|amount ex vat"
        "|net amount excluding vat|invoice net amount|sum of invoice net amount"
        "|net value|net total|amount net|net amount paid|value excluding vat"
        "|total excluding vat|amount exc vat|net amount gbp",
        "amount|amount paid|value|total|total invoice amount|total amount"
        "|payment amount|transaction amount|paid amount|invoice amount"
        "|invoice value|line amount|amount gbp|spend|expenditure"
        "|amount in sterling|sum of amount|value gbp|how much|amount spent|cost",
        "gross amount|gross|amount incl vat|amount including vat|amount inc vat"
        "|gross value|gross total|total including vat|total incl vat"
        "|gross amount paid|invoice gross amount",
    ),
    "supplier_name": (
        "supplier name|supplier|beneficiary name|beneficiary|vendor name|vendor"
        "|payee|payee name|merchant name|creditor name|creditor|supplier final"
        "|name of supplier|supplier trading name|recipient name|recipient"
        "|company name|supplier name final|beneficiary supplier name",
        "name|merchant|trading name|organisation paid|who|paid to|who paid"
        "|who was paid",
    ),
    "department": (
        "department|directorate|department area|service division|department name"
        "|directorate name|division|portfolio|service directorate"
        "|department description",
        "expense area|organisational unit|business unit|service block",
    ),
    "service_area": (
        "service area|service|service cost centre|cost centre"
        "|cost centre description|cost centre name|service area description"
        "|cost center|cost center description|service label|section"
        "|service area categorisation|responsible unit|team",
        "cost centre code|cost centre description code",
    ),
    "expense_type": (
        "expense type|expenses type|expenditure category|subjective description"
        "|subj description|purpose|account description|expense description"
        "|expenditure type|expense category|spend category|account detail"
        "|account name|subjective|nominal description|detailed expense type"
        "|expenditure description|purpose of expenditure|category"
        "|expenditure account|ledger description|expense type description",
        "account code|subjective code description",
    ),
    "description": (
        "description|narrative|details|item description|invoice description"
        "|line description|transaction description|description of goods"
        "|goods description|summary of purpose|what|what for",
    ),
    "transaction_ref": (
        "transaction number|transaction no|transaction id|transaction ref"
        "|transaction reference|hbc ref no|reference|ref|ref no|reference number"
        "|payment reference|payment number|payment ref|document number"
        "|document no|voucher number|voucher no|trans no|trans ref|transaction",
        "invoice number|invoice no|invoice ref|invoice reference|invoice id",
        "rec id|record id|id",
    ),
    "council_supplier_id": (
        "supplier id|supplier number|supplier no|supplier code|supplier ref"
        "|supplier reference|vendor id|vendor number|vendor no|vendor code"
        "|creditor id|creditor number|creditor no|creditor code|beneficiary id"
        "|payee id|supplier account|supplier account number",
        "beneficiary other id|supplier other id",
    ),
    "vat_number": (
        "vat reg no|vat registration number|vat number|vat registration no|vat no"
        "|vat reg number|supplier vat number|vat registration"
        "|supplier vat registration number|vat reg",
    ),
    "postcode": (
        "supplier postcode|postcode|beneficiary postcode|post code"
        "|supplier post code|vendor postcode|payee postcode|postal code",
    ),
    "irrecoverable_vat": (
        "irrecoverable vat|irrecoverable vat amount|irrecoverable vat amt"
        "|vat irrecoverable|non recoverable vat|irrecoverable vat gbp",
    ),
    "procurement_category": (
        "procurement category|merchant category|supplier classification"
        "|proclass label|proclass|proclass description|procurement classification"
        "|merchant category description",
        "merchant category code|proclass code",
    ),
}

# Names that are clearly column headers but map to no field (they count when
# deciding whether a row is a header).
_KNOWN_OTHER = frozenset(
    (
        "account|authority|body|body name|budget code|capital or revenue"
        "|capital revenue|comments|contract number|contract reference|costcuk"
        "|council|cpv code|creditor type|expenditure code|expense code"
        "|financial year|ledger code|line|line no|line number|local authority"
        "|month|name of body|notes|order number|organisation|organisation label"
        "|organisation name|organisation uri|period|po number|profit centre"
        "|purchase order number|quarter|subjective code|supplier type|vat"
        "|vat amount|year"
    ).split("|")
)

# Headings of a column naming the body that publishes the file (Craven's "Body
# Name", Devon's "Name of Body", Trafford's "OrganisationLabel"): read by no field,
# but a file naming another council was likely uploaded to the wrong one.
_BODY_HEADINGS = frozenset(
    (
        "authority|authority name|body|body name|council|council name"
        "|local authority|local authority name|name of body|organisation"
        "|organisation label|organisation name|publisher|publisher label"
        "|publisher name|publishing body"
    ).split("|")
)


def is_body_heading(heading: object) -> bool:
    """Does the heading name the column of the body publishing the file?"""
    return isinstance(heading, str) and _norm(heading) in _BODY_HEADINGS


_FIELD_LABELS = {
    "payment_date": "date",
    "amount": "amount",
    "supplier_name": "supplier",
    "department": "department",
    "service_area": "service area",
    "expense_type": "expense type",
    "description": "description",
    "transaction_ref": "reference",
    "council_supplier_id": "supplier ID",
    "vat_number": "VAT number",
    "postcode": "postcode",
    "irrecoverable_vat": "irrecoverable VAT",
    "procurement_category": "procurement category",
}
_PREFERENCE = {
    "payment_date": " (payment date preferred)",
    "amount": " (net preferred)",
}
_TEXT_FIELDS = frozenset(
    {"supplier_name", "department", "service_area", "expense_type", "description"}
)
_REQUIRED = ("payment_date", "amount", "supplier_name")
_FALLBACK_TIER = 5


def _build_lookup() -> dict[str, tuple[str, int]]:
    lookup: dict[str, tuple[str, int]] = {}
    for name, tiers in _SYNONYMS.items():
        for tier, names in enumerate(tiers):
            for synonym in names.split("|"):
                assert synonym not in lookup, synonym
                lookup[synonym] = (name, tier)
    return lookup


_LOOKUP = _build_lookup()


def _norm(name: str) -> str:
    """Casefolded words of a header: ``Net Amount(£)`` -> ``net amount``,
    ``BeneficiaryOtherID`` -> ``beneficiary other id``, ``Nett`` -> ``net``."""
    text = clean_header(name)
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    text = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", " ", text)
    text = text.casefold().replace("&", " and ")
    text = " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())
    return re.sub(r"\bnett\b", "net", text)


def _field_of(norm: str) -> tuple[str, int] | None:
    """The field a normalised header name means, and how strongly (tier)."""
    if norm in _LOOKUP:
        return _LOOKUP[norm]
    words = norm.split()
    if not words or len(words) > 4:
        return None
    return _fallback_field(set(words))


def _fallback_field(words: set[str]) -> tuple[str, int] | None:
    codes = {"id", "code", "number", "no", "ref", "reference", "type"}
    tier = _FALLBACK_TIER
    if "irrecoverable" in words:
        return "irrecoverable_vat", tier
    if "vat" in words and words & {"reg", "registration"}:
        return "vat_number", tier
    if "postcode" in words or {"post", "code"} <= words:
        return "postcode", tier
    if "date" in words:
        return "payment_date", tier + ("invoice" in words)
    if words & {"supplier", "beneficiary", "vendor", "payee", "creditor"}:
        if words & (codes | {"postcode", "classification", "category", "vat"}):
            return None
        return "supplier_name", tier
    if words & {"amount", "value", "total", "net", "gross", "amt"} and "vat" not in (
        words
    ):
        return "amount", tier + bool(words & {"gross", "incl", "including", "inc"})
    return None


def _is_known_name(norm: str) -> bool:
    return norm in _KNOWN_OTHER or _field_of(norm) is not None


def recognise_columns(header: list[str]) -> ColumnMapping:
    """Map cleaned header texts to ``FIELDS`` (0-based column indexes)."""
    candidates: dict[str, list[tuple[int, int]]] = {}
    for index, text in enumerate(header):
        found = _field_of(_norm(text))
        if found:
            candidates.setdefault(found[0], []).append((found[1], index))
    mapping = ColumnMapping()
    for name in FIELDS:
        if name in candidates:
            _choose(name, sorted(candidates[name]), header, mapping)
    _note_missing(mapping)
    used = set(mapping.columns.values())
    mapping.unmapped = [
        clean_header(text)
        for index, text in enumerate(header)
        if index not in used and clean_header(text)
    ]
    return mapping


def _choose(
    name: str, ranked: list[tuple[int, int]], header: list[str], mapping: ColumnMapping
) -> None:
    best_tier = ranked[0][0]
    best = [index for tier, index in ranked if tier == best_tier]
    chosen = best[0]
    texts = [clean_header(header[i]) for i in best]
    label = _FIELD_LABELS[name]
    if name in _TEXT_FIELDS and len(best) > 1 and len(set(texts)) == 1:
        chosen = best[-1]
        mapping.notes.append(
            f'{_count_word(len(best))} columns named "{texts[0]}": used the last '
            f"one for {label} (descriptions rather than codes)."
        )
    elif len(ranked) > 1:
        others = ", ".join(
            f'"{clean_header(header[i])}"' for _, i in ranked if i != chosen
        )
        why = _PREFERENCE.get(name, "") if ranked[-1][0] > best_tier else ""
        mapping.notes.append(
            f"{_count_word(len(ranked))} {label} columns: used "
            f'"{clean_header(header[chosen])}", not {others}{why}.'
        )
    mapping.columns[name] = chosen
    _note_weak_choice(name, best_tier, clean_header(header[chosen]), mapping)


def _note_weak_choice(name: str, tier: int, text: str, mapping: ColumnMapping) -> None:
    if name == "payment_date" and tier == 2:
        mapping.notes.append(
            f'No payment date column: used "{text}" as the payment date.'
        )
    elif name == "amount" and tier in (2, _FALLBACK_TIER + 1):
        mapping.notes.append(
            f'Only a gross amount column ("{text}"): amounts include VAT.'
        )
    elif tier >= _FALLBACK_TIER:
        mapping.notes.append(
            f'"{text}" was taken as the {_FIELD_LABELS[name]} column by its name '
            "alone: please confirm."
        )


def _note_missing(mapping: ColumnMapping) -> None:
    for name in _REQUIRED:
        if name not in mapping.columns:
            mapping.notes.append(f"No {_FIELD_LABELS[name]} column was recognised.")


_EXCLUDING = frozenset({"excluding", "excl", "exc", "ex", "exclusive", "before", "pre"})
_INCLUDING = frozenset({"including", "incl", "inc", "inclusive", "plus"})


def vat_basis_of_heading(text: str | None) -> str | None:
    """Whether an amount column's heading says its amounts are "net" or "gross"
    of VAT clearly ("Net Amount", "Amount excl. VAT"; "Gross", "Amount incl
    VAT"); None when it does not ("Amount", "Total") or says both."""
    words = set(_norm(text or "").split())
    net = "net" in words or ("vat" in words and bool(words & _EXCLUDING))
    gross = "gross" in words or ("vat" in words and bool(words & _INCLUDING))
    if net == gross:
        return None
    return "net" if net else "gross"


def _count_word(count: int) -> str:
    words = {2: "Two", 3: "Three", 4: "Four", 5: "Five"}
    return words.get(count, str(count))


def layout_key(header: list[str] | None, width: int) -> str:
    """A stable fingerprint of a header layout, to remember a council's mapping.

    Trailing empty header cells are ignored, so a month with a few extra
    trailing commas keeps the same key; empty spacer columns inside count. So
    are the columns LocalSpend adds to its rejected-rows download, after the
    council's: the corrected rows are read as the file they came from. Before
    them, so is a column headed by its own letter ("H"): the download's heading
    for a value beyond the original header (a row shifted along by an unquoted
    comma), which made the corrected file a layout of its own (QA).
    """
    if header is None:
        return f"{_HEADERLESS}{width}"
    names = [clean_header(text).casefold() for text in header]
    added = False  # LocalSpend's columns were found: the file is its download
    while names:
        last = names[-1]
        if last and is_localspend_column(last):
            added = True
        elif last and not (added and last == _column_letter(len(names) - 1)):
            break
        names.pop()
    return "|".join(names)


def _column_letter(index: int) -> str:
    """0-based index -> its letters, lower-cased as in a layout key: ``h``."""
    return _column_name(index).removeprefix("column ").casefold()


_HEADERLESS = "no-header:"


def is_headerless(layout: str) -> bool:
    """The layout of a file with no header row (`layout_key`): known by its width."""
    return layout.startswith(_HEADERLESS)


# ---------------------------------------------------------------------------
# guess_columns: a header-less block
# ---------------------------------------------------------------------------

_DATE_TEXT = re.compile(
    r"^\s*(\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}"
    r"|\d{4}-\d{1,2}-\d{1,2}([ T][\d:.]+)?"
    r"|\d{1,2}[ \-][A-Za-z]{3,9}[ \-]\d{2,4})\s*$"
)
_AMOUNT_TEXT = re.compile(
    r"^\s*[-+(]?\s*£?\s*-?\s*\d[\d,]*(\.\d+)?\s*\)?\s*(-|CR|DR)?\s*$", re.IGNORECASE
)
_TWO_DECIMALS = re.compile(r"\.\d\d\b")
_COMPANY_WORD = re.compile(
    r"\b(ltd|limited|plc|llp|cic|inc|co|council|trust|group|association|"
    r"partnership|society|foundation|charity|club|church|school|college|"
    r"university|solicitors|consulting|consultancy|company|uk|holdings|"
    r"enterprises|recruitment|resourcing|sons|bros)\b",
    re.IGNORECASE,
)


_Scorer = Callable[[list[object]], float]


def guess_columns(rows: list[list[object]]) -> ColumnMapping:
    """Guess the date, amount and supplier columns of a header-less block from
    the values; the note says they were guessed and need confirming."""
    sample = [row for row in rows if not _is_blank(row)][:_GUESS_SAMPLE]
    columns = _filled_columns(sample)
    mapping = ColumnMapping()
    date = _best(columns, _date_score, exclude=set())
    if date is not None:
        mapping.columns["payment_date"] = date
    amount = _best(columns, _amount_score, exclude={date})
    if amount is not None:
        mapping.columns["amount"] = amount
    supplier = _best(columns, _supplier_score, exclude={date, amount})
    if supplier is not None:
        mapping.columns["supplier_name"] = supplier
    mapping.notes.append(_guess_note(mapping))
    _note_missing(mapping)
    return mapping


def _filled_columns(sample: list[list[object]]) -> dict[int, list[object]]:
    """Column index -> its non-empty values, for columns filled in at least
    half of the sampled rows."""
    width = max((len(row) for row in sample), default=0)
    columns = {}
    for index in range(width):
        values = [
            row[index]
            for row in sample
            if index < len(row) and _has_content(row[index])
        ]
        if values and len(values) * 2 >= len(sample):
            columns[index] = values
    return columns


def _best(
    columns: dict[int, list[object]], score: _Scorer, exclude: set[int | None]
) -> int | None:
    scored = [
        (score(values), -index)
        for index, values in columns.items()
        if index not in exclude
    ]
    scored = [item for item in scored if item[0] > 0]
    return -max(scored)[1] if scored else None


def _share(values: list[object], test: Callable[[object], bool]) -> float:
    return sum(1 for value in values if test(value)) / len(values)


def _date_score(values: list[object]) -> float:
    share = _share(values, _is_date_value)
    if share < 0.8 and _are_excel_serial_dates(values):
        share = 1.0
    return share if share >= 0.8 else 0.0


def _is_date_value(value: object) -> bool:
    if isinstance(value, dt.date):
        return True
    return isinstance(value, str) and _DATE_TEXT.match(value) is not None


def _are_excel_serial_dates(values: list[object]) -> bool:
    """Whole numbers between 1982 and 2064 spanning under 400 days, e.g.
    Hyndburn's 43658 (12 Jul 2019)."""
    numbers = [_as_number(value) for value in values]
    if any(n is None or not float(n).is_integer() for n in numbers):
        return False
    low, high = min(numbers), max(numbers)  # type: ignore[type-var]
    return 30000 <= low and high <= 60000 and high - low < 400


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _AMOUNT_TEXT.match(value):
        digits = re.sub(r"[^\d.]", "", value)
        try:
            return float(digits)
        except ValueError:
            return None
    return None


def _amount_score(values: list[object]) -> float:
    """Numbers score 1; pence (two decimals) and sizeable values score more,
    so a line-number column (1, 2, 1 …) loses to the amounts."""
    numbers = [_as_number(value) for value in values]
    share = sum(1 for n in numbers if n is not None) / len(values)
    if share < 0.8:
        return 0.0
    pence = _share(
        values,
        lambda v: (
            isinstance(v, float)
            or (isinstance(v, str) and _TWO_DECIMALS.search(v) is not None)
        ),
    )
    sizeable = statistics.median(n for n in numbers if n is not None) >= 100
    return share + 0.5 * pence + 0.25 * sizeable


def _supplier_score(values: list[object]) -> float:
    """Text columns whose values often read like organisations (``Ltd``,
    ``Council`` …); a column holding one value (the council's own name) is not
    the supplier."""
    texts = [v for v in values if isinstance(v, str) and not _looks_like_value(v)]
    distinct = len({text.strip().casefold() for text in texts})
    if len(texts) < 0.8 * len(values) or distinct <= max(1, len(texts) // 50):
        return 0.0
    company = _share(texts, lambda v: _COMPANY_WORD.search(v) is not None)
    return company + 0.1 * distinct / len(texts) if company >= 0.05 else 0.0


# What a guessed column holds, said of its values: "dates from column A".
_GUESSED_VALUES = {
    "payment_date": "dates",
    "amount": "amounts",
    "supplier_name": "supplier names",
}


def _guess_note(mapping: ColumnMapping) -> str:
    """``With no header row, the columns were guessed from the values: dates from
    column A, amounts from column C and supplier names from column B.`` (The
    preview and a dry run ask for them to be checked; after an import this note
    says how they were read.)"""
    found = [
        f"{_GUESSED_VALUES.get(name, _FIELD_LABELS[name])} from {_column_name(index)}"
        for name, index in mapping.columns.items()
    ]
    if not found:
        return "With no header row, no column could be guessed from the values."
    return (
        "With no header row, the columns were guessed from the values: "
        f"{get_text_list(found, 'and')}."
    )


def _column_name(index: int) -> str:
    """0-based index -> spreadsheet letters: ``column O``, ``column AB``."""
    letters, number = "", index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return f"column {letters}"
