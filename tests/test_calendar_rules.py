"""Booking deadlines and the commune's calendar, as parents see them in the guide."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from chalicelib import calendar_rules, holiday_sources
from chalicelib.calendar_rules import (
    Closure,
    CommuneCalendar,
    booking_deadline,
    is_before_deadline,
)
from chalicelib.config import DeadlineRule, parse_commune
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import commune_toml

PARIS = ZoneInfo("Europe/Paris")
RULE = DeadlineRule(weekdays=5, time=time(23, 59))
WINTER = timedelta(hours=1)  # CET
SUMMER = timedelta(hours=2)  # CEST


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(n) for n in range((end - start).days + 1)]


@pytest.fixture(scope="module")
def calendar(commune):
    """The fixture commune's calendar (tests/commune.toml: zone C, closed on 10 November 2014)."""
    return CommuneCalendar(commune)


def variant(*services: dict, calendar: dict | None = None, zone: str | None = None):
    """The fixture commune with services added, keys of its [calendar] or its school zone
    changed, read back from its TOML."""
    def edit(data: dict) -> None:
        data["services"].extend(services)
        data["calendar"].update(calendar or {})
        if zone:
            data["commune"]["school_zone"] = zone

    return parse_commune(commune_toml(edit), "commune-test.toml")


# ------------------------------------------------------------------------------ deadlines


def test_the_guides_example_and_the_configured_rule(commune):
    rule = commune.deadline_rule(commune.service("GARDERIE_MATIN"))
    deadline = booking_deadline(date(2014, 12, 8), rule, commune.tz)
    assert deadline == paris(2014, 12, 1, 23, 59)
    assert deadline.strftime("%A %H:%M") == "Monday 23:59"
    assert deadline.utcoffset() == WINTER


def test_a_deadline_skips_the_weekend():
    # Wednesday 10 December: Tue 9, Mon 8, (weekend), Fri 5, Thu 4, Wed 3.
    assert booking_deadline(date(2014, 12, 10), RULE, PARIS) == paris(2014, 12, 3, 23, 59)
    # Saturday and Sunday are not counted for a Monday either: 5 weekdays back.
    assert booking_deadline(date(2014, 12, 15), RULE, PARIS) == paris(2014, 12, 8, 23, 59)


def test_public_holidays_and_closed_days_still_count_as_weekdays():
    # Tuesday 11 November 2014 (Armistice) and Monday 10 November (closed in commune.toml)
    # are counted: for Monday 17 November the deadline is Monday 10, not Friday 7.
    assert booking_deadline(date(2014, 11, 17), RULE, PARIS) == paris(2014, 11, 10, 23, 59)
    # The deadline may even fall on the public holiday itself.
    assert booking_deadline(date(2014, 11, 18), RULE, PARIS) == paris(2014, 11, 11, 23, 59)


def test_school_holidays_count_as_weekdays():
    # Monday 5 January 2015, first school day: the Christmas holidays (and New Year's Day)
    # are weekdays too: Fri 2, Thu 1, Wed 31, Tue 30, Mon 29 December.
    assert booking_deadline(date(2015, 1, 5), RULE, PARIS) == paris(2014, 12, 29, 23, 59)


@pytest.mark.parametrize(
    ("day", "expected_day", "offset", "utc_hour"),
    [
        # Spring forward, Sunday 30 March 2014: deadline before, day after the change.
        (date(2014, 4, 3), date(2014, 3, 27), WINTER, 22),
        # Deadline after the change.
        (date(2014, 4, 7), date(2014, 3, 31), SUMMER, 21),
        # Fall back, Sunday 26 October 2014.
        (date(2014, 10, 31), date(2014, 10, 24), SUMMER, 21),
        (date(2014, 11, 3), date(2014, 10, 27), WINTER, 22),
        # The week of the spring change in 2015 (Sunday 29 March).
        (date(2015, 4, 3), date(2015, 3, 27), WINTER, 22),
        (date(2015, 4, 7), date(2015, 3, 31), SUMMER, 21),
    ],
)
def test_daylight_saving_changes_do_not_move_the_deadline(day, expected_day, offset, utc_hour):
    deadline = booking_deadline(day, RULE, PARIS)
    assert (deadline.date(), deadline.hour, deadline.minute) == (expected_day, 23, 59)
    assert deadline.utcoffset() == offset
    assert deadline.astimezone(UTC).hour == utc_hour
    assert deadline.astimezone(UTC).minute == 59


