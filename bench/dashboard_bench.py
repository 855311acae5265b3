"""Is the cabinet dashboard cheap next to one full scan of the spend lines?

Target (from the dashboard issue): with 2,000,000 spend lines over 10 financial
years for one council, on PostgreSQL, the whole dashboard page (median server time
of 20 requests through the Django test client) takes less than half the time of
one `SELECT sum(amount)` over all spend lines, measured in the same run.

    DATABASE_URL=postgres://localspend_ci:localspend_ci@127.0.0.1:5432/localspend_bench \\
        .venv/bin/python bench/dashboard_bench.py [--lines 2000000] [--strict]

It creates its own council (slug "bench-dashboard"), a viewer, targets, suppliers
(names starting "Bench Dashboard ") with their tags, one upload and the spend
lines (streamed in by COPY on PostgreSQL), builds the rollups with
`spend.rollup.rebuild`, runs VACUUM ANALYZE, then times the scan and the page.
It migrates the database first.
Everything it made is removed afterwards (raw deletes for the lines, which the
ORM would delete one batch at a time), unless --keep. Any run finds kept data made
with the same --lines, --suppliers and --seed and reuses it, skipping the set-up.

Without DATABASE_URL it runs on a throwaway SQLite file in the temporary folder
with 200,000 lines by default, and says so: the target is stated for PostgreSQL.
"""

from __future__ import annotations

import argparse
import bisect
import io
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

COUNCIL_SLUG = "bench-dashboard"
GSS_CODE = "E99999998"
PREFIX = "Bench Dashboard "
VIEWER = "bench-dashboard-viewer"
YEARS = 10
TARGET_RATIO = 0.5
SCAN_RUNS = 5
VARIANT_REQUESTS = 5
PG_LINES = 2_000_000
SQLITE_LINES = 200_000
SQLITE_FILE = Path(tempfile.gettempdir()) / "localspend-dashboard-bench.sqlite3"
REDACTED_NAME = "REDACTED PERSONAL DATA"
REDACTED_SHARE = 0.04
CREDIT_SHARE = 0.012
CHUNK = 100_000
NULL = r"\N"  # NULL in COPY's text format

# Directorate, share of the lines (weights), service areas.
DIRECTORATES = [
    ("Adult Social Care", 20, ["Residential Care", "Home Care", "Day Services"]),
    ("Children's Services", 16, ["Looked After Children", "Early Help", "SEND"]),
    ("Education", 12, ["Schools", "Home to School Transport", "Skills"]),
    ("Housing", 10, ["Temporary Accommodation", "Repairs", "Homelessness"]),
    ("Highways and Transport", 9, ["Highways Maintenance", "Street Lighting"]),
    ("Environment and Waste", 8, ["Waste Collection", "Parks", "Street Cleansing"]),
    ("Regeneration", 6, ["Economic Development", "Town Centre"]),
    ("Public Health", 5, ["Sexual Health", "Substance Misuse", "Health Visiting"]),
    ("Finance", 4, ["Revenues and Benefits", "Audit"]),
    ("Corporate Services", 4, ["ICT", "HR", "Legal"]),
    ("Leisure and Culture", 3, ["Libraries", "Leisure Centres", "Museums"]),
    ("Planning", 3, ["Development Management", "Building Control"]),
]
EXPENSE_TYPES = [
    "Contracted Services",
    "Supplies and Services",
    "Premises",
    "Transport",
    "Agency Staff",
    "Professional Fees",
    "Equipment",
    "Grants",
    "Care Packages",
    "IT Software and Licences",
]
PLACES = (
    "Luton Dunstable Chiltern Wardown Leagrave Bedford Hitchin Harpenden Stopsley "
    "Anglia Mercia Wessex Pennine Severn Thames Albion Riverside Parkside Hillside "
    "Greenway Oakwood Ashcroft Beechwood Kingsway Castle Abbey Priory Meadow"
).split()
TRADES = (
    "Plumbing|Electrical Services|Building Services|Roofing|Landscapes|Cleaning|"
    "Facilities Management|Office Supplies|IT Solutions|Print|Catering|Taxis|"
    "Transport|Waste Management|Security|Care Services|Home Care|Care Homes|"
    "Nursing Agency|Supported Living|Recruitment|Consulting|Legal Services|Training|"
    "Tuition|Childcare|Leisure|Furniture|Joinery|Engineering|Highways|Surfacing"
).split("|")
FORMS = ["Ltd", "Ltd", "Ltd", "Limited", "", "LLP", "PLC", "CIC", "Group Ltd"]
LOCAL_DISTRICTS = ["LU1", "LU2", "LU3", "LU4"]
WIDER_DISTRICTS = ["LU5", "LU6", "LU7", "MK45", "SG5", "AL5", "HP5"]
UK_DISTRICTS = ["M1", "B1", "LS1", "BS1", "NE1", "CF10", "G1", "EC2A", "SW1A"]

