"""Load reference data: Companies House, the Charity Commission register, the Living
Wage Foundation's accredited employers and the ONS postcode directory.

Each loader is a plain function that streams its file (a path, or an open binary
file such as an upload; a ZIP holding the CSV is opened too), refuses a file that is
not in its format with a `LoaderRefused` naming the missing columns, is idempotent
(loading the same file twice changes nothing the second time) and returns a
`LoadReport` of what it read, matched, changed and skipped. The management commands
`load_companies_house`, `load_charities`, `load_living_wage` and `load_postcodes`
and the admin's "Load reference data" page go through
`socialvalue.reference.load_and_classify`, which then classifies again the
suppliers the load affected. Column headings are matched ignoring case and
surrounding spaces; files may be UTF-8 (with or without a BOM) or Windows-1252,
comma- or tab-separated.
Small samples of each format are in fixtures/reference/.

Formats
-------
**Companies House "Free Company Data Product"** (BasicCompanyDataAsOneFile-*.csv, or
the ZIP it comes in): one row per live company, headings as published, some with a
leading space (" CompanyNumber", " RegAddress.AddressLine2"):
CompanyName, CompanyNumber, RegAddress.CareOf, RegAddress.POBox,
RegAddress.AddressLine1, RegAddress.AddressLine2, RegAddress.PostTown,
RegAddress.County, RegAddress.Country, RegAddress.PostCode, CompanyCategory
("Private Limited Company", "Community Interest Company", "PRI/LTD BY GUAR/NSC
(Private, limited by guarantee, no share capital)", ...), CompanyStatus ("Active",
"Active - Proposal to Strike off", "Liquidation", ...), CountryOfOrigin,
DissolutionDate, IncorporationDate, Accounts.AccountRefDay, Accounts.AccountRefMonth,
Accounts.NextDueDate, Accounts.LastMadeUpDate, Accounts.AccountCategory ("MICRO
ENTITY", "SMALL", "TOTAL EXEMPTION FULL", "FULL", "GROUP", "DORMANT", ...),
Returns.*, Mortgages.*, SICCode.SicText_1 ... SICCode.SicText_4 ("62020 -
Information technology consultancy activities", or "None Supplied"),
LimitedPartnerships.*, URI, PreviousName_1.CONDATE, PreviousName_1.CompanyName, ...,
ConfStmtNextDueDate, ConfStmtLastMadeUpDate. Required here: CompanyName,
CompanyNumber, RegAddress.PostCode, CompanyCategory, CompanyStatus,
Accounts.AccountCategory, SICCode.SicText_1.

**Charity Commission register extract** (publicextract.charity.txt from
publicextract.charity.zip: tab-separated with a heading row; a CSV saved from it is
read too): date_of_extract, organisation_number, registered_charity_number,
linked_charity_number (0 for the main charity, 1, 2, ... for its linked
charities), charity_name, charity_type, charity_registration_status ("Registered"
or "Removed"), date_of_registration, date_of_removal, charity_reporting_status,
latest_acc_fin_period_start_date, latest_acc_fin_period_end_date, latest_income,
latest_expenditure, charity_contact_address1 ... charity_contact_address5,
charity_contact_postcode, charity_contact_phone, charity_contact_email,
charity_contact_web, charity_company_registration_number, charity_insolvent,
charity_in_administration, charity_previously_excepted, charity_is_cdf_or_cuf,
charity_is_cio, cio_is_dissolved, date_cio_dissolution_notice, charity_activities,
charity_gift_aid, charity_has_land. Required here: registered_charity_number,
charity_name, charity_registration_status, charity_contact_postcode,
charity_company_registration_number, latest_income. Only the Charity Commission for
England and Wales (GB-CHC) is read; linked charities are skipped.

**Living Wage Foundation accredited employers**: the Foundation publishes a
searchable directory, not a file, so councils keep a CSV of it: one row per
employer with an `Employer` column (or "Employer name", "Name", "Organisation",
"Company") and optionally `Location` (or "Town", "City", "Area", "Region") and
`Sector` (read but not kept). The date the list was taken is given when loading.

**ONS Postcode Directory (ONSPD) or National Statistics Postcode Lookup (NSPL)**:
one row per postcode, live and terminated, about 2.7 million rows and 1 GB for the
UK. Read here: `pcds` (the postcode written "LU1 2AB"; else `pcd`, `pcd2`, `pcd7` or
`pcd8`), the local authority's GSS code (`oslaua` in ONSPD, `laua` in NSPL, or
`lad25cd`, `lad24cd`, ... in the releases that name columns by year; pseudo-codes
such as E99999999, L99999999 (Channel Islands) and M99999999 (Isle of Man) are kept
as given), `lat` and `long` (99.999999, 0.000000 when there is no grid reference),
and `doterm` (the month a terminated postcode stopped being used, "yyyymm"; empty
when live).

Matching (Companies House and charities)
-----------------------------------------
1. By number. Companies House: the supplier's company number. Charities: the
   supplier's charity number on the GB-CHC register, then the charity's company
   number (which fills in the charity number).
2. By exact normalised name (`spend.values.normalise_name`) among suppliers that have
   no number of that kind yet, when exactly one supplier and one registry entry share
   the name; the number is filled in.
3. Otherwise, near matches: suppliers still without a number whose name scores 90 or
   more against the registry name on rapidfuzz's token-set ratio, compared without
   company-form words (Ltd, PLC, CIC, ...) and only for names of two words or more,
   as the spend importer does. They are reported for an officer to confirm, never
   applied, and no supplier is ever created from a registry. To keep a 5-million-row
   file fast, a registry name is compared only with suppliers that share a
   distinctive word or two words with it.

A matched supplier's registry-owned facts (company category, company status,
accounts category, SIC codes) are set from Companies House. Everything an officer
may have entered (postcode, address, company or charity number, turnover) is only
ever filled in when blank; a different value held is kept and reported. Changes are
written with history (django-simple-history), all at the end in one transaction.
"""

from __future__ import annotations

