"""Importing into the database: reconciliation, duplicates, rollback, crash safety."""

from __future__ import annotations

from decimal import Decimal

import pytest

from procure.models import MatchSuggestion, Supplier, SupplierAlias
from spend import importer
from spend.importer import (
    RollbackRefused,
    check_file,
    import_spend_file,
    rollback_upload,
)
from spend.models import RowIssue, SpendLine, SpendUpload
from spend.parse import FileRefused
from spend.storage import sha256_of

HEADER = (
    "Date,Supplier Name,Amount,Transaction Number,Supplier ID,VAT Registration Number\n"
)


def csv_bytes(*rows: str) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


APRIL = csv_bytes(
    '01/04/2025,Wardown Plumbing Ltd,"1,200.00",T1,S-9,',
    '02/04/2025,Wardown Plumbing Ltd,"1,200.00",T2,S-9,',
    "03/04/2025,REDACTED PERSONAL DATA,750.50,T3,,",
    "04/04/2025,Beacon Catering Limited,-100.00,T4,,GB123456789",
)
MAY = csv_bytes("01/05/2025,Wardown Plumbing Ltd,99.99,T5,S-9,")


@pytest.fixture
def upload_of(council):
    def make(data: bytes, name: str = "spend.csv", target=None):
        return SpendUpload.objects.create(
            council=target or council, file_name=name, sha256=sha256_of(data)
        )

    return make


def test_every_row_is_imported_and_reconciled(council, upload_of):
    upload = upload_of(APRIL)
    result = import_spend_file(upload=upload, data=APRIL)
    assert (result.rows_read, result.rows_imported, result.rows_rejected) == (4, 4, 0)
    assert result.amount_imported == Decimal("3050.50")
    upload.refresh_from_db()
    assert upload.status == "imported"
    held = SpendLine.objects.filter(upload=upload)
    assert held.count() == 4
    assert sum(line.amount for line in held) == Decimal("3050.50")


def test_a_hand_made_sheets_informal_headings_are_read(council, upload_of):
    """QA: "When, Who, How much, Ref" were not known: the file was read as having
    no header, and the heading row rejected as a payment."""
    data = b"When,Who,How much,Ref\n03/04/2025,Luton Scouts,520.00,R1\n"
    result = import_spend_file(upload=upload_of(data), data=data)
    assert (result.rows_read, result.rows_imported, result.rows_rejected) == (1, 1, 0)
    line = SpendLine.objects.get()
    assert (line.supplier_name, line.amount, line.transaction_ref) == (
        "Luton Scouts",
        Decimal("520.00"),
        "R1",
    )


def test_redacted_payees_are_kept_as_spend_but_never_become_suppliers(
    council, upload_of
):
    import_spend_file(upload=upload_of(APRIL), data=APRIL)
    line = SpendLine.objects.get(transaction_ref="T3")
    assert line.redacted and line.supplier is None and line.amount == Decimal("750.50")
    assert not Supplier.objects.filter(name__icontains="redacted").exists()
    assert Supplier.objects.count() == 2


def test_the_same_file_twice_imports_nothing_the_second_time(council, upload_of):
    import_spend_file(upload=upload_of(APRIL), data=APRIL)
    result = check_file(council, APRIL, "spend.csv")
    assert (result.rows_imported, result.rows_duplicate) == (0, 4)
    assert result.amount_duplicate == Decimal("3050.50")


def test_the_same_file_cannot_be_held_twice(council, upload_of):
    from django.db import IntegrityError, transaction

    upload_of(APRIL)
    with pytest.raises(IntegrityError), transaction.atomic():
        upload_of(APRIL)


def test_a_quarterly_file_after_a_monthly_one_imports_only_what_is_new(
    council, upload_of
):
    import_spend_file(upload=upload_of(APRIL), data=APRIL)
    quarter = csv_bytes(
        *APRIL.decode().splitlines()[1:], *MAY.decode().splitlines()[1:]
    )
    result = import_spend_file(upload=upload_of(quarter, "q1.csv"), data=quarter)
    assert (result.rows_read, result.rows_imported, result.rows_duplicate) == (5, 1, 4)
    assert result.amount_imported == Decimal("99.99")
    assert SpendLine.objects.count() == 5


def test_a_file_a_later_one_relies_on_cannot_be_rolled_back_alone(
    council, council_officer, upload_of
):
    april = upload_of(APRIL)
    import_spend_file(upload=april, data=APRIL)
    quarter_data = csv_bytes(
        *APRIL.decode().splitlines()[1:], *MAY.decode().splitlines()[1:]
    )
    quarter = upload_of(quarter_data, "q1.csv")
    import_spend_file(upload=quarter, data=quarter_data)
    with pytest.raises(RollbackRefused, match="Roll back “q1.csv” first"):
        rollback_upload(april, user=council_officer)
    assert SpendLine.objects.count() == 5  # nothing removed
    # The way out: the later file, then this one, then the later file again.
    rollback_upload(quarter, user=council_officer)
    rollback_upload(april, user=council_officer)
    again = import_spend_file(
        upload=upload_of(quarter_data, "q1.csv"), data=quarter_data
    )
    assert (again.rows_imported, again.rows_duplicate) == (5, 0)
    assert SpendLine.objects.count() == 5


def test_a_later_file_with_no_lines_already_held_does_not_hold_a_rollback(
    council, council_officer, upload_of
):
    april = upload_of(APRIL)
    import_spend_file(upload=april, data=APRIL)
    import_spend_file(upload=upload_of(MAY, "may.csv"), data=MAY)
    assert rollback_upload(april, user=council_officer) == 4


def test_a_later_file_relies_only_on_a_file_with_payments_on_its_held_dates(
    council, council_officer, upload_of
):
    """Review: a later file whose payments already held fall between this file's
    first and last dates, but on none of its dates, does not hold up its
    rollback."""
    from spend.importer import uploads_relying_on

    ends = csv_bytes(
        "01/06/2025,Wardown Plumbing Ltd,100.00,E1,,",
        "30/06/2025,Wardown Plumbing Ltd,200.00,E2,,",
    )
    middle = csv_bytes("15/06/2025,Beacon Catering Ltd,300.00,M1,,")
    first = upload_of(ends, "ends.csv")
    import_spend_file(upload=first, data=ends)
    second = upload_of(middle, "middle.csv")
    import_spend_file(upload=second, data=middle)
    again = csv_bytes(
        "15/06/2025,Beacon Catering Ltd,300.00,M1,,",
        "16/06/2025,Chiltern Books,40.00,M2,,",
    )
    later = upload_of(again, "middle-again.csv")
    result = import_spend_file(upload=later, data=again)
    assert (result.rows_imported, result.rows_duplicate) == (1, 1)
    assert list(uploads_relying_on(first)) == []
    assert [u.file_name for u in uploads_relying_on(second)] == ["middle-again.csv"]
    assert rollback_upload(first, user=council_officer) == 2


