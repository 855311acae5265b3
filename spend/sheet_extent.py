"""How big each worksheet of an .xlsx file is as a grid, read from its XML before
any reader opens it.

The readers (calamine, openpyxl) give a sheet as a grid from A1 to its last cell,
and calamine allocates that grid whole when it opens the sheet: a few kilobytes
holding one cell at XFD1048576 ask for 17 billion cells, and the process dies
before any Python code can refuse it (security review). So the grid's size is
worked out here, from the cells' references (``r="XFD1048576"``), or, for rows
and cells that give none, from their count, and the file is refused before
either reader sees it (`spend.reading`).

The work is done at the C speed of ``bytes.count`` and ``re.search`` where it
can be: the longest references are looked for first, and every reference is read
only when the quick bounds could pass the limit.
"""

from __future__ import annotations

import html
import re
import zipfile
from posixpath import dirname, join, normpath

# A cell or row reference: r="AB12" (cell) or r="12" (row), with no prefix
# before r (ref="A1:B2" and the like are other attributes).
_REF = r'\sr="([A-Z]{%s})([0-9]{%s})"'
# A row or cell with no reference of its own: it follows the one before it.
_WITHOUT_REF = r"<(?:[A-Za-z_][\w.-]*:)?%s(?![^>]*\sr=)[\s/>]"
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
_MAX_ROWS, _MAX_COLUMNS = 1_048_576, 16_384  # Excel's


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _references(xml: bytes, letters: str, digits: str) -> re.Pattern | None:
    pattern = re.compile((_REF % (letters, digits)).encode())
    return pattern if pattern.search(xml) else None


def grid_size(xml: bytes, limit: int) -> tuple[int, int]:
    """(rows, columns) of a worksheet's grid from A1 to its last cell: an upper
    bound, exact for sheets whose cells all give their references, whenever
    rows x columns could pass `limit`."""
    # Bounds from the longest references: letters of a cell's column (1 to 3),
    # digits of a cell's or row's number (1 to 7).
    columns_by = next(
        (
            (found, {1: 26, 2: 702, 3: _MAX_COLUMNS}[count])
            for count in (3, 2, 1)
            if (found := _references(xml, str(count), "1,7"))
        ),
        (None, 0),
    )
    rows_by = next(
        (
            (found, min(10**count - 1, _MAX_ROWS))
            for count in range(7, 0, -1)
            if (found := _references(xml, "0,3", str(count)))
        ),
        (None, 0),
    )
    # Rows and cells with no reference follow the ones before them: each adds
    # one to the row, or to the column within its row.
    extra_rows = extra_columns = 0
    if re.search((_WITHOUT_REF % "row").encode(), xml):
        extra_rows = sum(1 for _ in _ROW_TAG.finditer(xml))
    if re.search((_WITHOUT_REF % "c").encode(), xml):
        extra_columns = max(
            sum(1 for _ in _CELL_TAG.finditer(part)) for part in xml.split(b"row>")
        )
    (by_columns, columns), (by_rows, rows) = columns_by, rows_by
    if (rows + extra_rows) * (columns + extra_columns) > limit:
        # Near or past the limit: the longest references, read one by one.
        if by_columns:
            columns = max(_column_number(m[1]) for m in by_columns.finditer(xml))
        if by_rows:
            rows = max(int(m[2]) for m in by_rows.finditer(xml))
    return rows + extra_rows, columns + extra_columns


def worksheets(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, member) of each worksheet of an .xlsx archive, in the
    workbook's order; a worksheet the workbook does not name keeps its member's
    name."""
    names = set(archive.namelist())
    found: list[tuple[str, str]] = []
    try:
        book = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        book = rels = b""
    targets = {}
    for tag in re.findall(rb"<(?:\w+:)?Relationship\b[^>]*>", rels):
        rid = re.search(rb'\sId="([^"]*)"', tag)
        target = re.search(rb'\sTarget="([^"]*)"', tag)
        if rid and target:
            path = target[1].decode("utf-8", "replace")
            path = path[1:] if path.startswith("/") else normpath(join("xl", path))
            targets[rid[1]] = path
    for tag in re.findall(rb"<(?:\w+:)?sheet\b[^>]*>", book):
        name = re.search(rb'\sname="([^"]*)"', tag)
        rid = re.search(rb'\s(?:\w+:)?id="([^"]*)"', tag)
        member = targets.get(rid[1]) if rid else None
        if name and member in names:
            found.append((html.unescape(name[1].decode("utf-8", "replace")), member))
    named = {member for _, member in found}
    for member in sorted(names):
        if (
            dirname(member) == "xl/worksheets"
            and member.endswith(".xml")
            and member not in named
        ):
            found.append((member.rsplit("/", 1)[-1].removesuffix(".xml"), member))
    return found