import codecs
import contextvars
import csv
import io
import os
import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import combinations
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, transaction
from django.utils import timezone
from rapidfuzz import fuzz, process
from simple_history.utils import bulk_update_with_history

from procure.models import CharityRegister, Supplier
from socialvalue.models import LivingWageEmployer, LivingWageSnapshot, Postcode
from spend.values import (
    clean_text,
    normalise_name,
    parse_postcode,
    tidy_company_number,
)

__all__ = [
    "LoadReport",
    "LoaderRefused",
    "NearMatch",
    "load_charities",
    "load_companies_house",
    "load_living_wage",
    "load_postcodes",
]

Source = str | os.PathLike | IO[bytes]

# Whoever runs a load may ask to hear the rows read so far, every ROWS_READ_EVERY
# rows of any loader's file (the background task keeps its heartbeat with it).
ROWS_READ_EVERY = 50_000
_ROWS_READ: contextvars.ContextVar[Callable[[int], None] | None] = (
    contextvars.ContextVar("reference_rows_read", default=None)
)


@contextmanager
def reporting_rows_read(progress: Callable[[int], None] | None) -> Iterator[None]:
    """Call `progress(rows read)` every ROWS_READ_EVERY rows of the loads run
    inside this block."""
    token = _ROWS_READ.set(progress)
    try:
        yield
    finally:
        _ROWS_READ.reset(token)


FUZZY_THRESHOLD = 90  # as spend.importer
_FUZZY_IGNORED = frozenset({"ltd", "plc", "llp", "co", "cic", "uk", "the", "and"})
COMMON = 50  # a word or pair of words more suppliers share picks no candidates
POSTCODE_BATCH = 10_000
UPDATE_BATCH = 500
SHOWN = 10  # near matches and notes listed in a command's report


class LoaderRefused(Exception):
    """The file cannot be loaded; str(err) says why, for the person who chose it."""


@dataclass(frozen=True)
class NearMatch:
    """A supplier whose name is close to a registry entry's: for an officer."""

    supplier_id: int
    supplier_name: str
    registry_name: str
    reference: str  # "company 01234567, LU2 7AB"
    score: int

    def __str__(self) -> str:
        return (
            f'"{self.supplier_name}" (supplier {self.supplier_id}) may be '
            f'"{self.registry_name}" ({self.reference}), similarity {self.score}'
        )


_LABELS = {
    "rows_read": "rows read",
    "matched_by_number": "matched by number",
    "matched_by_name": "matched by name",
    "matched_ignoring_form": "matched ignoring Ltd etc.",
    "updated": "suppliers updated",
    "unchanged": "suppliers unchanged",
    "near_matches": "near matches to confirm",
}
REGISTRY_COUNTS = (
    "rows_read",
    "matched_by_number",
    "matched_by_name",
    "updated",
    "unchanged",
    "near_matches",
)


@dataclass
class LoadReport:
    """What a loader read, matched, changed and skipped.

    `changes` (created + updated + removed) is 0 when a file is loaded again.
    """

    source: str
    file: str
    rows_read: int = 0
    matched_by_number: int = 0
    matched_by_name: int = 0
    matched_ignoring_form: int = 0  # Living Wage: "Acme Ltd" listed as "Acme"
    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    fields_changed: Counter = field(default_factory=Counter)
    near_matches: list[NearMatch] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    matched_names: list[str] = field(default_factory=list)
    dry_run: bool = False
    counts: tuple[str, ...] = REGISTRY_COUNTS  # what lines() shows, in order
    labels: dict[str, str] = field(default_factory=dict)
    # Suppliers whose facts the load changed (Companies House, charities): the
    # ones to classify again.
    supplier_ids: list[int] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return self.created + self.updated + self.removed

    def lines(self, shown: int = SHOWN) -> list[str]:
        """The report as printed by the commands."""
        out = [f"{self.source}: {self.file}" + (" (dry run)" if self.dry_run else "")]
        labels = _LABELS | self.labels
        for name in self.counts:
            value = getattr(self, name)
            count = len(value) if isinstance(value, list) else value
            out.append(f"  {labels.get(name, name):<28}{count:>12,}")
        out.append(f"  {'rows skipped':<28}{sum(self.skipped.values()):>12,}")
        out += [f"    {reason}: {n:,}" for reason, n in sorted(self.skipped.items())]
        if self.fields_changed:
            changed = ", ".join(
                f"{name} {n:,}" for name, n in sorted(self.fields_changed.items())
            )
            out.append(f"  fields changed: {changed}")
        if self.matched_names:
            out.append(f"{labels.get('matched_names', 'Matched by name')}:")
            out += [f"  {name}" for name in self.matched_names[:shown]]
            if len(self.matched_names) > shown:
                out.append(f"  ... and {len(self.matched_names) - shown:,} more")
        if self.near_matches:
            first = f" (the first {shown})" if len(self.near_matches) > shown else ""
            out.append(f"{len(self.near_matches):,} near matches to confirm{first}:")
            out += [f"  {match}" for match in self.near_matches[:shown]]
        if self.notes:
            out.append("Notes:")
            out += [f"  {note}" for note in self.notes[:shown]]
            if len(self.notes) > shown:
                out.append(f"  ... and {len(self.notes) - shown:,} more")
        return out

    def as_json(self, shown: int = 500) -> dict[str, Any]:
        """The report as plain JSON values, for keeping with a load made on the
        admin page: the counts with their labels, and up to `shown` names, near
        matches and notes (with their totals)."""
        labels = _LABELS | self.labels
        counts = []
        for name in self.counts:
            value = getattr(self, name)
            counts.append(
                [
                    labels.get(name, name),
                    len(value) if isinstance(value, list) else value,
                ]
            )
        return {
            "source": self.source,
            "file": Path(self.file).name,
            "dry_run": self.dry_run,
            "changes": self.changes,
            "counts": counts,
            "skipped": dict(sorted(self.skipped.items())),
            "fields_changed": dict(sorted(self.fields_changed.items())),
            "matched_label": labels.get("matched_names", "Matched by name"),
            "matched_names": self.matched_names[:shown],
            "matched_total": len(self.matched_names),
            "near_matches": [
                {
                    "supplier_id": m.supplier_id,
                    "supplier_name": m.supplier_name,
                    "registry_name": m.registry_name,
                    "reference": m.reference,
                    "score": m.score,
                }
                for m in self.near_matches[:shown]
            ],
            "near_total": len(self.near_matches),
            "notes": self.notes[:shown],
            "notes_total": len(self.notes),
        }

    def write_near_matches(self, path: str | os.PathLike) -> None:
        """All near matches as CSV, for an officer to work through."""
        with open(path, "w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(
                ["supplier_id", "supplier_name", "registry_name", "reference", "score"]
            )
            for m in self.near_matches:
                writer.writerow(
                    [
                        m.supplier_id,
                        m.supplier_name,
                        m.registry_name,
                        m.reference,
                        m.score,
                    ]
                )


