from decimal import Decimal

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from councils.periods import FinancialYear
from socialvalue.models import Target

FORM = {
    "metric": "sme",
    "baseline_year": "2022/23",
    "baseline_share": "30",
    "target_year": "2026/27",
    "target_share": "50",
    "notes": "Cabinet, March 2022",
}


def test_an_administrator_adds_a_target_and_history_records_who(
    client, council_admin, council
):
    client.force_login(council_admin)
    response = client.post(reverse("socialvalue:target-new", args=[council.slug]), FORM)
    assert response.status_code == 302
    target = Target.objects.get(council=council, metric="sme")
    assert (target.baseline_year, target.target_year) == (2022, 2026)
    assert target.history.get().history_user == council_admin


@pytest.mark.parametrize("role", ["procurement", "finance", "viewer"])
def test_only_administrators_may_set_targets(client, role_users, council, role):
    client.force_login(role_users[role])
    response = client.post(reverse("socialvalue:target-new", args=[council.slug]), FORM)
    assert response.status_code == 403
    assert not Target.objects.exists()


def test_a_target_before_its_baseline_is_refused_with_a_message(
    client, council_admin, council
):
    client.force_login(council_admin)
    data = FORM | {"target_year": "2021/22", "target_share": "120"}
    response = client.post(reverse("socialvalue:target-new", args=[council.slug]), data)
    assertContains(response, "There is a problem")
    assertContains(response, "The target year must come after the baseline year.")
    assertContains(response, "Enter a percentage between 0 and 100.")
    assert not Target.objects.exists()


def test_a_badly_written_year_is_explained(client, council_admin, council):
    client.force_login(council_admin)
    response = client.post(
        reverse("socialvalue:target-new", args=[council.slug]),
        FORM | {"baseline_year": "22"},
    )
    assertContains(response, "write it like 2023/24")


def test_the_trajectory_is_a_straight_line_then_holds(council):
    target = Target(
        council=council,
        metric="local",
        baseline_year=2017,
        baseline_share=Decimal("25"),
        target_year=2023,
        target_share=Decimal("70"),
    )
    assert target.share_for(FinancialYear(2016)) is None
    assert target.share_for(FinancialYear(2020)) == Decimal("47.5")
    assert target.share_for(FinancialYear(2025)) == Decimal("70")
