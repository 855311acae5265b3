"""axe-core (vendored in static/vendor/axe/) on every page a person can open.

One visit does the work: the module loads the demo once, walks the pages as the
people who use them (signed out, the cabinet member, the finance officer, the
procurement officer, the council administrator and a site superuser), runs axe
on each page and keeps what it found; each test below then judges one page.
A page fails on any violation axe rates "serious" or "critical".

Every page of the URL configuration is here: `test_every_page_is_scanned` takes
the routes from tests/test_permissions.py (which fails for a route it does not
list) and fails for any page a GET opens that this module does not scan.

The demo is committed outside any test transaction (live_server's requests run
in another thread), so the module flushes the database when it is done, as a
transactional test would.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test.utils import modify_settings
from django.urls import resolve

from tests.test_permissions import POST_ONLY_ROUTES, ROUTES

pytestmark = pytest.mark.browser

AXE = "/static/vendor/axe/axe.min.js"  # static/vendor/axe/, served by the live server
SERIOUS = {"serious", "critical"}
SUPERUSER = "axe-superuser"
SUPERUSER_PASSWORD = "a-long-superuser-password-1"

# name: (who signs in (None: nobody), path, a selector to wait for before judging).
# A path's {placeholders} are the demo's objects, found once it is loaded (`_ids`).
PAGES = {
    "login": (None, "/accounts/login/", "form"),
    "public figures": (None, "/public/luton/", "h1"),
    "public councils": (None, "/public/", "h1"),
    "home": ("demo-cabinet", "/", "h1"),
    "change your password": ("demo-cabinet", "/accounts/password/", "form"),
    "password changed": ("demo-cabinet", "/accounts/password/done/", "h1"),
    "sign out": ("demo-cabinet", "/accounts/logout/", "form"),
    "council overview": ("demo-cabinet", "/c/luton/", "h1"),
    "dashboard": ("demo-cabinet", "/c/luton/dashboard/", ".ls-chart__plot svg"),
    "spend lines": ("demo-cabinet", "/c/luton/spend/", "table"),
    "spend lines, filtered": (
        "demo-cabinet",
        "/c/luton/spend/?locality=local&amount_min=1000",
        "table",
    ),
    "suppliers": ("demo-cabinet", "/c/luton/suppliers/", "table"),
    "supplier": ("demo-cabinet", "/c/luton/suppliers/{supplier}/", "h1"),
    "contracts": ("demo-cabinet", "/c/luton/contracts/", "table"),
    "contract": ("demo-cabinet", "/c/luton/contracts/{contract}/", "h1"),
    "contract pipeline": ("demo-cabinet", "/c/luton/contracts/pipeline/", "h1"),
    "off-contract spend": ("demo-cabinet", "/c/luton/contracts/off-contract/", "h1"),
    "exports": ("demo-cabinet", "/c/luton/exports/", "h1"),
    "targets": ("demo-cabinet", "/c/luton/targets/", "h1"),
    "social value totals": ("demo-cabinet", "/c/luton/social-value/", "h1"),
    "social value measures": ("demo-cabinet", "/c/luton/social-value/measures/", "h1"),
    "contract social value": (
        "demo-cabinet",
        "/c/luton/contracts/{contract}/social-value/",
        "h1",
    ),
    "uploads": ("demo-finance", "/c/luton/uploads/", "table"),
    "upload a file": ("demo-finance", "/c/luton/uploads/new/", "form"),
    "upload": ("demo-finance", "/c/luton/uploads/{upload}/", "h1"),
    "upload preview": ("demo-finance", "/c/luton/uploads/{pending}/preview/", "form"),
    "upload rollback": ("demo-finance", "/c/luton/uploads/{upload}/rollback/", "h1"),
    "column choices": ("demo-finance", "/c/luton/uploads/columns/", "h1"),
    "upload discard": ("demo-finance", "/c/luton/uploads/{pending}/discard/", "form"),
    "review queue": ("demo-officer", "/c/luton/review/", "h1"),
    "supplier edit": ("demo-officer", "/c/luton/suppliers/{supplier}/edit/", "form"),
    "supplier name add": (
        "demo-officer",
        "/c/luton/suppliers/{supplier}/names/add/",
        "form",
    ),
    "supplier merge": (
        "demo-officer",
        "/c/luton/suppliers/{supplier}/merge/{other_supplier}/",
        "form",
    ),
    "merge undo": ("demo-officer", "/c/luton/merges/{merge}/undo/", "form"),
    "tag override": (
        "demo-officer",
        "/c/luton/suppliers/{supplier}/tags/size/override/",
        "form",
    ),
    "contract new": ("demo-officer", "/c/luton/contracts/new/", "form"),
    "contract edit": ("demo-officer", "/c/luton/contracts/{contract}/edit/", "form"),
    "contract KPIs": ("demo-officer", "/c/luton/contracts/{contract}/kpis/", "form"),
    "contract delete": ("demo-officer", "/c/luton/contracts/{contract}/delete/", "h1"),
    "deleted contracts": ("demo-cabinet", "/c/luton/contracts/deleted/", "h1"),
    "contract import": ("demo-officer", "/c/luton/contracts/import/", "form"),
    "contract import undo": (
        "demo-officer",
        "/c/luton/contracts/import/{register_import}/undo/",
        "form",
    ),
    "commitment new": (
        "demo-officer",
        "/c/luton/contracts/{contract}/social-value/commitments/new/",
        "form",
    ),
    "commitment edit": (
        "demo-officer",
        "/c/luton/social-value/commitments/{commitment}/edit/",
        "form",
    ),
    "return new": (
        "demo-officer",
        "/c/luton/social-value/commitments/{commitment}/returns/new/",
        "form",
    ),
    "commitment remove": (
        "demo-officer",
        "/c/luton/social-value/commitments/{bare_commitment}/remove/",
        "form",
    ),
    "return edit": (
        "demo-officer",
        "/c/luton/social-value/returns/{delivery_return}/edit/",
        "form",
    ),
    "return remove": (
        "demo-officer",
        "/c/luton/social-value/returns/{delivery_return}/remove/",
        "form",
    ),
    "overdue returns": ("demo-officer", "/c/luton/social-value/overdue/", "h1"),
    "target new": ("demo-admin", "/c/luton/targets/new/", "form"),
    "target edit": ("demo-admin", "/c/luton/targets/{target}/edit/", "form"),
    "target remove": ("demo-admin", "/c/luton/targets/{target}/remove/", "form"),
    "proxy values": ("demo-admin", "/c/luton/social-value/proxy-values/", "h1"),
    "proxy value new": (
        "demo-admin",
        "/c/luton/social-value/proxy-values/new/",
        "form",
    ),
    "proxy value edit": (
        "demo-admin",
        "/c/luton/social-value/proxy-values/{proxy_value}/edit/",
        "form",
    ),
    "proxy value remove": (
        "demo-admin",
        "/c/luton/social-value/proxy-values/{proxy_value}/remove/",
        "form",
    ),
    "council settings": ("demo-admin", "/c/luton/settings/", "h1"),
    "council local area": ("demo-admin", "/c/luton/settings/area/", "form"),
    "council public pages": (
        "demo-admin",
        "/c/luton/settings/public-pages/",
        "form",
    ),
    "council members": ("demo-admin", "/c/luton/settings/members/", "table"),
    "council settings history": ("demo-admin", "/c/luton/settings/history/", "table"),
    "council member add": ("demo-admin", "/c/luton/settings/members/add/", "form"),
    "council member role": ("demo-admin", "/c/luton/settings/members/role/", "form"),
    "council member remove": (
        "demo-admin",
        "/c/luton/settings/members/remove/",
        "form",
    ),
    "admin index": (SUPERUSER, "/admin/", "h1"),
    "reference data load": (
        SUPERUSER,
        "/admin/socialvalue/referenceload/load/",
        "form",
    ),
}
# Routes that are not pages: downloads (CSV, JSON, evidence files) and the
# council switcher, which only redirects. POST-only routes are not pages either.
NOT_PAGES = {
    "councils:switch",
    "spend:upload-issues",
    "procure:export-contracts-csv",
    "procure:export-spend-csv",
    "procure:export-ocds",
    "councils:public-contracts-csv",
    "councils:public-spend-csv",
    "councils:public-ocds",
    "socialvalue:totals-csv",
    "socialvalue:return-evidence",
}
# Pages with a known serious violation, each as a strict xfail naming it (so the
# test fails once the page is fixed and the mark must go). None at present.
KNOWN: dict[str, pytest.MarkDecorator] = {}
# Forms scanned a second time, sent empty: their error summary and messages.
SUBMITTED_EMPTY = {
    "change your password",
    "upload a file",
    "tag override",
    "contract new",
    "commitment new",
    "return new",
    "target new",
    "council member add",
    "council member role",
    "council member remove",
}
WITH_ERRORS = ", with errors"
SCANNED = [
    *PAGES,
    *(f"{name}{WITH_ERRORS}" for name in PAGES if name in SUBMITTED_EMPTY),
]


def _run_axe(page) -> list[dict]:
    # From the site's own static files: the Content Security Policy refuses an
    # inline script, which is what add_script_tag(path=...) would add.
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    page.add_script_tag(url=origin + AXE)
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
    """{page name: (axe violations, console errors, requests elsewhere, the
    route name of the page shown, its HTTP status)}."""
    from django.core.management import call_command

    base = live_server.url
    found = {}
    with (
        django_db_blocker.unblock(),
        modify_settings(ALLOWED_HOSTS={"append": urlsplit(base).hostname}),
    ):
        try:
            load_demo_data()
            ids = _ids()
            for user in dict.fromkeys(who for who, _, _ in PAGES.values()):
                context = browser.new_context()
                try:
                    page = context.new_page()
                    page.set_default_timeout(15_000)
                    watch = watch_page(page)
                    if user == SUPERUSER:
                        _sign_in_superuser(page, base)
                    elif user:
                        log_in(page, base, user)
                    if user == "demo-finance":
                        ids["pending"] = _pending_upload(page, base)
                    for name, (who, path, ready) in PAGES.items():
                        if who != user:
                            continue
                        watch.errors.clear()
                        watch.requests.clear()
                        response = page.goto(base + path.format(**ids))
                        page.locator(ready).first.wait_for(state="attached")
                        found[name] = (
                            _run_axe(page),
                            list(watch.errors),
                            watch.offsite(base),
                            resolve(urlsplit(page.url).path).view_name,
                            response.status,
                        )
                        if name in SUBMITTED_EMPTY:
                            found[f"{name}{WITH_ERRORS}"] = _submit_empty(
                                page, base, watch
                            )
                finally:
                    context.close()
        finally:
            call_command("flush", interactive=False, verbosity=0)
    return found


def _ids() -> dict[str, int]:
    """The demo's objects the pages show; the public pages turned on; a superuser
    for the admin; a proxy value to edit; a merge to undo."""
    from datetime import date
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from councils.models import Council
    from procure.merging import merge_suppliers
    from procure.models import Contract, MatchSuggestion, Supplier
    from socialvalue.models import (
        Commitment,
        DeliveryReturn,
        Measure,
        ProxyValue,
        Target,
    )
    from spend.models import SpendUpload

    council = Council.objects.get(slug="luton")
    council.public_pages_enabled = True
    council.save()
    get_user_model().objects.create_superuser(SUPERUSER, password=SUPERUSER_PASSWORD)
    suppliers = Supplier.objects.dealt_with_by(council).filter(merged_into=None)
    supplier, other = suppliers.order_by("name")[:2]
    proxy = ProxyValue.objects.filter(council=council).first() or (
        ProxyValue.objects.create(
            council=council,
            measure=Measure.objects.order_by("code").first(),
            year=date.today().year - 1,
            value=Decimal("12.50"),
            source="The council's own social value calculator",
        )
    )
    commitments = Commitment.objects.filter(contract__council=council)
    bare = commitments.filter(returns__isnull=True).order_by("pk").first()
    assert bare is not None, "the demo has a commitment with no return yet"
    # A merge to undo, of the last two suppliers by name with no contract, no
    # near match (the pages above show the first two, the review queue the near
    # matches) and no registered number (two numbers differing are not merged).
    near = MatchSuggestion.objects.values_list("supplier_id", "candidate_id")
    kept, merged = (
        suppliers.filter(contracts__isnull=True, company_number="", charity_number="")
        .exclude(pk__in={pk for pair in near for pk in pair})
        .order_by("-name")[:2]
    )
    merge = merge_suppliers(
        kept=kept,
        merged=merged,
        user=get_user_model().objects.get(username="demo-officer"),
        council=council,
        reason="The same VAT number on their invoices",
    )
    # A register import to undo: one new contract.
    from procure import register_import

    register = register_import.read(
        b"Contract Reference,Contract Title,Supplier Name,Start Date\n"
        b"LBC-AXE-1,Window cleaning,Axe Windows Ltd,01/04/2026\n",
        "register.csv",
    )
    imported = register_import.import_register(
        council,
        register,
        register.mapping,
        user=get_user_model().objects.get(username="demo-officer"),
    )
    return {
        "register_import": imported.record.pk,
        "supplier": supplier.pk,
        "other_supplier": other.pk,
        "bare_commitment": bare.pk,
        "delivery_return": DeliveryReturn.objects.filter(
            commitment__contract__council=council
        )
        .order_by("pk")
        .first()
        .pk,
        "contract": Contract.objects.get(council=council, reference="LBC-C-0001").pk,
        "commitment": Commitment.objects.filter(contract__council=council)
        .order_by("pk")
        .first()
        .pk,
        "upload": SpendUpload.objects.filter(council=council, status="imported")
        .order_by("pk")
        .first()
        .pk,
        "target": Target.objects.filter(council=council).order_by("pk").first().pk,
        "proxy_value": proxy.pk,
        "merge": merge.pk,
    }


def _submit_empty(page, base: str, watch) -> tuple:
    """Send the page's form as it stands: the same page, with its errors."""
    watch.errors.clear()
    watch.requests.clear()
    with page.expect_navigation() as navigation:
        page.locator("main form[method=post] button[type=submit]").first.click()
    page.locator(".govuk-error-summary").first.wait_for(state="visible")
    return (
        _run_axe(page),
        list(watch.errors),
        watch.offsite(base),
        resolve(urlsplit(page.url).path).view_name,
        navigation.value.status,
    )


