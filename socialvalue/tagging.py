"""Tag suppliers: run the rules of `socialvalue.classify` over the register, in bulk.

Set-based: a handful of queries load suppliers, councils, overrides, existing tags
and the Living Wage list; the rules run in Python on plain values; only tags whose
value, source or evidence changed are written, with history, in a few bulk
statements. Officer overrides win over every rule and survive every run until an
officer removes them.

Budget: 50,000 suppliers for 4 councils (350,000 tags) in under 10 s, first run and
re-run (bench/classify_bench.py).

Location uses the ONS postcode directory (`Postcode`, loaded by load_postcodes)
when it is loaded: the authorities of the suppliers' full postcodes are read in
one query and handed to the rules. Suppliers merged into another (`merged_into`)
have no spend of their own and are not classified; any tags they still hold are
removed.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from itertools import chain, islice
from operator import attrgetter, itemgetter
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connection, connections, transaction
from django.utils import timezone

from councils.models import Council
from procure.models import Contract, Supplier, SupplierAlias
from socialvalue import classify
from socialvalue.models import (
    Confidence,
    LivingWageEmployer,
    LivingWageSnapshot,
    Postcode,
    SupplierTag,
    TagKind,
    TagOverride,
    TagSource,
)
from spend import rollup
from spend.models import SpendLine, SupplierMonth, hold_rollup_lock, hold_rows
from spend.values import parse_postcode

FACT_FIELDS = [
    "name",
    "organisation_type",
    "company_number",
    "company_category",
    "charity_number",
    "charity_register",
    "postcode",
    "employees",
    "turnover",
    "balance_sheet_total",
    "accounts_category",
    "company_status",
    "part_of_large_group",
    "living_wage_accredited",
]
AREA_FIELDS = [
    "gss_code",
    "local_districts",
    "local_authority_codes",
    "wider_kind",
    "wider_label",
    "wider_districts",
    "wider_authority_codes",
    "wider_region",
    "wider_radius_miles",
    "wider_centre_district",
]
CHUNK = 500  # supplier ids per query, when only a few suppliers are classified
FEW = 5000  # more ids than this: read the whole table once and filter here
Key = tuple[int, int | None, str]  # supplier, council (location only), kind


@dataclass
class ClassifyResult:
    suppliers: int = 0
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0  # tags of merged suppliers, deleted
    by_value: dict[str, int] = field(default_factory=dict)


@cache
def districts() -> dict[str, classify.District]:
    return classify.load_districts(
        settings.BASE_DIR / "fixtures" / "postcode_districts.csv"
    )


def area_of(council: Council) -> classify.Area:
    values = {name: getattr(council, name) for name in AREA_FIELDS}
    return classify.area_from_mapping({"name": council.short_name, **values})


def accredited_names() -> dict[str, date]:
    """The latest Living Wage snapshot: normalised name → the snapshot's date."""
    try:
        snapshot = LivingWageSnapshot.objects.latest()
    except LivingWageSnapshot.DoesNotExist:
        return {}
    names = LivingWageEmployer.objects.filter(snapshot=snapshot).values_list(
        "normalised_name", flat=True
    )
    return dict.fromkeys(names, snapshot.taken_on)


def postcode_authorities(postcodes: Iterable[object]) -> dict[str, str] | None:
    """The ONS postcode directory's local authority (GSS code) of each full
    postcode given, keyed "LU1 2AB"; postcodes it does not list are left out.
    None when no directory is loaded (or no full postcode is given).

    Two queries whatever the number of postcodes: is a directory loaded, and the
    rows for all the postcodes at once, passed as a single parameter (a
    PostgreSQL array, a JSON array on SQLite), so there is no limit on their number.
    """
    if not Postcode.objects.exists():
        return None
    wanted = sorted(
        {
            parsed
            for text in set(postcodes)
            if text and " " in (parsed := parse_postcode(text) or "")
        }
    )
    if not wanted:
        return None
    table = connection.ops.quote_name(Postcode._meta.db_table)
    select = f"SELECT postcode, authority FROM {table} WHERE postcode "
    if connection.vendor == "postgresql":
        rows = _rows(select + "= ANY(%s)", [wanted])
    elif connection.vendor == "sqlite":
        rows = _rows(
            select + "IN (SELECT value FROM json_each(%s))", [json.dumps(wanted)]
        )
    else:
        rows = [
            row
            for chunk in _chunks(wanted, CHUNK)
            for row in Postcode.objects.filter(postcode__in=chunk).values_list(
                "postcode", "authority"
            )
        ]
    return dict(rows)


