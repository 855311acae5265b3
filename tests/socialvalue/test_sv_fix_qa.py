"""QA on social value: money quantities typed as "£250,000", shares as "50%",
a return far past its commitment saved without asking, shares of 25000025.0%,
delivery returns off the side of a phone, and garbled or mismatched wording."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from socialvalue import models as socialvalue_models
from socialvalue.forms import CommitmentForm, DeliveryReturnForm, TargetForm
from socialvalue.models import Commitment, DeliveryReturn, Measure


def _url(name: str, council, *args) -> str:
    return reverse(f"socialvalue:{name}", args=[council.slug, *args])


@pytest.fixture
def money_measure(db) -> Measure:
    return Measure.objects.get(code="LS-ECON-01")  # supply chain spend, in £


@pytest.fixture
def count_measure(db) -> Measure:
    return Measure.objects.get(code="LS-JOBS-04")  # apprenticeships started


@pytest.fixture
def fte_measure(db) -> Measure:
    return Measure.objects.get(code="LS-JOBS-01")  # local residents employed, FTE


def _commit(contract, measure, quantity="4") -> Commitment:
    return Commitment.objects.create(
        contract=contract,
        measure=measure,
        quantity=Decimal(quantity),
        period_start=date(2025, 4, 1),
        period_end=date(2026, 3, 31),
    )


def _commitment_form(contract, measure, quantity, instance=None) -> CommitmentForm:
    data = {
        "measure": measure.pk,
        "quantity": quantity,
        "period_start": "2025-04-01",
        "period_end": "2026-03-31",
        "note": "",
    }
    return CommitmentForm(data, contract=contract, instance=instance)


def _return_data(quantity, **more) -> dict:
    return {
        "quantity": quantity,
        "period_start": "2025-04-01",
        "period_end": "2025-06-30",
        "evidence_note": "Register of apprentices",
        "confirmed": "on",
        **more,
    }


# -------------------------------------- 1. pounds and commas in quantities


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("£250,000", Decimal("250000")),
        ("£1,250,000.50", Decimal("1250000.50")),
        (" 250,000 ", Decimal("250000")),
        ("250000", Decimal("250000")),
    ],
)
def test_a_money_commitment_takes_pounds_as_people_write_them(
    contract, money_measure, typed, kept
):
    form = _commitment_form(contract, money_measure, typed)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["quantity"] == kept


def test_an_officer_commits_250000_pounds(client, council_officer, council, contract):
    """QA: "£250,000" for LS-ECON-01 was refused."""
    measure = Measure.objects.get(code="LS-ECON-01")
    client.force_login(council_officer)
    page = client.get(_url("commitment-new", council, contract.pk))
    assertContains(page, "In the unit shown after the measure")
    response = client.post(
        _url("commitment-new", council, contract.pk),
        {
            "measure": measure.pk,
            "quantity": "£250,000",
            "period_start": "2025-04-01",
            "period_end": "2026-03-31",
            "note": "",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assert Commitment.objects.get().quantity == Decimal("250000")


@pytest.mark.parametrize("typed", ["£1e6", "1e6", "NaN", "£NaN", "£1,2,3", "££5"])
def test_a_money_quantity_still_refuses_slips(contract, money_measure, typed):
    form = _commitment_form(contract, money_measure, typed)
    assert not form.is_valid()
    assert form.errors["quantity"] == [
        "Enter the quantity in pounds as a number, like £250,000 or 1250.50."
    ]
    money = _commit(contract, money_measure, "250000")
    delivered = DeliveryReturnForm(_return_data(typed), commitment=money)
    assert not delivered.is_valid()
    assert delivered.errors["quantity"] == [
        "Enter the quantity in pounds as a number, like £250,000 or 1250.50."
    ]


def test_a_money_return_takes_pounds(contract, money_measure):
    money = _commit(contract, money_measure, "250000")
    form = DeliveryReturnForm(_return_data("£62,500.50"), commitment=money)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["quantity"] == Decimal("62500.50")
    assert 'inputmode="decimal"' in str(form["quantity"])


def test_pounds_are_refused_for_a_measure_not_in_pounds(
    contract, count_measure, measure
):
    form = _commitment_form(contract, measure, "£52")
    assert not form.is_valid()
    assert form.errors["quantity"] == [
        "LS-JOBS-03 (Apprenticeship weeks on the contract) is counted in weeks, "
        "not pounds: enter the quantity without £."
    ]
    count = _commit(contract, count_measure)
    returned = DeliveryReturnForm(_return_data("£2"), commitment=count)
    assert not returned.is_valid()
    assert returned.errors["quantity"] == [
        "Enter a quantity as a number, like 12 or 2.5."
    ]


def test_counts_take_thousands_commas(contract, count_measure):
    form = _commitment_form(contract, count_measure, "1,200")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["quantity"] == Decimal("1200")
    count = _commit(contract, count_measure, "2000")
    returned = DeliveryReturnForm(_return_data("1,040"), commitment=count)
    assert returned.is_valid(), returned.errors
    assert returned.cleaned_data["quantity"] == Decimal("1040")


# ------------------------------------------------ 2. a share typed as "50%"


@pytest.mark.parametrize(
    ("typed", "kept"), [("50%", Decimal("50")), (" 62.5 % ", Decimal("62.5"))]
)
def test_a_target_share_takes_a_percent_sign(council, typed, kept):
    form = TargetForm(
        {
            "metric": "local",
            "baseline_year": "2023/24",
            "baseline_share": "25%",
            "target_year": "2025/26",
            "target_share": typed,
        },
        council=council,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["target_share"] == kept
    assert form.cleaned_data["baseline_share"] == Decimal("25")


@pytest.mark.parametrize("typed", ["50%%", "%50", "1e1%", "NaN%", "%"])
def test_a_target_share_still_refuses_slips(council, typed):
    form = TargetForm(
        {
            "metric": "local",
            "baseline_year": "2023/24",
            "baseline_share": "25",
            "target_year": "2025/26",
            "target_share": typed,
        },
        council=council,
    )
    assert not form.is_valid()
    assert "target_share" in form.errors


# --------------------------- 3. a return far past the commitment asks first


def test_a_return_far_past_the_commitment_asks_before_saving(
    client, council_officer, council, contract, count_measure
):
    """QA: 1,000,000 apprenticeships started against 4 committed was saved,
    and only then remarked on."""
    count = _commit(contract, count_measure)
    client.force_login(council_officer)
    url = _url("return-new", council, count.pk)
    page = client.get(url)
    assertNotContains(page, "Yes, this figure is right")  # not asked until needed
    response = client.post(url, _return_data("1,000,000"))
    assert response.status_code == 200
    assert not DeliveryReturn.objects.exists()
    assertContains(response, "There is a problem")
    assertContains(
        response,
        "Check the quantity delivered: with this return, delivery of LS-JOBS-04 "
        "(Apprenticeships started) on this contract would be 1,000,000 against 4 "
        "committed, about 250,000 times the commitment.",
    )
    assertContains(response, "Yes, this figure is right")
    form = response.context["form"]
    assert form["figure_asked"].value() == "1000000"
    assert not form["figure_checked"].value()  # not ticked for them

    # Ticked, for the figure asked about: saved, with the notice after saving.
    data = _return_data("1,000,000", figure_asked="1000000", figure_checked="on")
    saved = client.post(url, data, follow=True)
    assert DeliveryReturn.objects.get().quantity == Decimal("1000000")
    notices = [str(m) for m in get_messages(saved.wsgi_request)]
    assert any("exceeds the commitment by 999,996" in n for n in notices)


def test_a_tick_counts_only_for_the_figure_asked_about(
    client, council_officer, council, contract, count_measure
):
    count = _commit(contract, count_measure)
    client.force_login(council_officer)
    url = _url("return-new", council, count.pk)
    # Asked about 1,000,000, corrected to 100,000 with the box still ticked.
    data = _return_data("100,000", figure_asked="1000000", figure_checked="on")
    response = client.post(url, data)
    assert response.status_code == 200
    assert not DeliveryReturn.objects.exists()
    assert response.context["form"]["figure_asked"].value() == "100000"
    # A tick with no question asked is not enough either.
    response = client.post(url, _return_data("100", figure_checked="on"))
    assert not DeliveryReturn.objects.exists()
    assertContains(response, "about 25 times the commitment")  # 100 against 4


def test_a_little_over_is_saved_without_asking(contract, count_measure):
    count = _commit(contract, count_measure)  # 4: up to 12 is not asked about
    form = DeliveryReturnForm(_return_data("12"), commitment=count)
    assert form.is_valid(), form.errors
    assert not form.asks_to_check_figure
    form = DeliveryReturnForm(_return_data("13"), commitment=count)
    assert not form.is_valid()
    assert form.asks_to_check_figure
    assert list(form.errors) == ["figure_checked"]


def test_the_check_counts_every_return_and_commitment_to_the_measure(
    contract, count_measure
):
    count = _commit(contract, count_measure)
    later = Commitment.objects.create(
        contract=contract,
        measure=count_measure,
        quantity=Decimal("2"),
        period_start=date(2026, 4, 1),
        period_end=date(2027, 3, 31),
    )
    DeliveryReturn.objects.create(
        commitment=later,
        quantity=Decimal("10"),
        period_start=date(2026, 4, 1),
        period_end=date(2026, 6, 30),
        evidence_note="Register",
        confirmed=True,
    )
    # 6 committed: 10 already delivered, so 8 more makes 18, exactly 3 times.
    assert DeliveryReturnForm(_return_data("8"), commitment=count).is_valid()
    form = DeliveryReturnForm(_return_data("9"), commitment=count)
    assert not form.is_valid()
    assert "would be 19 against 6 committed" in form.errors["figure_checked"][0]


def test_correcting_a_return_downwards_is_not_asked_about(contract, count_measure):
    count = _commit(contract, count_measure)
    delivery = DeliveryReturn.objects.create(
        commitment=count,
        quantity=Decimal("100"),
        period_start=date(2025, 4, 1),
        period_end=date(2025, 6, 30),
        evidence_note="Register",
        confirmed=True,
    )
    lower = DeliveryReturnForm(_return_data("50"), instance=delivery, commitment=count)
    assert lower.is_valid(), lower.errors
    higher = DeliveryReturnForm(
        _return_data("150"), instance=delivery, commitment=count
    )
    assert not higher.is_valid()
    assert "would be 150 against 4 committed" in higher.errors["figure_checked"][0]


# ----------------------------------------- 4. shares far past 100%, readable


@pytest.mark.parametrize(
    ("share", "text"),
    [
        (None, "—"),
        (Decimal("47.5"), "47.5%"),
        (Decimal("0"), "0.0%"),
        (Decimal("999.9"), "999.9%"),
        (Decimal("1000"), "1,000.0%"),
        (Decimal("1000.1"), "over 1,000%"),
        (Decimal("25000025.0"), "over 1,000%"),
    ],
)
def test_a_share_delivered_is_written_readably(share, text):
    assert socialvalue_models.delivered_share_text(share) == text


def test_the_totals_and_contract_pages_cap_a_share_far_past_100(
    client, viewer, council, contract, count_measure
):
    """QA: the totals showed "25000025.0%", widening the table past the page."""
    count = _commit(contract, count_measure)
    DeliveryReturn.objects.create(
        commitment=count,
        quantity=Decimal("1000001"),
        period_start=date(2025, 4, 1),
        period_end=date(2025, 6, 30),
        evidence_note="Register",
        confirmed=True,
    )
    client.force_login(viewer)
    for page in (
        client.get(_url("totals", council)),
        client.get(_url("contract", council, contract.pk)),
    ):
        assertContains(page, "over 1,000%")
        assertNotContains(page, "25000025")
    # The CSV keeps the figure itself.
    assert "25000025.0" in client.get(_url("totals-csv", council)).content.decode()


# ------------------------------------------ 5. delivery returns as cards


def test_the_delivery_returns_become_cards_on_a_phone(
    client, council_officer, council, commitment
):
    DeliveryReturn.objects.create(
        commitment=commitment,
        quantity=Decimal("13"),
        period_start=date(2025, 4, 1),
        period_end=date(2025, 6, 30),
        evidence_note="Timesheets",
        confirmed=True,
    )
    client.force_login(council_officer)
    html = client.get(_url("contract", council, commitment.contract.pk))
    html = html.content.decode()
    table = re.search(
        r"<table[^>]*>\s*<caption[^>]*>Delivery returns.*?</table>", html, re.S
    )
    assert table, "no table of delivery returns"
    assert "ls-table-cards" in table[0].split(">")[0]
    for label in ("Delivered", "Evidence", "Entered"):
        assert f'data-label="{label}"' in table[0]
    assert (
        '<th scope="row" class="govuk-table__header">1 April 2025 to 30 June 2025'
        in (table[0])
    )


# ----------------------------------------------------------- 6. wording


def test_an_overlapping_return_of_a_count_names_it_plainly(contract, count_measure):
    """QA: "the return already recorded for 1 for 1 July 2025"."""
    count = _commit(contract, count_measure)
    DeliveryReturn.objects.create(
        commitment=count,
        quantity=Decimal("1"),
        period_start=date(2025, 7, 1),
        period_end=date(2025, 9, 30),
        evidence_note="Register",
        confirmed=True,
    )
    form = DeliveryReturnForm(
        _return_data("1", period_start="2025-09-01", period_end="2025-09-30"),
        commitment=count,
    )
    assert not form.is_valid()
    error = form.errors["period_start"][0]
    assert error.startswith(
        "This period overlaps the return already recorded for 1 July 2025 to "
        "30 September 2025 (1 delivered, entered by someone on "
    )
    assert " for 1 for " not in error


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        ("LS-JOBS-04", "How many: a whole number, like 4."),
        ("LS-JOBS-03", "In weeks."),
        ("LS-ECON-01", "In pounds, like £250,000."),
        ("LS-ENV-02", "In tCO2e (tonnes of carbon dioxide equivalent)."),
        ("LS-JOBS-01", "In FTE (full-time equivalent staff), pro rata to the"),
    ],
)
def test_the_return_form_says_the_unit_properly(contract, code, hint):
    """QA: the hint read "In number." for a count."""
    committed = _commit(contract, Measure.objects.get(code=code))
    help_text = DeliveryReturnForm(commitment=committed)["quantity"].help_text
    assert help_text.startswith(hint)
    assert "In number" not in help_text


def test_the_commitment_hint_uses_the_units_the_measures_are_labelled_with(
    contract, fte_measure
):
    """QA: the hint said "FTE-years" while the measure read "(FTE)"."""
    form = CommitmentForm(contract=contract)
    hint = form["quantity"].help_text
    assert "FTE-years" not in hint
    assert "FTE" in hint
    choices = [
        label for _, group in form.fields["measure"].choices[1:] for _, label in group
    ]
    assert f"{fte_measure.code} {fte_measure.name} (FTE)" in choices
    # Once a measure is chosen (or being changed), the hint is for its unit.
    chosen = _commitment_form(contract, fte_measure, "twelve")
    assert chosen["quantity"].help_text.startswith("In FTE (full-time equivalent")
    held = _commit(contract, fte_measure, "12")
    changing = CommitmentForm(contract=contract, instance=held)
    assert changing["quantity"].help_text.startswith("In FTE (full-time equivalent")


# ------------------------------- a measure that is no number (review: a 500)


@pytest.mark.parametrize("sent", ["²", "-1", "1.5", "99999999999999999999"])
def test_a_measure_that_is_no_whole_number_is_refused_plainly(
    client, council_officer, council, contract, sent
):
    """ "²".isdigit() is true, and the database refused it: a 500 (review)."""
    client.force_login(council_officer)
    response = client.post(
        _url("commitment-new", council, contract.pk),
        {
            "measure": sent,
            "quantity": "4",
            "period_start": "2025-04-01",
            "period_end": "2026-03-31",
            "note": "",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["measure"]
    assert not Commitment.objects.exists()