def test_a_later_file_is_tied_to_the_files_that_hold_its_rows_already_held(
    council, council_officer, upload_of
):
    """QA, twice: files with payments on the same dates, but none of the later
    file's, were named as holding them, and their rollback was held up."""
    from spend.importer import uploads_relying_on

    november = csv_bytes(
        "03/11/2025,Wardown Plumbing Ltd,100.00,N1,,",
        "04/11/2025,Beacon Catering Ltd,200.00,N2,,",
    )
    other = csv_bytes("04/11/2025,Chiltern Books,50.00,X1,,")
    first = upload_of(november, "november.csv")
    import_spend_file(upload=first, data=november)
    unrelated = upload_of(other, "other.csv")
    import_spend_file(upload=unrelated, data=other)
    amended = csv_bytes(
        "03/11/2025,Wardown Plumbing Ltd,100.00,N1,,",
        "04/11/2025,Beacon Catering Ltd,220.00,N2,,",
    )
    later = upload_of(amended, "november-amended.csv")
    import_spend_file(upload=later, data=amended)
    later.refresh_from_db()
    assert later.held_in == [first.pk]
    assert later.earlier_uploads_holding_duplicates() == [first]
    assert list(uploads_relying_on(unrelated)) == []
    assert list(uploads_relying_on(first)) == [later]
    assert rollback_upload(unrelated, user=council_officer) == 1
    with pytest.raises(RollbackRefused, match="already held, from this file\\."):
        rollback_upload(first, user=council_officer)


def test_identical_lines_inside_one_file_are_all_kept(council, upload_of):
    split = csv_bytes(*["05/04/2025,Wardown Plumbing Ltd,500.00,,,"] * 3)
    result = import_spend_file(upload=upload_of(split), data=split)
    assert result.rows_imported == 3
    again = csv_bytes(*["05/04/2025,Wardown Plumbing Ltd,500.00,,,"] * 4)
    result = import_spend_file(upload=upload_of(again, "again.csv"), data=again)
    assert (result.rows_imported, result.rows_duplicate) == (1, 3)


def test_a_dated_payment_to_a_named_supplier_is_not_a_total_row(council, upload_of):
    """QA: a payment whose expense type or service area read "Total" (or "Sub
    Total", "Grand Total") was skipped as a total row, its amount left out; a row
    whose payee is the label, or that has no date, is still a total row."""
    data = (
        b"Date,Supplier Name,Amount,Transaction Number,Expense Type\n"
        b"01/09/2025,Acme Care Ltd,700.00,TT01,Total\n"
        b"02/09/2025,Beacon Catering,450.00,TT02,Sub Total\n"
        b"03/09/2025,Wardown Plumbing,369.00,TT03,Grand Total\n"
        b"04/09/2025,Grand Total,1519.00,,\n"
        b",,1519.00,,Total\n"
    )
    result = import_spend_file(upload=upload_of(data), data=data)
    assert (result.rows_imported, result.rows_skipped) == (3, 2)
    assert result.amount_imported == Decimal("1519.00")
    assert set(SpendLine.objects.values_list("expense_type", flat=True)) == {
        "Total",
        "Sub Total",
        "Grand Total",
    }
    # Read as payments, but said, in case one is a total after all (review).
    upload = SpendUpload.objects.get()
    assert upload.warnings == [
        "3 rows were read as payments although a cell reads “Total”, as each has a "
        'date and a payee (the first: row 2, column E "Expense Type"). Check that '
        "none is a total of the rows above."
    ]


def test_a_transaction_number_held_on_another_payment_is_a_warning(council, upload_of):
    """QA: an amended file's corrected payment (T2 at £1,250, not £1,200) and a
    re-spelt payee were imported beside the first file's, counted twice without
    a word. Exact repeats are still just already held; the same number on
    another date (a staged payment), or with both amount and payee other, and
    new numbers, say nothing."""
    import_spend_file(upload=upload_of(APRIL), data=APRIL)
    amended = csv_bytes(
        '01/04/2025,Wardown Plumbing Ltd,"1,200.00",T1,S-9,',
        '02/04/2025,Wardown Plumbing Ltd,"1,250.00",T2,S-9,',
        "04/04/2025,BEACON CATERING,-100.00,T4,,",
        '09/04/2025,Wardown Plumbing Ltd,"1,200.00",T2,S-9,',
        "03/04/2025,Chiltern Books,80.00,T3,,",
        "05/04/2025,Chiltern Books,80.00,T9,,",
    )
    later = upload_of(amended, "april-amended.csv")
    result = import_spend_file(upload=later, data=amended)
    assert (result.rows_imported, result.rows_duplicate) == (5, 1)
    later.refresh_from_db()
    (warning,) = later.warnings
    assert warning.startswith(
        "2 payments (£1,150.00) have a transaction number that an earlier file holds "
        "on a payment of the same date with another amount or payee (T2 on "
        "02/04/2025: £1,250.00 to Wardown Plumbing Ltd here, £1,200.00 to Wardown "
        "Plumbing Ltd in spend.csv; T4 on 04/04/2025: −£100.00 to BEACON CATERING "
        "here, −£100.00 to Beacon Catering Limited in spend.csv)."
    )
    # And what to do (QA: the warning gave no way forward).
    assert warning.endswith(
        "if this file replaces the earlier one, roll back this file, then the "
        "earlier one, then upload this file again."
    )
    assert warning not in later.reading_notes
    # A file of new payments only has nothing to warn of.
    may = upload_of(MAY, "may.csv")
    import_spend_file(upload=may, data=MAY)
    may.refresh_from_db()
    assert may.warnings == []


def test_of_several_payments_under_one_number_the_nearest_in_amount_is_named(
    council, upload_of
):
    """QA: T7 paid £300, £700 and £650 on one day; the amended file has the £700
    as £750. The warning named the £300 (held unchanged) as the one corrected."""
    first = csv_bytes(
        "05/07/2025,Hotel Lodging Ltd,300.00,T7,,",
        "05/07/2025,Hotel Lodging Ltd,700.00,T7,,",
        "05/07/2025,Hotel Lodging Ltd,650.00,T7,,",
    )
    import_spend_file(upload=upload_of(first, "july.csv"), data=first)
    amended = csv_bytes(
        "05/07/2025,Hotel Lodging Ltd,300.00,T7,,",
        "05/07/2025,Hotel Lodging Ltd,750.00,T7,,",
        "05/07/2025,Hotel Lodging Ltd,650.00,T7,,",
    )
    later = upload_of(amended, "july-amended.csv")
    import_spend_file(upload=later, data=amended)
    later.refresh_from_db()
    (warning,) = later.warnings
    assert (
        "(T7 on 05/07/2025: £750.00 to Hotel Lodging Ltd here, £700.00 to Hotel "
        "Lodging Ltd in july.csv)" in warning
    )


JANUARY = csv_bytes(
    "03/01/2023,Alpha Builders Ltd,1200.00,TX1001,,",
    "05/01/2023,Bravo Catering Ltd,750.50,TX1002,,",
    "10/01/2023,Charlie Cleaning Services,980.00,TX1003,,",
    "12/01/2023,Delta Print Ltd,615.25,TX1004,,",
    "18/01/2023,Echo Transport Ltd,2400.00,TX1005,,",
    "25/01/2023,Foxtrot Consulting LLP,5100.00,TX1006,,",
)


