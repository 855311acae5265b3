"""Unit tests for spend.values: cell-value parsers (no database, no Django)."""

import itertools
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from spend.values import (
    REDACTED_LABEL,
    CellError,
    clean_text,
    is_redacted,
    normalise_name,
    parse_amount,
    parse_date,
    parse_postcode,
    tidy_vat_number,
    vat_number_or_blank,
)

TODAY = date(2026, 7, 1)

ODD_STRINGS = [
    "",
    " ",
    "£",
    "--1",
    "1..2",
    "(",
    ")",
    "()",
    "1,2,3",
    "\x00",
    "١٢٣",
    "１２３",
    "-",
    "+",
    "CR",
    "£-",
    "(£)",
    "1e3",
    "1E+03",
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "N/A",
    "NA",
    "null",
    "None",
    "Total",
    "12,3x",
    "£1,234.56£",
    "((1))",
    "-(1)",
    "1-2",
    "1 234",
    "1,23",
    "1.000,50",
    "0x1F",
    "½",
    "²",
    "٣/٣/٢٠٢٣",
    "\ufeff",
    "\u200b",
    "†††",
    "31/02/2023",
    "99/99/99",
    "2023-13-45T99:99:99+99:99",
    "2023-01-01T10:00:00+24:00",
    "9999999999",
    "12/01/2023 24:00",
    "Sept",
    "1 Foo 2023",
    "0/0/0",
    "00/00/0000",
    "1" * 400,
    "9" * 30 + ".99",
    ".",
    ",",
    "1.",
    ".5",
    "£.5",
    "\udcff",
    "🙂",
    "1,200.00 CR DR",
    "DR",
    "Â",
    "œ",
]


# ------------------------------------------------------------------ parse_amount


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("£1,234.56", "1234.56"),
        ("-£689.70", "-689.70"),
        ("£-689.70", "-689.70"),
        ("£2,610.90", "2610.90"),
        ("-£2,150.36", "-2150.36"),
        ("1200.00", "1200.00"),
        ("-2100.00", "-2100.00"),
        ("3,228,893.86", "3228893.86"),
        (" 1,041.67 ", "1041.67"),
        (" 99,999,999.99 ", "99999999.99"),
        ("900", "900.00"),
        ("500", "500.00"),
        ("+12.00", "12.00"),
        ("-0.46", "-0.46"),
        ("-0.01", "-0.01"),
        ("337", "337.00"),
        ("0", "0.00"),
        ("0.00", "0.00"),
        ("5.", "5.00"),
        (".5", "0.50"),
        ("999999999999.99", "999999999999.99"),
    ],
)
def test_it_reads_amounts_written_as_text(value, expected):
    assert parse_amount(value) == Decimal(expected)


@pytest.mark.parametrize(
    "value",
    ["(978.00)", "(£978.00)", "£(978.00)", "( 978.00 )", "-978", "-£978", "£-978"],
)
def test_it_reads_brackets_and_leading_minus_as_negative(value):
    assert parse_amount(value) == Decimal("-978.00")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("106,396.00-", "-106396.00"),
        ("165,547.00-", "-165547.00"),
        ("£5.00-", "-5.00"),
        ("5.00 -", "-5.00"),
    ],
)
def test_it_reads_trailing_minus_as_credit(value, expected):
    assert parse_amount(value) == Decimal(expected)


@pytest.mark.parametrize(
    "value", ["1,200.00CR", "1,200.00 CR", "1,200.00 cr", "£1200CR"]
)
def test_it_reads_cr_suffix_as_credit(value):
    assert parse_amount(value) == Decimal("-1200.00")


def test_it_reads_dr_suffix_as_debit():
    assert parse_amount("1,200.00 DR") == Decimal("1200.00")


