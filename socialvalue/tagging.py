"""Tag suppliers: run the rules of `socialvalue.classify` over the register, in bulk.

Set-based: a handful of queries load suppliers, councils, overrides and the Living
Wage list; the rules run in Python on plain values; only tags whose value, source or
evidence changed are written, with history. Officer overrides win over every rule
and survive every run until an officer removes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from itertools import islice

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from councils.models import Council
from procure.models import Contract, Supplier, SupplierAlias
from socialvalue import classify
from socialvalue.models import (
    Confidence,
    LivingWageEmployer,
    LivingWageSnapshot,
    SupplierTag,
    TagKind,
    TagOverride,
    TagSource,
)
from spend.models import SpendLine

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
CHUNK = 500
Key = tuple[int, int | None, str]  # supplier, council (location only), kind


@dataclass
class ClassifyResult:
    suppliers: int = 0
    created: int = 0
    changed: int = 0
    unchanged: int = 0
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


def _chunks(items: list, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def council_links(supplier_ids: list[int] | None, councils: list[Council]) -> set:
    """(supplier, council) pairs that need a location tag: the council paid, named or
    contracted the supplier."""
    council_ids = [c.pk for c in councils]
    pairs: set[tuple[int, int]] = set()
    sources = [
        SpendLine.objects.filter(supplier__isnull=False),
        SupplierAlias.objects.all(),
        Contract.objects.filter(supplier__isnull=False),
    ]
    for queryset in sources:
        queryset = queryset.filter(council_id__in=council_ids)
        if supplier_ids is not None:
            for chunk in _chunks(supplier_ids, CHUNK):
                pairs.update(
                    queryset.filter(supplier_id__in=chunk)
                    .values_list("supplier_id", "council_id")
                    .distinct()
                )
        else:
            pairs.update(queryset.values_list("supplier_id", "council_id").distinct())
    return pairs


_NUMBERS = {
    "employees",
    "turnover",
    "balance_sheet_total",
    "part_of_large_group",
    "living_wage_accredited",
}


def facts_of(row: dict) -> classify.SupplierFacts:
    """The rules' view of a supplier row: "" for missing text, None for missing numbers."""
    return classify.SupplierFacts(
        **{
            name: row[name] if row[name] is not None or name in _NUMBERS else ""
            for name in FACT_FIELDS
        }
    )


def _override_result(override: TagOverride) -> classify.TagResult:
    who = override.created_by.get_username() if override.created_by else "An officer"
    return classify.TagResult(
        value=override.value,
        source=TagSource.OFFICER_OVERRIDE,
        evidence=f"{who} set this on {override.created_at:%d %B %Y}: {override.reason}",
        confidence=Confidence.HIGH,
    )


def classify_suppliers(
    *,
    supplier_ids: Iterable[int] | None = None,
    councils: Iterable[Council] | None = None,
    user=None,
) -> ClassifyResult:
    """(Re)classify suppliers (all, or those given) for the councils (all, or given)."""
    ids = None if supplier_ids is None else sorted(set(supplier_ids))
    council_list = (
        list(councils) if councils is not None else list(Council.objects.all())
    )
    areas = {council.pk: area_of(council) for council in council_list}
    facts = _load(Supplier.objects.values("pk", *FACT_FIELDS), ids, "pk")
    overrides = {
        (o.supplier_id, o.council_id, o.kind): o
        for o in _load(TagOverride.objects.select_related("created_by"), ids)
    }
    existing = {
        tuple(row[1:4]): row
        for row in _load(
            SupplierTag.objects.values_list("pk", *KEY_FIELDS, *SAVED), ids
        )
    }
    accredited = accredited_names()
    wanted: dict[Key, classify.TagResult] = {}
    supplier_facts = {row["pk"]: facts_of(row) for row in facts}
    for pk, supplier in supplier_facts.items():
        wanted[(pk, None, TagKind.SIZE)] = classify.classify_size(supplier)
        wanted[(pk, None, TagKind.VCSE)] = classify.classify_vcse(supplier)
        wanted[(pk, None, TagKind.LIVING_WAGE)] = classify.classify_living_wage(
            supplier, accredited
        )
    for supplier_id, council_id in council_links(ids, council_list):
        if supplier_id in supplier_facts:
            wanted[(supplier_id, council_id, TagKind.LOCALITY)] = (
                classify.classify_locality(
                    supplier_facts[supplier_id].postcode, areas[council_id], districts()
                )
            )
    for key, override in overrides.items():
        if key in wanted or key[2] == TagKind.LOCALITY:
            wanted[key] = _override_result(override)
    result = _save(wanted, existing, user)
    result.suppliers = len(facts)
    return result


