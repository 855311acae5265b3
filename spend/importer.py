"""Import a spend file into a council's spend lines, all or nothing, reconciled.

`import_spend_file` is what the upload task, the `import_spend` command and the
tests call. It reads the file (`spend.parse`), skips lines already held from earlier
uploads, matches suppliers in bulk, and saves the lines, the rejected and skipped
rows and the reconciliation in one transaction: a failure leaves nothing.

The lines are never all in memory: they are read in chunks, and each chunk is
checked against the lines already held, matched to suppliers and saved before the
next. On PostgreSQL the chunks go in by COPY, and the next chunk is read while the
server takes in the last one (see `_Loader.load`), so reading and loading overlap.
"""

from __future__ import annotations

import contextvars
import logging
import re
from calendar import monthrange
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial, reduce
from itertools import chain, islice, repeat
from operator import countOf, itemgetter, or_

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, transaction
from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Abs
from django.template.defaultfilters import pluralize
from django.utils import timezone
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein
from simple_history.utils import bulk_create_with_history

from councils.models import Council
from councils.templatetags.money import gbp
from procure.linking import covering_contract
from procure.models import (
    Contract,
    ContractLinkChange,
    ContractStatus,
    MatchSuggestion,
    Supplier,
    SupplierAlias,
)
from socialvalue.tagging import classify_suppliers
from spend import rollup
from spend.models import (
    DATE_MOVED,
    HELD_BUT_FOR_REFERENCE,
    INTERNAL_ERROR,
    MATCHING,
    NOT_IN_FILE,
    OUTSIDE_PERIOD,
    REFERENCE_HELD,
    SAVING,
    TAGGING,
    RememberedMapping,
    RowIssue,
    SpendLine,
    SpendUpload,
    UploadStatus,
    VatBasis,
    hold_new_supplier_lock,
    hold_rollup_lock,
    hold_rows,
)
from spend.parse import (
    AMOUNT,
    COPY_COLUMNS,
    COPY_ROW,
    KEY,
    PAID,
    SUPPLIER,
    FileRefused,
    LineReader,
    LineRecord,
    ParsedFile,
    copy_values,
    other_body_note,
)
from spend.reading import (
    FILE_ROW_COLUMN,
    clean_header,
    is_headerless,
    is_localspend_column,
    vat_basis_of_heading,
)
from spend.values import vat_number_or_blank

logger = logging.getLogger(__name__)

CHUNK = 500  # names per IN (...) query
FUZZY_THRESHOLD = 90
ERRORS_SHOWN = 100
FIRST_LINES = 5_000  # lines in the first chunk: loading starts soon
CHUNK_LINES = 200_000  # lines in each later chunk, at most
COPY_PIECE = 500  # lines handed to the COPY at a time
SAVE_PIECE = 10_000  # lines inserted at a time where there is no COPY (SQLite)
# No spend file comes near a trillion pounds (about what the whole UK government
# spends in a year). A file over it is refused: its totals would overflow the
# upload's and the dashboard rollups' 16-digit columns (14 before the point).
MAX_FILE_AMOUNT = Decimal(10**12)


@dataclass
class ImportResult:
    """What happened to a file: the reconciliation the user sees."""

    file: str
    council: str
    status: str  # imported, duplicate, dry_run, refused
    rows_read: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    rows_skipped: int = 0
    amount_imported: Decimal = Decimal("0.00")
    amount_rejected: Decimal = Decimal("0.00")
    amount_duplicate: Decimal = Decimal("0.00")
    amount_skipped: Decimal = Decimal("0.00")
    file_stated_total: Decimal | None = None
    redacted_lines: int = 0
    new_suppliers: int = 0
    errors: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    message: str = ""
    # The first and last dates of the rows already held (not in the JSON).
    duplicate_span: tuple[date, date] | None = None
    # The uploads holding them (not in the JSON).
    held_in: list[int] = field(default_factory=list)
    # A dry run's block plans: the columns each layout would be read from (not
    # in the JSON; `import_spend` lists them).
    plans: list = field(default_factory=list, repr=False)

    def as_json(self) -> dict:
        """The `import_spend --format json` object, with exactly its documented keys."""
        money = lambda value: None if value is None else f"{value:.2f}"  # noqa: E731
        return {
            "file": self.file,
            "council": self.council,
            "status": self.status,
            "rows_read": self.rows_read,
            "rows_imported": self.rows_imported,
            "rows_rejected": self.rows_rejected,
            "rows_duplicate": self.rows_duplicate,
            "rows_skipped": self.rows_skipped,
            "amount_imported": money(self.amount_imported),
            "amount_rejected": money(self.amount_rejected),
            "amount_duplicate": money(self.amount_duplicate),
            "file_stated_total": money(self.file_stated_total),
            "redacted_lines": self.redacted_lines,
            "new_suppliers": self.new_suppliers,
            "errors": self.errors[:ERRORS_SHOWN],
        }


def remembered_mappings(council: Council) -> dict[str, dict[str, int]]:
    """The council's remembered columns, by layout. A file with no header row is
    known only by its width, which says nothing of what each column holds: its
    columns are guessed from its values each time, never remembered."""
    return {
        m.layout: m.columns
        for m in RememberedMapping.objects.for_council(council)
        if not is_headerless(m.layout)
    }


def first_upload_of(council: Council, sha256: str) -> SpendUpload | None:
    """The live upload already holding this exact file, if any."""
    return (
        SpendUpload.objects.for_council(council)
        .filter(sha256=sha256, status=UploadStatus.IMPORTED)
        .select_related("uploaded_by")
        .first()
    )


