"""The public pages as a visitor reads them (QA, signed out): what they say of the
local, SME, VCSE and Living Wage shares; a council with nothing published yet; how
the headline reconciles with the spend files; the messages for an address not
found or a period not held; a stable OCDS release; and the overview's count of
suppliers."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from councils.periods import FinancialYear

SHARES = "also uses LocalSpend to follow how much of its spending goes to local firms"


def _text(response) -> str:
    return " ".join(response.content.decode().split())


def _page(client, council) -> str:
    response = client.get(reverse("councils:public", args=[council.slug]))
    assert response.status_code == 200
    return _text(response)


def _rebuild(council):
    from spend import rollup

    rollup.rebuild(council.pk)


@pytest.fixture
def published(council, make_supplier, make_line):
    """This year: £1,500 and two payments of £500 or less (£120, -£80). Last
    year: £2,000, £300 and a redacted £250."""
    council.public_pages_enabled = True
    council.save()
    fy = FinancialYear.for_date(timezone.localdate())
    last = fy.previous()
    firm = make_supplier(name="Wardown Plumbing Ltd")
    for amount in ("1500", "120", "-80"):
        make_line(council, supplier=firm, payment_date=fy.start, amount=Decimal(amount))
    make_line(council, supplier=firm, payment_date=last.start, amount=Decimal("2000"))
    make_line(council, supplier=firm, payment_date=last.start, amount=Decimal("300"))
    make_line(council, payment_date=last.start, amount=Decimal("250.00"), redacted=True)
    _rebuild(council)
    return {"fy": fy, "last": last}


# --- 1. The shares: tracked, not published here ---------------------------------------


def test_the_public_page_says_the_shares_are_tracked_but_not_published(
    client, council, published
):
    page = _page(client, council)
    assert (
        f"{council.short_name} {SHARES}, to small businesses, to charities and "
        "social enterprises, and to employers paying the real Living Wage. Those "
        "shares are not published on this page" in page
    )
    # The footer no longer promises what the page does not show.
    assert "whether it stays in its place" not in page


# --- 2. A council with nothing published yet ---------------------------------------


def test_a_council_with_nothing_published_says_so_once_and_offers_no_file(
    client, council
):
    council.public_pages_enabled = True
    council.save()
    page = _page(client, council)
    assert page.count("No payments have been published here yet.") == 1
    assert "No payments held for" not in page
    assert reverse("councils:public-contracts-csv", args=[council.slug]) not in page
    assert reverse("councils:public-spend-csv", args=[council.slug]) not in page
    assert "Redacted payees" not in page
    assert SHARES not in page


def test_a_council_with_contracts_but_no_payments_offers_only_the_contracts(
    client, council
):
    from procure.models import Contract

    council.public_pages_enabled = True
    council.save()
    Contract.objects.create(
        council=council,
        reference="LBC-1",
        title="Lifts",
        value=Decimal("9000"),
        start_date=date(2025, 4, 1),
    )
    page = _page(client, council)
    assert "Contracts over £5,000 (CSV, 1 contract)" in page
    assert reverse("councils:public-spend-csv", args=[council.slug]) not in page
    assert "Redacted payees" not in page
    assert page.count("No payments have been published here yet.") == 1
    assert "No payments held for" not in page


def test_a_year_of_small_payments_only_is_not_offered_as_an_empty_file(
    client, council, make_line
):
    council.public_pages_enabled = True
    council.save()
    fy = FinancialYear.for_date(timezone.localdate())
    make_line(council, payment_date=fy.start, amount=Decimal("2000"))
    make_line(council, payment_date=fy.previous().start, amount=Decimal("40"))
    _rebuild(council)
    page = _page(client, council)
    assert f"Payments over £500 in {fy} (CSV)" in page
    assert f"Payments over £500 in {fy.previous()} (CSV)" not in page


def test_the_list_sets_apart_councils_with_nothing_published(
    client, council, other_council, make_line
):
    for each in (council, other_council):
        each.public_pages_enabled = True
        each.save()
    make_line(council)
    page = _text(client.get(reverse("councils:public-list")))
    published, not_yet = page.split("Not published yet")
    assert council.name in published and other_council.name not in published
    assert (
        "This council has turned its public page on but has not published any "
        "payments here yet" in not_yet
    )
    assert other_council.name in not_yet


def test_turning_the_pages_on_with_no_spend_says_the_page_will_be_empty(
    client, council_admin
):
    council = council_admin.memberships.get().council
    client.force_login(council_admin)
    url = reverse("councils:settings-public", args=[council.slug])
    said = (
        "No spend has been imported for Luton yet: until it is, the public page "
        "shows only that nothing has been published."
    )
    assert said in _text(client.get(url))
    response = client.post(url, {"public_pages_enabled": "yes"}, follow=True)
    assert "The public pages are on" in _text(response)
    assert _text(response).count(said) == 2  # the message, and the page


# --- 3. The headline and the files agree -------------------------------------------


def test_the_headline_says_what_it_counts_beyond_the_files(client, council, published):
    fy, last = published["fy"], published["last"]
    page = _page(client, council)
    assert (
        "They count every payment the council has loaded into LocalSpend, whatever "
        "its amount; the spend files to download below list only the payments over "
        "£500" in page
    )
    assert "from the payments the council publishes under" not in page
    # 3 payments, £1,540.00 in all; the file has the £1,500.00.
    assert (
        f"in {fy} so far, 1 payment worth £1,500.00, of the 3 counted above. The "
        "other 2 payments, of £500 or less either way (£40.00 in all), are counted "
        "above but not listed in the files." in page
    )
    assert (
        "Of these, 1 payment worth £2,000.00 was over £500. The other 2 payments, "
        "of £500 or less either way (£550.00 in all), are counted here but not "
        "listed in the spend file." in page
    )
    assert f"In {last} the council made 3 payments worth £2,550.00" in page


# --- 4. A period not held, an address not found ------------------------------------


def test_a_year_not_held_names_the_years_held(client, council, published):
    fy = published["fy"]
    url = reverse("councils:public-spend-csv", args=[council.slug])
    response = client.get(url, {"year": 2019})
    assert response.status_code == 400
    text = response.content.decode()
    assert (
        f"The financial years held are {fy} and {fy.previous()}: in a web address, "
        f"give the year it starts in (year={fy.start_year} for {fy})." in text
    )


def test_a_month_not_held_says_how_months_are_given(client, council, published):
    url = reverse("councils:public-spend-csv", args=[council.slug])
    response = client.get(url, {"year": published["fy"].start_year, "month": 13})
    assert response.status_code == 400
    text = response.content.decode()
    assert "give the month as a number from 1 (January) to 12 (December)" in text
    assert "(with year=2025, month=1 is January 2026)" in text


@override_settings(DEBUG=False)
def test_an_address_not_found_under_a_publishing_council_does_not_deny_it(
    client, council, published
):
    response = client.get(f"/public/{council.slug}/nothing.csv")
    assert response.status_code == 404
    text = _text(response)
    assert "does not publish its spending" not in text
    assert "There is no page or file at this web address." in text
    assert f'href="{reverse("councils:public-list")}"' in text


@override_settings(DEBUG=False)
def test_a_council_that_does_not_publish_is_named_so_with_the_list(client, council):
    response = client.get(reverse("councils:public", args=[council.slug]))
    assert response.status_code == 404
    text = _text(response)
    assert "This council does not publish its spending on LocalSpend" in text
    assert (
        f'<a class="govuk-link" href="{reverse("councils:public-list")}">See the '
        "councils that publish their spending on LocalSpend</a>" in text
    )


def test_each_public_page_links_back_to_the_list(client, council, published):
    page = _page(client, council)
    assert (
        f'<a href="{reverse("councils:public-list")}" class="govuk-back-link">All '
        "councils that publish here</a>" in page
    )


# --- 5. The OCDS release is the same for the same data -----------------------------


def test_the_ocds_release_is_the_same_at_every_download(client, council):
    from procure.models import Contract

    council.public_pages_enabled = True
    council.save()
    contract = Contract.objects.create(
        council=council,
        reference="LBC-1",
        title="Lifts",
        value=Decimal("9000"),
        start_date=date(2025, 4, 1),
    )
    url = reverse("councils:public-ocds", args=[council.slug])

    def release():
        return json.loads(client.get(url).content)["releases"][0]

    first, second = release(), release()
    assert (first["id"], first["date"]) == (second["id"], second["date"])
    changed = contract.history.latest("history_date").history_date
    assert first["date"] == changed.isoformat()


# --- 6. The overview counts suppliers as the tiles do ------------------------------


def test_the_overview_says_suppliers_exclude_redacted_payees(
    client, council_admin, published
):
    client.force_login(council_admin)
    page = _text(client.get(reverse("councils:overview", args=["luton"])))
    assert "and redacted payees." not in page
    assert (
        "It paid 1 supplier, excluding redacted payees, who were paid £250.00 of it."
        in page
    )
