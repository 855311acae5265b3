"""Background loads of reference data: the admin's "Load reference data" page keeps
the file and enqueues `load_reference_file`; a worker loads it and classifies again
the suppliers it affects (`socialvalue.reference.load_and_classify`)."""

from __future__ import annotations

import logging

from django.utils import timezone

from socialvalue.loaders import LoaderRefused
from socialvalue.models import ReferenceLoad, ReferenceLoadStatus
from socialvalue.reference import NamedFile, forget_file, kept_path, load_and_classify
from spend.models import stalled_after

try:  # Django 6 has the tasks framework built in.
    from django.tasks import task
except ImportError:  # Django 5.2: the django-tasks package.
    from django_tasks import task

logger = logging.getLogger(__name__)

INTERNAL_ERROR = (
    "The load stopped with an unexpected error ({error}); the server log has the "
    "details. What was loaded before it stopped is kept: load the file again, and "
    "if that changes nothing, run `manage.py classify_suppliers`."
)


@task()
def load_reference_file(load_id: int) -> None:
    run_load(load_id)


def run_load(load_id: int) -> None:
    """Load a queued reference file. Safe to call twice: only a queued one runs."""
    now = timezone.now()
    claimed = ReferenceLoad.objects.filter(
        pk=load_id, status=ReferenceLoadStatus.QUEUED
    ).update(status=ReferenceLoadStatus.RUNNING, started_at=now, heartbeat_at=now)
    if not claimed:
        return
    load = ReferenceLoad.objects.select_related("uploaded_by").get(pk=load_id)

    def progress(rows: int) -> None:
        # Rows read, and a sign of life: a load that stops giving one is given
        # up by `give_up_stalled` (the worker died).
        ReferenceLoad.objects.filter(pk=load_id).update(
            rows_read=rows, heartbeat_at=timezone.now()
        )

    try:
        with NamedFile(kept_path(load.stored_file), load.file_name) as file:
            loaded = load_and_classify(
                load.kind,
                file,
                user=load.uploaded_by,
                taken_on=load.taken_on,
                progress=progress,
            )
    except LoaderRefused as refused:
        _failed(load, str(refused))
    except FileNotFoundError:
        _failed(load, "The file was no longer on the server: upload it again.")
    except Exception as err:
        logger.exception("Reference load %s failed", load_id)
        _failed(load, INTERNAL_ERROR.format(error=type(err).__name__))
    else:
        _finish(
            load,
            ReferenceLoadStatus.DONE,
            report=loaded.as_json(),
            report_text="\n".join(loaded.lines()),
            rows_read=loaded.report.rows_read,
        )


STALLED = (
    "The load stopped giving signs of life after {rows} rows, at {when} (the "
    "background worker stopped, or the server restarted). What was loaded before "
    "it stopped is kept: upload the file again."
)


def give_up_stalled() -> int:
    """Mark failed the running loads with no sign of life for `stalled_after()`
    (the same wait as for spend imports); return how many. Their worker is gone:
    nothing else would ever finish them."""
    late = timezone.now() - stalled_after()
    stalled = ReferenceLoad.objects.filter(
        status=ReferenceLoadStatus.RUNNING, heartbeat_at__lt=late
    ) | ReferenceLoad.objects.filter(
        status=ReferenceLoadStatus.RUNNING,
        heartbeat_at__isnull=True,
        started_at__lt=late,
    )
    given_up = 0
    for load in stalled:
        seen = load.heartbeat_at or load.started_at
        why = STALLED.format(
            rows=f"{load.rows_read:,}",
            when=f"{timezone.localtime(seen):%d %B %Y %H:%M:%S}",
        )
        given_up += ReferenceLoad.objects.filter(
            pk=load.pk, status=ReferenceLoadStatus.RUNNING
        ).update(
            status=ReferenceLoadStatus.FAILED,
            finished_at=timezone.now(),
            stored_file="",
            message=f'"{load.file_name}" was not loaded. {why}',
        )
        forget_file(load.stored_file)
    return given_up


def _failed(load: ReferenceLoad, why: str) -> None:
    message = f'"{load.file_name}" was not loaded. {why}'
    _finish(load, ReferenceLoadStatus.FAILED, message=message)


def _finish(load: ReferenceLoad, status: str, **values) -> None:
    forget_file(load.stored_file)
    ReferenceLoad.objects.filter(pk=load.pk).update(
        status=status, finished_at=timezone.now(), stored_file="", **values
    )
