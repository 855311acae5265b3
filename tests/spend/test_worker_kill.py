"""A task worker killed in the middle of an import (SIGKILL: no chance to tidy up)
leaves no lines; the upload then shows failed, and a retry completes it.

A real `manage.py db_worker` runs in a subprocess against the test database, so
the data is committed (`transactional_db`) and the test's tasks go to the
database queue, not run at once. PostgreSQL only: pytest-django's SQLite test
database is in memory, where no other process can open it. The rules that decide
when an import has stopped are tested on both databases below.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone

from procure.models import Supplier
from spend.importer import import_spend_file
from spend.models import (
    STALLED_AFTER,
    WORKER_STOPPED,
    SpendLine,
    SpendUpload,
    SupplierMonth,
    SupplierYear,
    TagMonth,
)
from spend.storage import keep_file, sha256_of
from spend.tasks import import_upload
from tests.spend.test_rollup import rolled_up_supplier_months

needs_postgresql = pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="the worker is another process, and pytest-django's SQLite test "
    "database is in memory, where no other process can see it",
)

ROOT = Path(__file__).resolve().parents[2]
ROWS = 100_000  # killed after its first 5,000: still running, whatever the machine
TIMEOUT = 45  # seconds, for any one thing to happen

HEADER = "Payment Date,Supplier Name,Net Amount,Department\n"


def big_file(rows: int) -> tuple[bytes, Decimal]:
    """`rows` payments over a year to 500 suppliers, and their total."""
    lines, total = [HEADER], Decimal(0)
    first = date(2025, 4, 1)
    for i in range(rows):
        pence = 50_000 + (i * 7919) % 900_000
        amount = Decimal(pence) / 100
        total += amount
        day = first + timedelta(days=i % 365)
        lines.append(
            f"{day:%d/%m/%Y},Supplier {i % 500} Ltd,{amount},Directorate {i % 7}\n"
        )
    return "".join(lines).encode(), total


def worker(*args: str, log: Path) -> subprocess.Popen:
    """`manage.py db_worker` on the test database, with the test's upload folder."""
    db = connection.settings_dict
    login = f"{quote(db['USER'], safe='')}:{quote(db['PASSWORD'] or '', safe='')}"
    where = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://{login}@{where}",
        "LOCALSPEND_UPLOAD_ROOT": str(settings.UPLOAD_ROOT),
        "DATABASE_CONN_MAX_AGE": "0",
    }
    with log.open("ab") as out:  # the worker writes to its own copy
        return subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-startup-delay", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for(what: str, check, process: subprocess.Popen | None = None, log=None):
    deadline = time.monotonic() + TIMEOUT
    while not (found := check()):
        if process is not None and process.poll() is not None:
            pytest.fail(
                f"the worker ended ({process.returncode}) before {what}:\n"
                + log.read_text()[-3000:]
            )
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)
    return found


def by_month(rows, total: str, lines: str) -> dict:
    return {
        row["m"]: (row["total"], row["lines"])
        for row in rows.annotate(total=Sum(total), lines=lines).order_by("m")
    }


def assert_rollups_add_up(council) -> None:
    """The rollups against a direct aggregate of the lines, month by month, in
    the database (tests/spend/test_rollup.py checks them row by row, in Python,
    which is slow for 100,000 lines)."""
    lines = SpendLine.objects.filter(council=council)
    direct = by_month(
        lines.annotate(m=TruncMonth("payment_date")).values("m"), "amount", Count("id")
    )
    for rows in (
        SupplierMonth.objects.filter(council=council),
        TagMonth.objects.filter(council=council, directorate__isnull=True),
        TagMonth.objects.filter(council=council, directorate__isnull=False),
    ):
        assert by_month(
            rows.annotate(m=F("month")).values("m"), "total", Sum("lines")
        ) == (direct)
    yearly = SupplierYear.objects.filter(council=council).aggregate(
        total=Sum("total"), lines=Sum("lines")
    )
    named = lines.filter(supplier__isnull=False).aggregate(
        total=Sum("amount"), lines=Count("id")
    )
    assert yearly == named


