"""Importing a real contract register, and the contract list once it is held.

Imports the Contracts Finder export in ../shared/data/real/contracts/ (852 rows,
"Every row", as an officer would) into a council, twice (the second time nothing
has changed), then times the contract list's query sorted by spend to date.

    DATABASE_URL=sqlite:////tmp/register-bench.sqlite3 \\
        .venv/bin/python bench/register_bench.py [--council luton] [--file PATH]
        [--keep] [--strict]

Run it on a database that is migrated and holds the council, ideally with the
demo's 72,000 spend lines (`make run` makes both), so that the list's timing
means something. Everything runs in one transaction that is rolled back at the
end, so the database is left as it was, unless --keep.

Targets: each import under 5 s, the sorted list under 1 s. On SQLite the
database's work is this process's, so the CPU time (also printed) is the cost
without the noise of a busy machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

REGISTER = (
    ROOT.parent
    / "shared"
    / "data"
    / "real"
    / "contracts"
    / "contracts-finder_search-export_open-notices_2025-11.csv"
)
IMPORT_TARGET, LIST_TARGET = 5.0, 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--council", default="luton")
    parser.add_argument("--file", type=Path, default=REGISTER)
    parser.add_argument("--keep", action="store_true", help="commit the import")
    parser.add_argument("--strict", action="store_true", help="exit 1 on FAIL")
    args = parser.parse_args()
    if not args.file.exists():
        print(f"No register file at {args.file}: nothing to time.")
        return 0

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction

    from councils.models import Council

    settings.DEBUG = False  # as in production: no query log
    council = Council.objects.filter(slug=args.council).first()
    if council is None:
        print(f"No council {args.council!r} in this database (make run adds it).")
        return 0
    with transaction.atomic():
        ok = _run(council, args.file, connection)
        if not args.keep:
            transaction.set_rollback(True)
    print(
        "PASS" if ok else "FAIL",
        f"(imports < {IMPORT_TARGET} s, list < {LIST_TARGET} s)",
    )
    return 1 if args.strict and not ok else 0


def _run(council, path: Path, connection) -> bool:
    from procure import register_import
    from procure.models import Contract

    register = register_import.read(path.read_bytes(), path.name)
    ok = True
    for run in ("first import", "same file again"):
        queries: list[str] = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started, cpu = time.perf_counter(), time.process_time()
            report = register_import.import_register(
                council, register, register.mapping, only_ours=False
            )
            took, cpu = time.perf_counter() - started, time.process_time() - cpu
        ok &= took < IMPORT_TARGET
        print(
            f"{run}: {took:.2f} s ({cpu:.2f} s CPU), {len(queries):,} queries; "
            f"read {report.rows_read}: created {report.created}, updated "
            f"{report.updated}, unchanged {report.unchanged}, rejected "
            f"{report.rejected}, other buyers {report.other_buyer}, blank "
            f"{report.blank}; reconciles: {report.reconciles}"
        )

    contracts = Contract.objects.filter(council=council).with_spend()
    for sort in ("-spend_to_date", "spend_to_date", "-value"):
        started = time.perf_counter()
        page = list(contracts.order_by(sort, "pk")[:50])
        took = time.perf_counter() - started
        ok &= took < LIST_TARGET
        print(
            f"list of {contracts.count()} contracts by {sort}: {took:.3f} s "
            f"(first {len(page)})"
        )
    if connection.vendor == "sqlite":
        sql, params = contracts.order_by("-spend_to_date").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            for row in cursor.fetchall():
                print("  plan:", row[-1])
    return ok


if __name__ == "__main__":
    sys.exit(main())
