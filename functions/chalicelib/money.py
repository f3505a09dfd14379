"""Euros written the French way, from integer cents or Decimal (never floats).

« 1 234,56 € »: a no-break space groups the thousands and comes before the sign, so
an amount never breaks across two lines. The function renders amounts in family pages
and cannot carry Babel's locale data (cold start); the tests check this against Babel.
U+00A0 rather than Babel's narrow U+202F: the PDF core fonts (WinAnsi) have only it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

NBSP = "\u00a0"
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


def euros(amount: Decimal | int | str, *, sign: bool = True) -> str:
    """« 1 234,56 € » (« -12,00 € » for a negative amount); without the sign: « 1 234,56 »."""
    value = to_decimal(amount)
    negative = value < 0
    whole, fraction = f"{abs(value):.2f}".split(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = ("-" if negative else "") + NBSP.join(groups) + "," + fraction
    return text + NBSP + "€" if sign else text
