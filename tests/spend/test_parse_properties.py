"""Property-based tests (hypothesis) of the cell, header and postcode parsers.

Two kinds of property, for each parser:

* Anything in, nothing escapes: arbitrary text (and, for amounts and dates, the
  other cell types a spreadsheet hands over) either parses or gives the module's
  documented error (`CellError` with a message), or the "unreadable" result the
  callers expect (None, an unknown tag, a skipped row).
* Round trips that pin behaviour: a value written in each form the parser claims
  to read (see its docstring and tests/spend/test_values.py) reads back exactly.

The runs are derandomised, with no example database, so CI sees the same examples
every time; the whole module takes a few seconds.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from socialvalue.classify import TagResult, _Postcode, _read_postcode_text
from socialvalue.loaders import LoadReport, _full_postcode, _PostcodeTable
from spend.parse import FileRefused, parse_file
from spend.reading import (
    _KNOWN_OTHER,
    _SYNONYMS,
    FIELDS,
    _field_of,
    _norm,
    guess_columns,
    is_header_row,
    recognise_columns,
)
from spend.values import (
    CellError,
    parse_amount,
    parse_date,
    parse_plain_amounts,
    parse_postcode,
)

TODAY = date(2026, 7, 1)
EXCEL_EPOCH = date(1899, 12, 30)

PROPERTY = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)
FEWER = settings(PROPERTY, max_examples=80)

# Text of every kind: any code point, plus the characters real files carry.
ANY_TEXT = st.text(max_size=40) | st.text(
    alphabet=st.sampled_from(
        list("0123456789,.-+()£$€ CRDRcrdr/:TZ\xa0\t\u200b\ufeff†Âœ\x9c\ufffdeE")
    ),
    max_size=25,
)
OTHER_CELLS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.dates()
    | st.datetimes()
    | st.datetimes(
        timezones=st.builds(
            timezone,
            st.timedeltas(
                min_value=timedelta(hours=-23, minutes=-59),
                max_value=timedelta(hours=23, minutes=59),
            ),
        )
    )
)


def _assert_clear(error: CellError) -> None:
    """A message for a person: non-empty, one line, saying what went wrong."""
    message = str(error)
    assert message and "\n" not in message
    assert re.match(
        r"(not an amount|amount is empty|not a (valid )?date|date is)", message
    )


# ------------------------------------------------------------------- amounts


@PROPERTY
@given(value=ANY_TEXT | OTHER_CELLS)
@example(value="1" * 400)
@example(value="--£1")
@example(value="(£1,234.56) CR")
def test_parse_amount_reads_any_cell_or_says_why_not(value):
    try:
        amount = parse_amount(value)
    except CellError as error:
        _assert_clear(error)
        return
    assert isinstance(amount, Decimal)
    assert amount.as_tuple().exponent == -2
    assert amount.adjusted() < 12
    assert not (amount.is_zero() and amount.is_signed())  # never "-0.00"


# Whole pounds below a trillion (12 digits), and pennies: an amount in a ledger.
PENNIES = st.integers(min_value=-(10**14) + 1, max_value=10**14 - 1).map(
    lambda pence: Decimal(pence).scaleb(-2)
)


def _grouped(magnitude: Decimal) -> str:
    return f"{magnitude:,.2f}"


def _plain(magnitude: Decimal) -> str:
    return f"{magnitude:.2f}"


# (writer of |amount|, with a sign: True where the form says negative)
NEGATIVE_FORMS = [
    lambda m, sep: f"-{sep(m)}",
    lambda m, sep: f"-£{sep(m)}",
    lambda m, sep: f"£-{sep(m)}",
    lambda m, sep: f"({sep(m)})",
    lambda m, sep: f"(£{sep(m)})",
    lambda m, sep: f"{sep(m)}-",
    lambda m, sep: f"{sep(m)} CR",
    lambda m, sep: f"{sep(m)}cr",
    lambda m, sep: f"£{sep(m)} CR",
    lambda m, sep: f"Â£{sep(m)}-",  # UTF-8 pound sign read as Windows-1252
]
POSITIVE_FORMS = [
    lambda m, sep: sep(m),
    lambda m, sep: f"£{sep(m)}",
    lambda m, sep: f"+{sep(m)}",
    lambda m, sep: f"{sep(m)} DR",
    lambda m, sep: f"£ {sep(m)}",
    lambda m, sep: f"{sep(m)}£",
    lambda m, sep: f"œ{sep(m)}",  # DOS code page pound sign
]
PADDING = st.sampled_from(["", " ", "  ", "\xa0", "\t", "\u200b", " \xa0 "])


@PROPERTY
@given(
    amount=PENNIES,
    form=st.integers(min_value=0, max_value=99),
    grouped=st.booleans(),
    before=PADDING,
    after=PADDING,
)
def test_an_amount_in_any_written_form_reads_back_exactly(
    amount, form, grouped, before, after
):
    forms = NEGATIVE_FORMS if amount < 0 else POSITIVE_FORMS
    write = forms[form % len(forms)]
    text = before + write(abs(amount), _grouped if grouped else _plain) + after

    assert parse_amount(text) == amount, text


@PROPERTY
@given(
    amount=PENNIES.filter(lambda a: a > 0),
    form=st.integers(min_value=0, max_value=99),
)
def test_a_credit_mark_makes_a_positive_amount_negative(amount, form):
    """Every negative form read with a positive magnitude gives minus that amount."""
    write = NEGATIVE_FORMS[form % len(NEGATIVE_FORMS)]

    assert parse_amount(write(amount, _grouped)) == -amount


@PROPERTY
@given(amount=PENNIES, extra=st.integers(min_value=0, max_value=9))
def test_more_decimal_places_round_half_up_to_the_penny(amount, extra):
    """1.005 -> 1.01 and -1.005 -> -1.01: half-up, away from zero."""
    text = f"{amount:.2f}" + "5" + str(extra)
    away = Decimal("0.01") if amount >= 0 else Decimal("-0.01")
    expected = amount + away
    assume(expected.adjusted() < 12)

    assert parse_amount(text) == expected


@PROPERTY
@given(number=st.floats(min_value=-1e11, max_value=1e11, allow_nan=False))
def test_a_spreadsheet_float_reads_as_its_shortest_decimal_to_the_penny(number):
    expected = Decimal(repr(number)).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    if expected.is_zero():
        expected = abs(expected)

    assert parse_amount(number) == expected


@PROPERTY
@given(
    cells=st.lists(
        ANY_TEXT
        | PENNIES.map(str)
        | PENNIES.map(_grouped)
        | st.sampled_from(["1,2", "-", ",", "1,234,5", "999999999999.995", "00"]),
        max_size=12,
    )
)
def test_the_fast_path_for_many_cells_agrees_with_parse_amount(cells):
    """parse_plain_amounts gives parse_amount's answer or None (not plain) per cell."""
    fast = parse_plain_amounts(cells)

    assert len(fast) == len(cells)
    for cell, amount in zip(cells, fast, strict=True):
        if amount is None:
            continue
        assert amount == parse_amount(cell), cell
        assert str(amount) == str(parse_amount(cell)), cell


