"""Parsers for single cell values in councils' spend files.

Plain Python (no Django). The parsers raise only `CellError`, a `ValueError` whose
message is written for the person who uploaded the file, so an importer can report
"row 12, Amount: not an amount: "12,3x"" and carry on.

The forms accepted come from real published files (see data/real/SOURCES.md):
`£1,234.56`, `-£689.70`, `(978.00)`, `106,396.00-`, `1,200.00 CR`, mojibake pound
signs, binary-float noise, dates as `dd.mm.yyyy`, `05-Apr-17`, `3 Apr 2023`, Excel
serial numbers and ISO timestamps. Numeric dates are always read day first.
"""

from __future__ import annotations

import math
import numbers
import operator
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache
from itertools import compress, repeat
from zoneinfo import ZoneInfo

__all__ = [
    "REDACTED_LABEL",
    "CellError",
    "clean_text",
    "is_redacted",
    "normalise_name",
    "parse_amount",
    "parse_date",
    "parse_plain_amounts",
    "parse_postcode",
]

LONDON = ZoneInfo("Europe/London")
REDACTED_LABEL = "Redacted"


class CellError(ValueError):
    """A cell's value cannot be read.

    str(err) is a message for the user, e.g. 'not an amount: "12,3x"'.
    """


# --------------------------------------------------------------------------- text

# pandas' missing-value singletons, recognised by class name so that pandas stays
# an optional dependency.
_PANDAS_MISSING = frozenset({"NAType", "NaTType"})

_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_NO_ZERO_WIDTH = dict.fromkeys(map(ord, _ZERO_WIDTH))
_TEXT_TABLE = {
    **_NO_ZERO_WIDTH,
    ord("\u2020"): " ",  # "†": mis-encoded padding in Lambeth's files
    **dict.fromkeys([*range(0x20), 0x7F, *range(0x80, 0xA0)], " "),  # controls
}