# Tag values and weights: (value, weight) for an ordinary and for a big supplier.
LOCALITY = [("local", 30), ("wider", 20), ("uk", 35), ("non_uk", 2), ("unknown", 13)]
BIG_LOCALITY = [("local", 15), ("wider", 25), ("uk", 55), ("non_uk", 5)]
SIZE = [
    ("micro", 25),
    ("small", 20),
    ("medium", 12),
    ("large", 25),
    ("public_sector", 5),
    ("unknown", 13),
]
BIG_SIZE = [("medium", 20), ("large", 70), ("public_sector", 10)]
BIG_SUPPLIERS = 50  # the most often paid suppliers, which are mostly large


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


# ------------------------------------------------------------------ settings


def configure_database() -> tuple[str, bool]:
    """Point DATABASE_URL at a throwaway SQLite file when none is set."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url, False
    os.environ["DATABASE_URL"] = f"sqlite:///{SQLITE_FILE}"
    return os.environ["DATABASE_URL"], True


def setup_django() -> None:
    import django
    from django.conf import settings

    django.setup()
    # As in production: no query log (CaptureQueriesContext turns it on where a
    # query count is wanted), and the test client's host allowed.
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def _table(model) -> str:
    from django.db import connection

    return connection.ops.quote_name(model._meta.db_table)


# ------------------------------------------------------------------ the data


def financial_years(today: date) -> tuple[int, int]:
    """The first and last start years of the ten complete financial years."""
    from councils.periods import FinancialYear

    last = FinancialYear.for_date(today).start_year - 1
    return last - YEARS + 1, last


def create_council():
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from councils.models import Council, Membership, Role
    from socialvalue.models import Metric, Target

    council = Council.objects.create(
        slug=COUNCIL_SLUG,
        name="Bench Dashboard Borough Council (benchmark data)",
        short_name="Bench Dashboard",
        gss_code=GSS_CODE,
        local_districts=LOCAL_DISTRICTS,
        wider_districts=WIDER_DISTRICTS,
        wider_label="Bench shire",
    )
    user = get_user_model().objects.create(username=VIEWER)
    user.set_unusable_password()
    user.save()
    Membership.objects.create(user=user, council=council, role=Role.VIEWER)
    first, last = financial_years(timezone.localdate())
    for metric, base, goal in (
        (Metric.LOCAL, "22.0", "40.0"),
        (Metric.SME, "35.0", "45.0"),
        (Metric.VCSE, "5.0", "10.0"),
        (Metric.LIVING_WAGE, "8.0", "20.0"),
    ):
        Target.objects.create(
            council=council,
            metric=metric,
            baseline_year=first,
            baseline_share=Decimal(base),
            target_year=last + 3,
            target_share=Decimal(goal),
        )
    return council


def create_suppliers(council, count: int, rng: random.Random) -> list[tuple]:
    """Suppliers and their tags; returns (id, name, mu) in order of how often
    each is paid (the first most often)."""
    from django.utils import timezone

    from procure.models import OrganisationType, Supplier
    from socialvalue.models import Confidence, SupplierTag, TagKind, TagSource
    from spend.values import normalise_name

    made, facts = [], []
    for number in range(count):
        big = number < BIG_SUPPLIERS
        locality = _pick(rng, BIG_LOCALITY if big else LOCALITY)
        size = _pick(rng, BIG_SIZE if big else SIZE)
        vcse = (
            "no"
            if size in ("large", "public_sector")
            else _pick(rng, [("yes", 10), ("no", 65), ("unknown", 25)])
        )
        living_wage = "yes" if rng.random() < (0.3 if big else 0.1) else "unknown"
        if size == "public_sector":
            kind = OrganisationType.PUBLIC_BODY
        elif vcse == "yes":
            kind = rng.choice([OrganisationType.CHARITY, OrganisationType.CIC])
        else:
            kind = rng.choice(
                [OrganisationType.PRIVATE_COMPANY] * 6 + [OrganisationType.UNKNOWN]
            )
        districts = {
            "local": LOCAL_DISTRICTS,
            "wider": WIDER_DISTRICTS,
            "uk": UK_DISTRICTS,
        }.get(locality)
        postcode = (
            f"{rng.choice(districts)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJ')}"
            f"{rng.choice('LNPQRSTU')}"
            if districts
            else ""
        )
        name = (
            f"{PREFIX}{number:05d} {rng.choice(PLACES)} {rng.choice(TRADES)} "
            f"{rng.choice(FORMS)}"
        ).strip()
        made.append(
            Supplier(
                name=name,
                normalised_name=normalise_name(name),
                organisation_type=kind,
                postcode=postcode,
                verified=rng.random() < (0.8 if big else 0.3),
            )
        )
        facts.append((locality, size, vcse, living_wage))
    Supplier.objects.bulk_create(made, batch_size=2000)
    ids = dict(
        Supplier.objects.filter(name__startswith=PREFIX).values_list("name", "pk")
    )
    now = timezone.now()
    tags = []
    for supplier, (locality, size, vcse, living_wage) in zip(made, facts, strict=True):
        pk = ids[supplier.name]
        for kind, value, where in (
            (TagKind.LOCALITY, locality, council),
            (TagKind.SIZE, size, None),
            (TagKind.VCSE, vcse, None),
            (TagKind.LIVING_WAGE, living_wage, None),
        ):
            tags.append(
                SupplierTag(
                    supplier_id=pk,
                    council=where,
                    kind=kind,
                    value=value,
                    source=TagSource.NO_DATA
                    if value == "unknown"
                    else TagSource.REGISTRY,
                    evidence="Benchmark data.",
                    confidence=Confidence.MEDIUM,
                    rule_version="bench",
                    decided_at=now,
                )
            )
    SupplierTag.objects.bulk_create(tags, batch_size=5000)
    out = []
    for number, supplier in enumerate(made):
        # Big suppliers get big payments (care homes, highways contracts).
        mu = 8.0 if number < 10 else 7.0 if number < BIG_SUPPLIERS else 5.5
        out.append((ids[supplier.name], supplier.name, mu))
    return out


def generate_lines(suppliers: list[tuple], lines: int, first_year: int, seed: int):
    """Yield (payment_date, amount, supplier_id, supplier_name, redacted,
    department, service_area, expense_type, transaction_ref, source_row) rows."""
    rng = random.Random(seed + 1)
    rnd = rng.random
    lognorm = rng.lognormvariate
    start = date(first_year, 4, 1)
    end = date(first_year + YEARS, 3, 31)
    days = [
        (start + timedelta(d)).isoformat()
        for d in range((end - start).days + 1)
        if (start + timedelta(d)).weekday() < 5  # councils pay on working days
    ]
    n_days, n_suppliers = len(days), len(suppliers)
    names = [d for d, _, _ in DIRECTORATES]
    cumulative, total = [], 0
    for _, weight, _ in DIRECTORATES:
        total += weight
        cumulative.append(total / sum(w for _, w, _ in DIRECTORATES))
    services = [areas for _, _, areas in DIRECTORATES]
    # Each supplier works mostly for one directorate.
    home = [bisect.bisect(cumulative, rng.random()) for _ in suppliers]
    for row in range(1, lines + 1):
        day = days[int(rnd() * n_days)]
        if rnd() < REDACTED_SHARE:
            supplier_id, name, mu, redacted = None, REDACTED_NAME, 6.0, True
            directorate = bisect.bisect(cumulative, rnd())
        else:
            index = int(n_suppliers * rnd() ** 3)  # a few big suppliers, many small
            supplier_id, name, mu = suppliers[index]
            redacted = False
            directorate = (
                home[index] if rnd() < 0.8 else bisect.bisect(cumulative, rnd())
            )
        amount = min(lognorm(mu, 1.4), 4_000_000.0)
        if rnd() < CREDIT_SHARE:
            amount = -amount
        areas = services[directorate]
        yield (
            day,
            f"{amount:.2f}",
            supplier_id,
            name,
            redacted,
            names[directorate],
            areas[row % len(areas)],
            EXPENSE_TYPES[int(rnd() * len(EXPENSE_TYPES))],
            f"BD{row:08d}",
            row,
        )


def load_lines(council, upload, suppliers, lines: int, first_year: int, seed: int):
    """Stream the lines into the table: COPY on PostgreSQL, executemany on SQLite."""
    from django.db import connection, transaction

    from spend.models import SpendLine

    given = [
        "payment_date",
        "amount",
        "supplier_id",
        "supplier_name",
        "redacted",
        "department",
        "service_area",
        "expense_type",
        "transaction_ref",
        "source_row",
    ]
    fixed = {"council_id": council.pk, "upload_id": upload.pk}
    others = []  # every other column gets the field's default ("" or NULL)
    for field in SpendLine._meta.concrete_fields:
        if field.primary_key or field.column in given or field.column in fixed:
            continue
        others.append((field.column, field.get_default()))
    columns = [*given, *fixed, *(column for column, _ in others)]
    constants = [*fixed.values(), *(value for _, value in others)]
    rows = generate_lines(suppliers, lines, first_year, seed)
    table = _table(SpendLine)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            tail = "\t".join(NULL if v is None else str(v) for v in constants)
            sql = f"COPY {table} ({quoted}) FROM STDIN"
            with connection.cursor() as cursor:
                while True:
                    buffer = io.StringIO()
                    count = 0
                    for row in rows:
                        day, amount, sid, name, red, dept, area, exp, ref, n = row
                        buffer.write(
                            f"{day}\t{amount}\t{NULL if sid is None else sid}\t"
                            f"{name}\t{'t' if red else 'f'}\t{dept}\t{area}\t{exp}\t"
                            f"{ref}\t{n}\t{tail}\n"
                        )
                        count += 1
                        if count == CHUNK:
                            break
                    if not count:
                        break
                    buffer.seek(0)
                    cursor.cursor.copy_expert(sql, buffer)
        else:
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"
            with connection.cursor() as cursor:
                batch = []
                for row in rows:
                    batch.append((*row, *constants))
                    if len(batch) == CHUNK:
                        cursor.executemany(sql, batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)


def analyze(*, rollups: bool) -> None:
    """Settle the tables as autovacuum would have: statistics (and on PostgreSQL
    the visibility map). Before the rollups are built too: without statistics on
    the tag table the planner nests loops in refresh_tags' joins (see README)."""
    from django.db import connection

    from procure.models import Supplier
    from socialvalue.models import SupplierTag
    from spend.models import SpendLine, SupplierMonth, SupplierYear, TagMonth

    models = [SpendLine, SupplierTag, Supplier]
    if rollups:
        models += [SupplierMonth, SupplierYear, TagMonth]
    with connection.cursor() as cursor:
        for model in models:
            if connection.vendor == "postgresql":
                cursor.execute(f"VACUUM ANALYZE {_table(model)}")
            else:
                cursor.execute(f"ANALYZE {_table(model)}")


