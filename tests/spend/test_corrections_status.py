"""QA (finance): a month whose rejected rows were corrected, in rounds, says so.

February's four bad rows were put right in two rounds: a correction of the
file's rejected rows imported three, a correction of that correction's one
rejected row the last. The original's page and the uploads list say how many
of its rejected rows corrections have imported since (at any depth; one rolled
back does not count), the original's advice changes once all are, and a
correction names the file its rows came from first. Also: the preview gives
the heading row of each sheet of a layout, and rejected rows come in the
file's order, sheet by sheet as the workbook has them."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from spend.importer import (
    Corrections,
    _corrections_note,
    rollback_upload,
    rows_added,
)
from spend.models import SpendUpload
from tests.spend.test_upload_again import _detail_url, _preview_url, _upload

HEADER = "Payment Date,Supplier Name,Net Amount,Department\n"
FEB = (
    HEADER
    + "01/02/2025,Wardown Plumbing Ltd,100.00,Housing\n"
    + "31/02/2025,Beacon Catering Ltd,200.00,Schools\n"  # row 3: no 31 February
    + "02/02/2025,Acme Ltd,300.00,Housing\n"
    + "30/02/2025,Bravo Ltd,400.00,Schools\n"  # row 5: no 30 February
    + "03/02/2025,,500.00,Housing\n"  # row 6: no supplier
    + "04/02/2025,Delta Ltd,six hundred,Housing\n"  # row 7: no amount
    + ",Total,2100.00,\n"
).encode()


def _text(page) -> str:
    html = re.sub(
        r"<br>|</?(p|td|th|tr|li|h\d|div|dt|dd)\b[^>]*>", " ", page.content.decode()
    )
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def _import(client, council, data: bytes, name: str) -> SpendUpload:
    _upload(client, council, data, name)
    upload = SpendUpload.objects.get(file_name=name)
    if upload.status == "pending":  # a new layout: its columns checked
        form = client.get(_preview_url(council, upload)).context["form"]
        client.post(
            _preview_url(council, upload),
            {name: form[name].initial or "" for name in form.fields},
        )
    upload.refresh_from_db()
    assert upload.status == "imported", (upload.status, upload.message)
    return upload


def _download(client, council, upload) -> list[list[str]]:
    page = client.get(reverse("spend:upload-issues", args=[council.slug, upload.pk]))
    return list(csv.reader(io.StringIO(page.content.decode("utf-8-sig"))))


def _as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _fixed(rows: list[list[str]], fixes: dict[str, tuple[int, str]]) -> bytes:
    """The download with rows put right: by the row's file row, (column, value)."""
    at = rows[0].index("LocalSpend: file row")
    for row in rows[1:]:
        if row[at] in fixes:
            column, value = fixes[row[at]]
            row[column] = value
    return _as_csv(rows)


def _february_in_two_rounds(client, council, last: str = "600.00"):
    """feb.csv (4 rejected); fixed1 puts 3 right, the 4th still bad (1 of its
    rows rejected); fixed2 puts that one right."""
    feb = _import(client, council, FEB, "feb.csv")
    assert (feb.rows_imported, feb.rows_rejected) == (2, 4)
    first = _fixed(
        _download(client, council, feb),
        {"3": (0, "28/02/2025"), "5": (0, "27/02/2025"), "6": (1, "Echo Ltd")},
    )
    fixed1 = _import(client, council, first, "feb_rejected_fixed1.csv")
    assert (fixed1.corrects_id, fixed1.rows_imported, fixed1.rows_rejected) == (
        feb.pk,
        3,
        1,
    )
    second = _fixed(_download(client, council, fixed1), {"7": (2, last)})
    fixed2 = _import(client, council, second, "feb_rejected_fixed2.csv")
    assert (fixed2.corrects_id, fixed2.rows_imported, fixed2.rows_rejected) == (
        fixed1.pk,
        1,
        0,
    )
    return feb, fixed1, fixed2