def test_a_corrected_file_says_which_payments_moved_date_and_which_it_lacks(
    council, upload_of
):
    """QA: January corrected (TX1002's amount, TX1003's date, TX1004's payee;
    TX1006 left out): the moved payment was counted twice and the one left out
    still counted, neither said."""
    import_spend_file(upload=upload_of(JANUARY, "jan.csv"), data=JANUARY)
    corrected = csv_bytes(
        "03/01/2023,Alpha Builders Ltd,1200.00,TX1001,,",
        "05/01/2023,Bravo Catering Ltd,705.50,TX1002,,",
        "11/01/2023,Charlie Cleaning Services,980.00,TX1003,,",
        "12/01/2023,Delta Printing Ltd,615.25,TX1004,,",
        "18/01/2023,Echo Transport Ltd,2400.00,TX1005,,",
    )
    later = upload_of(corrected, "jan-corrected.csv")
    result = import_spend_file(upload=later, data=corrected)
    assert (result.rows_imported, result.rows_duplicate) == (3, 2)
    later.refresh_from_db()
    same_day, moved, gone = later.warnings
    assert "TX1002 on 05/01/2023" in same_day and "TX1004 on 12/01/2023" in same_day
    assert moved == (
        "1 payment (£980.00) of this file has the transaction number, payee and "
        "amount of a payment an earlier file holds on another date, a date this "
        "file has no such payment on (TX1003: £980.00 to Charlie Cleaning Services "
        "on 11/01/2023 here, on 10/01/2023 in jan.csv). If the date was corrected, "
        "both dates are now counted: roll back this file, then the earlier one, "
        "then upload this file again."
    )
    assert gone == (
        "1 payment (£5,100.00) that jan.csv holds, dated in January 2023, the month "
        "of this file's payments, is not in this file, though it has 2 of that "
        "file's other payments (£5,100.00 to Foxtrot Consulting LLP on 25/01/2023)."
        " It is still counted: if this file replaces jan.csv, roll back this file, "
        "then jan.csv, then upload this file again."
    )


def test_a_staged_payment_another_file_for_the_month_and_a_later_month_say_nothing(
    council, upload_of
):
    """One number paid on two dates, both in each file, is no moved payment; a
    second file of the same month with other payments (a purchase card file)
    lacks nothing; nor does next month's file."""
    staged = csv_bytes(
        "10/01/2023,Charlie Cleaning Services,980.00,TX1003,,",
        "24/01/2023,Charlie Cleaning Services,980.00,TX1003,,",
        "25/01/2023,Foxtrot Consulting LLP,5100.00,TX1006,,",
    )
    import_spend_file(upload=upload_of(staged, "jan.csv"), data=staged)
    again = csv_bytes(
        "10/01/2023,Charlie Cleaning Services,980.00,TX1003,,",
        "24/01/2023,Charlie Cleaning Services,980.00,TX1003,,",
        "25/01/2023,Foxtrot Consulting LLP,5100.00,TX1006,,",
        "26/01/2023,Golf Garden Services Ltd,700.00,TX1007,,",
    )
    fuller = upload_of(again, "jan-v2.csv")
    import_spend_file(upload=fuller, data=again)
    fuller.refresh_from_db()
    assert fuller.warnings == []
    cards = csv_bytes(
        "10/01/2023,Hotel Lodging Ltd,80.00,PC1,,",
        "25/01/2023,India Interiors Limited,35.00,PC2,,",
    )
    card_upload = upload_of(cards, "jan-cards.csv")
    import_spend_file(upload=card_upload, data=cards)
    card_upload.refresh_from_db()
    assert card_upload.warnings == []
    february = csv_bytes("01/02/2023,Charlie Cleaning Services,980.00,TX1003,,")
    feb = upload_of(february, "feb.csv")
    import_spend_file(upload=feb, data=february)
    feb.refresh_from_db()
    assert feb.warnings == []


FEBRUARY_NUMBERED = csv_bytes(
    "01/02/2023,Golf Garden Services Ltd,1500.00,TX2001,,",
    "03/02/2023,Hotel Lodging Ltd,820.00,TX2002,,",
    "14/02/2023,REDACTED PERSONAL DATA,640.00,TX2003,,",
)
FEBRUARY_BARE = (
    b"Date,Supplier Name,Amount\n"
    b"01/02/2023,Golf Garden Services Ltd,1500.00\n"
    b"03/02/2023,Hotel Lodging Limited,820.00\n"
    b"14/02/2023,REDACTED PERSONAL DATA,640.00\n"
)


@pytest.mark.parametrize(
    ("first", "second"),
    [(FEBRUARY_NUMBERED, FEBRUARY_BARE), (FEBRUARY_BARE, FEBRUARY_NUMBERED)],
    ids=["numbers-then-none", "none-then-numbers"],
)
def test_the_same_month_without_its_transaction_numbers_is_a_warning(
    council, upload_of, first, second
):
    """QA: the month's file uploaded again without its Transaction Number column
    (or the other way round) was imported again in full without a word; then
    its redacted payments were left out of the warning."""
    import_spend_file(upload=upload_of(first, "feb.csv"), data=first)
    later = upload_of(second, "feb-again.csv")
    result = import_spend_file(upload=later, data=second)
    assert result.rows_imported == 3  # not the same line keys: counted again
    later.refresh_from_db()
    (warning,) = later.warnings
    assert warning == (
        "2 payments (£2,320.00) have the date, payee and amount of a payment an "
        "earlier file holds, one with a transaction number and the other without "
        f"(£1,500.00 to Golf Garden Services Ltd on 01/02/2023 in feb.csv; £820.00 "
        f"to Hotel Lodging {'Limited' if second is FEBRUARY_BARE else 'Ltd'} on "
        "03/02/2023 in feb.csv). If they are the same payments (the same file with "
        "or without its transaction number column), both are now counted: roll "
        "back this file. So may 1 payment to redacted payees (£640.00), which "
        "another file holds with the same date and amount, one with a transaction "
        "number and the other without."
    )


def test_an_amount_like_1_234_is_read_as_pounds_and_said(council, upload_of):
    """QA: "1.234", "12.345" were rounded to £1.23 and £12.35 without a word,
    though a file with continental number settings means £1,234 and £12,345."""
    data = csv_bytes(
        "01/04/2025,Wardown Plumbing Ltd,12.345,T1,,",
        "02/04/2025,Beacon Catering Ltd,1.234,T2,,",
        "03/04/2025,Chiltern Books,1234.567,T3,,",
        "04/04/2025,Chiltern Books,80.50,T4,,",
    )
    upload = upload_of(data)
    result = import_spend_file(upload=upload, data=data)
    assert result.amount_imported == Decimal("12.35") + Decimal("1.23") + Decimal(
        "1234.57"
    ) + Decimal("80.50")
    upload.refresh_from_db()
    assert upload.warnings == [
        "2 amounts with three decimal places were rounded to the penny (the first: "
        "row 2, “12.345” read as £12.35). If a point in them separates thousands "
        "(£1,234 written “1.234”), export the file again with UK number settings "
        "and upload that instead."
    ]


def test_another_councils_payments_are_not_duplicates(
    council, other_council, upload_of
):
    import_spend_file(upload=upload_of(APRIL), data=APRIL)
    result = import_spend_file(
        upload=upload_of(APRIL, target=other_council), data=APRIL
    )
    assert result.rows_imported == 4


def test_rejected_rows_say_where_and_why_and_the_totals_still_add_up(
    council, upload_of
):
    data = csv_bytes(
        "01/04/2025,Wardown Plumbing Ltd,100.00,T1,,",
        "31/02/2025,Wardown Plumbing Ltd,200.00,T2,,",
        "01/04/2025,Wardown Plumbing Ltd,12x,T3,,",
        "01/04/2025,,300.00,T4,,",
        ",,400.00,,,",
    )
    upload = upload_of(data)
    result = import_spend_file(upload=upload, data=data)
    assert (result.rows_read, result.rows_imported, result.rows_rejected) == (5, 1, 3)
    assert result.rows_skipped == 1 and result.file_stated_total == Decimal("400.00")
    by_row = {e["row"]: e for e in result.errors}
    assert by_row[3]["column"] == 'A "Date"' and "31 February" in by_row[3]["message"]
    assert by_row[4]["column"] == 'C "Amount"' and by_row[4]["value"] == "12x"
    assert by_row[5]["column"] == 'B "Supplier Name"'
    assert result.amount_rejected == Decimal("500.00")  # 200 + 300; "12x" has none
    assert RowIssue.objects.filter(upload=upload, kind="rejected").count() == 3