def build(args) -> dict:
    """Create the council, suppliers, upload and lines, and the rollups."""
    from django.db import connection
    from django.utils import timezone

    from spend import rollup
    from spend.models import SpendUpload, SupplierMonth, TagMonth, UploadStatus

    rng = random.Random(args.seed)
    first_year, last_year = financial_years(timezone.localdate())
    started = time.perf_counter()
    council = create_council()
    suppliers = create_suppliers(council, args.suppliers, rng)
    upload = SpendUpload.objects.create(
        council=council,
        file_name="bench-dashboard.csv",
        sha256=f"{args.seed:064x}",
        status=UploadStatus.IMPORTED,
        period_start=date(first_year, 4, 1),
        period_end=date(last_year + 1, 3, 31),
        rows_read=args.lines,
        rows_imported=args.lines,
        rows_expected=args.lines,
        progress_rows=args.lines,
    )
    setup_seconds = time.perf_counter() - started
    print(
        f"Council, viewer, targets, {len(suppliers):,} suppliers and their tags: "
        f"{setup_seconds:.1f} s",
        flush=True,
    )
    started = time.perf_counter()
    load_lines(council, upload, suppliers, args.lines, first_year, args.seed)
    load_seconds = time.perf_counter() - started
    print(
        f"{args.lines:,} spend lines loaded in {load_seconds:.1f} s "
        f"({args.lines / load_seconds:,.0f} lines/s)",
        flush=True,
    )
    vacuum = connection.vendor == "postgresql"
    started = time.perf_counter()
    analyze(rollups=False)
    analyze_seconds = time.perf_counter() - started
    started = time.perf_counter()
    rollup.rebuild(council.pk)
    rollup_seconds = time.perf_counter() - started
    started = time.perf_counter()
    analyze(rollups=True)
    analyze_seconds += time.perf_counter() - started
    rollup_rows = {
        model.__name__: model.objects.filter(council=council).count()
        for model in (SupplierMonth, TagMonth)
    }
    print(
        f"rollup.rebuild: {rollup_seconds:.1f} s ("
        + ", ".join(f"{n:,} {name} rows" for name, n in rollup_rows.items())
        + f"); {'VACUUM ANALYZE' if vacuum else 'ANALYZE'} of the tables before "
        f"and after: {analyze_seconds:.1f} s",
        flush=True,
    )
    made = {
        "lines": args.lines,
        "suppliers": args.suppliers,
        "seed": args.seed,
        "first_year": first_year,
        "setup_seconds": round(setup_seconds, 2),
        "load_seconds": round(load_seconds, 2),
        "rollup_seconds": round(rollup_seconds, 2),
        "rollup_rows": rollup_rows,
    }
    upload.notes = [made]
    upload.save(update_fields=["notes"])
    return made