def _sign_in_superuser(page, base: str) -> None:
    page.goto(base + "/admin/login/")
    page.get_by_label("Username").fill(SUPERUSER)
    page.get_by_label("Password").fill(SUPERUSER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/admin/")


def _pending_upload(page, base: str) -> int:
    """Upload a small file, as the finance officer would, to reach its preview."""
    page.goto(base + "/c/luton/uploads/new/")
    page.get_by_label("Spend file").set_input_files(
        files=[
            {
                "name": "axe-check.csv",
                "mimeType": "text/csv",
                "buffer": b"Payment date,Supplier,Amount\n01/04/2025,Axe Check Ltd,600.00\n",
            }
        ]
    )
    page.get_by_role("button", name="Upload the file").click()
    page.wait_for_url("**/preview/")
    return int(urlsplit(page.url).path.rstrip("/").split("/")[-2])


def _describe(violations: list[dict]) -> str:
    return "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}; {len(v['nodes'])} element(s), "
        f"first {v['nodes'][0]['target'] if v['nodes'] else '?'}"
        for v in violations
    )


@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=KNOWN.get(name, ())) for name in SCANNED]
)
def test_no_serious_accessibility_violations(audit, name):
    violations, _, _, _, status = audit[name]
    expected = (200, 400) if name.endswith(WITH_ERRORS) else (200,)
    assert status in expected, f"the {name} page answered {status}"
    serious = [v for v in violations if v["impact"] in SERIOUS]
    assert not serious, f"axe found on the {name} page:\n{_describe(serious)}"


@pytest.mark.parametrize("name", SCANNED)
def test_no_script_errors_and_nothing_fetched_from_elsewhere(audit, name):
    _, errors, offsite, _, _ = audit[name]
    assert errors == [], f"the {name} page: {errors}"
    assert offsite == [], f"the {name} page fetched from elsewhere: {offsite}"


def test_every_page_is_scanned(audit):
    """Every route a GET opens as a page (not a download, not POST-only) is one of
    the pages scanned, and each page scanned is the page it was meant to be."""
    shown = {route for _, _, _, route, _ in audit.values()}
    pages = set(ROUTES) - POST_ONLY_ROUTES - NOT_PAGES
    assert pages - shown == set(), "pages that axe does not scan"
    for route in (
        "login",
        "logout",
        "password_change",
        "password_change_done",
        "admin:index",
        "admin:socialvalue_referenceload_load",
    ):
        assert route in shown
