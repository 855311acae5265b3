"""`import_spend` lists the columns it read, as the upload's result page does: for
each layout of the file, the column each item came from, the columns not read, and
whether the columns were remembered for the council, recognised or guessed. With
`--dry-run`, the columns the import would read. `--format json` is unchanged."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from spend.models import RememberedMapping, SpendLine, SpendUpload
from spend.reading import layout_key
from spend.storage import sha256_of

pytestmark = pytest.mark.django_db

REAL_SPEND = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real" / "spend"
)
needs_real_files = pytest.mark.skipif(
    not REAL_SPEND.is_dir(),
    reason=f"the real spend files are not here ({REAL_SPEND}); see SOURCES.md",
)

HEADER = ["Payment Date", "Supplier Name", "Net Amount", "Gross Amount", "Cost Code"]
APRIL = (
    ",".join(HEADER) + "\n"
    "01/04/2025,Wardown Plumbing Ltd,100.00,120.00,K100\n"
    "02/04/2025,Luton Bakery,20.50,24.60,K200\n"
).encode()
JSON_KEYS = {
    "file",
    "council",
    "status",
    "rows_read",
    "rows_imported",
    "rows_rejected",
    "rows_duplicate",
    "rows_skipped",
    "amount_imported",
    "amount_rejected",
    "amount_duplicate",
    "file_stated_total",
    "redacted_lines",
    "new_suppliers",
    "errors",
}


def run(path: Path, council, *options: str) -> list[str]:
    """The command's text output, line by line."""
    out = io.StringIO()
    call_command(
        "import_spend", str(path), "--council", council.slug, *options, stdout=out
    )
    return out.getvalue().splitlines()


def section(lines: list[str], heading: str) -> list[str]:
    """The lines from `heading` to the first line that is not part of it."""
    start = lines.index(heading)
    end = start + 1
    while (
        end < len(lines) and lines[end].startswith("  ") and "note:" not in lines[end]
    ):
        end += 1
    return lines[start:end]


def remember_gross(council, header: list[str] = HEADER) -> None:
    """The council chose the gross amount for this layout on the preview page."""
    layout = layout_key(header, len(header))
    RememberedMapping.objects.create(
        council=council,
        layout_hash=sha256_of(layout.encode()),
        layout=layout,
        header=header,
        columns={"payment_date": 0, "supplier_name": 1, "amount": 3},
    )


# ----------------------------------------------------------- small files


def test_the_import_lists_the_columns_it_read_after_the_reconciliation(
    council, tmp_path
):
    path = tmp_path / "april.csv"
    path.write_bytes(APRIL)

    lines = run(path, council)

    assert section(lines, "Columns read:") == [
        "Columns read:",
        "  Recognised from the headings.",
        '    Payment date: A "Payment Date"',
        '    Amount: C "Net Amount"',
        '    Supplier: B "Supplier Name"',
        '    Not read: D "Gross Amount", E "Cost Code"',
    ]
    # After the reconciliation, before the notes on how the file was read.
    heading = lines.index("Columns read:")
    assert lines[heading - 1].endswith("redacted payee lines; 2 new suppliers.")
    assert lines[0].startswith("april.csv (imported): 2 rows read = 2 imported")
    assert lines[heading + 6].startswith("  note: ")
    assert SpendLine.objects.filter(amount=100).count() == 1  # the net amount

    # The JSON object keeps exactly its documented keys, and is all there is.
    may = tmp_path / "may.csv"
    may.write_bytes(APRIL.replace(b"/04/", b"/05/"))
    out = run(may, council, "--format", "json")
    assert len(out) == 1
    assert set(json.loads(out[0])) == JSON_KEYS
    dry = run(may, council, "--dry-run", "--format", "json")
    assert len(dry) == 1
    assert set(json.loads(dry[0])) == JSON_KEYS


def test_a_dry_run_says_the_columns_were_remembered_for_the_council(
    council, other_council, tmp_path
):
    path = tmp_path / "april.csv"
    path.write_bytes(APRIL)
    remember_gross(council)

    lines = run(path, council, "--dry-run")

    assert section(lines, "Columns the import would read:") == [
        "Columns the import would read:",
        "  Remembered: the columns Luton chose before for files with these headings.",
        '    Payment date: A "Payment Date"',
        '    Amount: D "Gross Amount"',
        '    Supplier: B "Supplier Name"',
        '    Not read: C "Net Amount", E "Cost Code"',
        "  Columns wrong? Upload the file in the browser and tick “Let me check the "
        "columns before importing” to choose them. The choice is remembered for "
        "Luton's files with the same headings, and this command reads them that way "
        "too.",
    ]
    assert "Columns read:" not in lines
    assert not SpendUpload.objects.exists()

    # Another council has remembered nothing: its columns are recognised.
    other = run(path, other_council, "--dry-run")
    assert section(other, "Columns the import would read:")[1:5] == [
        "  Recognised from the headings.",
        '    Payment date: A "Payment Date"',
        '    Amount: C "Net Amount"',
        '    Supplier: B "Supplier Name"',
    ]


