"""Money and number fields take amounts as people write them ("£1,250,000",
"1250000.50", " 1,000 ") and refuse scientific notation: an officer typing "1e6"
has slipped, and it was saved as £1,000,000 (QA)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from councils.periods import FinancialYear
from procure.forms import ContractForm, OffContractForm, PoundsField
from procure.models import Contract

# What Decimal reads but no officer means: powers of ten, Python's digit
# separators, and the special values.
SLIPS = ["1e6", "1E6", "1.25e6", "2e-3", " 1e6 ", "1_000", "NaN", "Infinity"]


@pytest.fixture
def supplier(council, make_supplier, make_line):
    supplier = make_supplier(name="Wardown Care Ltd", company_number="01234567")
    make_line(council, supplier=supplier, payment_date=date(2025, 5, 1))
    return supplier


def _data(supplier, **changes) -> dict:
    data = {
        "reference": "LBC-9",
        "title": "Grounds maintenance",
        "supplier": supplier.pk,
        "status": "active",
        "value": "120000.00",
        "start_date": "2025-04-01",
        "end_date": "2028-03-31",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("typed", SLIPS)
@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("value", "Enter a whole-life value in pounds, like 120000 or 120000.50."),
        ("annual_value", "Enter an annual value in pounds, like 120000 or 120000.50."),
        (
            "irrecoverable_vat",
            "Enter the irrecoverable VAT in pounds, like 120000 or 120000.50.",
        ),
        (
            "social_value_weighting",
            "Enter the social value weighting as a percentage, like 20.",
        ),
    ],
)
def test_a_contract_refuses_scientific_notation(
    council, supplier, field, message, typed
):
    form = ContractForm(_data(supplier, **{field: typed}), council=council)
    assert not form.is_valid()
    assert form.errors[field] == [message]


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("£1,250,000", Decimal("1250000")),
        ("1250000.50", Decimal("1250000.50")),
        (" 1,000 ", Decimal("1000")),
        ("1000000", Decimal("1000000")),
    ],
)
def test_a_contract_value_is_taken_as_people_write_it(council, supplier, typed, value):
    form = ContractForm(_data(supplier, value=typed), council=council)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["value"] == value


def test_an_officer_typing_1e6_saves_nothing_and_is_told_why(
    client, council_officer, council, supplier
):
    """Through the page, as QA found it: nothing saved, the message shown."""
    client.force_login(council_officer)
    url = reverse("procure:contract-new", args=[council.slug])
    response = client.post(url, _data(supplier, value="1e6"))
    assert response.status_code == 200
    assert not Contract.objects.filter(reference="LBC-9").exists()
    assert "Enter a whole-life value in pounds, like 120000 or 120000.50." in (
        response.content.decode()
    )


@pytest.mark.parametrize("typed", SLIPS)
def test_a_suppliers_turnover_refuses_scientific_notation(db, typed):
    from procure.forms import SupplierForm

    form = SupplierForm(
        {"name": "Acme Ltd", "organisation_type": "unknown", "turnover": typed}
    )
    assert not form.is_valid()
    assert form.errors["turnover"] == [
        "Enter the turnover in pounds, like 120000 or 120000.50."
    ]


@pytest.mark.parametrize("typed", SLIPS)
def test_the_off_contract_amount_refuses_scientific_notation(typed):
    form = OffContractForm(
        {"year": "2025", "threshold": "custom", "amount": typed},
        years=[FinancialYear(2025)],
    )
    assert not form.is_valid()
    assert form.errors["amount"] == ["Enter the amount in pounds, like 10000."]


def test_the_off_contract_amount_takes_commas():
    form = OffContractForm(
        {"year": "2025", "threshold": "custom", "amount": "£25,000"},
        years=[FinancialYear(2025)],
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["amount"] == Decimal("25000")


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("£1,250,000", Decimal("1250000")),
        ("1250000.50", Decimal("1250000.50")),
        (" 1,000 ", Decimal("1000")),
        ("-£689.70", Decimal("-689.70")),
        ("0.5", Decimal("0.5")),
        ("", None),
    ],
)
def test_pounds_are_read_as_written(typed, value):
    assert PoundsField(required=False).clean(typed) == value


@pytest.mark.parametrize("typed", [*SLIPS, "1,2,3", "£-5", "twelve"])
def test_pounds_refuse_what_is_not_an_amount(typed):
    field = PoundsField(error_messages={"invalid": "Enter it in pounds."})
    with pytest.raises(ValidationError) as refused:
        field.clean(typed)
    assert refused.value.messages == ["Enter it in pounds."]


def test_a_number_takes_commas_but_not_pounds_or_powers_of_ten():
    from procure.forms import NumberField

    field = NumberField(required=False)
    assert field.clean("1,040") == Decimal("1040")
    assert field.clean("2.5") == Decimal("2.5")
    for typed in ("1e3", "£5"):
        with pytest.raises(ValidationError, match="Enter a number"):
            field.clean(typed)


def test_number_fields_are_text_boxes(council, supplier):
    """A number box sends "1,000" as nothing, and lets "1e6" through."""
    form = ContractForm(council=council)
    for name in ("value", "social_value_weighting"):
        html = str(form[name])
        assert 'type="text"' in html and 'inputmode="decimal"' in html
