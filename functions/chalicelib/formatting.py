"""French words for dates, months, times and euros, as parents and staff read them.

One module for the function's pages and messages, the billing rules and the tooling
(the public site's theme, invoice PDFs and mails, staff commands), on Babel's CLDR
data for fr_FR, never on the system locale (Lambda and this machine have no fr_FR).

Babel is imported inside the functions, never at module level: `import app` (the
function's cold start) does not load it; the first text formatted does, once per
process. Results are cached: a family's pages name the same few days and amounts
hundreds of times.

What Babel writes, and where this module writes something else on purpose:
- « lundi 8 décembre 2014 »: Babel's « EEEE d MMMM y », with « 1er » for the first of
  the month (« lundi 1er décembre 2014 »), as the municipal guide writes it;
- « janvier 2015 »: Babel's « MMMM y »;
- « 23 h 59 »: the French typographic hour, « HH 'h' mm », not CLDR's « 23:59 »;
- « 03/11/2014 »: Babel's « dd/MM/y »;
- « 1 234,56 € »: Babel's currency format for EUR, but with the no-break space U+00A0
  where Babel groups thousands with the narrow U+202F: the PDF core fonts (WinAnsi)
  have only U+00A0, and pages and mails have always written it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache

from chalicelib.money import to_decimal

LOCALE = "fr_FR"
NBSP = "\u00a0"
_NARROW_NBSP = "\u202f"


def _day_of(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


# --- dates and months -------------------------------------------------------------------

def french_day(value: date | datetime, with_weekday: bool = True) -> str:
    """« lundi 8 décembre 2014 », « lundi 1er décembre 2014 »; without the weekday:
    « 8 décembre 2014 » (also the public site's `date_fr` filter)."""
    return _french_day(_day_of(value), with_weekday)


@lru_cache(maxsize=4096)
def _french_day(day: date, with_weekday: bool) -> str:
    from babel.dates import format_date

    pattern = ("EEEE " if with_weekday else "") + ("'1er'" if day.day == 1 else "d") + " MMMM y"
    return format_date(day, pattern, locale=LOCALE)


@lru_cache(maxsize=512)
def french_month(day: date) -> str:
    """« janvier 2015 »: `day`'s month and year."""
    from babel.dates import format_date

    return format_date(day, "MMMM y", locale=LOCALE)


def of_month(day: date) -> str:
    """« de juin 2017 », « d'octobre 2014 » (French elides before a vowel)."""
    name = french_month(day)
    return f"d'{name}" if name[0] in "aeiouy" else f"de {name}"


@lru_cache(maxsize=1)
def _weekday_names() -> tuple[str, ...]:
    from babel.dates import get_day_names

    names = get_day_names("wide", locale=LOCALE)
    return tuple(str(names[index]) for index in range(7))  # 0: Monday, as date.weekday()


def weekday_name(day: date | int) -> str:
    """« mardi »: the weekday of `day`, or of its number (0: Monday)."""
    return _weekday_names()[day if isinstance(day, int) else day.weekday()]


def short_date(value: date | datetime | str | None) -> str:
    """« 03/11/2014 », from a date or an ISO text; "" when there is none."""
    if not value:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return _short_date(_day_of(day))


@lru_cache(maxsize=4096)
def _short_date(day: date) -> str:
    from babel.dates import format_date

    return format_date(day, "dd/MM/y", locale=LOCALE)


# --- times -----------------------------------------------------------------------------

def hours(moment: datetime | time) -> str:
    """« 23 h 59 »: the wall time of `moment` as it is (no time zone change)."""
    return _hours(moment.hour, moment.minute)


@lru_cache(maxsize=1440)
def _hours(hour: int, minute: int) -> str:
    from babel.dates import format_time

    return format_time(time(hour, minute), "HH 'h' mm", locale=LOCALE)


def time_of_day(value: datetime | time) -> str:
    """« 23 h 59 », « 18 h », « 8 h 30 »: the way the public pages write a time of day."""
    from babel.dates import format_time

    return format_time(time(value.hour, value.minute), "H 'h'" if value.minute == 0 else "H 'h' mm", locale=LOCALE)


def french_moment(moment: datetime) -> str:
    """« lundi 1er décembre 2014 à 23 h 59 »: the day and wall time of `moment` as it is."""
    return f"{french_day(moment)} à {hours(moment)}"


# --- euros ------------------------------------------------------------------------------

def euros(amount: Decimal | int | str, *, sign: bool = True) -> str:
    """« 1 234,56 € » (« -12,00 € » for a negative amount); without the sign: « 1 234,56 ».
    Amounts are rounded to the cent first (chalicelib.money); floats are refused."""
    value = to_decimal(amount)
    return _euros(abs(value) if value == 0 else value, sign)  # never « -0,00 € »


@lru_cache(maxsize=4096)
def _euros(value: Decimal, sign: bool) -> str:
    from babel.numbers import format_currency, format_decimal

    if sign:
        text = format_currency(value, "EUR", locale=LOCALE)
    else:
        text = format_decimal(value, format="#,##0.00", locale=LOCALE)
    return text.replace(_NARROW_NBSP, NBSP)