@PROPERTY
@given(digits=st.integers(min_value=13, max_value=30), negative=st.booleans())
def test_amounts_over_twelve_digits_are_refused_with_the_reason(digits, negative):
    text = ("-" if negative else "") + "9" * digits + ".00"

    with pytest.raises(CellError, match="more than 12 digits"):
        parse_amount(text)


# --------------------------------------------------------------------- dates

DAYS = st.dates(min_value=date(1990, 1, 1), max_value=date(2027, 6, 30))
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

# What parse_date claims to read (spend/values.py and tests/spend/test_values.py).
DATE_FORMS = {
    "dd/mm/yyyy": lambda d: f"{d:%d/%m/%Y}",
    "d/m/yyyy": lambda d: f"{d.day}/{d.month}/{d.year}",
    "dd.mm.yyyy": lambda d: f"{d:%d.%m.%Y}",
    "dd-mm-yyyy": lambda d: f"{d:%d-%m-%Y}",
    "dd/mm/yy": lambda d: f"{d:%d/%m/%y}",
    "yyyy-mm-dd": lambda d: d.isoformat(),
    "yyyy/mm/dd": lambda d: f"{d:%Y/%m/%d}",
    "yyyy-mm-dd hh:mm:ss": lambda d: f"{d.isoformat()} 00:00:00",
    "yyyy-mm-ddThh:mm": lambda d: f"{d.isoformat()}T13:45",
    "yyyymmdd": lambda d: f"{d:%Y%m%d}",
    "d Mon yyyy": lambda d: f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}",
    "d Month yyyy": lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    "dd-Mon-yy": lambda d: f"{d:%d}-{MONTHS[d.month - 1][:3]}-{d:%y}",
    "DD-MON-YYYY": lambda d: f"{d:%d}-{MONTHS[d.month - 1][:3].upper()}-{d.year}",
    "dth Month yyyy": lambda d: (
        f"{d.day}{_ordinal(d.day)} {MONTHS[d.month - 1]} {d.year}"
    ),
    "Month d, yyyy": lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    "Excel serial text": lambda d: str((d - EXCEL_EPOCH).days),
    "Excel serial with time": lambda d: f"{(d - EXCEL_EPOCH).days}.75",
}