@pytest.mark.parametrize(
    "value",
    [
        "£1,234.56",  # real pound sign (also byte 0xA3 decoded as Windows-1252)
        "\xa31,234.56",
        "Â£1,234.56",  # UTF-8 read as Windows-1252
        "œ1,234.56",  # DOS code page 437/850 byte 0x9C read as Windows-1252
        "\x9c1,234.56",  # the same byte read as Latin-1
        "\ufffd1,234.56",  # lost in a failed decode
        "1,234.56£",
    ],
)
def test_it_accepts_pound_signs_however_they_were_encoded(value):
    assert parse_amount(value) == Decimal("1234.56")


@pytest.mark.parametrize(
    "value",
    [
        "\xa01,234.56\xa0",
        "\t1,234.56\r\n",
        "\u20071,234.56",
        "\u202f£\u202f1,234.56",
        "\ufeff1,234.56",
        "1,234.56\u200b",
        "  £  1,234.56  ",
    ],
)
def test_it_ignores_surrounding_whitespace_of_any_kind(value):
    assert parse_amount(value) == Decimal("1234.56")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-441.17999999999995", "-441.18"),
        (-441.17999999999995, "-441.18"),
        (1041.4099999999999, "1041.41"),
        (4999.999999999999, "5000.00"),
        (0.1 + 0.2, "0.30"),
        (1e3, "1000.00"),
        (1.5e-7, "0.00"),
        (-0.0, "0.00"),
        (np.float64(1041.4099999999999), "1041.41"),
        (np.float32(12.5), "12.50"),
    ],
)
def test_it_reads_binary_float_noise_to_the_intended_penny(value, expected):
    assert parse_amount(value) == Decimal(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("-0.005", "-0.01"),
        ("0.015", "0.02"),
        ("2.675", "2.68"),
        (2.675, "2.68"),  # repr is "2.675", although the binary value is below it
        ("0.004", "0.00"),
        ("-0.004", "0.00"),
        ("1.9999", "2.00"),
    ],
)
def test_it_rounds_half_up_to_pennies(value, expected):
    assert parse_amount(value) == Decimal(expected)


def test_it_never_returns_negative_zero():
    assert str(parse_amount("-0.001")) == "0.00"
    assert str(parse_amount(Decimal("-0"))) == "0.00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (900, "900.00"),
        (-5, "-5.00"),
        (np.int64(337), "337.00"),
        (Decimal("12.345"), "12.35"),
        (Decimal("1E+3"), "1000.00"),
        (Fraction(1, 4), "0.25"),
    ],
)
def test_it_reads_numbers_that_are_not_text(value, expected):
    assert parse_amount(value) == Decimal(expected)