def test_the_whole_last_minute_is_on_time():
    day = date(2014, 12, 8)
    assert is_before_deadline(paris(2014, 11, 28, 12, 0), day, RULE, PARIS)
    assert is_before_deadline(paris(2014, 12, 1, 23, 59, 0), day, RULE, PARIS)
    assert is_before_deadline(paris(2014, 12, 1, 23, 59, 59), day, RULE, PARIS)
    assert is_before_deadline(paris(2014, 12, 1, 23, 59, 59, 999999), day, RULE, PARIS)
    assert not is_before_deadline(paris(2014, 12, 2, 0, 0, 0), day, RULE, PARIS)
    assert not is_before_deadline(paris(2014, 12, 5, 9, 0), day, RULE, PARIS)


def test_now_in_utc_or_another_offset_is_compared_as_an_instant():
    day = date(2014, 12, 8)  # deadline Monday 1 December 23:59 Paris = 22:59 UTC
    assert is_before_deadline(datetime(2014, 12, 1, 22, 59, 59, tzinfo=UTC), day, RULE, PARIS)
    assert not is_before_deadline(datetime(2014, 12, 1, 23, 0, tzinfo=UTC), day, RULE, PARIS)
    # 23:30 UTC reads earlier than 23:59 on a clock, but it is already 00:30 in Paris.
    assert not is_before_deadline(datetime(2014, 12, 1, 23, 30, tzinfo=UTC), day, RULE, PARIS)
    # A parent abroad at UTC-5: 17:59 there is 23:59 in Paris.
    new_york = timezone(timedelta(hours=-5))
    assert is_before_deadline(datetime(2014, 12, 1, 17, 59, 30, tzinfo=new_york), day, RULE, PARIS)
    assert not is_before_deadline(datetime(2014, 12, 1, 18, 0, tzinfo=new_york), day, RULE, PARIS)


def test_the_last_minute_in_summer_time_is_measured_in_summer_time():
    day = date(2014, 11, 3)  # deadline Monday 27 October 23:59 CET = 22:59 UTC
    # 22:30 UTC is 23:30 in Paris after the change: still on time (with the summer
    # offset it would wrongly be late).
    assert is_before_deadline(datetime(2014, 10, 27, 22, 30, tzinfo=UTC), day, RULE, PARIS)
    assert not is_before_deadline(datetime(2014, 10, 27, 23, 0, tzinfo=UTC), day, RULE, PARIS)
    day = date(2014, 10, 31)  # deadline Friday 24 October 23:59 CEST = 21:59 UTC
    assert is_before_deadline(datetime(2014, 10, 24, 21, 59, 59, tzinfo=UTC), day, RULE, PARIS)
    assert not is_before_deadline(datetime(2014, 10, 24, 22, 0, tzinfo=UTC), day, RULE, PARIS)


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError):
        is_before_deadline(datetime(2014, 12, 1, 12, 0), date(2014, 12, 8), RULE, PARIS)


def test_another_deadline_setting_is_honoured():
    rule = DeadlineRule(weekdays=2, time=time(12, 0))
    # Monday 8 December: Fri 5 (1), Thu 4 (2), at noon.
    assert booking_deadline(date(2014, 12, 8), rule, PARIS) == paris(2014, 12, 4, 12, 0)
    assert is_before_deadline(paris(2014, 12, 4, 12, 0, 59), date(2014, 12, 8), rule, PARIS)
    assert not is_before_deadline(paris(2014, 12, 4, 12, 1), date(2014, 12, 8), rule, PARIS)


dates = st.dates(min_value=date(2014, 1, 1), max_value=date(2030, 12, 31))
rules = st.builds(
    DeadlineRule,
    weekdays=st.integers(min_value=1, max_value=10),
    time=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)