def test_the_original_says_its_rejected_rows_were_all_corrected_in_two_rounds(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    feb, fixed1, fixed2 = _february_in_two_rounds(client, council)
    text = _text(client.get(_detail_url(council, feb)))
    assert f"All 4 since corrected (uploads #{fixed1.pk}, #{fixed2.pk})" in text
    # Both rounds named, not only the correction made from this file's download.
    assert (
        "All 4 rejected rows have since been corrected and imported. Corrected "
        "rows from this file were uploaded in feb_rejected_fixed1.csv (upload "
        f"#{fixed1.pk}, 3 payments imported) and feb_rejected_fixed2.csv (upload "
        f"#{fixed2.pk}, 1 payment imported). Nothing is left to correct." in text
    )
    # The stated total is met, with the corrections: no mismatch to act on.
    assert "Mismatch" not in text
    assert (
        "Matched The payments read from this file come to £400.00; with its 4 "
        "rejected rows since corrected and imported (£1,700.00, in uploads "
        f"#{fixed1.pk}, #{fixed2.pk}), they come to £2,100.00: the file's own "
        "total to the penny." in text
    )
    assert "upload them again" not in text
    assert "Correct them and upload that file" not in text


def test_the_original_says_how_many_are_still_to_correct_after_one_round(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    feb, fixed1, fixed2 = _february_in_two_rounds(client, council)
    rollback_upload(fixed2, user=finance_officer)  # rolled back: not counted
    text = _text(client.get(_detail_url(council, feb)))
    assert f"3 since corrected (upload #{fixed1.pk}), 1 still to correct" in text
    assert (
        "3 of the 4 rejected rows have since been corrected and imported. "
        "Corrected rows from this file were uploaded in feb_rejected_fixed1.csv "
        f"(upload #{fixed1.pk}, 3 payments imported, 1 row rejected again). 1 is "
        "still to correct." in text
    )
    assert (
        "Mismatch The payments read come to £400.00, a difference of £1,700.00. "
        "Check the 4 rejected rows (£1,100.00, not counting 1 whose amount could "
        f"not be read; 3 since corrected (upload #{fixed1.pk}), 1 still to correct) "
        "first" in text
    )
    assert f"upload #{fixed2.pk}" not in text
    # The correction's own rejected row, corrected by nothing live now.
    text = _text(client.get(_detail_url(council, fixed1)))
    assert "since corrected" not in text


def test_a_correction_of_a_correction_names_the_original_file(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    feb, fixed1, fixed2 = _february_in_two_rounds(client, council)
    text = _text(client.get(_detail_url(council, fixed2)))
    assert (
        f"Corrects rows of feb.csv (upload #{feb.pk}), through "
        f"feb_rejected_fixed1.csv (upload #{fixed1.pk}): the rows they rejected in "
        "turn, downloaded and put right." in text
    )
    text = _text(client.get(_detail_url(council, fixed1)))
    assert f"Corrects rows of feb.csv (upload #{feb.pk}): the rows it rejected" in text
    # Its row rejected again, by its row in the original file.
    assert "(row 7 of feb.csv)" in text
    # And its one rejected row, corrected by the second round.
    assert f"Since corrected (upload #{fixed2.pk})" in text


def test_rolling_the_original_back_names_both_rounds_left_imported(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    feb, fixed1, fixed2 = _february_in_two_rounds(client, council)
    page = client.get(reverse("spend:upload-rollback", args=[council.slug, feb.pk]))
    text = _text(page)
    assert (
        "This file's rejected rows, corrected, were uploaded in "
        "feb_rejected_fixed1.csv (3 payments, £1,100.00), feb_rejected_fixed2.csv "
        "(1 payment, £600.00). Rolling this file back leaves those uploads "
        "imported" in text
    )


def test_the_uploads_list_says_what_was_corrected_in_a_fixed_number_of_queries(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    feb, fixed1, fixed2 = _february_in_two_rounds(client, council)
    url = reverse("spend:uploads", args=[council.slug])
    with CaptureQueriesContext(connection) as few:
        text = _text(client.get(url))
    assert (
        f"4 rejected: all 4 since corrected (uploads #{fixed1.pk}, #{fixed2.pk})"
        in (text)
    )
    # Each correction names the file its rows came from first.
    assert text.count(f"Corrects rows of feb.csv (upload #{feb.pk})") == 2
    # More months, each with a correction: as many queries. (Rows 3 and 5
    # are good dates in March and May: rows 6 and 7 rejected.)
    for month in ("03", "05"):
        data = FEB.replace(b"/02/", f"/{month}/".encode())
        later = _import(client, council, data, f"{month}.csv")
        _import(
            client,
            council,
            _fixed(_download(client, council, later), {"6": (1, "Echo Ltd")}),
            f"{month}-fixed.csv",
        )
    with CaptureQueriesContext(connection) as more:
        text = _text(client.get(url))
    assert text.count("2 rejected: 1 since corrected") == 2
    assert "Corrects rows of 03.csv" in text
    assert len(more) == len(few), [q["sql"] for q in more]


def test_rows_added_to_a_correction_are_not_counted_as_corrected(
    client, finance_officer, council
):
    """The month's other payments pasted back into the download (no file row):
    already held, and not rows corrected."""
    client.force_login(finance_officer)
    feb = _import(client, council, FEB, "feb.csv")
    rows = _download(client, council, feb)
    width = len(rows[0])
    pasted = [
        ["01/02/2025", "Wardown Plumbing Ltd", "100.00", "Housing"],
        ["02/02/2025", "Acme Ltd", "300.00", "Housing"],
    ]
    rows += [row + [""] * (width - len(row)) for row in pasted]
    fixes = {
        "3": (0, "28/02/2025"),
        "5": (0, "27/02/2025"),
        "6": (1, "Echo Ltd"),
        "7": (2, "600.00"),
    }
    fixed = _import(client, council, _fixed(rows, fixes), "feb-fixed.csv")
    assert (fixed.rows_imported, fixed.rows_duplicate) == (4, 2)
    assert rows_added(fixed.notes) == 2
    corrected = Corrections(council.pk).corrected(feb)
    assert (corrected.corrected, corrected.still, corrected.amount) == (4, 0, None)
    # What the corrected rows came to is not known apart from the rows added.
    text = _text(client.get(_detail_url(council, feb)))
    assert (
        "have all since been corrected and imported (upload "
        f"#{fixed.pk}), but rows were added to that correction too, so LocalSpend "
        "cannot say what the corrected rows came to: check them against the "
        "difference." in text
    )


def test_rows_added_and_held_leave_the_rows_corrected_counted(
    client, finance_officer, council
):
    """One row put right, the others left out, and two pasted back: 1 of 4."""
    client.force_login(finance_officer)
    feb = _import(client, council, FEB, "feb.csv")
    rows = _download(client, council, feb)
    width = len(rows[0])
    at = rows[0].index("LocalSpend: file row")
    rows = [rows[0], *(row for row in rows[1:] if row[at] == "3")]
    rows += [
        ["01/02/2025", "Wardown Plumbing Ltd", "100.00", "Housing"] + [""] * (width - 4)
    ]
    _import(client, council, _fixed(rows, {"3": (0, "28/02/2025")}), "feb-fixed.csv")
    corrected = Corrections(council.pk).corrected(feb)
    assert (corrected.corrected, corrected.still) == (1, 3)


def test_corrections_that_come_to_another_amount_leave_a_mismatch(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    feb, fixed1, fixed2 = _february_in_two_rounds(client, council, last="650.00")
    text = _text(client.get(_detail_url(council, feb)))
    assert (
        "Mismatch The payments read from this file come to £400.00; with its 4 "
        "rejected rows since corrected and imported (£1,750.00, in uploads "
        f"#{fixed1.pk}, #{fixed2.pk}), they come to £2,150.00, a difference of "
        "£50.00 from the file's own total: ask whoever produced the file which is "
        "right." in text
    )


def test_the_note_of_rows_added_is_read_back():
    upload = SpendUpload(pk=7, file_name="feb.csv")
    assert rows_added(_corrections_note([upload], 1_234)) == 1_234
    assert rows_added(_corrections_note([upload], 1)) == 1
    assert rows_added(_corrections_note([upload], 0)) == 0
    assert rows_added([]) == 0


# ----------------------------------------------- a workbook: sheets in file order


def _workbook(sheets: list[tuple[str, int, list[list[str]]]]) -> bytes:
    """Sheets of (title, blank rows above the headings, rows)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, above, rows in sheets:
        sheet = book.create_sheet(title)
        for _ in range(above):
            sheet.append(["Luton Borough Council spend over £500"] if _ == 0 else [])
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADING = ["Payment Date", "Supplier Name", "Net Amount", "Department"]


def test_the_preview_gives_each_sheets_heading_row_where_they_differ(
    client, finance_officer, council
):
    month = [["03/11/2025", "Wardown Plumbing Ltd", "100.00", "Housing"]]
    data = _workbook(
        [
            ("Nov 2025", 0, [HEADING, *month]),
            ("Dec 2025", 4, [HEADING, *month]),
            ("Oct 2025", 0, [HEADING, *month]),
        ]
    )
    client.force_login(finance_officer)
    _upload(client, council, data, "autumn.xlsx")
    upload = SpendUpload.objects.get()
    text = _text(client.get(_preview_url(council, upload)))
    assert "Sheets with these columns: Nov 2025, Dec 2025, Oct 2025." in text
    assert (
        "Column headings found on row 1 of “Nov 2025” and “Oct 2025”, and on row 5 "
        "of “Dec 2025”: the rows under them are read alike." in text
    )
    assert "Column headings found on row 1." not in text


def test_a_layout_whose_sheets_agree_gives_one_heading_row(
    client, finance_officer, council
):
    month = [["03/11/2025", "Wardown Plumbing Ltd", "100.00", "Housing"]]
    data = _workbook(
        [("Nov 2025", 0, [HEADING, *month]), ("Dec", 0, [HEADING, *month])]
    )
    client.force_login(finance_officer)
    _upload(client, council, data, "autumn.xlsx")
    text = _text(client.get(_preview_url(council, SpendUpload.objects.get())))
    assert "Column headings found on row 1." in text


def _two_months_and_a_summary() -> bytes:
    """Jan 2025 and Feb 2025 (one layout, a bad row each: Feb's on row 13, Jan's
    on row 12), then a sheet of another layout: the download is a workbook."""
    good = ["03/01/2025", "Wardown Plumbing Ltd", "100.00", "Housing"]

    def month(bad_at: int, bad: list[str]) -> list[list[str]]:
        return [HEADING] + [good] * (bad_at - 2) + [bad]

    return _workbook(
        [
            ("Jan 2025", 0, month(12, ["31/01/2025", "", "10.00", "Housing"])),
            ("Feb 2025", 0, month(13, ["30/02/2025", "Acme Ltd", "20.00", "Schools"])),
            (
                "Grants",
                0,
                [
                    ["Date Paid", "Payee", "Gross Amount", "Grant Scheme"],
                    ["05/02/2025", "Luton Youth Club", "250.00", "Youth"],
                ],
            ),
        ]
    )


def test_rejected_rows_of_a_workbook_come_in_the_files_order(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    upload = _import(client, council, _two_months_and_a_summary(), "q1.xlsx")
    assert upload.rows_rejected == 2
    text = _text(client.get(_detail_url(council, upload)))
    assert text.index("Jan 2025, 12") < text.index("Feb 2025, 13")
    page = client.get(reverse("spend:upload-issues", args=[council.slug, upload.pk]))
    book = openpyxl.load_workbook(io.BytesIO(b"".join(page.streaming_content)))
    assert book.sheetnames == ["Jan 2025, Feb 2025"]
    rows = list(book["Jan 2025, Feb 2025"].values)
    sheet_at = rows[0].index("LocalSpend: sheet")
    assert [(row[sheet_at], row[sheet_at + 1]) for row in rows[1:]] == [
        ("Jan 2025", 12),
        ("Feb 2025", 13),
    ]
