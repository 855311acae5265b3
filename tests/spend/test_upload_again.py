"""The finance officer's upload journey, polished: the same file again after an
import that added no payment, the wording of the upload form and the preview,
the note on guessed columns, and a preview confirmed after another tab discarded
or started the upload."""

from __future__ import annotations

import io
import json
import re
import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError, connection  # noqa: F401 (needs_postgresql)
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from spend import views
from spend.models import SpendUpload
from spend.reading import guess_columns
from tests.spend.test_concurrency import TIMEOUT, _run, needs_postgresql

HEADER = "Payment Date,Supplier Name,Net Amount,Gross Amount,Department\n"
GOOD = (
    HEADER
    + "01/04/2025,Wardown Plumbing Ltd,1000.00,1200.00,Housing\n"
    + "02/04/2025,Beacon Catering Ltd,250.00,300.00,Schools\n"
).encode()
# Every row rejected: no 31 April.
BAD = (HEADER + "31/04/2025,Wardown Plumbing Ltd,10.00,12.00,Housing\n").encode()
HEADERLESS = (
    b"01/04/2025,Wardown Plumbing Ltd,780.25,CC1001\n"
    b"02/04/2025,Beacon Catering Ltd,3120.40,CC1002\n"
)


def _upload(client, council, data: bytes, name: str = "april.csv", **extra):
    return client.post(
        reverse("spend:upload", args=[council.slug]),
        {
            "file": SimpleUploadedFile(name, data, content_type="text/csv"),
            "vat_basis": "net",
            **extra,
        },
    )


def _preview_url(council, upload) -> str:
    return reverse("spend:upload-preview", args=[council.slug, upload.pk])


def _detail_url(council, upload) -> str:
    return reverse("spend:upload-detail", args=[council.slug, upload.pk])


def _answers(client, council, upload) -> dict[str, str]:
    form = client.get(_preview_url(council, upload)).context["form"]
    return {name: form[name].initial or "" for name in form.fields}


def _imported_with_nothing_added(client, council) -> SpendUpload:
    """BAD uploaded and imported through the pages: its columns remembered, its
    one row rejected."""
    _upload(client, council, BAD, "bad.csv")
    upload = SpendUpload.objects.get()
    client.post(_preview_url(council, upload), _answers(client, council, upload))
    upload.refresh_from_db()
    assert (upload.status, upload.rows_imported, upload.rows_rejected) == (
        "imported",
        0,
        1,
    )
    return upload


# ------------------------------------- the same file after an import that added nothing


