"""KPI ratings only for periods of the contract that have ended; removing a KPI
with ratings asks first; KPI history says what a change changed from."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from procure.models import Contract, ContractKPI, KPIRating


@pytest.fixture
def contract(council, make_supplier):
    return Contract.objects.create(
        council=council,
        reference="QA-001",
        title="Home care",
        supplier=make_supplier(),
        value=Decimal("6000000"),
        start_date=date(2024, 2, 1),
    )


@pytest.fixture
def kpi(contract):
    return ContractKPI.objects.create(
        contract=contract, name="Missed visits", target="Under 1%"
    )


def _rate(client, contract, kpi, day, rating="good"):
    url = reverse("procure:kpi-rate", args=[contract.council.slug, contract.pk])
    return client.post(
        url, {"kpi": kpi.pk, "period_end": day.isoformat(), "rating": rating}
    )


def _rating_errors(response) -> list[str]:
    return response.context["rating_form"].errors.get("period_end", [])


# --- Periods rated ----------------------------------------------------------------


def test_a_period_ending_after_today_is_refused(client, council_officer, contract, kpi):
    """QA: a rating "for the period to 1 January 2030" was recorded."""
    client.force_login(council_officer)
    today = timezone.localdate()
    response = _rate(client, contract, kpi, date(2030, 1, 1))
    assert response.status_code == 200
    said = f"({today.day} {today:%B %Y})"
    assert _rating_errors(response) == [
        f"The period rated cannot end after today {said}: rate a period once it "
        "has ended."
    ]
    assertContains(response, 'href="#id_period_end"')  # in the error summary
    assert _rate(client, contract, kpi, today + timedelta(days=1)).status_code == 200
    assert not KPIRating.objects.exists()


def test_a_period_ending_before_the_contract_began_is_refused(
    client, council_officer, contract, kpi
):
    """QA: a rating "for the period to 1 January 2020" was recorded for a
    contract running from 1 February 2024."""
    client.force_login(council_officer)
    response = _rate(client, contract, kpi, date(2020, 1, 1))
    assert _rating_errors(response) == [
        "The period rated cannot end before the contract began, on 1 February "
        "2024. Enter a day from then on."
    ]
    assert _rate(client, contract, kpi, date(2024, 1, 31)).status_code == 200
    assert not KPIRating.objects.exists()


def test_the_first_day_of_the_contract_and_today_may_end_a_period(
    client, council_officer, contract, kpi
):
    client.force_login(council_officer)
    today = timezone.localdate()
    assert _rate(client, contract, kpi, date(2024, 2, 1)).status_code == 302
    assert _rate(client, contract, kpi, today).status_code == 302
    assert set(KPIRating.objects.values_list("period_end", flat=True)) == {
        date(2024, 2, 1),
        today,
    }


# --- Removing a KPI with ratings asks first ---------------------------------------


def _formset(kpis: list[ContractKPI], remove=(), **changes) -> dict:
    data = {"kpi-TOTAL_FORMS": str(len(kpis)), "kpi-INITIAL_FORMS": str(len(kpis))}
    for i, each in enumerate(kpis):
        data |= {
            f"kpi-{i}-id": str(each.pk),
            f"kpi-{i}-contract": str(each.contract_id),
            f"kpi-{i}-name": changes.get(f"{i}-name", each.name),
            f"kpi-{i}-target": changes.get(f"{i}-target", each.target),
        }
        if each in remove:
            data[f"kpi-{i}-DELETE"] = "on"
    return data


def _rated(kpi, *days):
    for day in days:
        KPIRating.objects.create(kpi=kpi, period_end=day, rating="good")


def test_removing_a_kpi_with_ratings_asks_first_saying_how_many(
    client, council_officer, contract, kpi
):
    """QA: ticking "remove" and saving deleted the KPI and all its ratings with
    no confirmation."""
    _rated(kpi, date(2024, 6, 30), date(2024, 12, 31))
    other = ContractKPI.objects.create(contract=contract, name="Complaints", target="-")
    client.force_login(council_officer)
    url = reverse("procure:contract-kpis", args=[contract.council.slug, contract.pk])
    data = _formset([kpi, other], remove=[kpi], **{"1-target": "Under 5 a month"})
    asked = client.post(url, data)
    assert asked.status_code == 200
    assertContains(asked, "Remove “Missed visits” and its 2 ratings?")
    assertContains(asked, "the latest good for the period to 31 December 2024")
    # Nothing saved yet: the KPI, its ratings and the other change all wait.
    assert kpi.ratings.count() == 2
    assert ContractKPI.objects.get(pk=other.pk).target == "-"
    token = asked.context["asked"]
    done = client.post(url, data | {"confirm_removal": token}, follow=True)
    assert not ContractKPI.objects.filter(pk=kpi.pk).exists()
    assert not KPIRating.objects.exists()
    assert ContractKPI.objects.get(pk=other.pk).target == "Under 5 a month"
    assertContains(done, "Removed “Missed visits” and its 2 ratings.")


def test_the_question_is_asked_again_when_the_ratings_changed_meanwhile(
    client, council_officer, contract, kpi
):
    _rated(kpi, date(2024, 6, 30))
    client.force_login(council_officer)
    url = reverse("procure:contract-kpis", args=[contract.council.slug, contract.pk])
    data = _formset([kpi], remove=[kpi])
    token = client.post(url, data).context["asked"]
    _rated(kpi, date(2024, 12, 31))  # another officer rated it meanwhile
    again = client.post(url, data | {"confirm_removal": token})
    assert again.status_code == 200
    assertContains(again, "Remove “Missed visits” and its 2 ratings?")
    assert ContractKPI.objects.filter(pk=kpi.pk).exists()


def test_going_back_keeps_the_kpi_and_the_form_as_it_was(
    client, council_officer, contract, kpi
):
    _rated(kpi, date(2024, 6, 30))
    client.force_login(council_officer)
    url = reverse("procure:contract-kpis", args=[contract.council.slug, contract.pk])
    data = _formset([kpi], remove=[kpi], **{"0-target": "Under 2%"})
    back = client.post(url, data | {"back": "1"})
    assert back.status_code == 200
    assertContains(back, "Under 2%")  # what the officer typed, unsaved
    assert ContractKPI.objects.get(pk=kpi.pk).target == "Under 1%"
    assert kpi.ratings.count() == 1


def test_a_kpi_with_no_ratings_is_removed_without_asking(
    client, council_officer, contract, kpi
):
    client.force_login(council_officer)
    url = reverse("procure:contract-kpis", args=[contract.council.slug, contract.pk])
    done = client.post(url, _formset([kpi], remove=[kpi]), follow=True)
    assert not ContractKPI.objects.exists()
    assertContains(done, "Removed “Missed visits”.")


def test_viewers_cannot_remove_kpis_even_when_confirming(client, viewer, contract, kpi):
    _rated(kpi, date(2024, 6, 30))
    client.force_login(viewer)
    url = reverse("procure:contract-kpis", args=[contract.council.slug, contract.pk])
    data = _formset([kpi], remove=[kpi]) | {"confirm_removal": f"{kpi.pk}:1"}
    assert client.post(url, data).status_code == 403
    assert kpi.ratings.count() == 1


# --- KPI history says what changed -------------------------------------------------


def test_kpi_history_says_old_and_new_name_and_target(
    client, council_officer, viewer, contract, kpi
):
    """QA: the history said only "KPI 'Missed visits' changed"."""
    client.force_login(council_officer)
    url = reverse("procure:contract-kpis", args=[contract.council.slug, contract.pk])
    data = _formset(
        [kpi], **{"0-name": "Visits missed", "0-target": "Under 0.5% of visits"}
    )
    assert client.post(url, data).status_code == 302
    _rate(client, contract, kpi, date(2024, 6, 30), "approaching")
    _rate(client, contract, kpi, date(2024, 6, 30), "good")
    client.force_login(viewer)
    page = client.get(contract.get_absolute_url())
    texts = [event["text"] for event in page.context["kpi_history"]]
    assert texts[0] == (
        "Visits missed: the rating for the period to 30 Jun 2024 changed from "
        "approaching target to good"
    )
    assert texts[1] == (
        "Visits missed rated approaching target for the period to 30 Jun 2024"
    )
    assert texts[2] == (
        "KPI “Visits missed” renamed from “Missed visits” and target changed "
        "from “Under 1%” to “Under 0.5% of visits”"
    )
    assert page.context["kpi_history"][2]["who"] == "bob-officer"
    assertContains(page, "renamed from “Missed visits”")
    assertNotContains(page, "KPI “Visits missed” changed")
