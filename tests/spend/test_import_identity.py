"""Whoever starts an import is who its history names, when the worker runs it.

Audit ("every write is recorded in history"): the worker runs outside any
request, so HistoryRequestMiddleware names no one. Its "Import attempt 1 started"
and "imported" records had no user (the second no reason either), the tags its
classification made had no user, and the suppliers, spellings and suggestions it
made were the uploader's, even when another officer confirmed the columns or
tried the import again. The tests elsewhere run tasks at once, inside the
request, which hid it: here the import is queued through the pages, then run as
the worker runs it, with no request.

Also: a remembered column choice whose headings are brought up to date is saved
with its history, and `import_spend --user` names who imported.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from config.settings import _BUILTIN_TASKS
from procure.models import MatchSuggestion, Supplier, SupplierAlias
from socialvalue.models import SupplierTag
from spend.models import RememberedMapping, SpendUpload, UploadStatus
from tests.spend.test_upload_views import GOOD, HEADER, _confirm, _upload

if _BUILTIN_TASKS:
    from django.tasks import task_backends
else:
    from django_tasks import task_backends

DUMMY = (
    "django.tasks.backends.dummy.DummyBackend"
    if _BUILTIN_TASKS
    else "django_tasks.backends.dummy.DummyBackend"
)
IMPORTED = "Imported 2 rows (£1,250.00)"


@pytest.fixture
def queued_only(settings):
    """Tasks are queued, not run: `run_queued()` runs them as the worker does."""
    settings.TASKS = {"default": {"BACKEND": DUMMY}}


def run_queued() -> None:
    """Run the tasks queued so far as `manage.py db_worker` does: in no request."""
    backend = task_backends["default"]
    queued, backend.results[:] = list(backend.results), []
    for result in queued:
        result.task.call(*result.args, **result.kwargs)


def _records(upload: SpendUpload) -> list[tuple[str, str | None, int | None]]:
    return list(
        upload.history.order_by("history_date", "history_id").values_list(
            "status", "history_change_reason", "history_user_id"
        )
    )


def test_the_worker_records_the_import_as_whoever_confirmed_the_columns(
    client, queued_only, council, finance_officer, council_officer, make_supplier
):
    make_supplier(name="Wardown Plumbing Services Ltd", verified=True)
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    upload = SpendUpload.objects.get()
    client.force_login(council_officer)  # another officer confirms the columns
    _confirm(client, council, upload)
    upload.refresh_from_db()
    assert upload.status == UploadStatus.QUEUED
    assert upload.queued_by == council_officer
    run_queued()
    upload.refresh_from_db()
    assert upload.status == UploadStatus.IMPORTED
    assert upload.uploaded_by == finance_officer  # the file is still theirs
    started, imported = _records(upload)[-2:]
    assert started == (
        UploadStatus.IMPORTING,
        "Import attempt 1 started",
        council_officer.pk,
    )
    assert imported == (UploadStatus.IMPORTED, IMPORTED, council_officer.pk)

    why = f"First named in april.csv (upload #{upload.pk})"
    new = Supplier.objects.get(name="Wardown Plumbing Ltd")
    for record in (new, SupplierAlias.objects.get(supplier=new)):
        (made,) = record.history.all()
        assert (made.history_user, made.history_change_reason) == (
            council_officer,
            why,
        )
    (suggested,) = MatchSuggestion.objects.get(supplier=new).history.all()
    assert suggested.history_user == council_officer
    # The tags the import's classification made are theirs too.
    tags = SupplierTag.history.filter(supplier_id=new.pk)
    assert tags.exists()
    assert set(tags.values_list("history_user_id", flat=True)) == {council_officer.pk}


def test_a_retry_by_another_officer_is_recorded_as_theirs(
    client, queued_only, council, finance_officer, council_officer, monkeypatch
):
    from spend import importer

    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    upload = SpendUpload.objects.get()
    _confirm(client, council, upload)
    real = importer.save_lines
    monkeypatch.setattr(
        importer, "save_lines", lambda *a: (_ for _ in ()).throw(OSError("disk"))
    )
    run_queued()
    upload.refresh_from_db()
    assert upload.status == UploadStatus.FAILED
    assert _records(upload)[-1] == (
        UploadStatus.FAILED,
        "The import failed",
        finance_officer.pk,
    )
    monkeypatch.setattr(importer, "save_lines", real)

    client.force_login(council_officer)
    client.post(reverse("spend:upload-retry", args=[council.slug, upload.pk]))
    upload.refresh_from_db()
    assert upload.queued_by == council_officer
    _confirm(client, council, upload)
    client.logout()
    run_queued()
    upload.refresh_from_db()
    assert upload.status == UploadStatus.IMPORTED and upload.attempt == 2
    assert _records(upload)[-2:] == [
        (UploadStatus.IMPORTING, "Import attempt 2 started", council_officer.pk),
        (UploadStatus.IMPORTED, IMPORTED, council_officer.pk),
    ]
    for supplier in Supplier.objects.all():
        assert supplier.history.get().history_user == council_officer


def test_headings_brought_up_to_date_are_in_the_choice_history(
    client, council, finance_officer, council_officer
):
    """Audit: `QuerySet.update()` rewrote them with no history."""
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    _confirm(client, council, SpendUpload.objects.get())
    mapping = RememberedMapping.objects.get()
    before = mapping.history.count()
    shouted = (
        HEADER.upper() + "01/05/2025,Wardown Plumbing Ltd,10.00,12.00,Housing\n"
    ).encode()
    client.force_login(council_officer)
    _upload(client, council, shouted, "may.csv")  # the same layout: started at once
    assert SpendUpload.objects.get(file_name="may.csv").status == "imported"
    mapping.refresh_from_db()
    assert mapping.header == HEADER.upper().strip().split(",")
    assert mapping.updated_by == finance_officer  # who chose the columns
    assert mapping.history.count() == before + 1
    latest = mapping.history.latest()
    assert latest.header == mapping.header
    assert latest.history_user == council_officer
    assert latest.history_change_reason.startswith("Headings kept")


# --------------------------------------------------------------- import_spend


def _command(path: Path, council, *options: str) -> None:
    call_command(
        "import_spend",
        str(path),
        "--council",
        council.slug,
        *options,
        stdout=io.StringIO(),
    )


@pytest.fixture
def april(tmp_path) -> Path:
    path = tmp_path / "april.csv"
    path.write_bytes(GOOD)
    return path


def test_import_spend_with_a_user_records_them(april, council, finance_officer):
    _command(april, council, "--user", finance_officer.username)
    upload = SpendUpload.objects.get()
    assert upload.uploaded_by == finance_officer == upload.queued_by
    assert [(reason, user) for _, reason, user in _records(upload)] == [
        ("Uploaded from the command line", finance_officer.pk),
        (f"{IMPORTED}, from the command line", finance_officer.pk),
    ]
    for supplier in Supplier.objects.all():
        assert supplier.history.get().history_user == finance_officer


def test_import_spend_without_a_user_says_the_command_line_did_it(april, council):
    _command(april, council)
    upload = SpendUpload.objects.get()
    assert upload.uploaded_by is None and upload.queued_by is None
    assert [(reason, user) for _, reason, user in _records(upload)] == [
        ("Uploaded from the command line", None),
        (f"{IMPORTED}, from the command line", None),
    ]
    made = Supplier.objects.get(name="Wardown Plumbing Ltd").history.get()
    assert made.history_user is None
    assert made.history_change_reason == (
        f"First named in april.csv (upload #{upload.pk}, from the command line)"
    )


@pytest.mark.parametrize(
    ("who", "said"),
    [
        ("nobody-here", "No user with the username 'nobody-here'."),
        (
            "carol-cabinet",
            "'carol-cabinet' cannot upload spend files at Luton: their role there "
            "is cabinet member or councillor (read only).",
        ),
        (
            "oscar-outsider",
            "'oscar-outsider' cannot upload spend files at Luton: they are not a "
            "member of Luton.",
        ),
    ],
)
def test_import_spend_refuses_a_user_who_cannot_upload_there(
    april, council, viewer, other_council_officer, who, said
):
    with pytest.raises(CommandError) as refused:
        _command(april, council, "--user", who)
    assert refused.value.returncode == 2
    assert str(refused.value) == said
    assert not SpendUpload.objects.exists()