def test_the_empty_upload_is_rolled_back_in_its_history_by_the_uploader(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    first = _imported_with_nothing_added(client, council)
    response = _upload(client, council, BAD, "bad-again.csv")
    second = SpendUpload.objects.exclude(pk=first.pk).get()
    # Shown to be checked, although its layout is remembered and the box unticked.
    assertRedirects(
        response, _preview_url(council, second), fetch_redirect_response=False
    )
    assert second.status == "pending" and second.uploaded_by == finance_officer
    first.refresh_from_db()
    assert first.status == "rolled_back"
    assert first.rolled_back_by == finance_officer
    record = first.history.latest()
    assert record.history_change_reason == (
        "Rolled back: the same file was uploaded again to be imported with other "
        "columns"
    )
    assert record.history_user == finance_officer
    assert record.status == "rolled_back"
    # One record for the rollback: the reason was not written as a second change.
    assert first.history.filter(status="rolled_back").count() == 1
    page = client.get(response.url)
    assertContains(
        page,
        f"Upload #{first.pk} of this file added no payment, so it was rolled back. "
        "Check the columns below, then start the import.",
    )
    # Confirmed with the gross column, it imports.
    answers = _answers(client, council, second)
    answers["b0-amount"] = "3"
    client.post(_preview_url(council, second), answers)
    second.refresh_from_db()
    assert second.status == "imported" and second.rows_rejected == 1


def test_a_later_file_holding_duplicates_does_not_stop_the_empty_rollback(
    client, finance_officer, council, make_upload
):
    """rollback_upload refuses while a later import found payments already held,
    which an upload holding no payment cannot have given it."""
    client.force_login(finance_officer)
    first = _imported_with_nothing_added(client, council)
    later = make_upload(
        council,
        file_name="quarter.csv",
        rows_read=2,
        rows_duplicate=2,
        finished_at=first.finished_at + timedelta(minutes=5),
    )
    response = _upload(client, council, BAD, "bad.csv")
    second = SpendUpload.objects.exclude(pk__in=[first.pk, later.pk]).get()
    assertRedirects(
        response, _preview_url(council, second), fetch_redirect_response=False
    )
    first.refresh_from_db()
    assert (first.status, first.rolled_back_by) == ("rolled_back", finance_officer)
    assert first.rolled_back_at is not None
    record = first.history.latest()
    assert record.history_change_reason.startswith(
        "Rolled back: the same file was uploaded again"
    )
    assert record.history_user == finance_officer
    later.refresh_from_db()
    assert later.status == "imported"


def test_an_upload_holding_no_payment_rolls_back_by_hand_despite_a_later_file(
    client, finance_officer, council, make_upload
):
    """The rollback page too: a later import that found payments already held
    cannot rely on an upload that holds none, so it does not stop the rollback."""
    client.force_login(finance_officer)
    first = _imported_with_nothing_added(client, council)
    make_upload(
        council,
        file_name="quarter.csv",
        rows_read=2,
        rows_duplicate=2,
        finished_at=first.finished_at + timedelta(minutes=5),
    )
    url = reverse("spend:upload-rollback", args=[council.slug, first.pk])
    assertNotContains(client.get(url), "quarter.csv")
    client.post(url)
    first.refresh_from_db()
    assert first.status == "rolled_back"
    assert first.history.latest().history_change_reason == (
        "Rolled back: 0 lines removed"
    )


def test_an_upload_that_found_its_payments_held_is_still_refused(
    client, finance_officer, council
):
    """Every row already held (none added, none rejected): the same file again
    would find them held again, so it is refused as before."""
    client.force_login(finance_officer)
    _upload(client, council, GOOD, "april.csv")
    original = SpendUpload.objects.get()
    client.post(_preview_url(council, original), _answers(client, council, original))
    # The same payments under another name: all already held.
    copy = GOOD + b"\n"
    _upload(client, council, copy, "april-copy.csv")
    copied = SpendUpload.objects.get(file_name="april-copy.csv")
    copied.refresh_from_db()
    assert (copied.rows_imported, copied.rows_duplicate) == (0, 2)
    response = _upload(client, council, copy, "april-copy.csv")
    assertContains(response, "was already imported on")
    assertContains(response, "Nothing new to import.")
    copied.refresh_from_db()
    assert copied.status == "imported"
    assert SpendUpload.objects.count() == 2


def test_the_rollback_is_undone_when_the_new_upload_cannot_be_saved(
    client, finance_officer, council, monkeypatch
):
    """One transaction: the earlier upload is rolled back only if the new one is
    saved."""
    client.force_login(finance_officer)
    first = _imported_with_nothing_added(client, council)
    history = first.history.count()

    def refuse(**kwargs):
        raise IntegrityError("another constraint")

    monkeypatch.setattr(views.SpendUpload.objects, "create", refuse)
    with pytest.raises(IntegrityError):
        _upload(client, council, BAD, "bad.csv")
    first.refresh_from_db()
    assert first.status == "imported" and first.rolled_back_by is None
    assert first.history.count() == history


def _cli(path, council) -> dict:
    out = io.StringIO()
    call_command(
        "import_spend",
        str(path),
        "--council",
        council.slug,
        "--format",
        "json",
        stdout=out,
    )
    return json.loads(out.getvalue().splitlines()[-1])


def test_a_command_line_import_that_added_nothing_can_be_uploaded_again(
    client, finance_officer, council, tmp_path
):
    """The command line is unchanged: it says the file is held, whatever the
    upload added; the web upload rolls back its empty import as any other."""
    path = tmp_path / "bad.csv"
    path.write_bytes(BAD)
    assert _cli(path, council)["status"] == "imported"
    first = SpendUpload.objects.get()
    assert (first.uploaded_by, first.rows_imported, first.rows_rejected) == (
        None,
        0,
        1,
    )
    assert _cli(path, council)["status"] == "duplicate"
    client.force_login(finance_officer)
    response = _upload(client, council, BAD, "bad.csv")
    second = SpendUpload.objects.exclude(pk=first.pk).get()
    assertRedirects(
        response, _preview_url(council, second), fetch_redirect_response=False
    )
    first.refresh_from_db()
    assert (first.status, first.rolled_back_by) == ("rolled_back", finance_officer)
    client.post(_preview_url(council, second), _answers(client, council, second))
    second.refresh_from_db()
    assert second.status == "imported"
    assert _cli(path, council)["status"] == "duplicate"


@needs_postgresql
def test_the_same_empty_file_given_twice_at_once_rolls_back_once(
    transactional_db, finance_officer, council, monkeypatch
):
    """Both requests have found the earlier upload holding nothing before either
    saves: the second waits for the first's lock, finds it rolled back, and is
    told the file was just uploaded; never a server error."""
    setup = Client()
    setup.force_login(finance_officer)
    first = _imported_with_nothing_added(setup, council)
    both_checked = threading.Barrier(2, timeout=TIMEOUT)
    keep = views.keep_file

    def keep_once_both_checked(*args):
        both_checked.wait()
        return keep(*args)

    monkeypatch.setattr(views, "keep_file", keep_once_both_checked)
    responses, errors = [], []

    def upload() -> None:
        client = Client()
        client.force_login(finance_officer)
        response = _upload(client, council, BAD, "bad.csv")
        responses.append(response)

    threads = [_run(upload, errors) for _ in range(2)]
    for thread in threads:
        thread.join(TIMEOUT)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    first.refresh_from_db()
    assert first.status == "rolled_back"
    assert first.history.filter(status="rolled_back").count() == 1
    new = SpendUpload.objects.exclude(pk=first.pk).get()
    assert new.status == "pending"
    assert sorted(response.url for response in responses) == sorted(
        [_preview_url(council, new), _detail_url(council, new)]
    )


# ------------------------------------------------------- the upload form's wording


def test_the_upload_button_says_what_happens_in_both_cases(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    page = client.get(reverse("spend:upload", args=[council.slug]))
    assertContains(page, ">Upload the file</button>")
    assertNotContains(page, "Upload and preview")
    assertContains(
        page, "Next, LocalSpend shows you how it will read the file, before anything"
    )
    assertContains(page, "is imported straight away instead, with the same columns")


# ---------------------------------------------------------------- the preview's intro


def test_a_file_with_headings_is_said_to_be_remembered(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    page = client.get(_preview_url(council, SpendUpload.objects.get()))
    assertContains(page, "next month's file will not need this step.")


def test_a_file_with_no_header_row_is_not_said_to_be_remembered(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, HEADERLESS, "headerless.csv")
    page = client.get(_preview_url(council, SpendUpload.objects.get()))
    assertNotContains(page, "will not need this step")
    assertContains(
        page,
        "This file has no header row, so LocalSpend cannot recognise its columns next "
        "time: a file with no header row always comes to this step.",
    )


def test_the_selects_carry_the_item_the_preview_script_tags_columns_with(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    page = client.get(_preview_url(council, SpendUpload.objects.get()))
    assertContains(page, 'data-ls-item="Payment date"')
    assertContains(page, 'data-ls-column="3"')
    assertContains(page, 'src="/static/localspend/preview.js"')


# ----------------------------------------------------------- guessed columns, in words


def test_guessed_columns_are_said_in_plain_words():
    rows = [line.split(",") for line in HEADERLESS.decode().splitlines()]
    assert guess_columns(rows).notes[0] == (
        "With no header row, the columns were guessed from the values: dates from "
        "column A, amounts from column C and supplier names from column B."
    )


def test_no_guess_at_all_is_said_plainly():
    rows = [["x", "y"], ["z", "w"]]
    notes = guess_columns(rows).notes
    assert notes[0] == "With no header row, no column could be guessed from the values."


def test_the_preview_of_a_headerless_file_shows_the_guess_in_words(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, HEADERLESS, "headerless.csv")
    page = client.get(_preview_url(council, SpendUpload.objects.get()))
    assertContains(page, "dates from column A, amounts from column C and supplier")
    assertNotContains(page, "column A (1)")


# -------------------------------------- confirming a preview another tab discarded


def test_a_preview_confirmed_after_another_tab_discarded_it_says_so_not_500(
    client, finance_officer, council, monkeypatch
):
    """The discard lands between the preview request loading the upload and
    queueing its import (played in order: the discard runs while the file is
    being read)."""
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    upload = SpendUpload.objects.get()
    answers = _answers(client, council, upload)
    read = views.refuse_summaries

    def discarded_meanwhile(plans, file_name):
        gone = SpendUpload.objects.get(pk=upload.pk)
        gone._change_reason = "Discarded: nothing from it was imported"
        gone.delete()
        return read(plans, file_name)

    monkeypatch.setattr(views, "refuse_summaries", discarded_meanwhile)
    response = client.post(_preview_url(council, upload), answers)
    assert response.status_code == 404
    assertContains(response, "was discarded", status_code=404)
    assertContains(response, "by fay-finance", status_code=404)
    assert not SpendUpload.objects.exists()


def test_a_preview_confirmed_after_another_tab_started_it_does_not_queue_twice(
    client, finance_officer, council, monkeypatch
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    upload = SpendUpload.objects.get()
    answers = _answers(client, council, upload)
    read = views.refuse_summaries
    queued = []

    def started_meanwhile(plans, file_name):
        SpendUpload.objects.filter(pk=upload.pk).update(
            status="queued", heartbeat_at=timezone.now()
        )
        return read(plans, file_name)

    monkeypatch.setattr(views, "refuse_summaries", started_meanwhile)
    monkeypatch.setattr(
        views, "import_upload", type("Task", (), {"enqueue": queued.append})
    )
    answers["b0-amount"] = "3"  # gross: not to be remembered or used
    response = client.post(_preview_url(council, upload), answers)
    assertRedirects(
        response, _detail_url(council, upload), fetch_redirect_response=False
    )
    assert queued == []
    upload.refresh_from_db()
    assert upload.status == "queued" and upload.mappings == []
    page = client.get(response.url)
    assertContains(page, "This file is no longer waiting for its columns to be checked")


def test_the_emptied_upload_says_it_added_nothing_and_links_the_new_one(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    first = _imported_with_nothing_added(client, council)
    _upload(client, council, BAD, "bad-again.csv")
    second = SpendUpload.objects.exclude(pk=first.pk).get()
    page = client.get(_detail_url(council, first))
    assertContains(page, "its import had added no payment, and the same file has been")
    assertContains(page, f'href="{_detail_url(council, second)}"')
    assertNotContains(page, "its payments were removed")


def test_a_file_rolled_back_by_hand_after_adding_nothing_comes_back_to_its_preview(
    client, finance_officer, council
):
    """Rolled back on its rollback page, then uploaded again without ticking the
    box: the remembered columns that rejected every row are not used unseen."""
    client.force_login(finance_officer)
    first = _imported_with_nothing_added(client, council)
    client.post(reverse("spend:upload-rollback", args=[council.slug, first.pk]))
    first.refresh_from_db()
    assert first.status == "rolled_back"
    response = _upload(client, council, BAD, "bad-again.csv")
    second = SpendUpload.objects.exclude(pk=first.pk).get()
    assertRedirects(
        response, _preview_url(council, second), fetch_redirect_response=False
    )
    assert second.status == "pending"
    assertContains(
        client.get(response.url),
        f"Upload #{first.pk} of this file added no payment and was rolled back.",
    )


def test_a_file_rolled_back_after_adding_payments_imports_with_its_columns(
    client, finance_officer, council
):
    """Only a file that added nothing is held back for its preview."""
    client.force_login(finance_officer)
    _upload(client, council, GOOD, "good.csv")
    first = SpendUpload.objects.get()
    client.post(_preview_url(council, first), _answers(client, council, first))
    client.post(reverse("spend:upload-rollback", args=[council.slug, first.pk]))
    response = _upload(client, council, GOOD, "good-again.csv")
    second = SpendUpload.objects.exclude(pk=first.pk).get()
    assertRedirects(
        response, _detail_url(council, second), fetch_redirect_response=False
    )
    second.refresh_from_db()
    assert second.status in ("queued", "imported")


# --------------------------------- reading an emptied upload again from its page


def _reread_url(council, upload) -> str:
    return reverse("spend:upload-reread", args=[council.slug, upload.pk])


def test_an_upload_that_added_nothing_is_read_again_from_its_page(
    client, finance_officer, council
):
    """No need to find the file again: the page's button rolls the upload back
    and reads the kept file, its columns shown to be checked."""
    client.force_login(finance_officer)
    first = _imported_with_nothing_added(client, council)
    page = client.get(_detail_url(council, first))
    assertContains(page, _reread_url(council, first))
    assertContains(page, "Check the columns and read the file again")
    response = client.post(_reread_url(council, first))
    second = SpendUpload.objects.exclude(pk=first.pk).get()
    assertRedirects(
        response, _preview_url(council, second), fetch_redirect_response=False
    )
    assert (second.status, second.uploaded_by) == ("pending", finance_officer)
    assert (second.sha256, second.stored_file) == (first.sha256, first.stored_file)
    first.refresh_from_db()
    assert (first.status, first.rolled_back_by) == ("rolled_back", finance_officer)
    assert first.history.latest().history_change_reason.startswith(
        "Rolled back: the same file was uploaded again"
    )
    assertContains(
        client.get(response.url),
        f"Upload #{first.pk} added no payment, so it was rolled back.",
    )
    # Its one row's date does not exist: rejected again, whatever the columns.
    answers = _answers(client, council, second)
    client.post(_preview_url(council, second), answers)
    second.refresh_from_db()
    assert (second.status, second.rows_rejected) == ("imported", 1)


# Every row rejected read by its net column ("n/a"), imported by its gross one.
NET_NA = (HEADER + "01/04/2025,Wardown Plumbing Ltd,n/a,12.00,Housing\n").encode()


def test_read_again_with_the_gross_column_the_file_imports_as_gross(
    client, finance_officer, council
):
    """The VAT basis the first import read from "Net Amount" is not carried over
    as if the officer had said it: read from "Gross Amount", it is gross."""
    client.force_login(finance_officer)
    _upload(client, council, NET_NA, "na.csv", vat_basis="unknown")
    first = SpendUpload.objects.get()
    client.post(_preview_url(council, first), _answers(client, council, first))
    first.refresh_from_db()
    assert (first.rows_imported, first.rows_rejected, first.vat_basis) == (
        0,
        1,
        "net",
    )
    client.post(_reread_url(council, first))
    second = SpendUpload.objects.exclude(pk=first.pk).get()
    assert second.vat_basis == "unknown"
    answers = _answers(client, council, second)
    answers["b0-amount"] = "3"
    client.post(_preview_url(council, second), answers)
    second.refresh_from_db()
    assert (second.rows_imported, second.vat_basis) == (1, "gross")
    assert not any("you said" in note for note in second.notes)


def test_reading_again_a_file_read_again_already_goes_to_the_new_upload(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    first = _imported_with_nothing_added(client, council)
    client.post(_reread_url(council, first))
    second = SpendUpload.objects.exclude(pk=first.pk).get()
    response = client.post(_reread_url(council, first))
    assertRedirects(
        response, _detail_url(council, second), fetch_redirect_response=False
    )
    assertContains(
        client.get(response.url), f"read again already, as upload #{second.pk}"
    )
    assert SpendUpload.objects.count() == 2


def test_a_file_that_imported_since_it_added_nothing_is_not_held_back(
    client, finance_officer, council
):
    """Added nothing, read again with working columns, then rolled back by hand:
    uploaded once more, it imports with those columns (the latest rollback is of
    an import that added payments)."""
    client.force_login(finance_officer)
    _upload(client, council, NET_NA, "na.csv", vat_basis="unknown")
    first = SpendUpload.objects.get()
    client.post(_preview_url(council, first), _answers(client, council, first))
    client.post(_reread_url(council, first))
    second = SpendUpload.objects.exclude(pk=first.pk).get()
    answers = _answers(client, council, second)
    answers["b0-amount"] = "3"
    client.post(_preview_url(council, second), answers)
    client.post(reverse("spend:upload-rollback", args=[council.slug, second.pk]))
    second.refresh_from_db()
    assert second.status == "rolled_back"
    response = _upload(client, council, NET_NA, "na-again.csv", vat_basis="unknown")
    third = SpendUpload.objects.exclude(pk__in=[first.pk, second.pk]).get()
    assertRedirects(
        response, _detail_url(council, third), fetch_redirect_response=False
    )
    third.refresh_from_db()
    assert third.rows_imported == 1


def test_trying_a_failed_upload_again_after_the_file_was_uploaded_again(
    client, finance_officer, council, make_upload
):
    """Not a 500: the upload holding the file now is the one to carry on with."""
    from spend.models import WORKER_STOPPED

    failed = make_upload(
        council,
        file_name="a.csv",
        sha256="f" * 64,
        status="failed",
        message=WORKER_STOPPED,
    )
    pending = make_upload(council, file_name="a.csv", sha256="f" * 64, status="pending")
    client.force_login(finance_officer)
    response = client.post(
        reverse("spend:upload-retry", args=[council.slug, failed.pk])
    )
    assertRedirects(
        response, _detail_url(council, pending), fetch_redirect_response=False
    )
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_an_upload_that_added_payments_is_not_read_again_this_way(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD, "good.csv")
    upload = SpendUpload.objects.get()
    client.post(_preview_url(council, upload), _answers(client, council, upload))
    upload.refresh_from_db()
    assert upload.rows_imported == 2
    assertNotContains(
        client.get(_detail_url(council, upload)), _reread_url(council, upload)
    )
    response = client.post(_reread_url(council, upload), follow=True)
    assertContains(response, "Only an imported file that added no payment")
    upload.refresh_from_db()
    assert upload.status == "imported"
    assert SpendUpload.objects.count() == 1


def test_a_viewer_cannot_read_an_upload_again(client, viewer, council, make_upload):
    upload = make_upload(council, rows_read=1, rows_rejected=1)
    client.force_login(viewer)
    assert client.post(_reread_url(council, upload)).status_code == 403
    upload.refresh_from_db()
    assert upload.status == "imported"


def test_a_preview_confirmed_in_a_second_tab_after_the_first_says_so(
    client, finance_officer, council
):
    """Not only in the moment between loading and saving: a tab confirmed after
    the import was started from another says its choices were not used."""
    client.force_login(finance_officer)
    _upload(client, council, GOOD, "good.csv", check_columns="on")
    upload = SpendUpload.objects.get()
    answers = _answers(client, council, upload)  # both tabs opened
    client.post(_preview_url(council, upload), answers)
    changed = {**answers, "b0-amount": "3"}
    response = client.post(_preview_url(council, upload), changed, follow=True)
    assertContains(response, "is no longer waiting for its columns to be checked")
    upload.refresh_from_db()
    assert upload.mappings[0]["columns"]["amount"] == 2  # the first tab's choice


def test_the_sample_tags_follow_the_choices_sent_back_with_an_error(
    client, finance_officer, council
):
    """Without JavaScript: after an error, the sample table's tags say what the
    dropdowns say, not what was first proposed."""
    client.force_login(finance_officer)
    _upload(client, council, GOOD, "good.csv", check_columns="on")
    upload = SpendUpload.objects.get()
    answers = _answers(client, council, upload)
    sent = {**answers, "b0-amount": "3", "b0-supplier_name": answers["b0-payment_date"]}
    page = client.post(_preview_url(council, upload), sent).content.decode()
    head = page.split("<thead", 1)[1].split("</thead>", 1)[0]
    cells = re.findall(r"<th [^>]*>(.*?)</th>", head, re.S)
    assert cells[3].endswith(">Amount</strong>")  # Gross Amount
    assert cells[2].endswith(">not read</span>")  # Net Amount
    assert ">Supplier</strong>" in cells[0] and ">Payment date</strong>" in cells[0]


def _mapping(sheet: str, layout: str) -> dict:
    return {
        "sheet": sheet,
        "layout": layout,
        "columns": {"payment_date": 0, "supplier_name": 1, "amount": 2},
        "source": "recognised",
    }


def test_two_layouts_in_one_sheet_are_told_apart_on_the_result_page(
    client, finance_officer, council, make_upload
):
    upload = make_upload(
        council,
        file_name="fire.xlsx",
        rows_read=2,
        rows_imported=2,
        mappings=[
            _mapping("Data", "date|payee|net"),
            _mapping("Data", "paid|supplier|amount"),
        ],
    )
    client.force_login(finance_officer)
    page = client.get(_detail_url(council, upload))
    assertContains(page, "Layout 1 of 2: sheet “Data”")
    assertContains(page, "Layout 2 of 2: sheet “Data”")


@pytest.mark.parametrize(
    "mappings, rows, advice",
    [
        ([_mapping("a.csv", "date|payee|net")], (2, 0), "tick “Let me check"),
        ([_mapping("a.csv", "no-header:3")], (2, 0), "a file with no header row"),
        ([_mapping("a.csv", "date|payee|net")], (0, 2), "Press “Check the columns"),
    ],
)
def test_a_column_wrong_says_what_to_do_for_this_file(
    client, finance_officer, council, make_upload, mappings, rows, advice
):
    imported, rejected = rows
    upload = make_upload(
        council,
        file_name="a.csv",
        rows_read=imported + rejected,
        rows_imported=imported,
        rows_rejected=rejected,
        mappings=mappings,
    )
    client.force_login(finance_officer)
    page = client.get(_detail_url(council, upload)).content.decode()
    advice_line = page.split("A column wrong?", 1)[1].split("</p>", 1)[0]
    assert advice in advice_line


def test_a_csv_unzipped_from_a_zip_is_called_a_file_not_a_sheet(
    client, finance_officer, council, make_upload
):
    upload = make_upload(
        council,
        file_name="trafford.zip",
        rows_read=2,
        rows_imported=2,
        mappings=[_mapping("trafford-2025.csv", "date|payee|net")],
    )
    client.force_login(finance_officer)
    page = client.get(_detail_url(council, upload))
    assertContains(page, "File “trafford-2025.csv”")
    assertNotContains(page, "Sheet “trafford-2025.csv”")


def test_the_preview_gives_the_vat_words_for_each_amount_column_and_answer(
    client, finance_officer, council
):
    """One source for the words: the page's note and those preview.js swaps in
    when the amount column or the answer changes come from the same function."""
    client.force_login(finance_officer)
    _upload(client, council, GOOD, "good.csv", vat_basis="unknown", check_columns="on")
    upload = SpendUpload.objects.get()
    page = client.get(_preview_url(council, upload))
    choices = page.context["vat_choices"]
    # Unknown, read from "Net Amount" (column C): net, from its heading.
    assert (
        "net, from the column heading 'Net Amount'" in choices["unknown"]["2"]["text"]
    )
    assert (
        "gross, from the column heading 'Gross Amount'"
        in (choices["unknown"]["3"]["text"])
    )
    # Said net, read from "Gross Amount": a warning.
    assert choices["net"]["3"]["warning"] is True
    assert choices["net"]["2"] == {"text": "", "warning": False}
    # What the page shows first is the proposal's: the net column, not stated.
    assert page.context["vat"] == choices["unknown"]["2"]
    body = page.content.decode()
    assert 'id="ls-vat-choices" type="application/json"' in body
    assert choices["unknown"]["2"]["text"] in body.replace("&#x27;", "'")
