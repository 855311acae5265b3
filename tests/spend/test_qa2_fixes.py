"""QA round 2: the rejected rows of a corrected download, downloaded again, have
LocalSpend's columns once, not once more for each round of corrections."""

from __future__ import annotations

from spend.models import SpendLine, SpendUpload
from tests.spend.test_upload_views import (
    HEADER,
    _confirm,
    _upload,
    _upload_corrected,
    csv_bytes,
    rejected_rows,
)

COLUMNS = HEADER.strip().split(",")


def _added(upload: SpendUpload) -> list[str]:
    return [
        "LocalSpend: file row",
        "LocalSpend: column",
        "LocalSpend: problem",
        f"LocalSpend: rejected by upload {upload.pk}",
    ]


def _by_file_row(rows: list[list[str]]) -> dict[str, list[str]]:
    at = rows[0].index("LocalSpend: file row")
    return {row[at]: row for row in rows[1:]}


def test_rejected_rows_corrected_twice_keep_localspend_columns_once(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    bad = (
        HEADER
        + "01/04/2025,Wardown Plumbing Ltd,1000.00,1200.00,Housing\n"
        + "31/13/2025,Hyperlink Signs Ltd,55.00,66.00,Parks\n"
        + "32/04/2025,Beacon Catering Ltd,250.00,300.00,Schools\n"
        + "33/04/2025,Luton Bakery Ltd,40.00,48.00,Schools\n"
        + "34/04/2025,Amber Security Ltd,70.00,84.00,Housing\n"
    ).encode()
    _upload(client, council, bad)
    first = SpendUpload.objects.get()
    _confirm(client, council, first)
    first.refresh_from_db()
    assert (first.rows_imported, first.rows_rejected) == (1, 4)
    rows = rejected_rows(client, council, first)
    assert rows[0] == COLUMNS + _added(first)
    assert sorted(_by_file_row(rows)) == ["3", "4", "5", "6"]

    # Round 1: one row put right; another's date put right but its supplier
    # left out, so that it is rejected again for another problem.
    fixed = _by_file_row(rows)
    fixed["3"][0] = "30/04/2025"
    fixed["4"][0], fixed["4"][1] = "30/04/2025", ""
    second = _upload_corrected(client, council, rows, "fixed-1.csv")
    assert second.corrects == first
    assert (second.rows_imported, second.rows_rejected) == (1, 3)
    rows = rejected_rows(client, council, second)
    # The columns LocalSpend added are replaced, not added again (QA: four more
    # each round), naming the latest upload.
    assert rows[0] == COLUMNS + _added(second)
    assert all(len(row) == len(rows[0]) for row in rows)
    again = _by_file_row(rows)
    # Each row by its row in the original file, not in the corrected one.
    assert sorted(again) == ["4", "5", "6"]
    assert again["5"][:5] == [
        "33/04/2025",
        "Luton Bakery Ltd",
        "40.00",
        "48.00",
        "Schools",
    ]
    # The problem found now.
    assert again["4"][6] == 'B "Supplier Name"'
    assert "supplier" in again["4"][7].casefold()
    assert "date" in again["5"][7].casefold()
    assert again["5"][8] == "fixed-1.csv"

    # Round 2: read as the file it came from, naming the latest upload.
    again["4"][1] = "Beacon Catering Ltd"
    again["5"][0] = "30/04/2025"
    third = _upload_corrected(client, council, rows, "fixed-2.csv")
    assert third.corrects == second
    assert third.mappings[0]["source"] == "remembered"
    assert (third.rows_imported, third.rows_rejected) == (2, 1)
    rows = rejected_rows(client, council, third)
    assert rows[0] == COLUMNS + _added(third)
    assert [row[5] for row in rows[1:]] == ["6"]
    assert rows[1][:5] == [
        "34/04/2025",
        "Amber Security Ltd",
        "70.00",
        "84.00",
        "Housing",
    ]

    # And the last row put right imports: every payment once.
    rows[1][0] = "30/04/2025"
    fourth = _upload_corrected(client, council, rows, "fixed-3.csv")
    assert fourth.corrects == third
    assert (fourth.rows_imported, fourth.rows_rejected) == (1, 0)
    assert SpendLine.objects.filter(council=council).count() == 5


def test_a_download_with_the_columns_twice_corrects_the_latest_upload(
    client, finance_officer, council
):
    # A download from before the fix: each round's columns after the last's.
    client.force_login(finance_officer)
    bad = (
        HEADER
        + "01/04/2025,Wardown Plumbing Ltd,1000.00,1200.00,Housing\n"
        + "31/13/2025,Hyperlink Signs Ltd,55.00,66.00,Parks\n"
        + "32/04/2025,Beacon Catering Ltd,250.00,300.00,Schools\n"
    ).encode()
    _upload(client, council, bad)
    first = SpendUpload.objects.get()
    _confirm(client, council, first)
    rows = rejected_rows(client, council, first)
    rows[1][0] = "30/04/2025"
    second = _upload_corrected(client, council, rows, "fixed-1.csv")
    assert (second.rows_imported, second.rows_rejected) == (1, 1)
    header = COLUMNS + _added(first) + _added(second)
    row = ["30/04/2025", "Beacon Catering Ltd", "250.00", "300.00", "Schools"]
    old = [*row, "4", "Payment Date", "Not a date", "april.csv"]
    old += ["3", "Payment Date", "Not a date", "fixed-1.csv"]
    _upload(client, council, csv_bytes([header, old]), "fixed-2.csv")
    third = SpendUpload.objects.get(file_name="fixed-2.csv")
    assert third.corrects == second
    assert (third.rows_imported, third.rows_rejected) == (1, 0)