def _is_missing(value: object) -> bool:
    """True for None, float NaN (pandas' empty cell), pd.NA and pd.NaT."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in _PANDAS_MISSING


def clean_text(value: object) -> str:
    """Tidy a text cell onto one line.

    None and NaN become "". Everything else is kept, including literal markers such
    as "NA" or "N/A": deciding what those mean is the caller's business. Whitespace
    of any kind (NBSP, tabs, CR/LF) collapses to single spaces; zero-width
    characters, control characters and the mis-encoded padding "†" are removed. A
    whole-number float (how spreadsheets hand over IDs) is written without ".0".
    """
    if type(value) is str:
        return _clean_str(value)
    if _is_missing(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _clean_str(str(value))


@lru_cache(maxsize=65536)
def _clean_str(text: str) -> str:
    # Cached: spend files repeat the same departments, dates and names endlessly.
    if text.isascii() and text.isprintable() and "  " not in text:
        return text.strip()
    return " ".join(text.translate(_TEXT_TABLE).split())


# Invisible characters a message names in words (QA: "£12\xa0500.00" meant
# nothing to an officer); others are shown as Python escapes.
_INVISIBLE_NAMES = {
    "\xa0": "[non-breaking space]",
    "\u202f": "[narrow non-breaking space]",
    "\u2009": "[thin space]",
    "\u200b": "[zero-width space]",
    "\t": "[tab]",
    "\n": "[line break]",
    "\r": "[line break]",
}


def _shown(value: object, limit: int = 60) -> str:
    """The value in double quotes for a message, with invisible characters named
    or escaped."""
    text = str(value).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    visible = "".join(
        c if c.isprintable() else _INVISIBLE_NAMES.get(c, repr(c)[1:-1]) for c in text
    )
    return f'"{visible}"'


# ------------------------------------------------------------------------- amounts

MAX_WHOLE_DIGITS = 12
_PENNY = Decimal("0.01")


def money(value: Decimal | None) -> Decimal:
    """A database sum as pounds and pence, none as £0.00 (SQLite adds decimals as
    floating point numbers, so its sums can be a hair off: 34498349.2200001)."""
    return (value or Decimal(0)).quantize(_PENNY, rounding=ROUND_HALF_UP)


_CONTEXT = Context(prec=40, rounding=ROUND_HALF_UP)

# Pound signs as they arrive: real "£" (also what byte 0xA3 decodes to), UTF-8 read
# as Windows-1252 ("Â£"), DOS code page 437/850 byte 0x9C read as Windows-1252
# ("œ") or Latin-1 ("\x9c"), and the replacement character from a failed decode.
_POUNDS = ("Â£", "£", "œ", "\x9c", "\ufffd")
_HEAD_MARKS = ("(", "+", "-", *_POUNDS)
_TAIL_MARKS = (")", "-", "CR", "DR", *_POUNDS)
_NEGATIVE_MARKS = frozenset({"(", "-", "CR"})
_SIGN_MARKS = frozenset({"(", "-", "+", "CR", "DR"})

_NUMBER = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+")
_SCIENTIFIC = re.compile(r"[0-9][0-9.]*E[+-]?[0-9]+", re.IGNORECASE)


def parse_amount(value: object) -> Decimal:
    """Read a money amount, rounded half-up to whole pennies.

    Text may carry a pound sign (also in mis-encoded forms), thousands separators,
    and one sign: a leading "-" or "+", a trailing "-", brackets, or a "CR"
    (credit, negative) or "DR" (debit) suffix. Floats are read through repr(), so
    4999.999999999999 is 5000.00 and binary noise never leaks into pennies.
    Scientific notation is accepted only from real floats, never from text.
    """
    if type(value) is str and _PLAIN_AMOUNT.fullmatch(value):
        # The common case, "1,234.56" or "-12.5", without the general machinery.
        return _to_pennies(Decimal(value.replace(",", "")), value)
    if _is_missing(value):
        raise CellError("amount is empty")
    if isinstance(value, bool):
        raise CellError(f"not an amount: {_shown(value)}")
    return _to_pennies(_to_decimal(value), value)


# "1.234": a point before three digits, which may be pounds and a tenth of a
# penny, read so (rounded to the penny), or continental thousands, £1,234. Kept
# out of the many-at-once reading, so the reader sees each and says so (QA).
_POINT_THOUSANDS = r"-?[1-9][0-9]{0,2}\.[0-9]{3}"


def point_before_three_digits(text: object) -> bool:
    """Whether an amount's text is like "1.234" (see _POINT_THOUSANDS)."""
    return (
        type(text) is str
        and re.fullmatch(r"\s*£?\s*" + _POINT_THOUSANDS + r"\s*", text) is not None
    )


_PLAIN_AMOUNT = re.compile(
    rf"(?!{_POINT_THOUSANDS}(?:\x1f|\Z))"
    r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
)


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, numbers.Integral):
        return Decimal(int(value))
    if isinstance(value, numbers.Real):
        return _float_to_decimal(float(value))
    if isinstance(value, str):
        return _text_to_decimal(value)
    raise CellError(f"not an amount: {_shown(value)}")


_ZERO = Decimal(0)
_PLAIN_AMOUNTS = re.compile(  # plain amounts separated by 0x1F
    f"(?:{_PLAIN_AMOUNT.pattern}\x1f)*{_PLAIN_AMOUNT.pattern}"
)