@pytest.fixture
def database_queue(settings):
    """Tasks go to the database queue that `db_worker` reads."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default"],
        }
    }
    settings.IMPORT_STALLED_AFTER = 2  # seconds without a heartbeat: stopped


@needs_postgresql
def test_a_killed_worker_leaves_no_lines_and_a_retry_completes_the_import(
    transactional_db, database_queue, client, finance_officer, council, tmp_path
):
    # Spend held before: its rollups must come through untouched.
    earlier = (HEADER + "15/03/2025,Supplier 1 Ltd,123.45,Directorate 1\n").encode()
    held = SpendUpload.objects.create(
        council=council, file_name="march.csv", sha256=sha256_of(earlier)
    )
    import_spend_file(upload=held, data=earlier)
    rollups_before = rolled_up_supplier_months(council)
    suppliers_before = Supplier.objects.count()

    data, total = big_file(ROWS)
    upload = SpendUpload.objects.create(
        council=council,
        file_name="2025-26.csv",
        sha256=sha256_of(data),
        uploaded_by=finance_officer,
        stored_file=keep_file(council, data, "2025-26.csv"),
        status="queued",
        rows_expected=ROWS,
    )
    import_upload.enqueue(upload.pk)
    log = tmp_path / "worker.log"

    first = worker(log=log)
    try:
        # Under way: claimed, and some rows read and reported.
        wait_for(
            "the import to be under way",
            lambda: SpendUpload.objects.filter(
                pk=upload.pk, status="importing", progress_rows__gt=0
            ).exists(),
            first,
            log,
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(TIMEOUT)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(TIMEOUT)
    assert first.returncode == -signal.SIGKILL

    # Nothing of the import was saved, and the rollups are as they were.
    upload.refresh_from_db()
    assert upload.status == "importing"  # until someone looks
    assert not SpendLine.objects.filter(upload=upload).exists()
    assert Supplier.objects.count() == suppliers_before
    assert rolled_up_supplier_months(council) == rollups_before

    # Once its heartbeat is older than the limit, the upload's page says it failed.
    client.force_login(finance_officer)
    detail = reverse("spend:upload-detail", args=[council.slug, upload.pk])
    page = wait_for(
        "the upload to show failed",
        lambda: (
            (r := client.get(detail)).status_code == 200
            and WORKER_STOPPED in r.content.decode()
            and r.content.decode()
        ),
    )
    assert "Try this file again" in page
    upload.refresh_from_db()
    assert upload.status == "failed" and upload.message == WORKER_STOPPED
    assert upload.history.first().history_change_reason.startswith(
        "No sign of life from attempt 1"
    )

    # A retry, checked and confirmed as usual, is run by a fresh worker.
    response = client.post(
        reverse("spend:upload-retry", args=[council.slug, upload.pk])
    )
    preview = reverse("spend:upload-preview", args=[council.slug, upload.pk])
    assert response.url == preview
    form = client.get(preview).context["form"]
    client.post(preview, {name: form[name].initial or "" for name in form.fields})
    upload.refresh_from_db()
    assert upload.status == "queued"
    second = worker("--batch", log=log)
    try:
        assert second.wait(TIMEOUT) == 0, log.read_text()[-3000:]
    finally:
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait(TIMEOUT)

    upload.refresh_from_db()
    assert upload.status == "imported", upload.message
    assert upload.attempt == 2
    assert upload.rows_imported == ROWS and upload.amount_imported == total
    assert SpendLine.objects.filter(upload=upload).count() == ROWS
    assert_rollups_add_up(council)


# ------------------------------------------- when an import counts as stopped


def test_an_import_silent_for_too_long_is_shown_failed_and_can_be_retried(
    client, finance_officer, council
):
    now = timezone.now()

    def importing(name: str, heartbeat) -> SpendUpload:
        return SpendUpload.objects.create(
            council=council,
            file_name=name,
            sha256=sha256_of(name.encode()),
            status="importing",
            attempt=1,
            heartbeat_at=heartbeat,
        )

    stopped = importing("stopped.csv", now - STALLED_AFTER - timedelta(seconds=1))
    alive = importing("alive.csv", now - timedelta(seconds=30))
    client.force_login(finance_officer)
    page = client.get(reverse("spend:uploads", args=[council.slug]))
    assert page.status_code == 200
    stopped.refresh_from_db()
    alive.refresh_from_db()
    assert stopped.status == "failed" and stopped.message == WORKER_STOPPED
    assert stopped.can_retry and stopped.finished_at is not None
    assert alive.status == "importing" and not alive.can_retry
    # Marked so by LocalSpend, not by the officer whose page looked (security
    # review: a read-only cabinet member was named in the history).
    change = stopped.history.order_by("-history_id").first()
    assert change.history_user is None
    assert change.history_change_reason.startswith("No sign of life from attempt 1")
    detail = client.get(reverse("spend:upload-detail", args=[council.slug, stopped.pk]))
    assert WORKER_STOPPED in detail.content.decode()
    assert "Try this file again" in detail.content.decode()


def test_an_import_marked_stopped_while_still_running_saves_nothing(
    transactional_db, council, settings, monkeypatch
):
    """The heartbeat can be late without the worker being dead (a very slow
    step). Marked failed meanwhile, the run still going saves nothing: the upload
    says what is true, and its retry cannot double anything."""
    from spend import tasks

    settings.IMPORT_STALLED_AFTER = 0  # any heartbeat is too old
    data, total = big_file(50)
    upload = SpendUpload.objects.create(
        council=council,
        file_name="slow.csv",
        sha256=sha256_of(data),
        stored_file=keep_file(council, data, "slow.csv"),
        status="queued",
    )
    real = tasks.import_spend_file
    marked = []

    def mark_from_elsewhere() -> None:  # a page view, in another session
        try:
            marked.append(tasks.fail_stopped_imports(council))
        finally:
            connection.close()

    def import_marked_meanwhile(*, progress, **kwargs):
        def progress_then_marked(rows: int) -> None:
            progress(rows)
            if not marked:
                other = threading.Thread(target=mark_from_elsewhere)
                other.start()
                other.join(TIMEOUT)

        return real(progress=progress_then_marked, **kwargs)

    monkeypatch.setattr(tasks, "import_spend_file", import_marked_meanwhile)
    tasks.run_upload(upload.pk)
    assert marked == [1]
    upload.refresh_from_db()
    assert upload.status == "failed" and upload.message == WORKER_STOPPED
    assert not SpendLine.objects.exists() and not Supplier.objects.exists()

    # Retried, it runs in full.
    monkeypatch.setattr(tasks, "import_spend_file", real)
    settings.IMPORT_STALLED_AFTER = None
    SpendUpload.objects.filter(pk=upload.pk).update(status="queued", message="")
    tasks.run_upload(upload.pk)
    upload.refresh_from_db()
    assert upload.status == "imported" and upload.attempt == 2
    assert upload.rows_imported == 50 and upload.amount_imported == total


# ---------------------------------------------------- a kept file that has gone


def test_a_queued_import_whose_file_has_gone_fails_saying_so(council, caplog):
    """Restored from a backup without the upload folder: not an internal error
    to try again, but a file to upload again."""
    from spend.models import INTERNAL_ERROR
    from spend.storage import FILE_GONE
    from spend.tasks import run_upload

    upload = SpendUpload.objects.create(
        council=council,
        file_name="gone.csv",
        sha256="e" * 64,
        stored_file=f"{council.slug}/{'e' * 64}.csv",
        status="queued",
    )
    run_upload(upload.pk)
    upload.refresh_from_db()
    assert upload.status == "failed" and upload.message == FILE_GONE != INTERNAL_ERROR
    assert upload.finished_at is not None and not upload.can_retry
    assert "cannot be read" in caplog.text
