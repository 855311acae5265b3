"""axe-core (vendored in static/vendor/axe/) on the pages people use most.

One visit does the work: the module loads the demo once, walks the pages as the
people who use them (signed out, the cabinet member, the finance officer), runs
axe on each page and keeps what it found; each test below then judges one page.
A page fails on any violation axe rates "serious" or "critical".

The demo is committed outside any test transaction (live_server's requests run
in another thread), so the module flushes the database when it is done, as a
transactional test would.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test.utils import modify_settings

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe" / "axe.min.js"
SERIOUS = {"serious", "critical"}

# name: (who signs in (None: nobody), path, a selector to wait for before judging)
PAGES = {
    "login": (None, "/accounts/login/", "form"),
    "home": ("demo-cabinet", "/", "h1"),
    "council overview": ("demo-cabinet", "/c/luton/", "h1"),
    "dashboard": ("demo-cabinet", "/c/luton/dashboard/", ".ls-chart__plot svg"),
    "spend lines": ("demo-cabinet", "/c/luton/spend/", "table"),
    "suppliers": ("demo-cabinet", "/c/luton/suppliers/", "table"),
    "uploads": ("demo-finance", "/c/luton/uploads/", "table"),
    "upload a file": ("demo-finance", "/c/luton/uploads/new/", "form"),
}
# Pages with a known serious violation, each as a strict xfail naming it (so the
# test fails once the page is fixed and the mark must go). None at present.
KNOWN: dict[str, pytest.MarkDecorator] = {}


def _run_axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(results => results.violations)"
    )


@pytest.fixture(scope="module")
def audit(
    browser,
    live_server,
    django_db_setup,
    django_db_blocker,
    load_demo_data,
    log_in,
    watch_page,
):
    """{page name: (axe violations, console errors, requests elsewhere)}."""
    from django.core.management import call_command

    base = live_server.url
    found = {}
    with (
        django_db_blocker.unblock(),
        modify_settings(ALLOWED_HOSTS={"append": urlsplit(base).hostname}),
    ):
        try:
            load_demo_data()
            for user in dict.fromkeys(who for who, _, _ in PAGES.values()):
                context = browser.new_context()
                try:
                    page = context.new_page()
                    page.set_default_timeout(15_000)
                    watch = watch_page(page)
                    if user:
                        log_in(page, base, user)
                    for name, (who, path, ready) in PAGES.items():
                        if who != user:
                            continue
                        watch.errors.clear()
                        watch.requests.clear()
                        page.goto(base + path)
                        page.locator(ready).first.wait_for(state="attached")
                        found[name] = (
                            _run_axe(page),
                            list(watch.errors),
                            watch.offsite(base),
                        )
                finally:
                    context.close()
        finally:
            call_command("flush", interactive=False, verbosity=0)
    return found


def _describe(violations: list[dict]) -> str:
    return "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}; {len(v['nodes'])} element(s), "
        f"first {v['nodes'][0]['target'] if v['nodes'] else '?'}"
        for v in violations
    )


@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=KNOWN.get(name, ())) for name in PAGES]
)
def test_no_serious_accessibility_violations(audit, name):
    violations, _, _ = audit[name]
    serious = [v for v in violations if v["impact"] in SERIOUS]
    assert not serious, f"axe found on the {name} page:\n{_describe(serious)}"


@pytest.mark.parametrize("name", list(PAGES))
def test_no_script_errors_and_nothing_fetched_from_elsewhere(audit, name):
    _, errors, offsite = audit[name]
    assert errors == [], f"the {name} page: {errors}"
    assert offsite == [], f"the {name} page fetched from elsewhere: {offsite}"