def test_it_always_returns_a_decimal_with_two_places():
    for value in ("1", 1, 1.0, Decimal("1.000000"), "£1,000"):
        amount = parse_amount(value)
        assert isinstance(amount, Decimal)
        assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "amount is empty"),
        ("   ", "amount is empty"),
        (None, "amount is empty"),
        (float("nan"), "amount is empty"),
        (pd.NA, "amount is empty"),
        ("-", 'not an amount: "-"'),
        ("N/A", 'not an amount: "N/A"'),
        ("NA", 'not an amount: "NA"'),
        ("12,3x", 'not an amount: "12,3x"'),
        ("1.2.3", 'not an amount: "1.2.3" (more than one decimal point)'),
        ("1,2,3", 'not an amount: "1,2,3" (misplaced thousands separator)'),
        # QA: a decimal comma was called a misplaced thousands separator.
        (
            "1234,56",
            'not an amount: "1234,56" (a decimal comma? LocalSpend reads a point: '
            "write it as 1234.56, and export the file with UK number settings)",
        ),
        (
            "1.234,56",
            'not an amount: "1.234,56" (a decimal comma? LocalSpend reads a point: '
            "write it as 1234.56, and export the file with UK number settings)",
        ),
        ("9,50.00", 'not an amount: "9,50.00" (misplaced thousands separator)'),
        ("--1", 'not an amount: "--1" (more than one sign)'),
        ("-(1)", 'not an amount: "-(1)" (more than one sign)'),
        ("(1)CR", 'not an amount: "(1)CR" (more than one sign)'),
        ("-1-", 'not an amount: "-1-" (more than one sign)'),
        ("(1", 'not an amount: "(1" (unbalanced brackets)'),
        ("££1", 'not an amount: "££1" (more than one £ sign)'),
        ("nan", 'not an amount: "nan"'),
        ("inf", 'not an amount: "inf"'),
        (float("inf"), 'not an amount: "inf"'),
        (float("-inf"), 'not an amount: "-inf"'),
        (Decimal("NaN"), 'not an amount: "NaN"'),
        (Decimal("Infinity"), 'not an amount: "Infinity"'),
        (True, 'not an amount: "True"'),
        (b"12", "not an amount: \"b'12'\""),
        ("$12.00", 'not an amount: "$12.00"'),
        ("€12.00", 'not an amount: "€12.00"'),
        ("1 234", 'not an amount: "1 234"'),
        ("١٢٣", 'not an amount: "١٢٣"'),
        ("\x00", 'not an amount: "\\x00"'),
        # Invisible characters named in words (QA: "£12\xa0500.00").
        ("£12\xa0500.00", 'not an amount: "£12[non-breaking space]500.00"'),
    ],
)
def test_it_rejects_what_is_not_an_amount_with_a_clear_message(value, message):
    with pytest.raises(CellError) as caught:
        parse_amount(value)
    assert str(caught.value) == message


@pytest.mark.parametrize("value", ["1e3", "1E3", "1.5e+10", "-2E-2", "£1e3"])
def test_it_rejects_scientific_notation_in_text(value):
    with pytest.raises(CellError, match="scientific notation"):
        parse_amount(value)


@pytest.mark.parametrize(
    "value",
    [
        "1234567890123",
        "1,234,567,890,123.00",
        "-1234567890123",
        "999999999999.995",  # rounds up to 13 digits
        1e13,
        1e300,
        10**15,
        Decimal("1E+20"),
    ],
)
def test_it_rejects_amounts_with_more_than_twelve_digits_before_the_point(value):
    with pytest.raises(CellError, match="more than 12 digits"):
        parse_amount(value)


def test_it_counts_digits_after_dropping_leading_zeros():
    assert parse_amount("0000000000000012.50") == Decimal("12.50")


def test_it_shortens_long_values_in_messages():
    with pytest.raises(CellError) as caught:
        parse_amount("x" * 500)
    assert len(str(caught.value)) < 100


def test_cell_error_is_a_value_error():
    assert issubclass(CellError, ValueError)


@pytest.mark.parametrize("value", ODD_STRINGS)
def test_parse_amount_raises_nothing_but_cell_error_on_odd_strings(value):
    try:
        amount = parse_amount(value)
    except CellError as err:
        assert str(err)
    else:
        assert isinstance(amount, Decimal)


