"""Background imports: the upload page enqueues `import_upload`; a worker runs it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from spend.importer import INTERNAL_ERROR, ImportSuperseded, import_spend_file
from spend.models import WORKER_STOPPED, SpendUpload, UploadStatus, stalled_after
from spend.parse import FileRefused
from spend.storage import read_kept, why_unread

try:  # Django 6 has the tasks framework built in.
    from django.tasks import task
except ImportError:  # Django 5.2: the django-tasks package.
    from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def import_upload(upload_id: int) -> None:
    run_upload(upload_id)


@contextmanager
def _progress_of(upload_id: int) -> Iterator[Callable[[int], None]]:
    """A progress callback that records rows read and a heartbeat on the upload.

    On PostgreSQL the import reads the file inside its transaction, so progress
    goes through a connection of its own, to be seen while the import runs.
    """
    if connection.vendor != "postgresql":

        def progress(rows: int) -> None:
            SpendUpload.objects.filter(pk=upload_id).update(
                progress_rows=rows, heartbeat_at=timezone.now()
            )

        yield progress
        return
    own = connections.create_connection(DEFAULT_DB_ALIAS)
    table = own.ops.quote_name(SpendUpload._meta.db_table)

    def progress_outside(rows: int) -> None:
        with own.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET progress_rows = %s, heartbeat_at = %s "
                "WHERE id = %s",
                [rows, timezone.now(), upload_id],
            )

    try:
        yield progress_outside
    finally:
        own.close()


def run_upload(upload_id: int) -> None:
    """Import a queued upload's kept file. Safe to call twice: only a queued one runs."""
    claimed = SpendUpload.objects.filter(
        pk=upload_id, status=UploadStatus.QUEUED
    ).update(
        status=UploadStatus.IMPORTING,
        attempt=F("attempt") + 1,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        progress_rows=0,
    )
    if not claimed:
        return
    upload = SpendUpload.objects.get(pk=upload_id)
    _recorded(upload, f"Import attempt {upload.attempt} started")
    # The columns decided when the import was queued, by layout: chosen on the
    # preview page, or remembered from before (as they were then).
    chosen = {m["layout"]: m["columns"] for m in upload.mappings if m.get("chosen")}
    remembered = {
        m["layout"]: m["columns"] for m in upload.mappings if m.get("remembered")
    }
    try:
        data = read_kept(upload.stored_file)
    except OSError as error:
        # Gone (a backup restored without the upload folder) or unreadable: the
        # upload says so in words, and is uploaded again, not retried.
        logger.warning(
            "Upload %s: its kept file %r cannot be read: %s",
            upload_id,
            upload.stored_file,
            error,
        )
        if SpendUpload.objects.filter(
            pk=upload_id, status=UploadStatus.IMPORTING
        ).update(
            status=UploadStatus.FAILED,
            message=why_unread(error),
            finished_at=timezone.now(),
        ):
            _recorded(SpendUpload.objects.get(pk=upload_id), "Its kept file is gone")
        return
    try:
        with _progress_of(upload_id) as progress:
            import_spend_file(
                upload=upload,
                data=data,
                chosen=chosen or None,
                remembered=remembered or None,
                progress=progress,
            )
    except (FileRefused, ImportSuperseded):
        pass  # the upload says why (or a newer run of it owns it)
    except Exception:
        logger.exception("Import of upload %s failed", upload_id)
        # import_spend_file has marked it failed; this covers anything before it.
        if SpendUpload.objects.filter(
            pk=upload_id, status=UploadStatus.IMPORTING
        ).update(
            status=UploadStatus.FAILED,
            message=INTERNAL_ERROR,
            finished_at=timezone.now(),
        ):
            _recorded(SpendUpload.objects.get(pk=upload_id), "The import failed")


def _recorded(upload: SpendUpload, reason: str) -> None:
    """A history record of a status change the worker made in one conditional
    UPDATE (so that two workers never both claim an upload): why is `reason`
    (security review: the history stopped at "queued" while the upload showed
    failed); who is whoever started the import (`started_by`: the worker runs
    outside any request, so no one otherwise; audit: attempts were nobody's)."""
    SpendUpload.history.bulk_history_create(
        [upload],
        update=True,
        default_user=upload.started_by,
        default_change_reason=reason,
    )


def fail_stopped_imports(council=None) -> int:
    """Mark failed the imports whose worker stopped (killed, restarted, the machine
    went down): importing, with no heartbeat for `stalled_after()`. Their
    transaction died with the worker's connection, so nothing of them was saved;
    the upload says so and offers a retry. Called when uploads are looked at.

    Safe against an import that is alive but quiet: one concluding holds its row
    (skipped here), and one marked failed saves nothing, as only an importing
    upload may be concluded (`spend.importer._claim`).
    """
    stale = SpendUpload.objects.filter(
        status=UploadStatus.IMPORTING,
        heartbeat_at__lt=timezone.now() - stalled_after(),
    )
    if council is not None:
        stale = stale.filter(council=council)
    if not stale.exists():  # the usual case: one cheap query
        return 0
    failed = 0
    with transaction.atomic():
        for upload in stale.select_for_update(skip_locked=True):
            upload.status = UploadStatus.FAILED
            upload.message = WORKER_STOPPED
            upload.finished_at = timezone.now()
            upload._change_reason = (
                f"No sign of life from attempt {upload.attempt} since "
                f"{timezone.localtime(upload.heartbeat_at):%d %B %Y %H:%M:%S}"
            )
            # LocalSpend's doing, not that of whoever opened the page that
            # looked (security review: a cabinet member was named).
            upload._history_user = None
            upload.save(update_fields=["status", "message", "finished_at"])
            failed += 1
    if failed:
        logger.warning("Marked %s stopped import(s) failed", failed)
    return failed