def parse_for(
    council: Council,
    data: bytes,
    file_name: str,
    *,
    chosen: dict[str, dict[str, int]] | None = None,
    remembered: dict[str, dict[str, int]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> LineReader:
    """A reader of the file's lines (`LineReader.batches`), for this council.
    `remembered`: the council's remembered columns as they were when the import
    was queued, over those remembered now (forgotten or changed since)."""
    return LineReader(
        data,
        file_name,
        remembered={**remembered_mappings(council), **(remembered or {})},
        chosen=chosen,
        today=timezone.localdate(),
        progress=progress,
    )


# ------------------------------------------------------------------ VAT basis

# The start of the note saying the VAT basis was taken from the amount column's
# heading (or why not), and of the warning that the heading contradicts the basis
# the user gave: `VatDecision.note`, kept among the upload's notes.
VAT_BASIS_NOTE = "VAT basis: "
VAT_BASIS_WARNING = "Check the VAT basis: "
_SAID = {VatBasis.NET: "net of VAT", VatBasis.GROSS: "gross (VAT included)"}


@dataclass
class VatDecision:
    """The VAT basis to record for a file, and what to say about it ("" for
    nothing: the user said, and no heading disagrees)."""

    basis: str
    note: str = ""

    @property
    def is_warning(self) -> bool:
        return self.note.startswith(VAT_BASIS_WARNING)


def amount_headings(plans: Iterable) -> list[str]:
    """The heading of each block's amount column ("" where it has none)."""
    headings = []
    for plan in plans:
        index, header = plan.columns.get("amount"), plan.header or []
        in_header = index is not None and index < len(header)
        headings.append(clean_header(header[index]) if in_header else "")
    return headings


def _quoted(headings: Iterable[str]) -> str:
    names = [f"'{heading}'" for heading in dict.fromkeys(headings)]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def decide_vat_basis(stated: str, headings: list[str]) -> VatDecision:
    """The VAT basis of a file whose amount columns have these headings (one per
    block), the user having said `stated`.

    What the user said always wins. Left "unknown" (not stated), the basis is
    the one every amount column's heading states clearly ("Net Amount": net;
    "Gross": gross), and the note says so; an "Amount" leaves it unknown. A
    heading contradicting what the user said is a warning, never silently
    passed over.
    """
    read = [(heading, vat_basis_of_heading(heading)) for heading in headings]
    if stated in _SAID:
        against = [heading for heading, basis in read if basis and basis != stated]
        if not against:
            return VatDecision(stated)
        columns = "column is" if len(set(against)) == 1 else "columns are"
        return VatDecision(
            stated,
            f"{VAT_BASIS_WARNING}you said the amounts are {_SAID[stated]}, but the "
            f"amount {columns} headed {_quoted(against)}. They are recorded as "
            f"{stated}, as you said.",
        )
    said = {basis for _, basis in read}
    if len(said) == 1 and None not in said:
        (basis,) = said
        word = "heading" if len(set(headings)) == 1 else "headings"
        return VatDecision(
            basis,
            f"{VAT_BASIS_NOTE}{basis}, from the column {word} {_quoted(headings)}.",
        )
    if {VatBasis.NET, VatBasis.GROSS} <= said:
        return VatDecision(
            VatBasis.UNKNOWN,
            f"{VAT_BASIS_NOTE}not stated: the amount columns' headings disagree "
            f"({_quoted(h for h, basis in read if basis)}).",
        )
    if None in said and len(said) > 1:  # QA: "Not stated" with no word why
        (basis,) = said - {None}
        return VatDecision(
            VatBasis.UNKNOWN,
            f"{VAT_BASIS_NOTE}not stated: {_quoted(h for h, b in read if b)} says "
            f"{basis}, but {_quoted(h for h, b in read if not b)} does not say. "
            "Say net or gross on the upload form when you upload such a file.",
        )
    return VatDecision(VatBasis.UNKNOWN)


def _sum(amounts: Iterable[Decimal | None]) -> Decimal:
    return sum((a for a in amounts if a is not None), Decimal("0.00"))


def _reconcile(result: ImportResult, parsed: ParsedFile) -> None:
    """The figures of the rows read, rejected and skipped, once all are read."""
    result.rows_read = parsed.rows_read
    result.rows_rejected = len(parsed.rejected)
    result.rows_skipped = len(parsed.skipped)
    result.amount_rejected = _sum(p.amount for p in parsed.rejected)
    result.amount_skipped = _sum(p.amount for p in parsed.skipped)
    result.file_stated_total = parsed.file_stated_total
    result.errors = [
        {"row": p.row, "column": p.column, "value": p.value, "message": p.message}
        for p in parsed.rejected[:ERRORS_SHOWN]
    ]
    result.notes = _notes(parsed)


def _notes(parsed: ParsedFile) -> list[str]:
    notes = []
    for plan in parsed.blocks:
        where = f'Sheet "{plan.sheet}"' if len(parsed.blocks) > 1 else "The file"
        if plan.header_row:
            notes.append(f"{where}: header found on row {plan.header_row}.")
        notes.extend(plan.notes)
    notes.extend(parsed.notes)
    if parsed.labelled_payments:
        notes.append(parsed.labelled_note())
    if parsed.rounded_amounts:
        notes.append(parsed.rounded_note())
    if parsed.blank_rows:
        blank = parsed.blank_rows
        notes.append(
            f"{blank:,} blank row{'s were' if blank != 1 else ' was'} ignored."
        )
    return list(dict.fromkeys(notes))


def _chunks(items: list, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# ------------------------------------------------------------------ duplicates


class HeldLines:
    """The council's lines already held, counted by line key, to find duplicates.

    Identical lines inside one file are all real (split deliveries), so this counts:
    if the council holds a payment twice and the file has it three times, one is new.
    A line key includes the payment date, so only lines paid on the file's dates can
    match. The held keys are fetched by date range (the (council, payment_date)
    index) as the file's lines come: each chunk's dates not covered yet, in one or
    two queries, so a file sorted by date costs a short query per chunk, and any
    file as a whole reads the held lines of its date range once.
    """

    def __init__(self, council: Council, *, exclude_upload: int | None = None) -> None:
        held = SpendLine.objects.for_council(council)
        if exclude_upload:
            held = held.exclude(upload_id=exclude_upload)
        self.lines = held
        self.counts: Counter[str] = Counter()
        # Which upload holds each key (a list where several do), and the uploads
        # holding the lines found already held: named on the result page, and
        # what a rollback of them waits for (`uploads_relying_on`).
        self.source: dict[str, int | list[int]] = {}
        self.held_in: set[int] = set()
        # Per earlier upload: its lines in the dates covered, and how many of
        # them this file matched (`_missing_and_moved`).
        self.in_span: Counter[int] = Counter()
        self.matched: Counter[int] = Counter()
        self.first: date | None = None
        self.last: date | None = None
        # The lines of uploads a corrected download corrects (`leave_out`).
        self.spare_lines = held.none()
        self.spare: Counter[str] = Counter()
        self.spare_source: dict[str, list[int]] = {}
        self.added: Counter[str] = Counter()

    def leave_out(self, upload_ids: Iterable[int], added: Counter[str]) -> None:
        """Count these uploads' lines as holding only the lines of `added` (before
        the first split): a corrected download of their rejected rows was not
        imported from them, but rows the officer added to it (the month's other
        payments pasted back in) may have been (QA: they were imported twice)."""
        assert not self.counts and self.first is None
        upload_ids = list(upload_ids)
        self.spare_lines = self.lines.filter(upload_id__in=upload_ids)
        self.lines = self.lines.exclude(upload_id__in=upload_ids)
        self.added = added

    def split(
        self, lines: list[LineRecord]
    ) -> tuple[list[LineRecord], list[LineRecord]]:
        """Lines not yet held, and lines an earlier upload already holds."""
        if not lines:
            return [], []
        days = list(map(itemgetter(PAID), lines))
        self.cover(min(days), max(days))
        counts = self.counts
        if not counts and not self.spare:
            return lines, []
        new, duplicate = [], []
        source, held_in, matched = self.source, self.held_in, self.matched
        spare, added = self.spare, self.added
        for line in lines:
            key = line[KEY]
            if spare and added[key] > 0 and spare[key] > 0:
                added[key] -= 1
                spare[key] -= 1
                duplicate.append(line)
                held_in.add(self.spare_source[key].pop())
            elif counts[key] > 0:
                counts[key] -= 1
                duplicate.append(line)
                where = source[key]
                upload_id = where.pop() if isinstance(where, list) else where
                held_in.add(upload_id)
                matched[upload_id] += 1
            else:
                new.append(line)
        return new, duplicate

    def cover(self, first: date, last: date) -> None:
        """Count the held lines paid from `first` to `last` not counted yet."""
        if self.first is None or self.last is None:
            ranges = [(first, last)]
            self.first, self.last = first, last
        else:
            ranges = []
            if first < self.first:
                ranges.append((first, self.first - timedelta(days=1)))
                self.first = first
            if last > self.last:
                ranges.append((self.last + timedelta(days=1), last))
                self.last = last
        counts, source = self.counts, self.source
        for start, end in ranges:
            for key, upload_id in self.spare_lines.filter(
                payment_date__range=(start, end)
            ).values_list("line_key", "upload_id"):
                self.spare[key] += 1
                self.spare_source.setdefault(key, []).append(upload_id)
            for key, upload_id, n in (
                self.lines.filter(payment_date__range=(start, end))
                .values("line_key", "upload_id")
                .annotate(n=Count("id"))
                .values_list("line_key", "upload_id", "n")
                .order_by()
            ):
                counts[key] += n
                self.in_span[upload_id] += n
                held = source.get(key)
                if held is None and n == 1:  # nearly every key: one upload, once
                    source[key] = upload_id
                else:
                    held = held if isinstance(held, list) else [held] if held else []
                    source[key] = [*held, *[upload_id] * n]


# ------------------------------------------------------------------- suppliers


@dataclass
class _Seen:
    """A supplier name as first met among the new lines: what a match uses."""

    name: str
    council_supplier_id: str
    vat_number: str
    postcode: str = ""


class SupplierMatcher:
    """Supplier id for each normalised name of the new lines; creates the unknown ones.

    Order: the council's known spellings (aliases), the council's own supplier ID,
    the register's normalised names, VAT numbers; anything else becomes a new
    unverified supplier, with near matches stored as suggestions, never merged.

    Names are matched chunk by chunk (`match`) and remembered. A name is matched
    against the database as it was before this import: suppliers and aliases this
    import created are left out of the matching by supplier ID and VAT number, and
    new suppliers are compared with the register as it was, so how the lines fall
    into chunks changes nothing.
    """

    def __init__(self, council: Council, upload: SpendUpload | None = None) -> None:
        self.council = council
        # Who and why, for the history of the suppliers, spellings and
        # suggestions this import makes: whoever started it, not necessarily
        # whoever uploaded the file (audit: a retry by another officer).
        self.user = upload.started_by if upload else None
        self.reason = (
            f"First named in {upload.file_name} (upload #{upload.pk}"
            f"{started_from(upload)})"
            if upload
            else None
        )
        self.ids: dict[str, int] = {}
        self.created_ids: set[int] = set()
        self.aliased: set[str] = set()
        self.register: dict[str, int] | None = None
        self.new_suppliers = 0

    def match(self, lines: list[LineRecord]) -> dict[str, int]:
        """The ids of all names met so far, these lines' names included."""
        names = set(map(itemgetter(SUPPLIER), lines)) - self.ids.keys()
        names.discard("")  # redacted: no supplier
        if not names:
            return self.ids
        first_seen: dict[str, _Seen] = {}
        for line in lines:
            name = line[SUPPLIER]
            if name in names and name not in first_seen:
                values = copy_values(line[COPY_ROW])
                first_seen[name] = _Seen(
                    name=values["supplier_name"] or "",
                    council_supplier_id=values["council_supplier_id"] or "",
                    vat_number=vat_number_or_blank(values["vat_number"]),
                    postcode=values.get("postcode") or "",
                )
        self.ids.update(self._match(first_seen))
        return self.ids

    def _match(self, first_seen: dict[str, _Seen]) -> dict[str, int]:
        council = self.council
        found: dict[str, int] = {}
        names = list(first_seen)
        for chunk in _chunks(names, CHUNK):
            found.update(
                SupplierAlias.objects.filter(
                    council=council, normalised_name__in=chunk
                ).values_list("normalised_name", "supplier_id")
            )
        self._match_by_supplier_id(found, first_seen)
        for name, pk in _by_name([n for n in names if n not in found]).items():
            found.setdefault(name, pk)
        self._match_by_vat_number(found, first_seen)
        created = self._create([n for n in names if n not in found], first_seen, found)
        found.update(created)
        self._remember_aliases(first_seen, found)
        return found

    def _match_by_supplier_id(
        self, found: dict[str, int], first_seen: dict[str, _Seen]
    ) -> None:
        wanted = _unmatched_by(found, first_seen, "council_supplier_id")
        if not wanted:
            return
        pairs = SupplierAlias.objects.filter(
            council=self.council, council_supplier_id__in=wanted
        ).values_list("council_supplier_id", "supplier_id", "normalised_name")
        for value, pk, alias_name in pairs:
            if alias_name not in self.aliased:
                for name in wanted[value]:
                    found.setdefault(name, pk)

    def _match_by_vat_number(
        self, found: dict[str, int], first_seen: dict[str, _Seen]
    ) -> None:
        wanted = _unmatched_by(found, first_seen, "vat_number")
        if not wanted:
            return
        pairs = Supplier.objects.filter(vat_number__in=wanted).values_list(
            "vat_number", "pk"
        )
        for value, pk in pairs:
            if pk not in self.created_ids:
                for name in wanted[value]:
                    found.setdefault(name, pk)

    def _create(
        self, names: list[str], first_seen: dict[str, _Seen], found: dict[str, int]
    ) -> dict[str, int]:
        """Add the names that matched nothing to the register; return their ids.
        A name another import added meanwhile is matched (into `found`) instead."""
        if not names:
            return {}
        if _can_copy():
            # Wait for any other import adding suppliers to commit, then look
            # again for names it added (SQLite has one writer at a time).
            hold_new_supplier_lock()
            added = _by_name(names)
            found.update(added)
            names = [name for name in names if name not in added]
            if not names:
                return {}
        if self.register is None:  # the register before this import
            # Of suppliers sharing a normalised name, the one `_by_name` would
            # match stands for it (the verified, else the oldest: the last here).
            self.register = dict(
                Supplier.objects.order_by("verified", "-pk").values_list(
                    "normalised_name", "pk"
                )
            )
        new = [
            Supplier(
                name=first_seen[name].name,
                normalised_name=name,
                vat_number=first_seen[name].vat_number,
                # The council's ledger's postcode for the payee: where it is.
                postcode=first_seen[name].postcode[:8],
            )
            for name in names
        ]
        create_with_history(new, user=self.user, reason=self.reason)
        created: dict[str, int] = {}
        if all(supplier.pk for supplier in new):  # bulk inserts gave the ids
            created = {supplier.normalised_name: supplier.pk for supplier in new}
        for chunk in _chunks(names if not created else [], CHUNK):
            created.update(
                Supplier.objects.filter(normalised_name__in=chunk)
                .order_by("pk")
                .values_list("normalised_name", "pk")
            )
        self.created_ids.update(created.values())
        self.new_suppliers += len(created)
        suggest_matches(created, self.register, user=self.user, reason=self.reason)
        return created

    def _remember_aliases(
        self, first_seen: dict[str, _Seen], found: dict[str, int]
    ) -> None:
        known = set()
        for chunk in _chunks(list(found), CHUNK):
            known.update(
                SupplierAlias.objects.filter(
                    council=self.council, normalised_name__in=chunk
                ).values_list("normalised_name", flat=True)
            )
        names = [name for name in found if name not in known]
        self.aliased.update(names)
        insert_new(
            [
                SupplierAlias(
                    supplier_id=found[name],
                    council_id=self.council.pk,
                    name=first_seen[name].name,
                    normalised_name=name,
                    council_supplier_id=first_seen[name].council_supplier_id,
                )
                for name in names
            ],
            ignore_conflicts=True,
        )
        made = []
        for chunk in _chunks(names, CHUNK):
            made += SupplierAlias.objects.filter(
                council=self.council, normalised_name__in=chunk
            ).values_list("pk", flat=True)
        copy_into_history(SupplierAlias, made, user=self.user, reason=self.reason)


def _by_name(names: list[str]) -> dict[str, int]:
    """The register's supplier for each of these normalised names it holds (the
    verified one first, else the oldest)."""
    found: dict[str, int] = {}
    for chunk in _chunks(names, CHUNK):
        for name, pk in (
            Supplier.objects.filter(normalised_name__in=chunk)
            .order_by("-verified", "pk")
            .values_list("normalised_name", "pk")
        ):
            found.setdefault(name, pk)
    return found


def create_with_history(
    suppliers: list[Supplier], *, user=None, reason: str | None = None
) -> None:
    """`bulk_create_with_history` for new suppliers, its history rows written by one
    INSERT ... SELECT per thousand suppliers (a copy of the rows just saved) rather
    than built as objects one by one, the slow part for thousands of suppliers.
    `user` and `reason` are the history's (else simple_history's default user)."""
    History = Supplier.history.model
    users = {History.get_default_history_user(supplier) for supplier in suppliers}
    if user is None and (
        len(users) > 1
        or hasattr(History, "history_relation")
        or any(hasattr(supplier, "_change_reason") for supplier in suppliers)
    ):  # not the plain case: as simple_history does it
        bulk_create_with_history(suppliers, Supplier, batch_size=1000)
        return
    insert_new(suppliers)
    if suppliers:
        copy_into_history(
            Supplier,
            [supplier.pk for supplier in suppliers],
            user=user if user is not None else users.pop(),
            reason=reason,
        )


def copy_into_history(model, ids: Iterable[int], *, user=None, reason=None) -> None:
    """Write a "created" history row for each of these rows of `model` (saved by a
    bulk insert, which simple_history does not see): a copy of the rows as saved,
    by one INSERT ... SELECT per thousand rows, with `user` and `reason`."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    History = model.history.model
    meta, history = model._meta, History._meta
    try:
        user_column = history.get_field("history_user").column
    except FieldDoesNotExist:  # simple_history's user_id_field
        user_column = history.get_field("history_user_id").column
    fields = History.tracked_fields
    quote = connection.ops.quote_name
    into = [history.get_field(field.name).column for field in fields] + [
        history.get_field(name).column
        for name in ("history_date", "history_change_reason", "history_type")
    ]
    into.append(user_column)
    copied = ", ".join(quote(field.column) for field in fields)
    pk = quote(meta.pk.column)
    made = [timezone.now(), reason, "+", getattr(user, "pk", user)]  # + : created
    with connection.cursor() as cursor:
        for chunk in _chunks(sorted(ids), 1000):
            cursor.execute(
                f"INSERT INTO {quote(history.db_table)} "
                f"({', '.join(quote(column) for column in into)}) "
                f"SELECT {copied}, %s, %s, %s, %s FROM {quote(meta.db_table)} "
                f"WHERE {pk} IN ({', '.join(['%s'] * len(chunk))}) ORDER BY {pk}",
                [*made, *chunk],
            )


def insert_new(objects: list, *, ignore_conflicts: bool = False) -> None:
    """`bulk_create` of new model objects, a thousand at a time, without its work
    per object and field on PostgreSQL (the slow part for thousands of suppliers
    and aliases): a column that holds the same value in every object, or is set
    on saving (`auto_now`, `auto_now_add`), is prepared once. The objects get their
    ids as bulk_create gives them (not with `ignore_conflicts`).
    """
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql" or model._meta.parents:
        model._default_manager.bulk_create(
            objects, batch_size=1000, ignore_conflicts=ignore_conflicts
        )
        return
    template = model()
    pk = model._meta.pk
    fields = [f for f in model._meta.concrete_fields if f is not pk]
    constant: dict[str, object] = {}
    varying = []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = f.pre_save(template, add=True)  # one time for all, as saved
            for obj in objects:
                setattr(obj, f.attname, value)
            constant[f.attname] = f.get_db_prep_save(value, connection)
            continue
        first = getattr(objects[0], f.attname)
        if all(getattr(obj, f.attname) == first for obj in objects):
            constant[f.attname] = f.get_db_prep_save(first, connection)
        else:
            varying.append(f)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = (
        " ON CONFLICT DO NOTHING"
        if ignore_conflicts
        else f" RETURNING {quote(pk.column)}"
    )
    db = connection.alias
    with connection.cursor() as cursor:
        for chunk in _chunks(objects, 1000):
            given = {
                f.attname: [
                    f.get_db_prep_save(getattr(obj, f.attname), connection)
                    for obj in chunk
                ]
                for f in varying
            }
            params = []
            for at in range(len(chunk)):
                params.extend(
                    given[f.attname][at] if f.attname in given else constant[f.attname]
                    for f in fields
                )
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES "
                f"{', '.join([marks] * len(chunk))}{tail}",
                params,
            )
            if not ignore_conflicts:
                for obj, (new_pk,) in zip(chunk, cursor.fetchall(), strict=True):
                    setattr(obj, pk.attname, new_pk)
            for obj in chunk:
                obj._state.adding = False
                obj._state.db = db


def _unmatched_by(
    found: dict[str, int], first_seen: dict[str, _Seen], key: str
) -> dict[str, list[str]]:
    """Value of `key` → the names not matched yet that carry it."""
    wanted: dict[str, list[str]] = {}
    for name, seen in first_seen.items():
        value = getattr(seen, key)
        if name not in found and value:
            wanted.setdefault(value, []).append(name)
    return wanted


_COMPANY_WORDS = frozenset({"ltd", "plc", "llp", "co", "cic", "uk", "the", "and"})
# Words too common in supplier names to tell two organisations apart (normalised:
# "limited" is "ltd", "company" "co"). A suggestion needs the first word that is
# not one of these to agree, so a shared "Compliance" or "Services" is not enough.
GENERIC_WORDS = _COMPANY_WORDS | frozenset(
    {
        "a",
        "of",
        "for",
        "lp",
        "cio",
        "inc",
        "llc",
        "company",
        "gb",
        "group",
        "holdings",
        "international",
        "national",
        "global",
        "british",
        "services",
        "service",
        "solutions",
        "solution",
        "compliance",
        "consulting",
        "consultancy",
        "consultants",
        "management",
        "systems",
        "enterprises",
        "associates",
        "partners",
        "partnership",
        "trading",
        "council",
        "borough",
        "city",
        "county",
        "district",
        "metropolitan",
    }
)
FIRST_WORD_RATIO = 80  # the first distinctive words' rapidfuzz ratio, at least


def _fuzzy_key(name: str) -> str:
    return " ".join(word for word in name.split() if word not in _COMPANY_WORDS)


def first_distinctive_word(name: str) -> str:
    """The first word of a normalised name that is not a generic one, or ""."""
    return next((word for word in name.split() if word not in GENERIC_WORDS), "")


def distinctive_words_agree(first: str, second: str) -> bool:
    """Whether two names' first distinctive words are alike: equal, a rapidfuzz
    ratio of FIRST_WORD_RATIO or more, or one letter apart (words of 4 letters or
    more: "Acme" and "Acne"). Names made only of generic words agree with each
    other and with nothing else; the overall score decides between them."""
    a, b = first_distinctive_word(first), first_distinctive_word(second)
    if not a or not b:
        return a == b
    if a == b or fuzz.ratio(a, b) >= FIRST_WORD_RATIO:
        return True
    return min(len(a), len(b)) >= 4 and Levenshtein.distance(a, b) <= 1


def distinctive_words_held(name: str, other: str) -> int:
    """How many of `name`'s distinctive (not generic) words `other` holds, each
    equal or alike (`FIRST_WORD_RATIO`); names normalised."""
    theirs = other.split()
    return sum(
        any(word == it or fuzz.ratio(word, it) >= FIRST_WORD_RATIO for it in theirs)
        for word in name.split()
        if word not in GENERIC_WORDS
    )


def suggest_matches(
    created: dict[str, int], existing: dict[str, int], *, user=None, reason=None
) -> None:
    """Near matches between new suppliers and the register, for an officer to confirm.

    Names are compared without company-form words, by shared words (token set), so
    "Wardown Plumbing Ltd" finds "Wardown Plumbing Services Ltd"; names of one word
    are left alone, as a single shared word says little. The first distinctive
    words must agree too (`distinctive_words_agree`): "PHS Compliance" is not
    suggested for "HSL Compliance", though the shared "Compliance" scores high.
    Of the candidates that pass, the one holding most of the new name's
    distinctive words is suggested, then the nearest as a whole name (not the
    best on shared words alone, where every name holding all of the new one's
    words scores 100); its shared-words score is kept. Register names that differ
    only in their company forms ("Beacon Engineering LLP" and "… Ltd") share a
    key: of those, the one nearest the new name in full, company form and all,
    is suggested; of names exactly as near, the first in alphabetical order, so
    the register's order never decides.
    """
    keys: dict[str, list[str]] = {}
    for name in existing:
        keys.setdefault(_fuzzy_key(name), []).append(name)
    choices = [key for key in keys if len(key.split()) >= 2]
    if not choices:
        return
    ranked_for: dict[int, list[tuple[int, int]]] = {}
    for name, pk in created.items():
        key = _fuzzy_key(name)
        if len(key.split()) < 2:
            continue
        matches = process.extract(
            key,
            choices,
            scorer=fuzz.token_set_ratio,
            score_cutoff=FUZZY_THRESHOLD,
            limit=None,
        )
        agreeing = [m for m in matches if distinctive_words_agree(key, m[0])]
        # Of the names that pass: the one holding most of this name's distinctive
        # words ("Amber Security Ltd" for "Amber Security Services", not "Amber IT
        # Services CIC", which shares only a generic word besides); then the
        # nearest as a whole, all words in order ("Ashcroft Joinery Services" for
        # "Ashcroft Joinery Service", not "Ashcroft Joinery LLP", though every
        # word of the shorter scores 100 on shared words); then the higher
        # shared-words score; then the nearest full name, company form included;
        # then the first name alphabetically (min: the sign of the scores turned).
        ranked = sorted(
            (
                -distinctive_words_held(key, m[0]),
                -fuzz.token_sort_ratio(key, m[0]),
                -m[1],
                -fuzz.ratio(name, full),
                full,
            )
            for m in agreeing
            for full in keys[m[0]]
        )
        if ranked:
            ranked_for[pk] = [(existing[r[4]], round(-r[2])) for r in ranked]
    suggestions = [
        MatchSuggestion(supplier_id=pk, candidate_id=candidate, score=score)
        for pk, (candidate, score) in _mergeable_best(ranked_for).items()
    ]
    MatchSuggestion.objects.bulk_create(suggestions, ignore_conflicts=True)
    made: list[int] = []
    for chunk in _chunks([suggestion.supplier_id for suggestion in suggestions], CHUNK):
        made += MatchSuggestion.objects.filter(supplier_id__in=chunk).values_list(
            "pk", flat=True
        )
    copy_into_history(MatchSuggestion, made, user=user, reason=reason)


def _mergeable_best(
    ranked_for: dict[int, list[tuple[int, int]]],
) -> dict[int, tuple[int, int]]:
    """Each new supplier's best (candidate, score) that could be the same
    organisation: a candidate with another Companies House or charity number
    cannot (`identity_clash`; QA: the queue offered merges it then refused), so
    the next best is taken. Suppliers from spend files have no such numbers;
    only those that do are looked up."""
    from procure.merging import identity_clash

    numbered = {
        s.pk: s
        for s in Supplier.objects.filter(pk__in=list(ranked_for))
        .exclude(company_number="", charity_number="")
        .only("name", "company_number", "charity_number", "charity_register")
    }
    others = {
        s.pk: s
        for s in Supplier.objects.filter(
            pk__in={c for pk in numbered for c, _ in ranked_for[pk]}
        ).only("name", "company_number", "charity_number", "charity_register")
    }
    best = {}
    for pk, ranked in ranked_for.items():
        new = numbered.get(pk)
        fitting = (
            (candidate, score)
            for candidate, score in ranked
            if new is None or not identity_clash(others[candidate], new)
        )
        first = next(fitting, None)
        if first is not None:
            best[pk] = first
    return best


# ----------------------------------------------------------------------- lines

_LINE_COLUMNS = ["council_id", "upload_id", *COPY_COLUMNS, "supplier_id"]
_MEANWHILE: contextvars.ContextVar[Callable[[int, int], None] | None] = (
    contextvars.ContextVar("spend_import_meanwhile", default=None)
)


def _can_copy() -> bool:
    return connection.vendor == "postgresql"


def save_lines(
    upload: SpendUpload, lines: list[LineRecord], suppliers: dict[str, int]
) -> None:
    """COPY into PostgreSQL; batched INSERTs elsewhere. No per-row saves.

    `suppliers` maps the lines' normalised supplier names to supplier ids.
    """
    if _can_copy():
        _copy_lines(upload, lines, suppliers)
        return
    # Made all at once, as bulk_create would, then inserted a piece at a time,
    # so that `_meanwhile` can report between them. (Made a piece at a time,
    # they died young: Python's full garbage collections went from 19 to 93 for
    # 200,000 lines, a tenth slower.)
    made = [_spend_line(upload, line, suppliers) for line in lines]
    meanwhile = _MEANWHILE.get()
    for start in range(0, len(made), SAVE_PIECE):
        if meanwhile:
            meanwhile(start, len(made))
        SpendLine.objects.bulk_create(made[start : start + SAVE_PIECE], batch_size=2000)


def _spend_line(
    upload: SpendUpload, line: LineRecord, suppliers: dict[str, int]
) -> SpendLine:
    values: dict = copy_values(line[COPY_ROW])
    vat = values.pop("irrecoverable_vat")
    values.update(
        council_id=upload.council_id,
        upload_id=upload.pk,
        source_row=int(values["source_row"]),
        payment_date=line[PAID],
        amount=line[AMOUNT],
        redacted=values["redacted"] == "t",
        irrecoverable_vat=None if vat is None else Decimal(vat),
        supplier_id=suppliers[line[SUPPLIER]] if line[SUPPLIER] else None,
    )
    return SpendLine(**values)


def _copy_lines(
    upload: SpendUpload, lines: list[LineRecord], suppliers: dict[str, int]
) -> None:
    if not lines:
        return
    head = f"{upload.council_id}\t{upload.pk}\t"
    tails = {name: f"\t{pk}\n" for name, pk in suppliers.items()}
    tails[""] = "\t\\N\n"  # redacted: no supplier
    meanwhile = _MEANWHILE.get()

    def pieces() -> Iterator[str]:
        for start in range(0, len(lines), COPY_PIECE):
            if meanwhile:
                meanwhile(start, len(lines))
            piece = lines[start : start + COPY_PIECE]
            rows = map(itemgetter(COPY_ROW), piece)
            ends = map(tails.__getitem__, map(itemgetter(SUPPLIER), piece))
            yield "".join(chain.from_iterable(zip(repeat(head), rows, ends)))

    table = connection.ops.quote_name(SpendLine._meta.db_table)
    source = _Pieces(pieces())
    with connection.cursor() as cursor:
        try:
            cursor.cursor.copy_expert(
                f"COPY {table} ({', '.join(_LINE_COLUMNS)}) FROM STDIN", source
            )
        except Exception:
            if source.error is not None:  # psycopg2 reports it as a cancelled COPY
                raise source.error from None
            raise


class _Pieces:
    """A file-like object over pieces of text, for `copy_expert`; keeps what went
    wrong while making a piece (reading the file ahead, say)."""

    def __init__(self, pieces: Iterator[str]) -> None:
        self.pieces = pieces
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> str:
        try:
            return next(self.pieces, "")
        except BaseException as error:
            self.error = error
            raise

    def readline(self, size: int = -1) -> str:
        return self.read(size)


@contextmanager
def _meanwhile(work: Callable[[int, int], None]) -> Iterator[None]:
    """Run `work(lines sent, lines to send)` between the pieces of a COPY (or of
    the INSERTs, where there is no COPY)."""
    token = _MEANWHILE.set(work)
    try:
        yield
    finally:
        _MEANWHILE.reset(token)


def _save_issues(upload: SpendUpload, parsed: ParsedFile) -> None:
    RowIssue.objects.bulk_create(
        (
            RowIssue(
                upload=upload,
                kind=problem.kind,
                sheet=problem.sheet[:100],
                row=problem.row,
                column=problem.column[:200],
                value=problem.value[:500],
                message=problem.message[:500],
                amount=problem.amount,
                cells=problem.cells,
            )
            for problem in [*parsed.rejected, *parsed.skipped]
        ),
        batch_size=1000,
    )


class _ReadAhead:
    """Lines read from the file, gathered into chunks; can be read a little at a
    time, so that the next chunk is read while the last one is being saved."""

    def __init__(self, batches: Iterator[list[LineRecord]]) -> None:
        self.batches = batches
        self.lines: list[LineRecord] = []
        self.wanted = 0
        self.ended = False

    def take(self, size: int) -> list[LineRecord]:
        """The next chunk, of `size` lines or fewer at the end of the file."""
        self.wanted = size
        self.fill(size)
        chunk, self.lines = self.lines, []
        return chunk

    def chunks(self, size: int) -> Iterator[list[LineRecord]]:
        while chunk := self.take(size):
            yield chunk

    def keep_pace(self, sent: int, total: int) -> None:
        """Read the same share of the next chunk as has been sent of the last."""
        self.fill(self.wanted * min(total, sent + COPY_PIECE) // max(total, 1))

    def fill(self, size: int) -> None:
        while len(self.lines) < size and not self.ended:
            batch = next(self.batches, None)
            if batch is None:
                self.ended = True
            else:
                self.lines.extend(batch)


class _Progress:
    """Rows read, passed on to `progress` only where the database is free (not in
    the middle of a COPY): the callback may write to the database.

    And the steps after reading (spend.models: MATCHING, SAVING, TAGGING), passed
    on to `steps(step, done)` as each starts and as lines are saved, `done` the
    lines checked against those held and saved if new: so that the upload's page
    says what the import is doing, and a long step still gives signs of life.
    `steps` is called in the middle of a COPY and inside the import's transaction
    too: it must not use the import's connection (spend.tasks writes through one
    of its own, or to a file), and should cost little however often it is called.
    """

    def __init__(
        self,
        progress: Callable[[int], None] | None,
        steps: Callable[[str, int], None] | None = None,
    ) -> None:
        self.progress = progress
        self.steps = steps
        self.rows = self.told = 0
        self.done = 0

    def note(self, rows: int) -> None:
        self.rows = rows

    def tell(self) -> None:
        if self.progress and self.rows > self.told:
            self.told = self.rows
            self.progress(self.rows)

    def step(self, step: str, done: int | None = None) -> None:
        """At `step` now, with `done` lines done (None: as many as before)."""
        if done is not None:
            self.done = done
        if self.steps:
            self.steps(step, self.done)


class _Loader:
    """Checks chunks of lines against those held, matches their suppliers, saves
    them (unless checking only) and counts them into the result."""

    def __init__(
        self,
        council: Council,
        upload: SpendUpload | None,
        result: ImportResult,
        progress: _Progress | None = None,
    ) -> None:
        self.upload = upload
        self.result = result
        self.progress = progress or _Progress(None)
        self.held = HeldLines(council, exclude_upload=upload.pk if upload else None)
        self.held_council = council
        self.corrected: list[SpendUpload] = []  # see note_corrections
        self.suppliers = SupplierMatcher(council, upload)
        self.size = Decimal(0)  # the sum of the new lines' amounts, signs ignored
        self.zero = 0  # new lines of £0.00 (`_zero_note`)
        self.span: tuple[date, date] | None = None  # the new lines' dates

    def note_corrections(self, parsed: ParsedFile) -> None:
        """A download of another upload's rejected rows, corrected (its added
        column names the upload): those rows were not imported from it, so its
        payments (and those of the uploads it corrects in turn) must not count
        as holding them (QA: a corrected row identical to a payment imported
        from the same file, a split delivery, was taken as already held)."""
        corrected = corrected_upload(self.held_council, parsed.blocks)
        if corrected is None:
            return
        if self.upload is not None:
            self.upload.corrects = corrected
        self.corrected = correction_chain(corrected)
        self.held.leave_out((upload.pk for upload in self.corrected), parsed.added_rows)

    def _widen(self, lines: list[LineRecord]) -> None:
        if not lines:
            return
        days = list(map(itemgetter(PAID), lines))
        first, last = min(days), max(days)
        if self.span is not None:
            first, last = min(first, self.span[0]), max(last, self.span[1])
        self.span = (first, last)

    def add(
        self, lines: list[LineRecord], *, read_ahead: _ReadAhead | None = None
    ) -> None:
        """Count and save a chunk; with `read_ahead`, read the next chunk meanwhile."""
        new, duplicate = self.held.split(lines)
        result = self.result
        result.rows_imported += len(new)
        result.rows_duplicate += len(duplicate)
        result.amount_imported += sum(map(itemgetter(AMOUNT), new), Decimal("0.00"))
        self.size += sum(map(abs, map(itemgetter(AMOUNT), new)), Decimal(0))
        result.amount_duplicate += sum(
            map(itemgetter(AMOUNT), duplicate), Decimal("0.00")
        )
        if duplicate:  # where the earlier files holding them are to be found
            result.held_in = sorted(self.held.held_in)
            days = list(map(itemgetter(PAID), duplicate))
            first, last = min(days), max(days)
            if result.duplicate_span is not None:
                first = min(first, result.duplicate_span[0])
                last = max(last, result.duplicate_span[1])
            result.duplicate_span = (first, last)
        result.redacted_lines += countOf(map(itemgetter(SUPPLIER), new), "")
        self.zero += countOf(map(itemgetter(AMOUNT), new), ZERO)
        if self.upload is None:  # checking only: what the import would add
            self.suppliers.match(new)
            result.new_suppliers = self.suppliers.new_suppliers
            return
        self._widen(new)
        progress = self.progress
        progress.step(MATCHING, progress.done + len(duplicate))
        ids = self.suppliers.match(new)
        before = progress.done

        def meanwhile(sent: int, total: int) -> None:
            if read_ahead is not None:
                read_ahead.keep_pace(sent, total)
            progress.step(SAVING, before + sent)

        with _meanwhile(meanwhile):
            save_lines(self.upload, new, ids)
        progress.step(SAVING, before + len(new))
        result.new_suppliers = self.suppliers.new_suppliers

    def load(self, reader: LineReader, progress: _Progress) -> None:
        """Read, check and save every line, reading ahead while a chunk is saved."""
        ahead = _ReadAhead(reader.batches())
        chunk = ahead.take(FIRST_LINES)
        self.note_corrections(reader.parsed)  # the first block's header is read
        while chunk:
            # The next chunk is read while this one is saved, a share of it
            # per piece sent: it may be twice the size of this one, no more,
            # so that reading keeps pace with saving from a small first chunk.
            size = min(CHUNK_LINES, 2 * len(chunk))
            ahead.wanted = size
            self.add(chunk, read_ahead=ahead)
            progress.tell()
            chunk = ahead.take(size)
        progress.tell()

    def add_all(self, lines: list[LineRecord]) -> None:
        for chunk in _chunks(lines, CHUNK_LINES):
            self.add(chunk)


def import_spend_file(
    *,
    upload: SpendUpload,
    data: bytes,
    chosen: dict[str, dict[str, int]] | None = None,
    remembered: dict[str, dict[str, int]] | None = None,
    progress: Callable[[int], None] | None = None,
    steps: Callable[[str, int], None] | None = None,
    via: str = "",
) -> ImportResult:
    """Import `data` into `upload` (pending), all or nothing; return the reconciliation.
    `chosen` and `remembered` are the columns, by layout, decided when the import
    was queued (on the preview page, or remembered from before). `progress` is
    told the rows read, `steps` the steps after reading (see `_Progress`).

    Everything the import writes is recorded in history as done by
    `upload.started_by` (the worker runs outside any request, so no one is
    otherwise); `via` ("the command line") is said in the history's reasons.

    Raises FileRefused when the file cannot be imported at all; on that or any other
    error the upload is marked failed, with the reason, and nothing is saved.
    """
    upload._started_via = via
    try:
        return _import(upload, data, chosen, remembered, _Progress(progress, steps))
    except ImportSuperseded:
        raise  # the newer run owns the upload's status
    except FileRefused as refusal:
        _as_started(upload, f"The file was refused{started_from(upload)}")
        mark_failed(upload, str(refusal))
        raise
    except Exception:
        _as_started(upload, f"The import failed{started_from(upload)}")
        mark_failed(upload, INTERNAL_ERROR)
        raise


def started_from(upload: SpendUpload) -> str:
    """For the history's reasons: ', from the command line' for an import that
    `import_spend` ran (see `import_spend_file`'s `via`), else nothing."""
    via = getattr(upload, "_started_via", "")
    return f", from {via}" if via else ""


def _as_started(upload: SpendUpload, reason: str) -> None:
    """The upload's next save is recorded as made by whoever started the import,
    saying `reason`."""
    upload._history_user = upload.started_by
    upload._change_reason = reason


def _import(upload, data, chosen, remembered, tracker: _Progress) -> ImportResult:
    council = upload.council
    result = ImportResult(
        file=upload.file_name, council=council.slug, status="imported"
    )
    if _can_copy():
        # Read while saving, inside the transaction; progress is passed on
        # between chunks.
        reader = parse_for(
            council,
            data,
            upload.file_name,
            chosen=chosen,
            remembered=remembered,
            progress=tracker.note,
        )
        with transaction.atomic():
            loader = _Loader(council, upload, result, tracker)
            loader.load(reader, tracker)
            _conclude(upload, result, reader.parsed, loader)
    else:
        # Read the whole file first, outside the transaction, as the database
        # allows only one writer at a time.
        reader = parse_for(
            council,
            data,
            upload.file_name,
            chosen=chosen,
            remembered=remembered,
            progress=tracker.progress,
        )
        lines = [line for batch in reader.batches() for line in batch]
        tracker.step(MATCHING)  # said while the row can still be written
        with transaction.atomic():
            loader = _Loader(council, upload, result, tracker)
            loader.note_corrections(reader.parsed)
            loader.add_all(lines)
            _conclude(upload, result, reader.parsed, loader)
    return result


def _conclude(
    upload: SpendUpload, result: ImportResult, parsed: ParsedFile, loader: _Loader
) -> None:
    _reconcile(result, parsed)
    result.notes += _other_body(upload.council, parsed, added=result.rows_imported > 0)
    vat = decide_vat_basis(upload.vat_basis, amount_headings(parsed.blocks))
    upload.vat_basis = vat.basis  # saved by _finish
    if vat.note:
        result.notes.append(vat.note)
    _refuse_too_large(upload.file_name, result, loader)
    _save_issues(upload, parsed)
    beat = partial(loader.progress.step, TAGGING)
    beat()  # before the claim: said on the row where the database allows it
    _claim(upload)
    _hold_references(upload, loader.suppliers.ids.values())
    _classify_and_roll_up(upload, loader.suppliers.ids.values(), loader.span, beat=beat)
    result.notes += _outside_period(upload, loader.span)
    result.notes += _references_held(upload, loader.span, loader.corrected)
    result.notes += _missing_and_moved(upload, loader.held)
    result.notes += _held_but_for_reference(upload, loader.span, loader.corrected)
    result.notes += _corrections_note(loader.corrected, parsed.rows_added)
    result.notes += _zero_note(loader.zero)
    _finish(upload, result, parsed)


# The added column of a rejected-rows download that names its upload.
REJECTED_BY = "LocalSpend: rejected by upload "
_REJECTED_BY = re.compile(r"\s*localspend:\s*rejected by upload\s+#?(\d+)\s*", re.I)


def corrected_upload(council: Council, blocks: list) -> SpendUpload | None:
    """The council's upload whose rejected-rows download this file is, by the
    heading LocalSpend adds to it ("LocalSpend: rejected by upload 38"). Where a
    heading names several (a download from before they were replaced: each round
    of corrections added its own), the last, the latest."""
    for plan in blocks:
        matches = [
            match
            for heading in plan.header or []
            if isinstance(heading, str) and (match := _REJECTED_BY.fullmatch(heading))
        ]
        if matches:
            return SpendUpload.objects.filter(
                council=council, pk=int(matches[-1][1])
            ).first()
    return None


# The sheet column of a rejected-rows download (spend.views), before its
# FILE_ROW_COLUMN.
SHEET_COLUMN = "LocalSpend: sheet"
_FILE_ROW = re.compile(r"\s*(\d+)(?:\.0*)?\s*")


def rejected_for_download(issues: Iterable[RowIssue]) -> list[RowIssue]:
    """The rejected rows `issues`, as their download (spend.views) writes them:
    each row's cells without the columns an earlier download added ("LocalSpend:
    problem" …: the rows of a corrected download keep them, and each round of
    corrections added them again, QA), and, for a row of a corrected download,
    its sheet and row in the file it first came from, as that download said
    (its "LocalSpend: file row"; a row the officer added keeps its own). The
    download adds its own columns, naming this upload: the problem found now,
    and the upload that rejected the row last. The issues are changed, not
    saved."""
    issues = list(issues)
    for issue in issues:
        pairs = list(issue.cells or [])
        # Only the run of them at the end, where downloads put them: a column
        # of the council's own so headed, among its others, stays (review).
        end = len(pairs)
        while end and is_localspend_column(pairs[end - 1][0]):
            end -= 1
        if end == len(pairs):
            continue
        # The first of each, not blank: an older download repeated them each
        # round, the first giving the row in the file the rows first came from.
        added: dict[str, object] = {}
        for name, value in pairs[end:]:
            if value not in (None, ""):
                added.setdefault(str(name).strip().casefold(), value)
        issue.cells = pairs[:end]
        row = _FILE_ROW.fullmatch(str(added.get(FILE_ROW_COLUMN.casefold()) or ""))
        if row and int(row[1]) >= 1:
            issue.row = int(row[1])
            issue.sheet = str(added.get(SHEET_COLUMN.casefold()) or "").strip()
    return issues


def correction_chain(upload: SpendUpload) -> list[SpendUpload]:
    """`upload` and the uploads it corrects in turn, the corrected rows of a
    corrected file having been rejected by each."""
    chain, seen = [], set()
    while upload is not None and upload.pk not in seen:
        chain.append(upload)
        seen.add(upload.pk)
        upload = upload.corrects
    return chain


def in_file_order(issues: list[RowIssue], *uploads: SpendUpload) -> list[RowIssue]:
    """`issues` in the order of the file: by sheet, as the sheets come in the
    uploads' files (their `mappings`, the first upload's first: the original a
    download's rows name, then the correction's own), then by row (QA: "Feb
    2025, 13" came before "Jan 2025, 12", sheets going by name). A sheet none of
    them names comes after, in the order its rows first came."""
    rank: dict[str, int] = {}
    for upload in uploads:
        for block in upload.mappings or []:
            rank.setdefault(str(block.get("sheet", ""))[:100], len(rank))
    for issue in issues:
        rank.setdefault(issue.sheet, len(rank))
    return sorted(issues, key=lambda issue: (rank[issue.sheet], issue.row))


# The note `_corrections_note` gives a corrected download with rows the officer
# added (no "LocalSpend: file row"): how many of its payment lines were theirs.
_ROWS_ADDED = re.compile(r"\bcorrected, with ([\d,]+) rows? added \(no ")


def rows_added(notes: Iterable[str]) -> int:
    """The lines of rows the officer added to a corrected download, as its
    import's note says (0: none, or no such note)."""
    for note in notes:
        if isinstance(note, str) and (match := _ROWS_ADDED.search(note)):
            return int(match[1].replace(",", ""))
    return 0


@dataclass(frozen=True)
class Correction:
    """An upload of rejected rows, corrected (`SpendUpload.corrects`)."""

    pk: int
    file_name: str
    corrects_id: int
    corrects_name: str
    live: bool  # imported: not rolled back, failed or waiting
    rows_rejected: int
    imported: int  # payments imported
    # Rows of the download it came from that it imported: its imported lines
    # but those of rows the officer added. The lines are not kept with their
    # "LocalSpend: file row", so this is counted: the added rows' lines taken
    # as already held first (the month's other payments pasted back in are),
    # any left over as imported. Exact but where both a corrected row was
    # already held and an added row was imported.
    rows: int
    # What those rows came to: its amount imported, where it added no rows of
    # its own (None: not known).
    amount: Decimal | None


@dataclass(frozen=True)
class CorrectedRows:
    """How many of an upload's rejected rows corrections have imported since."""

    rejected: int
    corrected: int
    by: tuple[Correction, ...]  # the corrections that imported any, oldest first
    # What the rows corrected came to, as imported (None: not known, as one of
    # the corrections had rows added, or a row was corrected twice).
    amount: Decimal | None = None

    @property
    def still(self) -> int:
        return self.rejected - self.corrected

    @property
    def complete(self) -> bool:
        return self.corrected >= self.rejected

    @property
    def uploads(self) -> str:
        """ "upload #30", "uploads #30, #31"."""
        numbers = ", ".join(f"#{later.pk}" for later in self.by)
        return f"upload{pluralize(len(self.by))} {numbers}"

    @property
    def words(self) -> str:
        """ "all 4 since corrected (uploads #30, #31)", "3 since corrected
        (upload #30), 1 still to correct"."""
        if self.complete:
            every = {1: "", 2: "both "}.get(self.rejected, f"all {self.rejected:,} ")
            return f"{every}since corrected ({self.uploads})"
        return (
            f"{self.corrected:,} since corrected ({self.uploads}), "
            f"{self.still:,} still to correct"
        )


class Corrections:
    """The council's corrections of rejected rows, at any depth (a correction's
    own rejected rows corrected in turn), read in one query: for the uploads
    list, a fixed number of queries however many uploads it shows."""

    def __init__(self, council_id: int) -> None:
        self.of: dict[int, Correction] = {}
        self.under: dict[int, list[int]] = {}
        for row in (
            SpendUpload.objects.filter(council_id=council_id, corrects__isnull=False)
            .order_by("pk")
            .values_list(
                "pk",
                "file_name",
                "corrects_id",
                "corrects__file_name",
                "status",
                "rows_rejected",
                "rows_imported",
                "rows_duplicate",
                "amount_imported",
                "notes",
            )
        ):
            pk, name, corrects_id, corrects_name, status, rejected = row[:6]
            imported, duplicate, amount, notes = row[6:]
            live = status == UploadStatus.IMPORTED
            added = rows_added(notes or [])
            self.of[pk] = Correction(
                pk=pk,
                file_name=name,
                corrects_id=corrects_id,
                corrects_name=corrects_name,
                live=live,
                rows_rejected=rejected,
                imported=imported,
                rows=max(0, imported - max(0, added - duplicate)) if live else 0,
                amount=(amount if live else ZERO) if not added else None,
            )
            self.under.setdefault(corrects_id, []).append(pk)

    def below(self, pk: int) -> list[Correction]:
        """The corrections of upload `pk`'s rejected rows, and of theirs in
        turn, oldest first; rolled back ones too."""
        found, seen, todo = [], {pk}, [pk]
        while todo:
            for later in self.under.get(todo.pop(), []):
                if later not in seen:
                    seen.add(later)
                    found.append(self.of[later])
                    todo.append(later)
        return sorted(found, key=lambda later: later.pk)

    def corrected(self, upload: SpendUpload) -> CorrectedRows | None:
        """How many of the imported `upload`'s rejected rows its corrections
        (at any depth, imported: not rolled back) have imported since; None
        where none has."""
        if upload.status != UploadStatus.IMPORTED or not upload.rows_rejected:
            return None
        by = tuple(later for later in self.below(upload.pk) if later.rows)
        if not by:
            return None
        # A row corrected twice (two corrected files of one download) is one row.
        rows = sum(later.rows for later in by)
        amounts = [later.amount for later in by]
        return CorrectedRows(
            rejected=upload.rows_rejected,
            corrected=min(upload.rows_rejected, rows),
            by=by,
            amount=(
                sum(amounts, ZERO)
                if None not in amounts and rows <= upload.rows_rejected
                else None
            ),
        )

    def still_rejected(self, pk: int) -> int:
        """Of correction `pk`'s rejected rows, how many no later correction has
        imported (0 for one rolled back: its rows are another's to correct)."""
        correction = self.of[pk]
        if not correction.live:
            return 0
        done = sum(later.rows for later in self.below(pk) if later.live)
        return max(0, correction.rows_rejected - done)

    def chain(self, upload: SpendUpload) -> list[tuple[int, str]]:
        """For a correction, the uploads it corrects in turn, (pk, file name),
        the original first (the file whose rows its "LocalSpend: file row"
        gives) and then those between, in order: [] for an upload that corrects
        nothing."""
        chain: list[tuple[int, str]] = []
        correction = self.of.get(upload.pk)
        while correction is not None and len(chain) <= len(self.of):
            chain.insert(0, (correction.corrects_id, correction.corrects_name))
            correction = self.of.get(correction.corrects_id)
        return chain


ZERO = Decimal(0)


def _zero_note(count: int) -> list[str]:
    """A note on payments of £0.00 imported (QA: imported without a word): they
    change no total, but their payees count as suppliers paid."""
    if not count:
        return []
    return [
        f"{count:,} payment{pluralize(count)} of £0.00 {pluralize(count, 'was,were')} "
        "imported as in the file: they add nothing to the totals, but their payees "
        "are counted among the suppliers paid."
    ]


def _corrections_note(corrected: list[SpendUpload], added: int = 0) -> list[str]:
    if not corrected:
        return []
    first = corrected[0]
    if not added:
        return [
            f"This file is the rows {first.file_name} (upload #{first.pk}) "
            "rejected, corrected: they were checked against the payments of other "
            "files only, as none of them was imported from that file."
        ]
    rows = f"{added:,} row{'s' if added != 1 else ''}"
    return [
        f"This file is the rows {first.file_name} (upload #{first.pk}) rejected, "
        f"corrected, with {rows} added (no “{FILE_ROW_COLUMN}”): the rows it "
        "rejected were checked against the payments of other files only, as none "
        f"of them was imported from that file; the {rows} added were checked "
        "against that file's payments too, so none is counted twice."
    ]


def _other_body(
    council: Council, parsed: ParsedFile, *, imported: bool = True, added: bool = True
) -> list[str]:
    """A warning where the file's "Body Name" column (or the like) names another
    body than this council (QA: Craven's, Lambeth's and Devon's files went into
    Luton without a word). Looked for in each part's first rows only. A check
    (`imported` false) says what to do before importing instead."""
    note = other_body_note(parsed.blocks, [council.name, council.short_name])
    if not note:
        return []
    if not imported:
        return [f"{note} If it is not {council.name}'s file, do not import it."]
    if not added:  # QA: "imported all the same" of a file that added nothing
        return [f"{note} None of its payments was added."]
    return [
        f"{note} Its payments were imported all the same: if it is not "
        f"{council.name}'s file, roll it back."
    ]


def _outside_period(upload: SpendUpload, span: tuple[date, date] | None) -> list[str]:
    """A note on the payments dated outside the period the officer gave, if any:
    perhaps the wrong file, or the wrong period typed."""
    start, end = upload.period_start, upload.period_end
    if span is None or start is None or end is None:
        return []
    if start <= span[0] and span[1] <= end:
        return []
    outside = upload.lines.exclude(payment_date__range=(start, end)).aggregate(
        lines=Count("pk"), total=Sum("amount")
    )
    if not outside["lines"]:
        return []
    count, total = outside["lines"], gbp(outside["total"])
    return [
        f"{count:,} payment{'s' if count != 1 else ''} ({total}) "
        f"{'are' if count != 1 else 'is'} {OUTSIDE_PERIOD} for this "
        f"file, {start.day} {start:%B %Y} to {end.day} {end:%B %Y}: check that this "
        "is the file you meant, and the period. They were imported all the same."
    ]


REFERENCE_EXAMPLES = 10  # named in the warning; more are counted


def _other_files(
    upload: SpendUpload,
    span: tuple[date, date] | None,
    corrected: list[SpendUpload] = (),
) -> tuple[QuerySet, QuerySet] | None:
    """The council's payments in other files, and those of them on this file's
    dates (`span`); None when there are none on its dates. Not the file whose
    rejected rows these are: other rows of one invoice there are not
    corrections of these (QA)."""
    if span is None:
        return None
    elsewhere = SpendLine.objects.filter(council_id=upload.council_id).exclude(
        upload_id__in=[upload.pk, *(u.pk for u in corrected)]
    )
    others = elsewhere.filter(payment_date__range=span)
    if not others.exists():
        return None
    return elsewhere, others


def _listed(examples: list[str], count: int) -> str:
    """The examples a warning names, and how many more it counts."""
    more = f"; and {count - len(examples):,} more" if count > len(examples) else ""
    return "; ".join(examples) + more


def _references_held(
    upload: SpendUpload,
    span: tuple[date, date] | None,
    corrected: list[SpendUpload] = (),
) -> list[str]:
    """A note on the payments imported that look like corrections of a payment an
    earlier file of the council holds: the same transaction number on the same
    date, with the same payee but another amount, or the same amount but the
    payee written otherwise (QA: an amended file's corrected payment, and a
    re-spelt payee, were counted twice without a word). A payment exactly the
    same was counted as already held; one of another date (a staged payment of
    one invoice, as Hyndburn's files have) is not flagged. Looked for only where
    other files hold payments on this file's dates: one semi-join on PostgreSQL."""
    found = _other_files(upload, span, corrected)
    if found is None:
        return []
    elsewhere, others = found
    # Each line probes the (council, payment_date) index for its own date: with
    # the file's whole span in the subquery too, SQLite scanned the span for
    # every line (QA: 212 s of a 38,000-row import).
    same_ref = elsewhere.filter(
        payment_date=OuterRef("payment_date"),
        transaction_ref=OuterRef("transaction_ref"),
    ).filter(Q(amount=OuterRef("amount")) ^ Q(supplier_name=OuterRef("supplier_name")))
    # Only lines whose number the other files use at all are probed (one pass
    # over those files' numbers first).
    mine = (
        upload.lines.exclude(transaction_ref="")
        .filter(transaction_ref__in=others.values("transaction_ref"))
        .filter(Exists(same_ref))
    )
    found = mine.aggregate(lines=Count("pk"), total=Sum("amount"))
    if not found["lines"]:
        return []
    examples = []
    for line in mine.order_by("payment_date", "source_row")[:REFERENCE_EXAMPLES]:
        # Of several payments under one number that day, the nearest in amount
        # is the one corrected (QA: £300, £700 and £650 under one number, the
        # £700 corrected to £750, was said to be the £300).
        other = (
            others.filter(
                payment_date=line.payment_date, transaction_ref=line.transaction_ref
            )
            .filter(Q(amount=line.amount) ^ Q(supplier_name=line.supplier_name))
            .annotate(gap=Abs(F("amount") - Value(line.amount)))
            .select_related("upload")
            .order_by("gap", "pk")
            .first()
        )
        examples.append(
            f"{line.transaction_ref} on {line.payment_date:%d/%m/%Y}: "
            f"{gbp(line.amount)} to {line.supplier_name} here, {gbp(other.amount)} to "
            f"{other.supplier_name} in {other.upload.file_name}"
        )
    count = found["lines"]
    return [
        f"{count:,} payment{'s' if count != 1 else ''} ({gbp(found['total'])}) "
        f"{'have' if count != 1 else 'has'} a {REFERENCE_HELD} on a payment of the "
        f"same date with another amount or payee ({_listed(examples, count)})."
        f" If {'they are the same payments' if count != 1 else 'it is the same payment'}"
        " corrected, both versions are now counted. They were imported all the same;"
        " if this file replaces the earlier one, roll back this file, then the earlier"
        " one, then upload this file again."
    ]


def _held_but_for_reference(
    upload: SpendUpload,
    span: tuple[date, date] | None,
    corrected: list[SpendUpload] = (),
) -> list[str]:
    """A note on the payments imported that an earlier file holds with the same
    date, payee and amount, one of the two with a transaction number and the
    other without (QA: the month's file uploaded again without its transaction
    number column was imported again in full, not a word said: the line key
    includes the number). Looked for only where other files hold payments on
    this file's dates; payments to redacted payees, with no supplier to match,
    by date and amount."""
    found = _other_files(upload, span, corrected)
    if found is None:
        return []
    elsewhere, others = found
    twins = elsewhere.filter(
        payment_date=OuterRef("payment_date"),
        supplier_id=OuterRef("supplier_id"),
        amount=OuterRef("amount"),
    )
    # Each line probes the (council, payment_date) index, so only the lines
    # that could have such a twin are asked about: none when every file has its
    # numbers (the common case), a big file's lines included.
    unnumbered = Q(transaction_ref="")
    ways = []
    if upload.lines.filter(unnumbered).exists() and others.exclude(unnumbered).exists():
        ways.append(unnumbered & Exists(twins.exclude(unnumbered)))
    if upload.lines.exclude(unnumbered).exists() and others.filter(unnumbered).exists():
        ways.append(~unnumbered & Exists(twins.filter(unnumbered)))
    if not ways:
        return []
    mine = upload.lines.filter(supplier__isnull=False).filter(reduce(or_, ways))
    found = mine.aggregate(lines=Count("pk"), total=Sum("amount"))
    count = found["lines"]
    # Payments to redacted payees have no supplier to match by: those of the
    # same date and amount are counted, and said to be perhaps twice too (QA:
    # 27 redacted payments of a file imported again were doubled unsaid).
    anonymous = elsewhere.filter(
        payment_date=OuterRef("payment_date"),
        amount=OuterRef("amount"),
        supplier__isnull=True,
    )
    numbered = ~unnumbered
    redacted = upload.lines.filter(supplier__isnull=True).filter(
        (unnumbered & Exists(anonymous.filter(numbered)))
        | (numbered & Exists(anonymous.filter(unnumbered)))
    )
    hidden = redacted.aggregate(lines=Count("pk"), total=Sum("amount"))
    if not count and not hidden["lines"]:
        return []
    examples = []
    for line in mine.order_by("payment_date", "source_row")[:MISSING_EXAMPLES]:
        other = (
            elsewhere.filter(
                payment_date=line.payment_date,
                supplier_id=line.supplier_id,
                amount=line.amount,
            )
            .exclude(transaction_ref=line.transaction_ref)
            .select_related("upload")
            .order_by("pk")
            .first()
        )
        examples.append(
            f"{gbp(line.amount)} to {line.supplier_name} on "
            f"{line.payment_date:%d/%m/%Y} in {other.upload.file_name}"
        )
    n = hidden["lines"]
    if not count:  # redacted payees' alone
        return [
            f"{n:,} payment{pluralize(n)} to redacted payees "
            f"({gbp(hidden['total'])}) {pluralize(n, 'has,have')} "
            f"{HELD_BUT_FOR_REFERENCE}, one with a transaction number and the "
            "other without. If the file is one imported before, with or without "
            "its transaction number column, both are now counted: roll back this "
            "file."
        ]
    also = ""
    if n:
        also = (
            f" So may {n:,} payment{pluralize(n)} to redacted payees "
            f"({gbp(hidden['total'])}), which another file holds with the same date "
            "and amount, one with a transaction number and the other without."
        )
    return [
        f"{count:,} payment{pluralize(count)} ({gbp(found['total'])}) "
        f"{pluralize(count, 'has,have')} {HELD_BUT_FOR_REFERENCE}, one with a "
        f"transaction number and the other without ({_listed(examples, count)}). "
        f"If {pluralize(count, 'it is the same payment,they are the same payments')} "
        "(the same file with or without its transaction number column), both are "
        f"now counted: roll back this file.{also}"
    ]


MISSING_EXAMPLES = 5  # named in the note on missing payments; more are counted


def _missing_and_moved(upload: SpendUpload, held: HeldLines) -> list[str]:
    """Notes on an earlier file this one looks like a new version of (half or
    more of that file's payments in this file's period are in this one, as they
    were or corrected): its
    payments in the period that this file does not have (QA: a corrected file
    left out a £5,100 payment, still counted without a word), and among them
    those this file has on another date, the same transaction number, payee and
    amount (QA: a payment whose date was corrected was counted twice, unflagged).

    The period is the one the officer gave, else the whole months of the file's
    dates. Payments of the same date and number as one of this file's are left
    to `_references_held`. Only asked when this file held earlier payments."""
    if not held.matched or held.first is None or held.last is None:
        return []
    start, end = _period_of(upload, held.first, held.last)
    held.cover(start, end)  # the held lines of the whole period counted
    missing_keys = {key for key, n in held.counts.items() if n > 0}
    if not missing_keys:
        return []
    earlier = [
        row
        for row in SpendLine.objects.filter(
            upload_id__in=list(held.matched), payment_date__range=(start, end)
        )
        .order_by("payment_date", "pk")
        .values_list(
            "line_key",
            "payment_date",
            "transaction_ref",
            "supplier_id",
            "supplier_name",
            "amount",
            "upload_id",
        )
        if row[0] in missing_keys
    ]
    refs = {row[2] for row in earlier if row[2]}
    # Filtered here, not by a list of numbers in the query (SQLite's limit on
    # a query's parameters).
    mine = [
        row
        for row in upload.lines.exclude(transaction_ref="").values_list(
            "payment_date", "transaction_ref", "supplier_id", "amount"
        )
        if row[1] in refs
    ]
    same_day = {(day, ref) for day, ref, _, _ in mine}
    dated: dict[tuple, list[date]] = {}
    for day, ref, supplier, amount in mine:
        dated.setdefault((ref, supplier, amount), []).append(day)
    moved, gone = [], []
    # What shows this file to be a version of an earlier one: its payments
    # matched, corrected on their date, or moved to another.
    kept = Counter(held.matched)
    for _, day, ref, supplier, name, amount, upload_id in earlier:
        if ref and (day, ref) in same_day:
            kept[upload_id] += 1  # a correction on the same date: `_references_held`
            continue
        days = [d for d in dated.get((ref, supplier, amount), []) if d != day]
        if ref and days:
            kept[upload_id] += 1
            moved.append((ref, day, days[0], name, amount, upload_id))
        else:
            gone.append((day, name, amount, upload_id))
    versions = {u for u, n in kept.items() if n * 2 >= held.in_span[u]}
    moved = [row for row in moved if row[-1] in versions]
    gone = [row for row in gone if row[-1] in versions]
    files = SpendUpload.objects.in_bulk({row[-1] for row in moved + gone})
    notes = []
    if moved:
        count = len(moved)
        total = gbp(sum((row[4] for row in moved), Decimal(0)))
        examples = [
            f"{ref}: {gbp(amount)} to {name} on {here:%d/%m/%Y} here, on "
            f"{there:%d/%m/%Y} in {files[upload_id].file_name}"
            for ref, there, here, name, amount, upload_id in moved[:MISSING_EXAMPLES]
        ]
        notes.append(
            f"{count:,} payment{pluralize(count)} ({total}) of this file "
            f"{pluralize(count, 'has,have')} the transaction number, payee and amount "
            f"{DATE_MOVED}, a date this file "
            f"has no such payment on ({_listed(examples, count)}). If the date was "
            "corrected, "
            "both dates are now counted: roll back this file, then the earlier one, "
            "then upload this file again."
        )
    for upload_id in sorted({row[3] for row in gone}):
        theirs = [row for row in gone if row[3] == upload_id]
        count = len(theirs)
        total = gbp(sum((row[2] for row in theirs), Decimal(0)))
        examples = [
            f"{gbp(amount)} to {name} on {day:%d/%m/%Y}"
            for day, name, amount, _ in theirs[:MISSING_EXAMPLES]
        ]
        name = files[upload_id].file_name
        notes.append(
            f"{count:,} payment{pluralize(count)} ({total}) that {name} holds, dated "
            f"{_period_words(upload, start, end)}, {pluralize(count, 'is,are')} "
            f"{NOT_IN_FILE} {held.matched[upload_id]:,} of that file's "
            f"other payments ({_listed(examples, count)}). "
            f"{pluralize(count, 'It is,They are')} "
            f"still counted: if this file replaces {name}, roll back this file, then "
            f"{name}, then upload this file again."
        )
    return notes


def _period_of(upload: SpendUpload, first: date, last: date) -> tuple[date, date]:
    """The period the officer gave, else the whole months of `first` to `last`."""
    if upload.period_start and upload.period_end:
        return upload.period_start, upload.period_end
    end = date(last.year, last.month, monthrange(last.year, last.month)[1])
    return first.replace(day=1), end


def _period_words(upload: SpendUpload, start: date, end: date) -> str:
    if upload.period_start and upload.period_end:
        return (
            f"in the period given, {start.day} {start:%B %Y} to {end.day} {end:%B %Y}"
        )
    if (start.year, start.month) == (end.year, end.month):
        return f"in {start:%B %Y}, the month of this file's payments"
    return f"from {start:%B %Y} to {end:%B %Y}, the months of this file's payments"


def _refuse_too_large(file_name: str, result: ImportResult, loader: _Loader) -> None:
    """Refuse a file whose amounts add up to MAX_FILE_AMOUNT or more (the lines
    with their signs ignored; the rejected, skipped and stated totals as they are),
    before anything overflows the database's columns."""
    sizes = (
        loader.size,
        abs(result.amount_rejected),
        abs(result.amount_duplicate),
        abs(result.amount_skipped),
        abs(result.file_stated_total or 0),
    )
    if max(sizes) >= MAX_FILE_AMOUNT:
        raise FileRefused(
            f'"{file_name}": its amounts add up to £{max(sizes):,.2f}, more '
            f"than any spend file holds (£{MAX_FILE_AMOUNT:,.0f}). Check that the "
            "amount column holds pounds and pence, and upload the file again."
        )


def _classify_and_roll_up(
    upload: SpendUpload,
    supplier_ids: Iterable[int],
    span: tuple[date, date] | None,
    beat: Callable[[], None] = lambda: None,
) -> None:
    """Tag the suppliers paid by this file (new ones, and known ones new to this
    council) and recount the dashboard rollups for the months it covers (`span`:
    the first and last payment dates of the lines saved, None for none). `beat`
    is called between the steps: a sign of life."""
    hold_rollup_lock()  # until the import commits: see spend.models
    beat()
    ids = sorted(set(supplier_ids))
    tagged = None
    if ids:
        tagged = classify_suppliers(
            supplier_ids=ids,
            councils=[upload.council],
            user=upload.started_by,
            rollups=False,
        )
    retag = bool(tagged and (tagged.created or tagged.changed or tagged.removed))
    if span is not None:
        beat()
        # When tags changed, this council's tag rollups are all rebuilt below.
        rollup.refresh_months(upload.council_id, *span, tags=not retag)
    if retag:
        # Tags that changed count in every month, and every council, that paid
        # these suppliers before.
        councils = set(rollup.councils_paying(ids))
        if span is not None:
            councils.add(upload.council_id)
        for council_id in sorted(councils):
            beat()
            rollup.refresh_tags(council_id)
    beat()
    # The new lines join the contracts that cover them (procure.linking's rule).
    if (
        Contract.objects.filter(council_id=upload.council_id)
        .exclude(status=ContractStatus.PIPELINE)
        .exists()
    ):
        SpendLine.objects.filter(upload=upload, supplier__isnull=False).update(
            contract=covering_contract()
        )
        _tell_contracts(upload)


def _tell_contracts(upload: SpendUpload) -> None:
    """One entry in the history of each contract the new lines joined, as a
    rollback writes one for the lines it takes off (QA: a contract's spend to
    date rose with no word of where from)."""
    ContractLinkChange.objects.bulk_create(
        ContractLinkChange(
            contract_id=contract_id,
            recorded_by=upload.started_by,
            lines_gained=lines,
            amount_gained=total,
            what=f"{lines:,} payment{pluralize(lines)} ({gbp(total)}) added "
            f"with spend file “{upload.file_name}” (upload #{upload.pk})",
        )
        for contract_id, lines, total in upload.lines.filter(contract__isnull=False)
        .values("contract_id")
        .annotate(lines=Count("pk"), total=Sum("amount"))
        .values_list("contract_id", "lines", "total")
        .order_by("contract_id")
    )


class ImportSuperseded(Exception):
    """Another run of the same upload started meanwhile (a retry): this one stops."""


def _claim(upload: SpendUpload) -> None:
    """Lock the upload row; only the latest attempt of a running import may save.

    Taken when the lines are in, just before the upload is marked imported, so that
    the progress written meanwhile (see spend.tasks) is never held up by the lock.
    """
    current = SpendUpload.objects.select_for_update().get(pk=upload.pk)
    if current.attempt != upload.attempt or current.status not in (
        UploadStatus.PENDING,
        UploadStatus.IMPORTING,
    ):
        raise ImportSuperseded(f"Upload {upload.pk} was restarted; this run stops.")


def _hold_references(upload: SpendUpload, supplier_ids: Iterable[int]) -> None:
    """Make sure the council and the suppliers the new lines point at exist, and
    keep them from being deleted until the import commits: SpendLine's foreign
    keys are not checked by the database (see spend.models.hold_rows)."""
    hold_rows(Council, [upload.council_id])
    hold_rows(Supplier, supplier_ids)


def _finish(upload: SpendUpload, result: ImportResult, parsed: ParsedFile) -> None:
    for name in (
        "rows_read",
        "rows_imported",
        "rows_rejected",
        "rows_duplicate",
        "rows_skipped",
        "amount_imported",
        "amount_rejected",
        "amount_duplicate",
        "amount_skipped",
        "file_stated_total",
        "redacted_lines",
        "new_suppliers",
    ):
        setattr(upload, name, getattr(result, name))
    upload.status = UploadStatus.IMPORTED
    upload.progress_rows = result.rows_read
    if result.duplicate_span is not None:
        upload.duplicate_first, upload.duplicate_last = result.duplicate_span
    upload.held_in = result.held_in
    upload.notes = result.notes
    upload.mappings = [
        {
            "sheet": plan.sheet,
            "layout": plan.layout,
            "header": plan.header,
            "width": plan.width,
            "header_row": plan.header_row,
            "columns": plan.columns,
            "source": plan.source,
        }
        for plan in parsed.blocks
    ]
    upload.message = ""
    upload.finished_at = timezone.now()
    _as_started(upload, imported_reason(result) + started_from(upload))
    upload.save()


def imported_reason(result: ImportResult) -> str:
    """The "imported" history record's reason: "Imported 1,234 rows
    (£56,789.00)", with the rows rejected and already held where there were any."""
    rows = result.rows_imported
    reason = f"Imported {rows:,} row{pluralize(rows)} ({gbp(result.amount_imported)})"
    others = [
        f"{count:,} {what}"
        for count, what in (
            (result.rows_rejected, "rejected"),
            (result.rows_duplicate, "already held"),
        )
        if count
    ]
    return f"{reason}; {', '.join(others)}" if others else reason


def mark_failed(upload: SpendUpload, message: str) -> None:
    """Mark the upload failed, saying why (`message`, shown on its page)."""
    upload.status = UploadStatus.FAILED
    upload.message = message
    upload.finished_at = timezone.now()
    upload.save(update_fields=["status", "message", "finished_at"])


def check_file(
    council: Council, data: bytes, file_name: str, vat_basis: str = VatBasis.UNKNOWN
) -> ImportResult:
    """Parse and reconcile without saving anything (`--dry-run`). The notes say
    what the import would make of the VAT basis stated (`vat_basis`)."""
    reader = parse_for(council, data, file_name)
    result = ImportResult(file=file_name, council=council.slug, status="dry_run")
    loader = _Loader(council, None, result)
    # The new lines' payees are matched as the import would, to count the new
    # suppliers, and the suppliers that makes are rolled back.
    with transaction.atomic():
        for number, chunk in enumerate(
            _ReadAhead(reader.batches()).chunks(CHUNK_LINES)
        ):
            if number == 0:
                loader.note_corrections(reader.parsed)
            loader.add(chunk)
        transaction.set_rollback(True)
    _reconcile(result, reader.parsed)
    result.notes += _other_body(council, reader.parsed, imported=False)
    result.plans = list(reader.parsed.blocks)
    vat = decide_vat_basis(vat_basis, amount_headings(reader.parsed.blocks))
    if vat.note:
        result.notes.append(vat.note)
    _refuse_too_large(file_name, result, loader)  # as the import would
    return result


class RollbackRefused(ValueError):
    """Rolling back this upload alone would lose payments: the message says why."""


def uploads_relying_on(upload: SpendUpload) -> QuerySet[SpendUpload]:
    """Imported uploads of the council, finished after `upload`, that counted some
    of their lines as already held. Those lines may be this upload's: rolled back
    alone, it would take them away and they would be held nowhere, while the
    later file, still imported, could not be imported again. Latest first. None
    for an upload that holds no payment: there is nothing of it to rely on."""
    if not upload.lines.exists():
        return SpendUpload.objects.none()
    after = upload.finished_at or upload.uploaded_at
    later = (
        SpendUpload.objects.filter(
            council_id=upload.council_id,
            status=UploadStatus.IMPORTED,
            rows_duplicate__gt=0,
            finished_at__gt=after,
        )
        .exclude(pk=upload.pk)
        .order_by("-finished_at")
    )

    # A later import keeps which uploads hold its rows already held (`held_in`):
    # it relies on this one if this one is among them (QA: files with payments
    # on the same dates held up a rollback). For one imported before that was
    # kept: if this upload has payments between its duplicate dates (a line's
    # key holds its date); before those were kept too, it is assumed to.
    def relies(held_in: list[int], first: date | None, last: date | None) -> bool:
        if held_in:
            return upload.pk in held_in
        if first is None or last is None:
            return True
        return upload.lines.filter(payment_date__range=(first, last)).exists()

    relying = [
        pk
        for pk, *kept in later.values_list(
            "pk", "held_in", "duplicate_first", "duplicate_last"
        )
        if relies(*kept)
    ]
    return later.filter(pk__in=relying)


def rollback_upload(upload: SpendUpload, *, user, reason: str = "") -> int:
    """Remove every line of an imported upload; the upload row stays, marked rolled back.
    Its history says `reason`, or how many lines were removed.

    Refused (RollbackRefused) while a later upload relies on it (`uploads_relying_on`):
    roll that back first, then this, then import the later file again.
    """
    with transaction.atomic():
        upload = SpendUpload.objects.select_for_update().get(pk=upload.pk)
        holds_lines = upload.lines.exists()
        if holds_lines:  # none: no rollup to rewrite, no import to wait for
            hold_rollup_lock()  # after the upload's row, as an import takes them
        if upload.status != UploadStatus.IMPORTED:
            raise ValueError(
                f"Only an imported upload can be rolled back ({upload.status})."
            )
        relying = list(uploads_relying_on(upload)[:5])
        if relying:
            names = ", ".join(f"“{later.file_name}”" for later in relying)
            raise RollbackRefused(
                f"Roll back {names} first: imported after this file, "
                f"{'they' if len(relying) > 1 else 'it'} counted some payments as "
                "already held, "
                + (
                    "from this file"
                    if all(later.held_in for later in relying)
                    else "perhaps from this file"
                )
                + ". Rolled back alone, this file "
                "would take those payments with it and they would be held nowhere. "
                "Roll back the later file, then this one, then import the later "
                "file again."
            )
        span = upload.lines.aggregate(
            first=Min("payment_date"), last=Max("payment_date")
        )
        # The contracts its payments were linked to are told (security review:
        # their spend to date fell without a word in their history).
        taken = [
            ContractLinkChange(
                contract_id=contract_id,
                recorded_by=user,
                lines_lost=lines,
                amount_lost=total,
                what=f"{lines:,} payment{pluralize(lines)} ({gbp(total)}) removed "
                f"with spend file “{upload.file_name}” (upload #{upload.pk}), "
                "rolled back",
            )
            for contract_id, lines, total in upload.lines.filter(contract__isnull=False)
            .values("contract_id")
            .annotate(lines=Count("pk"), total=Sum("amount"))
            .values_list("contract_id", "lines", "total")
            .order_by("contract_id")
        ]
        removed, _ = upload.lines.all().delete()
        ContractLinkChange.objects.bulk_create(taken)
        if span["first"] is not None:
            rollup.refresh_months(upload.council_id, span["first"], span["last"])
        upload.status = UploadStatus.ROLLED_BACK
        upload.rolled_back_by = user
        upload.rolled_back_at = timezone.now()
        upload._change_reason = reason or f"Rolled back: {removed} lines removed"
        upload.save()
    return removed