@settings(max_examples=150, deadline=None)
@given(day=dates, rule=rules)
def test_property_deadline_on_a_weekday_at_the_set_time_before_the_day(day, rule):
    deadline = booking_deadline(day, rule, PARIS)
    assert deadline.weekday() < 5
    assert (deadline.hour, deadline.minute) == (rule.time.hour, rule.time.minute)
    start_of_day = datetime.combine(day, time(0), tzinfo=PARIS)
    assert deadline.astimezone(UTC) < start_of_day.astimezone(UTC)
    # Exactly `weekdays` weekdays (at least one) from the deadline's day to the day before.
    counted = [d for d in days(deadline.date(), day - timedelta(1)) if d.weekday() < 5]
    assert len(counted) == max(rule.weekdays, 1)
    # The deadline minute is on time, the next one is late.
    assert is_before_deadline(deadline + timedelta(seconds=59), day, rule, PARIS)
    assert not is_before_deadline(
        (deadline.astimezone(UTC) + timedelta(minutes=1)), day, rule, PARIS
    )


@settings(max_examples=150, deadline=None)
@given(day=dates, later=st.integers(min_value=1, max_value=20), rule=rules)
def test_property_deadline_never_moves_back_as_the_day_moves_on(day, later, rule):
    first = booking_deadline(day, rule, PARIS)
    second = booking_deadline(day + timedelta(later), rule, PARIS)
    assert first.astimezone(UTC) <= second.astimezone(UTC)


# ------------------------------------------------------------------------------ closures


def test_christmas_is_a_public_holiday_named_in_french(calendar, commune):
    assert calendar.public_holiday(date(2014, 12, 25)) == "Noël"
    assert calendar.public_holiday(date(2014, 11, 11)) == "Armistice"
    assert calendar.public_holiday(date(2014, 12, 24)) is None
    # The public holiday wins over the school holidays it falls in.
    closure = calendar.closure(date(2014, 12, 25), commune.service("GARDERIE_MATIN"))
    assert closure == Closure("public_holiday", "Noël (jour férié)")


def test_public_holiday_names_stay_french_under_an_english_locale(monkeypatch, commune):
    # Lambda runs with LANG=en_US.UTF-8: the names must not follow the locale.
    monkeypatch.setenv("LANGUAGE", "en_US")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    holiday_sources.public_holidays.cache_clear()
    try:
        calendar = CommuneCalendar(commune)
        assert calendar.public_holiday(date(2015, 5, 1)) == "Fête du Travail"
        assert calendar.public_holiday(date(2015, 7, 14)) == "Fête nationale"
    finally:
        holiday_sources.public_holidays.cache_clear()


def test_christmas_holidays_2014_zone_c(calendar, commune):
    service = commune.service("GARDERIE_MATIN")
    assert calendar.school_holiday(date(2014, 12, 22)) == "Vacances de Noël"
    assert calendar.closure(date(2014, 12, 22), service) == Closure(
        "school_holiday", "Vacances de Noël"
    )
    # From Saturday 20 December to Sunday 4 January; school again on Monday 5 January.
    assert calendar.school_holiday(date(2014, 12, 19)) is None
    assert calendar.school_holiday(date(2014, 12, 20)) == "Vacances de Noël"
    assert calendar.school_holiday(date(2015, 1, 4)) == "Vacances de Noël"
    assert calendar.school_holiday(date(2015, 1, 5)) is None
    assert calendar.is_open(date(2014, 12, 19), service)
    assert not calendar.is_open(date(2014, 12, 22), service)


def test_a_saturday_in_school_time_is_weekend(calendar, commune):
    for code in ("GARDERIE_MATIN", "RESTAURATION"):
        closure = calendar.closure(date(2014, 12, 6), commune.service(code))
        assert closure == Closure("weekend", "Week-end")
    assert calendar.closure(date(2014, 12, 7), commune.service("GARDERIE_MATIN")).kind == "weekend"


def test_a_service_closed_on_wednesdays(calendar, commune):
    wednesday = date(2014, 12, 3)
    closure = calendar.closure(wednesday, commune.service("GARDERIE_SOIR"))
    assert closure == Closure("closed_weekday", "Service fermé le mercredi")
    # The morning daycare opens on Wednesdays.
    assert calendar.is_open(wednesday, commune.service("GARDERIE_MATIN"))


def test_a_commune_closed_day(calendar, commune):
    for service in commune.services:
        closure = calendar.closure(date(2014, 11, 10), service)
        assert closure == Closure("closed_day", "Fermeture exceptionnelle")
    assert calendar.is_open(date(2014, 11, 12), commune.service("GARDERIE_MATIN"))


