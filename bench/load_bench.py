"""Does LocalSpend stay quick with twenty people using it at once?

Target (from the trust issue): gunicorn with 4 workers, PostgreSQL and the demo
data, on 127.0.0.1 only; 20 simulated users browsing dashboards, lists and
drill-downs for 60 seconds. Zero errors and a 95th percentile latency under
300 ms on this machine.

    DATABASE_URL=postgres://localspend_ci:localspend_ci@127.0.0.1:5432/localspend_load \\
        .venv/bin/python bench/load_bench.py [--users 20] [--seconds 60] [--strict]

It migrates the database, loads the council list and the demo (`load_demo`, which
is idempotent), collects the static files, and starts gunicorn as production runs
it: DEBUG off, a random secret key, the host 127.0.0.1 only (no HTTPS redirect,
since the load comes over plain HTTP on the loopback). Each simulated user signs
in through the login form as one of the demo people (cabinet, officer, finance,
in turn), then keeps opening pages picked at random from a weighted list (the
dashboard for each financial year, the line list with filters and drill-downs,
suppliers, contracts, social value), spending 1 to 3 seconds on each page as a
reader would (--think; `--think 0,0` makes it a saturation test), for --seconds
after a short warm-up that is not counted. An error is any response
other than 200, or a request that failed. It prints requests per second,
p50/p95/p99 latency overall and per page, and PASS/FAIL.

Without DATABASE_URL it prints a note and exits 0: the target is stated for
PostgreSQL.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
TARGET_P95_MS = 300
WORKERS = 4
USERS = ("demo-cabinet", "demo-officer", "demo-finance")
PASSWORD = "localspend-demo"
COUNCIL = "luton"


def production_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    print(f"   manage.py {' '.join(args)}", flush=True)
    subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen:
    gunicorn = Path(PYTHON).with_name("gunicorn")
    server = subprocess.Popen(
        [
            str(gunicorn),
            "config.wsgi",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn stopped at start (exit {server.returncode}).")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/accounts/login/")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    server.kill()
    sys.exit("gunicorn did not answer within 60 seconds.")


# --- The pages -------------------------------------------------------------------


def pages(database_url: str) -> list[tuple[str, str, int]]:
    """(label, path, weight): what the simulated users open, from the demo data."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db.models import Sum

    from councils.models import Council
    from procure.models import Contract
    from spend.models import SpendLine

    council = Council.objects.get(slug=COUNCIL)
    base = f"/c/{council.slug}"
    lines = SpendLine.objects.filter(council=council)
    years = sorted(
        {
            d.year if d.month >= 4 else d.year - 1
            for d in lines.dates("payment_date", "month")
        }
    )
    suppliers = list(
        lines.exclude(supplier=None)
        .values("supplier_id")
        .annotate(t=Sum("amount"))
        .order_by("-t")
        .values_list("supplier_id", flat=True)[:30]
    )
    contracts = list(
        Contract.objects.filter(council=council).values_list("pk", flat=True)[:30]
    )
    chosen: list[tuple[str, str, int]] = [
        ("overview", f"{base}/", 2),
        ("dashboard", f"{base}/dashboard/", 6),
        ("spend lines", f"{base}/spend/", 3),
        ("suppliers", f"{base}/suppliers/", 2),
        ("contracts", f"{base}/contracts/", 2),
        ("off-contract", f"{base}/contracts/off-contract/", 1),
        ("social value", f"{base}/social-value/", 1),
        ("targets", f"{base}/targets/", 1),
    ]
    for year in years[-3:]:
        chosen.append(
            ("dashboard, a year", f"{base}/dashboard/?{urlencode({'year': year})}", 2)
        )
        start, end = f"{year}-04-01", f"{year + 1}-03-31"
        for tag in ("locality=local", "size=micro&size=small", "vcse=yes"):
            chosen.append(
                (
                    "drill-down",
                    f"{base}/spend/?date_from={start}&date_to={end}&{tag}",
                    2,
                )
            )
    for pk in suppliers:
        chosen.append(("supplier", f"{base}/suppliers/{pk}/", 1))
        chosen.append(("supplier's lines", f"{base}/spend/?supplier_id={pk}", 1))
    for pk in contracts:
        chosen.append(("contract", f"{base}/contracts/{pk}/", 1))
    return chosen


