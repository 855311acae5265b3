"""Procurement officers' QA on social value: quantities and values typed as
"1e6", a real £0 shown as if missing, and delivery beyond the commitment saved
with no remark."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from procure.models import Contract
from socialvalue.forms import ProxyValueForm, TargetForm
from socialvalue.models import Commitment, DeliveryReturn, Measure, ProxyValue
from tests.socialvalue.test_social_value import (
    _commitment_form,
    _return,
    _return_form,
)

SLIPS = ["1e6", "1E6", "1e1", "5e-1", "1_000", "NaN"]


def _url(name: str, council, *args) -> str:
    return reverse(f"socialvalue:{name}", args=[council.slug, *args])


# ------------------------------------------------- 1. no scientific notation


@pytest.mark.parametrize("typed", SLIPS)
def test_a_quantity_in_scientific_notation_is_refused(
    contract, measure, commitment, typed
):
    message = ["Enter a quantity as a number, like 12 or 2.5."]
    committed = _commitment_form(contract, measure, quantity=typed)
    assert not committed.is_valid()
    assert committed.errors["quantity"] == message
    delivered = _return_form(commitment, quantity=typed)
    assert not delivered.is_valid()
    assert delivered.errors["quantity"] == message


@pytest.mark.parametrize("typed", SLIPS)
def test_a_proxy_value_or_a_share_in_scientific_notation_is_refused(
    council, measure, typed
):
    proxy = ProxyValueForm(
        {"measure": measure.pk, "year": "2025/26", "value": typed, "source": "TOMs"},
        council=council,
    )
    assert not proxy.is_valid()
    assert proxy.errors["value"] == [
        "Enter the value per unit as a number, like 14.85."
    ]
    target = TargetForm(
        {
            "metric": "local",
            "baseline_year": "2023/24",
            "baseline_share": typed,
            "target_year": "2025/26",
            "target_share": "70",
        },
        council=council,
    )
    assert not target.is_valid()
    assert target.errors["baseline_share"] == [
        "Enter a percentage between 0 and 100, like 62.5."
    ]


def test_quantities_and_values_are_taken_as_people_write_them(
    council, contract, measure, commitment
):
    committed = _commitment_form(
        contract,
        measure,
        quantity=" 1,040 ",
        period_start="2026-04-01",
        period_end="2027-03-31",
    )
    assert committed.is_valid(), committed.errors
    assert committed.cleaned_data["quantity"] == Decimal("1040")
    delivered = _return_form(commitment, quantity="13")
    assert delivered.is_valid(), delivered.errors
    assert delivered.cleaned_data["quantity"] == Decimal("13")
    proxy = ProxyValueForm(
        {"measure": measure.pk, "year": "2025/26", "value": "£1,250.50", "source": "T"},
        council=council,
    )
    assert proxy.is_valid(), proxy.errors
    assert proxy.cleaned_data["value"] == Decimal("1250.50")


def test_an_officer_typing_1e6_records_no_return(
    client, council_officer, council, commitment
):
    client.force_login(council_officer)
    response = client.post(
        _url("return-new", council, commitment.pk),
        {
            "quantity": "1e6",
            "period_start": "2025-04-01",
            "period_end": "2025-06-30",
            "evidence_note": "Timesheets",
            "confirmed": "on",
        },
    )
    assert response.status_code == 200
    assertContains(response, "Enter a quantity as a number, like 12 or 2.5.")
    assert not DeliveryReturn.objects.exists()
    # The box is a text box: a number box sends "1,040" as nothing.
    assertContains(response, 'inputmode="decimal"')


# ------------------------------------------------- 2. a real £0 is £0


def _proxy(council, of: Measure, year=2025, value="100"):
    return ProxyValue.objects.create(
        council=council,
        measure=of,
        year=year,
        value=Decimal(value),
        source="Council's own calculation",
    )


def _proxy_cell(response, code: str) -> str:
    """The proxy value cell of the totals table's row for a measure."""
    html = response.content.decode()
    row = re.search(rf"<th scope=\"row\"[^>]*>{code}.*?</tr>", html, re.S)
    assert row, f"no row for {code}"
    cell = re.search(r'data-label="Proxy value[^"]*"[^>]*>(.*?)<div', row[0], re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", cell[1]).split())


def test_nothing_delivered_against_a_valued_commitment_is_worth_0_not_missing(
    client, viewer, council, contract, commitment
):
    """QA: "— delivered of £5,200.00 committed", as if the value were missing."""
    _proxy(council, commitment.measure)
    client.force_login(viewer)
    page = client.get(_url("contract", council, contract.pk))
    assert _proxy_cell(page, "LS-JOBS-03") == "£0.00 delivered of £5,200.00 committed"
    totals = client.get(_url("totals", council))
    assert _proxy_cell(totals, "LS-JOBS-03") == (
        "£0.00 delivered of £5,200.00 committed"
    )
    # The theme's total and the tile are £0 too, valued at the council's values.
    assertContains(totals, "<strong>£0.00</strong> delivered</td>", html=False)
    assertContains(totals, "<dd>£0</dd>")
    assertNotContains(totals, "no proxy values held")
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(_url("totals-csv", council)).content.decode("utf-8-sig")
            )
        )
    )
    assert rows[0]["Proxy value delivered (£)"] == "0.00"


