"""Benchmark: classify 50,000 suppliers for the 4 preset councils.

Target (from the classifier issue): under 10 s on SQLite and on PostgreSQL, because
the run is set-based (a handful of queries, rules in Python, bulk writes), not one
query per supplier. Runs on the database in DATABASE_URL (SQLite file by default:
set DATABASE_URL=sqlite:////tmp/classify-bench.sqlite3 to keep it apart from your
development data). It creates its own suppliers (names starting "Bench Classify ") and
removes them afterwards.

    python bench/classify_bench.py [--suppliers 50000] [--strict] [--profile N]

--profile N runs the first run under cProfile and prints its N costliest
functions (by own time; the database's work shows as the cursor's execute,
copy_expert and the connection's commit). cProfile slows the Python side.

Each run also reports this process's CPU time: the rules, and on SQLite the
database's work too, but not a PostgreSQL server's. On a busy machine the wall
time can be well above it.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

TARGET_SECONDS = 10.0
PREFIX = "Bench Classify "  # not "Bench Dashboard ", the dashboard bench's


def _suppliers(count: int, districts: list[str], rng: random.Random) -> list:
    from procure.models import OrganisationType, Supplier
    from spend.values import normalise_name

    types = [
        OrganisationType.PRIVATE_COMPANY,
        OrganisationType.PLC,
        OrganisationType.CHARITY,
        OrganisationType.CIC,
        OrganisationType.PUBLIC_BODY,
        OrganisationType.UNKNOWN,
    ]
    made = []
    for number in range(count):
        kind = rng.choices(types, weights=[60, 8, 10, 5, 2, 15])[0]
        name = f"{PREFIX}{number} Services Ltd"
        made.append(
            Supplier(
                name=name,
                normalised_name=normalise_name(name),
                organisation_type=kind,
                postcode=(
                    f"{rng.choice(districts)} {rng.randint(1, 9)}AB"
                    if rng.random() < 0.85
                    else ""
                ),
                employees=rng.choice([None, 3, 12, 80, 400]),
                turnover=rng.choice([None, Decimal(400_000), Decimal(60_000_000)]),
                accounts_category=rng.choice(["", "MICRO ENTITY", "SMALL", "FULL"]),
                charity_register="GB-CHC" if kind == OrganisationType.CHARITY else "",
                charity_number=str(1_000_000 + number)
                if kind == OrganisationType.CHARITY
                else "",
            )
        )
    Supplier.objects.bulk_create(made, batch_size=2000)
    return list(
        Supplier.objects.filter(name__startswith=PREFIX).values_list("pk", flat=True)
    )


def _link(supplier_ids: list[int], councils: list) -> int:
    """Every bench supplier appears in every council's files, as an alias."""
    from procure.models import SupplierAlias

    aliases = [
        SupplierAlias(
            supplier_id=pk,
            council=council,
            name=f"{PREFIX}{pk}",
            normalised_name=f"bench {pk}",
        )
        for council in councils
        for pk in supplier_ids
    ]
    SupplierAlias.objects.bulk_create(aliases, batch_size=5000)
    return len(aliases)


def _clean() -> None:
    """Remove the bench's rows without per-row signals (no history of the clean-up)."""
    from procure.models import Supplier, SupplierAlias
    from socialvalue.models import SupplierTag

    bench = Supplier.objects.filter(name__startswith=PREFIX).values("pk")
    for queryset in (
        SupplierTag.history.filter(supplier_id__in=bench),
        SupplierTag.objects.filter(supplier__in=bench),
        SupplierAlias.objects.filter(supplier__in=bench),
        Supplier.history.filter(name__startswith=PREFIX),
        Supplier.objects.filter(name__startswith=PREFIX),
    ):
        queryset._raw_delete(queryset.db)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suppliers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--strict", action="store_true", help="exit 1 if over target")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="profile the first run; print its N costliest functions",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from councils.models import Council
    from socialvalue.tagging import classify_suppliers, districts

    call_command("migrate", verbosity=0)
    call_command("load_councils", verbosity=0)
    _clean()
    councils = list(
        Council.objects.filter(
            slug__in=["luton", "milton-keynes", "knowsley", "preston"]
        )
    )
    rng = random.Random(args.seed)
    supplier_ids = _suppliers(args.suppliers, sorted(districts()), rng)
    links = _link(supplier_ids, councils)
    print(
        f"{connection.vendor}: {len(supplier_ids):,} suppliers, {len(councils)} councils,"
        f" {links:,} supplier-council links"
    )
    try:
        timings = []
        for label in ("first run (all tags new)", "second run (nothing changed)"):
            profiler = cProfile.Profile() if args.profile and not timings else None
            started, cpu = time.perf_counter(), time.process_time()
            if profiler is not None:
                profiler.enable()
            result = classify_suppliers(supplier_ids=supplier_ids, councils=councils)
            if profiler is not None:
                profiler.disable()
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            timings.append(seconds)
            print(
                f"  {label:<30} {seconds:6.2f} s  (this process's CPU {cpu:5.2f} s; "
                f"{result.created:,} new, {result.changed:,} changed, "
                f"{result.unchanged:,} unchanged)",
                flush=True,
            )
            if profiler is not None:
                stats = pstats.Stats(profiler, stream=sys.stdout)
                stats.sort_stats("tottime").print_stats(args.profile)
    finally:
        _clean()
    worst = max(timings)
    verdict = "PASS" if worst < TARGET_SECONDS else "FAIL"
    print(f"Target: under {TARGET_SECONDS:.0f} s: {verdict} (slowest {worst:.2f} s)")
    return 1 if args.strict and verdict == "FAIL" else 0


if __name__ == "__main__":
    sys.exit(main())