# ============================================================================ files


@contextmanager
def _open_text(source: Source) -> Iterator[IO[str]]:
    """The file as text: a ZIP's largest CSV/TXT member, UTF-8 or Windows-1252."""
    with ExitStack() as stack:
        if isinstance(source, str | os.PathLike):
            try:
                binary: IO[bytes] = stack.enter_context(open(source, "rb"))
            except FileNotFoundError:
                raise LoaderRefused(f"There is no file {os.fspath(source)}.") from None
            except OSError as err:
                raise LoaderRefused(
                    f"{os.fspath(source)} cannot be opened: {err.strerror}."
                ) from None
        else:
            binary = source
        if binary.read(4) == b"PK\x03\x04":
            binary.seek(0)
            binary = stack.enter_context(_zip_member(binary))
        binary.seek(0)
        sample = binary.read(1 << 20)
        binary.seek(0)
        if not sample.strip():
            raise LoaderRefused("The file is empty.")
        if sample.lstrip()[:1] == b"<":
            raise LoaderRefused(
                "The file is a web page (HTML or XML), not a CSV file: it may be an "
                "error page saved in place of the download."
            )
        text = io.TextIOWrapper(
            binary, encoding=_encoding(sample), errors="replace", newline=""
        )
        stack.callback(text.detach)  # leave closing the binary file to its owner
        yield text


@contextmanager
def _zip_member(binary: IO[bytes]) -> Iterator[IO[bytes]]:
    try:
        archive = zipfile.ZipFile(binary)
    except zipfile.BadZipFile:
        raise LoaderRefused("The file looks like a ZIP but cannot be read.") from None
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir() and info.filename.lower().endswith((".csv", ".txt"))
    ]
    if not members:
        raise LoaderRefused("The ZIP file holds no CSV or text file.")
    with archive, archive.open(max(members, key=lambda i: i.file_size)) as member:
        yield member