# -------------------------------------------------------------------- parse_date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12/01/2023", date(2023, 1, 12)),  # day first, never US
        ("01/12/2023", date(2023, 12, 1)),
        ("05/04/2017", date(2017, 4, 5)),
        ("5/4/2017", date(2017, 4, 5)),
        ("12.07.2019", date(2019, 7, 12)),
        ("01.12.2010", date(2010, 12, 1)),
        ("12-07-2019", date(2019, 7, 12)),
        ("06/01/26", date(2026, 1, 6)),
        ("12/07/2019 00:00", date(2019, 7, 12)),
        ("12/07/2019 14:33:59", date(2019, 7, 12)),
        (" 12/07/2019\xa0", date(2019, 7, 12)),
    ],
)
def test_it_reads_numeric_dates_day_first(value, expected):
    assert parse_date(value, today=TODAY) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("05-Apr-17", date(2017, 4, 5)),
        ("05-APR-2017", date(2017, 4, 5)),
        ("04-Nov-20", date(2020, 11, 4)),
        ("01-JUN-2012", date(2012, 6, 1)),
        ("3 Apr 2023", date(2023, 4, 3)),
        ("6 Jun 2023", date(2023, 6, 6)),
        ("15 June 2023", date(2023, 6, 15)),
        ("5 Sept 2023", date(2023, 9, 5)),
        ("5 Sep 2023", date(2023, 9, 5)),
        ("5 September 2023", date(2023, 9, 5)),
        ("5th April 2017", date(2017, 4, 5)),
        ("1st Sept. 2023", date(2023, 9, 1)),
        ("05APR2017", date(2017, 4, 5)),
        ("05/Apr/2017", date(2017, 4, 5)),
        ("05 apr 17", date(2017, 4, 5)),
        ("April 5, 2017", date(2017, 4, 5)),
        ("Apr 5 2017", date(2017, 4, 5)),
        ("05-Apr-17 00:00:00", date(2017, 4, 5)),
    ],
)
def test_it_reads_dates_with_month_names(value, expected):
    assert parse_date(value, today=TODAY) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2018-01-02", date(2018, 1, 2)),
        ("2018-01-02 00:00:00", date(2018, 1, 2)),
        ("2025-10-09T19:01:14", date(2025, 10, 9)),
        ("2025-10-09T01:00", date(2025, 10, 9)),
        ("2019-07-12T00:00:00.000000000", date(2019, 7, 12)),
        ("2018/01/02", date(2018, 1, 2)),
        ("20180102", date(2018, 1, 2)),
    ],
)
def test_it_reads_iso_dates_and_ignores_a_time_without_offset(value, expected):
    assert parse_date(value, today=TODAY) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-10-09T00:00:00+01:00", date(2025, 10, 9)),
        ("2025-11-07T16:56:46Z", date(2025, 11, 7)),
        ("2025-10-08T23:30:00Z", date(2025, 10, 9)),  # 00:30 BST
        ("2025-12-31T23:30:00Z", date(2025, 12, 31)),  # GMT in winter
        ("2025-10-09T00:30:00+02:00", date(2025, 10, 8)),  # 23:30 BST
        ("2025-10-09T00:30:00+0200", date(2025, 10, 8)),
        ("2025-10-08T20:00:00-05:00", date(2025, 10, 9)),  # 02:00 BST
    ],
)
def test_it_takes_the_london_date_of_a_time_with_an_offset(value, expected):
    assert parse_date(value, today=TODAY) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (43658, date(2019, 7, 12)),
        ("43658", date(2019, 7, 12)),
        (43658.0, date(2019, 7, 12)),
        ("43658.0", date(2019, 7, 12)),
        (43658.75, date(2019, 7, 12)),  # 18:00 on the day
        (np.int64(43658), date(2019, 7, 12)),
        (np.float64(43658.0), date(2019, 7, 12)),
        (32874, date(1990, 1, 1)),
        (45017, date(2023, 4, 1)),
    ],
)
def test_it_reads_excel_serial_numbers(value, expected):
    assert parse_date(value, today=TODAY) == expected


@pytest.mark.parametrize("value", [32873, 0, -1, 1, 2023, "2023", "12345", 99999, 1e12])
def test_it_rejects_excel_serials_outside_1990_to_two_years_ahead(value):
    with pytest.raises(CellError, match="Excel date number"):
        parse_date(value, today=TODAY)