def _load(queryset, ids: list[int] | None, field_name: str = "supplier_id") -> list:
    if ids is None:
        return list(queryset)
    rows = []
    for chunk in _chunks(ids, CHUNK):
        rows.extend(queryset.filter(**{f"{field_name}__in": chunk}))
    return rows


KEY_FIELDS = ("supplier_id", "council_id", "kind")
SAVED = ("value", "source", "evidence", "confidence", "rule_version")


def _save(
    wanted: dict[Key, classify.TagResult], existing: dict, user
) -> ClassifyResult:
    """Write new and changed tags, and a history row for each, in bulk."""
    now = timezone.now()
    user_id = user.pk if user is not None else None
    result = ClassifyResult()
    new: list[tuple] = []
    changed: list[tuple] = []
    for key, decision in wanted.items():
        label = f"{key[2]}:{decision.value}"
        result.by_value[label] = result.by_value.get(label, 0) + 1
        values = (
            decision.value,
            decision.source,
            decision.evidence,
            decision.confidence,
            classify.RULE_VERSION,
        )
        row = existing.get(key)
        if row is None:
            new.append((*key, *values))
        elif tuple(row[4:]) != values:
            changed.append((row[0], *key, *values))
        else:
            result.unchanged += 1
    with transaction.atomic():
        created = _insert_tags(new, now, user_id)
        _update_tags(changed, now, user_id)
        _insert_history(
            [(pk, *row, "+") for pk, row in created]
            + [(row[0], *row[1:], "~") for row in changed],
            now,
            user_id,
        )
    result.created, result.changed = len(new), len(changed)
    return result


def _write(sql: str, rows: list[tuple]) -> None:
    """Many rows in few round trips: execute_values on PostgreSQL, executemany else."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            template = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
            execute_values(
                cursor.cursor,
                sql.replace("VALUES (%s)", "VALUES %s"),
                rows,
                template=template,
                page_size=2000,
            )
        else:
            marks = ", ".join(["%s"] * len(rows[0]))
            cursor.executemany(sql.replace("VALUES (%s)", f"VALUES ({marks})"), rows)


def _insert_tags(rows: list[tuple], now, user_id) -> list[tuple[int, tuple]]:
    """Insert new tags; return (pk, row) for each, for their history."""
    if not rows:
        return []
    stamp = connection.ops.adapt_datetimefield_value(now)
    table = SupplierTag._meta.db_table
    columns = ", ".join([*KEY_FIELDS, *SAVED, "decided_at", "decided_by_id"])
    _write(
        f"INSERT INTO {table} ({columns}) VALUES (%s)",
        [(*row, stamp, user_id) for row in rows],
    )
    keys = {row[:3]: row for row in rows}
    made = []
    for chunk in _chunks(sorted({row[0] for row in rows}), CHUNK):
        for pk, *key in SupplierTag.objects.filter(supplier_id__in=chunk).values_list(
            "pk", *KEY_FIELDS
        ):
            if tuple(key) in keys:
                made.append((pk, keys[tuple(key)]))
    return made


def _update_tags(rows: list[tuple], now, user_id) -> None:
    if not rows:
        return
    stamp = connection.ops.adapt_datetimefield_value(now)
    table = SupplierTag._meta.db_table
    sets = ", ".join(f"{name} = %s" for name in (*SAVED, "decided_at", "decided_by_id"))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {sets} WHERE id = %s",
            [(*row[4:], stamp, user_id, row[0]) for row in rows],
        )


def _insert_history(rows: list[tuple], now, user_id) -> None:
    """django-simple-history rows, as bulk_create_with_history would write them."""
    if not rows:
        return
    stamp = connection.ops.adapt_datetimefield_value(now)
    table = SupplierTag.history.model._meta.db_table
    columns = ", ".join(
        [
            "id",
            *KEY_FIELDS,
            *SAVED,
            "decided_at",
            "decided_by_id",
            "history_date",
            "history_change_reason",
            "history_type",
            "history_user_id",
        ]
    )
    _write(
        f"INSERT INTO {table} ({columns}) VALUES (%s)",
        [(*row[:-1], stamp, user_id, stamp, None, row[-1], user_id) for row in rows],
    )
