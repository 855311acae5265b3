"""The finance officer's journey, in a real browser, as a new user would make it.

Signs in as demo-finance, finds Uploads in the menu, uploads a real council's
published spend file, checks the columns LocalSpend chose, starts the import and
watches its progress until the background worker has finished, then reads the
reconciliation against the database. A second, small file in the same layout
(next month's, with a bad amount and a bad date) imports with no column step, and
its rejected rows download as a CSV naming each row and column.

The import runs in the background: here the task queue is the database, as in
production (`make run`), and the test plays the worker (`db_worker --batch`) once
the page shows the import waiting, so the page's polling is seen to take the
page from "waiting" to the result.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from councils.templatetags.money import gbp
from tests.browser.helpers import Screens, money, read_csv, serious_axe_violations

pytestmark = pytest.mark.browser

REAL_SPEND = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real" / "spend"
)
# Craven District Council, March 2017: 171 payments and an unlabelled total row
# (tests/spend/test_real_files.py has its figures, worked out independently).
CRAVEN = REAL_SPEND / "craven_2017-03_payments.csv"
CRAVEN_ROWS = (172, 171, 1)  # read, imported, skipped
CRAVEN_TOTAL = "726,583.94"

POLL = re.compile(r"/uploads/\d+/$")
RECONCILIATION = {
    "Imported": "imported",
    "Rejected (listed below)": "rejected",
    "Already held from an earlier file": "duplicate",
    "Total and note rows skipped": "skipped",
    "Rows read": "read",
}


@pytest.fixture
def database_task_queue(settings):
    """Imports wait in the database for a worker, as they do under `make run`."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default"],
        }
    }


def run_worker(page) -> None:
    """What `python manage.py db_worker` does, for the tasks waiting now.

    On SQLite the test database lives in memory, and the live server shares this
    thread's connection, so the page's polls are held in the browser (Playwright
    answers them only when this thread next talks to it) while the worker runs.
    """
    page.route(POLL, lambda route: route.continue_())
    try:
        call_command(
            "db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0
        )
    finally:
        page.unroute(POLL)


def reconciliation(page) -> dict[str, tuple[int, object]]:
    """The reconciliation table: {bucket: (rows, amount)}."""
    table = page.locator("table").filter(
        has=page.get_by_text("Every row of the file is in exactly one line")
    )
    found = {}
    for row in table.locator("tbody tr").all():
        label = row.locator("th").inner_text().strip()
        rows, amount = (cell.inner_text() for cell in row.locator("td").all())
        # Skipped rows (the file's own totals) show no amount: not payments.
        amount = money(amount) if "£" in amount else amount.strip()
        found[RECONCILIATION[label]] = (int(rows.replace(",", "")), amount)
    assert set(found) == set(RECONCILIATION.values()), found
    return found


def assert_page_matches_database(page, upload) -> dict:
    upload.refresh_from_db()
    shown = reconciliation(page)
    assert shown == {
        "imported": (upload.rows_imported, upload.amount_imported),
        "rejected": (upload.rows_rejected, upload.amount_rejected),
        "duplicate": (upload.rows_duplicate, upload.amount_duplicate),
        "skipped": (
            upload.rows_skipped,
            "not payments" if upload.rows_skipped else "—",
        ),
        "read": (upload.rows_read, upload.amount_read),
    }
    # Every row of the file is in exactly one bucket, on the page as in the data.
    assert shown["read"][0] == sum(
        shown[b][0] for b in ("imported", "rejected", "duplicate", "skipped")
    )
    # The amount read is the payments': the skipped rows' (the file's own totals)
    # are shown apart, not added in.
    assert shown["read"][1] == sum(
        shown[b][1] for b in ("imported", "rejected", "duplicate")
    )
    if upload.amount_skipped:
        expect(page.locator("main")).to_contain_text(
            f"hold{'s' if upload.rows_skipped == 1 else ''} "
            f"{gbp(upload.amount_skipped)}: the file's own totals, not payments"
        )
    assert upload.lines.count() == upload.rows_imported
    return shown


