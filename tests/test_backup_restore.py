"""A backup restores to the same totals, done as the README says: `pg_dump -Fc` and
`pg_restore` into a fresh database on PostgreSQL, SQLite's online backup on SQLite;
`manage.py spend_totals` run against the original and the restored copy agree.

The demo is loaded into the test database and committed (`transactional_db`), so
that `pg_dump` (another session) sees it.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection

from councils.demo import load_demo

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def demo(transactional_db):
    call_command("loaddata", "councils", verbosity=0)
    load_demo(
        council_slug="luton", today=date(2026, 4, 10), months=3, lines_per_month=200
    )


def totals_here() -> dict:
    out = io.StringIO()
    call_command("spend_totals", "--format", "json", stdout=out)
    return json.loads(out.getvalue())


def totals_of(database_url: str) -> dict:
    """`manage.py spend_totals` in a process of its own, on that database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "spend_totals", "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_worth_comparing(figures: dict) -> None:
    luton = next(row for row in figures["councils"] if row["council"] == "luton")
    assert luton["lines"] > 0 and Decimal(luton["total"]) != 0
    assert luton["total"] == luton["rolled_up"] == luton["by_tags"]
    assert luton["contracts"] > 0 and figures["suppliers"] > 0


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="pg_dump backs up PostgreSQL only"
)
def test_a_pg_dump_restores_to_the_same_totals(demo, tmp_path):
    missing = [t for t in ("pg_dump", "pg_restore", "psql") if not shutil.which(t)]
    if missing:
        pytest.skip(
            f"{', '.join(missing)} not installed (apt-get install postgresql-client)"
        )
    before = totals_here()
    assert_worth_comparing(before)

    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", str(db["PORT"] or 5432)
    env = {**os.environ, "PGPASSWORD": db["PASSWORD"] or ""}
    login = ["-h", host, "-p", port, "-U", db["USER"]]
    dump = tmp_path / "localspend.dump"
    restored = f"h4restore_{os.getpid()}"

    def run(*command: str) -> None:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"{' '.join(command)}:\n{done.stderr}"

    run("pg_dump", *login, "-Fc", "--no-owner", "-f", str(dump), db["NAME"])
    psql = ["psql", *login, "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c"]
    run(*psql, f'DROP DATABASE IF EXISTS "{restored}"')
    run(*psql, f'CREATE DATABASE "{restored}"')
    try:
        run(
            "pg_restore",
            *login,
            "--no-owner",
            "--exit-on-error",
            "-d",
            restored,
            str(dump),
        )
        user = quote(db["USER"], safe="")
        password = quote(db["PASSWORD"] or "", safe="")
        after = totals_of(f"postgres://{user}:{password}@{host}:{port}/{restored}")
    finally:
        run(*psql, f'DROP DATABASE IF EXISTS "{restored}"')
    assert after == before


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="a SQLite backup")
def test_a_sqlite_online_backup_restores_to_the_same_totals(demo, tmp_path):
    before = totals_here()
    assert_worth_comparing(before)
    copy = tmp_path / "backup.sqlite3"
    # What the README's one-liner does, from the live database, while it is open.
    connection.ensure_connection()
    with sqlite3.connect(copy) as target:
        connection.connection.backup(target)
    target.close()
    assert totals_of(f"sqlite:///{copy}") == before


def test_spend_totals_prints_each_council_to_the_penny_and_checks_the_rollups(
    council, other_council
):
    from spend.importer import import_spend_file
    from spend.models import SpendUpload, SupplierMonth

    data = (
        b"Date,Supplier,Amount\n"
        b"01/04/2025,Acme Builders Ltd,1000.10\n"
        b"02/04/2025,Beacon Catering Ltd,-0.05\n"
    )
    upload = SpendUpload.objects.create(council=council, file_name="a.csv", sha256="a")
    import_spend_file(upload=upload, data=data)

    def printed() -> list[str]:
        out = io.StringIO()
        call_command("spend_totals", stdout=out)
        return out.getvalue().splitlines()

    lines = printed()
    luton = next(line for line in lines if line.startswith("luton "))
    assert luton.split() == ["luton", "1", "2", "1000.05", "1000.05", "0"]
    assert next(line for line in lines if line.startswith("knowsley ")).split()[
        1:4
    ] == [
        "0",
        "0",
        "0.00",
    ]
    assert lines[-1] == "suppliers 2, supplier tags 8, contracts 0"
    assert not any("do not add up" in line for line in lines)

    SupplierMonth.objects.filter(council=council).delete()  # a broken restore
    assert any("luton: the rollups do not add up" in line for line in printed())