def test_returns_of_0_in_a_year_with_no_value_are_still_worth_0(
    client, viewer, council, contract, commitment
):
    """Nothing delivered is £0 whatever the value for the year."""
    _proxy(council, commitment.measure)  # 2025/26: the commitment's year
    later = Commitment.objects.create(
        contract=contract,
        measure=commitment.measure,
        quantity=Decimal("10"),
        period_start=date(2026, 4, 1),
        period_end=date(2026, 6, 30),
    )
    _return(later, date(2026, 4, 1), date(2026, 6, 30), quantity="0")
    client.force_login(viewer)
    page = client.get(_url("contract", council, contract.pk))
    assert _proxy_cell(page, "LS-JOBS-03").startswith("£0.00 delivered of £5,200.00")


def test_a_value_not_known_is_still_shown_as_missing(
    client, viewer, council, contract, commitment
):
    """Returns delivered in a year with no value: not valued, not £0."""
    _proxy(council, commitment.measure, year=2024)  # no value for 2025/26
    _return(commitment, date(2025, 4, 1), date(2025, 6, 30), quantity="13")
    client.force_login(viewer)
    page = client.get(_url("contract", council, contract.pk))
    assert _proxy_cell(page, "LS-JOBS-03") == "Not valued"
    # A valued commitment whose returns fall in a year with no value.
    later = Commitment.objects.create(
        contract=contract,
        measure=commitment.measure,
        quantity=Decimal("10"),
        period_start=date(2024, 4, 1),
        period_end=date(2025, 3, 31),
    )
    assert later.pk
    page = client.get(_url("contract", council, contract.pk))
    assert _proxy_cell(page, "LS-JOBS-03") == "— delivered of £1,000.00 committed"
    totals = client.get(_url("totals", council))
    assertContains(totals, "no proxy values held")


# ------------------------------------------------- 3. over-delivery noticed


def _post_return(client, council, to: Commitment, quantity, **data):
    fields = {
        "quantity": quantity,
        "period_start": "2025-04-01",
        "period_end": "2025-06-30",
        "evidence_note": "Apprentice timesheets",
        "confirmed": "on",
    }
    fields.update(data)
    return client.post(_url("return-new", council, to.pk), fields, follow=True)


CHECK = (
    " If that is right, there is nothing to do; if not, check the returns' "
    "quantities for a typing slip, like an extra 0."
)


def _notices(response) -> list[str]:
    return [
        str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"
    ]


