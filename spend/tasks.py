"""Background imports: the upload page enqueues `import_upload`; a worker runs it."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from spend.importer import INTERNAL_ERROR, ImportSuperseded, import_spend_file
from spend.models import (
    READING,
    STEP_MARK,
    WORKER_STOPPED,
    SpendUpload,
    UploadStatus,
    live_progress_path,
    read_live_progress,
    stalled_after,
)
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


BEAT_EVERY = 1.0  # seconds: at most one write a second, but as a step begins


class _Beat:
    """The import's sign of life and progress (the rows read, then its step and
    the lines done), written where another connection sees it while the import's
    transaction is open: on the upload's row through `write_row`, or, where the
    row cannot be written so (it returns False), to the upload's file in
    spend.models.LIVE_FOLDER, which the pages read too. At most once every
    BEAT_EVERY seconds, but for the first report of each step, so that an import
    of any size costs a few writes more, not one per chunk or piece."""

    def __init__(self, upload_id: int, write_row: Callable[..., bool]) -> None:
        self.upload_id = upload_id
        self.write_row = write_row
        self.step, self.done = READING, 0
        self.steps_seen = {READING}
        self.written = float("-inf")
        self.filed = self.warned = False

    def rows_read(self, rows: int) -> None:
        """The `progress` callback: while reading, the rows read; once the lines
        are being saved (read meanwhile, on PostgreSQL), only a sign of life."""
        if self.step == READING:
            self.done = rows
        self._write(first=False)

    def steps(self, step: str, done: int) -> None:
        """The `steps` callback (spend.importer._Progress)."""
        first = step not in self.steps_seen
        self.steps_seen.add(step)
        self.step, self.done = step, done
        self._write(first=first)

    def _write(self, *, first: bool) -> None:
        now = time.monotonic()
        if not first and now - self.written < BEAT_EVERY:
            return
        self.written = now
        at = timezone.now()
        message = "" if self.step == READING else STEP_MARK + self.step
        if not self.write_row(
            progress_rows=self.done, heartbeat_at=at, message=message
        ):
            self._write_file(at)

    def _write_file(self, at) -> None:
        path = live_progress_path(self.upload_id)
        said = {"at": at.isoformat(), "step": self.step, "done": self.done}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written whole, then renamed: a page never reads half of it.
            part = path.with_suffix(".part")
            part.write_text(json.dumps(said), encoding="utf-8")
            os.replace(part, path)
            self.filed = True
        except OSError as error:  # the page says less; the import goes on
            if not self.warned:
                self.warned = True
                logger.warning(
                    "Upload %s: progress not written: %s", self.upload_id, error
                )

    def close(self) -> None:
        if self.filed:
            forget_live_progress(self.upload_id)


def forget_live_progress(upload_id: int) -> None:
    """Remove an import's progress file (its import ended), if it has one."""
    try:
        live_progress_path(upload_id).unlink(missing_ok=True)
    except OSError as error:  # left behind: it grows old, and harms nothing
        logger.warning("Upload %s: progress file not removed: %s", upload_id, error)


@contextmanager
def _progress_of(upload_id: int) -> Iterator[_Beat]:
    """The import's progress (`_Beat`): `rows_read` is its `progress` callback,
    `steps` its `steps` (spend.importer.import_spend_file).

    On PostgreSQL the import reads the file inside its transaction, so progress
    goes through a connection of its own, to be seen while the import runs; it
    never waits for the row (`FOR NO KEY UPDATE SKIP LOCKED`): once the import
    claims it (`spend.importer._claim`), to conclude, progress goes to the file.
    On SQLite, whose one writer is the import from its transaction's start,
    progress goes on the row before that, and to the file after.
    """
    # Only while it is importing: marked failed meanwhile (its worker taken for
    # dead, `fail_stopped_imports`), it says so, not what this run is doing.
    queryset = SpendUpload.objects.filter(pk=upload_id, status=UploadStatus.IMPORTING)
    if connection.vendor != "postgresql":

        def write_row(**values) -> bool:
            if connection.in_atomic_block:  # not to be seen before it commits
                return False
            queryset.update(**values)
            return True

        beat = _Beat(upload_id, write_row)
        try:
            yield beat
        finally:
            beat.close()
        return
    own = connections.create_connection(DEFAULT_DB_ALIAS)
    table = own.ops.quote_name(SpendUpload._meta.db_table)

    def write_row_outside(*, progress_rows, heartbeat_at, message) -> bool:
        with own.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET progress_rows = %s, heartbeat_at = %s, "
                f"message = %s WHERE id IN (SELECT id FROM {table} WHERE id = %s "
                "AND status = %s FOR NO KEY UPDATE SKIP LOCKED)",
                [
                    progress_rows,
                    heartbeat_at,
                    message,
                    upload_id,
                    UploadStatus.IMPORTING,
                ],
            )
            return cursor.rowcount > 0

    beat = _Beat(upload_id, write_row_outside)
    try:
        yield beat
    finally:
        beat.close()
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
        message="",
    )
    if not claimed:
        return
    forget_live_progress(upload_id)  # an earlier attempt's, if its worker died
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
        with _progress_of(upload_id) as beat:
            import_spend_file(
                upload=upload,
                data=data,
                chosen=chosen or None,
                remembered=remembered or None,
                progress=beat.rows_read,
                steps=beat.steps,
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
    went down): importing, with no sign of life for `stalled_after()`, on their
    row or in their progress file (`SpendUpload.last_heard`). Their transaction
    died with the worker's connection, so nothing of them was saved; the upload
    says so and offers a retry. Called when uploads are looked at.

    A queued upload is never marked failed: its task is still in the queue, run
    when a worker is free (behind another import, or once one is started again),
    and only a queued upload is run (`run_upload`); its page says which.

    Safe against an import that is alive but quiet: one concluding holds its row
    (skipped here), and one marked failed saves nothing, as only an importing
    upload may be concluded (`spend.importer._claim`).
    """
    late = timezone.now() - stalled_after()
    stale = SpendUpload.objects.filter(
        status=UploadStatus.IMPORTING, heartbeat_at__lt=late
    )
    if council is not None:
        stale = stale.filter(council=council)
    # The usual case: one cheap query, finding none. An import whose file has
    # word of it lately is alive (its transaction holds the row, or SQLite's
    # database: it is not waited for here).
    stopped = [
        pk
        for pk in stale.values_list("pk", flat=True)
        if (live := read_live_progress(pk)) is None or live.heard_at < late
    ]
    if not stopped:
        return 0
    failed = 0
    with transaction.atomic():
        for upload in stale.filter(pk__in=stopped).select_for_update(skip_locked=True):
            heard = upload.last_heard or upload.heartbeat_at
            upload.status = UploadStatus.FAILED
            upload.message = WORKER_STOPPED
            upload.finished_at = timezone.now()
            upload._change_reason = (
                f"No sign of life from attempt {upload.attempt} since "
                f"{timezone.localtime(heard):%d %B %Y %H:%M:%S}"
            )
            # LocalSpend's doing, not that of whoever opened the page that
            # looked (security review: a cabinet member was named).
            upload._history_user = None
            upload.save(update_fields=["status", "message", "finished_at"])
            forget_live_progress(upload.pk)
            failed += 1
    if failed:
        logger.warning("Marked %s stopped import(s) failed", failed)
    return failed
