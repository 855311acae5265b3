"""Finance-officer QA on uploads: a file naming another council is warned of, the
columns LocalSpend adds to a rejected-rows download leave the remembered layout
as it was, and the "already imported" message links the upload it names."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from spend.models import RememberedMapping, SpendUpload
from spend.parse import LineReader, other_body_note, plan_file
from spend.reading import is_body_heading, layout_key
from tests.spend.test_upload_again import _detail_url, _preview_url, _upload

REAL_SPEND = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real" / "spend"
)
needs_real_files = pytest.mark.skipif(
    not REAL_SPEND.is_dir(), reason=f"the real spend files are not here ({REAL_SPEND})"
)
LUTON = ["Luton Borough Council", "Luton"]


def _confirm(client, council, upload, **changes):
    form = client.get(_preview_url(council, upload)).context["form"]
    data = {name: form[name].initial or "" for name in form.fields}
    data.update(changes)
    return client.post(_preview_url(council, upload), data)


def _note(data: bytes, name: str, council_names=LUTON) -> str:
    """The warning on the file's body, as the import makes it (the blocks read
    row by row) and as the preview's plans would."""
    reader = LineReader(data, name, today=date(2026, 11, 1))
    for _ in reader.batches():
        pass
    plans, _ = plan_file(data, name)
    note = other_body_note(reader.parsed.blocks, council_names)
    assert other_body_note(plans, council_names) == note
    return note


# ------------------------------------------------------- a file of another body


CRAVEN = (
    b"Body Name,Transaction No,Supplier Name,Payment Date,Amount\n"
    b"Craven District Council,57011389,Harrogate Borough Council,06/03/2017,"
    b'"1,000.00"\n'
    b"Craven District Council,57011569,Brenntag Uk Ltd,24/03/2017,696.06\n"
)


def test_the_headings_that_name_the_publishing_body():
    for heading in ("Body Name", "Body", "Name of Body", "OrganisationLabel"):
        assert is_body_heading(heading), heading
    for heading in ("Organisation Name", " Authority ", "Council", "Local Authority"):
        assert is_body_heading(heading), heading
    for heading in ("Supplier Name", "Department", "Organisational Unit", None):
        assert not is_body_heading(heading), heading


def test_a_file_naming_another_council_is_warned_of():
    assert _note(CRAVEN, "craven.csv") == (
        "This file says it is Craven District Council's spend (column "
        '"Body Name"): check you are uploading to the right council.'
    )


@pytest.mark.parametrize(
    "body",
    [
        "Luton Borough Council",
        "LUTON",
        "Luton Council",
        "LBC",  # its kind in initials: names no other council
        "18",  # Devon's "Body": a code, not a name
        "",
        "Council",
    ],
)
def test_a_file_naming_this_council_or_no_body_is_not(body):
    data = (
        "Body,Payment Date,Supplier Name,Amount\n"
        f"{body},06/03/2017,Brenntag Uk Ltd,696.06\n"
    ).encode()
    assert _note(data, "ours.csv") == ""


def test_a_council_named_in_initials_is_this_council():
    data = (
        b"Organisation,Payment Date,Supplier Name,Amount\n"
        b"MCC,06/03/2017,Zaylai Books,696.06\n"
    )
    assert _note(data, "m.csv", ["Manchester City Council", "Manchester"]) == ""
    assert _note(data, "m.csv").startswith("This file says it is MCC's spend")


def test_the_name_column_is_read_where_the_body_column_holds_a_code():
    """Devon's files: "Body" is 18, "Name of Body" names the council."""
    data = (
        b"Body,Name of Body,Date,Amount,Supplier Name\n"
        b"18,Devon County Council,01/12/2025,519.95,LINK MAILING SYSTEMS LIMITED\n"
    )
    assert '"Name of Body"' in _note(data, "devon.csv")
    assert _note(data, "devon.csv", ["Devon County Council", "Devon"]) == ""