def test_a_dry_run_of_a_file_with_no_header_says_the_columns_were_guessed(
    council, tmp_path
):
    path = tmp_path / "no-header.csv"
    path.write_bytes(
        b"01/04/2025,Wardown Plumbing Ltd,120.00,K100\n"
        b"02/04/2025,Luton Bakery,20.50,K200\n"
        b"03/04/2025,Marsh Farm Builders,1500.00,K100\n"
        b"04/04/2025,Stopsley Stationers,99.99,K300\n"
    )

    lines = run(path, council, "--dry-run")

    assert section(lines, "Columns the import would read:") == [
        "Columns the import would read:",
        "  Guessed from the values: the file has no header row. Check them before "
        "importing.",
        "    Payment date: column A",
        "    Amount: column C",
        "    Supplier: column B",
        "    Not read: column D",
        # Never remembered, and always previewed: no box to tick.
        "  Columns wrong? Upload the file in the browser: a file with no header row "
        "always shows its columns there, to check before importing.",
    ]
    # The guess is said once, in the columns, not again as a note.
    assert not any("note: With no header row" in line for line in lines)
    assert not SpendUpload.objects.exists()


def test_a_file_imported_before_lists_the_columns_its_payments_were_read_with(
    council, tmp_path
):
    path = tmp_path / "april.csv"
    path.write_bytes(APRIL)
    run(path, council)
    remember_gross(council)  # chosen since: not how the held payments were read

    lines = run(path, council)

    assert lines[0].startswith('"april.csv" was already imported on ')
    assert section(lines, "Columns read when it was imported:") == [
        "Columns read when it was imported:",
        "  Recognised from the headings.",
        '    Payment date: A "Payment Date"',
        '    Amount: C "Net Amount"',
        '    Supplier: B "Supplier Name"',
        '    Not read: D "Gross Amount", E "Cost Code"',
    ]
    assert SpendUpload.objects.count() == 1