def _ordinal(day: int) -> str:
    if day in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


@PROPERTY
@given(value=ANY_TEXT | OTHER_CELLS)
@example(value="31/02/2024")
@example(value="2023-01-01T10:00:00+24:00")
@example(value="9" * 9)
def test_parse_date_reads_any_cell_or_says_why_not(value):
    try:
        day = parse_date(value, today=TODAY)
    except CellError as error:
        _assert_clear(error)
        return
    assert isinstance(day, date) and not isinstance(day, datetime)


@PROPERTY
@given(day=DAYS, form=st.sampled_from(sorted(DATE_FORMS)), padding=PADDING)
def test_a_date_in_any_supported_form_reads_back_exactly(day, form, padding):
    text = padding + DATE_FORMS[form](day) + padding

    assert parse_date(text, today=TODAY) == day, text


@PROPERTY
@given(day=DAYS, fraction=st.floats(min_value=0, max_value=0.999))
def test_an_excel_serial_number_reads_as_its_day(day, fraction):
    serial = (day - EXCEL_EPOCH).days

    assert parse_date(serial, today=TODAY) == day
    assert parse_date(float(serial) + fraction, today=TODAY) == day


@PROPERTY
@given(
    moment=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2027, 6, 30))
)
def test_a_date_or_naive_datetime_object_is_its_own_date(moment):
    assert parse_date(moment, today=TODAY) == moment.date()
    assert parse_date(moment.date(), today=TODAY) == moment.date()


OFFSETS = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59)


def _offset_text(minutes: int, colon: bool) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{mins:02d}"


@PROPERTY
@given(
    moment=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    minutes=OFFSETS,
    colon=st.booleans(),
    joiner=st.sampled_from(["T", " "]),
)
@example(moment=datetime(1, 1, 1), minutes=60, colon=True, joiner="T")
@example(moment=datetime(9999, 12, 31, 23), minutes=-300, colon=True, joiner="T")
def test_a_time_with_a_utc_offset_gives_the_london_date_or_says_why_not(
    moment, minutes, colon, joiner
):
    """2025-10-09T00:00:00+01:00 is 9 October in London. At the ends of the
    calendar (year 1, year 9999) the London date may not exist: a clear error,
    never an OverflowError (found by this test)."""
    moment = moment.replace(microsecond=0)
    day = f"{moment.year:04d}-{moment:%m-%d}"  # %Y writes year 1 as "1"
    text = f"{day}{joiner}{moment:%H:%M:%S}{_offset_text(minutes, colon)}"
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    try:
        expected = aware.astimezone(ZoneInfo("Europe/London")).date()
    except OverflowError:
        with pytest.raises(CellError, match=r"^not a valid date: .*out of range"):
            parse_date(text, today=TODAY)
        with pytest.raises(CellError, match=r"^not a valid date: .*out of range"):
            parse_date(aware, today=TODAY)
        return

    assert parse_date(text, today=TODAY) == expected, text
    assert parse_date(aware, today=TODAY) == expected


