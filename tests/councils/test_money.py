from decimal import Decimal

import pytest

from councils.templatetags.money import gbp, gbp_short, pct


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234.5"), "£1,234.50"),
        (Decimal("-689.70"), "\u2212£689.70"),
        (Decimal("0.005"), "£0.01"),
        (None, "—"),
    ],
)
def test_money_shows_pounds_and_pence(value, shown):
    assert gbp(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("48210000"), "£48.2m"),
        (Decimal("1500000000"), "£1.5bn"),
        (Decimal("310400"), "£310k"),
        (Decimal("950"), "£950"),
        (Decimal("-2500000"), "\u2212£2.5m"),
    ],
)
def test_short_money_rounds_for_tiles(value, shown):
    assert gbp_short(value) == shown


def test_share_is_shown_to_one_decimal_place():
    assert pct(Decimal("41.25")) == "41.3%"
    assert pct(None) == "—"