def test_a_row_split_by_an_unquoted_comma_is_rejected_not_imported_short(
    council, upload_of
):
    data = csv_bytes(
        "01/04/2025,Wardown Plumbing Ltd,100.00,T1,,",
        "02/04/2025,Wardown Plumbing Ltd,£2,500.00,T2,,",
        "03/04/2025,Wardown Plumbing Ltd,300.00,T3,,",
    )
    result = import_spend_file(upload=upload_of(data), data=data)
    assert (result.rows_read, result.rows_imported, result.rows_rejected) == (3, 2, 1)
    assert result.amount_imported == Decimal("400.00")
    (error,) = result.errors
    assert error["row"] == 3 and error["column"] == 'C "Amount"'
    assert error["value"] == "£2,500.00"
    assert "split by a comma without quotes" in error["message"]
    assert result.amount_rejected == Decimal("2500.00")  # the amount meant
    assert not SpendLine.objects.filter(amount=Decimal("2.00")).exists()


def test_every_row_split_the_same_way_is_rejected_too(council, upload_of):
    data = (
        "Date,Supplier Name,Amount\n"
        "01/04/2025,Wardown Plumbing Ltd,£1,500.00\n"
        "02/04/2025,Beacon Catering Ltd,£2,500.00\n"
    ).encode()
    result = import_spend_file(upload=upload_of(data), data=data)
    assert (result.rows_read, result.rows_imported, result.rows_rejected) == (2, 0, 2)
    assert {e["column"] for e in result.errors} == {'C "Amount"'}


def test_a_value_beyond_the_last_heading_is_rejected(council, upload_of):
    data = (
        b"Date,Supplier Name,Amount\n"
        b"01/04/2025,Wardown Plumbing Ltd,150.00\n"
        b"02/04/2025,Smith, Jones & Co,250.00\n"
    )
    result = import_spend_file(upload=upload_of(data), data=data)
    assert (result.rows_imported, result.rows_rejected) == (1, 1)
    (error,) = result.errors
    assert error["column"] == "column D" and error["value"] == "250.00"
    assert "more values than the header has columns" in error["message"]


def test_a_shifted_rows_amount_is_unknown_not_its_fragment(council, upload_of):
    """QA: the "1.234" left of an unquoted "1.234,56" was counted as £1.23
    rejected; a row shifted along has no amount that can be trusted."""
    data = (
        b"Date,Supplier Name,Amount\n"
        b"01/04/2025,Wardown Plumbing Ltd,150.00\n"
        b"02/04/2025,Beacon Catering Ltd,1.234,56\n"
    )
    result = import_spend_file(upload=upload_of(data), data=data)
    assert (result.rows_imported, result.rows_rejected) == (1, 1)
    assert result.amount_rejected == 0
    assert result.amount_imported == Decimal("150.00")


def test_trailing_empty_cells_beyond_the_header_are_not_values(council, upload_of):
    data = (
        b"Date,Supplier Name,Amount\n"
        b"01/04/2025,Wardown Plumbing Ltd,150.00,, ,\n"
        b"02/04/2025,Beacon Catering Ltd,250.00\n"
    )
    result = import_spend_file(upload=upload_of(data), data=data)
    assert (result.rows_imported, result.rows_rejected) == (2, 0)


def test_rollback_removes_every_line_and_records_who(
    council, council_officer, upload_of
):
    upload = upload_of(APRIL)
    import_spend_file(upload=upload, data=APRIL)
    assert rollback_upload(upload, user=council_officer) == 4
    upload.refresh_from_db()
    assert upload.status == "rolled_back" and upload.rolled_back_by == council_officer
    assert not SpendLine.objects.exists()
    assert (
        upload.history.first().history_change_reason == "Rolled back: 4 lines removed"
    )
    again = import_spend_file(upload=upload_of(APRIL), data=APRIL)
    assert again.rows_imported == 4


def test_a_crash_while_saving_leaves_no_lines_and_a_retry_completes(
    council, upload_of, monkeypatch
):
    upload = upload_of(APRIL)
    real_save = importer.save_lines

    def save_then_die(upload, lines, suppliers):
        real_save(upload, lines[:2], suppliers)  # half the lines are written…
        raise RuntimeError("worker killed")  # …then the process dies

    monkeypatch.setattr(importer, "save_lines", save_then_die)
    with pytest.raises(RuntimeError):
        import_spend_file(upload=upload, data=APRIL)
    upload.refresh_from_db()
    assert (
        upload.status == "failed"
        and "Nothing from this file was saved" in upload.message
    )
    assert not SpendLine.objects.exists()
    assert not Supplier.objects.exists() and not SupplierAlias.objects.exists()
    monkeypatch.setattr(importer, "save_lines", real_save)
    upload.status = "pending"
    upload.save()
    assert import_spend_file(upload=upload, data=APRIL).rows_imported == 4


def test_a_superseded_run_saves_nothing(council, upload_of):
    upload = upload_of(APRIL)
    stale = SpendUpload.objects.get(pk=upload.pk)
    SpendUpload.objects.filter(pk=upload.pk).update(attempt=2)  # a retry started
    with pytest.raises(importer.ImportSuperseded):
        import_spend_file(upload=stale, data=APRIL)
    assert not SpendLine.objects.exists()


def test_a_refused_file_marks_the_upload_failed_with_the_reason(council, upload_of):
    data = b"<!DOCTYPE html><html><title>Access denied</title></html>"
    upload = upload_of(data, "spend.csv")
    with pytest.raises(FileRefused):
        import_spend_file(upload=upload, data=data)
    upload.refresh_from_db()
    assert upload.status == "failed" and "web page" in upload.message


class TestSupplierMatching:
    def test_a_known_spelling_matches_its_supplier(
        self, council, upload_of, make_supplier
    ):
        known = make_supplier(name="Wardown Plumbing & Heating Limited")
        SupplierAlias.objects.create(
            supplier=known, council=council, name="Wardown Plumbing Ltd"
        )
        import_spend_file(upload=upload_of(APRIL), data=APRIL)
        assert SpendLine.objects.get(transaction_ref="T1").supplier == known

    def test_the_councils_supplier_id_matches(self, council, upload_of, make_supplier):
        known = make_supplier(name="W Plumbing")
        SupplierAlias.objects.create(
            supplier=known,
            council=council,
            name="W Plumbing",
            council_supplier_id="S-9",
        )
        import_spend_file(upload=upload_of(MAY), data=MAY)
        assert SpendLine.objects.get(transaction_ref="T5").supplier == known

    def test_a_register_name_matches_after_normalising(
        self, council, upload_of, make_supplier
    ):
        known = make_supplier(name="THE BEACON CATERING LTD.")
        import_spend_file(upload=upload_of(APRIL), data=APRIL)
        assert SpendLine.objects.get(transaction_ref="T4").supplier == known

    def test_a_vat_number_matches(self, council, upload_of, make_supplier):
        known = make_supplier(name="Beacon Foods", vat_number="GB123456789")
        import_spend_file(upload=upload_of(APRIL), data=APRIL)
        assert SpendLine.objects.get(transaction_ref="T4").supplier == known

    def test_an_unknown_name_becomes_an_unverified_supplier_with_a_suggestion(
        self, council, upload_of, make_supplier
    ):
        near = make_supplier(name="Wardown Plumbing Services Ltd", verified=True)
        result = import_spend_file(upload=upload_of(APRIL), data=APRIL)
        new = SpendLine.objects.get(transaction_ref="T1").supplier
        assert new != near and not new.verified and result.new_suppliers == 2
        suggestion = MatchSuggestion.objects.get(supplier=new)
        assert suggestion.candidate == near and suggestion.score >= 90
        assert (
            SupplierAlias.objects.get(council=council, supplier=new).council_supplier_id
            == "S-9"
        )