def test_a_workbook_sheet_naming_another_council_is_named(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    first.title = "April"
    first.append(["Payment Date", "Supplier Name", "Amount"])
    first.append([date(2025, 4, 1), "Wardown Plumbing Ltd", 100])
    other = book.create_sheet("May")
    other.append(["Organisation Name", "Payment Date", "Supplier Name", "Amount"])
    other.append(["Bedford Borough Council", date(2025, 5, 1), "Beacon Ltd", 50])
    out = io.BytesIO()
    book.save(out)
    assert _note(out.getvalue(), "spend.xlsx") == (
        "This file says it is Bedford Borough Council's spend (column "
        '"Organisation Name", sheet "May"): check you are uploading to the right '
        "council."
    )


@needs_real_files
@pytest.mark.parametrize(
    ("name", "body", "heading"),
    [
        ("craven_2017-03_payments.csv", "Craven District Council", "Body Name"),
        ("lambeth_2012-06-payments_as-first-committed.csv", "Lambeth", "Body"),
        ("devon_DCCSpendingOver500_201101.csv", "Devon County Council", "Name of Body"),
        ("devon_DCCSpendingOver500_202603.csv", "Devon County Council", "Name of Body"),
        ("manchester_dec-2010.csv", "Manchester City Council", "Body Name"),
        (
            "trafford_supplier-spend-2026-27.zip",
            "Trafford Council",
            "OrganisationLabel",
        ),
    ],
)
def test_the_real_files_of_other_councils_are_warned_of(name, body, heading):
    data = (REAL_SPEND / name).read_bytes()
    assert _note(data, name).startswith(
        f'This file says it is {body}\'s spend (column "{heading}")'
    )
    # Uploaded to the council that published it: no warning.
    own = body.split()[0]
    assert _note(data, name, [f"{own} Council", own]) == ""


@needs_real_files
def test_a_real_file_without_a_body_column_is_not_warned_of():
    name = "hyndburn_1701.csv"
    assert _note((REAL_SPEND / name).read_bytes(), name) == ""


@pytest.mark.django_db
def test_a_dry_run_warns_of_a_file_naming_another_council(council, tmp_path):
    path = tmp_path / "craven.csv"
    path.write_bytes(CRAVEN)
    out = io.StringIO()
    call_command(
        "import_spend", str(path), "--council", council.slug, "--dry-run", stdout=out
    )
    assert (
        "  note: This file says it is Craven District Council's spend (column "
        '"Body Name"): check you are uploading to the right council. If it is not '
        "Luton Borough Council's file, do not import it."
    ) in out.getvalue().splitlines()
    assert not SpendUpload.objects.exists()


def test_a_file_of_another_council_that_adds_nothing_is_not_said_imported(
    client, finance_officer, council
):
    """QA: a file whose payments were all held already still said "Its payments
    were imported all the same"."""
    client.force_login(finance_officer)
    _upload(client, council, CRAVEN, "craven.csv")
    _confirm(client, council, SpendUpload.objects.get())
    _upload(client, council, CRAVEN + b"\n", "craven-again.csv")
    again = SpendUpload.objects.get(file_name="craven-again.csv")
    _confirm(client, council, again)
    again.refresh_from_db()
    assert (again.rows_imported, again.rows_duplicate) == (0, 2)
    assert again.warnings == [
        "This file says it is Craven District Council's spend (column "
        '"Body Name"): check you are uploading to the right council. None of its '
        "payments was added."
    ]


def test_another_councils_file_in_a_remembered_layout_is_shown_before_it_is_read(
    client, finance_officer, council
):
    """QA: a layout remembered, Manchester's next file went into Luton at once,
    its warning only on the result page ("imported all the same")."""
    client.force_login(finance_officer)
    ours = CRAVEN.replace(b"Craven District Council", b"Luton Borough Council")
    _upload(client, council, ours, "ours.csv")
    first = SpendUpload.objects.get()
    _confirm(client, council, first)  # the layout is remembered
    first.refresh_from_db()
    assert first.status == "imported"
    # The next file of that layout, Luton's own: imported at once, as before.
    again = ours.replace(b"06/03/2017", b"07/03/2017")
    response = _upload(client, council, again, "ours-2.csv")
    second = SpendUpload.objects.get(file_name="ours-2.csv")
    assert response.url == _detail_url(council, second)
    assert second.status == "imported"
    # Another council's, in the same layout: its preview, with the warning.
    response = _upload(client, council, CRAVEN, "craven.csv")
    theirs = SpendUpload.objects.get(file_name="craven.csv")
    assert response.url == _preview_url(council, theirs)
    assert theirs.status == "pending"
    assertContains(
        client.get(response.url),
        "This file says it is Craven District Council&#x27;s spend",
    )


def test_the_result_page_warns_and_the_payments_are_imported(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, CRAVEN, "craven.csv")
    upload = SpendUpload.objects.get()
    # Said on the preview too, before anything is imported.
    assertContains(
        client.get(_preview_url(council, upload)),
        '<span class="govuk-visually-hidden">Warning: </span>This file says it is '
        "Craven District Council&#x27;s spend (column &quot;Body Name&quot;): check "
        "you are uploading to the right council.",
    )
    _confirm(client, council, upload)
    upload.refresh_from_db()
    assert (upload.status, upload.rows_imported) == ("imported", 2)
    warning = (
        "This file says it is Craven District Council's spend (column "
        '"Body Name"): check you are uploading to the right council. Its payments '
        "were imported all the same: if it is not Luton Borough Council's file, "
        "roll it back."
    )
    assert upload.warnings == [warning]
    assert warning not in upload.reading_notes
    page = client.get(_detail_url(council, upload))
    assertContains(
        page,
        '<span class="govuk-visually-hidden">Warning: </span>This file says it is '
        "Craven District Council&#x27;s spend",
    )


def test_the_command_line_import_warns_too(council, tmp_path):
    path = tmp_path / "craven.csv"
    path.write_bytes(CRAVEN)
    call_command(
        "import_spend", str(path), "--council", council.slug, stdout=io.StringIO()
    )
    upload = SpendUpload.objects.get()
    assert upload.rows_imported == 2
    assert [w[:45] for w in upload.warnings] == [
        "This file says it is Craven District Council'"
    ]


def test_a_file_of_this_council_has_no_such_warning(client, finance_officer, council):
    client.force_login(finance_officer)
    ours = CRAVEN.replace(b"Craven District Council", b"Luton Borough Council")
    _upload(client, council, ours, "luton.csv")
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    upload.refresh_from_db()
    assert upload.rows_imported == 2
    assert upload.warnings == []


# --------------------------------------- the rejected rows, corrected, remembered

HYNDBURN_HEADER = (
    "Service Cost Centre,Account Detail,Description,HBC ref no,Name,Payment date,"
    "Net Amount(£)\n"
)
HYNDBURN = (
    HYNDBURN_HEADER
    + "HAWORTH ART GALLERY,ADVERTISING,ADVERT,B18580/57559,CALVERTON LTD,"
    "04/01/2017,325.00\n"
    # No 34 January: rejected.
    + "TOWNSCAPE,OTHER FEES,RESOURCE,B18580/58722,TRIO TRAINING,34/01/2017,357.15\n"
    # An amount split by an unquoted comma: rejected, its "500.00" in column H.
    + "PARKS,REPAIRS,FENCING,B18580/58723,FENCE CO,05/01/2017,£2,500.00\n"
).encode("cp1252")


def _corrected_download(client, council, upload) -> list[list[str]]:
    download = client.get(
        reverse("spend:upload-issues", args=[council.slug, upload.pk])
    )
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][6:9] == ["Net Amount(£)", "H", "LocalSpend: file row"]
    assert rows[0][-1] == f"LocalSpend: rejected by upload {upload.pk}"
    rows[1][5] = "24/01/2017"
    rows[2][6], rows[2][7] = "2500.00", ""
    return rows


