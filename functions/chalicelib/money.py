"""Amounts of money: Decimal euros rounded to the cent, from integer cents or Decimal,
never floats. How an amount is written (« 1 234,56 € ») is chalicelib.formatting's."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_decimal(amount: Decimal | int | str) -> Decimal:
    """An amount in euros, rounded to the cent. Integers are euros, not cents; floats are refused."""
    if isinstance(amount, float):
        raise TypeError("no floats for money: use Decimal, int or str")
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def cents(amount: Decimal | int | str) -> int:
    """An amount in euros as integer cents."""
    return int(to_decimal(amount) * 100)


def from_cents(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(CENT)