def test_a_return_taking_delivery_past_the_commitment_is_saved_with_a_notice(
    client, council_officer, council, contract, commitment
):
    """QA: 520 weeks typed for 52 (an extra 0) was saved with no remark. Far
    past the commitment, the form now asks first (test_sv_fix_returns); a
    little past it, the return is saved with this notice."""
    _return(commitment, date(2025, 4, 1), date(2025, 6, 30), quantity="13")
    client.force_login(council_officer)
    response = _post_return(
        client,
        council,
        commitment,
        "100",
        period_start="2025-07-01",
        period_end="2025-09-30",
    )
    assert response.status_code == 200
    assert DeliveryReturn.objects.filter(commitment=commitment).count() == 2
    text = (
        "Delivery now exceeds the commitment by 61 weeks: 113 weeks of LS-JOBS-03 "
        "delivered against 52 weeks committed on this contract."
    )
    # A notice after saving, and on the contract's page for as long as it is so.
    assertContains(response, "Recorded the return")
    assert _notices(response) == [f"{text}{CHECK}"]
    assertContains(response, text, count=2)  # the notice, and the commitment's
    assert f'id="over-delivery-{commitment.pk}">{text}' in response.content.decode()
    assertContains(response, "govuk-notification-banner")
    assertNotContains(response, "There is a problem")


def test_the_notice_counts_every_commitment_to_the_measure_on_the_contract(
    client, council_officer, council, contract, commitment
):
    """Two commitments to one measure: 60 delivered of 78 committed is not over."""
    Commitment.objects.create(
        contract=contract,
        measure=commitment.measure,
        quantity=Decimal("26"),
        period_start=date(2026, 4, 1),
        period_end=date(2027, 3, 31),
    )
    client.force_login(council_officer)
    response = _post_return(client, council, commitment, "60")
    assert DeliveryReturn.objects.filter(commitment=commitment).count() == 1
    assert _notices(response) == []
    assertNotContains(response, "exceeds the commitment")


def test_delivery_up_to_the_commitment_has_no_notice(
    client, council_officer, council, commitment
):
    client.force_login(council_officer)
    response = _post_return(client, council, commitment, "52")
    assert DeliveryReturn.objects.get().quantity == Decimal("52")
    assert _notices(response) == []
    assertNotContains(response, "exceeds the commitment")


def test_correcting_a_return_past_the_commitment_gives_the_notice(
    client, council_officer, council, commitment
):
    delivery = _return(commitment, date(2025, 4, 1), date(2025, 6, 30), quantity="13")
    client.force_login(council_officer)
    page = client.get(_url("return-edit", council, delivery.pk))
    data = {
        name: value
        for name, value in page.context["form"].initial.items()
        if value is not None
    }
    data.update(
        {
            "quantity": "130",
            "period_start": "2025-04-01",
            "period_end": "2025-06-30",
            "confirmed": "on",
            "seen": page.context["form"]["seen"].value(),
        }
    )
    response = client.post(_url("return-edit", council, delivery.pk), data, follow=True)
    delivery.refresh_from_db()
    assert delivery.quantity == Decimal("130")
    assert _notices(response) == [
        "Delivery now exceeds the commitment by 78 weeks: "
        "130 weeks of LS-JOBS-03 delivered against 52 weeks committed on this "
        "contract. If that is right, there is nothing to do; if not, check the "
        "returns' quantities for a typing slip, like an extra 0."
    ]


def test_the_totals_name_the_contracts_delivering_beyond_their_commitment(
    client, viewer, council, contract, commitment, make_supplier
):
    """QA: an extra 0 typed on one contract showed on the council's totals (what a
    cabinet paper quotes) only as a share of 464%, with nothing to say where."""
    other = Contract.objects.create(
        council=council,
        reference="LBC-2",
        title="Meals",
        supplier=make_supplier(name="Beacon Meals Ltd"),
        start_date=date(2025, 1, 1),
        end_date=date(2027, 12, 31),
    )
    within = Commitment.objects.create(
        contract=other,
        measure=commitment.measure,
        quantity=Decimal("100"),
        period_start=date(2025, 4, 1),
        period_end=date(2026, 3, 31),
    )
    _return(commitment, date(2025, 4, 1), date(2025, 6, 30), quantity="520")
    _return(within, date(2025, 4, 1), date(2025, 6, 30), quantity="40")
    client.force_login(viewer)
    page = client.get(_url("totals", council)).content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "delivery beyond the commitment on LBC-1 : check its returns" in text
    assert "LBC-2 :" not in text
    link = reverse("socialvalue:contract", args=[council.slug, contract.pk])
    assert f'href="{link}">LBC-1</a>' in page
