"""An upload queued behind another import waits, it has not stopped; and a large
import says what it is doing, and gives signs of life, until it has finished.

Finance QA: a small file uploaded straight after a 250,000-row one was shown
"The import stopped ... No background worker has picked this import up" while the
worker was busy with the big one (it imported normally half a minute later); and
the big one sat at "All 250,000 rows read. Saving…", its bar full, for 30–130 s
with its heartbeat frozen: a worker killed then looked the same for ten minutes,
and saving for longer than the limit would have been taken for a dead worker.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from spend import importer, tasks
from spend.importer import import_spend_file
from spend.models import (
    MATCHING,
    SAVING,
    STALLED_AFTER,
    STEP_MARK,
    TAGGING,
    WORKER_STOPPED,
    SpendUpload,
    live_progress_path,
    worker_state,
)
from spend.storage import keep_file, sha256_of
from tests.spend.test_worker_kill import big_file

LONG_AGO = STALLED_AFTER + timedelta(minutes=5)


def _upload(council, name: str, status: str, *, heard=None, **kwargs):
    return SpendUpload.objects.create(
        council=council,
        file_name=name,
        sha256=sha256_of(name.encode()),
        status=status,
        heartbeat_at=heard,
        **kwargs,
    )


def _detail(council, upload) -> str:
    return reverse("spend:upload-detail", args=[council.slug, upload.pk])


def _live(upload, *, at, step: str, done: int) -> None:
    """The progress file an import writes while its row cannot be written."""
    path = live_progress_path(upload.pk)
    path.parent.mkdir(parents=True, exist_ok=True)
    said = {"at": at.isoformat(), "step": step, "done": done}
    path.write_text(json.dumps(said), encoding="utf-8")


@pytest.fixture(autouse=True)
def _no_progress_files():
    """Each test starts and ends with no progress file (UPLOAD_ROOT is shared)."""
    folder = live_progress_path(0).parent
    for path in folder.glob("*.json") if folder.exists() else []:
        path.unlink()
    yield
    for path in folder.glob("*.json") if folder.exists() else []:
        path.unlink()


# ------------------------------------------------- waiting behind another import


def test_a_queued_upload_behind_a_live_import_is_waiting_not_stopped(
    client, finance_officer, council, other_council
):
    now = timezone.now()
    # Another council's big import, alive: the worker is shared.
    big = _upload(
        other_council,
        "knowsley-2025-26.csv",
        "importing",
        heard=now - timedelta(seconds=20),
        rows_expected=250_000,
    )
    small = _upload(council, "small.csv", "queued", heard=now - LONG_AGO)
    assert not small.is_stalled and small.imports_ahead == 1

    client.force_login(finance_officer)
    page = client.get(_detail(council, small))
    assertNotContains(page, "The import stopped")
    assertNotContains(page, "Try this file again")
    assertContains(page, 'id="progress"')  # polling, with the progress bar
    assertContains(
        page,
        "Waiting for another import to finish: this file is next, and starts as "
        "soon as it has.",
    )
    assertNotContains(page, big.file_name)  # another council's file: not named
    # The poll goes on showing it, rather than reloading into "stopped".
    poll = client.get(_detail(council, small), headers={"HX-Request": "true"})
    assert poll.status_code == 200
    assertContains(poll, "Waiting for another import to finish")

    # Queued earlier and still waiting: counted too.
    _upload(council, "earlier.csv", "queued", heard=now - LONG_AGO - timedelta(1))
    poll = client.get(_detail(council, small), headers={"HX-Request": "true"})
    assertContains(
        poll, "Waiting for other imports to finish: 2 are ahead of this file."
    )

    small.refresh_from_db()
    assert small.status == "queued"  # never marked failed while the worker is busy


def test_a_queued_upload_with_no_import_alive_is_stopped(
    client, finance_officer, council
):
    now = timezone.now()
    dead = _upload(council, "dead.csv", "importing", heard=now - LONG_AGO)
    small = _upload(council, "small.csv", "queued", heard=now - LONG_AGO)
    assert small.is_stalled and small.imports_ahead == 0
    client.force_login(finance_officer)
    page = client.get(_detail(council, small))
    assertContains(page, "The import stopped")
    assertContains(page, "This import has not been started: no background worker")
    assertContains(page, "Try this file again")
    assertNotContains(page, 'id="progress"')
    dead.refresh_from_db()
    small.refresh_from_db()
    assert dead.status == "failed" and dead.message == WORKER_STOPPED
    assert small.status == "queued"  # its task is still queued: never failed


def test_the_next_in_the_queue_is_not_stopped_while_the_worker_takes_it(
    council, make_upload
):
    """An import that has just finished is a sign of life of the worker: the next
    in the queue is about to be claimed (a poll in that second showed it stopped,
    and the page stopped polling)."""
    now = timezone.now()
    make_upload(council, status="imported", finished_at=now - timedelta(seconds=1))
    waiting = _upload(council, "small.csv", "queued", heard=now - LONG_AGO)
    assert not waiting.is_stalled and waiting.imports_ahead == 0
    assert waiting.last_heard >= now - timedelta(seconds=1)


def test_a_queued_upload_is_never_marked_failed(council, other_council):
    now = timezone.now()
    _upload(other_council, "big.csv", "importing", heard=now)
    busy = _upload(council, "busy.csv", "queued", heard=now - LONG_AGO)
    assert tasks.fail_stopped_imports() == 0
    SpendUpload.objects.filter(file_name="big.csv").update(status="imported")
    assert tasks.fail_stopped_imports() == 0  # no worker at all: shown, not failed
    busy.refresh_from_db()
    assert busy.status == "queued" and busy.is_stalled


def test_whether_any_import_is_alive_is_one_query(
    council,
    other_council,
    django_assert_num_queries,
    client,
    finance_officer,
    monkeypatch,
):
    now = timezone.now()
    _upload(other_council, "big.csv", "importing", heard=now)
    queued = [
        _upload(council, f"q{number}.csv", "queued", heard=now - LONG_AGO)
        for number in range(3)
    ]
    with django_assert_num_queries(1):
        state = worker_state(queued[-1].heartbeat_at)
    assert state.alive == 1
    # Asked once for an upload, however often its page asks.
    fresh = SpendUpload.objects.get(pk=queued[0].pk)
    with django_assert_num_queries(1):
        assert not fresh.is_stalled and not fresh.is_stalled
        assert fresh.imports_ahead == 1 and fresh.last_heard
    # The list of uploads asks nothing of the kind, whatever it shows.
    asked = []
    real = SpendUpload._worker
    monkeypatch.setattr(
        SpendUpload, "_worker", lambda self: asked.append(self.pk) or real(self)
    )
    client.force_login(finance_officer)
    page = client.get(reverse("spend:uploads", args=[council.slug]))
    assert page.status_code == 200
    assert asked == []


# ----------------------------------------------------- the steps after reading


@pytest.mark.parametrize(
    ("step", "done", "said", "width"),
    [
        (
            SAVING,
            120_000,
            "Saving: 120,000 of 250,000 rows checked and saved (48%).",
            48,
        ),
        (MATCHING, 0, "Matching suppliers…", 0),
        (MATCHING, 5_000, "Matching suppliers (5,000 of 250,000 rows saved", 2),
        (TAGGING, 250_000, "Working out tags and totals: the payments are saved", 99),
    ],
)
def test_the_page_says_the_step(
    client, finance_officer, council, step, done, said, width
):
    upload = _upload(
        council,
        "big.csv",
        "importing",
        heard=timezone.now(),
        rows_expected=250_000,
        progress_rows=done,
        message=STEP_MARK + step,
    )
    client.force_login(finance_officer)
    poll = client.get(_detail(council, upload), headers={"HX-Request": "true"})
    assertContains(poll, said)
    assertContains(poll, f'style="width: {width}%"')
    assertNotContains(poll, "All 250,000 rows read")


def test_the_progress_file_is_read_where_it_is_newer_than_the_row(
    client, finance_officer, council
):
    """While the import's transaction holds its row (PostgreSQL, concluding) or
    the database (SQLite), it writes its progress to a file: the page reads it,
    and does not take the import for stopped."""
    now = timezone.now()
    upload = _upload(
        council,
        "big.csv",
        "importing",
        heard=now - LONG_AGO,
        rows_expected=200,
        progress_rows=200,
    )
    _live(upload, at=now, step=SAVING, done=150)
    assert not upload.is_stalled and upload.import_step == SAVING
    client.force_login(finance_officer)
    page = client.get(_detail(council, upload))
    assertContains(page, "Saving: 150 of 200 rows checked and saved (75%).")
    assert tasks.fail_stopped_imports() == 0
    upload.refresh_from_db()
    assert upload.status == "importing"

    # A file as old as the row: the worker died; it goes with the failure.
    _live(upload, at=now - LONG_AGO, step=TAGGING, done=200)
    assert upload.is_stalled
    assert tasks.fail_stopped_imports(council) == 1
    upload.refresh_from_db()
    assert upload.status == "failed" and upload.message == WORKER_STOPPED
    assert not live_progress_path(upload.pk).exists()


def test_the_import_reports_each_step_and_the_lines_saved(council, monkeypatch):
    monkeypatch.setattr(importer, "SAVE_PIECE", 7)
    monkeypatch.setattr(importer, "COPY_PIECE", 7)
    monkeypatch.setattr(importer, "FIRST_LINES", 20)
    data, _ = big_file(100)
    seen = []
    upload = SpendUpload.objects.create(
        council=council, file_name="big.csv", sha256=sha256_of(data)
    )
    result = import_spend_file(
        upload=upload, data=data, steps=lambda *said: seen.append(said)
    )
    assert result.rows_imported == 100
    steps = [step for step, _ in seen]
    assert steps[0] == MATCHING and steps[-1] == TAGGING
    assert steps.index(TAGGING) > max(i for i, s in enumerate(steps) if s == SAVING)
    saved = [done for step, done in seen if step == SAVING]
    assert saved == sorted(saved) and saved[-1] == 100
    assert len(set(saved)) > 5  # the count moves while the lines are saved


# --------------------------------------- signs of life seen from another session


@pytest.fixture
def every_report_written(monkeypatch):
    monkeypatch.setattr(tasks, "BEAT_EVERY", 0)


def test_a_running_import_gives_signs_of_life_until_it_has_finished(
    transactional_db, council, settings, monkeypatch, every_report_written
):
    """Looked at in the middle of saving and of the tags and totals, as a page
    would (on SQLite, from the import's own connection: another cannot read
    while it writes; the file is there for other processes), the upload says
    what it is doing, and has been heard from since the last look."""
    settings.IMPORT_STALLED_AFTER = 3600
    data, _ = big_file(300)
    upload = SpendUpload.objects.create(
        council=council,
        file_name="big.csv",
        sha256=sha256_of(data),
        stored_file=keep_file(council, data, "big.csv"),
        status="queued",
        rows_expected=300,
    )
    looks = []

    def look(when: str) -> None:
        def see() -> None:
            seen = SpendUpload.objects.get(pk=upload.pk)
            looks.append((when, seen.import_step, seen.progress_done, seen.last_heard))
            if connection.vendor == "postgresql":
                connections["default"].close()  # this thread's own

        if connection.vendor == "postgresql":  # from another session, truly
            other = threading.Thread(target=see)
            other.start()
            other.join(30)
        else:
            see()
        time.sleep(0.01)  # the next sign of life is later than this look

    real_save, real_refresh = importer.save_lines, importer.rollup.refresh_months

    def save_then_look(*args):
        real_save(*args)
        look("saving")

    def refresh_then_look(*args, **kwargs):
        look("tagging")
        return real_refresh(*args, **kwargs)

    monkeypatch.setattr(importer, "save_lines", save_then_look)
    monkeypatch.setattr(importer.rollup, "refresh_months", refresh_then_look)
    monkeypatch.setattr(importer, "FIRST_LINES", 50)
    monkeypatch.setattr(importer, "SAVE_PIECE", 40)
    monkeypatch.setattr(importer, "COPY_PIECE", 40)
    tasks.run_upload(upload.pk)

    upload.refresh_from_db()
    assert upload.status == "imported" and upload.rows_imported == 300
    assert upload.message == "" and not live_progress_path(upload.pk).exists()
    saving = [look for look in looks if look[0] == "saving"]
    tagging = [look for look in looks if look[0] == "tagging"]
    assert saving and tagging
    assert all(step in (MATCHING, SAVING) for _, step, _, _ in saving)
    assert saving[-1][2] > 0
    assert tagging[0][1] == TAGGING
    # Heard from after the last look at the saving: the heartbeat is not frozen.
    assert tagging[0][3] > saving[-1][3]
    assert all(heard is not None for *_, heard in looks)


def test_reports_are_written_at_most_once_a_second_but_as_a_step_begins(
    monkeypatch,
):
    writes = []
    clock = [100.0]
    monkeypatch.setattr(tasks.time, "monotonic", lambda: clock[0])
    beat = tasks._Beat(1, lambda **values: writes.append(values) or True)
    beat.rows_read(5_000)  # the first: written
    beat.rows_read(10_000)  # within the second: not
    clock[0] += 1.5
    beat.rows_read(15_000)
    beat.steps(MATCHING, 0)  # a new step: written at once
    beat.steps(SAVING, 2_000)
    beat.steps(SAVING, 4_000)  # within the second: not
    beat.steps(MATCHING, 4_000)  # seen before: not
    clock[0] += 1.1
    beat.steps(SAVING, 6_000)
    beat.rows_read(20_000)  # reading meanwhile (PostgreSQL): a sign of life
    beat.steps(TAGGING, 20_000)
    assert [(w["message"], w["progress_rows"]) for w in writes] == [
        ("", 5_000),
        ("", 15_000),
        (STEP_MARK + MATCHING, 0),
        (STEP_MARK + SAVING, 2_000),
        (STEP_MARK + SAVING, 6_000),
        (STEP_MARK + TAGGING, 20_000),
    ]


def test_a_run_writes_a_few_reports_not_one_a_chunk(council, monkeypatch):
    monkeypatch.setattr(importer, "FIRST_LINES", 10)
    monkeypatch.setattr(importer, "SAVE_PIECE", 10)
    monkeypatch.setattr(importer, "COPY_PIECE", 10)
    data, _ = big_file(2_000)
    upload = SpendUpload.objects.create(
        council=council,
        file_name="big.csv",
        sha256=sha256_of(data),
        stored_file=keep_file(council, data, "big.csv"),
        status="queued",
        rows_expected=2_000,
    )
    writes = []
    real = tasks._Beat._write

    def counted(self, *, first):
        before = self.written
        real(self, first=first)
        if self.written != before:
            writes.append(self.step)

    monkeypatch.setattr(tasks._Beat, "_write", counted)
    started = time.monotonic()
    tasks.run_upload(upload.pk)
    took = time.monotonic() - started
    upload.refresh_from_db()
    assert upload.status == "imported"
    # One as each step begins, then one a second at most.
    assert len(writes) <= 4 + took / tasks.BEAT_EVERY + 1


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="SQLite has no row locks: its one writer is the import itself",
)
def test_progress_never_waits_for_the_row_the_import_has_claimed(
    transactional_db, council
):
    """Once the import claims its row to conclude (FOR UPDATE), its progress goes
    to the file: written on the row, it would wait for the import's own commit."""
    upload = _upload(council, "big.csv", "importing", heard=timezone.now())
    claimed, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic():
            SpendUpload.objects.select_for_update().get(pk=upload.pk)
            claimed.set()
            release.wait(30)
        connections["default"].close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert claimed.wait(30)
        started = time.monotonic()
        with tasks._progress_of(upload.pk) as beat:
            beat.steps(TAGGING, 42)
            assert time.monotonic() - started < 5
            assert SpendUpload.objects.get(pk=upload.pk).import_step == TAGGING
        assert not live_progress_path(upload.pk).exists()  # gone with the run
    finally:
        release.set()
        holder.join(30)
