"""Background loads of reference data: the admin's "Load reference data" page keeps
the file and enqueues `load_reference_file`; a worker loads it and classifies again
the suppliers it affects (`socialvalue.reference.load_and_classify`)."""

from __future__ import annotations

import logging

from django.utils import timezone

from socialvalue.loaders import LoaderRefused
from socialvalue.models import ReferenceLoad, ReferenceLoadStatus
from socialvalue.reference import NamedFile, forget_file, kept_path, load_and_classify

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
    claimed = ReferenceLoad.objects.filter(
        pk=load_id, status=ReferenceLoadStatus.QUEUED
    ).update(status=ReferenceLoadStatus.RUNNING, started_at=timezone.now())
    if not claimed:
        return
    load = ReferenceLoad.objects.select_related("uploaded_by").get(pk=load_id)

    def progress(rows: int) -> None:
        ReferenceLoad.objects.filter(pk=load_id).update(rows_read=rows)

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


def _failed(load: ReferenceLoad, why: str) -> None:
    message = f'"{load.file_name}" was not loaded. {why}'
    _finish(load, ReferenceLoadStatus.FAILED, message=message)


def _finish(load: ReferenceLoad, status: str, **values) -> None:
    forget_file(load.stored_file)
    ReferenceLoad.objects.filter(pk=load.pk).update(
        status=status, finished_at=timezone.now(), stored_file="", **values
    )