def parse_plain_amounts(cells: Sequence[object]) -> list[Decimal | None]:
    """`parse_amount` of many cells at once, for big files: the amount of each cell
    that is a plain amount ("1,234.56", "-12.5") and passes the checks, None for
    the others, which must go through `parse_amount` (to be read or refused)."""
    plain = _plain_amounts(cells)
    every = False not in plain
    texts = cells if every else list(compress(cells, plain))
    if not texts:
        return [None] * len(cells)
    numbers = list(map(Decimal, map(str.replace, texts, repeat(","), repeat(""))))
    pennies: list[Decimal | None] = list(
        map(_CONTEXT.quantize, numbers, repeat(_PENNY))
    )
    if (
        max(map(Decimal.adjusted, numbers)) >= MAX_WHOLE_DIGITS
        or max(map(Decimal.adjusted, pennies)) >= MAX_WHOLE_DIGITS  # type: ignore[arg-type]
    ):  # too big, or rounds up to too big: parse_amount says which
        pennies = [
            None
            if number.adjusted() >= MAX_WHOLE_DIGITS
            or pence.adjusted() >= MAX_WHOLE_DIGITS  # type: ignore[union-attr]
            else pence
            for number, pence in zip(numbers, pennies, strict=True)
        ]
    if _ZERO in pennies:  # no "-0.00"
        pennies = [
            abs(pence) if pence is not None and pence.is_zero() else pence
            for pence in pennies
        ]
    if not every:  # None where a cell is not plain
        for at in compress(range(len(plain)), map(operator.not_, plain)):
            pennies.insert(at, None)
    return pennies


def _plain_amounts(cells: Sequence[object]) -> list[bool]:
    """Which cells are plain amounts (fully match _PLAIN_AMOUNT)."""
    try:  # cells of digits, commas, dots and minus signs, checked all at once
        others = list(map(str.strip, cells, repeat("0123456789,.-")))  # type: ignore[arg-type]
    except TypeError:  # not all text
        return [
            type(cell) is str and _PLAIN_AMOUNT.fullmatch(cell) is not None
            for cell in cells
        ]
    plain = list(map(operator.and_, map(operator.not_, others), map(bool, cells)))
    joined = "\x1f".join(compress(cells, plain))  # type: ignore[arg-type]
    if not joined or _PLAIN_AMOUNTS.fullmatch(joined) is None:
        plain = [
            flag and _PLAIN_AMOUNT.fullmatch(cell) is not None  # type: ignore[arg-type]
            for flag, cell in zip(plain, cells, strict=True)
        ]
    return plain


def _float_to_decimal(number: float) -> Decimal:
    if math.isnan(number):
        raise CellError("amount is empty")
    if math.isinf(number):
        raise CellError(f"not an amount: {_shown(number)}")
    return Decimal(repr(number))


def _to_pennies(number: Decimal, value: object) -> Decimal:
    if not number.is_finite():
        raise CellError(f"not an amount: {_shown(value)}")
    _check_size(number, value)
    pennies = number.quantize(_PENNY, context=_CONTEXT)
    _check_size(pennies, value)
    return abs(pennies) if pennies.is_zero() else pennies  # no "-0.00"


def _check_size(number: Decimal, value: object) -> None:
    if not number.is_zero() and number.adjusted() >= MAX_WHOLE_DIGITS:
        raise CellError(
            f"not an amount: {_shown(value)} "
            f"(more than {MAX_WHOLE_DIGITS} digits before the decimal point)"
        )


def _text_to_decimal(raw: str) -> Decimal:
    text = " ".join(raw.translate(_NO_ZERO_WIDTH).split())
    if not text:
        raise CellError("amount is empty")
    head, core, tail = _peel_marks(text)
    negative = _read_sign(head, tail, raw)
    if not _NUMBER.fullmatch(core):
        raise CellError(f"not an amount: {_shown(raw)}{_why_not_number(core)}")
    number = Decimal(core.replace(",", ""))
    return -number if negative else number


def _peel_marks(text: str) -> tuple[list[str], str, list[str]]:
    """Split text into leading marks, the number between them, and trailing marks."""
    head: list[str] = []
    while mark := next((m for m in _HEAD_MARKS if text.startswith(m)), None):
        head.append(mark)
        text = text[len(mark) :].lstrip()
    tail: list[str] = []
    while mark := next((m for m in _TAIL_MARKS if _ends_with(text, m)), None):
        tail.append(mark)
        text = text[: -len(mark)].rstrip()
    return head, text, tail