@st.composite
def impossible_days(draw):
    """(year, month, day) that name no date: 31/04, 30/02, 29/02 in a common year."""
    year = draw(st.integers(min_value=1990, max_value=2027))
    month = draw(st.sampled_from([2, 4, 6, 9, 11]))  # months under 31 days
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    day = draw(st.integers(min_value=last + 1, max_value=31))
    return year, month, day


@PROPERTY
@given(
    when=impossible_days(),
    form=st.sampled_from(
        ["{d}/{m}/{y}", "{y}-{m}-{d}", "{d}.{m}.{y}", "{d} {mon} {y}"]
    ),
)
def test_an_impossible_date_is_refused_saying_so(when, form):
    year, month, day = when
    text = form.format(d=day, m=f"{month:02d}", y=year, mon=MONTHS[month - 1])

    with pytest.raises(CellError, match=r"^not a valid date: ") as raised:
        parse_date(text, today=TODAY)
    assert text in str(raised.value)
    assert re.search(r"does not exist|not a leap year", str(raised.value))


@PROPERTY
@given(
    day=st.integers(min_value=1, max_value=31),
    month=st.integers(min_value=13, max_value=99),
    year=st.integers(min_value=1990, max_value=2027),
)
def test_a_month_over_twelve_is_refused_not_swapped(day, month, year):
    """Numeric dates are day first, always: 01/13/2024 is not read as 13 January."""
    with pytest.raises(CellError, match=f"there is no month {month}"):
        parse_date(f"{day:02d}/{month}/{year}", today=TODAY)


# ------------------------------------------------------------------- headers

# The synonyms each field is recognised by, with the tier of each.
KNOWN_NAMES = [
    (name, synonym, tier)
    for name, tiers in _SYNONYMS.items()
    for tier, names in enumerate(tiers)
    for synonym in names.split("|")
]
# Column names that are headers but no field's (they make a row a header too).
FILLERS = sorted(name for name in _KNOWN_OTHER if _field_of(_norm(name)) is None)
SEPARATORS = [" ", "  ", "_", "-", ".", "/", "\xa0", "\t", " - "]


def _styled(word: str, style: str) -> str:
    return {"lower": word.lower(), "upper": word.upper(), "title": word.title()}[style]


@st.composite
def spelled(draw, synonym: str, amount: bool = False) -> str:
    """A header cell as councils write the synonym: any case per word, words
    joined by spaces or punctuation (or run together in CamelCase), stray
    whitespace, a "*" mark in front, a ":" or "(£)" behind."""
    words = synonym.split()
    out = ""
    for i, word in enumerate(words):
        style = draw(st.sampled_from(["lower", "upper", "title"]))
        styled = _styled(word, style)
        if i:
            joiners = list(SEPARATORS)
            if style == "title":  # "PaymentDate", "VATReg", "supplierName"
                joiners.append("")
            out += draw(st.sampled_from(joiners))
        out += styled
    before = draw(st.sampled_from(["", " ", "*", "* ", "\ufeff", "\u200b", "\xa0"]))
    after = draw(st.sampled_from(["", " ", ":", " :", "\xa0", "  "]))
    if amount:
        after = draw(st.sampled_from(["", " (£)", "(£)", " £"])) + after
    return before + out + after


