"""The upload journey through the web pages (tasks run at once in tests)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from spend.export import neutralise
from spend.models import RememberedMapping, SpendLine, SpendUpload

HEADER = "Payment Date,Supplier Name,Net Amount,Gross Amount,Department\n"
GOOD = (
    HEADER
    + "01/04/2025,Wardown Plumbing Ltd,1000.00,1200.00,Housing\n"
    + "02/04/2025,Beacon Catering Ltd,250.00,300.00,Schools\n"
).encode()


def _file(data: bytes, name: str = "april.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def _upload(client, council, data: bytes, name: str = "april.csv"):
    return client.post(
        reverse("spend:upload", args=[council.slug]),
        {"file": _file(data, name), "vat_basis": "net"},
    )


def rejected_rows(client, council, upload) -> list[list[str]]:
    """The upload's rejected-rows download (a CSV), as rows."""
    download = client.get(
        reverse("spend:upload-issues", args=[council.slug, upload.pk])
    )
    return list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _imported_with_one_rejected(client, council, data: bytes) -> SpendUpload:
    """Upload and import `data`: one payment imported, one row rejected."""
    _upload(client, council, data)
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    upload.refresh_from_db()
    assert (upload.rows_imported, upload.rows_rejected) == (1, 1)
    return upload


def _confirm(client, council, upload, **changes):
    url = reverse("spend:upload-preview", args=[council.slug, upload.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].initial or "" for name in form.fields}
    data.update(changes)
    return client.post(url, data)


def _upload_corrected(client, council, rows, name: str = "fixed.csv"):
    """Upload the rejected rows `rows` as corrected (started at once, their
    layout remembered), and the upload they make."""
    _upload(client, council, csv_bytes(rows), name)
    return SpendUpload.objects.get(file_name=name)


