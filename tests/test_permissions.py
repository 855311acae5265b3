"""Every URL × anonymous, each role, and a member of another council.

The routes come from the URL configuration, so a new page without an entry in
ROUTES fails `test_every_route_is_in_the_matrix`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from councils.models import ROLE_CAPABILITIES, Capability

ROLES = ["admin", "procurement", "finance", "viewer"]

# route name → (the object its <pk> names, the capability a GET needs).
ROUTES: dict[str, tuple[str | None, Capability | None]] = {
    "councils:home": (None, None),
    "councils:switch": (None, None),
    "councils:overview": (None, Capability.VIEW),
    "councils:settings": (None, Capability.MANAGE_COUNCIL),
    "councils:settings-area": (None, Capability.MANAGE_COUNCIL),
    "councils:settings-public": (None, Capability.MANAGE_COUNCIL),
    "councils:settings-history": (None, Capability.MANAGE_COUNCIL),
    "councils:settings-members": (None, Capability.MANAGE_COUNCIL),
    "councils:settings-member-add": (None, Capability.MANAGE_COUNCIL),
    "councils:settings-member-role": (None, Capability.MANAGE_COUNCIL),
    "councils:settings-member-remove": (None, Capability.MANAGE_COUNCIL),
    "councils:public-list": (None, None),
    "councils:public": (None, None),
    "councils:public-contracts-csv": (None, None),
    "councils:public-spend-csv": (None, None),
    "councils:public-ocds": (None, None),
    "spend:uploads": (None, Capability.VIEW),
    "spend:upload": (None, Capability.UPLOAD),
    "spend:upload-detail": ("upload", Capability.VIEW),
    "spend:upload-preview": ("upload", Capability.UPLOAD),
    "spend:upload-issues": ("upload", Capability.VIEW),
    "spend:upload-rollback": ("upload", Capability.UPLOAD),
    "spend:upload-retry": ("upload", Capability.UPLOAD),
    "spend:upload-reread": ("upload", Capability.UPLOAD),
    "spend:upload-discard": ("upload", Capability.UPLOAD),
    "spend:mappings": (None, Capability.VIEW),
    "spend:mapping-forget": ("mapping", Capability.UPLOAD),
    "spend:lines": (None, Capability.VIEW),
    "spend:dashboard": (None, Capability.VIEW),
    "procure:suppliers": (None, Capability.VIEW),
    "procure:supplier-detail": ("supplier", Capability.VIEW),
    "procure:supplier-edit": ("supplier", Capability.EDIT_REGISTER),
    "procure:supplier-name-add": ("supplier", Capability.EDIT_REGISTER),
    "procure:review": (None, Capability.VIEW),
    "procure:supplier-merge": ("supplier", Capability.EDIT_REGISTER),
    "procure:merge-undo": ("merge", Capability.EDIT_REGISTER),
    "procure:suggestion-dismiss": ("suggestion", Capability.EDIT_REGISTER),
    "procure:suggestion-restore": ("suggestion", Capability.EDIT_REGISTER),
    "procure:contracts": (None, Capability.VIEW),
    "procure:contract-detail": ("contract", Capability.VIEW),
    "procure:contract-new": (None, Capability.EDIT_REGISTER),
    "procure:contract-import": (None, Capability.EDIT_REGISTER),
    "procure:contract-import-undo": ("register_import", Capability.EDIT_REGISTER),
    "procure:contract-edit": ("contract", Capability.EDIT_REGISTER),
    # Its POST needs a reason: tests/procure/test_contract_delete.py checks it.
    "procure:contract-delete": ("contract", Capability.EDIT_REGISTER),
    "procure:contracts-deleted": (None, Capability.VIEW),
    "procure:contract-kpis": ("contract", Capability.EDIT_REGISTER),
    "procure:kpi-rate": ("contract", Capability.EDIT_REGISTER),
    "procure:contract-lines": ("contract", Capability.EDIT_REGISTER),
    "procure:contract-pipeline": (None, Capability.VIEW),
    "procure:off-contract": (None, Capability.VIEW),
    "procure:exports": (None, Capability.VIEW),
    "procure:export-contracts-csv": (None, Capability.VIEW),
    "procure:export-spend-csv": (None, Capability.VIEW),
    "procure:export-ocds": (None, Capability.VIEW),
    "socialvalue:targets": (None, Capability.VIEW),
    "socialvalue:target-new": (None, Capability.MANAGE_COUNCIL),
    "socialvalue:target-edit": ("target", Capability.MANAGE_COUNCIL),
    "socialvalue:target-remove": ("target", Capability.MANAGE_COUNCIL),
    "socialvalue:tag-override": ("supplier", Capability.EDIT_REGISTER),
    "socialvalue:tag-override-remove": ("supplier", Capability.EDIT_REGISTER),
    "socialvalue:totals": (None, Capability.VIEW),
    "socialvalue:totals-csv": (None, Capability.VIEW),
    "socialvalue:overdue": (None, Capability.EDIT_REGISTER),
    "socialvalue:measures": (None, Capability.VIEW),
    "socialvalue:proxy-values": (None, Capability.MANAGE_COUNCIL),
    "socialvalue:proxy-value-new": (None, Capability.MANAGE_COUNCIL),
    "socialvalue:proxy-value-edit": ("proxy_value", Capability.MANAGE_COUNCIL),
    "socialvalue:proxy-value-remove": ("proxy_value", Capability.MANAGE_COUNCIL),
    "socialvalue:contract": ("contract", Capability.VIEW),
    "socialvalue:commitment-new": ("contract", Capability.EDIT_REGISTER),
    "socialvalue:commitment-edit": ("commitment", Capability.EDIT_REGISTER),
    "socialvalue:commitment-remove": ("commitment", Capability.EDIT_REGISTER),
    "socialvalue:return-new": ("commitment", Capability.EDIT_REGISTER),
    "socialvalue:return-edit": ("delivery_return", Capability.EDIT_REGISTER),
    "socialvalue:return-remove": ("delivery_return", Capability.EDIT_REGISTER),
    "socialvalue:return-evidence": ("delivery_return", Capability.VIEW),
}
PUBLIC_ROUTES = {
    "councils:public-list",
    "councils:public",
    "councils:public-contracts-csv",
    "councils:public-spend-csv",
    "councils:public-ocds",
}
POST_ONLY_ROUTES = {
    "spend:upload-retry",
    "spend:upload-reread",
    "spend:mapping-forget",
    "socialvalue:tag-override-remove",
    "procure:suggestion-dismiss",
    "procure:suggestion-restore",
    "procure:kpi-rate",
    "procure:contract-lines",
}
# The matrix's upload is already imported, so its preview (and asking to discard
# it) sends you to its page; its commitment has a return, so asking to remove it
# sends you back to the contract.
REDIRECTING_ROUTES = {
    "spend:upload-preview",
    "spend:upload-discard",
    "socialvalue:commitment-remove",
}
# Buttons that ask first: a GET shows what will be done, the button on that page
# POSTs to the same address. The POST is checked as well as the GET.
ASKING_ROUTES = {"procure:merge-undo", "procure:contract-import-undo"}
APP_NAMESPACES = {"councils", "spend", "procure", "socialvalue"}


def _route_names(patterns=None, namespace: str | None = None) -> set[str]:
    names = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            names |= _route_names(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name and namespace:
            names.add(f"{namespace}:{pattern.name}")
    return {n for n in names if n.split(":")[0] in APP_NAMESPACES}


def test_every_route_is_in_the_matrix():
    assert _route_names() == set(ROUTES)


@pytest.fixture
def objects(council, other_council, make_supplier, make_line):
    """One of each object for each council, so pks can be crossed."""
    from procure.models import (
        Contract,
        MatchSuggestion,
        RegisterImport,
        SupplierMerge,
    )
    from socialvalue.models import Target
    from spend.models import RememberedMapping

    made = {}
    for c in (council, other_council):
        supplier = make_supplier(name=f"{c.short_name} Builders Ltd")
        line = make_line(c, supplier=supplier)
        twin = make_supplier(name=f"{c.short_name} Builders Limited (UK)")
        made[c.slug] = {
            "merge": SupplierMerge.objects.create(kept=supplier, merged=twin),
            "suggestion": MatchSuggestion.objects.create(
                supplier=supplier, candidate=twin, score=95
            ),
            "upload": line.upload,
            "mapping": RememberedMapping.objects.create(
                council=c,
                layout_hash=f"{c.slug:0<64}",
                layout="date|supplier|amount",
                columns={"payment_date": 0, "supplier_name": 1, "amount": 2},
            ),
            "supplier": supplier,
            "contract": Contract.objects.create(
                council=c,
                reference=f"{c.slug}-1",
                title="Repairs",
                supplier=supplier,
                value=Decimal("10000"),
                start_date=date(2025, 1, 1),
            ),
            "register_import": RegisterImport.objects.create(
                council=c, file_name="register.csv"
            ),
            "target": Target.objects.create(
                council=c,
                metric="local",
                baseline_year=2020,
                baseline_share=Decimal("20"),
                target_year=2025,
                target_share=Decimal("40"),
            ),
        }
    for c in (council, other_council):
        made[c.slug].update(_social_value_objects(c, made[c.slug]["contract"]))
    return made


def _social_value_objects(council, contract) -> dict:
    """A commitment with one return (and its evidence file), and a proxy value."""
    from socialvalue.models import (
        Commitment,
        DeliveryReturn,
        Measure,
        ProxyValue,
        keep_evidence,
    )

    measure = Measure.objects.get(code="LS-JOBS-03")
    commitment = Commitment.objects.create(
        contract=contract,
        measure=measure,
        quantity=Decimal("52"),
        period_start=date(2025, 4, 1),
        period_end=date(2026, 3, 31),
    )
    delivery = DeliveryReturn.objects.create(
        commitment=commitment,
        quantity=Decimal("13"),
        period_start=date(2025, 4, 1),
        period_end=date(2025, 6, 30),
        evidence_note="Apprentice timesheets",
        evidence_file=keep_evidence(council, "timesheets.pdf", b"%PDF-1.4 test"),
        evidence_file_name="timesheets.pdf",
        confirmed=True,
    )
    proxy = ProxyValue.objects.create(
        council=council,
        measure=measure,
        year=2025,
        value=Decimal("100"),
        source="The council's own calculation",
    )
    return {"commitment": commitment, "delivery_return": delivery, "proxy_value": proxy}


def _url(route: str, council_slug: str, objects: dict, pk_from: str | None = None):
    kind, _ = ROUTES[route]
    if route in ("councils:home", "councils:public-list"):
        return reverse(route)
    if route == "councils:switch":
        return reverse(route) + f"?council={council_slug}"
    kwargs = {"council_slug": council_slug}
    if kind:
        kwargs["pk"] = objects[pk_from or council_slug][kind].pk
    if route.startswith("socialvalue:tag-"):
        kwargs["kind"] = "size"
    if route == "procure:supplier-merge":
        kwargs["into"] = objects[pk_from or council_slug]["suggestion"].candidate_id
    return reverse(route, kwargs=kwargs)


@pytest.mark.parametrize("route", sorted(set(ROUTES) - PUBLIC_ROUTES))
def test_anonymous_users_are_sent_to_sign_in(client, council, objects, route):
    url = _url(route, council.slug, objects)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_its_capabilities_allow(
    client, role_users, council, objects, route, role
):
    client.force_login(role_users[role])
    response = client.get(_url(route, council.slug, objects))
    kind, capability = ROUTES[route]
    if route == "councils:switch":
        expected = 302
    elif route == "councils:public-list":
        expected = 200  # the list of councils that publish: none yet
    elif route in PUBLIC_ROUTES:
        expected = 404  # the council has not turned its public pages on
    elif capability is None or capability in ROLE_CAPABILITIES[role]:
        expected = 405 if route in POST_ONLY_ROUTES else 200
        expected = 302 if route in REDIRECTING_ROUTES else expected
    else:
        expected = 403
    assert response.status_code == expected


@pytest.mark.parametrize(
    "route", sorted(r for r, (_, cap) in ROUTES.items() if cap is not None)
)
def test_a_member_of_another_council_gets_404(
    client, other_council_officer, council, objects, route
):
    client.force_login(other_council_officer)
    response = client.get(_url(route, council.slug, objects))
    assert response.status_code == 404
    if route in POST_ONLY_ROUTES | ASKING_ROUTES:
        assert client.post(_url(route, council.slug, objects)).status_code == 404


@pytest.mark.parametrize(
    "route", sorted(r for r, (kind, _) in ROUTES.items() if kind is not None)
)
def test_another_councils_object_is_404_even_through_your_own_council(
    client, other_council_officer, council, other_council, objects, route
):
    """An admin of Knowsley asking for Luton's object under Knowsley's URL."""
    client.force_login(other_council_officer)
    url = _url(route, other_council.slug, objects, pk_from=council.slug)
    method = client.post if route in POST_ONLY_ROUTES else client.get
    assert method(url).status_code == 404
    if route in ASKING_ROUTES:
        assert client.post(url).status_code == 404


def test_the_switcher_refuses_a_council_you_do_not_belong_to(
    client, council_officer, other_council
):
    client.force_login(council_officer)
    response = client.get(reverse("councils:switch") + "?council=knowsley")
    assert response.status_code == 404


def test_public_pages_need_no_login_once_a_council_turns_them_on(client, council):
    council.public_pages_enabled = True
    council.save()
    response = client.get(reverse("councils:public", args=[council.slug]))
    assert response.status_code == 200
    assert "Where Luton Borough Council’s money goes" in response.content.decode()


def test_the_login_page_needs_no_login(client, db):
    assert client.get(reverse("login")).status_code == 200


# Pages that only show: every route needing no more than VIEW, and the public ones.
READ_ONLY_ROUTES = sorted(
    route
    for route, (_, capability) in ROUTES.items()
    if capability in (None, Capability.VIEW) and route not in POST_ONLY_ROUTES
)


@pytest.mark.parametrize("route", READ_ONLY_ROUTES)
def test_a_page_that_only_shows_refuses_a_form_with_a_page_saying_so(
    client, council, viewer, objects, route
):
    """A form sent to a read-only page is refused (405, with the methods it
    takes), not shown as if something was done."""
    council.public_pages_enabled = True
    council.save()
    client.force_login(viewer)
    response = client.post(_url(route, council.slug, objects), {"name": "x"})
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert b"This page only shows information" in response.content
    assert b"Nothing has been changed" in response.content


@pytest.mark.parametrize("route", sorted(POST_ONLY_ROUTES))
def test_a_button_address_opened_as_a_link_says_to_press_the_button(
    client, council, council_admin, objects, route
):
    client.force_login(council_admin)
    response = client.get(_url(route, council.slug, objects))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    page = response.content.decode()
    assert "This page cannot be opened that way" in page
    assert "Go back to the page with the button" in page
    assert "Go to your councils" in page


@pytest.mark.parametrize("route", sorted(ASKING_ROUTES))
@pytest.mark.parametrize("role", ROLES)
def test_a_button_that_asks_first_takes_the_answer_only_from_roles_that_may(
    client, role_users, council, objects, route, role
):
    """Its GET shows the question (`test_each_role_gets_what_its_capabilities_
    allow`); its POST is done for a role with the capability alone."""
    client.force_login(role_users[role])
    url = _url(route, council.slug, objects)
    _, capability = ROUTES[route]
    allowed = capability in ROLE_CAPABILITIES[role]
    put = client.put(url)
    assert put.status_code == (405 if allowed else 403)
    if allowed:
        assert put["Allow"] == "GET, HEAD, POST"
    assert client.post(url).status_code == (302 if allowed else 403)


def test_a_non_member_posting_to_a_read_only_page_still_gets_404(
    client, council, other_council_officer, objects
):
    """The method is refused only once the council is known to be the user's: a
    405 would tell a stranger the council exists."""
    client.force_login(other_council_officer)
    url = _url("procure:suppliers", council.slug, objects)
    assert client.post(url).status_code == 404


def test_a_refused_form_on_a_public_page_offers_no_sign_in_only_link(
    client, council, objects
):
    council.public_pages_enabled = True
    council.save()
    response = client.post(_url("councils:public", council.slug, objects))
    assert response.status_code == 405
    assert b"This page only shows information" in response.content
    assert b"Go to your councils" not in response.content


def test_the_public_page_header_names_the_council_to_a_visitor(client, council):
    council.public_pages_enabled = True
    council.save()
    url = reverse("councils:public", args=[council.slug])
    page = client.get(url).content.decode()
    header = page.split("</header>")[0]
    assert council.name in header
    assert f'href="{url}"' in header
    # LocalSpend's own home would only ask a visitor to sign in.
    assert ">LocalSpend</a>" not in header
    assert "Staff sign in" in header


def test_a_signed_in_member_sees_the_usual_header_on_the_public_page(
    client, council, viewer
):
    council.public_pages_enabled = True
    council.save()
    client.force_login(viewer)
    page = client.get(reverse("councils:public", args=[council.slug])).content.decode()
    header = page.split("</header>")[0]
    assert ">LocalSpend</a>" in header
    assert "Staff sign in" not in header
    # Told what visitors see instead.
    assert "This is the public page: visitors see it without signing in" in page


def test_the_405_page_says_what_the_address_takes_not_what_was_sent(
    client, council, council_admin, objects
):
    """Its words follow the Allow header: a button's address (POST only), a page
    that shows (GET, HEAD) or a question page that takes its answer (GET, POST)."""
    client.force_login(council_admin)
    button = client.put(_url("spend:mapping-forget", council.slug, objects))
    assert button.status_code == 405
    assert b"Go back to the page with the button" in button.content
    shows = client.delete(_url("procure:suppliers", council.slug, objects))
    assert shows.status_code == 405
    assert b"This page only shows information" in shows.content
    question = client.put(_url("spend:upload-discard", council.slug, objects))
    assert question.status_code == 405
    assert question["Allow"] == "GET, HEAD, POST"
    assert b"does not take that kind of request" in question.content
    assert b"only shows information" not in question.content
