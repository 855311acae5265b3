"""Two things at the same moment: the same file uploaded twice, and a
classification run during an import. Nothing is doubled and nothing is lost.

The races themselves need PostgreSQL: SQLite takes one writer at a time for the
whole database, and pytest-django's in-memory SQLite test database is shared
between threads without waiting for locks, so two threads cannot race there. The
sequential versions below run on both databases.
"""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from procure.models import Supplier
from socialvalue.models import SupplierTag
from socialvalue.tagging import classify_suppliers
from spend import rollup, views
from spend.importer import import_spend_file
from spend.models import SpendLine, SpendUpload
from spend.storage import sha256_of
from tests.spend.test_rollup import assert_rollups_match

HEADER = "Date,Supplier,Department,Service Area,Amount,Postcode\n"
TIMEOUT = 30  # seconds: any wait for the other thread gives up after this

needs_postgresql = pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="a race between two database sessions needs PostgreSQL: SQLite has one "
    "writer at a time, and its in-memory test database does not wait for locks "
    "between threads (the sequential versions run on SQLite)",
)


def spend_csv(
    first: date, days: int, lines: int, suppliers: list[tuple[str, str]]
) -> bytes:
    """`lines` payments spread over `days` days from `first`, to the suppliers
    (name, postcode) in turn; amounts vary, a few are credit notes."""
    rows = [HEADER]
    for i in range(lines):
        name, postcode = suppliers[i % len(suppliers)]
        day = first + timedelta(days=i % days)
        amount = Decimal(500 + (i * 37) % 9000) + Decimal(i % 100) / 100
        if i % 17 == 0:
            amount = -amount
        department = ["Place", "People", ""][i % 3]
        rows.append(
            f"{day:%d/%m/%Y},{name},{department},Service {i % 5},{amount},{postcode}\n"
        )
    return "".join(rows).encode()


def file_total(data: bytes) -> tuple[int, Decimal]:
    rows = data.decode().splitlines()[1:]
    return len(rows), sum((Decimal(row.split(",")[4]) for row in rows), Decimal(0))


EXISTING = [(f"Existing Supplier {i} Ltd", f"LU{1 + i % 7} 1AA") for i in range(40)]
NEW = [(f"Newcomer Trading {i} Ltd", f"M{1 + i % 9} 2BB") for i in range(30)]


def _run(target, errors: list, *args) -> threading.Thread:
    """A thread with its own database connection, closed when it ends; an error
    in it is kept for the test to raise."""

    def body():
        try:
            target(*args)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread


def _others_wait_for_a_lock() -> bool:
    """Whether another session of this database is waiting for a lock."""
    with connection.cursor() as cursor:
        # Inside a transaction the activity view is a snapshot, unless cleared.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
            "current_database() AND pid <> pg_backend_pid() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def _until_blocked_or_done(done: threading.Event) -> None:
    """Wait (polling) until the other thread is stuck on a lock or has finished."""
    deadline = time.monotonic() + TIMEOUT
    while not done.is_set() and not _others_wait_for_a_lock():
        assert time.monotonic() < deadline, "the other thread neither ran nor waited"
        time.sleep(0.02)


# ---------------------------------------------------------- the same file twice


def _upload_file(client: Client, council, data: bytes, name: str):
    return client.post(
        reverse("spend:upload", args=[council.slug]),
        {"file": SimpleUploadedFile(name, data, "text/csv"), "vat_basis": "net"},
        follow=True,
    )


def _remember_the_layout(client: Client, council) -> None:
    """Import a March file through the pages, confirming its columns, so that an
    April file in the same layout imports as soon as it is uploaded."""
    march = spend_csv(date(2025, 3, 1), 28, 20, EXISTING[:5])
    _upload_file(client, council, march, "march.csv")
    upload = SpendUpload.objects.get()
    url = reverse("spend:upload-preview", args=[council.slug, upload.pk])
    form = client.get(url).context["form"]
    client.post(url, {name: form[name].initial or "" for name in form.fields})
    upload.refresh_from_db()
    assert upload.status == "imported"


DUPLICATE_SAID = ("was already imported on", "was already uploaded on")