# --- The users -------------------------------------------------------------------


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)

    def add(self, label: str, ms: float, error: str | None) -> None:
        with self.lock:
            self.times[label].append(ms)
            if error:
                self.errors.append(error)


class User:
    """One person: a connection kept alive, their own cookies, signed in."""

    def __init__(self, port: int, username: str):
        self.port, self.username = port, username
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: str | None = None):
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # reconnect once: a worker may have closed it
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        content = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, content

    def sign_in(self) -> None:
        status, content = self.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
        if status != 200 or not token:
            raise RuntimeError(f"the login page answered {status}")
        form = urlencode(
            {
                "csrfmiddlewaretoken": token.group(1).decode(),
                "username": self.username,
                "password": PASSWORD,
            }
        )
        status, _ = self.request("POST", "/accounts/login/", form)
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"{self.username} could not sign in ({status})")


def browse(user: User, chosen, weights, start, stop, tally, seed, think):
    rng = random.Random(seed)
    while (now := time.monotonic()) < stop:
        if think[1] > 0:
            time.sleep(rng.uniform(*think))  # reading the page before the next
            now = time.monotonic()
            if now >= stop:
                break
        label, path, _ = rng.choices(chosen, weights)[0]
        began = time.perf_counter()
        error = None
        try:
            status, _ = user.request("GET", path)
            if status != 200:
                error = f"{status} {path}"
        except Exception as exc:  # counted and reported, never hidden
            error = f"{type(exc).__name__} {path}: {exc}"
        ms = (time.perf_counter() - began) * 1000
        if now >= start:
            tally.add(label, ms, error)


def percentile(values: list[float], p: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warm-up", type=float, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--think",
        default="1,3",
        help="seconds each user spends on a page before the next, as MIN,MAX "
        "(default 1,3; 0,0 for none: a saturation test)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 on FAIL")
    args = parser.parse_args()
    think = tuple(float(x) for x in args.think.split(","))
    if len(think) != 2 or not 0 <= think[0] <= think[1]:
        parser.error("--think takes MIN,MAX seconds, e.g. 1,3")
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        print("load_bench: set DATABASE_URL to a PostgreSQL database to run it.")
        return 0

    env = production_env(database_url)
    print("== Setting up (migrate, councils, demo data, static files)", flush=True)
    manage(env, "migrate", "--no-input")
    manage(env, "load_councils")
    manage(env, "load_demo")
    manage(env, "collectstatic", "--no-input")
    chosen = pages(database_url)
    weights = [w for _, _, w in chosen]
    port = free_port()
    print(f"== gunicorn, {WORKERS} workers, on 127.0.0.1:{port}", flush=True)
    server = start_gunicorn(env, port)
    try:
        users = [User(port, USERS[i % len(USERS)]) for i in range(args.users)]
        for user in users:
            user.sign_in()
        tally = Tally()
        start = time.monotonic() + args.warm_up
        stop = start + args.seconds
        print(
            f"== {args.users} users, {len(chosen)} pages, "
            f"{think[0]:g}-{think[1]:g} s on each page, "
            f"{args.warm_up:g} s warm-up then {args.seconds:g} s",
            flush=True,
        )
        threads = [
            threading.Thread(
                target=browse,
                args=(u, chosen, weights, start, stop, tally, args.seed + i, think),
            )
            for i, u in enumerate(users)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=30)

    every = [ms for times in tally.times.values() for ms in times]
    if not every:
        print("No requests were counted.")
        return 1
    print(f"\n{'page':<20} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for label, times in sorted(tally.times.items()):
        print(
            f"{label:<20} {len(times):>8} {percentile(times, 50):>8.0f} "
            f"{percentile(times, 95):>8.0f} {percentile(times, 99):>8.0f}"
        )
    p95 = percentile(every, 95)
    print(
        f"{'all':<20} {len(every):>8} {percentile(every, 50):>8.0f} "
        f"{p95:>8.0f} {percentile(every, 99):>8.0f}"
    )
    print(f"\n{len(every) / args.seconds:.1f} requests/s, {len(tally.errors)} errors")
    for error in tally.errors[:10]:
        print("   ", error)
    passed = not tally.errors and p95 < TARGET_P95_MS
    print(
        f"{'PASS' if passed else 'FAIL'}: target zero errors and p95 under "
        f"{TARGET_P95_MS} ms (p95 {p95:.0f} ms, {len(tally.errors)} errors)"
    )
    return 0 if passed or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
