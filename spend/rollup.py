"""The monthly rollups the dashboards read, kept equal to the spend lines.

`SupplierMonth` sums a council's lines per month, supplier and directorate; it
changes when lines do (import, rollback, merge). `TagMonth` sums `SupplierMonth`
per combination of the suppliers' current tags; it changes when either does (and
so after every classification run or officer override). Each refresh deletes the
rows it covers and rebuilds them with one INSERT ... SELECT ... GROUP BY in the
database: nothing is summed in Python, and a refresh is always a recount, never
an adjustment that could drift. Call them inside the transaction that changed the
lines or tags, so that the rollups commit (or roll back) with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction

from procure.models import Supplier
from socialvalue.models import SupplierTag, TagKind
from spend.models import SpendLine, SupplierMonth, TagMonth

UNKNOWN = "unknown"


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _month_of(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def month_start(day: date) -> date:
    return day.replace(day=1)


# Department where the file has one, else service area.
_DIRECTORATE = "COALESCE(NULLIF(department, ''), service_area)"


def _insert_supplier_months(where: str, params: list) -> None:
    month = _month_of("payment_date")
    sql = (
        f"INSERT INTO {_table(SupplierMonth)} "
        "(council_id, month, supplier_id, directorate, redacted, total, lines) "
        f"SELECT council_id, {month}, supplier_id, {_DIRECTORATE}, redacted, "
        f"SUM(amount), COUNT(*) FROM {_table(SpendLine)} WHERE {where} "
        f"GROUP BY council_id, {month}, supplier_id, {_DIRECTORATE}, redacted"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def refresh_months(council_id: int, first: date, last: date) -> None:
    """Recount the council's months from `first`'s to `last`'s, both rollups."""
    start = month_start(first)
    with transaction.atomic():
        SupplierMonth.objects.filter(
            council_id=council_id, month__gte=start, month__lte=last
        ).delete()
        _insert_supplier_months(
            "council_id = %s AND payment_date >= %s AND payment_date <= %s",
            [council_id, start, _month_end(last)],
        )
        refresh_tags(council_id, start, last)


def _month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def refresh_suppliers(supplier_ids: Iterable[int]) -> None:
    """Recount the rows of these suppliers in every council (after a merge or its
    undoing moved lines between them), then the tag rollup of those councils."""
    ids = sorted(set(supplier_ids))
    if not ids:
        return
    marks = ", ".join(["%s"] * len(ids))
    with transaction.atomic():
        before = set(
            SupplierMonth.objects.filter(supplier_id__in=ids)
            .values_list("council_id", flat=True)
            .distinct()
        )
        SupplierMonth.objects.filter(supplier_id__in=ids).delete()
        _insert_supplier_months(f"supplier_id IN ({marks})", ids)
        after = set(
            SupplierMonth.objects.filter(supplier_id__in=ids)
            .values_list("council_id", flat=True)
            .distinct()
        )
        for council_id in sorted(before | after):
            refresh_tags(council_id)


def refresh_tags(
    council_id: int, first: date | None = None, last: date | None = None
) -> None:
    """Rebuild the council's tag rollup (all months, or `first`'s to `last`'s)
    from its supplier rollup and the suppliers' current tags."""
    where, params = "sm.council_id = %s", [council_id]
    deleting = TagMonth.objects.filter(council_id=council_id)
    if first is not None and last is not None:
        where += " AND sm.month >= %s AND sm.month <= %s"
        params += [month_start(first), last]
        deleting = deleting.filter(month__gte=month_start(first), month__lte=last)
    tags = _table(SupplierTag)
    joins = []
    for alias, kind in (
        ("loc", TagKind.LOCALITY),
        ("size", TagKind.SIZE),
        ("vcse", TagKind.VCSE),
        ("lw", TagKind.LIVING_WAGE),
    ):
        council = "= sm.council_id" if kind == TagKind.LOCALITY else "IS NULL"
        joins.append(
            f"LEFT JOIN {tags} {alias} ON {alias}.supplier_id = sm.supplier_id "
            f"AND {alias}.council_id {council} AND {alias}.kind = '{kind.value}'"
        )
    dims = (
        "sm.council_id, sm.month, sm.directorate, "
        f"COALESCE(loc.value, '{UNKNOWN}'), COALESCE(size.value, '{UNKNOWN}'), "
        f"COALESCE(vcse.value, '{UNKNOWN}'), COALESCE(lw.value, '{UNKNOWN}'), "
        "sm.redacted, COALESCE(s.verified, FALSE)"
    )
    sql = (
        f"INSERT INTO {_table(TagMonth)} (council_id, month, directorate, locality, "
        "size, vcse, living_wage, redacted, verified, total, lines) "
        f"SELECT {dims}, SUM(sm.total), SUM(sm.lines) FROM {_table(SupplierMonth)} sm "
        f"LEFT JOIN {_table(Supplier)} s ON s.id = sm.supplier_id "
        + " ".join(joins)
        + f" WHERE {where} GROUP BY {dims}"
    )
    with transaction.atomic():
        deleting.delete()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def rebuild(council_id: int) -> None:
    """Recount everything for one council from its spend lines."""
    with transaction.atomic():
        SupplierMonth.objects.filter(council_id=council_id).delete()
        _insert_supplier_months("council_id = %s", [council_id])
        refresh_tags(council_id)