def _as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _imported_with_two_rejected(client, council) -> SpendUpload:
    _upload(client, council, HYNDBURN, "hyndburn.csv")
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    upload.refresh_from_db()
    assert (upload.rows_imported, upload.rows_rejected) == (1, 2)
    return upload


def test_the_column_a_download_names_by_its_letter_leaves_the_layout_as_it_was():
    original = ["Date", "Payee", "Amount"]
    download = ["Date", "Payee", "Amount", "D", "LocalSpend: file row"]
    assert layout_key(download, 5) == layout_key(original, 3) == "date|payee|amount"
    # Past an empty heading, and from a download of a corrected download.
    twice = ["Date", "Payee", "Amount", "", "E", "LocalSpend: a", "G", "LocalSpend: b"]
    assert layout_key(twice, 8) == "date|payee|amount"
    # A council's own column headed "D" is its own, and so is one not in its place.
    assert layout_key(["Date", "Payee", "Amount", "D"], 4) == "date|payee|amount|d"
    assert layout_key([*original, "E", "LocalSpend: x"], 5) == "date|payee|amount|e"


def test_a_corrected_download_of_shifted_rows_is_read_by_the_choice_remembered(
    client, finance_officer, council
):
    """QA: the download's column "H" (the shifted row's value beyond the header)
    made the corrected file another layout, remembered a second time, whose
    headings listed LocalSpend's own columns."""
    client.force_login(finance_officer)
    upload = _imported_with_two_rejected(client, council)
    fixed = _as_csv(_corrected_download(client, council, upload))
    _upload(client, council, fixed, "hyndburn-fixed.csv")
    again = SpendUpload.objects.get(file_name="hyndburn-fixed.csv")
    assert again.status == "imported", again.status  # no preview: remembered
    assert again.mappings[0]["source"] == "remembered"
    assert (again.rows_imported, again.rows_rejected) == (2, 0)
    assert RememberedMapping.objects.count() == 1
    page = client.get(reverse("spend:mappings", args=[council.slug]))
    assertContains(
        page,
        "Headings: Service Cost Centre, Account Detail, Description, HBC ref no, "
        "Name, Payment date, Net Amount(£)</p>",
        html=False,
    )
    assertNotContains(page, "LocalSpend:")
    assertNotContains(page, 'H "H"')


