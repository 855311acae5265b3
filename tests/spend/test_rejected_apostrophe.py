"""The rejected-rows download, put right and uploaded again, gives back its
cells as the council's file had them.

QA (session 13): the download puts an apostrophe before a cell starting with
= + - or @ (so a spreadsheet does not run it as a formula); uploaded again, the
payee "+Plus Ltd" was imported as "'+Plus Ltd", a new supplier, and a credit
note "- 520.00" was rejected again as "not an amount".
"""

from __future__ import annotations

from decimal import Decimal

from spend.models import SpendLine
from tests.spend.test_upload_views import (
    HEADER,
    _imported_with_one_rejected,
    _upload_corrected,
    rejected_rows,
)


def test_the_corrected_rows_come_back_without_the_downloads_apostrophe(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    bad = (
        HEADER
        + "01/04/2025,Wardown Plumbing Ltd,1000.00,1200.00,Housing\n"
        + "31/04/2025,+Plus Ltd,- 520.00,- 624.00,-Parks\n"
    ).encode()
    upload = _imported_with_one_rejected(client, council, bad)
    rows = rejected_rows(client, council, upload)
    assert rows[1][:5] == [
        "31/04/2025",
        "'+Plus Ltd",
        "'- 520.00",
        "'- 624.00",
        "'-Parks",
    ]
    rows[1][0] = "30/04/2025"  # only the date put right
    again = _upload_corrected(client, council, rows)
    again.refresh_from_db()
    assert (again.status, again.rows_imported, again.rows_rejected) == (
        "imported",
        1,
        0,
    )
    line = SpendLine.objects.get(upload=again)
    assert (line.supplier_name, line.amount, line.department) == (
        "+Plus Ltd",
        Decimal("-520.00"),
        "-Parks",
    )
    assert line.supplier.name == "+Plus Ltd"


def test_an_apostrophe_of_the_councils_own_is_kept(client, finance_officer, council):
    client.force_login(finance_officer)
    bad = (
        HEADER
        + "01/04/2025,Wardown Plumbing Ltd,1000.00,1200.00,Housing\n"
        + "31/04/2025,'Quoted Name Ltd,530.00,636.00,Housing\n"
    ).encode()
    upload = _imported_with_one_rejected(client, council, bad)
    rows = rejected_rows(client, council, upload)
    rows[1][0] = "30/04/2025"
    again = _upload_corrected(client, council, rows)
    assert SpendLine.objects.get(upload=again).supplier_name == "'Quoted Name Ltd"