def councils_paying(supplier_ids: list[int] | None) -> list[int]:
    """rollup.councils_paying, with many ids passed as one parameter (a
    PostgreSQL array, a JSON array on SQLite) rather than one each."""
    if supplier_ids is None or len(supplier_ids) <= FEW:
        return rollup.councils_paying(supplier_ids)
    table = connection.ops.quote_name(SupplierMonth._meta.db_table)
    select = f"SELECT DISTINCT council_id FROM {table} WHERE supplier_id "
    if connection.vendor == "postgresql":
        rows = _rows(select + "= ANY(%s)", [supplier_ids])
    elif connection.vendor == "sqlite":
        rows = _rows(
            select + "IN (SELECT value FROM json_each(%s))",
            [json.dumps(supplier_ids)],
        )
    else:
        return rollup.councils_paying(supplier_ids)
    return sorted(council_id for (council_id,) in rows)


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _chunks(items: list, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def council_links(supplier_ids: list[int] | None, councils: list[Council]) -> set:
    """(supplier, council) pairs that need a location tag: the council paid, named or
    contracted the supplier.

    Payments are found by probing the spend lines' (supplier, council) index once
    per pair (`_paid_links`). Names and contracts: a few suppliers are looked up by
    id; for many (or all) the councils' pairs are read in one query and filtered
    here, which is far quicker than hundreds of chunked queries.
    """
    council_ids = [c.pk for c in councils]
    if not council_ids:
        return set()
    querysets = [
        queryset.filter(council_id__in=council_ids)
        .order_by()
        .values_list("supplier_id", "council_id")
        .distinct()
        for queryset in (
            SupplierAlias.objects.all(),
            Contract.objects.filter(supplier__isnull=False),
        )
    ]
    pairs = _paid_links(supplier_ids, council_ids)
    if supplier_ids is None or len(supplier_ids) > FEW:
        for queryset in querysets:
            pairs.update(_fetch(queryset))
        if supplier_ids is None:
            return pairs
        wanted = set(supplier_ids)
        return {pair for pair in pairs if pair[0] in wanted}
    for queryset in querysets:
        for chunk in _chunks(supplier_ids, CHUNK):
            pairs.update(_fetch(queryset.filter(supplier_id__in=chunk)))
    return pairs


def _paid_links(
    supplier_ids: list[int] | None, council_ids: list[int]
) -> set[tuple[int, int]]:
    """(supplier, council) pairs where the council has paid the supplier.

    One probe of the spend lines' (supplier, council) index per pair asked about,
    however many lines each pair has: an import of a million lines asks about its
    few thousand suppliers without reading again the lines it has just written.
    The ids go as one parameter: a PostgreSQL array, a JSON array on SQLite.
    """

    def listed(name: str, values: list[int]) -> tuple[str, list]:
        if connection.vendor == "postgresql":
            return f"unnest(%s::bigint[]) AS {name}(id)", [values]
        return f"(SELECT value AS id FROM json_each(%s)) AS {name}", [
            json.dumps(values)
        ]

    if supplier_ids is None:
        table = connection.ops.quote_name(Supplier._meta.db_table)
        suppliers, params = f"{table} AS s", []
    else:
        suppliers, params = listed("s", supplier_ids)
    councils, more = listed("c", council_ids)
    lines = connection.ops.quote_name(SpendLine._meta.db_table)
    sql = (
        f"SELECT s.id, c.id FROM {suppliers} CROSS JOIN {councils} "
        f"WHERE EXISTS (SELECT 1 FROM {lines} AS line "
        "WHERE line.supplier_id = s.id AND line.council_id = c.id)"
    )
    return set(_rows(sql, [*params, *more]))


def _fetch(queryset) -> list[tuple]:
    """A values_list queryset's rows straight from the cursor, without the ORM's
    per-row work: only for columns it does not convert (integers and text)."""
    try:
        sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    except EmptyResultSet:
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


_NUMBERS = {
    "employees",
    "turnover",
    "balance_sheet_total",
    "part_of_large_group",
    "living_wage_accredited",
}
_TEXT_AT = tuple(i for i, name in enumerate(FACT_FIELDS) if name not in _NUMBERS)


def facts_of(row: dict) -> classify.SupplierFacts:
    """The rules' view of a supplier row: "" for missing text, None for missing numbers."""
    return _facts([row[name] for name in FACT_FIELDS])


def _facts(values: list) -> classify.SupplierFacts:
    """facts_of for the values of FACT_FIELDS, in order."""
    for at in _TEXT_AT:
        if values[at] is None:
            values[at] = ""
    return classify.SupplierFacts(*values)


class KindWords(NamedTuple):
    """A kind of tag in words: `noun` for "the … tag" (in a heading, or listed:
    "its size and VCSE tags"), `fact` for what it says of the supplier."""

    noun: str
    fact: str


# Each kind of tag in words, for every page that names one.
KIND_WORDS = {
    TagKind.LOCALITY: KindWords("location", "its location"),
    TagKind.SIZE: KindWords("size", "its size"),
    TagKind.VCSE: KindWords("VCSE", "whether it is a VCSE"),
    TagKind.LIVING_WAGE: KindWords(
        "real Living Wage employer", "whether it is a real Living Wage employer"
    ),
}


def rules_verdict(supplier, council: Council, kind: str) -> classify.TagResult:
    """What the rules alone say of the supplier's `kind` tag (for `council`, for
    a location), as a run would decide it without an officer's override: shown
    beside an override, so that one the rules now agree with, or one made on
    facts since changed, is noticed."""
    facts = facts_of({name: getattr(supplier, name) for name in FACT_FIELDS})
    if kind == TagKind.LOCALITY:
        rule = classify.locality_rule(
            area_of(council), districts(), postcode_authorities([facts.postcode])
        )
        return rule(facts.postcode)
    if kind == TagKind.LIVING_WAGE:
        return classify.living_wage_rule(_accredited_for(facts))(facts)
    if kind == TagKind.SIZE:
        return classify.classify_size(facts)
    return classify.classify_vcse(facts)


# A key no supplier's name can have (`classify` looks up normalised names, never
# blank): it carries the list's date when the supplier is not on it.
_LIST_DATE = ""


def _accredited_for(facts: classify.SupplierFacts) -> dict[str, date]:
    """As much of `accredited_names()` as the Living Wage rule reads for one
    supplier, in at most three small queries whatever the list's length: the
    entries for its normalised name and that name without its company form
    (all `classify.living_wage_rule` looks up), else, when the list is loaded
    and holds anyone, one entry under a blank key for the list's date (so "not
    on the list of …" is said, not "no list is loaded")."""
    try:
        snapshot = LivingWageSnapshot.objects.latest()  # as accredited_names()
    except LivingWageSnapshot.DoesNotExist:
        return {}
    keys = classify.living_wage_keys(facts)
    employers = LivingWageEmployer.objects.filter(snapshot=snapshot)
    found = dict.fromkeys(
        employers.filter(normalised_name__in=keys).values_list(
            "normalised_name", flat=True
        ),
        snapshot.taken_on,
    )
    if not found and employers.exists():
        found[_LIST_DATE] = snapshot.taken_on
    return found


def _override_result(override: TagOverride) -> classify.TagResult:
    # The evidence names no one: size, VCSE and Living Wage tags are shared by
    # every council, and other councils' people are not named to a council. The
    # pages say who decided, to the members of that person's own councils.
    when = f"{override.created_at:%d %B %Y}"
    return classify.TagResult(
        value=override.value,
        source=TagSource.OFFICER_OVERRIDE,
        evidence=f"An officer set this on {when}: {override.reason}",
        confidence=Confidence.HIGH,
    )


def supplier_saved(supplier_id: int, user=None, *, verified_changed: bool = False):
    """Work a supplier's tags out again after its details were edited (postcode,
    size, numbers, accreditation decide them), for every council; overrides
    still win. Ticking or unticking "checked" changes no tag, but the dashboards
    count spend with suppliers not yet checked from the tag rollups: those of the
    councils paying it are recounted (QA: the figure stayed as it was)."""
    tagged = classify_suppliers(supplier_ids=[supplier_id], user=user)
    if verified_changed and not (tagged.created or tagged.changed or tagged.removed):
        with transaction.atomic():
            hold_rollup_lock()
            for council_id in councils_paying([supplier_id]):
                rollup.refresh_tags(council_id)
    return tagged


def classify_suppliers(
    *,
    supplier_ids: Iterable[int] | None = None,
    councils: Iterable[Council] | None = None,
    user=None,
    rollups: bool = True,
) -> ClassifyResult:
    """(Re)classify suppliers (all, or those given) for the councils (all, or given).

    When a tag changes, the councils' dashboard rollups are rebuilt in the same
    transaction; `rollups=False` leaves that to the caller (the importer).
    """
    # The run builds millions of small, acyclic objects (rows, tuples, results);
    # the cyclic garbage collector would walk them all again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        # One run at a time, reading the tags it rewrites only once it may write:
        # two runs at once (an import's and a reclassification) would each add
        # the same new tag, or recount the same rollup months.
        with transaction.atomic():
            hold_rollup_lock()
            return _classify(supplier_ids, councils, user, rollups)
    finally:
        if collecting:
            gc.enable()


def _classify(
    supplier_ids: Iterable[int] | None,
    councils: Iterable[Council] | None,
    user,
    rollups: bool,
) -> ClassifyResult:
    ids = None if supplier_ids is None else sorted(set(supplier_ids))
    council_list = (
        list(councils) if councils is not None else list(Council.objects.all())
    )
    areas = {council.pk: area_of(council) for council in council_list}
    # Merged suppliers' spend, aliases and contracts are their kept supplier's.
    facts = _load(
        Supplier.objects.filter(merged_into__isnull=True)
        .order_by()
        .values_list("pk", *FACT_FIELDS),
        ids,
        "pk",
        0,
    )
    overrides = {
        (o.supplier_id, o.council_id, o.kind): o
        for o in _load(TagOverride.objects.select_related("created_by"), ids)
    }
    existing = {
        row[1:4]: row
        for row in _load(
            SupplierTag.objects.order_by().values_list("pk", *KEY_FIELDS, *SAVED),
            ids,
            "supplier_id",
            1,
            _fetch,
        )
    }
    supplier_facts = {row[0]: _facts(list(row[1:])) for row in facts}
    living_wage = classify.living_wage_rule(accredited_names())
    places: dict[int, list[int]] = {}
    for supplier_id, council_id in council_links(ids, council_list):
        if supplier_id in supplier_facts:
            places.setdefault(supplier_id, []).append(council_id)
    table = districts()
    authorities = postcode_authorities(supplier_facts[pk].postcode for pk in places)
    locality = {
        pk: classify.locality_rule(area, table, authorities)
        for pk, area in areas.items()
    }
    # In (supplier, kind, council) order, the order of the unique indexes (kinds
    # sort living_wage, locality, size, vcse), so that the database appends to
    # its indexes rather than searching them for every new tag.
    keys: list[Key] = []
    for pk in sorted(supplier_facts):
        keys.append((pk, None, TagKind.LIVING_WAGE))
        keys.extend(
            (pk, council_id, TagKind.LOCALITY)
            for council_id in sorted(places.get(pk, ()))
        )
        keys.append((pk, None, TagKind.SIZE))
        keys.append((pk, None, TagKind.VCSE))
    # An officer's location override stands even where the council has no
    # spend, name or contract with the supplier (any other kind is in `keys`).
    if overrides:
        seen = set(keys)
        keys.extend(
            key
            for key in overrides
            if key not in seen
            and key[2] == TagKind.LOCALITY
            and key[0] in supplier_facts
        )
        del seen
    rules = {
        TagKind.LIVING_WAGE: living_wage,
        TagKind.SIZE: classify.classify_size,
        TagKind.VCSE: classify.classify_vcse,
    }

    def decide(key: Key) -> classify.TagResult:
        """The tag `key` should have: the officer's override, else the rule's."""
        if overrides and (override := overrides.get(key)) is not None:
            return _override_result(override)
        supplier = supplier_facts[key[0]]
        if key[1] is not None:
            return locality[key[1]](supplier.postcode)
        return rules[key[2]](supplier)

    # Tags of suppliers not classified here: merged suppliers' (merging deletes
    # them; this catches any left, e.g. by a merge made another way).
    stale = [row[0] for key, row in existing.items() if key[0] not in supplier_facts]
    with transaction.atomic():
        result = _save(keys, decide, existing, user)
        if stale:
            # One by one, so that each gets its "-" history row (rare and few).
            for chunk in _chunks(stale, CHUNK):
                result.removed += SupplierTag.objects.filter(pk__in=chunk).delete()[0]
        if rollups and (result.created or result.changed or result.removed):
            if result.created + result.changed > rollup.RESTATE_AFTER:
                rollup.restate(SupplierTag)
            # Size, VCSE and Living Wage tags count in every council that pays
            # the supplier, not only the councils classified for.
            for council_id in councils_paying(ids):
                rollup.refresh_tags(council_id)
    result.suppliers = len(facts)
    return result


def _load(
    queryset,
    ids: list[int] | None,
    field_name: str = "supplier_id",
    at: int | None = None,
    fetch: Callable = list,
) -> list:
    """The queryset's rows for the suppliers `ids` (all rows for None). The supplier
    id is row[at] (a values_list) or the attribute `field_name` (objects).

    A few ids are looked up in chunks; many are read in one query and filtered
    here, which is far quicker than hundreds of chunked queries.
    """
    if ids is None:
        return fetch(queryset)
    if len(ids) > FEW:
        wanted = set(ids)
        supplier_of = itemgetter(at) if at is not None else attrgetter(field_name)
        return [row for row in fetch(queryset) if supplier_of(row) in wanted]
    rows = []
    for chunk in _chunks(ids, CHUNK):
        rows.extend(fetch(queryset.filter(**{f"{field_name}__in": chunk})))
    return rows


KEY_FIELDS = ("supplier_id", "council_id", "kind")
SAVED = ("value", "source", "evidence", "confidence", "rule_version")
STAMPS = ("decided_at", "decided_by_id")
TAG_COLUMNS = (*KEY_FIELDS, *SAVED, *STAMPS)
HISTORY_FIELDS = (
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user_id",
)


def _save(
    keys: list[Key],
    decide: Callable[[Key], classify.TagResult],
    existing: dict,
    user,
) -> ClassifyResult:
    """Decide each key's tag; write new and changed tags, and a history row for
    each, in bulk.

    The rules run as the new tags are written: on PostgreSQL the database stores
    the tags already sent (COPY) while the rules decide the next ones.
    """
    now = timezone.now()
    user_id = user.pk if user is not None else None
    stamps = (connection.ops.adapt_datetimefield_value(now), user_id)
    result = ClassifyResult()
    counts: Counter = Counter()
    changed: list[tuple] = []
    version = classify.RULE_VERSION

    def new_rows() -> Iterator[tuple]:
        """(*KEY_FIELDS, *SAVED values) of each new tag; changed tags are
        gathered in `changed`, every decision counted in `counts`."""
        for key in keys:
            decision = decide(key)
            counts[key[2], decision.value] += 1
            values = (
                decision.value,
                decision.source,
                decision.evidence,
                decision.confidence,
                version,
            )
            if (row := existing.get(key)) is None:
                yield key + values
            elif row[4:] != values:
                changed.append((row[0], *values))

    fresh = [key for key in keys if key not in existing]
    new = len(fresh)
    # The database does not check the tags' keys (see SupplierTag): what the new
    # tags point at, and the deciding user, are checked and held here.
    if new:
        hold_rows(get_user_model(), [user_id])
        hold_rows(Supplier, {key[0] for key in fresh})
        hold_rows(Council, {key[1] for key in fresh})
        del fresh
        with transaction.atomic(), _Writer(connection, stamps) as writer:
            writer.insert(new_rows(), new)
            writer.update(changed)
    else:
        for _ in new_rows():
            pass
        if changed:
            hold_rows(get_user_model(), [user_id])
            with transaction.atomic(), _Writer(connection, stamps) as writer:
                writer.update(changed)
    result.created, result.changed = new, len(changed)
    result.unchanged = len(keys) - new - len(changed)
    result.by_value = {f"{kind}:{value}": n for (kind, value), n in counts.items()}
    return result


class _CopySource:
    """A file for psycopg2's copy_expert that writes `rows` as CSV lines ending
    with `end`, a thousand at a time, as the COPY reads them; keeps the same lines
    ending with `history_end` instead in `history`, for a second COPY."""

    lines = 1000  # rows a read

    def __init__(self, rows: Iterable[tuple], end: str, history_end: str) -> None:
        self.rows = iter(rows)
        self.end, self.history_end = end, history_end
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator=end)
        self.history: list[str] = []
        self.count = 0  # rows read

    def read(self, size: int = -1) -> str:
        rows = list(islice(self.rows, self.lines))
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerows(rows)
        text = self.buffer.getvalue()
        # `end` holds the time to the microsecond: no evidence has it, but check.
        if text.count(self.end) != len(rows):
            raise RuntimeError("A tag's evidence holds the time it was decided.")
        self.count += len(rows)
        self.history.append(text.replace(self.end, self.history_end))
        return text


