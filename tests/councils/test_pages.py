from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from councils.periods import FinancialYear


@pytest.fixture
def this_year_lines(council, other_council, make_supplier, make_line):
    from django.utils import timezone

    fy = FinancialYear.for_date(timezone.localdate())
    supplier = make_supplier(name="Wardown Plumbing Ltd")
    make_line(
        council, supplier=supplier, payment_date=fy.start, amount=Decimal("1500.25")
    )
    make_line(
        council, supplier=supplier, payment_date=fy.start, amount=Decimal("-500.00")
    )
    make_line(council, payment_date=fy.start, amount=Decimal("250.00"), redacted=True)
    make_line(
        council,
        supplier=supplier,
        payment_date=fy.start.replace(year=fy.start_year - 1),
        amount=Decimal("99999.00"),
    )  # last year: not in this year's figures
    make_line(
        other_council,
        supplier=supplier,
        payment_date=fy.start,
        amount=Decimal("777.77"),
    )
    from spend import rollup

    for each in (council, other_council):  # as an import would
        rollup.rebuild(each.pk)
    return fy


def test_home_lists_only_your_councils_with_this_years_figures(
    client, viewer, this_year_lines
):
    client.force_login(viewer)
    response = client.get(reverse("councils:home"))
    assertContains(response, "Luton Borough Council")
    assertNotContains(response, "Knowsley")
    assertContains(response, "£1,250.25")  # 1500.25 - 500.00 + 250.00
    assertContains(response, "1 credit note")
    assertContains(response, f"Financial year {this_year_lines.label}")


def test_the_council_overview_shows_this_year_and_last(
    client, viewer, council, this_year_lines
):
    client.force_login(viewer)
    response = client.get(reverse("councils:overview", args=[council.slug]))
    assertContains(response, "£1,250.25")
    assertContains(response, "£99,999.00")
    assertContains(response, "cabinet member or councillor (read only)")
    assertNotContains(response, "£777.77")


def test_the_spend_list_totals_what_it_filters(
    client, viewer, council, this_year_lines
):
    client.force_login(viewer)
    response = client.get(
        reverse("spend:lines", args=[council.slug]) + "?redacted=true"
    )
    assertContains(
        response,
        "<strong>1</strong> payment totalling <strong>£250.00</strong>",
        html=False,
    )


def test_a_user_with_no_council_is_told_what_to_do(client, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="a-long-password-1")
    client.force_login(user)
    assertContains(client.get(reverse("councils:home")), "not linked to a council yet")


def test_the_header_names_the_council_and_not_gov_uk(client, viewer, council):
    client.force_login(viewer)
    response = client.get(reverse("councils:overview", args=[council.slug]))
    assertContains(response, "govuk-generic-header")
    assertContains(
        response, 'class="govuk-service-navigation__link">Luton Borough Council'
    )
    assertNotContains(response, "govuk-header__logotype")
    assertNotContains(response, "GOV.UK")


def test_signing_in_with_a_wrong_password_says_so(client, viewer):
    response = client.post(
        reverse("login"), {"username": viewer.username, "password": "x"}
    )
    assertContains(response, "There is a problem")


def test_signing_in_lands_on_your_councils(client, viewer):
    response = client.post(
        reverse("login"), {"username": viewer.username, "password": "a-long-password-1"}
    )
    assert response.status_code == 302 and response.url == reverse("councils:home")


def test_a_financial_year_label_is_uk_style():
    assert FinancialYear.for_date(date(2024, 2, 1)).label == "2023/24"


def test_the_spend_list_can_show_named_suppliers_only(
    client, viewer, council, this_year_lines
):
    client.force_login(viewer)
    url = reverse("spend:lines", args=[council.slug]) + "?redacted=false"
    response = client.get(url)
    assertContains(response, "<strong>3</strong> payments", html=False)
    assertNotContains(response, "govuk-tag--grey")


def test_the_overview_shows_each_measures_target_for_this_year_only(
    client, viewer, council
):
    """QA: with a Local target replaced by a newer one, the overview listed both,
    each with its own figure for this year, where the dashboard and the targets
    page use only the newer."""
    from socialvalue.models import Target

    this_year = FinancialYear.for_date(date.today()).start_year
    Target.objects.create(
        council=council,
        metric="local",
        baseline_year=this_year - 9,
        baseline_share=Decimal("25"),
        target_year=this_year - 3,
        target_share=Decimal("70"),
    )
    newer = Target.objects.create(
        council=council,
        metric="local",
        baseline_year=this_year - 3,
        baseline_share=Decimal("40"),
        target_year=this_year + 2,
        target_share=Decimal("70"),
    )
    client.force_login(viewer)
    page = client.get(reverse("councils:overview", args=[council.slug]))
    targets = page.context["targets"]
    assert [row["target"] for row in targets] == [newer]
    assert targets[0]["share_now"] == newer.share_for(FinancialYear(this_year))
    assertNotContains(page, "25.0% in")
    assertContains(page, f"the trajectory for {FinancialYear(this_year)} is ")


def test_the_overview_says_when_a_targets_date_has_passed(client, viewer, council):
    from socialvalue.models import Target

    this_year = FinancialYear.for_date(date.today()).start_year
    Target.objects.create(
        council=council,
        metric="sme",
        baseline_year=this_year - 5,
        baseline_share=Decimal("20"),
        target_year=this_year - 1,
        target_share=Decimal("45"),
    )
    client.force_login(viewer)
    page = client.get(reverse("councils:overview", args=[council.slug]))
    assertContains(
        page,
        f"that date has passed, so {FinancialYear(this_year)} is judged against 45.0%",
    )


def test_a_refusal_names_the_role_without_brackets_in_brackets(client, viewer, council):
    """QA: "Your role at Luton (Cabinet member or councillor (read only)) cannot
    do this."."""
    client.force_login(viewer)
    response = client.get(reverse("socialvalue:target-new", args=[council.slug]))
    assert response.status_code == 403
    assertContains(
        response,
        "Your role at Luton is cabinet member or councillor (read only), which "
        "cannot do this.",
        status_code=403,
    )


def test_a_year_with_no_spend_imported_says_so_not_zero_payments(
    client, viewer, council
):
    """QA: a council with no data read "In 2025/26 the council made 0 payments
    worth £0.00 to 0 suppliers"."""
    client.force_login(viewer)
    page = client.get(reverse("councils:overview", args=[council.slug]))
    last = page.context["previous_fy"]
    assertContains(page, f"No spend for {last} has been imported.")
    assertNotContains(page, "0 payments worth")
