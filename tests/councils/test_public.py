"""The council's public page: how recent its figures are, how they reconcile with
the spend files, which months each year holds; and the settings page that says
exactly what the public pages publish."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from councils.periods import FinancialYear, add_months


@pytest.fixture
def published(council, make_supplier, make_line):
    """This year: April and May (up to today), with a payment of £500 or less;
    last year: November to March only."""
    from spend import rollup

    council.public_pages_enabled = True
    council.save()
    fy = FinancialYear.for_date(timezone.localdate())
    firm = make_supplier(name="Wardown Plumbing Ltd")
    make_line(council, supplier=firm, payment_date=fy.start, amount=Decimal("1500"))
    make_line(council, supplier=firm, payment_date=fy.start, amount=Decimal("120"))
    make_line(council, supplier=firm, payment_date=fy.start, amount=-800)
    latest = min(add_months(fy.start, 1).replace(day=17), timezone.localdate())
    make_line(council, supplier=firm, payment_date=latest, amount=Decimal("900"))
    last = fy.previous()
    for month in range(5):  # November to March
        make_line(
            council,
            supplier=firm,
            payment_date=add_months(date(last.start_year, 11, 1), month),
            amount=Decimal("2000"),
        )
    make_line(
        council,
        payment_date=date(last.start_year, 12, 5),
        amount=Decimal("300"),
        redacted=True,
    )
    rollup.rebuild(council.pk)
    return {"fy": fy, "last": last, "latest": latest}


def _page(client, council) -> str:
    response = client.get(reverse("councils:public", args=[council.slug]))
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_the_public_page_names_the_council_in_its_heading(client, council, published):
    page = _page(client, council)
    assert '<h1 class="govuk-heading-l">Where Luton Borough Council’s money goes' in (
        page
    )


def test_the_public_page_says_how_recent_its_figures_are(client, council, published):
    page = _page(client, council)
    latest = published["latest"]
    assert f"The latest payment held is dated {latest.day} {latest:%B %Y}" in page


def test_the_headline_reconciles_with_the_files_of_payments_over_500(
    client, council, published
):
    fy = published["fy"]
    page = _page(client, council)
    assert "These figures count every payment held, of any amount" in page
    # Four payments, of which the £120 is not over £500: three, £1,600.00.
    assert (
        f"only payments over £500 either way, as the Transparency Code asks: in {fy} "
        "so far, 3 payments worth £1,600.00, of the 4 counted above" in page
    )
    last = published["last"]
    assert (
        f"In {last} the council made 6 payments worth £10,300.00 to 1 supplier, in "
        f"the months held: November {last.start_year} to March {last.start_year + 1} "
        "only. Of these, 5 payments worth £10,000.00 were over £500." in page
    )


def test_a_partial_year_names_its_months(client, council, published):
    last = published["last"]
    page = _page(client, council)
    assert (
        f"Payments over £500 in {last} (CSV)</a><br>"
        f'<span class="govuk-body-s">November {last.start_year} to March '
        f"{last.start_year + 1} only</span>" in page
    )


def test_redacted_payees_are_explained(client, council, published):
    page = _page(client, council)
    assert '<h2 class="govuk-heading-m">Redacted payees</h2>' in page
    assert "In the spend files their payee is shown as REDACTED" in page


def test_months_in_words():
    from spend.dashboard import describe_months as _month_runs  # the page uses it

    assert _month_runs([date(2024, 11, 1)]) == "November 2024"
    assert (
        _month_runs([date(2024, 11, 1), date(2024, 12, 1), date(2025, 1, 1)])
        == "November 2024 to January 2025"
    )
    assert (
        _month_runs(
            [date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 1), date(2025, 9, 1)]
        )
        == "April to June 2025 and September 2025"
    )


def test_the_page_with_nothing_published_yet(client, council):
    council.public_pages_enabled = True
    council.save()
    page = _page(client, council)
    assert "No payments have been published here yet." in page


# --- What the settings page says is published ---------------------------------------


def test_the_settings_page_lists_exactly_what_is_published(client, council_admin):
    council = council_admin.memberships.get().council
    client.force_login(council_admin)
    response = client.get(reverse("councils:settings-public", args=[council.slug]))
    # The contracts file has SME and VCSE columns, from the suppliers' tags.
    assertContains(response, "whether each supplier is an SME and whether it is a VCSE")
    assertNotContains(response, "the suppliers’ tags, the uploads")
    # The published OCDS file: awarded contracts, no addresses.
    assertContains(response, "the contracts awarded, of any value, in the Open")
    assertContains(response, "but not the supplier’s address")
    assertContains(response, "contracts not yet awarded (the pipeline)")
    assertNotContains(response, "every contract in the register")


def test_a_visitor_finds_the_councils_that_publish_from_the_sign_in_page(
    client, council, other_council
):
    """QA: the public pages could be found only by knowing their address: "/"
    led to the sign-in page, which said nothing of them."""
    login = client.get(reverse("login"))
    listing = reverse("councils:public-list")
    assertContains(login, f'href="{listing}"')
    assertContains(client.get(listing), "No council publishes its figures here yet.")
    council.public_pages_enabled = True
    council.save()
    page = client.get(listing)
    assertContains(
        page,
        f'<a class="govuk-link" href="{reverse("councils:public", args=[council.slug])}">'
        f"{council.name}</a>",
    )
    assertNotContains(page, other_council.name)  # not published