def _ends_with(text: str, mark: str) -> bool:
    return text[-len(mark) :].casefold() == mark.casefold()


def _read_sign(head: list[str], tail: list[str], raw: str) -> bool:
    """True if the marks make the amount negative; reject contradictory marks."""
    if sum(m in _POUNDS for m in head + tail) > 1:
        raise CellError(f"not an amount: {_shown(raw)} (more than one £ sign)")
    if head.count("(") != tail.count(")") or head.count("(") > 1:
        raise CellError(f"not an amount: {_shown(raw)} (unbalanced brackets)")
    signs = [m for m in head + tail if m in _SIGN_MARKS]
    if len(signs) > 1:
        raise CellError(f"not an amount: {_shown(raw)} (more than one sign)")
    return bool(signs) and signs[0] in _NEGATIVE_MARKS


# 1234,56 or 1.234,56: pounds and pence written the continental way.
_DECIMAL_COMMA = re.compile(r"\d+,\d{2}|\d{1,3}(?:\.\d{3})+,\d{2}")


def _why_not_number(core: str) -> str:
    """A parenthesised reason for a message, or "" when there is nothing to add."""
    if _SCIENTIFIC.fullmatch(core):
        return " (scientific notation is not accepted; write the amount in full)"
    if core.count(".") > 1:
        return " (more than one decimal point)"
    if _DECIMAL_COMMA.fullmatch(core):
        whole, pence = core.replace(".", "").rsplit(",", 1)
        return (
            f" (a decimal comma? LocalSpend reads a point: write it as {whole}.{pence}"
            ", and export the file with UK number settings)"
        )
    if "," in core and _NUMBER.fullmatch(core.replace(",", "")):
        return " (misplaced thousands separator)"
    return ""


# --------------------------------------------------------------------------- dates

_MONTH_NAMES = (
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
)
_MONTHS = {
    **{name.casefold(): n for n, name in enumerate(_MONTH_NAMES, start=1)},
    **{name[:3].casefold(): n for n, name in enumerate(_MONTH_NAMES, start=1)},
    "sept": 9,
}

_EXCEL_EPOCH = date(1899, 12, 30)  # serial 61 onwards: 1900-03-01 onwards
_FIRST_SERIAL_DATE = date(1990, 1, 1)