@needs_postgresql
def test_the_same_file_uploaded_twice_at_the_same_moment_imports_once(
    transactional_db, finance_officer, council, monkeypatch
):
    setup = Client()
    setup.force_login(finance_officer)
    _remember_the_layout(setup, council)
    april = spend_csv(date(2025, 4, 1), 30, 400, EXISTING[:10] + NEW[:5])
    rows, total = file_total(april)

    # Both requests have found no upload of this file before either saves one.
    both_checked = threading.Barrier(2, timeout=TIMEOUT)
    keep = views.keep_file

    def keep_once_both_checked(*args):
        both_checked.wait()
        return keep(*args)

    monkeypatch.setattr(views, "keep_file", keep_once_both_checked)
    responses, errors = [], []

    def upload(name: str) -> None:
        client = Client()
        client.force_login(finance_officer)
        response = _upload_file(client, council, april, name)
        responses.append((response.status_code, response.content.decode()))

    threads = [_run(upload, errors, name) for name in ("april.csv", "april-2.csv")]
    for thread in threads:
        thread.join(TIMEOUT)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)

    # One upload of the file, imported once; the other request was told so.
    held = SpendUpload.objects.filter(sha256=sha256_of(april))
    assert held.count() == 1
    upload = held.get()
    assert upload.status == "imported"
    assert upload.rows_imported == rows and upload.amount_imported == total
    assert upload.lines.count() == rows
    assert [status for status, _ in responses] == [200, 200]
    told = [page for _, page in responses if any(s in page for s in DUPLICATE_SAID)]
    assert len(told) == 1, "exactly one of the two requests hears it is a duplicate"
    assert f"upload #{upload.pk}" in told[0]
    assert "Server Error" not in "".join(page for _, page in responses)
    assert_rollups_match(council)


def test_an_upload_saved_meanwhile_is_named_not_a_server_error(
    client, finance_officer, council, monkeypatch
):
    """The race, played in order: another request saves the same file between
    this request's check and its own save; the constraint refuses the second row
    and the request answers as for any duplicate."""
    client.force_login(finance_officer)
    data = spend_csv(date(2025, 4, 1), 30, 10, EXISTING[:3])
    keep = views.keep_file
    other = []

    def keep_after_the_other_request(council_, data_, name):
        other.append(
            SpendUpload.objects.create(
                council=council, file_name="april-other.csv", sha256=sha256_of(data)
            )
        )
        return keep(council_, data_, name)

    monkeypatch.setattr(views, "keep_file", keep_after_the_other_request)
    response = _upload_file(client, council, data, "april.csv")
    assert response.redirect_chain == [
        (reverse("spend:upload-detail", args=[council.slug, other[0].pk]), 302)
    ]
    page = response.content.decode()
    assert "was already uploaded on" in page and f"upload #{other[0].pk}" in page
    assert SpendUpload.objects.count() == 1


# ------------------------------------------------- classification during import


@pytest.fixture
def paid_before(council):
    """Spend with 40 suppliers already held (January to March), whose tags are then
    gone, as after a change of rules: a full classification run rewrites them all,
    and an import paying some of them tags them too."""
    first = spend_csv(date(2025, 1, 1), 85, 600, EXISTING)
    upload = SpendUpload.objects.create(
        council=council, file_name="q4.csv", sha256=sha256_of(first)
    )
    import_spend_file(upload=upload, data=first)
    SupplierTag.objects.all().delete()
    return upload


def _assert_nothing_lost(council, before: SpendUpload, upload: SpendUpload, data):
    rows, total = file_total(data)
    upload.refresh_from_db()
    assert upload.status == "imported", upload.message
    assert upload.rows_imported == rows and upload.amount_imported == total
    assert SpendLine.objects.filter(upload=upload).count() == rows
    assert SpendLine.objects.filter(council=council).count() == (
        before.rows_imported + rows
    )
    # Every supplier carries its three supplier-wide tags, and its location for
    # the council that pays it; none twice.
    suppliers = set(Supplier.objects.values_list("pk", flat=True))
    assert len(suppliers) == len(EXISTING) + len(NEW)
    for kind in ("size", "vcse", "living_wage", "locality"):
        tagged = list(
            SupplierTag.objects.filter(kind=kind).values_list("supplier_id", flat=True)
        )
        assert sorted(tagged) == sorted(suppliers), kind
    assert_rollups_match(council)