def test_every_service_reopens_on_5_january_2015(calendar, commune):
    for service in commune.services:
        assert calendar.closure(date(2015, 1, 5), service) is None
        assert calendar.is_open(date(2015, 1, 5), service)


def test_december_2014_matches_the_guides_calendar(calendar, commune):
    matin = commune.service("GARDERIE_MATIN")
    december = calendar.opening_days(matin, date(2014, 12, 1), date(2014, 12, 31))
    expected = [d for d in days(date(2014, 12, 1), date(2014, 12, 19)) if d.weekday() < 5]
    assert december == expected
    assert len(december) == 15
    assert date(2014, 12, 5) in december  # the guide's booked Friday
    # From Saturday 20 December every day is marked: P (holidays), F on the 25th.
    marks = {
        d: calendar.closure(d, matin).kind for d in days(date(2014, 12, 20), date(2014, 12, 31))
    }
    assert marks.pop(date(2014, 12, 25)) == "public_holiday"
    assert set(marks.values()) == {"school_holiday"}
    # The evening daycare is also closed on Wednesdays.
    soir = calendar.opening_days(
        commune.service("GARDERIE_SOIR"), date(2014, 12, 1), date(2014, 12, 31)
    )
    assert soir == [d for d in expected if d.weekday() != 2]


def test_opening_days_bounds_are_inclusive(calendar, commune):
    matin = commune.service("GARDERIE_MATIN")
    assert calendar.opening_days(matin, date(2014, 12, 5), date(2014, 12, 5)) == [date(2014, 12, 5)]
    assert calendar.opening_days(matin, date(2014, 12, 5), date(2014, 12, 8)) == [
        date(2014, 12, 5),
        date(2014, 12, 8),
    ]
    assert calendar.opening_days(matin, date(2014, 12, 8), date(2014, 12, 5)) == []


LEISURE_CENTRE = {
    "code": "CENTRE_LOISIRS",
    "label": "CENTRE DE LOISIRS",
    "weekdays": ["lundi", "mardi", "mercredi", "jeudi", "vendredi"],
    "period": "holidays",
    "tariffs": {"A": "5.00", "B": "6.00", "C": "7.00", "D": "8.00", "E": "9.00"},
}


def test_commune_toml_overrides():
    commune = variant(LEISURE_CENTRE, calendar={
        "school_holidays": [{"name": "Pont de l'Ascension", "start": date(2015, 5, 15), "end": date(2015, 5, 17)},
                            {"start": date(2015, 6, 1), "end": date(2015, 6, 1)}],
        "school_days": [date(2014, 12, 22)],
        "extra_public_holidays": [date(2015, 6, 5)],
    })
    calendar = CommuneCalendar(commune)
    matin = commune.service("GARDERIE_MATIN")
    # An added period closes school-time services, with its own name.
    assert calendar.school_holiday(date(2015, 5, 15)) == "Pont de l'Ascension"
    assert calendar.closure(date(2015, 5, 15), matin) == Closure(
        "school_holiday", "Pont de l'Ascension (vacances scolaires)"
    )
    assert calendar.closure(date(2015, 6, 1), matin) == Closure(
        "school_holiday", "Vacances scolaires"
    )
    assert calendar.is_open(date(2015, 5, 18), matin)
    # An exceptional school day inside the official Christmas holidays.
    assert calendar.school_holiday(date(2014, 12, 22)) is None
    assert calendar.is_open(date(2014, 12, 22), matin)
    assert calendar.school_holiday(date(2014, 12, 23)) == "Vacances de Noël"
    assert calendar.opening_days(matin, date(2014, 12, 19), date(2014, 12, 24)) == [
        date(2014, 12, 19),
        date(2014, 12, 22),
    ]
    # An added public holiday.
    assert calendar.public_holiday(date(2015, 6, 5)) == "Jour férié"
    assert calendar.closure(date(2015, 6, 5), matin) == Closure("public_holiday", "Jour férié")
    # The same file without the overrides: those days are ordinary school days.
    plain = CommuneCalendar(variant())
    assert plain.is_open(date(2015, 5, 15), matin)
    assert not plain.is_open(date(2014, 12, 22), matin)
    assert plain.is_open(date(2015, 6, 5), matin)


