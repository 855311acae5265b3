"""The worker's status changes are in the upload's history.

Security review: it claimed an upload (queued to importing, attempt + 1) and
failed it with `QuerySet.update()`, which writes no history record: the history
stopped at "queued" while the upload showed failed.
"""

from __future__ import annotations

import pytest

from spend.models import SpendUpload, UploadStatus
from spend.tasks import run_upload
from tests.spend.test_upload_views import GOOD


def _records(upload: SpendUpload) -> list[tuple[str, str | None]]:
    return list(
        upload.history.order_by("history_date", "history_id").values_list(
            "status", "history_change_reason"
        )
    )


def test_a_failure_for_a_file_that_is_gone_is_recorded(council, make_upload):
    upload = make_upload(
        council,
        status=UploadStatus.QUEUED,
        stored_file=f"{council.slug}/{'0' * 64}.csv",  # never kept
    )
    run_upload(upload.pk)
    upload.refresh_from_db()
    assert upload.status == UploadStatus.FAILED
    assert _records(upload)[-2:] == [
        (UploadStatus.IMPORTING, "Import attempt 1 started"),
        (UploadStatus.FAILED, "Its kept file is gone"),
    ]


def test_a_failure_before_the_import_began_is_recorded(
    council, make_upload, monkeypatch
):
    import spend.tasks as tasks

    upload = make_upload(
        council, status=UploadStatus.QUEUED, stored_file=f"{council.slug}/x.csv"
    )
    monkeypatch.setattr(tasks, "read_kept", lambda _: GOOD)

    def broken(**_kwargs):
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(tasks, "import_spend_file", broken)
    run_upload(upload.pk)
    upload.refresh_from_db()
    assert upload.status == UploadStatus.FAILED
    assert _records(upload)[-1] == (UploadStatus.FAILED, "The import failed")


def test_a_second_worker_claims_nothing_and_records_nothing(council, make_upload):
    upload = make_upload(
        council,
        status=UploadStatus.QUEUED,
        stored_file=f"{council.slug}/{'0' * 64}.csv",
    )
    run_upload(upload.pk)
    count = upload.history.count()
    run_upload(upload.pk)  # failed already: not queued
    assert upload.history.count() == count


@pytest.fixture(autouse=True)
def _quiet_logs(caplog):
    caplog.set_level("CRITICAL", logger="spend.tasks")