@st.composite
def headers(draw):
    """A header row: some fields, each under one of its names, among filler
    columns, in any order. Returns (row, {field: column index})."""
    fields = draw(
        st.lists(st.sampled_from(FIELDS), min_size=1, max_size=8, unique=True)
    )
    cells: list[tuple[str | None, str]] = []
    for name in fields:
        choices = [s for n, s, _ in KNOWN_NAMES if n == name]
        synonym = draw(st.sampled_from(choices))
        cells.append((name, draw(spelled(synonym, amount=name == "amount"))))
    for filler in draw(st.lists(st.sampled_from(FILLERS), max_size=4)):
        cells.append((None, draw(spelled(filler))))
    cells.extend((None, "") for _ in range(draw(st.integers(0, 2))))
    order = draw(st.permutations(range(len(cells))))
    row = [cells[i][1] for i in order]
    where = {cells[i][0]: at for at, i in enumerate(order) if cells[i][0]}
    return row, where


@PROPERTY
@given(header=headers())
@example(header=(["Payment Date", "Net Amount(£)", "Supplier Name"], None))
@example(header=(["*BeneficiaryName:", "PAYMENT_DATE", "AmountGBP"], None))
def test_known_column_names_in_any_spelling_are_recognised_as_their_field(header):
    row, where = header
    if where is None:  # an @example: work the answer out from the names
        where = {_field_of(_norm(text))[0]: i for i, text in enumerate(row)}

    mapping = recognise_columns(row)

    assert mapping.columns == where, row
    if len(where) >= 2 and not any(len(text) > 80 for text in row):
        assert is_header_row(row), row


@PROPERTY
@given(
    name_and_synonym=st.sampled_from([(n, s) for n, s, _ in KNOWN_NAMES]),
    data=st.data(),
)
def test_every_known_name_alone_maps_to_its_field(name_and_synonym, data):
    name, synonym = name_and_synonym
    text = data.draw(spelled(synonym, amount=name == "amount"))

    assert recognise_columns(["Notes", text]).columns.get(name) == 1, text


@PROPERTY
@given(row=st.lists(ANY_TEXT, max_size=12))
def test_recognise_columns_maps_any_header_to_distinct_columns_it_has(row):
    mapping = recognise_columns(row)

    indexes = list(mapping.columns.values())
    assert len(set(indexes)) == len(indexes)
    assert all(0 <= i < len(row) for i in indexes)
    for name, index in mapping.columns.items():
        assert name in FIELDS
        assert _field_of(_norm(row[index]))[0] == name
    assert all(isinstance(note, str) and note for note in mapping.notes)
    assert isinstance(is_header_row(row), bool)


@PROPERTY
@given(
    tiers=st.permutations(range(3)),
    spelling=st.data(),
)
def test_the_preferred_amount_wins_whatever_the_order(tiers, spelling):
    """Net over plain over gross; the note names the columns not used."""
    names = [_SYNONYMS["amount"][t].split("|")[0] for t in tiers]
    row = [spelling.draw(spelled(n, amount=True)) for n in names]

    mapping = recognise_columns(row)

    assert mapping.columns["amount"] == list(tiers).index(0)
    assert any("amount columns: used" in note for note in mapping.notes)


# ----------------------------------------------------------------- postcodes

AREA = "ABCDEFGHIJKLMNOPRSTUWYZ"  # never Q, V or X first
SECOND = "ABCDEFGHKLMNOPQRSTUVWXY"  # never I, J or Z second
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # never C, I, K, M, O or V
DIGIT = "0123456789"


@st.composite
def postcodes(draw) -> tuple[str, str]:
    """A valid UK postcode (any of the six outward shapes): (outward, inward)."""
    pick = lambda chars: draw(st.sampled_from(chars))  # noqa: E731
    shape = draw(st.sampled_from(["A9", "A99", "AA9", "AA99", "A9A", "AA9A"]))
    if shape == "A9":
        outward = pick(AREA) + pick(DIGIT)
    elif shape == "A99":
        outward = pick(AREA) + pick(DIGIT) + pick(DIGIT)
    elif shape == "AA9":
        outward = pick(AREA) + pick(SECOND) + pick(DIGIT)
    elif shape == "AA99":
        outward = pick(AREA) + pick(SECOND) + pick(DIGIT) + pick(DIGIT)
    elif shape == "A9A":
        outward = pick(AREA) + pick(DIGIT) + pick("ABCDEFGHJKPSTUW")
    else:
        outward = pick(AREA) + pick(SECOND) + pick(DIGIT) + pick("ABEHMNPRVWXY")
    inward = pick(DIGIT) + pick(INWARD_LETTERS) + pick(INWARD_LETTERS)
    assume(not (outward + inward).startswith("BF"))  # BFPO-like: tested apart
    return outward, inward