def test_a_holiday_period_service_opens_only_in_school_holidays():
    commune = variant(LEISURE_CENTRE)
    calendar = CommuneCalendar(commune)
    centre = commune.service("CENTRE_LOISIRS")
    assert calendar.is_open(date(2014, 12, 22), centre)
    assert calendar.closure(date(2014, 12, 15), centre).kind == "not_holiday_period"
    assert calendar.closure(date(2014, 12, 25), centre).kind == "public_holiday"
    assert calendar.closure(date(2014, 12, 27), centre).kind == "weekend"
    assert calendar.opening_days(centre, date(2014, 12, 15), date(2015, 1, 6)) == [
        date(2014, 12, 22),
        date(2014, 12, 23),
        date(2014, 12, 24),
        date(2014, 12, 26),
        date(2014, 12, 29),
        date(2014, 12, 30),
        date(2014, 12, 31),
        date(2015, 1, 2),
    ]


# ----------------------------------------------------------- the two school calendar sources


def test_2015_comes_from_vacances_scolaires_france_by_zone(calendar):
    assert calendar.school_holiday(date(2015, 2, 16)) == "Vacances d'hiver"
    assert calendar.school_holiday(date(2015, 4, 20)) == "Vacances de printemps"
    assert calendar.school_holiday(date(2015, 7, 15)) == "Vacances d'été"
    assert calendar.school_holiday(date(2015, 10, 19)) == "Vacances de la Toussaint"
    # Zone A was on holiday the week before, zone C was at school.
    assert calendar.school_holiday(date(2015, 2, 9)) is None
    zone_a = CommuneCalendar(variant(zone="A"))
    assert zone_a.school_holiday(date(2015, 2, 9)) == "Vacances d'hiver"


def test_the_last_day_of_classes_is_not_a_holiday():
    # « Le départ en vacances a lieu après la classe »: winter 2015 zone C from Saturday
    # 14 February (the package says Friday 13), summer 2016 after classes on Tuesday 5
    # July (the package counts the Tuesday).
    calendar = CommuneCalendar(variant())
    assert calendar.school_holiday(date(2015, 2, 13)) is None
    assert calendar.school_holiday(date(2015, 2, 14)) == "Vacances d'hiver"
    assert calendar.school_holiday(date(2016, 7, 5)) is None
    assert calendar.school_holiday(date(2016, 7, 6)) == "Vacances d'été"


def test_2029_comes_from_the_holidays_package_by_zone(calendar):
    assert calendar.school_holiday(date(2029, 12, 24)) == "Vacances de Noël"
    assert calendar.school_holiday(date(2029, 7, 16)) == "Vacances d'été"
    assert calendar.school_holiday(date(2029, 2, 26)) == "Vacances d'hiver"
    assert calendar.school_holiday(date(2029, 2, 12)) is None
    zone_a = CommuneCalendar(variant(zone="A"))
    assert zone_a.school_holiday(date(2029, 2, 12)) == "Vacances d'hiver"


def test_both_sources_bound_christmas_the_same_way(calendar):
    # 2014 from vacances-scolaires-france, 2018 from holidays: Saturday to Sunday.
    for first, last in (
        (date(2014, 12, 20), date(2015, 1, 4)),
        (date(2018, 12, 22), date(2019, 1, 6)),
    ):
        assert calendar.school_holiday(first - timedelta(1)) is None
        assert all(calendar.school_holiday(d) == "Vacances de Noël" for d in days(first, last))
        assert calendar.school_holiday(last + timedelta(1)) is None
        assert first.weekday() == 5 and last.weekday() == 6


def test_the_seam_between_the_sources_in_september_2017(calendar, commune):
    matin = commune.service("GARDERIE_MATIN")
    assert calendar.school_holiday(date(2017, 9, 1)) == "Vacances d'été"
    assert calendar.opening_days(matin, date(2017, 8, 28), date(2017, 9, 8)) == days(
        date(2017, 9, 4), date(2017, 9, 8)
    )
    assert calendar.school_holiday(date(2017, 10, 23)) == "Vacances de la Toussaint"


