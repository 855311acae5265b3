"""Security: login throttling, password strength, the Content Security Policy and
security headers on every page, output escaping, formula-safe exports, history.

Production settings and `check --deploy` are in tests/test_settings.py; the policy in
a real browser (plotly charts, the admin) in tests/browser/test_csp.py.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin
from simple_history.middleware import HistoryRequestMiddleware

from tests import test_permissions as matrix

PASSWORD = "a-long-password-1"  # tests/conftest.py's members
LOGIN_LIMIT = settings.AXES_FAILURE_LIMIT  # 5 unless LOCALSPEND_LOGIN_FAILURE_LIMIT
COOL_OFF_MINUTES = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)  # 15
XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

# One of each object for each council, as the permission matrix makes them.
objects = matrix.objects


# --- Login throttling (django-axes) ------------------------------------------------


def _sign_in(client, username: str, password: str, ip: str = "127.0.0.1"):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def _signed_in_as(client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    if user_id is None:
        return None
    return get_user_model().objects.get(pk=user_id).get_username()


def test_wrong_passwords_lock_the_account_out_even_for_the_right_password(
    client, council_admin
):
    for attempt in range(1, LOGIN_LIMIT):
        response = _sign_in(client, "alice-admin", f"guess-{attempt}")
        assert response.status_code == 200  # the form again, with its error
    last = _sign_in(client, "alice-admin", "guess-last")
    assert last.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in last.templates]

    response = _sign_in(client, "alice-admin", PASSWORD)
    assert response.status_code == 429
    assert _signed_in_as(client) is None
    page = response.content.decode()
    assert "Sign in paused" in page
    assert (
        f"You can try again {COOL_OFF_MINUTES} minutes after the last unsuccessful"
        in page
    )
    assert "LocalSpend site administrator" in page
    assert "Content-Security-Policy" in response.headers


def test_a_success_under_the_limit_resets_the_count(client, council_admin):
    for _ in range(2):
        for attempt in range(LOGIN_LIMIT - 1):
            assert (
                _sign_in(client, "alice-admin", f"guess-{attempt}").status_code == 200
            )
        response = _sign_in(client, "alice-admin", PASSWORD)
        assert response.status_code == 302, (
            "locked out, though each run was under the limit"
        )
        assert _signed_in_as(client) == "alice-admin"
        client.post(reverse("logout"))
    assert _signed_in_as(client) is None


def test_the_lockout_is_for_that_username_from_that_address(
    client, council_admin, council_officer
):
    for attempt in range(LOGIN_LIMIT):
        _sign_in(client, "alice-admin", f"guess-{attempt}")
    assert _sign_in(client, "alice-admin", PASSWORD).status_code == 429
    # Someone else at the same address is not locked out...
    assert _sign_in(client, "bob-officer", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    # ...nor the same person from another address.
    assert _sign_in(client, "alice-admin", PASSWORD, ip="192.0.2.7").status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, council_admin):
    from axes.models import AccessAttempt

    for attempt in range(LOGIN_LIMIT):
        _sign_in(client, "alice-admin", f"guess-{attempt}")
    assert _sign_in(client, "alice-admin", PASSWORD).status_code == 429
    almost = timezone.now() - timedelta(minutes=COOL_OFF_MINUTES - 1)
    AccessAttempt.objects.update(attempt_time=almost)
    assert _sign_in(client, "alice-admin", PASSWORD).status_code == 429
    past = timezone.now() - timedelta(minutes=COOL_OFF_MINUTES + 1)
    AccessAttempt.objects.update(attempt_time=past)
    assert _sign_in(client, "alice-admin", PASSWORD).status_code == 302
    assert _signed_in_as(client) == "alice-admin"


def test_a_wrong_password_during_the_pause_does_not_start_it_again(
    client, council_admin
):
    """Review: with the wait restarted by every attempt, one guess every 15
    minutes kept the account out for good."""
    from axes.models import AccessAttempt

    for attempt in range(LOGIN_LIMIT):
        _sign_in(client, "alice-admin", f"guess-{attempt}")
    almost = timezone.now() - timedelta(minutes=COOL_OFF_MINUTES - 1)
    AccessAttempt.objects.update(attempt_time=almost)
    assert _sign_in(client, "alice-admin", "another-guess").status_code == 429
    assert AccessAttempt.objects.get().attempt_time == almost


def _through_proxy(client, username: str, password: str, forwarded: str):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_behind_a_proxy_each_client_address_is_counted_apart(
    client, council_admin, settings
):
    """Review: behind a proxy every user shared its address, so five wrong
    passwords paused that username for everyone."""
    settings.LOCALSPEND_PROXY_COUNT = 1
    for attempt in range(LOGIN_LIMIT):
        # A forged address on the left is not the client's: the proxy's is last.
        _through_proxy(
            client, "alice-admin", f"guess-{attempt}", f"192.0.2.{attempt}, 203.0.113.5"
        )
    assert (
        _through_proxy(client, "alice-admin", PASSWORD, "203.0.113.5").status_code
        == 429
    )
    # The same username from another client behind the same proxy signs in.
    assert (
        _through_proxy(client, "alice-admin", PASSWORD, "203.0.113.9").status_code
        == 302
    )


@pytest.mark.parametrize(
    ("forwarded", "address"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("192.0.2.1, 203.0.113.5:4711", "203.0.113.5"),
        ("[2001:db8::1]:4711", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("not-an-address", "10.0.0.1"),
        ("", "10.0.0.1"),
    ],
)
def test_the_client_address_behind_a_proxy_is_an_address(
    settings, rf, forwarded, address
):
    """Review: a proxy adding the port made the stored address invalid."""
    from councils.accounts import client_address

    settings.LOCALSPEND_PROXY_COUNT = 1
    request = rf.post("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == address


def test_without_a_proxy_said_a_forwarded_address_is_ignored(client, council_admin):
    for attempt in range(LOGIN_LIMIT):
        _through_proxy(
            client, "alice-admin", f"guess-{attempt}", f"203.0.113.{attempt}"
        )
    # Every attempt came from 10.0.0.1, whatever the header claimed.
    assert (
        _through_proxy(client, "alice-admin", PASSWORD, "203.0.113.99").status_code
        == 429
    )


# --- Passwords ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, problem",
    [
        ("short-pass", "too short"),
        ("password1234", "too common"),
        ("938475619283", "entirely numeric"),
        ("alice-admin!", "too similar to the username"),
        (" " * 14, "only spaces"),
        ("\t" * 12, "only spaces"),
    ],
)
def test_weak_passwords_are_refused(db, password, problem):
    user = get_user_model()(username="alice-admin", email="alice@luton.gov.uk")
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    assert any(problem in message for message in refused.value.messages)


def test_a_long_uncommon_password_is_accepted(db):
    user = get_user_model()(username="alice-admin", email="alice@luton.gov.uk")
    validate_password("brisk-otter-lantern-42", user)  # raises if refused


def test_the_demo_logins_still_sign_in(client, db):
    from django.core.management import call_command

    from councils.demo import DEMO_PASSWORD, load_demo

    call_command("loaddata", "councils", verbosity=0)
    load_demo(
        council_slug="luton", today=date(2026, 5, 15), months=1, lines_per_month=20
    )
    response = _sign_in(client, "demo-cabinet", DEMO_PASSWORD)
    assert response.status_code == 302
    assert _signed_in_as(client) == "demo-cabinet"


# --- Content Security Policy and headers on every page -------------------------------


class _PageScripts(HTMLParser):
    """Whatever in a page would run as script: inline <script> (a data block of
    type application/json is not run), on*= handler attributes, javascript: URLs."""

    DATA_TYPES = {"application/json", "application/ld+json"}
    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href"}

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script" and not values.get("src"):
            kind = (values.get("type") or "").strip().lower()
            if kind not in self.DATA_TYPES:
                self.found.append(f"inline <script {attrs}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            elif name in self.URL_ATTRIBUTES and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag


def executable_inline(html: str) -> list[str]:
    parser = _PageScripts()
    parser.feed(html)
    parser.close()
    return parser.found


def test_the_inline_script_finder_finds_them():
    page = (
        '<script src="/static/a.js"></script><script type="application/json" id="f">'
        '{"a": 1}</script><script>alert(1)</script><button onclick="x()">'
        '<a href=" JavaScript:void(0)">x</a><img src=x onerror=y />'
    )
    assert len(executable_inline(page)) == 4


def _assert_safe_page(response, where: str) -> None:
    assert response.status_code < 500, where
    policy = response.headers.get("Content-Security-Policy", "")
    if not response.headers.get("Content-Type", "").startswith("text/html"):
        # A download may carry a stricter policy of its own (an evidence file:
        # "sandbox; default-src 'none'"), never none at all.
        assert policy, f"{where}: no Content-Security-Policy"
        if "default-src 'none'" in policy:
            return
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "img-src 'self' data:",
    ):
        assert directive in policy, f"{where}: no {directive!r} in {policy!r}"
    assert "unsafe-eval" not in policy and "script-src 'self' 'unsafe" not in policy
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "same-origin", where
    if response.headers.get("Content-Type", "").startswith("text/html"):
        assert response.headers.get("Cross-Origin-Opener-Policy") == "same-origin"
        permissions = response.headers.get("Permissions-Policy", "")
        assert "camera=()" in permissions and "geolocation=()" in permissions, where
        content = (
            b"".join(response.streaming_content)
            if response.streaming
            else (response.content)
        )
        found = executable_inline(content.decode())
        assert found == [], f"{where} runs inline script: {found}"


@pytest.mark.parametrize(
    "route",
    sorted(r for r in matrix.ROUTES if r not in matrix.POST_ONLY_ROUTES),
)
def test_every_page_carries_the_policy_and_runs_no_inline_script(
    client, council_admin, council, objects, route
):
    client.force_login(council_admin)
    url = matrix._url(route, council.slug, objects)
    response = client.get(url)
    _assert_safe_page(response, url)


def test_the_dashboard_with_charts_runs_no_inline_script(
    client, viewer, council, make_supplier, make_line
):
    from spend import rollup

    supplier = make_supplier(name="Wardown Care Ltd")
    for month in (4, 5, 6):
        make_line(council, supplier=supplier, payment_date=date(2025, month, 3))
    rollup.rebuild(council.pk)
    client.force_login(viewer)
    response = client.get(
        reverse("spend:dashboard", args=[council.slug]), {"year": "2025"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'type="application/json"' in page and 'data-figure="' in page  # charts
    _assert_safe_page(response, "the dashboard")


def test_sign_in_lockout_and_error_pages_carry_the_policy(
    client, council_admin, viewer, council, objects
):
    _assert_safe_page(client.get(reverse("login")), "the sign-in page")
    for attempt in range(LOGIN_LIMIT):
        _sign_in(client, "alice-admin", f"guess-{attempt}")
    _assert_safe_page(_sign_in(client, "alice-admin", PASSWORD), "the lockout page")
    client.force_login(viewer)
    forbidden = client.get(reverse("spend:upload", args=[council.slug]))
    assert forbidden.status_code == 403
    _assert_safe_page(forbidden, "the 403 page")
    missing = client.get("/c/luton/no-such-page/")
    assert missing.status_code == 404
    _assert_safe_page(missing, "the 404 page")


def test_account_pages_and_the_refused_form_page_carry_the_policy(
    client, council_admin, council
):
    """tests/test_accounts.py: changing a password, signing out, a form refused
    for its CSRF token, the public page not found, the server error page."""
    from django.test import Client
    from django.views.defaults import server_error

    client.force_login(council_admin)
    for name in ("password_change", "password_change_done", "logout"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        _assert_safe_page(response, name)
    wrong = client.post(reverse("password_change"), {"old_password": "no"})
    assert wrong.status_code == 200
    _assert_safe_page(wrong, "the password page, with errors")
    refused = Client(enforce_csrf_checks=True).post(
        reverse("login"), {"username": "alice-admin", "password": PASSWORD}
    )
    assert refused.status_code == 403
    _assert_safe_page(refused, "the refused form page")
    client.logout()
    missing = client.get(reverse("councils:public", args=[council.slug]))
    assert missing.status_code == 404
    _assert_safe_page(missing, "the public 404 page")
    # Rendered by Django with no middleware: its own markup only.
    error = server_error(RequestFactory().get("/")).content.decode()
    assert executable_inline(error) == []
    assert "style=" not in error and "<style" not in error


def test_every_admin_page_carries_the_policy_and_runs_no_inline_script(
    client, council, objects
):
    from socialvalue.models import ReferenceKind, ReferenceLoad

    superuser = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(superuser)
    # A load waiting, so the load page includes its refresh script.
    ReferenceLoad.objects.create(
        kind=ReferenceKind.CHARITIES, file_name="waiting.txt", size=10
    )
    load_page = client.get(reverse("admin:socialvalue_referenceload_load"))
    assert b"localspend/reference-load-refresh.js" in load_page.content
    pages = [reverse("admin:index"), reverse("admin:socialvalue_referenceload_load")]
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        pages.append(reverse("admin:{}_{}_changelist".format(*info)))
        if model_admin.has_add_permission(_admin_request(superuser)):
            pages.append(reverse("admin:{}_{}_add".format(*info)))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
            pages.append(reverse("admin:{}_{}_history".format(*info), args=[first.pk]))
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_safe_page(response, url)


def _admin_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


# --- Output escaping ------------------------------------------------------------------


@pytest.fixture
def hostile(council, make_supplier, make_line):
    """A supplier, a payment and a contract whose every text is a script tag."""
    from procure.models import Contract
    from socialvalue.models import SupplierTag
    from spend import rollup

    supplier = make_supplier(name=XSS, postcode="LU1 1AA")
    SupplierTag.objects.create(
        supplier=supplier,
        council=council,
        kind="locality",
        value="local",
        source="no_data",
        evidence=XSS,
        confidence="high",
        decided_at=timezone.now(),
    )
    line = make_line(
        council,
        supplier=supplier,
        supplier_name=XSS,
        description=XSS,
        expense_type=XSS,
        department=XSS,
        amount=Decimal("2500.00"),
        payment_date=date(2025, 5, 1),
    )
    contract = Contract.objects.create(
        council=council,
        reference="XSS-1",
        title=XSS,
        description=XSS,
        supplier=supplier,
        value=Decimal("10000"),
        start_date=date(2025, 4, 1),
    )
    rollup.rebuild(council.pk)
    return {"supplier": supplier, "line": line, "contract": contract}


@pytest.mark.parametrize(
    "where",
    ["supplier list", "supplier detail", "line list", "dashboard", "contract detail"],
)
def test_a_script_in_a_name_stays_text(client, viewer, council, hostile, where):
    slug = council.slug
    url = {
        "supplier list": reverse("procure:suppliers", args=[slug]),
        "supplier detail": reverse(
            "procure:supplier-detail", args=[slug, hostile["supplier"].pk]
        ),
        "line list": reverse("spend:lines", args=[slug]),
        "dashboard": reverse("spend:dashboard", args=[slug]) + "?year=2025",
        "contract detail": reverse(
            "procure:contract-detail", args=[slug, hostile["contract"].pk]
        ),
    }[where]
    client.force_login(viewer)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert XSS not in html
    assert XSS_ESCAPED in html
    if where == "dashboard":
        # In the top suppliers table, as text.
        table = html[html.index("ls-top-suppliers") :]
        assert XSS_ESCAPED in table
    assert executable_inline(html) == []


def test_the_transparency_spend_file_is_formula_safe(
    client, viewer, council, make_line
):
    """The Local Government Transparency Code spend file (procure/exports.py)."""
    make_line(
        council,
        supplier=None,
        supplier_name='=HYPERLINK("http://x.example","Pay")',
        description="+SUM(A1:A9)",
        department="@cmd",
        expense_type="-2+3",
        transaction_ref="=1+1",
        amount=Decimal("-750.25"),
        payment_date=date(2025, 6, 1),
    )
    client.force_login(viewer)
    response = client.get(
        reverse("procure:export-spend-csv", args=[council.slug]) + "?year=2025"
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    (row,) = list(csv.DictReader(io.StringIO(body)))
    assert row["Supplier name"] == '\'=HYPERLINK("http://x.example","Pay")'
    assert row["Purpose of expenditure"] == "'+SUM(A1:A9)"
    assert row["Department"] == "'@cmd"
    assert row["Expense type"] == "'-2+3"
    assert row["Transaction number"] == "'=1+1"
    assert row["Amount (£)"] == "-750.25"  # a negative amount stays a number
    for value in row.values():
        assert not value.startswith(("=", "+", "@")), row


# --- History --------------------------------------------------------------------------

# The records whose every change must say who made it and when, each seen by an
# administrator in the Django admin's history page.
AUDITED = [
    "procure.Supplier",
    "procure.SupplierAlias",
    "procure.SupplierMerge",
    "procure.Contract",
    "procure.ContractKPI",
    "procure.KPIRating",
    "socialvalue.SupplierTag",
    "socialvalue.TagOverride",
    "socialvalue.Commitment",
    "socialvalue.DeliveryReturn",
    "socialvalue.Target",
    "socialvalue.ProxyValue",
    "spend.SpendUpload",
    "councils.Council",
    "councils.Membership",
]


def _audited_instances(council, objects, council_officer) -> dict:
    from procure.models import ContractKPI, KPIRating
    from socialvalue.models import SupplierTag, TagOverride

    mine = objects[council.slug]
    supplier = mine["supplier"]
    contract = mine["contract"]
    kpi = ContractKPI.objects.create(contract=contract, name="Repairs on time")
    found = {
        "procure.Supplier": supplier,
        "procure.SupplierAlias": supplier.aliases.create(council=council, name="B L"),
        "procure.SupplierMerge": mine["merge"],
        "procure.Contract": contract,
        "procure.ContractKPI": kpi,
        "procure.KPIRating": KPIRating.objects.create(
            kpi=kpi, period_end=date(2025, 6, 30), rating="good"
        ),
        "socialvalue.SupplierTag": SupplierTag.objects.create(
            supplier=supplier,
            council=council,
            kind="locality",
            value="local",
            source="no_data",
            evidence="Set by the test.",
            confidence="high",
            decided_at=timezone.now(),
        ),
        "socialvalue.TagOverride": TagOverride.objects.create(
            supplier=supplier,
            council=None,  # only a location is per council
            kind="size",
            value="micro",
            reason="Seen the accounts.",
            created_by=council_officer,
        ),
        "socialvalue.Commitment": mine["commitment"],
        "socialvalue.DeliveryReturn": mine["delivery_return"],
        "socialvalue.Target": mine["target"],
        "socialvalue.ProxyValue": mine["proxy_value"],
        "spend.SpendUpload": mine["upload"],
        "councils.Council": council,
        "councils.Membership": council_officer.memberships.get(),
    }
    return found


def test_every_audited_change_records_who_and_when_and_the_admin_shows_it(
    client, council, objects, council_officer
):
    from django.apps import apps

    instances = _audited_instances(council, objects, council_officer)
    assert sorted(instances) == sorted(AUDITED)
    superuser = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(superuser)
    for label in AUDITED:
        model = apps.get_model(label)
        instance = instances[label]
        assert hasattr(model, "history"), f"{label} keeps no history"
        model_admin = admin.site._registry.get(model)
        assert isinstance(model_admin, SimpleHistoryAdmin), (
            f"{label}: no admin page shows its history"
        )

        # A change made in a signed-in officer's request, as every page makes it.
        request = RequestFactory().post("/")
        request.user = council_officer
        before = timezone.now()

        def save(request, instance=instance):
            instance.save()
            return HttpResponse()

        HistoryRequestMiddleware(save)(request)
        latest = instance.history.latest("history_date")
        assert latest.history_type == "~", label
        assert latest.history_user == council_officer, f"{label}: who is not recorded"
        assert latest.history_date >= before, f"{label}: when is not recorded"

        info = model._meta.app_label, model._meta.model_name
        url = reverse("admin:{}_{}_history".format(*info), args=[instance.pk])
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "bob-officer" in html, f"{label}: the admin history omits who"
        assert "Changed" in html or "~" in html, f"{label}: the change is not listed"


def test_history_is_written_by_every_request():
    assert "simple_history.middleware.HistoryRequestMiddleware" in settings.MIDDLEWARE


def test_the_django_admin_is_for_superusers_only(client, council, db):
    """Audit: the admin knows nothing of council roles, so a staff account given
    model permissions could change any council's contracts or give itself a
    role there. Only superusers may use it."""
    from django.contrib.auth.models import Permission

    staff = get_user_model().objects.create_user(
        "sid-staff", password="a-long-password-1", is_staff=True
    )
    staff.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["change_contract", "view_contract", "add_membership"]
        )
    )
    client.force_login(staff)
    for name in (
        "admin:index",
        "admin:procure_contract_changelist",
        "admin:councils_membership_add",
    ):
        response = client.get(reverse(name))
        assert response.status_code == 302, name
        assert response.url.startswith(reverse("admin:login")), name

    superuser = get_user_model().objects.create_superuser(
        "sue-super", password="a-long-password-1"
    )
    client.force_login(superuser)
    assert client.get(reverse("admin:procure_contract_changelist")).status_code == 200