def reusable(args) -> dict | None:
    """The kept data's description, if it was made with the same options."""
    from django.utils import timezone

    from spend.models import SpendLine, SpendUpload

    upload = SpendUpload.objects.filter(council__slug=COUNCIL_SLUG).first()
    if upload is None or not upload.notes:
        return None
    made = upload.notes[0]
    first_year, _ = financial_years(timezone.localdate())
    wanted = {
        "lines": args.lines,
        "suppliers": args.suppliers,
        "seed": args.seed,
        "first_year": first_year,
    }
    if any(made.get(k) != v for k, v in wanted.items()):
        return None
    if SpendLine.objects.filter(council_id=upload.council_id).count() != args.lines:
        return None
    return made


def cleanup() -> int:
    """Remove everything the bench made; returns the number of lines deleted."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from councils.models import Council, Membership
    from procure.models import Supplier
    from socialvalue.models import SupplierTag, Target
    from spend.models import SpendLine, SpendUpload, SupplierMonth, TagMonth

    deleted = 0
    council = Council.objects.filter(slug=COUNCIL_SLUG).first()
    with transaction.atomic():
        if council is not None:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {_table(SpendLine)} WHERE council_id = %s",
                    [council.pk],
                )
                deleted = cursor.rowcount
            by_council = [
                SupplierMonth.objects.filter(council=council),
                TagMonth.objects.filter(council=council),
                SupplierTag.history.filter(council_id=council.pk),
                SupplierTag.objects.filter(council=council),
                SpendUpload.history.filter(council_id=council.pk),
                SpendUpload.objects.filter(council=council),
                Target.history.filter(council_id=council.pk),
                Target.objects.filter(council=council),
                Membership.history.filter(council_id=council.pk),
                Membership.objects.filter(council=council),
            ]
            for queryset in by_council:
                queryset._raw_delete(queryset.db)
        bench = Supplier.objects.filter(name__startswith=PREFIX).values("pk")
        for queryset in (
            SupplierMonth.objects.filter(supplier__in=bench),
            SupplierTag.history.filter(supplier_id__in=bench),
            SupplierTag.objects.filter(supplier__in=bench),
            Supplier.history.filter(name__startswith=PREFIX),
            Supplier.objects.filter(name__startswith=PREFIX),
        ):
            queryset._raw_delete(queryset.db)
        get_user_model().objects.filter(username=VIEWER).delete()
        if council is not None:
            council.delete()  # whatever else hangs off it, through the ORM
            Council.history.filter(slug=COUNCIL_SLUG)._raw_delete("default")
            Membership.history.filter(council_id=council.pk)._raw_delete("default")
    return deleted


# ------------------------------------------------------------------ timing


def time_scan(runs: int) -> tuple[list[float], int, str]:
    """`SELECT sum(amount)` over the whole spend line table: one warm-up (table in
    the caches, hint bits set), then `runs` timed runs. Returns the timings, the
    table's rows and a summary of the plan."""
    from django.db import connection

    from spend.models import SpendLine

    sql = f"SELECT sum(amount) FROM {_table(SpendLine)}"
    timings = []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {_table(SpendLine)}")
        rows = cursor.fetchone()[0]
        cursor.execute(sql)
        cursor.fetchone()
        for _ in range(runs):
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchone()
            timings.append(time.perf_counter() - started)
        plan = ""
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN {sql}")
            lines = [line for (line,) in cursor.fetchall()]
            nodes = [
                line.strip().removeprefix("-> ").split("  (")[0]
                for number, line in enumerate(lines)
                if number == 0 or "->" in line or "Workers Planned" in line
            ]
            plan = " / ".join(nodes)
            if any(line.startswith("JIT:") for line in lines):
                plan += " (with JIT compilation)"
    return timings, rows, plan


