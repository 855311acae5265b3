"""The Content Security Policy in a real browser: every main page works under it.

The policy (config/settings.py, CONTENT_SECURITY_POLICY) allows scripts only from
LocalSpend's own files: no inline scripts, no event handler attributes, no eval.
Chromium enforces it and reports each thing it refuses on the console
("Refused to ..." or "... violates the following Content Security Policy
directive ..."). The module loads the demo once, walks the main pages as the people
who use them (the Django admin as a superuser), and keeps every console message and
uncaught exception; each test then judges one page. The dashboard must still draw
its plotly charts (an SVG inside each chart), so plotly.js needs no 'unsafe-eval'.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test.utils import modify_settings

from tests.browser.helpers import serious_axe_violations

pytestmark = pytest.mark.browser

ADMIN_USER = "csp-superuser"
CSP_WORDS = ("Content Security Policy", "Refused to")


def _pages(ids: dict) -> dict:
    """name: (who signs in, path, a selector to wait for before judging)."""
    return {
        "login": (None, "/accounts/login/", "form"),
        "dashboard": ("demo-cabinet", "/c/luton/dashboard/", ".ls-chart__plot svg"),
        "spend lines": ("demo-cabinet", "/c/luton/spend/", "table"),
        "supplier": ("demo-cabinet", f"/c/luton/suppliers/{ids['supplier']}/", "h1"),
        "contract": ("demo-cabinet", f"/c/luton/contracts/{ids['contract']}/", "h1"),
        "upload a file": ("demo-finance", "/c/luton/uploads/new/", "form"),
        "admin index": (ADMIN_USER, "/admin/", "#content"),
        "admin supplier change": (
            ADMIN_USER,
            f"/admin/procure/supplier/{ids['supplier']}/change/",
            "form",
        ),
        "admin supplier history": (
            ADMIN_USER,
            f"/admin/procure/supplier/{ids['supplier']}/history/",
            "#content",
        ),
        "admin reference load": (
            ADMIN_USER,
            "/admin/socialvalue/referenceload/load/",
            "#reference-upload",
        ),
    }


PAGE_NAMES = list(_pages({"supplier": 0, "contract": 0}))


def _setup_ids() -> dict:
    """A supplier the demo pays, a contract, a superuser, and a reference load
    waiting (so the admin page includes its refresh script)."""
    from django.contrib.auth import get_user_model

    from procure.models import Contract, Supplier
    from socialvalue.models import ReferenceKind, ReferenceLoad
    from tests.browser.conftest import DEMO_PASSWORD

    supplier = Supplier.objects.filter(spend_lines__council__slug="luton").first()
    contract = Contract.objects.filter(council__slug="luton").first()
    assert supplier and contract, "the demo has no supplier or contract to open"
    user = get_user_model().objects.create_superuser(ADMIN_USER, password=DEMO_PASSWORD)
    ReferenceLoad.objects.create(
        kind=ReferenceKind.COMPANIES_HOUSE,
        file_name="waiting.csv",
        size=10,
        uploaded_by=user,
    )
    return {"supplier": supplier.pk, "contract": contract.pk}


@pytest.fixture(scope="module")
def visits(
    browser,
    live_server,
    django_db_setup,
    django_db_blocker,
    load_demo_data,
    log_in,
):
    """{page name: (console messages about the policy, other errors, charts drawn,
    the page's Content-Security-Policy header)}."""
    from django.core.management import call_command

    base = live_server.url
    found = {}
    with (
        django_db_blocker.unblock(),
        modify_settings(ALLOWED_HOSTS={"append": urlsplit(base).hostname}),
    ):
        try:
            load_demo_data()
            pages = _pages(_setup_ids())
            for user in dict.fromkeys(who for who, _, _ in pages.values()):
                context = browser.new_context()
                try:
                    page = context.new_page()
                    page.set_default_timeout(15_000)
                    messages: list[str] = []
                    errors: list[str] = []
                    page.on("console", lambda m, out=messages: out.append(m.text))
                    page.on("pageerror", lambda e, out=errors: out.append(str(e)))
                    if user:
                        log_in(page, base, user)
                    for name, (who, path, ready) in pages.items():
                        if who != user:
                            continue
                        messages.clear()
                        errors.clear()
                        response = page.goto(base + path)
                        page.locator(ready).first.wait_for(state="attached")
                        page.wait_for_load_state("networkidle")
                        found[name] = {
                            "csp": [
                                m for m in messages if any(w in m for w in CSP_WORDS)
                            ],
                            "errors": list(errors),
                            "charts": page.locator(".ls-chart__plot").count(),
                            "drawn": page.locator(
                                ".ls-chart__plot svg.main-svg"
                            ).count(),
                            "header": response.headers.get("content-security-policy"),
                        }
                finally:
                    context.close()
        finally:
            call_command("flush", interactive=False, verbosity=0)
    return found


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_page_runs_under_the_policy_with_no_violation(visits, name):
    seen = visits[name]
    assert seen["header"], f"the {name} page has no Content-Security-Policy header"
    assert "script-src 'self'" in seen["header"]
    assert "unsafe-eval" not in seen["header"]
    assert seen["csp"] == [], f"the {name} page broke the policy: {seen['csp']}"
    assert seen["errors"] == [], f"the {name} page raised: {seen['errors']}"


def test_dashboard_charts_draw_under_the_policy(visits):
    seen = visits["dashboard"]
    assert seen["charts"] >= 2
    # plotly.js draws two SVG layers into each chart it renders.
    assert seen["drawn"] >= seen["charts"], seen


def test_an_inline_script_is_refused_and_seen(transactional_db, live_server, page):
    """The check above can fail: an inline script on a LocalSpend page is refused,
    and the refusal is on the console where the walk looks for it."""
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.goto(live_server.url + "/accounts/login/")
    page.evaluate(
        """() => {
            const s = document.createElement("script");
            s.textContent = "document.body.dataset.inlineRan = 'yes'";
            document.body.appendChild(s);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("document.body.dataset.inlineRan") is None
    # Chromium says "Refused to execute inline script ..." or, lately, "Executing
    # inline script violates the following Content Security Policy directive ...".
    assert any(
        "inline script" in m.lower() and any(w in m for w in CSP_WORDS)
        for m in messages
    ), messages


def test_the_lockout_page_shows_under_the_policy(transactional_db, live_server, page):
    """Five wrong passwords through the form: the lockout page, whole and styled,
    says when to try again, and the right password is refused meanwhile."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("lock-me", password="a-long-password-1")
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.goto(live_server.url + "/accounts/login/")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        page.get_by_label("Username").fill("lock-me")
        page.get_by_label("Password").fill(f"wrong-{attempt}")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
    heading = page.get_by_role("heading", level=1)
    assert "Sign in paused" in heading.inner_text()
    assert serious_axe_violations(page) == []  # the page, to WCAG 2.2 AA
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert (
        f"You can try again {minutes} minutes after the last unsuccessful"
        in page.locator("main").inner_text()
    )
    page.get_by_role("link", name="Return to the sign in page").click()
    page.get_by_label("Username").fill("lock-me")
    page.get_by_label("Password").fill("a-long-password-1")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Sign in").click()
    assert posted.value.status == 429
    assert "Sign in paused" in page.get_by_role("heading", level=1).inner_text()
    assert [m for m in messages if any(w in m for w in CSP_WORDS)] == []