def test_it_accepts_excel_serials_up_to_two_years_after_today():
    last = date(2028, 7, 1)
    serial = (last - date(1899, 12, 30)).days
    assert parse_date(serial, today=TODAY) == last
    with pytest.raises(CellError):
        parse_date(serial + 1, today=TODAY)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2023, 4, 1), date(2023, 4, 1)),
        (datetime(2023, 4, 1, 19, 1, 14), date(2023, 4, 1)),
        (datetime(2023, 4, 1, 1, 0), date(2023, 4, 1)),
        (pd.Timestamp("2019-07-12"), date(2019, 7, 12)),
        (pd.Timestamp("2019-07-12 23:30", tz="UTC"), date(2019, 7, 13)),
        (datetime(2025, 10, 8, 23, 30, tzinfo=UTC), date(2025, 10, 9)),
        (datetime(2025, 1, 8, 23, 30, tzinfo=UTC), date(2025, 1, 8)),
        (
            datetime(2025, 10, 9, 0, 30, tzinfo=timezone(timedelta(hours=2))),
            date(2025, 10, 8),
        ),
        (
            datetime(2025, 10, 9, 0, 30, tzinfo=ZoneInfo("Europe/London")),
            date(2025, 10, 9),
        ),
        (np.datetime64("2019-07-12T00:00:00"), date(2019, 7, 12)),
    ],
)
def test_it_reads_date_and_datetime_objects(value, expected):
    result = parse_date(value, today=TODAY)
    assert result == expected
    assert type(result) is date


@pytest.mark.parametrize(
    ("value", "today", "expected"),
    [
        ("06/01/26", date(2026, 7, 1), date(2026, 1, 6)),
        ("06/01/27", date(2026, 7, 1), date(2027, 1, 6)),
        ("01/07/27", date(2026, 7, 1), date(2027, 7, 1)),  # exactly a year ahead
        ("02/07/27", date(2026, 7, 1), date(1927, 7, 2)),  # more than a year ahead
        ("05-Apr-99", date(2026, 7, 1), date(1999, 4, 5)),
        ("05-Apr-00", date(2026, 7, 1), date(2000, 4, 5)),
        ("05-Apr-17", date(2017, 4, 30), date(2017, 4, 5)),
    ],
)
def test_it_reads_two_digit_years_as_this_century_unless_over_a_year_ahead(
    value, today, expected
):
    assert parse_date(value, today=today) == expected


def test_it_uses_the_real_today_by_default():
    assert parse_date("05-Apr-17") == date(2017, 4, 5)
    this_year = date.today().year % 100
    assert parse_date(f"01/01/{this_year:02d}").year == date.today().year


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("31/02/2023", 'not a valid date: "31/02/2023" (31 February does not exist)'),
        ("29/02/2023", 'not a valid date: "29/02/2023" (2023 is not a leap year)'),
        ("31/04/2023", 'not a valid date: "31/04/2023" (31 April does not exist)'),
        ("32/01/2023", 'not a valid date: "32/01/2023" (32 January does not exist)'),
        ("00/01/2023", 'not a valid date: "00/01/2023" (there is no day 0)'),
        ("13/13/2023", 'not a valid date: "13/13/2023" (there is no month 13)'),
        ("01/13/2023", 'not a valid date: "01/13/2023" (there is no month 13)'),
        ("01/00/2023", 'not a valid date: "01/00/2023" (there is no month 0)'),
        ("2023-02-30", 'not a valid date: "2023-02-30" (30 February does not exist)'),
        ("31-Jun-23", 'not a valid date: "31-Jun-23" (31 June does not exist)'),
        ("5 Foo 2023", 'not a date: "5 Foo 2023" ("Foo" is not a month)'),
        ("Total", 'not a date: "Total"'),
        ("Grand Total", 'not a date: "Grand Total"'),
        ("N/A", 'not a date: "N/A"'),
        ("Apr 2023", 'not a date: "Apr 2023"'),
        ("12/01", 'not a date: "12/01"'),
        ("12/01-2023", 'not a date: "12/01-2023"'),
        ("12/01/202", 'not a date: "12/01/202"'),
        ("", "date is empty"),
        ("  ", "date is empty"),
        (None, "date is empty"),
        (float("nan"), "date is empty"),
        (pd.NaT, "date is empty"),
        (pd.NA, "date is empty"),
        (True, 'not a date: "True"'),
    ],
)
def test_it_rejects_what_is_not_a_date_with_a_clear_message(value, message):
    with pytest.raises(CellError) as caught:
        parse_date(value, today=TODAY)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "value",
    ["12/01/2023 25:00", "2023-01-01T10:61:00", "2023-01-01T10:00:00+24:00"],
)
def test_it_rejects_impossible_times(value):
    with pytest.raises(CellError, match="not a valid date"):
        parse_date(value, today=TODAY)


