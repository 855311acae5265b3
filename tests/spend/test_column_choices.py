"""Remembered column choices: seen on the result page and on their own page,
forgotten or overridden by the officer; discarding an upload that imported nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from spend.importer import mark_failed
from spend.models import RememberedMapping, SpendLine, SpendUpload
from spend.parse import columns_used, header_of_layout
from spend.reading import is_header_row
from tests.spend.test_upload_views import csv_bytes, rejected_rows

HEADER = "Payment Date,Supplier Name,Net Amount,Gross Amount,Department\n"
APRIL = (
    HEADER
    + "01/04/2025,Wardown Plumbing Ltd,1000.00,1200.00,Housing\n"
    + "02/04/2025,Beacon Catering Ltd,250.00,300.00,Schools\n"
).encode()
MAY = (HEADER + "01/05/2025,Wardown Plumbing Ltd,10.00,12.00,Housing\n").encode()


def _upload(client, council, data: bytes, name: str, **extra):
    return client.post(
        reverse("spend:upload", args=[council.slug]),
        {
            "file": SimpleUploadedFile(name, data, content_type="text/csv"),
            "vat_basis": "net",
            **extra,
        },
    )


def _confirm(client, council, upload, **changes):
    url = reverse("spend:upload-preview", args=[council.slug, upload.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].initial or "" for name in form.fields}
    data.update(changes)
    return client.post(url, data)


def _detail(client, council, upload):
    return client.get(reverse("spend:upload-detail", args=[council.slug, upload.pk]))


# ----------------------------------------------------------- describing a mapping


def test_columns_used_names_each_field_and_the_columns_not_read():
    header = ["Date", "Supplier", "", "Net", "Gross", "+"]
    described = columns_used(
        header, 6, {"payment_date": 0, "supplier_name": 1, "amount": 3}
    )
    assert described.used == [
        ("Payment date", 'A "Date"'),
        ("Amount", 'D "Net"'),
        ("Supplier", 'B "Supplier"'),
    ]
    # The unheaded spacer (C) is not a column of data; "+" is, and is not read.
    assert described.unused == ['E "Gross"', 'F "+"']


def test_columns_used_without_a_header_lists_every_other_column_by_letter():
    described = columns_used(None, 4, {"payment_date": 1, "amount": 3})
    assert described.used == [("Payment date", "column B"), ("Amount", "column D")]
    assert described.unused == ["column A", "column C"]


def test_columns_localspend_added_to_a_download_are_not_listed_as_unread():
    header = ["Date", "Supplier", "Amount", "LocalSpend: problem"]
    described = columns_used(
        header, 4, {"payment_date": 0, "supplier_name": 1, "amount": 2}
    )
    assert described.unused == []


def test_a_layout_key_gives_back_its_headings_and_width():
    assert header_of_layout("date|supplier|amount") == (
        ["date", "supplier", "amount"],
        3,
    )
    assert header_of_layout("no-header:5") == (None, 5)


@pytest.mark.parametrize(
    "row",
    [
        # Few of the council's columns, one of them unknown: the three columns
        # LocalSpend adds to its download must not outvote them.
        ["Date", "Payee", "Amount", "Cost centre code"],
        ["Posted", "Supplier", "Net", "Our ref", "Cost centre code"],
    ],
)
def test_a_rejected_rows_download_keeps_its_header(row):
    added = ["LocalSpend: file row", "LocalSpend: column", "LocalSpend: problem"]
    assert is_header_row(row) and is_header_row(row + added)


def test_localspend_columns_alone_are_not_a_header():
    assert not is_header_row(["LocalSpend: file row", "LocalSpend: problem", "x"])


# ----------------------------------------------------------- the result page


def test_the_result_page_names_the_columns_read_and_those_not_read(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, APRIL, "april.csv")
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    page = _detail(client, council, upload)
    assertContains(page, "Columns read")
    assertContains(page, "Read as checked on the preview page")
    text = page.content.decode()
    assert "Amount</dt>" in text and "C &quot;Net Amount&quot;" in text
    assert (
        'Not read</dt><dd class="govuk-summary-list__value">D &quot;Gross Amount&quot;'
        in text
    )


def test_a_wrong_remembered_column_is_shown_and_can_be_forgotten(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, APRIL, "april.csv")
    april = SpendUpload.objects.get()
    _confirm(client, council, april, **{"b0-amount": "3"})  # gross, by mistake
    _upload(client, council, MAY, "may.csv")
    may = SpendUpload.objects.get(file_name="may.csv")
    assert may.status == "imported" and str(may.amount_imported) == "12.00"
    page = _detail(client, council, may)
    # Imported without asking: the page says so and which column it read.
    assertContains(page, "without asking")
    assertContains(page, "D &quot;Gross Amount&quot;")
    assertContains(page, reverse("spend:mappings", args=[council.slug]))

    choices = client.get(reverse("spend:mappings", args=[council.slug]))
    assertContains(choices, "Headings: Payment Date, Supplier Name, Net Amount")
    assertContains(choices, "amount from D")
    assertContains(choices, "by fay-finance")
    assertContains(choices, "may.csv")  # the file that last used it
    assertContains(choices, "Remembered the columns")

    mapping = RememberedMapping.objects.get()
    response = client.post(
        reverse("spend:mapping-forget", args=[council.slug, mapping.pk])
    )
    assertRedirects(response, reverse("spend:mappings", args=[council.slug]))
    assert not RememberedMapping.objects.exists()
    forgotten = RememberedMapping.history.filter(history_type="-").get()
    assert forgotten.history_user == finance_officer
    choices = client.get(reverse("spend:mappings", args=[council.slug]))
    assertContains(choices, "Forgot the columns")
    assertContains(choices, "No column choices are remembered yet")

    # The next file with those headings asks again.
    june = (HEADER + "01/06/2025,Beacon Catering Ltd,20.00,24.00,Schools\n").encode()
    response = _upload(client, council, june, "june.csv")
    upload = SpendUpload.objects.get(file_name="june.csv")
    assertRedirects(
        response, reverse("spend:upload-preview", args=[council.slug, upload.pk])
    )


def test_ticking_check_columns_shows_a_remembered_layout_to_change(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, APRIL, "april.csv")
    _confirm(client, council, SpendUpload.objects.get(), **{"b0-amount": "3"})
    response = _upload(client, council, MAY, "may.csv", check_columns="on")
    may = SpendUpload.objects.get(file_name="may.csv")
    assertRedirects(
        response, reverse("spend:upload-preview", args=[council.slug, may.pk])
    )
    may.refresh_from_db()
    assert may.status == "pending"
    _confirm(client, council, may, **{"b0-amount": "2"})
    may.refresh_from_db()
    assert str(may.amount_imported) == "10.00"
    assert RememberedMapping.objects.get().columns["amount"] == 2
    assert RememberedMapping.history.filter(history_type="~").count() == 1
    # The change is told item by item.
    choices = client.get(reverse("spend:mappings", args=[council.slug]))
    assertContains(
        choices,
        "<li>Amount: D &quot;Gross Amount&quot; → C &quot;Net Amount&quot;</li>",
    )


def test_a_remembered_choice_used_again_is_not_rewritten(
    client, finance_officer, council_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, APRIL, "april.csv")
    _confirm(client, council, SpendUpload.objects.get())
    chosen = RememberedMapping.objects.get()
    client.force_login(council_officer)  # procurement officers upload too
    _upload(client, council, MAY, "may.csv")
    assert SpendUpload.objects.get(file_name="may.csv").status == "imported"
    again = RememberedMapping.objects.get()
    assert again.updated_by == finance_officer
    assert again.updated_at == chosen.updated_at
    assert RememberedMapping.history.count() == 1


def test_viewers_see_the_choices_but_cannot_forget_them(
    client, finance_officer, viewer, council
):
    client.force_login(finance_officer)
    _upload(client, council, APRIL, "april.csv")
    _confirm(client, council, SpendUpload.objects.get())
    mapping = RememberedMapping.objects.get()
    client.force_login(viewer)
    page = client.get(reverse("spend:mappings", args=[council.slug]))
    assertContains(page, "Net Amount")
    assertNotContains(page, "Forget")
    forget = reverse("spend:mapping-forget", args=[council.slug, mapping.pk])
    assert client.post(forget).status_code == 403
    assert RememberedMapping.objects.exists()


def test_another_councils_choices_are_neither_shown_nor_forgotten(
    client, finance_officer, other_council_officer, council, other_council
):
    client.force_login(finance_officer)
    _upload(client, council, APRIL, "april.csv")
    _confirm(client, council, SpendUpload.objects.get())
    mapping = RememberedMapping.objects.get()
    client.force_login(other_council_officer)
    page = client.get(reverse("spend:mappings", args=[other_council.slug]))
    assertNotContains(page, "Net Amount")
    forget = reverse("spend:mapping-forget", args=[other_council.slug, mapping.pk])
    assert client.post(forget).status_code == 404
    assert client.post(
        reverse("spend:mapping-forget", args=[council.slug, mapping.pk])
    ).status_code in (403, 404)
    assert RememberedMapping.objects.exists()


def test_forget_needs_a_post(client, finance_officer, council):
    client.force_login(finance_officer)
    _upload(client, council, APRIL, "april.csv")
    _confirm(client, council, SpendUpload.objects.get())
    mapping = RememberedMapping.objects.get()
    response = client.get(
        reverse("spend:mapping-forget", args=[council.slug, mapping.pk])
    )
    assert response.status_code == 405
    assert RememberedMapping.objects.exists()


# ----------------------------------------------------------- discarding an upload


def test_a_waiting_upload_can_be_discarded_with_its_kept_file(
    client,
    finance_officer,
    council,
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    settings.UPLOAD_ROOT = tmp_path
    client.force_login(finance_officer)
    _upload(client, council, APRIL, "a.csv")  # waiting for its columns
    upload = SpendUpload.objects.get()
    kept = Path(tmp_path) / upload.stored_file
    assert kept.exists()
    page = _detail(client, council, upload)
    assertContains(page, "Discard this file")
    url = reverse("spend:upload-discard", args=[council.slug, upload.pk])
    assertContains(client.get(url), "Discard a.csv?")
    assert kept.exists()  # asking removes nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    assert response.redirect_chain == [
        (reverse("spend:uploads", args=[council.slug]), 302)
    ]
    assertContains(response, "Discarded a.csv: nothing from it was imported.")
    assert not SpendUpload.objects.exists()
    assert not kept.exists()
    gone = SpendUpload.history.filter(history_type="-").get()
    assert gone.history_user == finance_officer
    assert gone.file_name == "a.csv"
    # An old link, or a preview left open in another tab, says what became of it.
    for page in (
        _detail(client, council, upload),
        client.post(reverse("spend:upload-preview", args=[council.slug, upload.pk])),
    ):
        assert page.status_code == 404
        assertContains(page, "a.csv was discarded", status_code=404)
        assertContains(page, "by fay-finance", status_code=404)


def test_a_kept_file_another_upload_holds_is_not_removed(
    client,
    finance_officer,
    council,
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    settings.UPLOAD_ROOT = tmp_path
    client.force_login(finance_officer)
    _upload(client, council, APRIL, "april.csv")
    first = SpendUpload.objects.get()
    _confirm(client, council, first)
    client.post(reverse("spend:upload-rollback", args=[council.slug, first.pk]))
    _upload(client, council, APRIL, "april-again.csv", check_columns="on")
    again = SpendUpload.objects.get(file_name="april-again.csv")
    assert again.stored_file == first.stored_file
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(reverse("spend:upload-discard", args=[council.slug, again.pk]))
    assert len(callbacks) == 1  # the file's removal was considered, and refused
    assert not SpendUpload.objects.filter(pk=again.pk).exists()
    assert (Path(tmp_path) / first.stored_file).exists()


def test_an_imported_upload_cannot_be_discarded(
    client, finance_officer, viewer, council
):
    client.force_login(finance_officer)
    _upload(client, council, APRIL, "april.csv")
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    url = reverse("spend:upload-discard", args=[council.slug, upload.pk])
    response = client.post(url, follow=True)
    assertContains(response, "Roll an imported file back instead")
    assert SpendLine.objects.filter(upload=upload).count() == 2
    assertNotContains(_detail(client, council, upload), "Discard this file")
    _upload(client, council, MAY, "may.csv", check_columns="on")
    pending = SpendUpload.objects.get(file_name="may.csv")
    client.force_login(viewer)
    url = reverse("spend:upload-discard", args=[council.slug, pending.pk])
    assert client.post(url).status_code == 403
    assert client.get(url).status_code in (403, 405)
    assert SpendUpload.objects.filter(pk=pending.pk).exists()


# ----------------------------------------------------------- the command line


def test_a_dry_run_says_what_it_would_make_of_the_vat_basis(council, tmp_path):
    path = tmp_path / "april.csv"
    path.write_bytes(
        b"Payment Date,Supplier Name,Net Amount\n01/04/2025,Wardown Plumbing Ltd,10.00\n"
    )
    out = io.StringIO()
    call_command(
        "import_spend", str(path), "--council", council.slug, "--dry-run", stdout=out
    )
    assert "note: VAT basis: net, from the column heading 'Net Amount'." in (
        out.getvalue()
    )
    out = io.StringIO()
    call_command(
        "import_spend",
        str(path),
        "--council",
        council.slug,
        "--dry-run",
        "--vat-basis",
        "gross",
        "--format",
        "json",
        stdout=out,
    )
    assert json.loads(out.getvalue().splitlines()[-1])["rows_imported"] == 1
    text = io.StringIO()
    call_command(
        "import_spend",
        str(path),
        "--council",
        council.slug,
        "--dry-run",
        "--vat-basis",
        "gross",
        stdout=text,
    )
    assert (
        "Check the VAT basis: you said the amounts are gross (VAT included), but the "
        "amount column is headed 'Net Amount'."
    ) in text.getvalue()
    assert not SpendUpload.objects.exists()


# ----------------------------------------------------------- the rejected rows again


def test_a_few_column_rejected_rows_file_uploads_again_with_its_header(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    data = (
        b"Date,Payee,Amount,Cost centre code\n"
        b"01/04/2025,Wardown Plumbing Ltd,100.00,CC1\n"
        b"31/04/2025,Beacon Catering Ltd,55.00,CC2\n"
    )
    _upload(client, council, data, "few.csv")
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    upload.refresh_from_db()
    assert (upload.rows_imported, upload.rows_rejected) == (1, 1)
    rows = rejected_rows(client, council, upload)
    rows[1][0] = "30/04/2025"
    fixed_data = csv_bytes(rows)
    _upload(client, council, fixed_data, "few-fixed.csv", check_columns="on")
    again = SpendUpload.objects.get(file_name="few-fixed.csv")
    preview = client.get(reverse("spend:upload-preview", args=[council.slug, again.pk]))
    plan = preview.context["blocks"][0]["plan"]
    assert plan.header_row == 1
    # The same layout as the file the rows came from: its remembered columns.
    assert plan.source == "remembered"
    assert plan.layout == "date|payee|amount|cost centre code"
    _confirm(client, council, again)
    again.refresh_from_db()
    assert (again.rows_read, again.rows_imported, again.rows_rejected) == (1, 1, 0)
    assert str(again.amount_imported) == "55.00"


def test_a_failed_upload_can_be_discarded_after_a_question(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    html = (
        b"<!DOCTYPE html><html><body><table><tr><td>x</td></tr></table></body></html>"
    )
    # Refused on the form, nothing kept (QA: a "Failed" upload each time) …
    refused = _upload(client, council, html + b"\n" * 10, "page.csv")
    assertContains(refused, "is a web page (HTML)")
    assert not SpendUpload.objects.exists()
    # … so a failed upload is one refused once read: its preview, its import.
    _upload(client, council, APRIL, "page.csv", check_columns="on")
    upload = SpendUpload.objects.get()
    mark_failed(upload, '"page.csv" could not be read.')
    assertContains(_detail(client, council, upload), "Discard this file")
    url = reverse("spend:upload-discard", args=[council.slug, upload.pk])
    question = client.get(url)
    assertContains(question, "Discard page.csv?")
    assertContains(question, "Why it failed")
    assert SpendUpload.objects.filter(pk=upload.pk).exists()  # asking changes nothing
    client.post(url)
    assert not SpendUpload.objects.filter(pk=upload.pk).exists()


def test_columns_read_from_mappings_stored_before_headings_were_kept():
    from spend.parse import columns_read

    upload = SpendUpload(
        file_name="old.xlsx",
        mappings=[
            {
                "sheet": "April",
                "layout": "date|payee|net",
                "header_row": 1,
                "columns": {"payment_date": 0, "supplier_name": 1, "amount": 2},
                "source": "recognised",
            },
            {
                "sheet": "May",
                "layout": "date|payee|net",
                "columns": {"payment_date": 0, "supplier_name": 1, "amount": 2},
                "source": "recognised",
            },
            {"sheet": "June", "layout": "no-header:4", "columns": {"amount": 3}},
        ],
    )
    first, second = columns_read(upload.mappings, upload.file_name)
    assert first["sheets"] == ["April", "May"]
    assert first["columns"].used[1] == ("Amount", 'C "net"')
    assert second["has_header"] is False
    assert second["columns"].unused == ["column A", "column B", "column C"]
    # A CSV's one block is the file itself: no sheet to name.
    csv_upload = SpendUpload(
        file_name="april.csv",
        mappings=[{"sheet": "april.csv", "layout": "date|payee|net", "columns": {}}],
    )
    assert columns_read(csv_upload.mappings, "april.csv")[0]["sheets"] == []
    # What the preview stored before an import that then failed: read, not shown.
    pending = SpendUpload(
        file_name="x.csv", mappings=[{"layout": "a|b", "columns": {}, "chosen": True}]
    )
    assert columns_read(pending.mappings, "x.csv")[0]["columns"].used == []


def test_an_import_reads_the_columns_remembered_when_it_was_queued(
    council, finance_officer
):
    from spend.reading import layout_key
    from spend.storage import keep_file, sha256_of
    from spend.tasks import run_upload

    header = [
        "Payment Date",
        "Supplier Name",
        "Net Amount",
        "Gross Amount",
        "Department",
    ]
    layout = layout_key(header, len(header))
    # Remembered as net now; the import was queued when gross was remembered.
    RememberedMapping.objects.create(
        council=council,
        layout_hash=sha256_of(layout.encode()),
        layout=layout,
        header=header,
        columns={"payment_date": 0, "supplier_name": 1, "amount": 2},
    )
    upload = SpendUpload.objects.create(
        council=council,
        file_name="may.csv",
        sha256=sha256_of(MAY),
        size_bytes=len(MAY),
        uploaded_by=finance_officer,
        status="queued",
        stored_file=keep_file(council, MAY, "may.csv"),
        mappings=[
            {
                "layout": layout,
                "columns": {"payment_date": 0, "supplier_name": 1, "amount": 3},
                "remembered": True,
            }
        ],
    )
    run_upload(upload.pk)
    upload.refresh_from_db()
    assert upload.status == "imported"
    assert str(upload.amount_imported) == "12.00"  # the gross column, as queued
    assert upload.mappings[0]["source"] == "remembered"


def test_the_preview_marks_the_item_proposed_from_each_column(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, APRIL, "april.csv")
    upload = SpendUpload.objects.get()
    preview = client.get(
        reverse("spend:upload-preview", args=[council.slug, upload.pk])
    )
    plan = preview.context["blocks"][0]["plan"]
    assert plan.heading_cells == [
        ("Payment Date", ["Payment date"]),
        ("Supplier Name", ["Supplier"]),
        ("Net Amount", ["Amount"]),
        ("Gross Amount", []),
        ("Department", ["Department"]),
    ]
    assertContains(
        preview,
        'Net Amount<br><strong class="govuk-tag govuk-tag--blue">Amount</strong>',
        html=False,
    )
    assertContains(
        preview, 'Gross Amount<br><span class="govuk-body-s ls-muted">not read</span>'
    )


HEADERLESS_A = (
    b"01/04/2025,Wardown Plumbing Ltd,780.25,CC1001\n"
    b"02/04/2025,Beacon Catering Ltd,3120.40,CC1002\n"
)
# The same width, the columns in another order: amount last, a code before it.
HEADERLESS_B = (
    b"01/05/2025,Wardown Plumbing Ltd,7001,780.25\n"
    b"02/05/2025,Beacon Catering Ltd,7002,3120.40\n"
)


def test_a_file_with_no_header_row_is_never_read_by_a_remembered_choice(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, HEADERLESS_A, "a.csv")
    first = SpendUpload.objects.get()
    _confirm(client, council, first)
    first.refresh_from_db()
    assert str(first.amount_imported) == "3900.65"
    # Known only by its width, its choice is not remembered...
    assert not RememberedMapping.objects.exists()
    # ...so a file of the same width with its columns moved is shown first, its
    # columns guessed from its own values, and read right.
    response = _upload(client, council, HEADERLESS_B, "b.csv")
    second = SpendUpload.objects.get(file_name="b.csv")
    assertRedirects(
        response, reverse("spend:upload-preview", args=[council.slug, second.pk])
    )
    preview = client.get(response.url)
    plan = preview.context["blocks"][0]["plan"]
    assert plan.source == "guessed" and plan.columns["amount"] == 3
    _confirm(client, council, second)
    second.refresh_from_db()
    assert str(second.amount_imported) == "3900.65"


def test_headerless_choices_remembered_before_are_forgotten_by_the_migration(council):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "spend.migrations.0014_forget_headerless_mappings"
    )
    for layout in ("no-header:4", "date|payee|amount"):
        RememberedMapping.objects.create(
            council=council,
            layout_hash=layout.ljust(64, "0")[:64],
            layout=layout,
            columns={"amount": 2},
        )
    migration.forget_headerless(apps, None)
    assert list(RememberedMapping.objects.values_list("layout", flat=True)) == [
        "date|payee|amount"
    ]


def test_the_columns_localspend_adds_leave_a_layout_as_it_was():
    from spend.reading import layout_key

    original = ["Date", "Payee", "Amount", ""]
    download = [
        "Date",
        "Payee",
        "Amount",
        "LocalSpend: file row",
        "LocalSpend: problem",
    ]
    assert layout_key(download, 5) == layout_key(original, 4) == "date|payee|amount"
    # Only after the council's own columns: one of its own keeps its place.
    assert layout_key(["LocalSpend: x", "Date"], 2) == "localspend: x|date"


def test_prose_saved_as_text_is_refused_with_a_reason(client, finance_officer, council):
    client.force_login(finance_officer)
    prose = (
        b"Dear colleagues,\n\nPlease find attached this month's figures.\n"
        b"Kind regards,\nThe finance team\n"
    )
    response = _upload(client, council, prose, "notes.txt")
    # Refused on the form, while the officer waits: no upload kept.
    assert response.context["form"].errors["file"] == [
        '"notes.txt" does not look like a list of payments: it has no row of column '
        "headings, and no column holds dates or amounts. Upload the spend file itself "
        "(CSV or Excel)."
    ]
    assert not SpendUpload.objects.exists()
    # A headerless list of payments is still read, its columns guessed.
    _upload(client, council, HEADERLESS_A, "a.csv")
    listed = SpendUpload.objects.get(file_name="a.csv")
    page = client.get(reverse("spend:upload-preview", args=[council.slug, listed.pk]))
    assert (
        page.status_code == 200
        and page.context["blocks"][0]["plan"].source == "guessed"
    )


def test_a_file_that_added_no_payment_can_be_uploaded_again_straight_away(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    bad = b"Date,Payee,Amount\n31/04/2025,Wardown Plumbing Ltd,10.00\n"
    _upload(client, council, bad, "bad.csv")
    first = SpendUpload.objects.get()
    _confirm(client, council, first)
    first.refresh_from_db()
    assert (first.status, first.rows_imported, first.rows_rejected) == (
        "imported",
        0,
        1,
    )
    rollback = reverse("spend:upload-rollback", args=[council.slug, first.pk])
    question = client.get(rollback)
    assertContains(question, "rolling it back removes nothing")
    assertNotContains(question, "removes all 0 payments")
    # Its columns are remembered, yet the same file given again is not imported
    # with them unseen: the empty upload is rolled back and the new one previewed.
    assert RememberedMapping.objects.exists()
    response = _upload(client, council, bad, "bad.csv")
    second = SpendUpload.objects.exclude(pk=first.pk).get()
    preview = reverse("spend:upload-preview", args=[council.slug, second.pk])
    assertRedirects(response, preview, fetch_redirect_response=False)
    assert second.status == "pending"
    first.refresh_from_db()
    assert (first.status, first.rolled_back_by) == ("rolled_back", finance_officer)
    page = client.get(preview)
    assertContains(
        page,
        f"Upload #{first.pk} of this file added no payment, so it was rolled back. "
        "Check the columns below",
    )