def test_a_finance_officer_uploads_checks_the_columns_and_imports(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    response = _upload(client, council, GOOD)
    upload = SpendUpload.objects.get()
    assertRedirects(
        response, reverse("spend:upload-preview", args=[council.slug, upload.pk])
    )
    preview = client.get(response.url)
    assertContains(preview, "Check how the file will be read")
    assertContains(preview, "not &quot;Gross Amount&quot; (net preferred)")
    response = _confirm(client, council, upload)
    assertRedirects(
        response, reverse("spend:upload-detail", args=[council.slug, upload.pk])
    )
    upload.refresh_from_db()
    assert upload.status == "imported" and upload.uploaded_by == finance_officer
    assert SpendLine.objects.filter(upload=upload).count() == 2
    page = client.get(response.url)
    assertContains(page, "Reconciliation")
    assertContains(page, "£1,250.00")  # net, not gross


def test_next_month_in_the_same_layout_needs_no_clicks(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    _confirm(client, council, SpendUpload.objects.get())
    may = (HEADER + "01/05/2025,Wardown Plumbing Ltd,10.00,12.00,Housing\n").encode()
    response = _upload(client, council, may, "may.csv")
    upload = SpendUpload.objects.get(file_name="may.csv")
    assertRedirects(
        response, reverse("spend:upload-detail", args=[council.slug, upload.pk])
    )
    upload.refresh_from_db()
    assert upload.status == "imported" and upload.rows_imported == 1
    assert RememberedMapping.objects.filter(council=council).count() == 1


def test_a_changed_column_choice_is_used_and_remembered(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload, **{"b0-amount": "3"})  # the gross column
    upload.refresh_from_db()
    assert str(upload.amount_imported) == "1500.00"
    assert RememberedMapping.objects.get().columns["amount"] == 3


def test_the_same_file_again_says_when_and_by_whom(client, finance_officer, council):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    _confirm(client, council, SpendUpload.objects.get())
    response = _upload(client, council, GOOD, "april-again.csv")
    assertContains(response, "was already imported on")
    assertContains(response, "by fay-finance")
    # Given again under another name, the name it was imported under is said.
    assertContains(response, "by fay-finance, as &quot;")
    assert SpendUpload.objects.count() == 1


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    client, finance_officer, council, settings
):
    settings.MAX_UPLOAD_MB = 1
    client.force_login(finance_officer)
    big = GOOD + b"x" * (1024 * 1024)
    response = _upload(client, council, big)
    assertContains(response, "more than the 1 MB limit")
    assert not SpendUpload.objects.exists()


def test_a_web_page_saved_as_csv_is_refused_with_the_reason(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    page = _upload(
        client, council, b"<!DOCTYPE html><html><head><title>Oops</title></html>"
    )
    # Refused on the form, while the officer waits: no upload kept.
    assertContains(page, "is a web page (HTML), not a spreadsheet")
    assert not SpendUpload.objects.exists()


def test_a_file_without_a_header_must_have_its_columns_chosen(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    data = b"01/04/2025,Wardown Plumbing Ltd,1000.00\n02/04/2025,Beacon Ltd,20.00\n"
    _upload(client, council, data)
    upload = SpendUpload.objects.get()
    url = reverse("spend:upload-preview", args=[council.slug, upload.pk])
    assertContains(client.get(url), "No header row was found")
    response = client.post(
        url, {"b0-payment_date": "0", "b0-amount": "0", "b0-supplier_name": "1"}
    )
    assertContains(response, "Amount and payment date cannot be the same column")
    client.post(
        url, {"b0-payment_date": "0", "b0-amount": "2", "b0-supplier_name": "1"}
    )
    upload.refresh_from_db()
    assert upload.status == "imported" and upload.rows_imported == 2


def test_an_amount_split_by_its_comma_is_rejected_in_a_file_without_a_header(
    client, finance_officer, council
):
    """QA: "1,750.00" unquoted, in a file read without a header row, was imported
    as £1.00 ("1", then "750.00" in the next column); with a header it was
    rejected. The usual width of the first rows stands for the header's."""
    client.force_login(finance_officer)
    data = (
        b"01/09/2025,Wardown Cafe Ltd,550.00,W1\n"
        b"02/09/2025,Wardown Cafe Ltd,650.00,W2\n"
        b"03/09/2025,Marsh Farm Garage,1,750.00,W3\n"
        b"04/09/2025,Stopsley Books,20.00,W4\n"
        b"05/09/2025,Beacon Ltd,30.00\n"  # a last column left empty: fine
    )
    _upload(client, council, data)
    upload = SpendUpload.objects.get()
    url = reverse("spend:upload-preview", args=[council.slug, upload.pk])
    client.post(
        url, {"b0-payment_date": "0", "b0-amount": "2", "b0-supplier_name": "1"}
    )
    upload.refresh_from_db()
    assert (upload.status, upload.rows_imported, upload.rows_rejected) == (
        "imported",
        4,
        1,
    )
    (issue,) = upload.issues.filter(kind="rejected")
    assert issue.row == 3
    assert "look like one amount (1,750.00) split by a comma" in issue.message
    assert upload.amount_rejected == Decimal("1750.00")
    assert upload.amount_imported == Decimal("1250.00")


def test_rejected_rows_download_fix_and_upload_again(client, finance_officer, council):
    client.force_login(finance_officer)
    bad = (
        HEADER
        + "01/04/2025,Wardown Plumbing Ltd,1000.00,1200.00,Housing\n"
        + '31/13/2025,=HYPERLINK("x"),55.00,66.00,Parks\n'
    ).encode()
    upload = _imported_with_one_rejected(client, council, bad)
    rows = rejected_rows(client, council, upload)
    assert rows[0][:5] == [
        "Payment Date",
        "Supplier Name",
        "Net Amount",
        "Gross Amount",
        "Department",
    ]
    assert rows[1][0] == "31/13/2025" and rows[1][1] == '\'=HYPERLINK("x")'
    assert "Payment date" in rows[1][-2]
    # The last column names the upload: its corrected rows are its own.
    assert (rows[0][-1], rows[1][-1]) == (
        f"LocalSpend: rejected by upload {upload.pk}",
        upload.file_name,
    )
    rows[1][0], rows[1][1] = "30/04/2025", "Hyperlink Signs Ltd"
    # Read as the file it came from: the columns LocalSpend added to it leave its
    # layout as it was, so the remembered columns read it, without asking.
    again = _upload_corrected(client, council, rows)
    assert again.mappings[0]["source"] == "remembered"
    assert (again.rows_imported, again.rows_rejected) == (1, 0)
    assert SpendLine.objects.filter(council=council).count() == 2


def test_rejected_rows_keep_a_repeated_heading_as_both_columns(
    client, finance_officer, council
):
    """Craven's files have two "Account Code" columns (the code, then its name):
    the download gave one, so the corrected file lost a column and was another
    layout, its columns asked for again."""
    client.force_login(finance_officer)
    header = "Payment Date,Supplier Name,Account Code,Account Code,Net Amount\n"
    bad = (
        header
        + "06/03/2025,Brenntag Uk Ltd,1740,Chlorination,696.06\n"
        + "31/02/2025,Harrogate Borough Council,2280,Miscellaneous,1000.00\n"
    ).encode()
    upload = _imported_with_one_rejected(client, council, bad)
    rows = rejected_rows(client, council, upload)
    assert rows[0][:5] == header.strip().split(",")
    assert rows[1][:5] == [
        "31/02/2025",
        "Harrogate Borough Council",
        "2280",
        "Miscellaneous",
        "1000.00",
    ]
    rows[1][0] = "28/02/2025"
    again = _upload_corrected(client, council, rows)
    assert again.mappings[0]["source"] == "remembered"
    assert (again.status, again.rows_imported) == ("imported", 1)


def test_the_corrected_rows_are_linked_from_the_upload_they_came_from(
    client, finance_officer, council
):
    """QA: the original upload still listed its rejected rows with no word of
    their correction, and rolling it back said nothing of the upload holding
    them, corrected, which stays imported."""
    client.force_login(finance_officer)
    bad = (
        HEADER
        + "01/04/2025,Wardown Plumbing Ltd,1000.00,1200.00,Housing\n"
        + "31/04/2025,Beacon Catering Ltd,55.00,66.00,Parks\n"
    ).encode()
    upload = _imported_with_one_rejected(client, council, bad)
    rows = rejected_rows(client, council, upload)
    rows[1][0] = "30/04/2025"
    fixed = _upload_corrected(client, council, rows)
    detail = client.get(reverse("spend:upload-detail", args=[council.slug, upload.pk]))
    said = (
        "Corrected rows from this file were uploaded in "
        f'<a class="govuk-link" href="/c/{council.slug}/uploads/{fixed.pk}/">'
        f"fixed.csv</a> (upload #{fixed.pk}, 1 payment imported)."
    )
    assertContains(detail, said)
    rollback = client.get(
        reverse("spend:upload-rollback", args=[council.slug, upload.pk])
    )
    assertContains(rollback, "This file's rejected rows, corrected, were uploaded in")
    assertContains(rollback, "(1 payment, £55.00). Rolling this file back leaves that")


def test_a_corrected_row_identical_to_one_imported_from_its_file_is_imported(
    client, finance_officer, council
):
    """QA: two identical £390.00 rows of one file (one invoice, two deliveries):
    the second rejected for its date, corrected and uploaded again, was counted
    as already held (by the first, imported from the same file), and dropped.
    Nor is it called a correction of the first."""
    client.force_login(finance_officer)
    header = "Payment Date,Supplier Name,Net Amount,Transaction Number\n"
    bad = (
        header
        + "04/01/2025,Stanley Bros Tippers Ltd,390.00,B18578\n"
        + "04/13/2025,Stanley Bros Tippers Ltd,390.00,B18578\n"
    ).encode()
    upload = _imported_with_one_rejected(client, council, bad)
    rows = rejected_rows(client, council, upload)
    rows[1][0] = "04/01/2025"
    again = _upload_corrected(client, council, rows)
    if again.status == "pending":
        _confirm(client, council, again)
    again.refresh_from_db()
    assert (again.rows_imported, again.rows_duplicate) == (1, 0)
    assert again.corrects == upload
    assert SpendLine.objects.filter(council=council).count() == 2
    assert not any("transaction number" in note for note in again.notes)
    page = client.get(reverse("spend:upload-detail", args=[council.slug, again.pk]))
    assertContains(page, f"This file is the rows {upload.file_name} (upload #")
    # A second correction of the same rows (another download, say) finds the
    # first correction's payment held: nothing is counted twice.
    rows[1][3] = "B18578 "
    _upload(client, council, csv_bytes(rows), "fixed-again.csv")
    third = SpendUpload.objects.get(file_name="fixed-again.csv")
    if third.status == "pending":
        _confirm(client, council, third)
    third.refresh_from_db()
    assert (third.rows_imported, third.rows_duplicate) == (0, 1)


def test_the_months_good_rows_pasted_into_the_corrected_download_count_once(
    client, finance_officer, council
):
    """QA: an officer fixed the rejected row in the download and pasted the
    month's good rows back in (a whole month in one file): the good rows,
    imported from the original file, were imported again, as the corrected
    file's rows are not checked against the file they were rejected from. Rows
    without "LocalSpend: file row" are the officer's own: they are checked
    against it. A pasted copy of a split delivery counts once; the corrected
    twin is new."""
    client.force_login(finance_officer)
    header = "Payment Date,Supplier Name,Net Amount,Transaction Number\n"
    bad = (
        header
        + "01/04/2025,Wardown Plumbing Ltd,1000.00,A1\n"
        + "02/04/2025,Stanley Bros Tippers Ltd,390.00,B18578\n"
        + "02/04/2025,Stanley Bros Tippers Ltd,390.00,B18578x\n"
        + "31/04/2025,Stanley Bros Tippers Ltd,390.00,B18578\n"
    ).encode()
    _upload(client, council, bad)
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    upload.refresh_from_db()
    assert (upload.rows_imported, upload.rows_rejected) == (3, 1)
    rows = rejected_rows(client, council, upload)
    assert rows[0][4] == "LocalSpend: file row" and rows[1][4] == "5"
    rows[1][0] = "02/04/2025"
    blank = [""] * (len(rows[0]) - 4)
    rows += [
        ["01/04/2025", "Wardown Plumbing Ltd", "1000.00", "A1", *blank],
        ["02/04/2025", "Stanley Bros Tippers Ltd", "390.00", "B18578", *blank],
        ["02/04/2025", "Stanley Bros Tippers Ltd", "390.00", "B18578x", *blank],
    ]
    again = _upload_corrected(client, council, rows)
    if again.status == "pending":
        _confirm(client, council, again)
    again.refresh_from_db()
    assert (again.rows_read, again.rows_imported, again.rows_duplicate) == (4, 1, 3)
    assert again.amount_imported == Decimal("390.00")
    assert SpendLine.objects.filter(council=council).count() == 4
    page = client.get(reverse("spend:upload-detail", args=[council.slug, again.pk]))
    assertContains(
        page,
        f'Already held from: <a class="govuk-link" href="/c/{council.slug}/uploads/{upload.pk}/">april.csv</a>',
    )
    assertContains(page, "corrected, with 3 rows added (no “LocalSpend: file row”)")


def _workbook(sheets: dict[str, list[list]]) -> bytes:
    from openpyxl import Workbook, load_workbook  # noqa: F401

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_rejected_rows_of_two_layouts_download_as_a_sheet_each_and_upload_again(
    client, finance_officer, council
):
    """QA: a workbook whose sheets had different headings gave one CSV of every
    heading; corrected and uploaded, one sheet's columns were read and the other
    sheet's rows skipped as notes (£1,850 left out)."""
    from openpyxl import load_workbook

    client.force_login(finance_officer)
    data = _workbook(
        {
            "April": [
                ["Payment Date", "Supplier Name", "Net Amount"],
                ["01/04/2025", "Wardown Plumbing Ltd", 1000],
                ["31/04/2025", "Beacon Catering Ltd", 250],
            ],
            "May": [
                ["Transaction Date", "Payee", "Amount", "@Notes"],
                ["02/05/2025", "Dunstable Roofing", 400, "a"],
                ["02/05/2025", "Dunstable Roofing", "nine hundred", "b"],
                ["03/05/2025", "Chiltern Books", "9,50.00", "c"],
            ],
        }
    )
    client.post(
        reverse("spend:upload", args=[council.slug]),
        {
            "file": SimpleUploadedFile("spend.xlsx", data),
            "vat_basis": "net",
        },
    )
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    upload.refresh_from_db()
    assert (upload.rows_imported, upload.rows_rejected) == (2, 3)
    page = client.get(reverse("spend:upload-detail", args=[council.slug, upload.pk]))
    assertContains(page, "Download the rejected rows (Excel, a sheet for each layout)")
    download = client.get(
        reverse("spend:upload-issues", args=[council.slug, upload.pk])
    )
    assert download["Content-Disposition"].endswith('spend-rejected-rows.xlsx"')
    book = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert book.sheetnames == ["April", "May"]
    april, may = (
        [list(r) for r in book[t].iter_rows(values_only=True)] for t in book.sheetnames
    )
    assert april[0] == [
        "Payment Date",
        "Supplier Name",
        "Net Amount",
        "LocalSpend: sheet",
        "LocalSpend: file row",
        "LocalSpend: column",
        "LocalSpend: problem",
        f"LocalSpend: rejected by upload {upload.pk}",
    ]
    assert april[1][:5] == ["31/04/2025", "Beacon Catering Ltd", "250", "April", 3]
    # A heading is not a formula either: shown as written, marked as text.
    assert may[0][3] == "@Notes"
    assert book["May"]["D1"].quotePrefix
    assert [row[:3] + row[4:6] for row in may[1:]] == [
        ["02/05/2025", "Dunstable Roofing", "nine hundred", "May", 3],
        ["03/05/2025", "Chiltern Books", "9,50.00", "May", 4],
    ]
    # Corrected as the page says, and uploaded again: every row is read.
    april[1][0] = "30/04/2025"
    may[1][2], may[2][2] = "900.00", "950.00"
    fixed = _workbook({"April": april, "May": may})
    client.post(
        reverse("spend:upload", args=[council.slug]),
        {"file": SimpleUploadedFile("fixed.xlsx", fixed), "vat_basis": "net"},
    )
    again = SpendUpload.objects.get(file_name="fixed.xlsx")
    if again.status == "pending":
        _confirm(client, council, again)
    again.refresh_from_db()
    assert (again.rows_imported, again.rows_rejected, again.rows_skipped) == (3, 0, 0)
    assert again.amount_imported == 250 + 900 + 950


def test_a_sheets_total_that_differs_is_a_warning_at_the_top(
    client, finance_officer, council
):
    """QA: a sheet's stated total that its payments did not come to was said only
    inside the folded "How the file was read"."""
    client.force_login(finance_officer)
    header = ["Payment Date", "Supplier Name", "Net Amount"]
    data = _workbook(
        {
            "April": [header, ["01/04/2025", "Wardown Plumbing Ltd", 1000]],
            "May": [
                header,
                ["02/05/2025", "Beacon Catering Ltd", 800],
                ["", "Total", 2500],
            ],
        }
    )
    client.post(
        reverse("spend:upload", args=[council.slug]),
        {"file": SimpleUploadedFile("spend.xlsx", data), "vat_basis": "net"},
    )
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    page = client.get(
        reverse("spend:upload-detail", args=[council.slug, upload.pk])
    ).content.decode()
    said = (
        "Sheet &quot;May&quot; states a total of £2,500.00, but its payments come to "
        "£800.00"
    )
    warning = page.index('<span class="govuk-visually-hidden">Warning: </span>' + said)
    assert warning < page.index('<h2 class="govuk-heading-m">Reconciliation</h2>')
    assert page.count(said) == 1  # not repeated among the notes


def test_an_empty_file_is_refused_by_its_name(client, finance_officer, council):
    """QA: the browser said only "The submitted file is empty." (Django's words),
    where the command line names the file."""
    client.force_login(finance_officer)
    response = _upload(client, council, b"", "zero bytes.csv")
    assertContains(
        response,
        "“zero bytes.csv” is empty (0 bytes): there is nothing in it to import.",
    )
    assert not SpendUpload.objects.exists()


def test_a_file_with_no_amount_column_says_what_to_do(client, finance_officer, council):
    client.force_login(finance_officer)
    data = (
        b"Payment Date,Supplier Name,Department\n01/04/2025,Wardown Plumbing,Housing\n"
    )
    _upload(client, council, data)
    upload = SpendUpload.objects.get()
    response = _confirm(client, council, upload)
    assertContains(
        response,
        "Choose the column that holds the amount. A spend file needs one: if this "
        "file has none, discard it and export it again with the amounts",
    )


def test_trans_no_is_read_as_the_transaction_reference():
    from spend.reading import recognise_columns

    mapping = recognise_columns(["Date", "Supplier", "Amount", "Trans No"])
    assert mapping.columns["transaction_ref"] == 3


def test_rollback_needs_a_post_and_upload_rights(
    client, finance_officer, viewer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    url = reverse("spend:upload-rollback", args=[council.slug, upload.pk])
    assertContains(client.get(url), "Are you sure")
    client.force_login(viewer)
    assert client.post(url).status_code == 403
    assert SpendLine.objects.count() == 2
    client.force_login(finance_officer)
    client.post(url)
    upload.refresh_from_db()
    assert upload.status == "rolled_back" and not SpendLine.objects.exists()
    # Sent again (Back, or another tab): said so, by whom (QA: "Only an
    # imported file can be rolled back.").
    again = client.post(url, follow=True)
    assertContains(again, "april.csv was already rolled back, by fay-finance on ")


def test_the_rollback_page_names_the_later_file_to_roll_back_first(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    first = SpendUpload.objects.get()
    _confirm(client, council, first)
    _upload(
        client,
        council,
        GOOD + b"03/05/2025,Beacon Catering Ltd,10.00,12.00,Schools\n",
        "q.csv",
    )
    later = SpendUpload.objects.get(file_name="q.csv")  # imported: same layout
    assert (later.rows_imported, later.rows_duplicate) == (1, 2)
    url = reverse("spend:upload-rollback", args=[council.slug, first.pk])
    page = client.get(url)
    assertContains(page, "Roll back the later file first")
    # Each file named, not "this file" for both (QA).
    assertContains(
        page,
        "The file below was imported after april.csv and counted some of its "
        "payments as already held, because april.csv holds them:",
    )
    assertContains(page, "2 payments (£1,250.00) found already held, all in april.csv")
    assertContains(page, "Rolled back on its own, april.csv would take")
    assertNotContains(page, "Roll back the file</button>")
    response = client.post(url, follow=True)
    assertContains(response, "Roll back “q.csv” first")
    first.refresh_from_db()
    assert first.status == "imported"


def test_the_rollback_page_says_a_later_files_held_payments_are_in_other_files_too(
    client, finance_officer, council
):
    """QA: the page gave the later file's whole count of held payments as if
    this file held them all (4,093 payments, £58.7m, against a 3-row file)."""
    client.force_login(finance_officer)
    rows = GOOD.decode().splitlines(keepends=True)
    _upload(client, council, (rows[0] + rows[1]).encode(), "a.csv")
    first = SpendUpload.objects.get()
    _confirm(client, council, first)
    _upload(client, council, (rows[0] + rows[2]).encode(), "b.csv")
    _upload(client, council, GOOD, "both.csv")
    later = SpendUpload.objects.get(file_name="both.csv")
    assert (later.rows_imported, later.rows_duplicate) == (0, 2)
    page = client.get(reverse("spend:upload-rollback", args=[council.slug, first.pk]))
    assertContains(
        page,
        "2 payments (£1,250.00) found already held, in a.csv and 1 other together",
    )


@pytest.mark.parametrize(
    "extra, says",
    [
        ("", "No row was rejected, so the file's own total and its rows disagree"),
        (
            "03/04/2025,Beacon Catering Ltd,ten,12.00,Schools\n",
            "Check the 1 rejected row (£0.00, not counting 1 whose amount could not "
            "be read) first",
        ),
    ],
)
def test_a_stated_total_that_does_not_match_is_explained_to_the_penny(
    client, finance_officer, council, extra, says
):
    client.force_login(finance_officer)
    pennies = "04/04/2025,Beacon Catering Ltd,0.50,0.60,Schools\n"
    data = GOOD + (pennies + extra + ",Total,1250.75,,\n").encode()
    _upload(client, council, data)
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    page = client.get(reverse("spend:upload-detail", args=[council.slug, upload.pk]))
    # £1,250.50 read against £1,250.75 stated: pennies are not lost to rounding.
    assertContains(page, "The payments read come to £1,250.50, a difference of £0.25")
    assertContains(page, says)


def test_rejected_rows_with_no_readable_amount_are_said_to_be_left_out(
    client, finance_officer, council
):
    """QA: rows rejected for an amount that could not be read count as £0 in the
    rejected amount, and the page never said so."""
    client.force_login(finance_officer)
    data = GOOD + (
        b"03/04/2025,Beacon Catering Ltd,n/a,12.00,Schools\n"
        b'04/04/2025,Beacon Catering Ltd,"1.234,56",12.00,Schools\n'
        b"31/02/2025,Beacon Catering Ltd,1500.00,1800.00,Schools\n"
    )
    _upload(client, council, data)
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    upload.refresh_from_db()
    assert (upload.rows_rejected, upload.amount_rejected) == (3, 1500)
    page = client.get(reverse("spend:upload-detail", args=[council.slug, upload.pk]))
    assertContains(
        page,
        "2 of the 3 rejected rows have no amount LocalSpend could read, so the "
        "amounts above leave them out. They are listed below with their problems.",
    )


def test_a_failed_import_can_be_tried_again(
    client, finance_officer, council, monkeypatch
):
    from spend import importer

    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    upload = SpendUpload.objects.get()
    real = importer.save_lines
    monkeypatch.setattr(
        importer, "save_lines", lambda *a: (_ for _ in ()).throw(OSError("disk"))
    )
    _confirm(client, council, upload)
    upload.refresh_from_db()
    assert upload.status == "failed" and not SpendLine.objects.exists()
    assertContains(
        client.get(reverse("spend:upload-detail", args=[council.slug, upload.pk])),
        "Try this file again",
    )
    monkeypatch.setattr(importer, "save_lines", real)
    preview = client.post(
        reverse("spend:upload-retry", args=[council.slug, upload.pk]), follow=True
    )
    # The preview says why the columns are asked again (QA: no word of it).
    assertContains(preview, "Trying the file again from the start")
    _confirm(client, council, upload)
    upload.refresh_from_db()
    assert upload.status == "imported" and upload.attempt == 2


def test_the_progress_poll_asks_for_a_refresh_once_finished(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    url = reverse("spend:upload-detail", args=[council.slug, upload.pk])
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 204 and response["HX-Refresh"] == "true"


def test_the_progress_poll_shows_rows_while_importing(client, finance_officer, council):
    client.force_login(finance_officer)
    upload = SpendUpload.objects.create(
        council=council,
        file_name="x.csv",
        sha256="f" * 64,
        status="importing",
        rows_expected=200,
        progress_rows=50,
    )
    from django.utils import timezone

    upload.heartbeat_at = timezone.now()
    upload.save()
    url = reverse("spend:upload-detail", args=[council.slug, upload.pk])
    assertContains(
        client.get(url, headers={"HX-Request": "true"}), "50 of 200 rows read (25%)"
    )
    # Every row read: the bar says what it is doing rather than sit at 99%.
    upload.progress_rows = 200
    upload.save()
    poll = client.get(url, headers={"HX-Request": "true"})
    assertContains(poll, "All 200 rows read. Saving the payments")
    assertNotContains(poll, "(99%)")


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+2", "'=1+2"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("-689.70", "-689.70"),
        ("-£1,200.00", "-£1,200.00"),
        ("-x", "'-x"),
        ("Acme", "Acme"),
    ],
)
def test_exported_cells_cannot_run_as_formulas(cell, safe):
    assert neutralise(cell) == safe


def test_a_summary_of_totals_per_supplier_is_refused_at_preview(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    page = _upload(
        client, council, b'Supplier Name,Total\nAcme Ltd,"3,228.86"\nBeacon Ltd,12.00\n'
    )
    # Refused on the form, while the officer waits: no upload kept.
    assertContains(page, "looks like a summary of totals per supplier")
    assert not SpendUpload.objects.exists()


def test_a_date_column_with_an_odd_heading_can_still_be_chosen(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, b"Supplier Name,Amount,When\nAcme Ltd,10.00,01/04/2025\n")
    upload = SpendUpload.objects.get()
    url = reverse("spend:upload-preview", args=[council.slug, upload.pk])
    assertContains(client.get(url), "Which column holds each item?")
    client.post(
        url, {"b0-payment_date": "2", "b0-amount": "1", "b0-supplier_name": "0"}
    )
    upload.refresh_from_db()
    assert upload.status == "imported"


def test_a_refused_file_offers_a_new_upload_not_a_retry(
    client, finance_officer, council
):
    from spend.importer import mark_failed

    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    upload = SpendUpload.objects.get()
    # Refused once read (by the preview or the import), not on the form.
    mark_failed(upload, '"april.csv" is a web page (HTML), not a spreadsheet.')
    page = client.get(
        reverse("spend:upload-preview", args=[council.slug, upload.pk]), follow=True
    )
    assertContains(page, "Upload a corrected file")
    assert "Try this file again" not in page.content.decode()
    retry = reverse("spend:upload-retry", args=[council.slug, upload.pk])
    assert client.post(retry).status_code == 403


def test_a_workbook_with_a_notes_sheet_previews_and_imports_its_payments(
    client, finance_officer, council
):
    from tests.spend.test_importer import SPEND_SHEET, _workbook

    data = _workbook(
        ("Read me", [["About this file"], ["Published monthly"]], False),
        ("Spend", SPEND_SHEET, False),
    )
    client.force_login(finance_officer)
    _upload(client, council, data, "april.xlsx")
    upload = SpendUpload.objects.get()
    preview = client.get(
        reverse("spend:upload-preview", args=[council.slug, upload.pk])
    )
    assertContains(preview, "Sheet &quot;Read me&quot; (2 rows) was left out")
    assert len(preview.context["blocks"]) == 1
    _confirm(client, council, upload)
    upload.refresh_from_db()
    assert (upload.status, upload.rows_imported) == ("imported", 2)


def test_the_uploads_list_fits_the_page_with_separated_counts_and_pennies(
    client, finance_officer, council, make_upload
):
    """Five columns (who under when; where the rows went in one cell), counts
    with thousands separators and amounts to the penny."""
    from decimal import Decimal

    make_upload(
        council,
        file_name="big.csv",
        rows_read=13469,
        rows_imported=12345,
        rows_rejected=1,
        rows_duplicate=1000,
        rows_skipped=123,
        amount_imported=Decimal("1234567.8"),
    )
    client.force_login(finance_officer)
    page = client.get(reverse("spend:uploads", args=[council.slug]))
    headers = [column.header for column in page.context["table"].columns]
    assert headers == ["File", "Uploaded", "Status", "Rows", "Amount imported"]
    assertContains(page, "13,469 read<br>12,345 imported<br>1 rejected<br>")
    assertContains(page, "1,000 already held<br>123 skipped")
    assertContains(page, "£1,234,567.80")
    assertContains(page, '<span class="ls-muted">by the command line</span>')
    assertNotContains(page, "12345")


@pytest.mark.parametrize(
    ("buckets", "label", "says"),
    [
        (
            {"rows_read": 2, "rows_duplicate": 2},
            "Imported: nothing new",
            "Every payment in this file was already held from an earlier file",
        ),
        (
            {"rows_read": 3, "rows_rejected": 3},
            "Imported: every row rejected",
            "No payment was added: correct the rejected rows",
        ),
        (
            {"rows_read": 3, "rows_rejected": 1, "rows_duplicate": 2},
            "Imported: nothing new, the rest rejected",
            "2 payments were already held and 1 row rejected",
        ),
    ],
)
def test_an_imported_file_that_added_nothing_says_so(
    client, finance_officer, council, make_upload, buckets, label, says
):
    upload = make_upload(council, file_name="again.csv", **buckets)
    client.force_login(finance_officer)
    listed = client.get(reverse("spend:uploads", args=[council.slug]))
    assertContains(
        listed, f'<strong class="govuk-tag govuk-tag--yellow">{label}</strong>'
    )
    page = client.get(reverse("spend:upload-detail", args=[council.slug, upload.pk]))
    assertContains(page, f"{label}. {says}")
    assertNotContains(page, "See the payments imported from this file")


def test_an_import_with_rows_is_simply_imported(council, make_upload):
    upload = make_upload(council, rows_read=3, rows_imported=1, rows_duplicate=2)
    assert (upload.status_label, upload.status_colour) == ("Imported", "green")


def test_a_total_row_is_shown_apart_not_added_into_the_amount_read(
    client, finance_officer, council
):
    from decimal import Decimal

    client.force_login(finance_officer)
    _upload(client, council, GOOD + b",Total,1250.00,,\n")
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    upload.refresh_from_db()
    assert (upload.rows_read, upload.rows_imported, upload.rows_skipped) == (3, 2, 1)
    assert upload.amount_skipped == Decimal("1250.00")
    assert upload.amount_read == Decimal("1250.00")  # the payments, not doubled
    page = client.get(reverse("spend:upload-detail", args=[council.slug, upload.pk]))
    html = page.content.decode()
    read_row = html[html.index(">Rows read</th>") :].split("</tr>")[0]
    assert "<strong>3</strong>" in read_row and "<strong>£1,250.00</strong>" in read_row
    assertNotContains(page, "£2,500.00")
    skipped_row = html[html.index(">Total and note rows skipped</th>") :]
    assert "not payments" in skipped_row.split("</tr>")[0]
    assertContains(
        page,
        "The 1 skipped row holds <strong>£1,250.00</strong>: the file's own totals, "
        "not payments, so not added in above.",
    )


def test_the_page_names_the_earlier_files_holding_the_duplicate_rows(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    april = SpendUpload.objects.get()
    _confirm(client, council, april)
    # A payment of 1 April again, and a new one on 3 April (imported at once:
    # the layout is remembered).
    more = (
        HEADER
        + "01/04/2025,Wardown Plumbing Ltd,1000.00,1200.00,Housing\n"
        + "03/04/2025,Beacon Catering Ltd,75.00,90.00,Schools\n"
    ).encode()
    _upload(client, council, more, "april-more.csv")
    later = SpendUpload.objects.get(file_name="april-more.csv")
    assert (later.rows_imported, later.rows_duplicate) == (1, 1)
    url = reverse("spend:upload-detail", args=[council.slug, later.pk])
    page = client.get(url)
    april_url = reverse("spend:upload-detail", args=[council.slug, april.pk])
    assertContains(
        page,
        f'Already held from: <a class="govuk-link" href="{april_url}">april.csv</a> '
        "(the file holding those payments).",
    )
    # The earlier file names no later one, and has no duplicates to explain.
    april.refresh_from_db()
    assert april.earlier_uploads_holding_duplicates() == []
    first = client.get(reverse("spend:upload-detail", args=[council.slug, april.pk]))
    assertNotContains(first, "Already held from:")


def test_a_file_is_tied_only_to_the_earlier_files_holding_its_duplicates_dates(
    client, finance_officer, council
):
    """QA: a file whose payments already held were June's named the July file too
    (same months widened), and the July file could not be rolled back until the
    later file was: neither holds any of its rows."""
    from spend.importer import uploads_relying_on

    client.force_login(finance_officer)
    june = HEADER + "02/06/2025,Wardown Plumbing Ltd,1000.00,1200.00,Housing\n"
    july = HEADER + "30/06/2025,Beacon Catering Ltd,250.00,300.00,Schools\n"
    for name, data in (("june.csv", june), ("july.csv", july)):
        _upload(client, council, data.encode(), name)
        upload = SpendUpload.objects.get(file_name=name)
        if upload.status == "pending":  # the first: its columns checked
            _confirm(client, council, upload)
    later = june + "03/06/2025,Chiltern Books,80.00,96.00,Libraries\n"
    _upload(client, council, later.encode(), "june-again.csv")
    again = SpendUpload.objects.get(file_name="june-again.csv")
    assert (again.rows_imported, again.rows_duplicate) == (1, 1)
    names = [u.file_name for u in again.earlier_uploads_holding_duplicates()]
    assert names == ["june.csv"]
    june_upload = SpendUpload.objects.get(file_name="june.csv")
    july_upload = SpendUpload.objects.get(file_name="july.csv")
    assert list(uploads_relying_on(june_upload)) == [again]
    assert list(uploads_relying_on(july_upload)) == []
    client.post(reverse("spend:upload-rollback", args=[council.slug, july_upload.pk]))
    july_upload.refresh_from_db()
    assert july_upload.status == "rolled_back"


def test_duplicates_of_a_file_with_no_dates_to_go_by_point_to_all_uploads(
    client, finance_officer, council, make_upload
):
    # An upload imported before the dates of its duplicate rows were kept.
    again = make_upload(council, file_name="again.csv", rows_read=1, rows_duplicate=1)
    client.force_login(finance_officer)
    page = client.get(reverse("spend:upload-detail", args=[council.slug, again.pk]))
    assertContains(page, "Imported: nothing new")
    assertContains(page, "cannot name from this file's dates")


def test_the_preview_introduces_its_notes_as_a_list(client, finance_officer, council):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    upload = SpendUpload.objects.get()
    preview = client.get(
        reverse("spend:upload-preview", args=[council.slug, upload.pk])
    )
    assertContains(
        preview,
        '<p class="govuk-body">What LocalSpend noticed when choosing the columns:</p>'
        '<ul class="govuk-list govuk-list--bullet">',
    )


def test_the_first_import_says_the_columns_were_chosen_the_next_remembered(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    first = SpendUpload.objects.get()
    _confirm(client, council, first)
    first.refresh_from_db()
    assert "Columns mapped as chosen on the preview page." in first.notes
    assert not any("confirmed for this layout before" in n for n in first.notes)
    may = (HEADER + "01/05/2025,Wardown Plumbing Ltd,10.00,12.00,Housing\n").encode()
    _upload(client, council, may, "may.csv")
    second = SpendUpload.objects.get(file_name="may.csv")
    assert any("confirmed for this layout before" in n for n in second.notes)


def test_a_file_that_adds_nothing_new_still_names_the_file_holding_its_payments(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    first = SpendUpload.objects.get()
    _confirm(client, council, first)
    again = GOOD.replace(b"\n", b"\r\n")  # the same payments, other bytes
    _upload(client, council, again, "april-crlf.csv")
    later = SpendUpload.objects.get(file_name="april-crlf.csv")
    assert (later.rows_imported, later.rows_duplicate) == (0, 2)
    page = client.get(reverse("spend:upload-detail", args=[council.slug, later.pk]))
    assertContains(page, "Already held from:")
    assertContains(page, reverse("spend:upload-detail", args=[council.slug, first.pk]))


def test_payments_outside_the_period_given_are_a_warning_on_the_result(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    client.post(
        reverse("spend:upload", args=[council.slug]),
        {
            "file": _file(GOOD),
            "vat_basis": "net",
            "period_start": "2025-06-01",
            "period_end": "2025-06-30",
        },
    )
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    page = client.get(reverse("spend:upload-detail", args=[council.slug, upload.pk]))
    assertContains(
        page,
        '<span class="govuk-visually-hidden">Warning: </span>2 payments (£1,250.00) '
        "are dated outside the period given",
    )


def test_empty_columns_after_the_last_used_one_are_not_offered(
    client, finance_officer, council
):
    wide = HEADER.rstrip("\n") + "," * 40 + "\n"
    rows = GOOD.decode().splitlines(keepends=True)[1:]
    data = (wide + "".join(row.rstrip("\n") + "," * 40 + "\n" for row in rows)).encode()
    client.force_login(finance_officer)
    _upload(client, council, data)
    upload = SpendUpload.objects.get()
    preview = client.get(
        reverse("spend:upload-preview", args=[council.slug, upload.pk])
    )
    assert preview.context["blocks"][0]["plan"].width == 5
    assertNotContains(preview, "Column F")


def test_a_rolled_back_upload_shows_its_amount_as_removed(
    client, finance_officer, council, make_upload
):
    from decimal import Decimal

    make_upload(
        council,
        file_name="gone.csv",
        status="rolled_back",
        rows_read=2,
        rows_imported=2,
        amount_imported=Decimal("1250.00"),
    )
    client.force_login(finance_officer)
    page = client.get(reverse("spend:uploads", args=[council.slug]))
    assertContains(page, '<span class="ls-muted">£1,250.00 removed</span>', html=True)


def test_a_rolled_back_upload_keeps_its_warnings_without_urging_them(
    client, finance_officer, council, make_upload
):
    """QA: a rolled-back upload still showed "both versions are now counted …
    roll back this file" as a warning at the top of its page."""
    warning = (
        "2 payments (£780.00) have a transaction number that an earlier file holds"
        " …; if this file replaces the earlier one, roll back this file."
    )
    upload = make_upload(council, status="rolled_back", notes=[warning])
    client.force_login(finance_officer)
    page = client.get(reverse("spend:upload-detail", args=[council.slug, upload.pk]))
    assertContains(page, "The warnings given when it was imported")
    assertNotContains(page, '<span class="govuk-visually-hidden">Warning: </span>2 pay')
    assertContains(page, "<li>2 payments (£780.00) have a transaction number")


# --------------------------------------------- a kept file gone (backup restored)

GONE = (
    "The uploaded file is no longer kept (it may not have been restored from a "
    "backup): upload it again."
)


def _lose_the_kept_file(upload: SpendUpload) -> None:
    from spend.storage import kept_path

    kept_path(upload.stored_file).unlink()


def _detail(council, upload) -> str:
    return reverse("spend:upload-detail", args=[council.slug, upload.pk])


def test_a_preview_whose_file_has_gone_fails_the_upload_in_words_not_a_500(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    upload = SpendUpload.objects.get()
    _lose_the_kept_file(upload)
    preview = reverse("spend:upload-preview", args=[council.slug, upload.pk])
    assertRedirects(client.get(preview), _detail(council, upload))
    upload.refresh_from_db()
    assert (upload.status, upload.message) == ("failed", GONE)
    assert upload.finished_at is not None and not upload.can_retry
    page = client.get(_detail(council, upload))
    assertContains(page, "no longer kept (it may not have been restored from a")
    assertContains(page, "Upload the file again")
    assertNotContains(page, "Try this file again")
    # Uploaded again, the same file is kept again and previews.
    response = _upload(client, council, GOOD)
    again = SpendUpload.objects.exclude(pk=upload.pk).get()
    assertRedirects(
        response, reverse("spend:upload-preview", args=[council.slug, again.pk])
    )
    assert client.get(response.url).status_code == 200


def test_confirming_the_columns_of_a_file_gone_meanwhile_fails_it_in_words(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    upload = SpendUpload.objects.get()
    url = reverse("spend:upload-preview", args=[council.slug, upload.pk])
    form = client.get(url).context["form"]
    _lose_the_kept_file(upload)
    response = client.post(
        url, {name: form[name].initial or "" for name in form.fields}
    )
    assertRedirects(response, _detail(council, upload))
    upload.refresh_from_db()
    assert (upload.status, upload.message) == ("failed", GONE)


def test_a_remembered_layout_whose_file_cannot_be_kept_fails_in_words(
    client, finance_officer, council, monkeypatch
):
    from spend import views

    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    _confirm(client, council, SpendUpload.objects.get())
    monkeypatch.setattr(views, "keep_file", lambda *args: f"{council.slug}/gone.csv")
    may = (HEADER + "01/05/2025,Wardown Plumbing Ltd,10.00,12.00,Housing\n").encode()
    response = _upload(client, council, may, "may.csv")
    upload = SpendUpload.objects.get(file_name="may.csv")
    assertRedirects(response, _detail(council, upload))
    upload.refresh_from_db()
    assert (upload.status, upload.message) == ("failed", GONE)


def test_a_retry_of_a_failed_import_whose_file_has_gone_says_so(
    client, finance_officer, council
):
    from spend.models import INTERNAL_ERROR

    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    upload = SpendUpload.objects.get()
    SpendUpload.objects.filter(pk=upload.pk).update(
        status="failed", message=INTERNAL_ERROR
    )
    _lose_the_kept_file(upload)
    response = client.post(
        reverse("spend:upload-retry", args=[council.slug, upload.pk]), follow=True
    )
    assert response.redirect_chain[-1][0] == _detail(council, upload)
    assertContains(response, "no longer kept")
    upload.refresh_from_db()
    assert (upload.status, upload.message) == ("failed", GONE)


def test_the_rejected_rows_and_the_result_need_no_kept_file(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    bad = (HEADER + "31/13/2025,Wardown Plumbing Ltd,5.00,6.00,Parks\n").encode()
    _upload(client, council, GOOD[:-1] + b"\n" + bad[len(HEADER) :])
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    _lose_the_kept_file(upload)
    assertContains(client.get(_detail(council, upload)), "Rejected rows")
    download = client.get(
        reverse("spend:upload-issues", args=[council.slug, upload.pk])
    )
    assert download.status_code == 200
    assert "31/13/2025" in download.content.decode("utf-8-sig")


def test_a_kept_file_that_cannot_be_read_is_told_apart_from_one_gone():
    from spend.storage import FILE_GONE, FILE_UNREADABLE, why_unread

    assert why_unread(FileNotFoundError(2, "gone")) == FILE_GONE == GONE
    assert why_unread(PermissionError(13, "denied")) == FILE_UNREADABLE


# ------------------------------------------------------------------ VAT basis


def _upload_saying(client, council, vat_basis: str, data: bytes = GOOD):
    return client.post(
        reverse("spend:upload", args=[council.slug]),
        {"file": _file(data), "vat_basis": vat_basis},
    )


def test_the_upload_form_says_a_basis_not_stated_comes_from_the_heading(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    page = client.get(reverse("spend:upload", args=[council.slug]))
    assertContains(page, "takes it from the heading of the amount column")


def test_a_basis_not_stated_is_taken_from_the_net_amount_heading_and_said(
    client, finance_officer, council
):
    """QA: "Not stated" although the amount column is "Net Amount"."""
    client.force_login(finance_officer)
    _upload_saying(client, council, "unknown")
    upload = SpendUpload.objects.get()
    preview = client.get(
        reverse("spend:upload-preview", args=[council.slug, upload.pk])
    )
    said = "VAT basis: net, from the column heading &#x27;Net Amount&#x27;."
    assertContains(preview, said)
    assertContains(preview, "You did not say on the upload form")
    _confirm(client, council, upload)
    upload.refresh_from_db()
    assert upload.vat_basis == "net"
    page = client.get(_detail(council, upload))
    assertContains(page, said)
    assertNotContains(page, "Amounts: Not stated")
    assertNotContains(page, "Check the VAT basis")


def test_the_amount_column_chosen_on_the_preview_decides_the_basis(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload_saying(client, council, "unknown")
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload, **{"b0-amount": "3"})  # "Gross Amount"
    upload.refresh_from_db()
    assert upload.vat_basis == "gross"
    assertContains(
        client.get(_detail(council, upload)),
        "VAT basis: gross, from the column heading &#x27;Gross Amount&#x27;.",
    )


def test_a_basis_the_heading_contradicts_is_kept_with_a_warning(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload_saying(client, council, "gross")
    upload = SpendUpload.objects.get()
    preview = client.get(
        reverse("spend:upload-preview", args=[council.slug, upload.pk])
    )
    warning = (
        "Check the VAT basis: you said the amounts are gross (VAT included), but "
        "the amount column is headed &#x27;Net Amount&#x27;."
    )
    assertContains(preview, warning)
    assertContains(preview, "change your answer below")
    _confirm(client, council, upload)
    upload.refresh_from_db()
    assert upload.vat_basis == "gross"
    page = client.get(_detail(council, upload))
    assertContains(page, "Amounts: Gross (VAT included).")
    assertContains(page, warning)
    assertContains(page, "roll this file back and upload it again")


def test_the_basis_can_be_changed_on_the_preview_and_then_wins(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload_saying(client, council, "gross")
    upload = SpendUpload.objects.get()
    preview = client.get(
        reverse("spend:upload-preview", args=[council.slug, upload.pk])
    )
    assert preview.context["form"]["vat_basis"].initial == "gross"
    _confirm(client, council, upload, vat_basis="net")
    upload.refresh_from_db()
    assert upload.vat_basis == "net"
    page = client.get(_detail(council, upload))
    assertContains(page, "Amounts: Net of VAT.")
    assertNotContains(page, "Check the VAT basis")


def test_the_uploads_list_filters_by_status_file_and_who_uploaded(
    client,
    finance_officer,
    viewer,
    council,
    other_council,
    other_council_officer,
    make_upload,
):
    """QA: the uploads list had no filters, only sorting."""
    make_upload(council, file_name="april.csv", uploaded_by=finance_officer)
    make_upload(council, file_name="may.csv", status="failed", uploaded_by=viewer)
    make_upload(council, file_name="june.csv", uploaded_by=None)
    make_upload(other_council, file_name="april-knowsley.csv")
    client.force_login(viewer)
    url = reverse("spend:uploads", args=[council.slug])

    def listed(**query) -> list[str]:
        page = client.get(url, query)
        return sorted(row.record.file_name for row in page.context["table"].rows)

    assert listed() == ["april.csv", "june.csv", "may.csv"]
    assert listed(status="failed") == ["may.csv"]
    assert listed(file="APR") == ["april.csv"]
    assert listed(uploaded_by=str(finance_officer.pk)) == ["april.csv"]
    assert listed(uploaded_by="none") == ["june.csv"]
    form = client.get(url).context["filter"].form
    assert [label for _, label in form.fields["uploaded_by"].choices] == [
        "Anyone",
        "carol-cabinet",
        "fay-finance",
        "The command line",
    ]
    page = client.get(url, {"status": "failed"})
    assertContains(page, "1 upload matches these filters.")
    # Another council's uploader is not offered: asked for, it is an error shown,
    # not a filter that matches.
    elsewhere = make_upload(other_council, file_name="knowsley.csv")
    elsewhere.uploaded_by = other_council_officer
    elsewhere.save()
    page = client.get(url, {"uploaded_by": str(other_council_officer.pk)})
    assertContains(page, "Select a valid choice")
    assertNotContains(page, "match these filters")


def test_people_not_named_are_one_choice_of_uploader(
    client, viewer, council, django_user_model, make_upload
):
    """QA: two uploaders who are not members were two identical choices ("someone
    who is not a member of …"), each matching only one of them."""
    for name in ("left-one", "left-two"):
        outsider = django_user_model.objects.create_user(name)
        make_upload(council, file_name=f"{name}.csv", uploaded_by=outsider)
    make_upload(council, file_name="mine.csv", uploaded_by=viewer)
    client.force_login(viewer)
    url = reverse("spend:uploads", args=[council.slug])
    choices = client.get(url).context["filter"].form.fields["uploaded_by"].choices
    outsiders = [
        value for value, label in choices if label.startswith("someone who is not")
    ]
    assert len(outsiders) == 1
    page = client.get(url, {"uploaded_by": outsiders[0]})
    assert sorted(row.record.file_name for row in page.context["table"].rows) == [
        "left-one.csv",
        "left-two.csv",
    ]


def test_the_uploads_list_sorts_file_names_as_people_read_them(
    client, viewer, council, make_upload
):
    """QA: "Dépenses…" sorted before "aug_…" (capitals first)."""
    for name in ("aug_2025.csv", "Dépenses 2025.csv", "BUDGET.csv"):
        make_upload(council, file_name=name)
    client.force_login(viewer)
    page = client.get(
        reverse("spend:uploads", args=[council.slug]), {"sort": "file_name"}
    )
    names = [row.record.file_name for row in page.context["table"].rows]
    assert names == ["aug_2025.csv", "BUDGET.csv", "Dépenses 2025.csv"]


def test_a_column_of_no_amounts_is_refused_as_the_amount(
    client, finance_officer, council
):
    """QA: "Description" chosen as the amount on the preview was taken without
    a word: every row rejected, and the wrong choice remembered."""
    client.force_login(finance_officer)
    rows = "".join(
        f"0{day}/04/2025,Supplier {day} Ltd,{day}00.00,Skip hire {day}\n"
        for day in range(1, 5)
    )
    _upload(client, council, ("Date,Supplier,Amount,Description\n" + rows).encode())
    upload = SpendUpload.objects.get()
    url = reverse("spend:upload-preview", args=[council.slug, upload.pk])
    form = client.get(url).context["form"]
    data = {name: field.initial or "" for name, field in form.fields.items()}
    data["b0-amount"] = "3"
    page = client.post(url, data)
    assertContains(
        page,
        "D &quot;Description&quot; holds no amounts in the first rows (“Skip hire 1”, "
        "“Skip hire 2”, “Skip hire 3”): choose the column with the amounts paid",
    )
    upload.refresh_from_db()
    assert upload.status == "pending"
    data["b0-amount"] = "2"
    client.post(url, data)
    upload.refresh_from_db()
    assert upload.status == "imported" and upload.rows_imported == 4


def test_the_uploads_list_counts_uploads_not_rows(client, viewer, council, make_upload):
    """QA: "Page 1 of 2 (40 rows)" under a list whose "Rows" column means a
    file's rows."""
    for number in range(60):
        make_upload(council, file_name=f"month-{number}.csv")
    client.force_login(viewer)
    page = client.get(reverse("spend:uploads", args=[council.slug]))
    assertContains(page, "(60 uploads).")
    assertNotContains(page, "(60 rows)")


def test_no_file_and_a_damaged_workbook_are_told_in_words(
    client, finance_officer, council
):
    """QA: "This field is required." with no file chosen, and Python's "(File is
    not a zip file)" for a workbook cut short."""
    client.force_login(finance_officer)
    page = client.post(
        reverse("spend:upload", args=[council.slug]), {"vat_basis": "net"}
    )
    assertContains(page, "Choose the spend file to upload")
    book = _workbook({"April": [["Payment Date", "Supplier", "Amount"]]})
    page = _upload(client, council, book[: len(book) // 2], "april.xlsx")
    if page.status_code == 302:  # refused when read, on the upload's page
        page = client.get(page["Location"], follow=True)
    assertContains(page, "is damaged: it may have been cut short")
    assertNotContains(page, "File is not a zip file")


def test_the_preview_sample_shows_excel_numbers_and_dates_as_people_write_them(
    client, finance_officer, council
):
    """Excel number and date cells show in the sample as people write them
    (QA saw 1041.4099999999999 and 2025-10-21 01:00:00: text so written in the
    file, shown as read)."""
    from datetime import datetime

    client.force_login(finance_officer)
    book = _workbook(
        {
            "April": [
                ["Payment Date", "Supplier Name", "Amount"],
                [datetime(2025, 10, 21), "Wardown Plumbing Ltd", 1041.4099999999999],
                [datetime(2025, 10, 22, 9, 30), "Beacon Catering Ltd", 250.0],
            ]
        }
    )
    client.post(
        reverse("spend:upload", args=[council.slug]),
        {
            "file": SimpleUploadedFile("april.xlsx", book),
            "vat_basis": "net",
            "check_columns": "on",
        },
    )
    upload = SpendUpload.objects.get()
    preview = client.get(
        reverse("spend:upload-preview", args=[council.slug, upload.pk])
    )
    sample = preview.context["blocks"][0]["plan"].sample
    assert sample[0] == ["2025-10-21", "Wardown Plumbing Ltd", "1041.41"]
    assert sample[1][2] == "250"


def test_the_rollback_page_of_a_file_of_one_payment_reads_well(
    client, finance_officer, council
):
    """QA: "This removes all 1 payment"."""
    client.force_login(finance_officer)
    bad = (
        HEADER
        + "01/04/2025,Wardown Plumbing Ltd,1000.00,1200.00,Housing\n"
        + "31/04/2025,Beacon Catering Ltd,250.00,300.00,Schools\n"
    ).encode()
    upload = _imported_with_one_rejected(client, council, bad)
    page = client.get(reverse("spend:upload-rollback", args=[council.slug, upload.pk]))
    assertContains(
        page, "This removes the payment (£1,000.00) that came from this file."
    )
