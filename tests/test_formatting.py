"""French words for dates, months and times (chalicelib.formatting, on Babel): the very
texts parents and staff have always read."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from chalicelib.config import WEEKDAY_NAMES
from chalicelib.formatting import (
    euros,
    french_day,
    french_moment,
    french_month,
    hours,
    of_month,
    short_date,
    time_of_day,
    weekday_name,
)
from hypothesis import given
from hypothesis import strategies as st

# The words the pages wrote by hand before Babel: every day must read the same.
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
PARIS = ZoneInfo("Europe/Paris")


def test_the_guide_s_days_months_and_times():
    assert french_day(date(2014, 12, 8)) == "lundi 8 décembre 2014"
    assert french_day(date(2014, 12, 1)) == "lundi 1er décembre 2014"
    assert french_day(datetime(2014, 12, 1, 23, 59, tzinfo=PARIS)) == "lundi 1er décembre 2014"
    assert french_day(date(2014, 12, 8), with_weekday=False) == "8 décembre 2014"
    assert french_month(date(2015, 1, 1)) == "janvier 2015"
    assert of_month(date(2014, 10, 1)) == "d'octobre 2014" and of_month(date(2017, 6, 1)) == "de juin 2017"
    assert hours(time(23, 59)) == "23 h 59" and hours(datetime(2014, 11, 28, 8, 5, tzinfo=PARIS)) == "08 h 05"
    assert french_moment(datetime(2014, 12, 1, 23, 59, tzinfo=PARIS)) == "lundi 1er décembre 2014 à 23 h 59"
    assert time_of_day(time(18, 0)) == "18 h" and time_of_day(time(8, 30)) == "8 h 30"
    assert short_date(date(2014, 11, 3)) == "03/11/2014" and short_date("2014-11-03T10:00:00+00:00") == "03/11/2014"
    assert short_date(None) == "" and short_date("") == ""


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31)))
def test_every_day_reads_as_the_hand_written_tables_did(day):
    number = "1er" if day.day == 1 else str(day.day)
    assert french_day(day) == f"{WEEKDAY_NAMES[day.weekday()]} {number} {MONTHS[day.month - 1]} {day.year}"
    assert french_month(day) == f"{MONTHS[day.month - 1]} {day.year}"
    assert short_date(day) == day.strftime("%d/%m/%Y")


def test_the_words_commune_toml_accepts_are_the_words_parents_read():
    monday = date(2014, 12, 1)
    assert tuple(weekday_name(monday + timedelta(days=n)) for n in range(7)) == WEEKDAY_NAMES
    assert tuple(weekday_name(n) for n in range(7)) == WEEKDAY_NAMES


def test_no_negative_zero_and_always_the_no_break_space():
    assert euros(Decimal("-0.001")) == "0,00\u00a0€"
    assert euros(Decimal("-1234.5")) == "-1\u00a0234,50\u00a0€"
    assert "\u202f" not in euros(Decimal("1234567.89")) + euros(Decimal("1234567.89"), sign=False)