# --------------------------------------------------------------------------
# Reading and saving in chunks: where the chunks end changes nothing
# --------------------------------------------------------------------------


@pytest.fixture
def tiny_chunks(monkeypatch):
    """Chunks of a few lines, so that a small file crosses many chunk boundaries."""
    from spend import parse

    monkeypatch.setattr(importer, "FIRST_LINES", 2)
    monkeypatch.setattr(importer, "CHUNK_LINES", 3)
    monkeypatch.setattr(importer, "COPY_PIECE", 2)
    monkeypatch.setattr(parse, "BATCH", 1)
    monkeypatch.setattr(parse, "RUN", 2)


def _held(council) -> list[tuple]:
    return sorted(
        SpendLine.objects.filter(council=council).values_list(
            "source_row",
            "payment_date",
            "amount",
            "supplier__normalised_name",
            "supplier_name",
            "redacted",
            "transaction_ref",
            "council_supplier_id",
            "vat_number",
            "line_key",
        )
    )


BIG = csv_bytes(
    '01/04/2025,Wardown Plumbing Ltd,"1,200.00",T1,S-9,',  # held (APRIL)
    "05/04/2025,Wardown Plumbing Ltd,500.00,,,",
    "05/04/2025,Wardown Plumbing Ltd,500.00,,,",  # the same line again: kept
    "03/04/2025,REDACTED PERSONAL DATA,750.50,T3,,",  # held (APRIL)
    "06/04/2025,REDACTED PERSONAL DATA,20.00,T9,,",
    "05/04/2025,Wardown Plumbing Ltd,500.00,,,",
    '02/04/2025,Wardown Plumbing Ltd,"1,200.00",T2,S-9,',  # held (APRIL)
    "07/04/2025,Leagrave Catering Ltd,(10.00),T7,,GB999999973",
    '02/04/2025,Wardown Plumbing Ltd,"1,200.00",T2,S-9,',  # held once only: new
    "08/04/2025,Stopsley Skips CIC,12x,T8,,",  # rejected
    "09/04/2025,Stopsley Skips CIC,9.99,T10,,",
)


def test_where_the_chunks_end_changes_nothing(council, upload_of, monkeypatch):
    from django.db import transaction

    from spend import parse

    def run() -> tuple:
        with transaction.atomic():
            import_spend_file(upload=upload_of(APRIL), data=APRIL)
            upload = upload_of(BIG, "big.csv")
            result = import_spend_file(upload=upload, data=BIG).as_json()
            suppliers = sorted(
                Supplier.objects.values_list("normalised_name", flat=True)
            )
            aliases = sorted(
                SupplierAlias.objects.values_list(
                    "normalised_name",
                    "supplier__normalised_name",
                    "council_supplier_id",
                )
            )
            held = _held(council)
            transaction.set_rollback(True)
        return result, suppliers, aliases, held

    whole = run()
    monkeypatch.setattr(importer, "FIRST_LINES", 2)
    monkeypatch.setattr(importer, "CHUNK_LINES", 3)
    monkeypatch.setattr(importer, "COPY_PIECE", 2)
    monkeypatch.setattr(parse, "RUN", 2)
    monkeypatch.setattr(parse, "BATCH", 1)
    chunked = run()
    assert chunked == whole
    result = chunked[0]
    assert (result["rows_imported"], result["rows_duplicate"]) == (7, 3)
    assert result["rows_rejected"] == 1 and result["new_suppliers"] == 2


def test_duplicates_are_found_by_date_across_chunks_in_any_order(
    council, upload_of, tiny_chunks
):
    held = csv_bytes(
        "30/04/2025,Wardown Plumbing Ltd,10.00,A,,",
        "01/05/2025,Wardown Plumbing Ltd,20.00,B,,",
    )
    import_spend_file(upload=upload_of(held), data=held)
    later = csv_bytes(
        "02/05/2025,Wardown Plumbing Ltd,30.00,C,,",
        "01/05/2025,Wardown Plumbing Ltd,20.00,B,,",  # held
        "30/04/2025,Wardown Plumbing Ltd,10.00,A,,",  # held: an earlier date, later
        "29/04/2025,Wardown Plumbing Ltd,40.00,D,,",
        "01/05/2025,Wardown Plumbing Ltd,20.00,B,,",  # held once: this one is new
    )
    result = import_spend_file(upload=upload_of(later, "later.csv"), data=later)
    assert (result.rows_read, result.rows_imported, result.rows_duplicate) == (5, 3, 2)
    assert result.amount_duplicate == Decimal("30.00")
    assert result.amount_imported == Decimal("90.00")
    assert SpendLine.objects.filter(council=council).count() == 5


def test_a_file_refused_deep_down_leaves_nothing(council, upload_of, tiny_chunks):
    import csv

    limit = csv.field_size_limit(131_072)  # other code may have raised it
    data = APRIL + MAY.split(b"\n", 1)[1] + b'01/05/2025,"' + b"x" * 140_000
    upload = upload_of(data)
    try:
        with pytest.raises(FileRefused, match="could not be read as CSV"):
            import_spend_file(upload=upload, data=data)
    finally:
        csv.field_size_limit(limit)
    upload.refresh_from_db()
    assert upload.status == "failed" and "could not be read as CSV" in upload.message
    assert not SpendLine.objects.exists()
    assert not Supplier.objects.exists() and not SupplierAlias.objects.exists()


def test_a_crash_in_a_later_chunk_leaves_nothing(
    council, upload_of, monkeypatch, tiny_chunks
):
    real_save = importer.save_lines
    saves = []

    def die_the_third_time(upload, lines, suppliers):
        saves.append(len(lines))
        if len(saves) == 3:
            raise RuntimeError("worker killed")
        real_save(upload, lines, suppliers)

    monkeypatch.setattr(importer, "save_lines", die_the_third_time)
    upload = upload_of(BIG)
    with pytest.raises(RuntimeError):
        import_spend_file(upload=upload, data=BIG)
    assert len(saves) == 3
    assert not SpendLine.objects.exists()
    assert not Supplier.objects.exists() and not SupplierAlias.objects.exists()


def test_progress_advances_while_the_file_is_read(
    council, upload_of, monkeypatch, tiny_chunks
):
    from spend import parse

    monkeypatch.setattr(parse, "PROGRESS_EVERY", 2)
    seen = []
    result = import_spend_file(upload=upload_of(BIG), data=BIG, progress=seen.append)
    assert len(seen) > 2 and seen == sorted(set(seen))
    assert seen[-1] == result.rows_read == 11


def test_two_spellings_with_the_councils_supplier_id_both_match(
    council, upload_of, make_supplier
):
    known = make_supplier(name="W Plumbing")
    SupplierAlias.objects.create(
        supplier=known, council=council, name="W Plumbing", council_supplier_id="S-9"
    )
    data = csv_bytes(
        "01/05/2025,Wardown Plumbing,10.00,T1,S-9,",
        "02/05/2025,Wardown Plumbing Ltd,20.00,T2,S-9,",
    )
    result = import_spend_file(upload=upload_of(data), data=data)
    assert result.new_suppliers == 0
    assert set(SpendLine.objects.values_list("supplier", flat=True)) == {known.pk}