def test_the_headings_of_a_choice_last_used_by_a_download_leave_out_its_columns(
    client, finance_officer, council
):
    """The choice keeps the headings of the last file it read: the corrected
    download's, with "LocalSpend: file row" … after the council's."""
    client.force_login(finance_officer)
    upload = _imported_with_two_rejected(client, council)
    rows = _corrected_download(client, council, upload)
    for row in rows:
        del row[7]  # the column "H" taken out by hand
    # Chosen again on its preview, another column for the description: a change
    # in the choice's history, with the download's headings.
    _upload(client, council, _as_csv(rows), "fixed.csv", check_columns="on")
    again = SpendUpload.objects.get(file_name="fixed.csv")
    _confirm(client, council, again, **{"b0-description": "1"})
    again.refresh_from_db()
    assert again.rows_imported == 2
    mapping = RememberedMapping.objects.get()
    assert "LocalSpend: file row" in mapping.header
    page = client.get(reverse("spend:mappings", args=[council.slug]))
    assertContains(page, "Headings: Service Cost Centre, Account Detail,")
    assertContains(page, "Changed the columns for headings “Service Cost Centre”")
    text = re.sub(r"<[^>]+>", " ", page.content.decode())
    assert "LocalSpend:" not in text
    assert "Net Amount(£)</p>" in page.content.decode()


# -------------------------------------------------------- the same file again


def test_the_same_file_again_links_the_upload_that_imported_it(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    name = 'luton <b>"april".csv'
    _upload(client, council, CRAVEN, name)
    first = SpendUpload.objects.get()
    _confirm(client, council, first)
    response = _upload(client, council, CRAVEN, name)
    assert SpendUpload.objects.count() == 1
    link = (
        f'(<a class="govuk-link" href="{_detail_url(council, first)}">'
        f"upload #{first.pk}</a>). Nothing new to import."
    )
    assertContains(response, link)
    # The file name is shown as text, never as markup.
    assertContains(response, "luton &lt;b&gt;&quot;april&quot;.csv")
    assertNotContains(response, "<b>")
    # In the error summary, not inside the link to a field it would break.
    assertNotContains(response, '<a href="#id_file">')
    summary = response.content.decode().split("govuk-error-summary__list", 1)[1]
    assert link in summary.split("</ul>", 1)[0]


# ------------------------------------------------ where the preview's columns are


def _xlsx_with_a_repeated_heading() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Nov 2026"
    heading = ["Payment Date", "Supplier Name", "Amount"]
    sheet.append(heading)
    sheet.append(["03/11/2026", "Wardown Plumbing Ltd", "100.00"])
    sheet.append(heading)  # row 3: the heading again, a second block
    sheet.append(["04/11/2026", "Luton Bakery", "20.00"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_preview_names_a_sheet_once_and_the_rows_its_heading_is_on(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, _xlsx_with_a_repeated_heading(), "nov.xlsx")
    upload = SpendUpload.objects.get()
    page = client.get(_preview_url(council, upload))
    text = " ".join(re.sub(r"<[^>]+>", " ", page.content.decode()).split())
    assert "Sheet: Nov 2026." in text
    assert "Nov 2026, Nov 2026" not in text
    assert "Column headings found on rows 1, 3:" in text


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_the_preview_calls_a_csv_in_a_zip_a_file_not_a_sheet(
    client, finance_officer, council, suffix
):
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(f"spend-nov-2026{suffix}", CRAVEN.replace(b",", b"\t"))
    client.force_login(finance_officer)
    _upload(client, council, out.getvalue(), "nov.zip", check_columns="on")
    upload = SpendUpload.objects.get()
    page = client.get(_preview_url(council, upload))
    text = " ".join(re.sub(r"<[^>]+>", " ", page.content.decode()).split())
    assert f"File in the ZIP: spend-nov-2026{suffix}." in text
    assert "Sheet:" not in text