def expected_default_view(council) -> tuple[Decimal, int, object]:
    """The default view's total, counted from the lines, not the rollups: the
    latest year, public sector bodies and redacted payees left out."""
    from django.db.models import Count, Max, Sum

    from councils.periods import FinancialYear
    from socialvalue.models import SupplierTag, TagKind
    from spend.models import SpendLine

    lines = SpendLine.objects.filter(council=council)
    fy = FinancialYear.for_date(lines.aggregate(last=Max("payment_date"))["last"])
    public = SupplierTag.objects.filter(
        kind=TagKind.SIZE, value="public_sector", council__isnull=True
    ).values("supplier_id")
    figures = (
        lines.filter(payment_date__gte=fy.start, payment_date__lte=fy.end)
        .filter(redacted=False)
        .exclude(supplier__in=public)
        .aggregate(total=Sum("amount"), lines=Count("id"))
    )
    return figures["total"], figures["lines"], fy


def time_page(client, url: str, requests: int) -> tuple[list[float], object]:
    """One warm-up request, then `requests` timed ones."""
    response = client.get(url)
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - started)
    return timings, response


def count_queries(client, url: str) -> list[dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return list(captured.captured_queries)


def profile(client, url: str, requests: int) -> None:
    """Where a request's time goes: SQL (each query's time, EXPLAIN ANALYZE of the
    slowest on PostgreSQL), template rendering, and the rest (Python: middleware,
    view, forms, charts)."""
    from django.db import connection
    from django.template.backends.django import Template

    spent = {"sql": 0.0, "template": 0.0}
    queries: list[tuple[float, str, object]] = []

    def timed_sql(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds = time.perf_counter() - started
            spent["sql"] += seconds
            queries.append((seconds, sql, params))

    render = Template.render

    def timed_render(self, *args, **kwargs):
        started, sql = time.perf_counter(), spent["sql"]
        try:
            return render(self, *args, **kwargs)
        finally:
            # SQL run while rendering counts as SQL, not as template.
            spent["template"] += time.perf_counter() - started - (spent["sql"] - sql)

    splits, slowest = [], []
    Template.render = timed_render
    try:
        with connection.execute_wrapper(timed_sql):
            client.get(url)
            for _ in range(requests):
                spent.update(sql=0.0, template=0.0)
                queries.clear()
                started = time.perf_counter()
                client.get(url)
                total = time.perf_counter() - started
                splits.append((total, spent["sql"], spent["template"]))
                slowest.append(list(queries))
    finally:
        Template.render = render
    total, sql, template = (statistics.median(s[i] for s in splits) for i in range(3))
    print(
        f"  profile of {url} (medians of {requests} requests): total {_ms(total)}, "
        f"SQL {_ms(sql)} in {len(slowest[0])} queries, template rendering "
        f"{_ms(template)}, other Python {_ms(total - sql - template)}"
    )
    # Each query's median time over the requests (same queries in the same order).
    per_query = [
        (statistics.median(run[i][0] for run in slowest), sql_, params)
        for i, (_, sql_, params) in enumerate(slowest[0])
        if all(len(run) > i for run in slowest)
    ]
    per_query.sort(key=lambda q: -q[0])
    for seconds, sql_, _ in per_query[:8]:
        print(f"    {_ms(seconds):>10}  {' '.join(sql_.split())[:140]}")
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for _, sql_, params in per_query[:3]:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql_}", params)
            print("    ---- " + " ".join(sql_.split())[:100])
            for (line,) in cursor.fetchall():
                print(f"      {line}")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def parse_args(argv: list[str], sqlite: bool) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lines",
        type=int,
        default=SQLITE_LINES if sqlite else PG_LINES,
        help=f"spend lines (default {PG_LINES:,}; {SQLITE_LINES:,} on SQLite)",
    )
    parser.add_argument("--suppliers", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when the target fails"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the data for the next run (a run reuses kept data made with "
        "the same --lines, --suppliers and --seed)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print each query's time and EXPLAIN ANALYZE of the slowest",
    )
    args = parser.parse_args(argv)
    if args.lines < 1 or args.suppliers < BIG_SUPPLIERS or args.requests < 1:
        parser.error(
            f"--lines and --requests must be at least 1, --suppliers at least "
            f"{BIG_SUPPLIERS}"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _, sqlite = configure_database()
    args = parse_args(argv, sqlite)
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from councils.models import Council
    from councils.templatetags.money import gbp

    if sqlite:
        print(
            f"dashboard_bench: DATABASE_URL is not set, so this runs on a throwaway "
            f"SQLite file ({SQLITE_FILE}) with {args.lines:,} lines. The target is "
            "stated for PostgreSQL with 2,000,000 lines: set DATABASE_URL to measure "
            "it. The verdict below is for SQLite."
        )
    elif connection.vendor != "postgresql":
        print(f"dashboard_bench: note: {connection.vendor}, not PostgreSQL.")
    print(
        f"LocalSpend dashboard benchmark on {connection.vendor}: {args.lines:,} lines, "
        f"{args.suppliers:,} suppliers, {YEARS} financial years, seed {args.seed}",
        flush=True,
    )
    call_command("migrate", verbosity=0)
    made = reusable(args)
    client = Client()
    try:
        if made:
            print(
                "Reusing the kept bench data (built in an earlier run: load "
                f"{made['load_seconds']} s, rollup.rebuild {made['rollup_seconds']} s, "
                + ", ".join(
                    f"{n:,} {name} rows" for name, n in made["rollup_rows"].items()
                )
                + ")"
            )
        else:
            removed = cleanup()
            if removed:
                print(f"Earlier bench data removed ({removed:,} lines)")
            made = build(args)
        council = Council.objects.get(slug=COUNCIL_SLUG)
        # The scan is timed before and after the page, so that both medians come
        # from the same stretch of the run (the machine may be busy).
        scan, table_rows, plan = time_scan(SCAN_RUNS)
        print(
            f"SELECT sum(amount) over all {table_rows:,} spend lines in the table: "
            f"median {_ms(statistics.median(scan))} of {SCAN_RUNS} after a warm-up "
            f"run (min {_ms(min(scan))}, max {_ms(max(scan))})"
        )
        if plan:
            print(f"  plan: {plan}")

        client.force_login(council.memberships.get().user)
        page = reverse("spend:dashboard", args=[council.slug])
        total, lines, fy = expected_default_view(council)
        figure = gbp(total)
        timings, response = time_page(client, page, args.requests)
        page_median = statistics.median(timings)
        queries = count_queries(client, page)
        ok_page = response.status_code == 200 and figure.encode() in response.content
        print(
            f"Dashboard {page} (default view: {fy.label}): median "
            f"{_ms(page_median)} of {args.requests} requests after a warm-up "
            f"(min {_ms(min(timings))}, max {_ms(max(timings))}), "
            f"{len(queries)} queries, {len(response.content) / 1000:,.0f} kB; status "
            f"{response.status_code}, shows {figure} in {lines:,} payments: "
            f"{'yes' if ok_page else 'NO'}"
        )
        after, _, _ = time_scan(SCAN_RUNS)
        print(
            f"SELECT sum(amount) again, after the page: median "
            f"{_ms(statistics.median(after))} of {SCAN_RUNS} after a warm-up run "
            f"(min {_ms(min(after))}, max {_ms(max(after))})"
        )
        scan_median = statistics.median(scan + after)
        directorate = DIRECTORATES[0][0]
        for label, query in (
            (f"directorate {directorate}", {"directorate": directorate}),
            (
                f"year {made['first_year']}/{(made['first_year'] + 1) % 100:02d}",
                {"year": str(made["first_year"])},
            ),
            ("metric sme", {"metric": "sme"}),
        ):
            variant = f"{page}?{_urlencode(query)}"
            variant_timings, variant_response = time_page(
                client, variant, VARIANT_REQUESTS
            )
            print(
                f"  {label}: median {_ms(statistics.median(variant_timings))} of "
                f"{VARIANT_REQUESTS}, {len(count_queries(client, variant))} queries, "
                f"status {variant_response.status_code}"
            )
        if args.profile:
            profile(client, page, VARIANT_REQUESTS)

        ratio = page_median / scan_median
        met = ok_page and ratio < TARGET_RATIO
        print()
        for label, value in (
            (f"full scan (median of {2 * SCAN_RUNS})", _ms(scan_median)),
            (f"dashboard page (median of {args.requests})", _ms(page_median)),
            ("dashboard / full scan", f"{ratio:.2f}"),
        ):
            print(f"{label:<32}{value:>12}")
        print(
            f"Target: dashboard under {TARGET_RATIO:g} x the full scan"
            f"{' (stated for PostgreSQL; this is SQLite)' if sqlite else ''}: "
            f"{'PASS' if met else 'FAIL'}"
            f"{'' if ok_page else ' (the page did not show the expected total)'}"
        )
    finally:
        client.logout()
        if args.keep:
            print("Bench data kept (--keep).")
        else:
            removed = cleanup()
            print(f"Bench data removed ({removed:,} lines).")
            if sqlite:
                connection.close()
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{SQLITE_FILE}{suffix}").unlink(missing_ok=True)
    return 1 if args.strict and not met else 0


def _urlencode(query: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(query)


if __name__ == "__main__":
    sys.exit(main())