def test_2021_has_the_corrected_calendar(calendar):
    # Spring 2021 moved for every zone (10-25 April); summer after classes on Tuesday 6 July.
    assert calendar.school_holiday(date(2021, 4, 12)) == "Vacances de printemps"
    assert calendar.school_holiday(date(2021, 4, 26)) is None
    assert calendar.school_holiday(date(2021, 7, 6)) is None
    assert calendar.school_holiday(date(2021, 7, 7)) == "Vacances d'été"


def test_the_ascension_bridge_closes_school_services(calendar, commune):
    # Thursday 9 May 2024 is Ascension (public holiday), Friday 10 the bridge.
    matin = commune.service("GARDERIE_MATIN")
    assert calendar.closure(date(2024, 5, 9), matin).kind == "public_holiday"
    assert calendar.closure(date(2024, 5, 10), matin) == Closure(
        "school_holiday", "Pont de l'Ascension (vacances scolaires)"
    )


@pytest.mark.parametrize("year", range(2014, 2030))
def test_every_school_year_has_its_five_holiday_periods(calendar, year):
    school_year = days(date(year, 9, 1), date(year + 1, 8, 31))
    weekdays_off: dict[str, int] = {}
    for day in school_year:
        name = calendar.school_holiday(day)
        if name and day.weekday() < 5:
            weekdays_off[name] = weekdays_off.get(name, 0) + 1
    for name in (
        "Vacances de la Toussaint",
        "Vacances de Noël",
        "Vacances d'hiver",
        "Vacances de printemps",
        "Vacances d'été",
    ):
        assert weekdays_off.get(name, 0) >= 9, (year, name, weekdays_off)


# --- months, school years, open days ------------------------------------------------


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31)), st.integers(-30, 30))
def test_months_and_their_ends(day, shift):
    first = calendar_rules.month_start(day, shift)
    assert first.day == 1 and (first.year * 12 + first.month) - (day.year * 12 + day.month) == shift
    end = calendar_rules.month_end(first)
    assert end.month == first.month and (end + timedelta(days=1)).day == 1
    moved = calendar_rules.shift_months(day, shift)
    assert calendar_rules.month_start(moved) == first and moved.day == min(day.day, end.day)
    assert calendar_rules.month_key(first) == f"{first:%Y-%m}"


def test_school_years_start_on_the_commune_s_day():
    assert calendar_rules.school_year(date(2014, 12, 8)) == 2014
    assert calendar_rules.school_year(date(2015, 8, 31)) == 2014 and calendar_rules.school_year(date(2015, 9, 1)) == 2015
    assert calendar_rules.school_year(date(2015, 9, 1), (9, 2)) == 2014
    assert calendar_rules.school_year_first_day(2014, (9, 2)) == date(2014, 9, 2)
    assert calendar_rules.school_year_last_day(2014, (9, 2)) == date(2015, 9, 1)
    assert calendar_rules.school_year_of(date(2015, 6, 30)) == "2014-2015"


def test_the_previous_open_day_skips_closures_and_gives_up_after_a_month(commune, calendar):
    canteen = commune.service("RESTAURATION")  # closed on Wednesdays
    assert calendar.previous_open_day(date(2014, 10, 9), canteen) == date(2014, 10, 7)
    # After the Christmas holidays (20 December 2014 to 4 January 2015): the last school day.
    assert calendar.previous_open_day(date(2015, 1, 5), canteen) == date(2014, 12, 19)
    # After the summer holidays, more than 31 days back: none, an absence starts afresh.
    assert calendar.previous_open_day(date(2015, 9, 1), canteen) is None
    statuses = {date(2014, 10, 7): "absent"}
    assert calendar.follows_absence(date(2014, 10, 9), canteen, statuses.get)
    assert not calendar.follows_absence(date(2014, 10, 7), canteen, statuses.get)
    # The guide's Thursday 11 December 2014: the second open Thursday of the month.
    assert calendar.nth_open_weekday(canteen, date(2014, 12, 1), 3, 2) == date(2014, 12, 11)
    assert calendar.nth_open_weekday(canteen, date(2014, 12, 1), 2, 1) is None  # no canteen on Wednesdays


def test_paper_plannings_are_due_on_the_20th_of_the_month_before():
    assert calendar_rules.plannings_deadline(date(2014, 11, 19), date(2014, 12, 1)) == date(2014, 11, 20)
    assert calendar_rules.plannings_deadline(date(2014, 12, 2), 1) == date(2014, 12, 20)
