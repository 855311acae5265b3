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
from django.db.models import Exists, Max, Min, OuterRef

from councils.periods import FinancialYear, month_end, month_start
from procure.models import Supplier
from socialvalue.models import SupplierTag, TagKind
from spend.models import (
    CouncilDirectorate,
    DirectorateMonth,
    SpendLine,
    SupplierMonth,
    SupplierYear,
    TagMonth,
)

UNKNOWN = "unknown"


def table(model) -> str:
    """The model's table name, quoted for raw SQL."""
    return connection.ops.quote_name(model._meta.db_table)


def _month_of(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


# Department where the file has one, else service area.
_DIRECTORATE = "COALESCE(NULLIF(department, ''), service_area)"


CREDITS = "SUM(CASE WHEN amount < 0 THEN 1 ELSE 0 END)"  # credit notes


def _insert_supplier_months(where: str, params: list) -> None:
    month = _month_of("payment_date")
    sql = (
        f"INSERT INTO {table(SupplierMonth)} "
        "(council_id, month, supplier_id, directorate, redacted, total, lines, "
        f"credits) SELECT council_id, {month}, supplier_id, {_DIRECTORATE}, "
        f"redacted, SUM(amount), COUNT(*), {CREDITS} FROM {table(SpendLine)} "
        f"WHERE {where} "
        f"GROUP BY council_id, {month}, supplier_id, {_DIRECTORATE}, redacted"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount > RESTATE_AFTER:
            restate(SupplierMonth, SupplierTag)


# PostgreSQL plans the tag rollup's joins from its table statistics, which a large
# refresh makes stale inside its own transaction, before autovacuum can see the
# rows (on a fresh database, with none at all, one plan ran for over ten minutes).
RESTATE_AFTER = 10_000  # rows


def restate(*models) -> None:
    """Refresh PostgreSQL's statistics of these tables (ANALYZE counts the rows
    this transaction wrote); nothing to do on SQLite."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {table(model)}")


def refresh_months(
    council_id: int, first: date, last: date, *, tags: bool = True
) -> None:
    """Recount the council's months from `first`'s to `last`'s, every rollup
    (the tag rollups only with `tags`: a caller that rebuilds all the council's
    tag rollups next leaves them out)."""
    start = month_start(first)
    with transaction.atomic():
        SupplierMonth.objects.filter(
            council_id=council_id, month__gte=start, month__lte=last
        ).delete()
        _insert_supplier_months(
            "council_id = %s AND payment_date >= %s AND payment_date <= %s",
            [council_id, start, month_end(last)],
        )
        refresh_years(
            council_id, FinancialYear.for_date(first), FinancialYear.for_date(last)
        )
        if tags:
            refresh_tags(council_id, start, last)


def refresh_years(council_id: int, first: FinancialYear, last: FinancialYear) -> None:
    """Recount the council's `SupplierYear` rows of these financial years from its
    supplier rollup (already recounted)."""
    SupplierYear.objects.filter(
        council_id=council_id, year__gte=first.start_year, year__lte=last.start_year
    ).delete()
    sql = (
        f"INSERT INTO {table(SupplierYear)} (council_id, year, supplier_id, total, "
        f"lines) SELECT council_id, %s, supplier_id, SUM(total), SUM(lines) FROM "
        f"{table(SupplierMonth)} WHERE council_id = %s AND month >= %s AND "
        "month <= %s AND supplier_id IS NOT NULL GROUP BY council_id, supplier_id"
    )
    written = 0
    with connection.cursor() as cursor:
        for start_year in range(first.start_year, last.start_year + 1):
            year = FinancialYear(start_year)
            cursor.execute(sql, [start_year, council_id, year.start, year.end])
            written += cursor.rowcount
    if written > RESTATE_AFTER:
        restate(SupplierYear)
    retag_years(council_id, first, last)


def retag_years(
    council_id: int,
    first: FinancialYear | None = None,
    last: FinancialYear | None = None,
) -> None:
    """Copy the suppliers' current location (for this council) and public-body
    size tags onto the council's `SupplierYear` rows (all years, or these)."""
    tags = table(SupplierTag)
    where, params = "council_id = %s", [council_id]
    if first is not None and last is not None:
        where += " AND year >= %s AND year <= %s"
        params += [first.start_year, last.start_year]
    years = table(SupplierYear)
    sql = (
        f"UPDATE {years} SET locality = COALESCE((SELECT value FROM {tags} t "
        f"WHERE t.supplier_id = {years}.supplier_id AND t.council_id = "
        f"{years}.council_id AND t.kind = '{TagKind.LOCALITY.value}'), '{UNKNOWN}'), "
        f"public_sector = EXISTS (SELECT 1 FROM {tags} t WHERE t.supplier_id = "
        f"{years}.supplier_id AND t.council_id IS NULL AND t.kind = "
        f"'{TagKind.SIZE.value}' AND t.value = 'public_sector') WHERE {where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


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
        after = SupplierMonth.objects.filter(supplier_id__in=ids).aggregate(
            first=Min("month"), last=Max("month")
        )
        councils = set(
            SupplierMonth.objects.filter(supplier_id__in=ids)
            .values_list("council_id", flat=True)
            .distinct()
        )
        SupplierYear.objects.filter(supplier_id__in=ids).delete()
        for council_id in sorted(before | councils):
            if after["first"] is not None:
                refresh_years(
                    council_id,
                    FinancialYear.for_date(after["first"]),
                    FinancialYear.for_date(after["last"]),
                )
            refresh_tags(council_id)


def refresh_tags(
    council_id: int, first: date | None = None, last: date | None = None
) -> None:
    """Rebuild the council's tag rollup (all months, or `first`'s to `last`'s)
    from its supplier rollup and the suppliers' current tags: the rows per
    directorate, then from them the rows for all directorates together."""
    where, params = "sm.council_id = %s", [council_id]
    deleting = TagMonth.objects.filter(council_id=council_id)
    if first is not None and last is not None:
        where += " AND sm.month >= %s AND sm.month <= %s"
        params += [month_start(first), last]
        deleting = deleting.filter(month__gte=month_start(first), month__lte=last)
    tags, supplier_months = table(SupplierTag), table(SupplierMonth)
    # The supplier-wide tags as one row per supplier (of this council's), and the
    # location tag for this council: two joins the planner can hash, whatever
    # it knows of the tag table.
    wide = ", ".join(
        f"MAX(CASE WHEN kind = '{kind.value}' THEN value END) AS {kind.value}"
        for kind in (TagKind.SIZE, TagKind.VCSE, TagKind.LIVING_WAGE)
    )
    columns = (
        "council_id, month, directorate, locality, size, vcse, living_wage, "
        "redacted, verified"
    )
    dims = (
        "sm.council_id, sm.month, sm.directorate, "
        f"COALESCE(loc.value, '{UNKNOWN}'), COALESCE(g.size, '{UNKNOWN}'), "
        f"COALESCE(g.vcse, '{UNKNOWN}'), COALESCE(g.living_wage, '{UNKNOWN}'), "
        "sm.redacted, COALESCE(s.verified, FALSE)"
    )
    per_directorate = (
        f"INSERT INTO {table(TagMonth)} ({columns}, total, lines) "
        f"SELECT {dims}, SUM(sm.total), SUM(sm.lines) FROM {supplier_months} sm "
        f"LEFT JOIN {table(Supplier)} s ON s.id = sm.supplier_id "
        f"LEFT JOIN (SELECT supplier_id, {wide} FROM {tags} WHERE council_id IS NULL "
        f"AND supplier_id IN (SELECT supplier_id FROM {supplier_months} "
        "WHERE council_id = %s) GROUP BY supplier_id) g "
        "ON g.supplier_id = sm.supplier_id "
        f"LEFT JOIN {tags} loc ON loc.supplier_id = sm.supplier_id "
        f"AND loc.council_id = sm.council_id AND loc.kind = '{TagKind.LOCALITY.value}' "
        f"WHERE {where} GROUP BY {dims}"
    )
    everything = columns.replace("directorate", "NULL")
    grouped = columns.replace("directorate, ", "")
    all_directorates = (
        f"INSERT INTO {table(TagMonth)} ({columns}, total, lines) "
        f"SELECT {everything}, SUM(total), SUM(lines) FROM {table(TagMonth)} sm "
        f"WHERE {where} AND directorate IS NOT NULL GROUP BY {grouped}"
    )
    by_directorate = (
        f"INSERT INTO {table(DirectorateMonth)} (council_id, month, directorate, "
        "locality, public_sector, redacted, total, lines) SELECT council_id, month, "
        "directorate, locality, size = 'public_sector', redacted, SUM(total), "
        f"SUM(lines) FROM {table(TagMonth)} sm WHERE {where} AND directorate IS NOT "
        "NULL GROUP BY council_id, month, directorate, locality, "
        "size = 'public_sector', redacted"
    )
    directorates = (
        f"INSERT INTO {table(CouncilDirectorate)} (council_id, name) "
        f"SELECT DISTINCT council_id, directorate FROM {table(TagMonth)} sm "
        f"WHERE {where} AND directorate IS NOT NULL "
        "ON CONFLICT (council_id, name) DO NOTHING"
    )
    with transaction.atomic():
        deleting.delete()
        _directorate_rows(council_id, first, last).delete()
        with connection.cursor() as cursor:
            cursor.execute(per_directorate, [council_id, *params])
            written = cursor.rowcount
            cursor.execute(all_directorates, params)
            cursor.execute(by_directorate, params)
            cursor.execute(directorates, params)
        # A directorate whose spend is all gone (a file rolled back) leaves the
        # choice list, not a page of £0.
        CouncilDirectorate.objects.filter(council_id=council_id).exclude(
            Exists(
                DirectorateMonth.objects.filter(
                    council_id=OuterRef("council_id"), directorate=OuterRef("name")
                )
            )
        ).delete()
        if written > RESTATE_AFTER:
            restate(TagMonth)
        if first is None:  # tags changed: the yearly rows carry two of them
            retag_years(council_id)


def councils_paying(supplier_ids: Iterable[int] | None) -> list[int]:
    """The councils whose rollups hold spend with these suppliers (None: any)."""
    rows = SupplierMonth.objects.all()
    if supplier_ids is not None:
        rows = rows.filter(supplier_id__in=list(supplier_ids))
    return sorted(set(rows.values_list("council_id", flat=True).distinct()))


def _directorate_rows(council_id: int, first: date | None, last: date | None):
    rows = DirectorateMonth.objects.filter(council_id=council_id)
    if first is not None and last is not None:
        rows = rows.filter(month__gte=month_start(first), month__lte=last)
    return rows


def rebuild(council_id: int) -> None:
    """Recount everything for one council from its spend lines."""
    with transaction.atomic():
        SupplierMonth.objects.filter(council_id=council_id).delete()
        SupplierYear.objects.filter(council_id=council_id).delete()
        _insert_supplier_months("council_id = %s", [council_id])
        span = SupplierMonth.objects.filter(council_id=council_id).aggregate(
            first=Min("month"), last=Max("month")
        )
        if span["first"] is not None:
            refresh_years(
                council_id,
                FinancialYear.for_date(span["first"]),
                FinancialYear.for_date(span["last"]),
            )
        refresh_tags(council_id)
