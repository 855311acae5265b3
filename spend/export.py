"""CSV and Excel downloads that are safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?£?\d[\d,]*(\.\d+)?")


def neutralise(value: object) -> str:
    """Make a cell inert for Excel and LibreOffice (CSV injection): a text starting
    with = + - @ tab or CR gets a leading apostrophe; plain numbers are left alone."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def unneutralise(text: str) -> str:
    """Undo `neutralise` on a cell read back from one of LocalSpend's downloads
    (QA: a title "-Interim repairs" came back as "'-Interim repairs"): the
    apostrophe goes when `neutralise` would have put it there."""
    if text.startswith("'") and neutralise(text[1:]) == text:
        return text[1:]
    return text


def csv_response(
    file_name: str, header: list[str], rows: Iterable[list]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    response.write("\ufeff")  # so Excel reads UTF-8
    writer = csv.writer(response)
    writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return response


# --- Tables of typed values, as CSV (streamed) or Excel ---------------------------
#
# A row is a sequence of values: str, int, Decimal (money, 2 dp), date, bool or
# None. CSV writes dates as dd/mm/yyyy and money to the penny; Excel gets real
# date and number cells. Every text goes through `neutralise`.

UK_DATE = "%d/%m/%Y"


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime(f"{UK_DATE} %H:%M")
    if isinstance(value, date):
        return value.strftime(UK_DATE)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return "" if value is None else str(value)


def csv_cell(value: object) -> str:
    return neutralise(_text(value))


class _Echo:
    """A file-like object whose write returns the text, for streaming csv."""

    def write(self, text: str) -> str:
        return text


def csv_stream_response(
    file_name: str, rows: Iterable[Sequence]
) -> StreamingHttpResponse:
    """Stream `rows` as a CSV download, each cell made safe."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # so Excel reads UTF-8
        for row in rows:
            yield writer.writerow([csv_cell(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    return response


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "dd/mm/yyyy"


def xlsx_cell(sheet, value: object, *, bold: bool = False) -> WriteOnlyCell:
    """One cell: a number or date cell for numbers and dates, else an inert text
    (never a formula, whatever the text starts with). A text that would read as a
    formula is marked as Excel marks one typed with an apostrophe (quotePrefix):
    shown as written, still text if edited; the apostrophe the CSV needs would show
    here as part of the text (review: "'+44 1582 …")."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | date):
        text = ILLEGAL_CHARACTERS_RE.sub("", _text(value))
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"
        if neutralise(text) != text:
            cell.quotePrefix = True
    else:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, Decimal):
            cell.number_format = MONEY_FORMAT
        elif isinstance(value, date):
            cell.number_format = DATE_FORMAT
    if bold:
        cell.font = Font(bold=True)
    return cell


def xlsx_response(
    file_name: str,
    rows: Iterable[Sequence],
    *,
    title: str = "Sheet1",
    bold_rows: Iterable[int] = (),
    widths: Sequence[float] = (),
) -> FileResponse:
    """`rows` as a one-sheet Excel workbook, written in write-only mode (rows go
    straight to a temporary file, not held in memory). `bold_rows` are 0-based."""
    book = Workbook(write_only=True)
    _write_sheet(book, _sheet_title(title, set()), rows, bold_rows, widths)
    return _book_response(book, file_name)


def xlsx_sheets_response(
    file_name: str, sheets: Iterable[tuple[str, Iterable[Sequence]]]
) -> FileResponse:
    """A workbook of several sheets, each (title, rows), as `xlsx_response`
    writes one; titles made names Excel takes, each once ("April", "April 2")."""
    book = Workbook(write_only=True)
    taken: set[str] = set()
    for title, rows in sheets:
        _write_sheet(book, _sheet_title(title, taken), rows)
    if not taken:  # a workbook needs a sheet
        _write_sheet(book, "Sheet1", [])
    return _book_response(book, file_name)


# Characters Excel refuses in a sheet's name (openpyxl's ILLEGAL_CHARACTERS_RE
# has those it refuses anywhere).
_SHEET_NAME_UNSAFE = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_LONGEST = 31


def _sheet_title(title: str, taken: set[str]) -> str:
    """`title` as a sheet name Excel takes and the book has not (`taken`, which
    it joins, in lower case): "April", then "April 2"."""
    clean = ILLEGAL_CHARACTERS_RE.sub("", title)
    base = _SHEET_NAME_UNSAFE.sub(" ", clean).strip() or "Sheet1"
    name, number = base[:SHEET_NAME_LONGEST], 2
    while name.casefold() in taken:
        suffix = f" {number}"
        name = base[: SHEET_NAME_LONGEST - len(suffix)] + suffix
        number += 1
    taken.add(name.casefold())
    return name


def _write_sheet(
    book: Workbook,
    title: str,
    rows: Iterable[Sequence],
    bold_rows: Iterable[int] = (),
    widths: Sequence[float] = (),
) -> None:
    bold = set(bold_rows)
    sheet = book.create_sheet(title=title)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    for number, row in enumerate(rows):
        sheet.append([xlsx_cell(sheet, value, bold=number in bold) for value in row])


def _book_response(book: Workbook, file_name: str) -> FileResponse:
    output = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    book.save(output)
    output.seek(0)
    return FileResponse(
        output, as_attachment=True, filename=file_name, content_type=XLSX_TYPE
    )