def test_each_layout_of_a_workbook_is_listed_with_its_sheets(council, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for day, name in enumerate(("April", "May"), start=1):
        sheet = book.create_sheet(name)
        sheet.append(["Date", "Supplier", "Amount", "Ref"])
        sheet.append([dt.datetime(2025, 4 + day - 1, day), "Luton Bakery", 10.5, "R1"])
    june = book.create_sheet("June")
    june.append(["Supplier", "Payment Date", "Ref", "Net Amount"])
    june.append(["Luton Bakery", dt.datetime(2025, 6, 2), "R2", 12.25])
    path = tmp_path / "q1.xlsx"
    book.save(path)

    lines = run(path, council)

    assert section(lines, "Columns read:") == [
        "Columns read:",
        "  Layout 1 of 2, sheets “April”, “May”:",
        "  Recognised from the headings.",
        '    Payment date: A "Date"',
        '    Amount: C "Amount"',
        '    Supplier: B "Supplier"',
        '    Transaction reference: D "Ref"',
        "    Not read: none",
        "  Layout 2 of 2, sheet “June”:",
        "  Recognised from the headings.",
        '    Payment date: B "Payment Date"',
        '    Amount: D "Net Amount"',
        '    Supplier: A "Supplier"',
        '    Transaction reference: C "Ref"',
        "    Not read: none",
    ]
    assert SpendLine.objects.count() == 3


# ----------------------------------------------------------- real council files

# The columns below are those the oracle of tests/spend/test_real_files.py picked by
# hand for each file (not worked out by the importer).
REAL = [
    # Header at the bottom, on line 889: cols O date / Q amount / L name.
    pytest.param(
        "hyndburn_March-25-CSV.csv",
        [],
        None,
        [
            "  Recognised from the headings.",
            '    Payment date: O "Payment Date"',
            '    Amount: Q "Amount Paid"',
            '    Supplier: L "Name"',
        ],
        id="hyndburn-header-at-the-bottom",
    ),
    # cols C date / E amount / F supplier; A "Body" and B "Name of Body" not read.
    pytest.param(
        "devon_DCCSpendingOver500_202512.csv",
        ["--dry-run"],
        '    Not read: A "Body", B "Name of Body", K "Expense code", L "Costcuk", '
        'M "Creditor type"',
        [
            "  Recognised from the headings.",
            '    Payment date: C "Date"',
            '    Amount: E "Amount"',
            '    Supplier: F "Supplier name"',
        ],
        id="devon-dry-run",
    ),
]


@needs_real_files
@pytest.mark.parametrize(("name", "options", "not_read", "expected"), REAL)
def test_a_real_file_lists_the_columns_the_oracle_picked(
    council, name, options, not_read, expected
):
    lines = run(REAL_SPEND / name, council, *options)

    heading = "Columns the import would read:" if options else "Columns read:"
    listed = section(lines, heading)
    assert listed[1:5] == expected
    if not_read:
        assert not_read in listed
    assert SpendUpload.objects.count() == (0 if options else 1)


@needs_real_files
def test_a_dry_run_of_a_real_workbook_lists_its_sheets_by_layout(council):
    """Lancashire PCC 2018-19: twelve monthly sheets, B date / C amount / D
        supplier; the first eleven have a fifth column headed "Column1", not read, and
    March's has not, so it is a layout of its own."""
    lines = run(REAL_SPEND / "lancashire-pcc_2018-19.xlsx", council, "--dry-run")

    listed = section(lines, "Columns the import would read:")
    months = [
        f"{month} {year}"
        for month, year in zip(
            [
                "Apr",
                "May",
                "Jun",
                "Jul",
                "Aug",
                "Sep",
                "Oct",
                "Nov",
                "Dec",
                "Jan",
                "Feb",
            ],
            [18] * 9 + [19] * 2,
            strict=True,
        )
    ]
    first = "  Layout 1 of 2, sheets " + ", ".join(f"“{m}”" for m in months) + ":"
    columns = [
        "  Recognised from the headings.",
        '    Payment date: B "Date"',
        '    Amount: C "Total Invoice Amount"',
        '    Supplier: D "SUPPLIER"',
        '    Expense type: A "Expenditure Category"',
    ]
    assert listed[1:8] == [first, *columns, '    Not read: E "Column1"']
    assert listed[8:14] == ["  Layout 2 of 2, sheet “Mar 19”:", *columns]
    assert not SpendUpload.objects.exists()


def test_a_file_whose_import_added_nothing_says_how_to_import_it_again(
    council, tmp_path
):
    """Every row rejected (no 31 April): run again, the command says the earlier
    import added no payment and where to choose other columns."""
    path = tmp_path / "bad.csv"
    path.write_bytes(
        (",".join(HEADER) + "\n31/04/2025,Wardown Plumbing Ltd,1.00,1.20,K1\n").encode()
    )
    run(path, council)
    upload = SpendUpload.objects.get()
    assert (upload.rows_imported, upload.rows_rejected) == (0, 1)
    text = "\n".join(run(path, council))
    assert f"That import (upload #{upload.pk}) added no payment" in text
    assert "upload it in the browser" in text
    # A file that added payments says nothing of the kind.
    good = tmp_path / "april.csv"
    good.write_bytes(APRIL)
    run(good, council)
    assert "added no payment" not in "\n".join(run(good, council))


def test_a_file_waiting_for_its_columns_in_the_browser_is_named_so(
    council, tmp_path, make_upload
):
    from django.core.management.base import CommandError

    path = tmp_path / "april.csv"
    path.write_bytes(APRIL)
    waiting = make_upload(
        council, file_name="april.csv", sha256=sha256_of(APRIL), status="pending"
    )
    with pytest.raises(CommandError) as refused:
        run(path, council)
    assert str(refused.value) == (
        f'"april.csv" was uploaded in the browser (upload #{waiting.pk}) and is '
        "waiting for its columns to be checked there: import it from its preview "
        "page, or discard it there first."
    )
    assert refused.value.returncode == 1


def test_the_summary_counts_one_supplier_and_one_redacted_line_in_the_singular(
    council, tmp_path
):
    """QA: "1 new suppliers"."""
    path = tmp_path / "one.csv"
    path.write_bytes(
        b"Payment Date,Supplier Name,Amount\n"
        b"01/04/2025,Wardown Plumbing Ltd,100.00\n"
        b"02/04/2025,REDACTED PERSONAL DATA,20.00\n"
    )
    assert "1 redacted payee line; 1 new supplier." in run(path, council)
