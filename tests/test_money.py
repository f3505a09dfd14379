"""Euros in French everywhere: « 1 234,56 € », never floats."""

from decimal import Decimal

import pytest
from babel.numbers import format_currency
from chalicelib.formatting import euros
from chalicelib.money import cents, from_cents, to_decimal
from hypothesis import given
from hypothesis import strategies as st


def test_thousands_and_cents_are_written_the_french_way():
    assert euros(Decimal("1234.56")) == "1\u00a0234,56\u00a0€"
    assert euros(0) == "0,00\u00a0€"
    assert euros("-12") == "-12,00\u00a0€"
    assert euros(Decimal("1234567.5"), sign=False) == "1\u00a0234\u00a0567,50"


def test_floats_are_refused():
    with pytest.raises(TypeError):
        euros(1.5)


@given(st.integers(min_value=-10**9, max_value=10**9))
def test_same_text_as_babel_apart_from_the_space_characters(value):
    amount = from_cents(value)
    babel = format_currency(amount, "EUR", locale="fr_FR").replace("\u202f", "\u00a0")
    # Babel writes a negative amount with the minus sign U+002D too.
    assert euros(amount) == babel
    assert cents(amount) == value
    assert to_decimal(amount) == amount