@st.composite
def scruffy(draw, text: str) -> str:
    """The text as someone typed it: any case per letter, any whitespace
    between characters (NBSP and tabs too), a full stop or comma after."""
    out = ""
    for char in text:
        out += draw(st.sampled_from(["", "", "", " ", "  ", "\xa0", "\t"]))
        out += char.lower() if draw(st.booleans()) else char.upper()
    return out + draw(st.sampled_from(["", ".", ",", " ", ";"]))


@PROPERTY
@given(postcode=postcodes(), data=st.data())
def test_a_valid_postcode_however_written_reads_as_its_canonical_form(postcode, data):
    outward, inward = postcode
    typed = data.draw(scruffy(outward + inward))

    assert parse_postcode(typed) == f"{outward} {inward}", typed
    assert parse_postcode(data.draw(scruffy(outward))) == outward


@PROPERTY
@given(
    value=ANY_TEXT
    | st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ", max_size=9)
)
@example(value="GIR 0AA")
@example(value="BFPO 123")
@example(value="ASCN 1ZZ")
def test_parse_postcode_gives_a_canonical_postcode_or_none(value):
    parsed = parse_postcode(value)

    if parsed is None:
        return
    assert re.fullmatch(r"[A-Z0-9]{2,4}( [0-9][A-Z]{2})?", parsed), parsed
    assert parse_postcode(parsed) == parsed  # idempotent


@PROPERTY
@given(postcode=postcodes(), data=st.data())
def test_the_classifier_reads_a_valid_postcode_to_its_district(postcode, data):
    outward, inward = postcode
    typed = data.draw(scruffy(outward + inward))

    read = _read_postcode_text(typed.strip(".,;").strip())

    area = re.match("[A-Z]+", outward).group()
    if area in ("JE", "GY", "IM", "GX"):  # Channel Islands, Isle of Man, Gibraltar
        assert isinstance(read, TagResult) and read.value == "non_uk"
    else:
        assert read == _Postcode(
            text=f"{outward} {inward}", district=outward, full=True
        )


@PROPERTY
@given(value=ANY_TEXT)
@example(value="BFPO 123")
@example(value="bf1 2ab")
@example(value="ascn1zz")
def test_the_classifier_reads_any_text_to_a_postcode_or_an_honest_unknown(value):
    read = _read_postcode_text(value)

    if isinstance(read, _Postcode):
        assert read.text == parse_postcode(value)
        assert read.text.startswith(read.district)
    else:
        assert isinstance(read, TagResult)
        assert read.value in ("unknown", "non_uk")
        assert read.evidence


def _directory(cells: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["pcds", "oslaua", "lat", "long", "doterm"])
    for cell in cells:
        writer.writerow([cell, "E06000032", "51.88", "-0.42", ""])
    return buffer.getvalue()


@FEWER
@given(written=st.lists(postcodes(), min_size=1, max_size=8), data=st.data())
def test_the_postcode_directory_loader_keys_every_postcode_canonically(written, data):
    """ONSPD writes postcodes "LU1 2AB", "LU1  2AB" (pcd) or "LU12AB" (pcd7)."""
    spacings = [data.draw(st.sampled_from(["", " ", "  ", "   "])) for _ in written]
    cells = [o + gap + i for (o, i), gap in zip(written, spacings, strict=True)]
    report = LoadReport("ONS postcode directory", "test.csv")

    table = _PostcodeTable(io.StringIO(_directory(cells), newline=""), batch_size=3)
    rows = [row for batch in table.batches(report) for row in batch]

    assert {row[0] for row in rows} == {f"{o} {i}" for o, i in written}
    assert all(row[1] == row[0].split()[0] for row in rows)
    assert report.rows_read == len(written)
    assert not report.skipped
    for (outward, inward), cell in zip(written, cells, strict=True):
        assert _full_postcode(cell) == f"{outward} {inward}"