@pytest.mark.parametrize("value", ODD_STRINGS)
def test_parse_date_raises_nothing_but_cell_error_on_odd_strings(value):
    try:
        result = parse_date(value, today=TODAY)
    except CellError as err:
        assert str(err)
    else:
        assert isinstance(result, date)


# ------------------------------------------------------------------- is_redacted


@pytest.mark.parametrize(
    "name",
    [
        "REDACTED PERSONAL DATA",
        "Redacted Personal Information",
        "REDACTED UNDER DP ACT",
        "Redacted",
        "redacted ",
        "*** REDACTED ***",
        "THIRD PARTY",
        "THIRD PARTY ",
        "THIRD PARTY SUPPLIER",
        "Third Party Payment",
        "Third Party Payments",
        "PERSONAL DATA",
        "Personal Information",
        "Personal Details",
        "Withheld",
        "Name withheld",
        "Name Withheld - Data Protection",
        "Private individual",
        "Individual",
        "Sensitive",
        "Confidential",
        "Not disclosed",
        "Undisclosed",
        "Data Protection Act",
        "REDACTED PERSONAL DATA Beresford Travel",
        "REDACTED PERSONAL DATA Beresford Travel Ltd",
        "Personal Data - foster carer",
        "\xa0Redacted\xa0",
    ],
)
def test_it_recognises_redacted_payees(name):
    assert is_redacted(name)


@pytest.mark.parametrize(
    "name",
    [
        "Redactive Publishing Ltd",
        "Redactive Media Group",
        "Personal Power UK",
        "Personal Data Solutions Ltd",
        "Third Party Solutions Ltd",
        "Third Party Solutions",
        "Confidential Shredding Ltd",
        "Confidential Shredding",
        "Individual Restaurant Company Plc",
        "Sensitive Cleaning Ltd",
        "Withers LLP",
        "Sensitive Ltd",
        "Individual CIC",
        "Acme Ltd",
        "",
        "NA",
    ],
)
def test_it_does_not_mistake_real_businesses_for_redactions(name):
    assert not is_redacted(name)


def test_the_redacted_label_is_itself_redacted():
    assert REDACTED_LABEL == "Redacted"
    assert is_redacted(REDACTED_LABEL)


# ---------------------------------------------------------------- normalise_name


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("The Acme & Sons Limited", "ACME AND SONS LTD."),
        ("Cap\xa0+ Stone Limited", "Cap + Stone Ltd"),
        ("Acme Public Limited Company", "ACME PLC"),
        ("Acme Public Ltd Co", "Acme plc"),
        ("Smith & Company", "Smith and Co."),
        ("Smith Company Ltd", "Smith Co Ltd"),
        ("Acme (UK) Limited", "Acme UK Ltd"),
        ("Neville´s Kitchen", "Nevilles Kitchen"),
        ("Neville's Kitchen", "Neville’s Kitchen"),
        ("Café Nero", "CAFE NERO"),
        ("Smith-Jones  Ltd", "Smith Jones Ltd"),
        ("A.B.C. Ltd", "ABC Limited"),
        ("Bupa Care Homes† Seabrooke Manor", "Bupa Care Homes Seabrooke Manor"),
        ("  acme\tltd\r\n", "ACME LTD"),
        ("ＡＣＭＥ ＬＴＤ", "Acme Ltd"),
    ],
)
def test_it_normalises_variants_of_a_name_equal(first, second):
    assert normalise_name(first) == normalise_name(second)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("The Acme & Sons Limited", "acme and sons ltd"),
        ("Cap\xa0+ Stone Limited", "cap stone ltd"),
        ("The", "the"),
        ("The The", "the"),
        ("Theatre Royal", "theatre royal"),
        ("Company Shop Ltd", "company shop ltd"),
        ("Individual Restaurant Company Plc", "individual restaurant co plc"),
        ("Acme Ltd T/A Widgets", "acme ltd t a widgets"),
        ("Acme_Widgets", "acme widgets"),
        ("", ""),
    ],
)
def test_it_normalises_names_to_simple_words(name, expected):
    assert normalise_name(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "The Acme & Sons Limited",
        "the the the acme",
        "The Company",
        "Public Limited Company",
        "Acme Company Company",
        "Company Public Ltd Co",
        "Public Ltd Company Company",
        "Acme Company Co Ltd",
        "Company Company Ltd Company Ltd",
        "Ⅻ ℃ ﬁ İstanbul Straße",
        "ǰ ŉ ΐ",
        "& & &",
        "Cap\xa0+ Stone Limited",
        "Bupa Care Homes† Seabrooke Manor",
        *ODD_STRINGS,
    ],
)
def test_normalise_name_is_idempotent(name):
    once = normalise_name(name)
    assert normalise_name(once) == once


