"""Real-browser tests: Debian's chromium driven by Playwright against `live_server`.

Playwright cannot download its own browsers here, so the session's browser is the
system chromium (`/usr/bin/chromium`, or `CHROMIUM_PATH`). Without it the browser
tests are skipped on a developer's machine, but fail under CI (`CI=true`), so a CI
run can never pass by quietly skipping them.
"""

from __future__ import annotations

import os
from datetime import date

import pytest
from playwright.sync_api import expect

# Playwright's sync API runs an event loop in the test's thread, which makes Django
# refuse ORM calls there (loading the demo) unless told they are safe: they are.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Serve on 127.0.0.1, so "no request leaves 127.0.0.1" is checked literally.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_PASSWORD = "localspend-demo"  # councils.demo.DEMO_PASSWORD
TIMEOUT_MS = 15_000  # for an action (click, fill) or a navigation
expect.set_options(timeout=10_000)  # for an expectation to come true (default 5 s)


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        reason = (
            f"no chromium at {path}: install it (apt-get install chromium) or set "
            "CHROMIUM_PATH to a Chromium executable"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true, and the browser tests cannot run: {reason}.")
        pytest.skip(f"Browser tests skipped: {reason}.")
    return {
        **browser_type_launch_args,
        "executable_path": path,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


def load_presets_and_demo(today: date | None = None) -> dict:
    """The preset councils and a small Luton demo: 14 months, so the dashboard has
    a year-on-year comparison and a trend; demo users' password DEMO_PASSWORD."""
    from django.core.management import call_command
    from django.utils import timezone

    from councils.demo import load_demo
    from socialvalue.models import Measure

    call_command("load_councils", verbosity=0)
    if not Measure.objects.exists():  # a migration loads them; a flush empties it
        call_command("loaddata", "measures", verbosity=0)
    return load_demo(
        council_slug="luton",
        today=today or timezone.localdate(),
        months=14,
        lines_per_month=150,
    )


@pytest.fixture(scope="session")
def load_demo_data():
    """`load_demo_data()`: load the presets and the demo (for wider-scoped setups)."""
    return load_presets_and_demo


@pytest.fixture
def demo(live_server):
    """The demo in the database the live server reads. `live_server` brings
    `transactional_db`: the data is committed (the server's thread sees it) and
    flushed after the test."""
    return load_presets_and_demo()


@pytest.fixture
def page(page):
    page.set_default_timeout(TIMEOUT_MS)
    return page


class Watch:
    """Every request a page makes, and every console error or uncaught exception."""

    def __init__(self, page) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", self._request)
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def _request(self, request) -> None:
        self.requests.append(request.url)

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console error at {message.location}: {message.text}")

    def _page_error(self, error) -> None:
        self.errors.append(f"uncaught exception: {error}")

    def offsite(self, base_url: str) -> list[str]:
        """The requests that went anywhere but `base_url`."""
        return [url for url in self.requests if not url.startswith(base_url + "/")]


@pytest.fixture
def watch(page) -> Watch:
    return Watch(page)


@pytest.fixture(scope="session")
def watch_page():
    """`watch_page(page)`: a Watch on a page the test opened itself."""
    return Watch


def sign_in(page, base_url: str, username: str) -> None:
    """Sign in through the login form, as a person would; land on the home page."""
    page.goto(base_url + "/")
    assert "/accounts/login/" in page.url, f"not sent to the login form: {page.url}"
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base_url + "/")


@pytest.fixture(scope="session")
def log_in():
    """`log_in(page, base_url, username)`: sign in through the login form."""
    return sign_in