@FEWER
@given(cells=st.lists(ANY_TEXT, max_size=8))
@example(cells=["١٢٣٤٥", "ÉÉÉ ÉÉ", "lu1 2ab", "12345"])
def test_the_postcode_directory_loader_skips_what_is_not_a_postcode(cells):
    report = LoadReport("ONS postcode directory", "test.csv")

    table = _PostcodeTable(io.StringIO(_directory(cells), newline=""), batch_size=3)
    rows = [row for batch in table.batches(report) for row in batch]

    for postcode, district, *_ in rows:
        # The model's columns hold them; letters and digits only (not "١٢ ٣٤٥").
        assert re.fullmatch("[A-Z0-9]{2,4} [A-Z0-9]{3}", postcode), postcode
        assert postcode.startswith(f"{district} ")
    assert report.rows_read - sum(report.skipped.values()) >= len(rows)
    for cell in cells:
        assert _full_postcode(cell) in ("", parse_postcode(cell))


# --------------------------------------------------------- whole files, no database

CELLS = (
    ANY_TEXT
    | PENNIES.map(_grouped)
    | DAYS.map(lambda d: f"{d:%d/%m/%Y}")
    | st.sampled_from(
        ["Payment Date", "Amount", "Supplier Name", "Net Amount", "Total", "", " "]
    )
)


@st.composite
def csv_files(draw) -> bytes:
    """A small CSV-like file: rows of odd and ordinary cells, in any encoding."""
    rows = draw(st.lists(st.lists(CELLS, max_size=6), max_size=12))
    if draw(st.booleans()):
        rows.insert(0, ["Payment Date", "Amount", "Supplier Name"])
    buffer = io.StringIO(newline="")
    ending = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    csv.writer(buffer, lineterminator=ending).writerows(rows)
    text = buffer.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):  # cut short anywhere, even inside a UTF-16 character
        data = data[: draw(st.integers(min_value=0, max_value=len(data)))]
    return data


@FEWER
@given(data=csv_files() | st.binary(max_size=600))
@example(data=b"")
@example(data=b"PK\x03\x04" + b"\x00" * 40)
@example(data=b"Payment Date,Amount,Supplier\r\n0001-01-01T00:00+01:00,1.00,Acme\r\n")
@example(data="Payment Date,Amount,Supplier\r\n".encode("utf-16")[:-1])
def test_any_file_is_read_into_reconciled_rows_or_refused_naming_it(data):
    """The whole reader (sniffing, decoding, header finding, column mapping, cell
    parsing) on any bytes: every row lands in one bucket, or the file is refused
    with a message naming it. Nothing else escapes."""
    try:
        parsed, lines = parse_file(data, "odd.csv", today=TODAY)
    except FileRefused as refusal:
        assert '"odd.csv"' in str(refusal), str(refusal)
        return
    assert parsed.rows_read == len(lines) + len(parsed.rejected) + len(parsed.skipped)
    assert parsed.line_count == len(lines)
    for problem in parsed.rejected:
        assert problem.message and problem.row >= 1


@PROPERTY
@given(rows=st.lists(st.lists(CELLS | OTHER_CELLS, max_size=6), max_size=20))
def test_guessing_columns_of_any_headerless_rows_never_fails(rows):
    mapping = guess_columns(rows)

    width = max((len(row) for row in rows), default=0)
    indexes = list(mapping.columns.values())
    assert len(set(indexes)) == len(indexes)
    assert all(0 <= i < width for i in indexes)
    assert mapping.notes