def watch_import(page, screens: Screens, name: str) -> None:
    """The progress element is on the page, polling; the worker runs; the page
    turns into the result without anyone reloading it."""
    progress = page.locator("#progress")
    expect(progress).to_be_visible()
    expect(progress.get_by_role("status")).to_contain_text(
        "Waiting for the background worker"
    )
    expect(progress).to_have_attribute("hx-trigger", re.compile("every"))
    screens.take(page, f"{name}-waiting")
    assert serious_axe_violations(page) == []
    with page.expect_response(POLL):  # htmx is polling
        pass
    run_worker(page)
    expect(page.get_by_role("heading", name="Reconciliation")).to_be_visible()
    expect(progress).to_have_count(0)
    screens.take(page, f"{name}-reconciled")


@pytest.mark.skipif(
    not CRAVEN.is_file(),
    reason=f"the real spend files are not here ({REAL_SPEND}); see SOURCES.md",
)
def test_finance_officer_uploads_watches_reconciles_and_downloads_rejected_rows(
    demo, live_server, page, watch, log_in, database_task_queue, output_path, tmp_path
):
    from spend.models import SpendUpload

    base = live_server.url
    screens = Screens(output_path)

    # Sign in; reach the uploads from the council's menu.
    log_in(page, base, "demo-finance")
    page.get_by_role("link", name="Luton Borough Council").click()
    page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Uploads"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Spend file uploads")
    page.get_by_role("link", name="Upload a spend file").click()

    # Give the file as Craven published it.
    page.get_by_label("Spend file").set_input_files(str(CRAVEN))
    page.get_by_label("Are the amounts net or gross of VAT?").select_option("net")
    screens.take(page, "upload-form")
    page.get_by_role("button", name="Upload the file").click()

    # The preview: the header row, the columns chosen, the first rows as read.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check how the file will be read"
    )
    main = page.locator("main")
    expect(main).to_contain_text("Column headings found on row 1.")
    expect(main.get_by_role("heading", level=2).first).to_have_text("172 rows")
    # Then what the amounts are: net, as chosen on the upload form.
    expect(main.get_by_role("heading", level=2, name="VAT")).to_be_visible()
    sample = page.locator("table").filter(has_text="The first rows, as read")
    expect(sample).to_contain_text("Harrogate Borough Council")
    mapping = page.get_by_role("group", name="Which column holds each item?")
    chosen = {
        select.evaluate("s => s.labels[0].textContent.trim()"): select.evaluate(
            "s => s.selectedOptions[0].textContent.trim()"
        )
        for select in mapping.locator("select").all()
    }
    assert chosen["Payment date"] == 'E "Payment Date"', chosen
    assert chosen["Amount"] == 'J "Amount"', chosen
    assert chosen["Supplier"] == 'D "Supplier Name"', chosen
    screens.take(page, "preview")
    page.get_by_role("button", name="Start the import").click()

    # The import waits for the worker; the page polls, then shows the result.
    upload = SpendUpload.objects.get(file_name=CRAVEN.name)
    expect(page).to_have_url(f"{base}/c/luton/uploads/{upload.pk}/")
    watch_import(page, screens, "craven")

    # The reconciliation: the page's figures are the database's, and they add up.
    shown = assert_page_matches_database(page, upload)
    assert (shown["read"][0], shown["imported"][0], shown["skipped"][0]) == (
        CRAVEN_ROWS
    )
    assert upload.status == "imported"
    expect(main).to_contain_text(f"The file states its own total of £{CRAVEN_TOTAL}")
    expect(main).to_contain_text("That matches the payments read")
    assert shown["imported"][1] == money(CRAVEN_TOTAL)
    # No rejected rows here, so nothing to download.
    expect(
        page.get_by_role("link", name="Download the rejected rows (CSV)")
    ).to_have_count(0)

    # Next month's file, in the same layout: one payment already held, two
    # new ones, a bad amount and a bad date.
    lines = CRAVEN.read_text(encoding="cp1252").splitlines()
    header, held = lines[0], lines[1]
    crafted = tmp_path / "craven_2017-04_payments.csv"
    crafted.write_text(
        "\n".join(
            [
                header,
                held,
                "Craven District Council,57020001,10065,Harrogate Borough Council,"
                "03/04/2017,2280,Miscellaneous,R255,Development Control,612.40",
                "Craven District Council,57020002,10066,Brenntag Uk Ltd,"
                '05/04/2017,1740,Chlorination and Purification,D105,Pool,"1,204.00"',
                "Craven District Council,57020003,10089,F G Marshall Ltd,"
                "06/04/2017,1130,Artwork Services,R190,Bereavement Services,TBC",
                "Craven District Council,57020004,10098,North Yorkshire County Council,"
                "31/02/2017,1835,Software & Licensing,R400,IT Services,950.00",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    page.get_by_role("link", name="All uploads").click()
    page.get_by_role("link", name="Upload a spend file").click()
    page.get_by_label("Spend file").set_input_files(str(crafted))
    page.get_by_role("button", name="Upload the file").click()
    # The layout was confirmed last time, but the file names another council
    # (Craven's, uploaded to Luton): its preview first, warning of it, with the
    # columns as remembered.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check how the file will be read"
    )
    expect(main).to_contain_text(
        'This file says it is Craven District Council\'s spend (column "Body Name")'
    )
    expect(main).to_contain_text(
        "Columns mapped as this council confirmed for this layout before."
    )
    page.get_by_role("button", name="Start the import").click()
    second = SpendUpload.objects.get(file_name=crafted.name)
    expect(page).to_have_url(f"{base}/c/luton/uploads/{second.pk}/")
    watch_import(page, screens, "next-month")

    shown = assert_page_matches_database(page, second)
    assert {b: shown[b][0] for b in ("read", "imported", "rejected", "duplicate")} == {
        "read": 5,
        "imported": 2,
        "rejected": 2,
        "duplicate": 1,
    }
    assert shown["imported"][1] == money("1,816.40")

    # The rejected rows on the page name the row and the column …
    rejected = page.locator("table").filter(has=page.locator("th", has_text="Problem"))
    expect(rejected.locator("tbody tr")).to_have_count(2)
    expect(rejected).to_contain_text("TBC")
    expect(rejected).to_contain_text("31/02/2017")

    # … and so does the download, in the file's own columns plus the problem.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the rejected rows (CSV)").click()
    assert (
        download.value.suggested_filename == "craven_2017-04_payments-rejected-rows.csv"
    )
    rows = read_csv(download.value.path())
    head = rows[0]
    assert head[-4:] == [
        "LocalSpend: file row",
        "LocalSpend: column",
        "LocalSpend: problem",
        f"LocalSpend: rejected by upload {second.pk}",
    ]
    assert "Supplier Name" in head and "Transaction No" in head
    by_row = {row[head.index("LocalSpend: file row")]: row for row in rows[1:]}
    assert set(by_row) == {"5", "6"}, rows  # file rows, the header being row 1
    bad_amount, bad_date = by_row["5"], by_row["6"]
    assert bad_amount[head.index("Transaction No")] == "57020003"
    assert bad_amount[head.index("LocalSpend: column")] == 'J "Amount"'
    assert "TBC" in bad_amount[head.index("LocalSpend: problem")]
    assert bad_date[head.index("Transaction No")] == "57020004"
    assert bad_date[head.index("LocalSpend: column")] == 'E "Payment Date"'
    assert "31/02/2017" in bad_date[head.index("LocalSpend: problem")]
    # The CSV's rows are the database's rejected rows.
    issues = second.issues.filter(kind="rejected").order_by("row")
    assert [(str(i.row), i.column) for i in issues] == [
        (row[head.index("LocalSpend: file row")], row[head.index("LocalSpend: column")])
        for row in rows[1:]
    ]
    screens.take(page, "rejected-rows")
    assert serious_axe_violations(page) == []

    assert watch.errors == [], watch.errors
    assert watch.offsite(base) == [], watch.offsite(base)