def test_a_vat_number_matches_however_the_file_writes_it(
    council, upload_of, make_supplier
):
    known = make_supplier(name="Beacon Foods", vat_number="GB123456789")
    data = csv_bytes("01/05/2025,Beacon Catering,10.00,T1,,123 4567 89")
    import_spend_file(upload=upload_of(data), data=data)
    assert SpendLine.objects.get(transaction_ref="T1").supplier == known


def test_a_placeholder_vat_number_matches_no_one_and_is_not_kept(
    council, upload_of, make_supplier
):
    placeholder = make_supplier(name="Old Payee", vat_number="N/A")
    data = csv_bytes(
        "01/05/2025,Beacon Catering,10.00,T1,,N/A",
        "02/05/2025,Wardown Plumbing,20.00,T2,,000000000",
        "03/05/2025,Lea Manor Trust,30.00,T3,,gb 987 6543 21",
    )
    result = import_spend_file(upload=upload_of(data), data=data)
    assert result.new_suppliers == 3
    lines = SpendLine.objects.select_related("supplier")
    assert placeholder.pk not in {line.supplier_id for line in lines}
    assert {line.supplier.name: line.supplier.vat_number for line in lines} == {
        "Beacon Catering": "",
        "Wardown Plumbing": "",
        "Lea Manor Trust": "GB987654321",
    }
    # The line keeps the number as the council published it.
    assert lines.get(transaction_ref="T3").vat_number == "gb 987 6543 21"


def test_suppliers_made_by_this_import_are_not_matched_by_vat_number(
    council, upload_of, tiny_chunks
):
    data = csv_bytes(
        "01/05/2025,Beacon Foods,10.00,T1,,GB123456789",
        "02/05/2025,Beacon Foods,10.00,T2,,GB123456789",
        "03/05/2025,Beacon Foods,10.00,T3,,GB123456789",
        "04/05/2025,Beacon Catering,20.00,T4,,GB123456789",  # a later chunk
    )
    result = import_spend_file(upload=upload_of(data), data=data)
    assert result.new_suppliers == 2  # as when all names are matched at once
    assert Supplier.objects.filter(vat_number="GB123456789").count() == 2


def test_new_suppliers_get_the_history_simple_history_would_write(db):
    from django.db import transaction
    from simple_history.utils import bulk_create_with_history

    from spend.importer import create_with_history

    def history_of(create) -> list[dict]:
        with transaction.atomic():
            create(
                [
                    Supplier(
                        name="Wardown Plumbing Ltd",
                        normalised_name="wardown plumbing ltd",
                        vat_number="GB123456789",
                    ),
                    Supplier(name="Beacon Foods", normalised_name="beacon foods"),
                ]
            )
            saved = {s.pk: (s.created_at, s.updated_at) for s in Supplier.objects.all()}
            rows = list(Supplier.history.order_by("history_id").values())
            transaction.set_rollback(True)
        assert [saved[row["id"]] for row in rows] == [
            (row["created_at"], row["updated_at"]) for row in rows
        ]
        varying = {"history_id", "history_date", "id", "created_at", "updated_at"}
        return [{k: v for k, v in row.items() if k not in varying} for row in rows]

    simple = history_of(lambda new: bulk_create_with_history(new, Supplier))
    assert len(simple) == 2 and history_of(create_with_history) == simple


def _workbook(*sheets: tuple[str, list[list], bool]) -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows, hidden in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if hidden:
            sheet.sheet_state = "hidden"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SPEND_SHEET = [
    ["Date", "Supplier", "Amount"],
    ["01/04/2025", "Wardown Plumbing Ltd", 1200.5],
    ["02/04/2025", "Beacon Catering Ltd", 300],
]


def test_a_workbook_with_notes_and_summary_sheets_imports_its_payments(
    council, upload_of
):
    data = _workbook(
        ("Notes", [["About this file"], ["Published under the Code"]], False),
        ("Spend", SPEND_SHEET, False),
        ("Summary", [["Supplier", "Total"], ["Wardown Plumbing Ltd", 1200.5]], False),
        ("Working", [["Date", "Supplier", "Amount"], ["03/04/2025", "X Ltd", 9]], True),
    )
    upload = upload_of(data, "april.xlsx")
    result = import_spend_file(upload=upload, data=data)
    assert (result.rows_read, result.rows_imported) == (2, 2)
    assert result.amount_imported == Decimal("1500.50")
    upload.refresh_from_db()
    notes = " ".join(upload.notes)
    assert 'Sheet "Notes" (2 rows) was left out: it has no payment dates' in notes
    assert 'Sheet "Summary" (1 row) was left out' in notes
    assert 'Sheet "Working" (1 row) was left out: it is hidden' in notes


def test_a_workbook_of_only_notes_is_still_refused(council, upload_of):
    data = _workbook(
        ("Notes", [["About this file"], ["Nothing here"]], False),
        ("More", [["Contact"], ["finance@example.gov.uk"]], False),
    )
    with pytest.raises(FileRefused):
        import_spend_file(upload=upload_of(data, "notes.xlsx"), data=data)


def test_only_some_sheets_stating_a_total_are_each_checked_on_their_own(
    council, upload_of
):
    data = _workbook(
        ("April", [*SPEND_SHEET, ["", "Total", 1500.5]], False),
        ("May", [SPEND_SHEET[0], ["01/05/2025", "Beacon Catering Ltd", 99]], False),
    )
    upload = upload_of(data, "q.xlsx")
    result = import_spend_file(upload=upload, data=data)
    assert result.rows_imported == 3 and result.file_stated_total is None
    upload.refresh_from_db()
    assert (
        'Sheet "April" states a total of £1,500.50, which matches its payments to '
        "the penny" in " ".join(upload.notes)
    )


def test_every_sheet_stating_its_total_gives_the_files_total(council, upload_of):
    data = _workbook(
        ("April", [*SPEND_SHEET, ["", "Total", 1500.5]], False),
        ("May", [*SPEND_SHEET[:2], ["", "Total", 1200.5]], False),
    )
    result = import_spend_file(upload=upload_of(data, "q.xlsx"), data=data)
    assert result.file_stated_total == Decimal("2701.00")
    # Each sheet's total agrees with its payments: nothing to warn of.
    assert not any("states a total" in note for note in result.notes)


def test_a_sheet_whose_total_differs_is_named_when_every_sheet_states_one(
    council, upload_of
):
    """QA: with every sheet stating a total, one £100 out gave a file-wide
    mismatch alone, no sheet named."""
    data = _workbook(
        ("April", [*SPEND_SHEET, ["", "Total", 1500.5]], False),
        ("May", [*SPEND_SHEET[:2], ["", "Total", 1300.5]], False),
    )
    upload = upload_of(data, "q.xlsx")
    result = import_spend_file(upload=upload, data=data)
    assert result.file_stated_total == Decimal("2801.00")
    upload.refresh_from_db()
    assert upload.warnings == [
        'Sheet "May" states a total of £1,300.50, but its payments come to £1,200.50.'
    ]