class _Writer:
    """Raw multi-row SQL for the tags and their django-simple-history rows.

    On SQLite each statement carries up to 2,000 rows, so the table's CHECK
    constraints are prepared once per statement, not once per row, and the
    history rows are copied in the database from the tags just written;
    PostgreSQL gets the new tags and their history rows by COPY. History rows
    are as bulk_create_with_history would write them: history_date is the
    decision's time, history_user the deciding user.
    Changed tags are updated from a VALUES list (UPDATE … FROM: SQLite 3.33+).
    """

    def __init__(self, connection, stamps: tuple) -> None:
        """stamps: decided_at (adapted for the database) and decided_by_id."""
        connection.ensure_connection()
        self.cursor = connection.connection.cursor()  # DB-API: no debug logging
        self.postgresql = connection.vendor == "postgresql"
        self.mark = "%s" if self.postgresql else "?"
        limit = connection.features.max_query_params
        if getlimit := getattr(connection.connection, "getlimit", None):
            limit = getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # Python 3.11+
        self.rows = max(1, min(2000, (limit or 32766) // len(TAG_COLUMNS)))
        self.stamps = stamps
        self.table = connection.ops.quote_name(SupplierTag._meta.db_table)
        self.history = connection.ops.quote_name(
            SupplierTag.history.model._meta.db_table
        )

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc) -> None:
        self.cursor.close()

    def _values(self, count: int, width: int) -> str:
        one = "(" + ", ".join([self.mark] * width) + ")"
        return "VALUES " + ", ".join([one] * count)

    def _copy(self, kind: str, where: str) -> str:
        """SQL copying the tags selected by `where` into their history."""
        columns = ", ".join(["id", *TAG_COLUMNS])
        return (
            f"INSERT INTO {self.history} ({columns}, {', '.join(HISTORY_FIELDS)}) "
            f"SELECT {columns}, decided_at, NULL, '{kind}', decided_by_id {where}"
        )

    def insert(self, rows: Iterable[tuple], count: int) -> None:
        """rows: `count` tags' (*KEY_FIELDS, *SAVED values), each with a "+"
        history row; read once, as they are written."""
        if not count:
            return
        if self.postgresql:
            self._insert_postgresql(rows, count)
            return
        # SQLite: this transaction is the only writer, and AUTOINCREMENT gives new
        # rows ids above any the table has had, so the new tags are those above
        # the largest id before the first insert (checked by the count below).
        columns = ", ".join(TAG_COLUMNS)
        stamps = self.stamps
        self.cursor.execute(f"SELECT MAX(id) FROM {self.table}")
        (before,) = self.cursor.fetchone()
        written = 0
        with self._page_cache(count):
            for chunk in _chunks(rows, self.rows):
                written += len(chunk)
                self.cursor.execute(
                    f"INSERT INTO {self.table} ({columns}) "
                    + self._values(len(chunk), len(TAG_COLUMNS)),
                    list(chain.from_iterable((*row, *stamps) for row in chunk)),
                )
            self.cursor.execute(
                self._copy("+", f"FROM {self.table} WHERE id > {self.mark}"),
                [before or 0],
            )
            copied = self.cursor.rowcount
        if not copied == written == count:  # rolls the transaction back
            raise RuntimeError(f"Wrote {copied} history rows for {written} new tags.")

    @contextmanager
    def _page_cache(self, rows: int) -> Iterator[None]:
        """SQLite: room in the page cache for a big write's pages (about 1 KiB a
        tag with its history and index entries), so that they are not spilled to
        the write-ahead log and read back while the transaction runs."""
        (size,) = self.cursor.execute("PRAGMA cache_size").fetchone()
        (page,) = self.cursor.execute("PRAGMA page_size").fetchone()
        kib = -size if size < 0 else size * page // 1024  # negative sizes are KiB
        wanted = min(rows, 512 * 1024)
        if wanted <= kib:
            yield
            return
        self.cursor.execute(f"PRAGMA cache_size = {-wanted}")
        try:
            yield
        finally:
            self.cursor.execute(f"PRAGMA cache_size = {size}")

    def _insert_postgresql(self, rows: Iterable[tuple], count: int) -> None:
        """Take the new tags' ids from their sequence, then COPY the tags and
        their history rows straight into their tables: COPY writes a page of rows
        at a time (an INSERT … SELECT writes row by row), and the server stores
        the tags already sent while `rows` makes the next ones."""
        table = SupplierTag._meta.db_table
        self.cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = self.cursor.fetchone()
        self.cursor.execute(
            "SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, count]
        )
        ids = [pk for (pk,) in self.cursor.fetchall()]
        decided_at, user_id = self.stamps
        user = "" if user_id is None else str(user_id)
        stamp = decided_at.isoformat()
        # One CSV line a tag, ending with the decision's time and user; its
        # history row's line then adds history_type ("+"), the change reason
        # (none) and history_date and history_user (the decision's time and user).
        tags = _CopySource(
            ((pk, *row) for pk, row in zip(ids, rows, strict=True)),
            end=f",{stamp},{user}\n",
            history_end=f",{stamp},{user},+,,{stamp},{user}\n",
        )
        # In CSV an unquoted empty field is NULL: only council_id, decided_by_id,
        # history_change_reason and history_user_id may be NULL here.
        quoted = ", ".join(["kind", *SAVED])
        columns = ", ".join(["id", *TAG_COLUMNS])
        self.cursor.copy_expert(
            f"COPY {self.table} ({columns}) FROM STDIN "
            f"WITH (FORMAT csv, FORCE_NOT_NULL ({quoted}))",
            tags,
        )
        if tags.count != count:  # rolls the transaction back
            raise RuntimeError(f"Wrote {tags.count} tags of {count}.")
        history = io.StringIO("".join(tags.history))
        del tags
        self.cursor.copy_expert(
            f"COPY {self.history} ({columns}, history_type, "
            "history_change_reason, history_date, history_user_id) FROM STDIN "
            f"WITH (FORMAT csv, FORCE_NOT_NULL ({quoted}, history_type))",
            history,
        )

    def update(self, rows: list[tuple]) -> None:
        """rows: (pk, *SAVED values), each with a "~" history row."""
        names = ", ".join(["id", *SAVED])
        sets = ", ".join(
            [f"{name} = fresh.{name}" for name in SAVED]
            + [f"{name} = {self.mark}" for name in STAMPS]
        )
        for chunk in _chunks(rows, self.rows):
            self.cursor.execute(
                f"WITH fresh ({names}) AS ({self._values(len(chunk), 6)}) "
                f"UPDATE {self.table} SET {sets} FROM fresh "
                f"WHERE {self.table}.id = fresh.id",
                [value for row in chunk for value in row] + list(self.stamps),
            )
            marks = ", ".join([self.mark] * len(chunk))
            self.cursor.execute(
                self._copy("~", f"FROM {self.table} WHERE id IN ({marks})"),
                [row[0] for row in chunk],
            )