def test_normalise_name_is_idempotent_for_every_short_mix_of_tricky_words():
    vocabulary = ["the", "company", "co", "public", "limited", "ltd", "&", "plc", "x"]
    for size in range(1, 5):
        for words in itertools.product(vocabulary, repeat=size):
            once = normalise_name(" ".join(words))
            assert normalise_name(once) == once, words


# -------------------------------------------------------------------- clean_text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (float("nan"), ""),
        (pd.NA, ""),
        ("NA", "NA"),
        ("N/A", "N/A"),
        ("  Acme  Ltd  ", "Acme Ltd"),
        ("Cap\xa0+ Stone", "Cap + Stone"),
        ("line one\r\nline two", "line one line two"),
        ("old\rmac", "old mac"),
        ("tab\t\tseparated", "tab separated"),
        ("Bupa Care Homes† Seabrooke Manor", "Bupa Care Homes Seabrooke Manor"),
        ("Report Date:† 02/07/2012† 16:59:18", "Report Date: 02/07/2012 16:59:18"),
        (",†††††† ", ","),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("nul\x00byte", "nul byte"),
        ("Name:  ", "Name:"),
        (12345.0, "12345"),
        (12.5, "12.5"),
        (42, "42"),
        ("", ""),
    ],
)
def test_it_cleans_text_cells(value, expected):
    assert clean_text(value) == expected


@pytest.mark.parametrize("value", ODD_STRINGS)
def test_clean_text_is_one_line_and_idempotent(value):
    once = clean_text(value)
    assert "\n" not in once and "\r" not in once
    assert clean_text(once) == once


# ---------------------------------------------------------------- parse_postcode


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("LU1 2AB", "LU1 2AB"),
        ("lu12ab", "LU1 2AB"),
        (" lu1  2ab ", "LU1 2AB"),
        ("LU1\xa02AB", "LU1 2AB"),
        ("MK9 3EJ", "MK9 3EJ"),
        ("L36 9YU", "L36 9YU"),
        ("PR1 2RL", "PR1 2RL"),
        ("M1 1AE", "M1 1AE"),
        ("W1A 1AA", "W1A 1AA"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("SW1A 2AA", "SW1A 2AA"),
        ("BT1 5GS", "BT1 5GS"),
        ("GIR 0AA", "GIR 0AA"),
        ("gir0aa", "GIR 0AA"),
        ("LU1 2AB.", "LU1 2AB"),
        ("lu1", "LU1"),
        ("LU1", "LU1"),
        ("sw1a", "SW1A"),
        ("BT48", "BT48"),
        ("M1", "M1"),
    ],
)
def test_it_normalises_postcodes(value, expected):
    assert parse_postcode(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        None,
        "NA",
        "BFPO 123",
        "BFPO123",
        "Luton LU1 2AB",
        "LU1 2A",
        "LU1 2CB",  # C is never in an inward code
        "QA1 2AB",  # Q never starts a postcode
        "LU1 2ABC",
        "12345",
        "ASCN 1ZZ",
        "LU1-2AB",
        "GIR",
        "Total",
    ],
)
def test_it_returns_none_for_what_is_not_a_postcode(value):
    assert parse_postcode(value) is None