@needs_postgresql
@pytest.mark.parametrize("first", ["import", "classification"])
def test_a_classification_run_during_an_import_loses_nothing(
    transactional_db, council, paid_before, monkeypatch, first
):
    """The import and a full reclassification overlap: each reaches the point
    where it writes tags and rollups while the other is in the middle of doing
    so (`first` gets there first and holds on until the other is blocked)."""
    data = spend_csv(date(2025, 3, 1), 90, 6000, EXISTING[:25] + NEW)
    upload = SpendUpload.objects.create(
        council=council, file_name="spring.csv", sha256=sha256_of(data)
    )
    errors: list = []
    at_rollups, import_done, classify_done = (threading.Event() for _ in range(3))
    refresh_months, refresh_tags = rollup.refresh_months, rollup.refresh_tags
    importing = threading.local()

    def months_then_hold(*args, **kwargs):
        # The import's tags are written (uncommitted); its rollups are next.
        if getattr(importing, "yes", False) and first == "import":
            at_rollups.set()
            _until_blocked_or_done(classify_done)
        return refresh_months(*args, **kwargs)

    def tags_then_hold(*args, **kwargs):
        # The classification's tags are written (uncommitted); rollups next.
        if not getattr(importing, "yes", False) and first == "classification":
            if not at_rollups.is_set():
                at_rollups.set()
                _until_blocked_or_done(import_done)
        return refresh_tags(*args, **kwargs)

    monkeypatch.setattr(rollup, "refresh_months", months_then_hold)
    monkeypatch.setattr(rollup, "refresh_tags", tags_then_hold)

    def run_import():
        importing.yes = True
        try:
            if first == "classification":
                assert at_rollups.wait(TIMEOUT)
            import_spend_file(upload=upload, data=data)
        finally:
            import_done.set()

    def run_classification():
        try:
            if first == "import":
                assert at_rollups.wait(TIMEOUT)
            classify_suppliers()
        finally:
            classify_done.set()

    threads = [_run(run_import, errors), _run(run_classification, errors)]
    for thread in threads:
        thread.join(TIMEOUT * 2)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
    _assert_nothing_lost(council, paid_before, upload, data)


def test_a_classification_run_in_the_middle_of_an_import_loses_nothing(
    council, paid_before
):
    """Sequential, on either database: a full classification runs while the
    import is reading its file (called from the import's progress report)."""
    data = spend_csv(date(2025, 3, 1), 90, 12_000, EXISTING[:25] + NEW)
    upload = SpendUpload.objects.create(
        council=council, file_name="spring.csv", sha256=sha256_of(data)
    )
    runs = []

    def progress(rows: int) -> None:
        if not runs:
            runs.append(classify_suppliers())

    import_spend_file(upload=upload, data=data, progress=progress)
    assert runs and runs[0].created > 0  # it ran, and rewrote the missing tags
    _assert_nothing_lost(council, paid_before, upload, data)


# ------------------------------------------------ the same new supplier twice


@needs_postgresql
def test_two_imports_meeting_the_same_new_supplier_at_once_add_it_once(
    transactional_db, council, other_council, monkeypatch
):
    """Two councils' files name the same firms, new to the register, and are
    imported at the same moment: the first import adds each firm, and the second,
    which waits for it, pays those same firms instead of adding them again."""
    from spend import importer

    first = spend_csv(date(2025, 4, 1), 30, 300, NEW[:12])
    second = spend_csv(date(2025, 5, 1), 30, 200, NEW[6:18])
    uploads = [
        SpendUpload.objects.create(
            council=each, file_name=f"{each.slug}.csv", sha256=sha256_of(data)
        )
        for each, data in ((council, first), (other_council, second))
    ]
    errors: list = []
    added, second_done = threading.Event(), threading.Event()
    create = importer.create_with_history

    def create_then_hold(suppliers, **history):
        create(suppliers, **history)
        if not added.is_set():  # the first import, its suppliers uncommitted
            added.set()
            _until_blocked_or_done(second_done)

    monkeypatch.setattr(importer, "create_with_history", create_then_hold)

    def run_first():
        import_spend_file(upload=uploads[0], data=first)

    def run_second():
        try:
            assert added.wait(TIMEOUT)
            import_spend_file(upload=uploads[1], data=second)
        finally:
            second_done.set()

    threads = [_run(run_first, errors), _run(run_second, errors)]
    for thread in threads:
        thread.join(TIMEOUT * 2)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors

    names = Supplier.objects.filter(name__startswith="Newcomer Trading")
    assert names.count() == 18  # 12 + the 6 only the second file names
    assert names.values("normalised_name").distinct().count() == 18
    both = set(
        SpendLine.objects.filter(council=council).values_list("supplier", flat=True)
    ) & set(
        SpendLine.objects.filter(council=other_council).values_list(
            "supplier", flat=True
        )
    )
    assert len(both) == 6  # NEW[6:12], paid by both councils: one supplier each
    for upload in uploads:
        upload.refresh_from_db()
        assert upload.status == "imported"
    assert sum(upload.new_suppliers for upload in uploads) == 18
    assert_rollups_match(council)
    assert_rollups_match(other_council)
