"""Money and share formatting in UK style: £1,234.56, −£689.70, £48.2m, 41.3%."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template

register = template.Library()

MINUS = "\u2212"


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


@register.filter
def gbp(value) -> str:
    """£1,234.56 to the penny; negatives with a real minus sign."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = MINUS if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"


@register.filter
def gbp_short(value) -> str:
    """£48.2m, £310k, £950: for tiles, where pennies would be noise."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    sign = MINUS if amount < 0 else ""
    amount = abs(amount)
    for size, suffix in ((Decimal(10**9), "bn"), (Decimal(10**6), "m")):
        if amount >= size:
            return f"{sign}£{amount / size:,.1f}{suffix}"
    if amount >= 10_000:
        return f"{sign}£{amount / 1000:,.0f}k"
    return f"{sign}£{amount:,.0f}"


@register.filter
def pct(value) -> str:
    share = _decimal(value)
    if share is None:
        return "—"
    return f"{share.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


@register.filter
def money_cell(value) -> str:
    """A table cell: amounts (Decimal) as money to the penny, anything else as is."""
    if isinstance(value, Decimal):
        return gbp(value)
    return "" if value is None else str(value)