@pytest.mark.parametrize("name", ["*****************************", "---", "###"])
def test_a_name_masked_with_symbols_is_redacted(name):
    assert is_redacted(name)


def test_an_empty_name_is_not_called_redacted():
    assert not is_redacted("")


@pytest.mark.parametrize(
    "text, below, number",
    [
        ("12", 2**31, 12),
        ("0", 2**31, 0),
        ("²", 2**31, None),
        ("-1", 2**31, None),
        ("1.5", 2**31, None),
        ("", 2**31, None),
        ("99999999999999999999", 2**31, None),
        ("3", 3, None),
        ("2", 3, 2),
    ],
)
def test_a_whole_number_sent_in_a_form_is_read_or_refused(text, below, number):
    from spend.values import parse_whole_number

    assert parse_whole_number(text, below=below) == number


@pytest.mark.parametrize(
    ("written", "tidied", "kept"),
    [
        ("GB123456789", "GB123456789", "GB123456789"),
        ("gb 123 4567 89", "GB123456789", "GB123456789"),
        ("123.4567.89", "GB123456789", "GB123456789"),
        ("123456789012", "GB123456789012", "GB123456789012"),
        ("GBGD001", "GBGD001", "GBGD001"),
        ("IE6388047V", "IE6388047V", "IE6388047V"),
        ("N/A", "N/A", ""),
        ("NONE", "NONE", ""),
        ("0", "0", ""),
        ("000000000", "GB000000000", ""),
        ("Not registered", "NOTREGISTERED", ""),
        ("", "", ""),
        (None, "", ""),
    ],
)
def test_vat_numbers_are_tidied_and_placeholders_are_blank(written, tidied, kept):
    assert tidy_vat_number(written) == tidied
    assert vat_number_or_blank(written) == kept


# The register's form and import, and the Companies House loader, read a company
# number the same way: a short Scottish or Northern Irish number typed by an
# officer ("SC12345") must find the loaded one ("SC012345").
COMPANY_NUMBERS = [
    ("01234567", "01234567"),
    ("1234567", "01234567"),
    ("  12 345 ", "00012345"),
    ("SC12345", "SC012345"),
    ("sc 012345", "SC012345"),
    ("NI1", "NI000001"),
    ("OC301234", "OC301234"),
    ("so305000", "SO305000"),
    ("R0000123", "R0000123"),
    ("IP28012R", "IP28012R"),
    ("0", ""),
    ("00000000", ""),
    ("", ""),
]


@pytest.mark.parametrize(("typed", "kept"), COMPANY_NUMBERS)
def test_a_company_number_is_tidied_to_its_eight_characters(typed, kept):
    from spend.values import tidy_company_number

    assert tidy_company_number(typed) == kept


@pytest.mark.parametrize(("typed", "kept"), COMPANY_NUMBERS)
def test_the_register_and_the_companies_house_loader_agree(typed, kept):
    from socialvalue.loaders import _company_number
    from spend.values import tidy_company_number

    assert tidy_company_number(typed) == _company_number(typed) == kept


@pytest.mark.parametrize("typed", ["SC1234567", "12345678901", "AB-1234", "SCX12"])
def test_what_is_not_a_company_number_is_left_for_the_caller_to_refuse(typed):
    from socialvalue.loaders import _company_number
    from spend.values import tidy_company_number

    assert _company_number(typed) is None
    # Tidied only (capitals, no spaces); the form and the import refuse it.
    assert tidy_company_number(typed) == "".join(typed.upper().split())
