"""CSV downloads that are safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable

from django.http import HttpResponse

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?£?\d[\d,]*(\.\d+)?")


def neutralise(value: object) -> str:
    """Make a cell inert for Excel and LibreOffice (CSV injection): a text starting
    with = + - @ tab or CR gets a leading apostrophe; plain numbers are left alone."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_response(
    file_name: str, header: list[str], rows: Iterable[list]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response.write("\ufeff")  # so Excel reads UTF-8
    writer = csv.writer(response)
    writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return response