def _encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _heading(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").split()).casefold()


Columns = dict[str, tuple[str, ...]]


class _Table:
    """A delimited file's rows, with the wanted columns found by their headings."""

    def __init__(
        self,
        text: IO[str],
        *,
        what: str,
        columns: Columns,
        required: list[str],
        patterns: dict[str, str] | None = None,
    ) -> None:
        first = text.readline()
        self.delimiter = "\t" if first.count("\t") > first.count(",") else ","
        header = next(csv.reader([first], delimiter=self.delimiter), [])
        positions: dict[str, int] = {}
        for index, heading in enumerate(header):
            positions.setdefault(_heading(heading), index)
        self.header = header
        self.positions = positions
        self.index: dict[str, int] = {}
        for key, names in columns.items():
            for name in names:
                if _heading(name) in positions:
                    self.index[key] = positions[_heading(name)]
                    break
        for key, pattern in (patterns or {}).items():
            matching = sorted(h for h in positions if re.fullmatch(pattern, h))
            if key not in self.index and matching:
                self.index[key] = positions[matching[-1]]  # the latest year's
        missing = [
            columns[key][0]
            + (f" (or {', '.join(columns[key][1:3])})" if len(columns[key]) > 1 else "")
            for key in required
            if key not in self.index
        ]
        if missing:
            raise LoaderRefused(_refusal(what, missing, header))
        csv.field_size_limit(1 << 24)
        self.rows = csv.reader(text, delimiter=self.delimiter)
        self.width = len(header)

    def cells(self, row: list[str]) -> dict[str, str]:
        """A row's wanted cells, tidied."""
        return {key: clean_text(row[i]) for key, i in self.index.items()}

    def records(self, report: LoadReport) -> Iterator[dict[str, str]]:
        """Each row's wanted cells, tidied; blank and short rows are skipped."""
        for row in self.raw(report):
            yield self.cells(row)

    def raw(self, report: LoadReport) -> Iterator[list[str]]:
        """Each row as read; blank and short rows are skipped."""
        short = f"fewer columns than the heading's {self.width}"
        tell = _ROWS_READ.get()
        for row in self.rows:
            if not row or not "".join(row).strip():
                continue
            report.rows_read += 1
            if tell is not None and report.rows_read % ROWS_READ_EVERY == 0:
                tell(report.rows_read)
            if len(row) < self.width:
                report.skipped[short] += 1
                continue
            yield row


def _refusal(what: str, missing: list[str], header: list[str]) -> str:
    found = [clean_text(h) for h in header if clean_text(h)]
    shown = ", ".join(found[:12]) + (", ..." if len(found) > 12 else "")
    columns = "column" if len(missing) == 1 else "columns"
    return (
        f"This is not {what}: the {columns} {', '.join(missing)} "
        f"{'is' if len(missing) == 1 else 'are'} missing. "
        f"The first line has: {shown or 'nothing'}."
    )


def _file_name(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return getattr(source, "name", None) or "uploaded file"


# ===================================================================== registries


def _company_number(value: str) -> str | None:
    """A Companies House number in its 8-character form, "" if blank, None if not
    a company number ("1234567" → "01234567", "SC12345" → "SC012345")."""
    text = "".join(value.upper().split())
    if not text or text.strip("0") == "":
        return ""
    if len(text) > 8 or not text.isalnum() or not text.isascii():
        return None
    full = tidy_company_number(text)  # as a number typed in a form is kept
    return full if len(full) == 8 else None


def _full_postcode(value: str) -> str:
    parsed = parse_postcode(value) or ""
    return parsed if " " in parsed else ""


def _squashed(postcode: str) -> str:
    return "".join(postcode.upper().split())


def _fuzzy_key(normalised: str) -> str:
    return " ".join(w for w in normalised.split() if w not in _FUZZY_IGNORED)


class _NearMatcher:
    """Near matches between registry names and suppliers, best per supplier.

    Candidates are the suppliers sharing with the name a word, or a pair of words,
    that at most COMMON suppliers have: token-set ratios of 90 and more nearly
    always share two words (or one distinctive word), and this keeps a
    5-million-row registry from being compared with the whole register. Names made
    only of common words ("Building Services") are not compared.
    """

    def __init__(self, suppliers: Iterable[tuple[int, str, str]]) -> None:
        self.names: dict[int, str] = {}
        self.by_key: dict[str, list[int]] = defaultdict(list)
        words: dict[str, set[str]] = defaultdict(set)
        pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
        for pk, name, normalised in suppliers:
            key = _fuzzy_key(normalised)
            tokens = sorted(set(key.split()))
            if len(key.split()) < 2:
                continue
            self.names[pk] = name
            self.by_key[key].append(pk)
            for token in tokens:
                words[token].add(key)
            for pair in combinations(tokens, 2):
                pairs[pair].add(key)
        self.vocabulary = frozenset(words)
        self.words = {w: tuple(k) for w, k in words.items() if len(k) <= COMMON}
        self.pairs = {p: tuple(k) for p, k in pairs.items() if len(k) <= COMMON}
        self.best: dict[int, NearMatch] = {}

    def offer(self, normalised: str, registry_name: str, reference: str) -> None:
        key = _fuzzy_key(normalised)
        words = key.split()
        if len(words) < 2:
            return
        known = sorted({w for w in words if w in self.vocabulary})
        if not known:
            return
        candidates: set[str] = set()
        for token in known:
            candidates.update(self.words.get(token, ()))
        for pair in combinations(known, 2):
            candidates.update(self.pairs.get(pair, ()))
        if not candidates:
            return
        found = process.extract(
            key,
            list(candidates),
            scorer=fuzz.token_set_ratio,
            score_cutoff=FUZZY_THRESHOLD,
            limit=None,
        )
        for candidate, score, _ in found:
            score = round(score)
            for pk in self.by_key[candidate]:
                held = self.best.get(pk)
                if held is None or score > held.score:
                    self.best[pk] = NearMatch(
                        pk, self.names[pk], registry_name, reference, score
                    )

    def results(self, exclude: Iterable[int] = ()) -> list[NearMatch]:
        dropped = set(exclude)
        found = [m for pk, m in self.best.items() if pk not in dropped]
        return sorted(found, key=lambda m: (-m.score, m.supplier_name, m.supplier_id))


@dataclass
class _Facts:
    """What a registry row says about the organisation, ready for the supplier."""

    number: str
    name: str
    owned: dict[str, Any] = field(default_factory=dict)  # registry-owned: set
    blanks: dict[str, Any] = field(default_factory=dict)  # officer's: fill if blank


def _apply(
    report: LoadReport,
    matched: dict[int, _Facts],
    *,
    how: str,
    user: Any,
    dry_run: bool,
) -> None:
    """Write the matched facts onto the suppliers, changed ones only, with history."""
    changed: list[Supplier] = []
    fields: set[str] = set()
    pks = list(matched)
    for start in range(0, len(pks), UPDATE_BATCH):
        chunk = pks[start : start + UPDATE_BATCH]
        for supplier in Supplier.objects.filter(pk__in=chunk):
            names = _update(report, supplier, matched[supplier.pk])
            if names:
                changed.append(supplier)
                fields.update(names)
                report.fields_changed.update(names)
    report.updated += len(changed)
    report.unchanged += len(matched) - len(changed)
    report.supplier_ids = sorted(supplier.pk for supplier in changed)
    if dry_run or not changed:
        return
    now = timezone.now()
    for supplier in changed:
        supplier.updated_at = now
    with transaction.atomic():
        bulk_update_with_history(
            changed,
            Supplier,
            sorted(fields | {"updated_at"}),
            batch_size=UPDATE_BATCH,
            default_user=user,
            default_change_reason=how,
        )


_NOTED = {"postcode": "postcode", "company_number": "company number"}


def _update(report: LoadReport, supplier: Supplier, facts: _Facts) -> list[str]:
    names = []
    for name, value in facts.owned.items():
        if getattr(supplier, name) != value:
            setattr(supplier, name, value)
            names.append(name)
    had_postcode = bool(supplier.postcode)
    for name, value in facts.blanks.items():
        if value in ("", None):
            continue
        if name == "address" and had_postcode:
            continue  # an address without its postcode would not be one place
        held = getattr(supplier, name)
        if held in ("", None):
            setattr(supplier, name, value)
            names.append(name)
        elif name in _NOTED and _squashed(str(held)) != _squashed(str(value)):
            report.notes.append(
                f'Kept the {_NOTED[name]} {held} recorded for "{supplier.name}" '
                f"(supplier {supplier.pk}); the register has {value}."
            )
    return names


def _merged_away() -> set[int]:
    """Suppliers an officer merged into another: left out of name matching."""
    try:
        Supplier._meta.get_field("merged_into")
    except FieldDoesNotExist:
        return set()
    return set(
        Supplier.objects.filter(merged_into__isnull=False).values_list("pk", flat=True)
    )


@dataclass
class _Register:
    """The supplier register's keys, read once before streaming a registry file."""

    by_number: dict[str, int]
    by_name: dict[str, list[int]]  # normalised name → suppliers without a number
    near: _NearMatcher
    names: dict[int, str]  # supplier → its name, for the report


def _name_matches(
    report: LoadReport,
    register: _Register,
    hits: dict[str, list[_Facts]],
    taken: set[str],
) -> dict[int, _Facts]:
    """Exact name matches where one supplier and one registry entry share a name."""
    matched: dict[int, _Facts] = {}
    for key, found in hits.items():
        pks = register.by_name[key]
        if len(found) > 1:
            report.skipped["name shared by several registry entries"] += len(found)
            continue
        if len(pks) > 1:
            report.skipped["name shared by several suppliers"] += 1
            report.notes.append(
                f'"{found[0].name}" ({found[0].number}) has the name of '
                f"{len(pks)} suppliers ({', '.join(map(str, pks))}): merge them first."
            )
            continue
        if found[0].number in taken:
            report.skipped["number already given to another supplier"] += 1
            continue
        taken.add(found[0].number)
        matched[pks[0]] = found[0]
    report.matched_by_name += len(matched)
    return matched


# --------------------------------------------------------------- Companies House

COMPANIES_HOUSE = "a Companies House basic company data file"
_CH_COLUMNS: Columns = {
    "name": ("CompanyName",),
    "number": ("CompanyNumber",),
    "address1": ("RegAddress.AddressLine1",),
    "address2": ("RegAddress.AddressLine2",),
    "town": ("RegAddress.PostTown",),
    "county": ("RegAddress.County",),
    "postcode": ("RegAddress.PostCode",),
    "category": ("CompanyCategory",),
    "status": ("CompanyStatus",),
    "accounts": ("Accounts.AccountCategory",),
    **{f"sic{n}": (f"SICCode.SicText_{n}",) for n in range(1, 5)},
}
_CH_REQUIRED = ["name", "number", "postcode", "category", "status", "accounts", "sic1"]
_SIC = re.compile(r"\s*([0-9]{4,5})\b")


def load_companies_house(
    source: Source, *, user: Any = None, dry_run: bool = False
) -> LoadReport:
    """Match Companies House's basic company data to the supplier register.

    By company number, then exact normalised name (filling the number in), then
    near matches reported for an officer. See the module docstring for the format
    and the rules for which facts are set and which only filled when blank.
    """
    report = LoadReport("Companies House", _file_name(source), dry_run=dry_run)
    suppliers = list(
        Supplier.objects.values_list("pk", "name", "normalised_name", "company_number")
    )
    retired = _merged_away()
    unnumbered = [
        (pk, n, key)
        for pk, n, key, number in suppliers
        if not number and pk not in retired
    ]
    register = _Register(
        by_number={number: pk for pk, _, _, number in suppliers if number},
        by_name=_names(unnumbered),
        near=_NearMatcher(unnumbered),
        names={pk: name for pk, name, _ in unnumbered},
    )
    by_number: dict[int, _Facts] = {}
    hits: dict[str, list[_Facts]] = defaultdict(list)
    with _open_text(source) as text:
        table = _Table(
            text, what=COMPANIES_HOUSE, columns=_CH_COLUMNS, required=_CH_REQUIRED
        )
        at_number, at_name, at_postcode = (
            table.index[k] for k in ("number", "name", "postcode")
        )
        for row in table.raw(report):
            # Most rows match nothing: read only what matching needs until one does.
            number = _company_number(row[at_number])
            if not number:
                reason = "no company number" if number == "" else "not a company number"
                report.skipped[reason] += 1
                continue
            if (pk := register.by_number.get(number)) is not None:
                by_number[pk] = _ch_facts(number, table.cells(row))
                continue
            name = clean_text(row[at_name])
            if not name:
                report.skipped["no company name"] += 1
                continue
            key = normalise_name(name)
            if key in register.by_name:
                if len(hits[key]) < 2:
                    hits[key].append(_ch_facts(number, table.cells(row)))
                continue
            postcode = clean_text(row[at_postcode]).upper()
            reference = f"company {number}" + (f", {postcode}" if postcode else "")
            register.near.offer(key, name, reference)
    report.matched_by_number = len(by_number)
    by_name = _name_matches(report, register, hits, set(register.by_number))
    for pk, facts in by_name.items():
        facts.blanks["company_number"] = facts.number
        report.matched_names.append(
            f'"{register.names[pk]}" (supplier {pk}) is "{facts.name}", '
            f"company {facts.number}"
        )
    report.near_matches = register.near.results(exclude=by_name)
    how = f"Companies House data ({Path(report.file).name})"
    _apply(report, by_number | by_name, how=how, user=user, dry_run=dry_run)
    return report


def _names(suppliers: Iterable[tuple[int, str, str]]) -> dict[str, list[int]]:
    names: dict[str, list[int]] = defaultdict(list)
    for pk, _, key in suppliers:
        names[key].append(pk)
    return dict(names)


def _ch_facts(number: str, row: dict[str, str]) -> _Facts:
    codes = []
    for n in range(1, 5):
        if match := _SIC.match(row.get(f"sic{n}", "")):
            codes.append(match[1])
    postcode = _full_postcode(row["postcode"])
    lines = [row.get(k, "") for k in ("address1", "address2", "town", "county")]
    return _Facts(
        number=number,
        name=row["name"],
        owned={
            "company_category": row["category"][:120],
            "company_status": row["status"][:40],
            "accounts_category": row["accounts"][:40],
            "sic_codes": ", ".join(codes)[:200],
        },
        blanks={
            "postcode": postcode,
            "address": ", ".join(x for x in [*lines, postcode] if x)
            if postcode
            else "",
        },
    )


# --------------------------------------------------------------------- charities

CHARITY_REGISTER = "a Charity Commission register extract (publicextract.charity)"
_CHARITY_COLUMNS: Columns = {
    "number": ("registered_charity_number",),
    "linked": ("linked_charity_number",),
    "name": ("charity_name",),
    "status": ("charity_registration_status",),
    "removed_on": ("date_of_removal",),
    "postcode": ("charity_contact_postcode",),
    "company": ("charity_company_registration_number",),
    "income": ("latest_income",),
    **{f"address{n}": (f"charity_contact_address{n}",) for n in range(1, 6)},
}
_CHARITY_REQUIRED = ["number", "name", "status", "postcode", "company", "income"]


def load_charities(
    source: Source, *, user: Any = None, dry_run: bool = False
) -> LoadReport:
    """Match the Charity Commission's register extract to the supplier register.

    By charity number (GB-CHC), then the charity's company number, then exact
    normalised name (filling the charity number in), then near matches reported
    for an officer. Postcode, address, company number and turnover (from the
    latest income) are only filled when blank.
    """
    report = LoadReport(
        "Charity Commission register", _file_name(source), dry_run=dry_run
    )
    suppliers = list(
        Supplier.objects.values_list(
            "pk",
            "name",
            "normalised_name",
            "company_number",
            "charity_register",
            "charity_number",
        )
    )
    by_charity = {
        number: pk
        for pk, _, _, _, register, number in suppliers
        if number and register == CharityRegister.ENGLAND_WALES
    }
    by_company = {
        company: (pk, bool(number))
        for pk, _, _, company, _, number in suppliers
        if company
    }
    retired = _merged_away()
    unnumbered = [
        (pk, n, key)
        for pk, n, key, _, _, number in suppliers
        if not number and pk not in retired
    ]
    register = _Register(
        by_number=by_charity,
        by_name=_names(unnumbered),
        near=_NearMatcher(unnumbered),
        names={pk: name for pk, name, _ in unnumbered},
    )
    by_number: dict[int, _Facts] = {}
    hits: dict[str, list[_Facts]] = defaultdict(list)
    with _open_text(source) as text:
        table = _Table(
            text,
            what=CHARITY_REGISTER,
            columns=_CHARITY_COLUMNS,
            required=_CHARITY_REQUIRED,
        )
        for row in table.records(report):
            number = row["number"].lstrip("0")
            if not number.isdigit():
                report.skipped["no charity number" if not number else "bad number"] += 1
                continue
            if row.get("linked", "0").strip("0"):
                report.skipped["linked charity (part of a main charity)"] += 1
                continue
            if not row["name"]:
                report.skipped["no charity name"] += 1
                continue
            if row["status"].casefold() != "registered":
                report.skipped["removed from the register"] += 1
                if (pk := by_charity.get(number)) is not None:
                    report.notes.append(
                        f"Supplier {pk} holds charity number {number}, of "
                        f'"{row["name"]}", removed from the register'
                        + (
                            f" on {row['removed_on'][:10]}."
                            if row.get("removed_on")
                            else "."
                        )
                    )
                continue
            facts = _charity_facts(number, row)
            if (pk := by_charity.get(number)) is not None:
                by_number[pk] = facts
                continue
            company = facts.blanks["company_number"]
            if company and company in by_company:
                pk, has_charity_number = by_company[company]
                if not has_charity_number and pk not in by_number:
                    by_number[pk] = facts
                else:
                    report.skipped[
                        "company number held by a supplier with another charity number"
                    ] += 1
                continue
            key = normalise_name(row["name"])
            if key in register.by_name:
                if len(hits[key]) < 2:
                    hits[key].append(facts)
                continue
            postcode = facts.blanks["postcode"]
            reference = f"charity {number}" + (f", {postcode}" if postcode else "")
            register.near.offer(key, row["name"], reference)
    report.matched_by_number = len(by_number)
    taken = set(by_charity) | {f.number for f in by_number.values()}
    by_name = _name_matches(report, register, hits, taken)
    for pk, facts in by_name.items():
        report.matched_names.append(
            f'"{register.names[pk]}" (supplier {pk}) is "{facts.name}", '
            f"charity {facts.number}"
        )
    report.near_matches = register.near.results(exclude=[*by_name, *by_number])
    holders = {company: pk for company, (pk, _) in by_company.items()}
    for pk, facts in (by_number | by_name).items():
        company = facts.blanks["company_number"]
        if company and holders.setdefault(company, pk) != pk:
            facts.blanks["company_number"] = ""  # another supplier's number
            report.notes.append(
                f"Charity {facts.number} ({facts.name}) has company number "
                f"{company}, which supplier {holders[company]} holds."
            )
    how = f"Charity Commission register ({Path(report.file).name})"
    _apply(report, by_number | by_name, how=how, user=user, dry_run=dry_run)
    return report


def _charity_facts(number: str, row: dict[str, str]) -> _Facts:
    postcode = _full_postcode(row["postcode"])
    lines = [row.get(f"address{n}", "") for n in range(1, 6)]
    return _Facts(
        number=number,
        name=row["name"],
        owned={
            "charity_register": CharityRegister.ENGLAND_WALES.value,
            "charity_number": number,
        },
        blanks={
            "company_number": _company_number(row["company"]) or "",
            "postcode": postcode,
            "address": ", ".join(x for x in [*lines, postcode] if x)
            if postcode
            else "",
            "turnover": _income(row["income"]),
        },
    )


def _income(value: str) -> Decimal | None:
    try:
        amount = Decimal(value.replace(",", "").replace("£", ""))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e14"):
        return None
    return amount.quantize(Decimal("0.01"))


# -------------------------------------------------------------------- Living Wage

LIVING_WAGE = "a Living Wage Foundation accredited-employer list"
_LW_COLUMNS: Columns = {
    "name": (
        "Employer",
        "Employer name",
        "Name",
        "Organisation",
        "Organisation name",
        "Organization",
        "Company",
        "Company name",
    ),
    "location": ("Location", "Town", "City", "Area", "Region"),
    "sector": ("Sector", "Industry"),
}
_LW_FORMS = frozenset({"ltd", "plc", "llp", "lp", "cic", "cio", "co", "uk"})


def load_living_wage(
    source: Source,
    *,
    taken_on: date,
    user: Any = None,
    dry_run: bool = False,
) -> LoadReport:
    """Load the accredited-employer list as the snapshot of `taken_on`.

    Loading a list for a date already loaded brings that snapshot into line with
    the file (employers added, removed, renamed), so a second load changes nothing.
    The report counts suppliers named exactly as an employer (normalised), those
    named so once company forms such as Ltd are set aside (the classifier accepts
    both, the second with medium confidence), and lists near matches to confirm.
    Suppliers' own `living_wage_accredited` (an officer's record) is never touched.
    """
    report = LoadReport(
        "Living Wage Foundation list",
        _file_name(source),
        dry_run=dry_run,
        counts=(
            "rows_read",
            "created",
            "updated",
            "removed",
            "unchanged",
            "matched_by_name",
            "matched_ignoring_form",
            "near_matches",
        ),
        labels={
            "created": "employers added",
            "updated": "employers renamed",
            "removed": "employers removed",
            "unchanged": "employers unchanged",
            "matched_by_name": "suppliers named exactly",
            "matched_ignoring_form": "suppliers named but for Ltd",
            "matched_names": "Suppliers on the list",
        },
    )
    wanted: dict[tuple[str, str], tuple[str, str]] = {}
    with _open_text(source) as text:
        table = _Table(text, what=LIVING_WAGE, columns=_LW_COLUMNS, required=["name"])
        for row in table.records(report):
            name, location = row["name"][:300], row.get("location", "")[:200]
            key = normalise_name(name)
            if not key:
                report.skipped["no employer name"] += 1
                continue
            if (key, location.casefold()) in wanted:
                report.skipped["listed twice"] += 1
                continue
            wanted[(key, location.casefold())] = (name, location)

    snapshot = (
        LivingWageSnapshot.objects.filter(taken_on=taken_on)
        .order_by("-loaded_at", "-pk")
        .first()
    )
    held: dict[tuple[str, str], LivingWageEmployer] = {}
    if snapshot is not None:
        for employer in snapshot.employers.all():
            held.setdefault(
                (employer.normalised_name, employer.location.casefold()), employer
            )
    new = [k for k in wanted if k not in held]
    gone = [held[k].pk for k in held if k not in wanted]
    renamed = [held[k] for k in wanted if k in held and held[k].name != wanted[k][0]]
    report.created, report.removed, report.updated = len(new), len(gone), len(renamed)
    report.unchanged = len(wanted) - len(new) - len(renamed)
    if not dry_run:
        with transaction.atomic():
            if snapshot is None:
                snapshot = LivingWageSnapshot.objects.create(
                    taken_on=taken_on,
                    file_name=Path(report.file).name[:255],
                    loaded_by=user,
                )
            LivingWageEmployer.objects.filter(pk__in=gone).delete()
            for employer in renamed:
                employer.name = wanted[
                    (employer.normalised_name, employer.location.casefold())
                ][0]
            LivingWageEmployer.objects.bulk_update(renamed, ["name"], batch_size=500)
            LivingWageEmployer.objects.bulk_create(
                [
                    LivingWageEmployer(
                        snapshot=snapshot,
                        name=wanted[k][0],
                        normalised_name=k[0],
                        location=wanted[k][1],
                    )
                    for k in new
                ],
                batch_size=1000,
            )
    newer = LivingWageSnapshot.objects.filter(taken_on__gt=taken_on).first()
    if newer is not None:
        report.notes.append(
            f"A newer list, of {newer.taken_on:%d %B %Y}, is loaded: the classifier "
            "uses the newest."
        )
    _match_living_wage(report, wanted)
    return report


def _match_living_wage(
    report: LoadReport, wanted: dict[tuple[str, str], tuple[str, str]]
) -> None:
    """Suppliers named as an employer, as the classifier will read them; near
    matches between the other suppliers and the employers nobody matched."""
    employers: dict[str, tuple[str, str]] = {}
    for (key, _), value in wanted.items():
        employers.setdefault(key, value)
    retired = _merged_away()
    suppliers = [
        row
        for row in Supplier.objects.values_list("pk", "name", "normalised_name")
        if row[0] not in retired
    ]
    matched: set[int] = set()
    used: set[str] = set()
    for pk, name, key in suppliers:
        if key in employers:
            report.matched_by_name += 1
            report.matched_names.append(name)
        elif (bare := _without_forms(key)) != key and bare in employers:
            report.matched_ignoring_form += 1
            report.matched_names.append(f"{name} (as {employers[bare][0]})")
            key = bare
        else:
            continue
        matched.add(pk)
        used.add(key)
    report.matched_names.sort()
    near = _NearMatcher(row for row in suppliers if row[0] not in matched)
    for key, (name, location) in employers.items():
        if key not in used:
            where = f", {location}" if location else ""
            near.offer(key, name, f"Living Wage employer{where}")
    report.near_matches = near.results()


def _without_forms(key: str) -> str:
    words = key.split()
    while len(words) > 1 and words[-1] in _LW_FORMS:
        words.pop()
    return " ".join(words)


# ====================================================================== postcodes

POSTCODE_DIRECTORY = "an ONS postcode directory (ONSPD or NSPL) file"
_PC_COLUMNS: Columns = {
    "postcode": ("pcds", "pcd", "pcd2", "pcd7", "pcd8"),
    "authority": ("oslaua", "laua", "lad25cd"),
    "lat": ("lat",),
    "long": ("long",),
    "doterm": ("doterm",),
}
_PC_FIELDS = [
    "postcode",
    "district",
    "authority",
    "latitude",
    "longitude",
    "terminated",
]


def load_postcodes(
    source: Source,
    *,
    progress: Callable[[int], None] | None = None,
    batch_size: int = POSTCODE_BATCH,
) -> LoadReport:
    """Upsert the ONS postcode directory into `Postcode`, in batches.

    On PostgreSQL each batch is COPied into a temporary table and merged with
    INSERT ... ON CONFLICT; elsewhere (SQLite) an executemany upsert is used. Rows
    whose values are unchanged are not rewritten, so a second load reports 0
    changes. Each batch commits on its own: an interrupted load can simply be
    run again. `progress` is called with the rows read after each batch.
    """
    report = LoadReport(
        "ONS postcode directory",
        _file_name(source),
        counts=("rows_read", "created", "updated", "unchanged"),
        labels={
            "created": "postcodes added",
            "updated": "postcodes updated",
            "unchanged": "postcodes unchanged",
        },
    )
    with _open_text(source) as text:
        table = _PostcodeTable(text, batch_size)
        before = Postcode.objects.count()
        writer = _PostgresWriter() if connection.vendor == "postgresql" else None
        changed = 0
        try:
            for batch in table.batches(report):
                with transaction.atomic():
                    if writer is not None:
                        changed += writer.write(batch)
                    else:
                        changed += _upsert(batch)
                if progress is not None:
                    progress(report.rows_read)
        finally:
            if writer is not None:
                writer.close()
    report.created = Postcode.objects.count() - before
    report.updated = changed - report.created
    report.unchanged = report.rows_read - sum(report.skipped.values()) - changed
    return report


class _PostcodeTable:
    def __init__(self, text: IO[str], batch_size: int = POSTCODE_BATCH) -> None:
        self.batch_size = batch_size
        self.table = _Table(
            text,
            what=POSTCODE_DIRECTORY,
            columns=_PC_COLUMNS,
            required=["postcode", "authority", "lat", "long", "doterm"],
            patterns={"authority": r"lad[0-9]{2}cd"},
        )

    def batches(self, report: LoadReport) -> Iterator[list[tuple]]:
        index = self.table.index
        ip, ia, ilat, ilong, iterm = (
            index["postcode"],
            index["authority"],
            index["lat"],
            index["long"],
            index["doterm"],
        )
        width = max(ip, ia, ilat, ilong, iterm) + 1
        batch: dict[str, tuple] = {}
        skipped = report.skipped
        for row in self.table.rows:
            report.rows_read += 1
            if len(row) < width:
                if not any(cell.strip() for cell in row):
                    report.rows_read -= 1
                else:
                    skipped["row too short"] += 1
                continue
            squashed = row[ip].replace(" ", "").upper()
            # isascii too: str.isalnum() is true of "١٢٣٤٥" and "ÉÉÉÉÉ".
            if not 5 <= len(squashed) <= 7 or not (
                squashed.isascii() and squashed.isalnum()
            ):
                skipped["not a postcode"] += 1
                continue
            district = squashed[:-3]
            latitude, longitude = _coordinate(row[ilat]), _coordinate(row[ilong])
            if latitude is None or longitude is None or latitude > 90:
                latitude = longitude = None  # 99.999999: no grid reference
            batch[f"{district} {squashed[-3:]}"] = (
                district,
                row[ia].strip().upper()[:9],
                latitude,
                longitude,
                bool(row[iterm].strip()),
            )
            if len(batch) >= self.batch_size:
                yield [(pc, *batch[pc]) for pc in sorted(batch)]
                batch = {}
        if batch:
            yield [(pc, *batch[pc]) for pc in sorted(batch)]


def _coordinate(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number else None  # not NaN


def _names_sql() -> tuple[str, str, str]:
    quote = connection.ops.quote_name
    table = quote(Postcode._meta.db_table)
    columns = ", ".join(quote(name) for name in _PC_FIELDS)
    return table, columns, ", ".join(quote(name) for name in _PC_FIELDS[1:])


def _upsert(batch: list[tuple]) -> int:
    """INSERT ... ON CONFLICT DO UPDATE for changed rows only (SQLite, PostgreSQL)."""
    quote = connection.ops.quote_name
    table, columns, _ = _names_sql()
    distinct = "IS NOT" if connection.vendor == "sqlite" else "IS DISTINCT FROM"
    values = ", ".join(["%s"] * len(_PC_FIELDS))
    sets = ", ".join(f"{quote(f)} = excluded.{quote(f)}" for f in _PC_FIELDS[1:])
    differs = " OR ".join(
        f"{table}.{quote(f)} {distinct} excluded.{quote(f)}" for f in _PC_FIELDS[1:]
    )
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES ({values}) "
        f"ON CONFLICT ({quote('postcode')}) DO UPDATE SET {sets} WHERE {differs}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, batch)
        return max(cursor.rowcount, 0)


class _PostgresWriter:
    """COPY each batch into a temporary table, then merge it in one statement."""

    TEMP = "socialvalue_postcode_load"

    def __init__(self) -> None:
        table, columns, _ = _names_sql()
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.TEMP}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {self.TEMP} (LIKE {table} INCLUDING DEFAULTS)"
            )
        sets = ", ".join(f"{quote(f)} = EXCLUDED.{quote(f)}" for f in _PC_FIELDS[1:])
        mine = ", ".join(f"p.{quote(f)}" for f in _PC_FIELDS[1:])
        theirs = ", ".join(f"EXCLUDED.{quote(f)}" for f in _PC_FIELDS[1:])
        self.copy = (
            f"COPY {self.TEMP} ({columns}) FROM STDIN WITH (FORMAT csv, "
            f"FORCE_NOT_NULL ({quote('district')}, {quote('authority')}))"
        )
        self.merge = (
            f"INSERT INTO {table} AS p ({columns}) SELECT {columns} FROM {self.TEMP} "
            f"ON CONFLICT ({quote('postcode')}) DO UPDATE SET {sets} "
            f"WHERE ({mine}) IS DISTINCT FROM ({theirs})"
        )

    def write(self, batch: list[tuple]) -> int:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for pc, district, authority, lat, long, terminated in batch:
            writer.writerow(
                [
                    pc,
                    district,
                    authority,
                    "" if lat is None else repr(lat),
                    "" if long is None else repr(long),
                    "t" if terminated else "f",
                ]
            )
        buffer.seek(0)
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if hasattr(raw, "copy_expert"):  # psycopg2
                raw.copy_expert(self.copy, buffer)
            else:  # psycopg 3
                with raw.copy(self.copy) as copy:
                    copy.write(buffer.getvalue())
            cursor.execute(self.merge)
            changed = max(cursor.rowcount, 0)
            cursor.execute(f"TRUNCATE {self.TEMP}")
        return changed

    def close(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.TEMP}")