def test_payments_outside_the_period_given_are_noted(council, upload_of):
    from datetime import date

    upload = upload_of(APRIL)
    upload.period_start, upload.period_end = date(2025, 5, 1), date(2025, 5, 31)
    upload.save()
    import_spend_file(upload=upload, data=APRIL)
    upload.refresh_from_db()
    assert (
        "4 payments (£3,050.50) are dated outside the period given for this file, "
        "1 May 2025 to 31 May 2025" in " ".join(upload.notes)
    )
    april = upload_of(MAY, "may.csv")
    april.period_start, april.period_end = date(2025, 5, 1), date(2025, 5, 31)
    april.save()
    import_spend_file(upload=april, data=MAY)
    april.refresh_from_db()
    assert not any("outside the period" in note for note in april.notes)
    (warning,) = upload.warnings
    assert warning.startswith("4 payments (£3,050.50) are dated outside")
    assert april.warnings == []


def test_a_notes_sheet_with_a_publication_date_is_left_out_too(council, upload_of):
    from datetime import date

    data = _workbook(
        ("Notes", [["Note"], ["Data published on", date(2024, 1, 15)]], False),
        ("Spend", SPEND_SHEET, False),
    )
    upload = upload_of(data, "april.xlsx")
    result = import_spend_file(upload=upload, data=data)
    assert (result.rows_read, result.rows_imported) == (2, 2)
    upload.refresh_from_db()
    assert any('Sheet "Notes"' in note for note in upload.notes)


def test_a_hidden_sheet_read_because_no_other_holds_payments_is_named(
    council, upload_of
):
    data = _workbook(
        ("Notes", [["About this file"], ["Published monthly"]], False),
        ("Data", SPEND_SHEET, True),
    )
    upload = upload_of(data, "april.xlsx")
    assert import_spend_file(upload=upload, data=data).rows_imported == 2
    upload.refresh_from_db()
    assert 'Sheet "Data" is hidden in the workbook; its rows were read' in " ".join(
        upload.notes
    )


# ------------------------------------------------------------------ VAT basis


def _amounts_headed(*headings: str) -> bytes:
    """A file whose amount column has this heading (with others beside it)."""
    header = ",".join(["Date", "Supplier Name", *headings])
    amounts = ",".join(["100.00"] * len(headings))
    return f"{header}\n01/04/2025,Wardown Plumbing Ltd,{amounts}\n".encode()


@pytest.mark.parametrize(
    ("heading", "basis"),
    [
        ("Net Amount", "net"),
        ("NetAmount", "net"),
        ("Nett", "net"),
        ("Amount excl. VAT", "net"),
        ("Value ex VAT", "net"),
        ("Gross Amount", "gross"),
        ("Total including VAT", "gross"),
        ("Amount (inc VAT)", "gross"),
        ("Amount", None),
        ("Total", None),
        ("Amount (£)", None),
        ("VAT", None),
        ("Gross or net", None),
        ("", None),
    ],
)
def test_an_amount_heading_says_net_or_gross_only_when_clear(heading, basis):
    from spend.reading import vat_basis_of_heading

    assert vat_basis_of_heading(heading) == basis


@pytest.mark.parametrize(
    ("heading", "basis"),
    [("Net Amount", "net"), ("Gross Amount", "gross"), ("Amount incl VAT", "gross")],
)
def test_a_basis_not_stated_is_taken_from_the_amount_heading_and_said(
    council, upload_of, heading, basis
):
    data = _amounts_headed(heading)
    upload = upload_of(data)
    assert upload.vat_basis == "unknown"
    result = import_spend_file(upload=upload, data=data)
    upload.refresh_from_db()
    said = f"VAT basis: {basis}, from the column heading '{heading}'."
    assert upload.vat_basis == basis
    assert said in upload.notes and said in result.notes


def test_an_amount_heading_that_says_neither_leaves_the_basis_not_stated(
    council, upload_of
):
    data = _amounts_headed("Amount")
    upload = upload_of(data)
    import_spend_file(upload=upload, data=data)
    upload.refresh_from_db()
    assert upload.vat_basis == "unknown"
    assert not any("VAT basis" in note for note in upload.notes)


def test_of_net_and_gross_columns_the_one_read_decides(council, upload_of):
    """Net is preferred to gross when both are there; the chosen one says which."""
    data = _amounts_headed("Gross Amount", "Net Amount")
    upload = upload_of(data)
    import_spend_file(upload=upload, data=data)
    upload.refresh_from_db()
    assert upload.vat_basis == "net"
    assert "VAT basis: net, from the column heading 'Net Amount'." in upload.notes


@pytest.mark.parametrize(("stated", "heading"), [("net", "Gross"), ("gross", "Nett")])
def test_what_the_user_said_wins_over_the_heading_with_a_warning(
    council, upload_of, stated, heading
):
    data = _amounts_headed(heading)
    upload = upload_of(data)
    upload.vat_basis = stated
    upload.save()
    import_spend_file(upload=upload, data=data)
    upload.refresh_from_db()
    assert upload.vat_basis == stated
    (warning,) = [note for note in upload.notes if "VAT basis" in note]
    assert warning.startswith("Check the VAT basis: you said the amounts are ")
    assert f"the amount column is headed '{heading}'" in warning
    assert warning.endswith(f"They are recorded as {stated}, as you said.")


def test_what_the_user_said_and_the_heading_agreeing_needs_no_word(council, upload_of):
    data = _amounts_headed("Net Amount")
    upload = upload_of(data)
    upload.vat_basis = "net"
    upload.save()
    import_spend_file(upload=upload, data=data)
    upload.refresh_from_db()
    assert upload.vat_basis == "net"
    assert not any("VAT basis" in note for note in upload.notes)


def test_sheets_whose_amount_headings_disagree_leave_the_basis_not_stated(
    council, upload_of
):
    net = [["Date", "Supplier", "Net Amount"], ["01/04/2025", "A Ltd", 10]]
    gross = [["Payment Date", "Supplier", "Gross"], ["02/04/2025", "B Ltd", 12]]
    data = _workbook(("April", net, False), ("May", gross, False))
    upload = upload_of(data, "spring.xlsx")
    import_spend_file(upload=upload, data=data)
    upload.refresh_from_db()
    assert upload.vat_basis == "unknown"
    assert (
        "VAT basis: not stated: the amount columns' headings disagree "
        "('Net Amount' and 'Gross')." in upload.notes
    )


def test_a_sheet_whose_heading_says_nothing_is_said_to_leave_the_basis_unknown(
    council, upload_of
):
    """QA: "Net Amount" on one sheet and "Amount Paid" on the other gave "Amounts:
    Not stated" with no word why."""
    net = [["Date", "Supplier", "Net Amount"], ["01/04/2025", "A Ltd", 10]]
    plain = [["Payment Date", "Supplier", "Amount Paid"], ["02/04/2025", "B Ltd", 12]]
    data = _workbook(("April", net, False), ("May", plain, False))
    upload = upload_of(data, "spring.xlsx")
    import_spend_file(upload=upload, data=data)
    upload.refresh_from_db()
    assert upload.vat_basis == "unknown"
    assert (
        "VAT basis: not stated: 'Net Amount' says net, but 'Amount Paid' does not "
        "say. Say net or gross on the upload form when you upload such a file."
        in upload.notes
    )


def test_sheets_whose_amount_headings_agree_give_the_basis(council, upload_of):
    april = [["Date", "Supplier", "Net Amount"], ["01/04/2025", "A Ltd", 10]]
    may = [["Payment Date", "Supplier", "Net"], ["02/04/2025", "B Ltd", 12]]
    data = _workbook(("April", april, False), ("May", may, False))
    upload = upload_of(data, "spring.xlsx")
    import_spend_file(upload=upload, data=data)
    upload.refresh_from_db()
    assert upload.vat_basis == "net"
    assert (
        "VAT basis: net, from the column headings 'Net Amount' and 'Net'."
        in upload.notes
    )


