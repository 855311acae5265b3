"""How fast does `import_spend` load a big council spend file into PostgreSQL?

Generates N realistic spend lines (default 1,000,000 from ~4,000 suppliers) as a
council-style CSV, then times, each in its own process so that each has its own
peak memory:

1. the floor: a bare COPY of the CSV into an unindexed table of text columns
   (an ordinary table, logged as spend lines are; a TEMP table, which is not, is
   timed too and reported beside it);
2. `import_spend` (parsing, supplier matching, dedup and loading: everything);
3. the usual Django way: pandas `read_csv`, per-row Decimal/date conversion and
   `bulk_create(batch_size=5000)`, with suppliers got-or-created in bulk.

Target: import_spend takes at most 6x the floor and peaks under 1 GB of memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/localspend_bench \\
        .venv/bin/python bench/import_bench.py --rows 100000

It works on its own council (slug "bench") and removes what it created (the bench
council's uploads, lines and aliases, and the suppliers only it uses) before and
after, so other councils in the database are left alone.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COUNCIL_SLUG = "bench"
HEADER = [
    "Date",
    "Supplier Name",
    "Amount",
    "Department",
    "Service Area",
    "Expense Type",
    "Transaction Number",
]
REDACTED = "REDACTED PERSONAL DATA"
REDACTED_SHARE = 0.04
CREDIT_SHARE = 0.012
TARGET_RATIO = 6.0
TARGET_PEAK_BYTES = 1_000_000_000  # 1 GB
RESULT_MARK = "BENCH-RESULT "
NO_DATABASE = (
    "import_bench: set DATABASE_URL to a PostgreSQL database to run this benchmark, "
    "e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/localspend_bench "
    "(skipped)."
)

# ------------------------------------------------------------------ the data

PLACES = (
    "Luton Dunstable Chiltern Wardown Leagrave Bedford Hitchin Harpenden Stopsley "
    "Barton Toddington Ampthill Flitwick Caddington Kensworth Biggleswade Sandy "
    "Shefford Leighton Linslade Stevenage Letchworth Tring Wing Totternhoe Sundon "
    "Anglia Mercia Wessex Pennine Severn Thames Albion Riverside Parkside Hillside "
    "Greenway Oakwood Ashcroft Beechwood Kingsway Castle Abbey Priory Meadow "
    "Brookside Summit Crown Phoenix Apex Vista Horizon Keystone Cornerstone "
    "Lighthouse Compass Harbour Sterling Premier Central County Metro Regal "
    "Northgate Southfield Eastwood Westbury Millbrook Redbourn Whitehill Lea"
).split()
SURNAMES = (
    "Smith Patel Khan Jones Taylor Brown Williams Wilson Johnson Davies Robinson "
    "Wright Thompson Evans Walker White Roberts Green Hall Wood Jackson Clarke "
    "Hussain Ahmed Ali Shah Singh O'Brien Murphy Kelly McDonald Harris Lewis "
    "Cooper Ward Morris Turner Hughes Edwards Baker Harrison Martin Moore Parker "
    "Bennett Chapman Mason Fletcher Barker Nowak Kowalski Okafor Mensah Adeyemi "
    "Reid Fraser Hamilton Grant Dhillon Sharma Begum Iqbal Doherty Lawrence"
).split()
TRADES = [
    "Plumbing",
    "Plumbing & Heating",
    "Electrical Services",
    "Electrical Contractors",
    "Building Services",
    "Construction",
    "Builders",
    "Roofing",
    "Scaffolding",
    "Groundworks",
    "Landscapes",
    "Tree Surgery",
    "Cleaning Services",
    "Facilities Management",
    "Office Supplies",
    "Stationers",
    "IT Solutions",
    "Computer Services",
    "Software",
    "Telecoms",
    "Print",
    "Signs",
    "Catering",
    "Foods",
    "Taxis",
    "Cars",
    "Travel",
    "Coaches",
    "Transport",
    "Couriers",
    "Removals",
    "Waste Management",
    "Recycling",
    "Skip Hire",
    "Plant Hire",
    "Tool Hire",
    "Security",
    "Fire Protection",
    "Lifts",
    "Glazing",
    "Windows & Doors",
    "Locksmiths",
    "Pest Control",
    "Drainage",
    "Highways",
    "Surfacing",
    "Lighting",
    "Care Services",
    "Home Care",
    "Care Homes",
    "Nursing Agency",
    "Supported Living",
    "Recruitment",
    "Consulting",
    "Associates",
    "Legal Services",
    "Solicitors",
    "Accountants",
    "Training",
    "Education Services",
    "Tuition",
    "Childcare",
    "Nurseries",
    "Youth Services",
    "Sports",
    "Leisure",
    "Events",
    "Furniture",
    "Flooring",
    "Carpets",
    "Decorators",
    "Joinery",
    "Engineering",
    "Environmental",
    "Energy",
    "Solar",
    "Fuels",
    "Vehicle Repairs",
    "Motors",
    "Tyres",
    "Workwear",
    "Medical Supplies",
    "Pharmacy",
    "Interpreting",
    "Media",
    "Design",
    "Architects",
    "Surveyors",
    "Property Services",
    "Lettings",
]
FORMS = (
    ["Ltd"] * 45 + ["Limited"] * 20 + [""] * 14 + ["LLP"] * 3 + ["PLC"] * 2
    + ["CIC"] * 3 + ["(UK) Ltd"] * 4 + ["Group Ltd"] * 4 + ["Services Ltd"] * 5
)  # fmt: skip
CHARITIES = [
    "Foodbank",
    "Citizens Advice",
    "Mind",
    "Carers Centre",
    "Hospice",
    "Community Trust",
    "Age Concern",
    "Women's Aid",
    "Youth Trust",
    "Housing Association",
    "Credit Union",
    "Arts Trust",
    "Community Transport",
    "Refugee Forum",
    "Sports Club",
]
NATIONALS = [
    "HM Revenue & Customs",
    "Bedfordshire Police",
    "Bedfordshire Fire & Rescue Service",
    "NHS Bedfordshire, Luton and Milton Keynes ICB",
    "Anglian Water Services Ltd",
    "British Gas Business",
    "EDF Energy Customers Ltd",
    "Royal Mail Group Ltd",
    "British Telecommunications PLC",
    "Capita Business Services Ltd",
    "Serco Ltd",
    "Veolia ES (UK) Ltd",
    "Amey Highways Ltd",
    "Kier Construction Ltd",
    "Balfour Beatty Group Ltd",
    "Softcat PLC",
    "Tesco Stores Ltd",
    "Lyreco UK Ltd",
    "Travis Perkins Trading Company Limited",
    "Wickes Building Supplies Ltd",
    "Screwfix Direct Ltd",
    "Zurich Municipal",
    "Local Government Association",
    "Ordnance Survey Ltd",
    "Ricoh UK Ltd",
    "Hays Specialist Recruitment Ltd",
    "Reed Specialist Recruitment Ltd",
    "Matrix SCM Ltd",
    "Lloyds Bank PLC",
    "Central Bedfordshire Council",
    "Bedford Borough Council",
    "Hertfordshire County Council",
    "Environment Agency",
    "HM Land Registry",
    "Post Office Ltd",
    "Total Gas & Power Ltd",
    "Npower Business Solutions",
    "Arriva The Shires Ltd",
    "Thames Valley Housing Association",
    "Bupa Care Homes (CFH Care) Ltd",
]
DEPARTMENTS = {
    "Adult Social Care": [
        "Older People",
        "Learning Disabilities",
        "Mental Health",
        "Physical Disabilities",
        "Safeguarding Adults",
        "Commissioning",
    ],
    "Children's Services": [
        "Looked After Children",
        "Children in Need",
        "Early Help",
        "Special Educational Needs",
        "Youth Offending",
        "Home to School Transport",
    ],
    "Place": [
        "Highways",
        "Parking Services",
        "Planning",
        "Regeneration",
        "Parks & Open Spaces",
        "Waste & Recycling",
        "Street Cleansing",
    ],
    "Housing": [
        "Homelessness",
        "Housing Repairs",
        "Temporary Accommodation",
        "Housing Options",
    ],
    "Public Health": [
        "Sexual Health",
        "Substance Misuse",
        "Health Visiting",
        "Stop Smoking",
    ],
    "Resources": [
        "ICT",
        "Finance",
        "Human Resources",
        "Legal Services",
        "Procurement",
        "Revenues & Benefits",
        "Property Services",
    ],
    "Chief Executive's Office": [
        "Communications",
        "Policy & Performance",
        "Elections",
        "Democratic Services",
    ],
    "Culture & Leisure": ["Libraries", "Leisure Centres", "Museums", "Events"],
}
EXPENSE_TYPES = [
    "Agency Staff",
    "Consultancy Fees",
    "Building Repairs & Maintenance",
    "Grounds Maintenance",
    "Cleaning & Domestic Supplies",
    "Electricity",
    "Gas",
    "Water Services",
    "Rents",
    "Computer Hardware",
    "Software Licences",
    "Telephones",
    "Postage",
    "Printing & Stationery",
    "Catering Provisions",
    "Equipment Purchase",
    "Vehicle Repairs & Maintenance",
    "Fuel",
    "Hired & Contract Services",
    "Taxis",
    "Travel Expenses",
    "Training",
    "Conference Fees",
    "Subscriptions",
    "Legal Fees",
    "Audit Fees",
    "Insurance",
    "Residential Care",
    "Nursing Care",
    "Home Care",
    "Supported Living",
    "Day Care",
    "Grants to Voluntary Organisations",
    "Contributions to Other Local Authorities",
    "Waste Disposal",
    "Highways Maintenance",
    "Street Lighting",
    "Professional Fees",
    "Advertising",
    "Security Services",
    "Furniture & Fittings",
    "Materials",
    "Private Contractors",
    "Temporary Accommodation",
    "Bed & Breakfast",
]
REDACTED_EXPENSES = [
    ("Adult Social Care", "Older People", "Direct Payments"),
    ("Adult Social Care", "Learning Disabilities", "Personal Budgets"),
    ("Children's Services", "Looked After Children", "Foster Care Allowances"),
    ("Children's Services", "Looked After Children", "Special Guardianship"),
    ("Housing", "Homelessness", "Rent Deposits"),
    ("Resources", "Human Resources", "Staff Expenses"),
]


def supplier_names(count: int, rng: random.Random) -> list[str]:
    """`count` realistic company names, no two alike once normalised."""
    from spend.values import is_redacted, normalise_name

    names: list[str] = []
    seen: set[str] = set()

    def add(name: str) -> None:
        name = " ".join(name.split())
        key = normalise_name(name)
        if key and key not in seen and not is_redacted(name):
            seen.add(key)
            names.append(name)

    for name in NATIONALS[: max(0, count // 100)]:
        add(name)
    attempts = 0
    while len(names) < count:
        attempts += 1
        if attempts > count * 200:
            raise RuntimeError(f"cannot make {count} distinct supplier names")
        kind = rng.random()
        form = rng.choice(FORMS)
        place, surname, trade = (
            rng.choice(PLACES),
            rng.choice(SURNAMES),
            rng.choice(TRADES),
        )
        if kind < 0.35:
            add(f"{place} {trade} {form}")
        elif kind < 0.6:
            add(f"{surname} {trade} {form}")
        elif kind < 0.68:
            add(f"{surname} & {rng.choice(SURNAMES)} {form or 'LLP'}")
        elif kind < 0.72:
            add(f"{surname} & Sons ({trade}) Ltd")
        elif kind < 0.8:
            add(f"{place} {rng.choice(CHARITIES)}")
        elif kind < 0.86:
            initial = rng.choice("ABCDEFGHJKLMNPRSTW")
            add(f"{rng.choice(['', 'Mr ', 'Mrs ', 'Ms '])}{initial} {surname}")
        else:
            add(f"{place} {surname} {trade} {form}")
    return names[:count]


def financial_year_days(first_year: int) -> list[str]:
    """Weekdays (payment runs) from 1 April to 31 March, as dd/mm/yyyy."""
    day, end = date(first_year, 4, 1), date(first_year + 1, 3, 31)
    days = []
    while day <= end:
        if day.weekday() < 5:
            days.append(day.strftime("%d/%m/%Y"))
        day += timedelta(days=1)
    return days


def _money(value: float) -> str:
    return f"{value:,.2f}"


def generate_csv(
    path: Path, rows: int, suppliers: int, seed: int, first_year: int
) -> None:
    """Write the spend file: deterministic for a given rows, suppliers and seed."""
    rng = random.Random(seed)
    names = supplier_names(suppliers, rng)
    departments = list(DEPARTMENTS)
    profiles = []
    for name in names:
        department = rng.choice(departments)
        uses = [
            (
                department,
                rng.choice(DEPARTMENTS[department]),
                rng.choice(EXPENSE_TYPES),
            )
            for _ in range(rng.randint(1, 3))
        ]
        # Some suppliers are published in two spellings (ERP exports in capitals).
        spellings = [name, name.upper()] if rng.random() < 0.1 else [name]
        median = min(max(math.exp(rng.gauss(math.log(600), 1.3)), 5.0), 400_000.0)
        profiles.append((spellings, uses, median))
    # A few suppliers get most of the lines, as in real files.
    cum_weights = list(accumulate(1 / (rank + 8) ** 1.05 for rank in range(suppliers)))
    days = financial_year_days(first_year)
    reference = 5_100_000_000 + rng.randrange(1_000_000)
    picks_range = range(suppliers)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for start in range(0, rows, 10_000):
            size = min(10_000, rows - start)
            picks = rng.choices(picks_range, cum_weights=cum_weights, k=size)
            out = []
            for offset, pick in enumerate(picks):
                day = days[(start + offset) * len(days) // rows]
                if rng.random() < REDACTED_SHARE:
                    name = REDACTED
                    department, area, expense = rng.choice(REDACTED_EXPENSES)
                    median = 300.0
                else:
                    spellings, uses, median = profiles[pick]
                    name = rng.choice(spellings)
                    department, area, expense = rng.choice(uses)
                value = max(median * math.exp(rng.gauss(0, 0.7)), 0.01)
                value = round(value) if rng.random() < 0.3 else round(value, 2)
                if rng.random() < CREDIT_SHARE:
                    amount = (
                        f"-£{_money(value)}"
                        if rng.random() < 0.5
                        else f"({_money(value)})"
                    )
                else:
                    amount = _money(value)
                if rng.random() < 0.9:  # else a further line of the same invoice
                    reference += rng.randint(1, 3)
                out.append((day, name, amount, department, area, expense, reference))
            writer.writerows(out)


# ------------------------------------------------------------ the database


def database_problem(url: str | None) -> str | None:
    """Why DATABASE_URL cannot be used, or None if it is a PostgreSQL database."""
    import dj_database_url

    try:
        engine = dj_database_url.parse(url)["ENGINE"]
    except Exception as error:  # any failure to parse means a bad URL
        return f"DATABASE_URL cannot be read ({error})."
    if "postgresql" not in engine and "postgis" not in engine:
        return (
            f"this benchmark measures PostgreSQL only; DATABASE_URL is for {engine}. "
            "Set DATABASE_URL to a PostgreSQL database."
        )
    return None


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.conf import settings

    django.setup()
    # As in production: no query log (with DEBUG on, Django keeps the SQL text of
    # the last 9,000 queries, which skews time and memory of the bulk inserts).
    settings.DEBUG = False


def bench_council():
    from councils.models import Council

    council = Council.objects.filter(slug=COUNCIL_SLUG).first()
    if council is None:
        council = Council.objects.create(
            slug=COUNCIL_SLUG,
            name="Bench Borough Council (benchmark data)",
            short_name="Bench",
            gss_code="E99999999",
        )
    return council


def cleanup(*, drop_council: bool) -> dict:
    """Remove the bench council's uploads, lines and aliases, and the suppliers
    that only the bench council uses and that appeared after its first upload.
    """
    from django.db import connection, transaction
    from django.db.models import Exists, Min, OuterRef
    from django.test import override_settings

    from councils.models import Council
    from procure.models import Contract, MatchSuggestion, Supplier, SupplierAlias
    from socialvalue.models import SupplierTag, TagOverride
    from spend.models import (
        CouncilDirectorate,
        DirectorateMonth,
        RowIssue,
        SpendLine,
        SpendUpload,
        SupplierMonth,
        SupplierYear,
        TagMonth,
    )

    council = Council.objects.filter(slug=COUNCIL_SLUG).first()
    if council is None:
        return {"lines": 0, "suppliers": 0}
    since = SpendUpload.objects.filter(council=council).aggregate(
        first=Min("uploaded_at")
    )["first"]
    supplier_ids: list[int] = []
    if since is not None:
        pk = OuterRef("pk")
        aliases, lines = SupplierAlias.objects, SpendLine.objects
        supplier_ids = list(
            Supplier.objects.filter(
                Exists(aliases.filter(supplier=pk, council=council))
                | Exists(lines.filter(supplier=pk, council=council)),
                ~Exists(aliases.filter(supplier=pk).exclude(council=council)),
                ~Exists(lines.filter(supplier=pk).exclude(council=council)),
                ~Exists(Contract.objects.filter(supplier=pk)),
                created_at__gte=since,
                verified=False,
            ).values_list("pk", flat=True)
        )

    def table(model) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    uploads = f"SELECT id FROM {table(SpendUpload)} WHERE council_id = %s"
    by_council = [
        (SpendLine, "council_id = %s"),
        # the rollups and tags the import wrote for the council
        (SupplierMonth, "council_id = %s"),
        (SupplierYear, "council_id = %s"),
        (TagMonth, "council_id = %s"),
        (DirectorateMonth, "council_id = %s"),
        (CouncilDirectorate, "council_id = %s"),
        (SupplierTag.history.model, "council_id = %s"),
        (SupplierTag, "council_id = %s"),
        (RowIssue, f"upload_id IN ({uploads})"),
        (SpendUpload.history.model, "council_id = %s"),
        (SpendUpload, "council_id = %s"),
        (SupplierAlias.history.model, "council_id = %s"),
        (SupplierAlias, "council_id = %s"),
    ]
    removed = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for model, where in by_council:
            cursor.execute(f"DELETE FROM {table(model)} WHERE {where}", [council.pk])
            removed[model._meta.model_name] = cursor.rowcount
        if supplier_ids:
            cursor.execute(
                f"DELETE FROM {table(MatchSuggestion)} "
                "WHERE supplier_id = ANY(%s) OR candidate_id = ANY(%s)",
                [supplier_ids, supplier_ids],
            )
            for model, column in (
                (SupplierTag.history.model, "supplier_id"),
                (SupplierTag, "supplier_id"),
                (TagOverride.history.model, "supplier_id"),
                (TagOverride, "supplier_id"),
                (Supplier.history.model, "id"),
                (Supplier, "id"),
            ):
                cursor.execute(
                    f"DELETE FROM {table(model)} WHERE {column} = ANY(%s)",
                    [supplier_ids],
                )
        if drop_council:
            with override_settings(SIMPLE_HISTORY_ENABLED=False):
                Council.objects.filter(pk=council.pk).delete()
            Council.history.filter(id=council.pk).delete()
    with connection.cursor() as cursor:  # reclaim the deleted rows for the next run
        for model in (SpendLine, Supplier, SupplierAlias):
            cursor.execute(f"VACUUM ANALYZE {table(model)}")
    return {
        "lines": removed.get("spendline", 0),
        "suppliers": len(supplier_ids),
    }


# --------------------------------------------------------------- the steps


def step_setup(args) -> dict:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    removed = cleanup(drop_council=False)
    bench_council()
    return {"removed": removed}


def step_reset(args) -> dict:
    removed = cleanup(drop_council=False)
    bench_council()
    return {"removed": removed}


def step_teardown(args) -> dict:
    return {"removed": cleanup(drop_council=True)}


def step_floor(args, *, temporary: bool = False) -> dict:
    """COPY the CSV into an unindexed table of text columns: an ordinary table
    (the floor: written to PostgreSQL's write-ahead log, as spend lines are), or
    with `temporary` a TEMP table, which is not, and so is quicker still."""
    from django.db import connection

    kind = "TEMP TABLE" if temporary else "TABLE"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
        cursor.execute(f"CREATE {kind} bench_floor ({columns})")
        started = time.perf_counter()
        with open(args.csv, "rb") as file:
            cursor.cursor.copy_expert(
                "COPY bench_floor FROM STDIN WITH (FORMAT csv, HEADER true)", file
            )
        seconds = time.perf_counter() - started  # autocommit: committed
        cursor.execute("SELECT count(*) FROM bench_floor")
        rows = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_floor")
    return {"seconds": seconds, "rows": rows}


def step_floor_temp(args) -> dict:
    return step_floor(args, temporary=True)


class _RolledBack(Exception):
    pass


def step_lines_copy(args) -> dict:
    """The database's own share: the rows import_spend sends to spend_spendline,
    COPYed on their own into that table, with its indexes and checks, in a
    transaction that is then rolled back.

    The rows are caught from an import of the file that is rolled back too, so
    they are exactly what import_spend sends (supplier ids and all)."""
    from django.db import connection, transaction

    from spend import importer
    from spend.models import SpendUpload

    sent = io.StringIO()
    pieces = importer._Pieces

    class Kept(pieces):  # the text handed to the COPY, as it is handed over
        def read(self, size: int = -1) -> str:
            text = super().read(size)
            sent.write(text)
            return text

    importer._Pieces = Kept
    data = Path(args.csv).read_bytes()
    try:
        with transaction.atomic():
            upload = SpendUpload.objects.create(
                council=bench_council(), file_name="lines-copy.csv", sha256="0" * 64
            )
            importer.import_spend_file(upload=upload, data=data)
            raise _RolledBack
    except _RolledBack:
        pass
    finally:
        importer._Pieces = pieces
    text = sent.getvalue().encode()
    sent.truncate(0)
    del data
    columns = ", ".join(importer._LINE_COLUMNS)
    table = connection.ops.quote_name("spend_spendline")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.cursor.copy_expert(
                f"COPY {table} ({columns}) FROM STDIN", io.BytesIO(text)
            )
            seconds = time.perf_counter() - started
            raise _RolledBack
    except _RolledBack:
        pass
    return {"seconds": seconds, "rows": text.count(b"\n")}


def step_import_spend(args) -> dict:
    from django.core.management import call_command

    out = io.StringIO()
    profiling = _Profiling() if args.profile else contextlib.nullcontext()
    started = time.perf_counter()
    try:
        with profiling:
            call_command(
                "import_spend",
                args.csv,
                council=COUNCIL_SLUG,
                format="json",
                stdout=out,
            )
    except SystemExit:  # the command exits 1 when it refuses the file
        pass
    seconds = time.perf_counter() - started
    text = out.getvalue().strip()
    result = json.loads(text.splitlines()[-1]) if text else {"status": "no output"}
    result["errors"] = result.get("errors", [])[:3]
    return {"seconds": seconds, "rows": result.get("rows_read", 0), "result": result}


class _Profiling:
    """`--profile`: cProfile of the import and the time of each SQL statement
    (the first 100 characters of its text), printed to stderr when it ends."""

    def __init__(self) -> None:
        import cProfile
        from collections import Counter

        self.profile = cProfile.Profile()
        self.sql: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def _timed(self, execute, sql, params, many, context):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            text = " ".join(str(sql).split())[:100]
            self.sql[text] += time.perf_counter() - started
            self.calls[text] += 1

    def __enter__(self) -> _Profiling:
        from django.db import connection

        self.wrapper = connection.execute_wrapper(self._timed)
        self.wrapper.__enter__()
        self.profile.enable()
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        import pstats

        self.profile.disable()
        self.wrapper.__exit__(*exc)
        err = sys.stderr
        stats = pstats.Stats(self.profile, stream=err)
        print("\nimport_spend, costliest functions (own time):", file=err)
        stats.sort_stats("tottime").print_stats(25)
        print("import_spend, costliest functions (with callees):", file=err)
        stats.sort_stats("cumulative").print_stats(40)
        print("import_spend, SQL by statement (commit not included):", file=err)
        print(f"{'seconds':>8} {'calls':>6}  statement", file=err)
        for text, seconds in self.sql.most_common(25):
            print(f"{seconds:8.3f} {self.calls[text]:6d}  {text}", file=err)
        print(
            f"{sum(self.sql.values()):8.3f} {sum(self.calls.values()):6d}  in all",
            file=err,
        )


def _amount(text: str) -> Decimal:
    text = text.strip().replace("£", "").replace(",", "")
    if text.startswith("(") and text.endswith(")"):
        return -Decimal(text[1:-1])
    return Decimal(text)


def step_django_way(args) -> dict:
    """What a Django developer would write first: pandas, then bulk_create."""
    import pandas as pd
    from django.db import transaction

    from councils.models import Council
    from procure.models import Supplier
    from spend.models import SpendLine, SpendUpload, UploadStatus
    from spend.values import normalise_name

    council = Council.objects.get(slug=COUNCIL_SLUG)
    started = time.perf_counter()
    frame = pd.read_csv(args.csv, dtype=str, keep_default_na=False)
    with transaction.atomic():
        upload = SpendUpload.objects.create(
            council=council,
            file_name=Path(args.csv).name,
            sha256=hashlib.sha256(f"django-way {time.time()}".encode()).hexdigest(),
            status=UploadStatus.IMPORTING,
        )
        # Suppliers: get or create in bulk, by normalised name.
        names = frame["Supplier Name"].str.strip()
        redacted = names.str.upper().eq(REDACTED)
        published = names[~redacted].unique()
        wanted: dict[str, str] = {}
        for name in published:
            wanted.setdefault(normalise_name(name), name)
        keys = list(wanted)
        supplier_ids: dict[str, int] = {}
        for i in range(0, len(keys), 1000):
            supplier_ids.update(
                Supplier.objects.filter(
                    normalised_name__in=keys[i : i + 1000]
                ).values_list("normalised_name", "pk")
            )
        missing = [
            Supplier(name=wanted[key], normalised_name=key)
            for key in keys
            if key not in supplier_ids
        ]
        for supplier in Supplier.objects.bulk_create(missing, batch_size=1000):
            supplier_ids[supplier.normalised_name] = supplier.pk
        by_name = {name: supplier_ids[normalise_name(name)] for name in published}
        # Lines: convert each row, insert 5,000 at a time.
        batch: list[SpendLine] = []
        total = Decimal("0.00")
        count = 0
        for number, row in enumerate(frame.itertuples(index=False, name=None), start=2):
            paid, supplier, amount, department, area, expense, reference = row
            supplier = supplier.strip()
            is_redacted = supplier.upper() == REDACTED
            value = _amount(amount)
            total += value
            batch.append(
                SpendLine(
                    council=council,
                    upload=upload,
                    source_row=number,
                    payment_date=datetime.strptime(paid, "%d/%m/%Y").date(),
                    amount=value,
                    supplier_id=None if is_redacted else by_name[supplier],
                    supplier_name=supplier,
                    redacted=is_redacted,
                    department=department,
                    service_area=area,
                    expense_type=expense,
                    transaction_ref=reference,
                )
            )
            if len(batch) == 5000:
                SpendLine.objects.bulk_create(batch, batch_size=5000)
                count += len(batch)
                batch = []
        SpendLine.objects.bulk_create(batch, batch_size=5000)
        count += len(batch)
        upload.status = UploadStatus.IMPORTED
        upload.rows_read = upload.rows_imported = count
        upload.amount_imported = total
        upload.new_suppliers = len(missing)
        upload.save()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": count, "new_suppliers": len(missing)}


STEP_ORDER = ("floor", "floor_temp", "lines_copy", "import_spend", "django_way")
STEPS = {
    "setup": step_setup,
    "reset": step_reset,
    "teardown": step_teardown,
    "floor": step_floor,
    "floor_temp": step_floor_temp,
    "lines_copy": step_lines_copy,
    "import_spend": step_import_spend,
    "django_way": step_django_way,
}


def peak_rss_bytes() -> int:
    """This process's resident-memory high-water mark, in bytes.

    ru_maxrss survives exec(): a child started by subprocess reports at least the
    parent's peak (Linux keeps the larger of the two). On Linux the kernel's VmHWM
    is this program's own peak, so it is preferred when there.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux: KiB


def run_step_here(args) -> int:
    """Child process: run one step and report it on the last line of stdout."""
    setup_django()
    result = STEPS[args.step](args)
    result["peak_rss"] = peak_rss_bytes()
    print(RESULT_MARK + json.dumps(result, default=str), flush=True)
    return 0


def run_step(
    step: str, csv_path: Path | None, env: dict, *, profile: bool = False
) -> dict:
    """Run a step in a fresh interpreter, so its peak memory is its own."""
    command = [sys.executable, str(Path(__file__).resolve()), "--step", step]
    if csv_path is not None:
        command += ["--csv", str(csv_path)]
    if profile:
        command.append("--profile")
    done = subprocess.run(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if done.returncode != 0 or not lines:
        sys.stdout.write(done.stdout)
        raise RuntimeError(f"the {step} step failed (exit status {done.returncode})")
    return json.loads(lines[-1][len(RESULT_MARK) :])


# ------------------------------------------------------------------ output


def _mb(value: int) -> str:
    return f"{value / 1_000_000:,.0f} MB"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(rows: int, timings: dict[str, dict]) -> bool:
    floor = timings["floor"]["seconds"]
    labels = {
        "floor": "floor: COPY into an unindexed table",
        "floor_temp": "COPY into an unindexed TEMP table",
        "lines_copy": "COPY of the import's rows into spend lines",
        "import_spend": "import_spend",
        "django_way": "usual Django way (pandas + bulk_create)",
    }
    print()
    print(f"{'step':<42}{'time':>10}{'x floor':>10}{'rows/s':>12}{'peak RSS':>11}")
    for step, label in labels.items():
        if step not in timings:
            print(f"{label:<42}{'skipped':>10}")
            continue
        seconds = timings[step]["seconds"]
        print(
            f"{label:<42}{seconds:>9.2f}s{seconds / floor:>9.1f}x"
            f"{rows / seconds:>12,.0f}{_mb(timings[step]['peak_rss']):>11}"
        )
    result = timings["import_spend"]["result"]
    print()
    print(
        f"import_spend: status {result.get('status')}, "
        f"{result.get('rows_read', 0):,} rows read = "
        f"{result.get('rows_imported', 0):,} imported + "
        f"{result.get('rows_rejected', 0):,} rejected + "
        f"{result.get('rows_duplicate', 0):,} duplicate + "
        f"{result.get('rows_skipped', 0):,} skipped; "
        f"{result.get('redacted_lines', 0):,} redacted; "
        f"{result.get('new_suppliers', 0):,} new suppliers; "
        f"£{Decimal(result.get('amount_imported') or 0):,} imported."
    )
    for error in result.get("errors", []):
        print(f"  {error}")
    ratio = timings["import_spend"]["seconds"] / floor
    if "floor_temp" in timings:
        print(
            "import_spend against the TEMP table's COPY (no write-ahead log): "
            f"{timings['import_spend']['seconds'] / timings['floor_temp']['seconds']:.1f}x"
        )
    if "lines_copy" in timings:
        share = timings["lines_copy"]["seconds"]
        print(
            f"The database's share: COPY of the import's {timings['lines_copy']['rows']:,} "
            f"rows into spend lines (its indexes and checks) takes {share:.2f} s, "
            f"{share / floor:.1f}x the floor on its own; import_spend takes "
            f"{timings['import_spend']['seconds'] / share:.2f}x that."
        )
    peak = timings["import_spend"]["peak_rss"]
    imported = result.get("status") == "imported" and result.get("rows_read") == rows
    speed_ok, memory_ok = ratio <= TARGET_RATIO, peak < TARGET_PEAK_BYTES
    print(
        f"Target: import_spend <= {TARGET_RATIO:g}x the floor: {verdict(speed_ok)} "
        f"({ratio:.1f}x); peak memory < 1 GB: {verdict(memory_ok)} ({_mb(peak)})"
    )
    ok = speed_ok and memory_ok and imported
    if not imported:
        print("FAIL: import_spend did not import every row of the file.")
    print(verdict(ok))
    return ok


# -------------------------------------------------------------------- main


def parse_args(argv: list[str] | None):
    parser = argparse.ArgumentParser(
        description=(
            "Time import_spend on a generated council spend CSV against a bare "
            "PostgreSQL COPY (the floor) and the usual pandas + bulk_create way. "
            "Needs DATABASE_URL set to a PostgreSQL database; uses its own council "
            f'("{COUNCIL_SLUG}") and removes its data before and after.'
        )
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="spend lines (default 1,000,000)"
    )
    parser.add_argument(
        "--suppliers", type=int, default=4000, help="distinct suppliers (default 4000)"
    )
    parser.add_argument("--seed", type=int, default=2024, help="random seed")
    parser.add_argument(
        "--year",
        type=int,
        default=2025,
        help="first year of the financial year of the payments (default 2025: 2025/26)",
    )
    parser.add_argument(
        "--skip-django-way",
        action="store_true",
        help="skip the (slow) pandas + bulk_create comparison",
    )
    parser.add_argument(
        "--skip-lines-copy",
        action="store_true",
        help="skip timing the COPY of the import's own rows into spend lines "
        "(the database's share; it costs an extra import, rolled back)",
    )
    parser.add_argument(
        "--keep-csv", metavar="PATH", help="write the generated CSV here and keep it"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when the target fails"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run import_spend under cProfile and print its costliest functions and "
        "SQL statements (to stderr); its time is then longer than without",
    )
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows < 1 or args.suppliers < 1:
        parser.error("--rows and --suppliers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url and not {"-h", "--help"} & set(argv):
        print(NO_DATABASE)
        return 0
    args = parse_args(argv)
    problem = database_problem(url)
    if problem:
        print(f"import_bench: {problem}", file=sys.stderr)
        return 2
    if args.step:
        return run_step_here(args)

    work = Path(tempfile.mkdtemp(prefix="localspend-bench-"))
    csv_path = Path(args.keep_csv) if args.keep_csv else work / "bench-spend.csv"
    try:
        fy = f"{args.year}/{(args.year + 1) % 100:02d}"
        print(
            f"LocalSpend import benchmark: {args.rows:,} rows, {args.suppliers:,} "
            f"suppliers, seed {args.seed}, financial year {fy}"
        )
        started = time.perf_counter()
        generate_csv(csv_path, args.rows, args.suppliers, args.seed, args.year)
        size = csv_path.stat().st_size
        print(
            f"CSV: {csv_path} ({size / 1_000_000:,.1f} MB), generated in "
            f"{time.perf_counter() - started:.1f} s"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "config.settings"
            ),
            # The bench file may be larger than the upload limit; keep the copy the
            # command stores of it out of the project's var/uploads.
            "LOCALSPEND_MAX_UPLOAD_MB": str(max(50, size // 1_000_000 + 10)),
            "LOCALSPEND_UPLOAD_ROOT": str(work / "uploads"),
        }
        setup = run_step("setup", None, env)
        print(f"Database migrated; earlier bench data removed: {setup['removed']}")
        timings: dict[str, dict] = {}
        try:
            for step in STEP_ORDER:
                if step == "lines_copy" and args.skip_lines_copy:
                    continue
                if step == "django_way" and args.skip_django_way:
                    continue
                if step in ("import_spend", "django_way"):
                    run_step("reset", None, env)
                print(f"Running {step}...", flush=True)
                timings[step] = run_step(
                    step, csv_path, env, profile=args.profile and step == "import_spend"
                )
                print(
                    f"  {timings[step]['seconds']:.2f} s, "
                    f"peak RSS {_mb(timings[step]['peak_rss'])}",
                    flush=True,
                )
        finally:
            removed = run_step("teardown", None, env)["removed"]
            print(f"Bench data removed: {removed}")
        ok = report(args.rows, timings)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
