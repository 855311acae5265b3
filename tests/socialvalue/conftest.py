"""Fixtures shared by the social value tests: a contract with a commitment to
the catalogue's apprenticeship weeks measure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from procure.models import Contract
from socialvalue.models import Commitment, Measure


@pytest.fixture
def contract(council, make_supplier):
    return Contract.objects.create(
        council=council,
        reference="LBC-1",
        title="Home care",
        supplier=make_supplier(name="Chiltern Care Ltd"),
        value=Decimal("100000"),
        start_date=date(2025, 1, 1),
        end_date=date(2027, 12, 31),
    )


@pytest.fixture
def other_contract(other_council, make_supplier):
    return Contract.objects.create(
        council=other_council,
        reference="KMBC-1",
        title="Grounds maintenance",
        supplier=make_supplier(name="Knowsley Grounds Ltd"),
        start_date=date(2025, 1, 1),
    )


@pytest.fixture
def measure(db) -> Measure:
    return Measure.objects.get(code="LS-JOBS-03")  # apprenticeship weeks


@pytest.fixture
def commitment(contract, measure) -> Commitment:
    return Commitment.objects.create(
        contract=contract,
        measure=measure,
        quantity=Decimal("52"),
        period_start=date(2025, 4, 1),
        period_end=date(2026, 3, 31),
    )