_TIME = (
    r"(?:[ T]+(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.[0-9]+)?)?"
    r" ?(?P<tz>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)
_YEAR = r"(?P<year>[0-9]{4}|[0-9]{2})"
_ORDINAL = r"(?:st|nd|rd|th)?"
_DATE_FORMS = tuple(
    re.compile(pattern + _TIME, re.ASCII | re.IGNORECASE)
    for pattern in (
        # 2018-01-02, 2018-01-02 00:00:00, 2025-10-09T00:00:00+01:00, 2018/01/02
        r"(?P<year>[0-9]{4})(?P<sep>[-/.])(?P<month>[0-9]{1,2})(?P=sep)(?P<day>[0-9]{1,2})",
        # 12/01/2023, 1/2/23, 12.01.2023, 12-01-2023: always day first
        r"(?P<day>[0-9]{1,2})(?P<sep>[-/.])(?P<month>[0-9]{1,2})(?P=sep)" + _YEAR,
        # 05-Apr-17, 05-APR-2017, 3 Apr 2023, 15 June 2023, 5th Sept. 2023
        r"(?P<day>[0-9]{1,2})"
        + _ORDINAL
        + r"[ ./-]*(?P<month>[a-z]+)\.?[ ./,-]*"
        + _YEAR,
        # April 5, 2017
        r"(?P<month>[a-z]+)\.? (?P<day>[0-9]{1,2})"
        + _ORDINAL
        + r",? (?P<year>[0-9]{4})",
        # 20180102
        r"(?P<year>[0-9]{4})(?P<month>[0-9]{2})(?P<day>[0-9]{2})",
    )
)
_SERIAL = re.compile(r"[0-9]{1,7}(?:\.[0-9]+)?")


def parse_date(value: object, *, today: date | None = None) -> date:
    """Read a calendar date.

    Accepts dates and datetimes (an aware datetime gives its date in London), Excel
    serial numbers in the 1900 date system (as numbers or digit strings, only
    between 1990-01-01 and two years after `today`), and text. Numeric text dates
    are day first, always: 12/01/2023 is 12 January. A two-digit year means 20yy
    unless that date is more than a year after `today`, when it means 19yy. A time
    is ignored unless it carries a UTC offset, when the London date is taken.
    """
    today = today or date.today()
    if _is_missing(value):
        raise CellError("date is empty")
    if isinstance(value, datetime):
        return _london_date(value, value) if _is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise CellError(f"not a date: {_shown(value)}")
    if isinstance(value, numbers.Real):
        return _from_serial(float(value), value, today)
    return _cached_text_date(str(value), today)


@lru_cache(maxsize=8192)
def _cached_text_date(text: str, today: date) -> date:
    # A month's file holds a few dozen distinct dates in thousands of rows.
    return _text_to_date(text, today)


def _is_aware(moment: datetime) -> bool:
    return moment.tzinfo is not None and moment.utcoffset() is not None


def _from_serial(serial: float, value: object, today: date) -> date:
    if math.isnan(serial):
        raise CellError("date is empty")
    last = _add_years(today, 2)
    lowest = (_FIRST_SERIAL_DATE - _EXCEL_EPOCH).days
    highest = (last - _EXCEL_EPOCH).days
    if not lowest <= serial < highest + 1:
        raise CellError(
            f"not a date: {_shown(value)} (as an Excel date number it must lie "
            f"between {lowest} ({_FIRST_SERIAL_DATE:%d/%m/%Y}) "
            f"and {highest} ({last:%d/%m/%Y}))"
        )
    return _EXCEL_EPOCH + timedelta(days=math.floor(serial))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _text_to_date(raw: str, today: date) -> date:
    text = clean_text(raw)
    if not text:
        raise CellError("date is empty")
    if _SERIAL.fullmatch(text):
        return _from_serial(float(text), raw, today)
    for form in _DATE_FORMS:
        if match := form.fullmatch(text):
            return _from_match(match, raw, today)
    raise CellError(f"not a date: {_shown(raw)}")


def _from_match(match: re.Match[str], raw: str, today: date) -> date:
    day, month = int(match["day"]), _month_number(match["month"], raw)
    year = _full_year(match["year"], month, day, today)
    return _at_time(_make_date(year, month, day, raw), match, raw)


def _month_number(text: str, raw: str) -> int:
    if text.isdigit():
        return int(text)
    if (number := _MONTHS.get(text.casefold())) is None:
        raise CellError(f'not a date: {_shown(raw)} ("{text}" is not a month)')
    return number


def _full_year(text: str, month: int, day: int, today: date) -> int:
    """Expand a two-digit year: 20yy unless over a year after today, then 19yy."""
    if len(text) == 4:
        return int(text)
    limit = _add_years(today, 1)
    year = 2000 + int(text)
    return (
        year - 100
        if (year, month, day) > (limit.year, limit.month, limit.day)
        else year
    )


def _make_date(year: int, month: int, day: int, raw: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(
            f"not a valid date: {_shown(raw)} ({_why_not_date(year, month, day)})"
        ) from None


def _why_not_date(year: int, month: int, day: int) -> str:
    if not 1 <= month <= 12:
        return f"there is no month {month}"
    if day < 1:
        return f"there is no day {day}"
    if (month, day) == (2, 29):
        return f"{year} is not a leap year"
    if not 1 <= year <= 9999:
        return f"year {year} is out of range"
    return f"{day} {_MONTH_NAMES[month - 1]} does not exist"


def _at_time(day: date, match: re.Match[str], raw: str) -> date:
    """The date itself, or the London date if the time carries a UTC offset."""
    parts = match.groupdict()
    if parts.get("hour") is None:
        return day
    hour, minute, second = (int(parts[k] or 0) for k in ("hour", "minute", "second"))
    if hour > 23 or minute > 59 or second > 59:
        raise CellError(f"not a valid date: {_shown(raw)} (the time is impossible)")
    if not parts.get("tz"):
        return day
    moment = datetime(day.year, day.month, day.day, hour, minute, second)
    return _london_date(moment.replace(tzinfo=_offset(parts["tz"], raw)), raw)


def _london_date(moment: datetime, value: object) -> date:
    """The date in London of an aware moment; at the ends of the calendar (year 1,
    year 9999) the shift would leave it, which datetime raises as OverflowError."""
    try:
        return moment.astimezone(LONDON).date()
    except OverflowError:
        raise CellError(
            f"not a valid date: {_shown(value)} (year {moment.year} is out of range)"
        ) from None


def _offset(text: str, raw: str) -> tzinfo:
    if text.upper() == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise CellError(
            f"not a valid date: {_shown(raw)} (the UTC offset is impossible)"
        )
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if text.startswith("-") else offset)


# ------------------------------------------------------------------------ suppliers

_COMPANY_FORMS = frozenset(
    {"ltd", "limited", "llp", "lp", "plc", "cic", "cio", "inc", "llc", "co"}
)

# Patterns are matched against the whole normalised name (see normalise_name).
# "Redacted" and "withheld" win even when followed by a name or a company form:
# "REDACTED PERSONAL DATA Beresford Travel" shows the publisher meant to withhold
# the payee, and no trading name starts with either word ("Redactive" does not
# match, as \b requires the whole word).
_ALWAYS_REDACTED = tuple(
    re.compile(p)
    for p in (
        r"redacted\b.*",
        r"(name )?withheld\b.*",
    )
)
# These words also begin or make up real businesses' names, so they count only
# when the name does not end in a company form (Ltd, Limited, LLP, PLC, CIC, ...):
# "Personal Data" is redacted, "Personal Data Solutions Ltd" is a business.
# "Third party", "individual", "sensitive" and "confidential" count only alone,
# so "Third Party Solutions" and "Confidential Shredding" are businesses anyway.
_REDACTED_UNLESS_COMPANY = tuple(
    re.compile(p)
    for p in (
        r"personal (data|information|details)\b.*",
        r"third party( supplier| payments?)?",
        r"(private )?individuals?",
        r"sensitive",
        r"confidential",
        r"not disclosed|undisclosed",
        r"(data protection|dpa|gdpr)( act)?( [0-9]{4})?",
    )
)


@lru_cache(maxsize=65536)
def is_redacted(name: str) -> bool:
    """True if a payee name is a redaction label rather than a real payee.

    A name made only of masking characters (Craven's "*****") is redacted too.
    """
    words = normalise_name(name)
    if clean_text(name) and not words:
        return True
    if any(p.fullmatch(words) for p in _ALWAYS_REDACTED):
        return True
    if words.rpartition(" ")[2] in _COMPANY_FORMS:
        return False
    return any(p.fullmatch(words) for p in _REDACTED_UNLESS_COMPANY)


_DELETED_MARKS = {ord(c): None for c in "'’‘`´."}  # "Neville´s", "A.B.C. Ltd."
_NON_WORD = re.compile(r"[\W_]+")
_FORMS_AFTER_COMPANY = _COMPANY_FORMS - {"co"}  # "Company Co" stays as it is
_PUBLIC_LIMITED = re.compile(r"\bpublic ltd (company|co)\b")


@lru_cache(maxsize=65536)
def normalise_name(name: str) -> str:
    """A supplier name reduced for matching; idempotent.

    Case-folded and accent-free; apostrophes and dots deleted, "&" read as "and",
    other punctuation and whitespace collapsed to single spaces; leading "the"
    dropped; "limited" → "ltd", "public limited company" → "plc", and "company" →
    "co" when it ends the name or only company forms follow it.
    """
    text = _fold(clean_text(name).translate(_DELETED_MARKS)).replace("&", " and ")
    words = _NON_WORD.sub(" ", text).split()
    while len(words) > 1 and words[0] == "the":
        words = words[1:]
    text = " ".join("ltd" if w == "limited" else w for w in words)
    return " ".join(_shorten_company(_PUBLIC_LIMITED.sub("plc", text).split()))


def _fold(text: str) -> str:
    """Case-fold and strip accents (NFKD twice: case-folding can undo it)."""
    folded = unicodedata.normalize(
        "NFKD", unicodedata.normalize("NFKD", text).casefold()
    )
    return "".join(c for c in folded if not unicodedata.combining(c))


def _shorten_company(words: list[str]) -> list[str]:
    """Write "company" as "co" when it ends the name or only forms follow it."""
    end = len(words)
    while end > 0 and words[end - 1] in _FORMS_AFTER_COMPANY:
        end -= 1
    if end > 0 and words[end - 1] == "company":
        return [*words[: end - 1], "co", *words[end:]]
    return words


# ------------------------------------------------------------------------ postcodes

_AREA = "[A-PR-UWYZ]"  # not Q, V, X
_OUTWARD = (
    f"{_AREA}[0-9]{{1,2}}|{_AREA}[A-HK-Y][0-9]{{1,2}}"  # A9, A99, AA9, AA99
    f"|{_AREA}[0-9][A-HJKPSTUW]|{_AREA}[A-HK-Y][0-9][ABEHMNPRVWXY]"  # A9A, AA9A
)
_INWARD = "[0-9][ABD-HJLNP-UW-Z]{2}"  # no C, I, K, M, O, V
_FULL_POSTCODE = re.compile(f"(?P<outward>{_OUTWARD}|GIR)(?P<inward>{_INWARD})")
_OUTWARD_ONLY = re.compile(_OUTWARD)


def parse_whole_number(text: str, *, below: int = 2**31) -> int | None:
    """A whole number sent in a form or an address ("12") that is less than
    `below` (by default, any a database id can be), else None: not "²", "-1",
    "1.5" or a number too big for the database."""
    if text.isascii() and text.isdecimal() and int(text) < below:
        return int(text)
    return None


# ------------------------------------------------------------ registered numbers


_PREFIXED_NUMBER = re.compile(r"([A-Z]{2})([0-9]{1,6})")

# The two characters Companies House puts before six digits for what is not an
# English or Welsh company (those are 8 digits): Scotland's (SC), Northern
# Ireland's (NI, and R0 before partition), limited liability and limited
# partnerships (OC, SO, NC; LP, SL, NL), overseas companies and UK
# establishments (FC, SF, NF, BR), overseas entities (OE), assurance companies
# (AC, SA, NA), unregistered companies (ZC, SZ, NZ), royal charter bodies (RC,
# SR, NR), EEIGs (GE, GS, GN), European companies (SE, ES, NE), investment
# companies with variable capital (IC, SI, NV), industrial and provident and
# registered societies (IP, SP, NP, NO, RS), charitable incorporated
# organisations (CE, CS) and Scottish qualifying partnerships (SG).
COMPANY_NUMBER_PREFIXES = frozenset(
    "SC NI R0 OC SO NC LP SL NL FC SF NF BR OE AC SA NA ZC SZ NZ RC SR NR GE GS GN "
    "SE ES NE IC SI NV IP SP NP NO RS CE CS SG".split()
)
# Societies' numbers may end in R instead of a sixth digit ("IP28012R").
_SOCIETY_PREFIXES = frozenset({"IP", "SP", "NP", "NO", "RS"})
# 8 digits; or a prefix and 6 digits, or 5 and R.
_COMPANY_NUMBER = re.compile(
    r"[0-9]{8}|(?P<prefix>[A-Z][A-Z0-9])[0-9]{5}(?P<last>[0-9R])"
)


def tidy_company_number(value: object) -> str:
    """A Companies House number as the register keeps it: capitals, no spaces,
    and 8 characters when it is all digits or two letters and digits ("1234567"
    is "01234567", "SC12345" is "SC012345"); "" for nothing but zeros (a
    placeholder, never a company's number). As the registry loader reads one
    (`socialvalue.loaders._company_number`), so a typed number finds a loaded
    one. Checks nothing else: `is_company_number` says whether it is written as
    a Companies House number is, and each caller says in its own words what is
    wrong."""
    number = "".join(clean_text(value).upper().split())
    if not number.strip("0"):
        return ""
    if number.isdigit():
        return number.zfill(8)
    if match := _PREFIXED_NUMBER.fullmatch(number):
        return match[1] + match[2].zfill(6)
    return number


def is_company_number(number: str) -> bool:
    """Whether `number`, as `tidy_company_number` gives it, is written as a
    Companies House number is: 8 digits, or one of the register's two-character
    prefixes (SC, NI, OC, R0, ...) and 6 digits (QA: "ABC", "12AB34" and
    "XX123456" were taken). Whether Companies House has issued it is not
    known here."""
    match = _COMPANY_NUMBER.fullmatch(number)
    if match is None:
        return False
    prefix = match["prefix"]
    if prefix is None:
        return True
    if match["last"] == "R" and prefix not in _SOCIETY_PREFIXES:
        return False
    return prefix in COMPANY_NUMBER_PREFIXES


# ---------------------------------------------------------------------- VAT numbers

# A UK VAT number: GB and 9 or 12 digits, or GBGD/GBHA and 3 (government, health);
# another country's: its two letters, then 2 to 13 letters and digits, at least
# one a digit (so "NONE" or "EXEMPT" is not read as one).
VAT_NUMBER = re.compile(
    r"GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})|(?!GB)[A-Z]{2}(?=[0-9A-Z]*[0-9])[0-9A-Z]{2,13}"
)
_VAT_SEPARATORS = re.compile(r"[\s.\-\u2010-\u2015\u2212]+")


def tidy_vat_number(value: object) -> str:
    """A VAT number as the register keeps it: capitals, no spaces, dots or
    dashes, and GB before 9 or 12 bare digits ("123 4567 89" is
    "GB123456789"). Checks nothing: see `vat_number_or_blank`."""
    text = _VAT_SEPARATORS.sub("", clean_text(value).upper())
    if text.isascii() and text.isdecimal() and len(text) in (9, 12):
        return f"GB{text}"
    return text


def vat_number_or_blank(value: object) -> str:
    """The tidied VAT number when it is one, else "": ledgers write "N/A",
    "0", "NONE" or "000000000" for a payee with none, and those must not make
    two payees the same supplier."""
    text = tidy_vat_number(value)
    if VAT_NUMBER.fullmatch(text) and text.strip("GB0"):
        return text
    return ""


def parse_postcode(value: str) -> str | None:
    """A UK postcode as "LU1 2AB", or its outward code alone ("LU1"), else None.

    Case and spacing are forgiven ("lu12ab"); anything that is not a postcode
    (including BFPO numbers, overseas territories' codes and addresses) is None.
    """
    text = "".join(clean_text(value).upper().split()).strip(".,;")
    if text.startswith("BFPO"):
        return None
    if match := _FULL_POSTCODE.fullmatch(text):
        return f"{match['outward']} {match['inward']}"
    return text if _OUTWARD_ONLY.fullmatch(text) else None
