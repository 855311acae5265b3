"""QA (finance), smaller findings: the spend lines' summary sentence, a filter
that could not be used, the VAT warning of a file that added nothing, the
over-size message, and the command line's rejected rows."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from django.core.management import call_command
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from spend import rollup
from spend.models import SpendUpload
from tests.spend.test_upload_views import GOOD, _confirm, _upload, _upload_saying


def _lines(client, council, query=""):
    return client.get(reverse("spend:lines", args=[council.slug]) + query)


def _sentence(response) -> str:
    return response.context["filter"].sentence()


def test_the_summary_sentence_reads_as_english(
    client, viewer, council, make_line, make_supplier
):
    make_line(council, supplier=make_supplier(name="Acme Ltd"), department="Place")
    rollup.rebuild(council.pk)  # the directorates known, as after an import
    client.force_login(viewer)
    said = {
        "?amount_min=1000": "Showing payments of £1,000.00 or more.",
        "?amount_min=10&amount_max=20": "Showing payments of £10.00 to £20.00.",
        "?supplier_id=999999": (
            "Showing payments to the supplier with register number 999999."
        ),
        "?redacted=true": "Showing payments to redacted payees only.",
        "?supplier=acme": "Showing payments to suppliers whose name contains “acme”.",
        "?directorate=Place&size=small": (
            "Showing payments in directorate Place, with supplier size small."
        ),
    }
    for query, sentence in said.items():
        assert _sentence(_lines(client, council, query)) == sentence, query


def test_a_filter_that_could_not_be_used_is_named_and_what_is_shown_counted(
    client, viewer, council, make_line
):
    make_line(council, amount=Decimal("600.00"), payment_date=date(2025, 5, 1))
    make_line(council, amount=Decimal("900.00"), payment_date=date(2025, 6, 1))
    client.force_login(viewer)
    response = _lines(client, council, "?date_from=2017-13-45")
    assertContains(
        response,
        "The “Paid on or after” filter could not be used (see the problem above), "
        "so it is left out: showing all payments.",
    )
    assert response.context["figures"]["lines"] == 2
    assertContains(response, "<strong>2</strong> payments totalling")
    # The downloads state the filters: not offered with one left out.
    assertNotContains(response, "export=csv")
    response = _lines(client, council, "?date_from=2017-13-45&amount_min=700")
    assertContains(response, "so it is left out: showing payments of £700.00 or more.")
    assert response.context["figures"]["lines"] == 1


WARNED = (
    "They are recorded as gross, as you said. If the heading is right, roll this "
    "file back and upload it again, saying so."
)


def test_no_vat_warning_for_a_file_that_added_nothing(client, finance_officer, council):
    client.force_login(finance_officer)
    _upload_saying(client, council, "gross")
    first = SpendUpload.objects.get()
    _confirm(client, council, first)
    detail = reverse("spend:upload-detail", args=[council.slug, first.pk])
    assertContains(client.get(detail), WARNED)
    # The same payments in another file: every one already held.
    client.post(
        reverse("spend:upload", args=[council.slug]),
        {
            "file": _file_named(GOOD + b"\n", "again.csv"),
            "vat_basis": "gross",
        },
    )
    again = SpendUpload.objects.get(file_name="again.csv")
    assert (again.status, again.rows_imported, again.rows_duplicate) == (
        "imported",
        0,
        2,
    )
    page = client.get(reverse("spend:upload-detail", args=[council.slug, again.pk]))
    assertContains(page, "already held")
    # Not urged at the top: nothing to roll back (kept in "How the file was read").
    assertNotContains(page, WARNED)


def _file_named(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_the_over_size_message_says_a_zip_is_accepted(
    client, finance_officer, council, settings
):
    settings.MAX_UPLOAD_MB = 1
    client.force_login(finance_officer)
    response = _upload(client, council, GOOD + b"x" * (1024 * 1024))
    assertContains(response, "more than the 1 MB limit. Upload it zipped")
    assert not SpendUpload.objects.exists()


def test_the_command_line_does_not_repeat_a_value_its_problem_quotes(council, tmp_path):
    path = tmp_path / "feb.csv"
    path.write_bytes(
        b"Payment Date,Supplier Name,Net Amount\n"
        b"31/02/2017,Wardown Plumbing Ltd,10.00\n"
        b"01/02/2017,Wardown Plumbing Ltd,20.00\n"
    )
    out = io.StringIO()
    call_command("import_spend", str(path), "--council", council.slug, stdout=out)
    rejected = [line for line in out.getvalue().splitlines() if "31/02/2017" in line]
    assert len(rejected) == 1
    assert rejected[0].count("31/02/2017") == 1, rejected[0]