def test_a_file_with_no_header_leaves_the_basis_as_the_user_said(council, upload_of):
    data = b"01/04/2025,Wardown Plumbing Ltd,1200.00\n02/04/2025,Beacon Ltd,300.00\n"
    upload = upload_of(data)
    import_spend_file(upload=upload, data=data)
    upload.refresh_from_db()
    assert upload.status == "imported" and upload.vat_basis == "unknown"


def test_a_dry_run_counts_the_new_suppliers_and_saves_none(
    council, make_supplier, tmp_path
):
    import io
    import json

    from django.core.management import call_command

    make_supplier(name="Wardown Plumbing Ltd")  # known: not new
    path = tmp_path / "april.csv"
    path.write_bytes(APRIL)  # Wardown, a redacted payee, Beacon Catering
    before = Supplier.objects.count()
    out = io.StringIO()
    call_command(
        "import_spend",
        str(path),
        council=council.slug,
        dry_run=True,
        format="json",
        stdout=out,
    )  # exit status 0: no SystemExit
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (report["status"], report["new_suppliers"]) == ("dry_run", 1)
    assert Supplier.objects.count() == before
    assert not SpendUpload.objects.exists() and not SpendLine.objects.exists()
    assert not MatchSuggestion.objects.exists()


def test_blank_rows_ignored_are_counted_in_words(council, upload_of):
    one = csv_bytes("01/05/2025,Beacon Catering,10.00,T1,,", ",,,,,")
    result = import_spend_file(upload=upload_of(one), data=one)
    assert "1 blank row was ignored." in result.notes
    two = csv_bytes("02/05/2025,Beacon Catering,10.00,T2,,", ",,,,,", ",,,,,")
    result = import_spend_file(upload=upload_of(two, "two.csv"), data=two)
    assert "2 blank rows were ignored." in result.notes


def test_the_uploads_list_says_which_imports_gave_warnings(
    client, viewer, council, upload_of
):
    """QA: a file imported again without its transaction numbers (both versions
    counted) showed in the uploads list as an ordinary "Imported"."""
    from django.urls import reverse

    import_spend_file(
        upload=upload_of(FEBRUARY_NUMBERED, "feb.csv"), data=FEBRUARY_NUMBERED
    )
    later = upload_of(FEBRUARY_BARE, "feb-again.csv")
    import_spend_file(upload=later, data=FEBRUARY_BARE)
    client.force_login(viewer)
    page = client.get(reverse("spend:uploads", args=[council.slug]))
    text = page.content.decode()
    assert text.count("warning to check") == 1
    row = text[text.index("feb-again.csv") :]
    assert "1 warning to check" in row[: row.index("</tr>")]


def test_the_uploads_list_counts_a_vat_basis_to_check_as_a_warning(
    client, viewer, council, upload_of
):
    """QA: an import whose VAT basis contradicted its amount column's heading
    showed in the uploads list as an ordinary "Imported"."""
    from django.urls import reverse

    data = _amounts_headed("Gross")
    upload = upload_of(data, "gross.csv")
    upload.vat_basis = "net"
    upload.save()
    import_spend_file(upload=upload, data=data)
    client.force_login(viewer)
    page = client.get(reverse("spend:uploads", args=[council.slug]))
    text = page.content.decode()
    row = text[text.index("gross.csv") :]
    assert "1 warning to check" in row[: row.index("</tr>")]


def test_an_email_address_as_the_payee_is_rejected_not_made_a_supplier(
    council, upload_of
):
    """QA: a Contracts Finder export read with its "Contact Email" column as the
    supplier put 130 officials' email addresses in the supplier register."""
    data = csv_bytes(
        "01/04/2025,Carol.Woodfield@birmingham.gov.uk,1500.00,T1,,",
        "02/04/2025,Wardown Plumbing Ltd,250.00,T2,,",
        "03/04/2025,Smith & Co (accounts@smithco.example),90.00,T3,,",
    )
    result = import_spend_file(upload=upload_of(data), data=data)
    assert (result.rows_imported, result.rows_rejected) == (2, 1)
    (problem,) = RowIssue.objects.filter(kind="rejected")
    assert (problem.row, problem.column) == (2, 'B "Supplier Name"')
    assert problem.message == (
        "Supplier: an email address, not a supplier's name (is the supplier column "
        "the right one?)"
    )
    assert not Supplier.objects.filter(name__contains="birmingham").exists()


@pytest.mark.parametrize(
    ("stated", "file_total", "note"),
    [
        ("1400.00", Decimal("1400.00"), None),
        (
            "300.00",
            None,
            "The rows under the header on row 4 state a total of £300.00, which "
            "matches its payments to the penny. The other parts of the file state "
            "no total, so the file's total is not checked as a whole.",
        ),
    ],
    ids=["grand-total", "own-total"],
)
def test_a_heading_repeated_mid_file_keeps_the_files_grand_total(
    council, upload_of, stated, file_total, note
):
    """QA: a heading row repeated mid-file (a pasted block) split the file in
    two, and its total row, the whole file's, was said not to match the
    payments after the repeat."""
    data = (
        "Date,Supplier Name,Amount\n"
        "01/04/2025,Wardown Plumbing Ltd,1000.00\n"
        "02/04/2025,Beacon Catering Ltd,100.00\n"
        "Date,Supplier Name,Amount\n"
        "03/04/2025,Chiltern Books,200.00\n"
        "04/04/2025,Chiltern Books,100.00\n"
        f",Total,{stated}\n"
    ).encode()
    result = import_spend_file(upload=upload_of(data), data=data)
    assert result.rows_imported == 4
    assert result.file_stated_total == file_total
    said = [n for n in result.notes if "a total of" in n]
    assert said == ([note] if note else [])


def test_payments_of_nothing_are_imported_and_said(council, upload_of):
    """QA: £0.00 rows were imported as payments without a word."""
    data = csv_bytes(
        "01/04/2025,Wardown Plumbing Ltd,0.00,T1,,",
        "02/04/2025,Beacon Catering Ltd,£0,T2,,",
        "03/04/2025,Beacon Catering Ltd,10.00,T3,,",
    )
    upload = upload_of(data)
    result = import_spend_file(upload=upload, data=data)
    assert result.rows_imported == 3
    upload.refresh_from_db()
    assert (
        "2 payments of £0.00 were imported as in the file: they add nothing to the "
        "totals, but their payees are counted among the suppliers paid."
    ) in upload.reading_notes


def test_redacted_payments_alone_in_a_file_without_its_numbers_are_a_warning(
    council, upload_of
):
    """Review: the redacted payments were counted only beside named ones: a
    file of redacted payments alone, uploaded again without its transaction
    numbers, was doubled without a word."""
    numbered = csv_bytes("14/02/2023,REDACTED PERSONAL DATA,640.00,TX9,,")
    bare = b"Date,Supplier Name,Amount\n14/02/2023,Redacted,640.00\n"
    import_spend_file(upload=upload_of(numbered, "feb.csv"), data=numbered)
    later = upload_of(bare, "feb-again.csv")
    import_spend_file(upload=later, data=bare)
    later.refresh_from_db()
    assert later.warnings == [
        "1 payment to redacted payees (£640.00) has the date, payee and amount of "
        "a payment an earlier file holds, one with a transaction number and the "
        "other without. If the file is one imported before, with or without its "
        "transaction number column, both are now counted: roll back this file."
    ]
