"""The commune's calendar: months, school years, open days and closures, deadlines.

Every rule of dates lives here, once: a month's first and last day, the school year
holding a day (it starts on commune.toml's `school_year_start`), the days a service is
open (public holidays, school holidays, closures) and the open day before another, the
booking deadline and the paper plannings' one. Pure rules: the clock, or the day, is
always an argument, never read here. Words for dates are chalicelib.formatting's.

The official public and school holidays come from chalicelib.holiday_sources;
`commune.toml` adds public holidays, closed days and school holiday periods, and turns
official holiday days back into school days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from chalicelib.holiday_sources import (
    clean_name,
    official_school_holiday,
    public_holidays,
)

if TYPE_CHECKING:  # pragma: no cover - typing only, keeps the configuration off this import
    from chalicelib.config import Commune, DeadlineRule, Service

_ONE_DAY = timedelta(days=1)


# How far back the previous open day is looked for: an absence that began before a
# longer break (the summer) does not continue after it. The invoicing run reads the
# month's days and this many before it.
PREVIOUS_OPEN_DAY_LOOKBACK = 31

PUBLIC_HOLIDAY_LABEL = "Jour férié"


# ------------------------------------------------------------------------------ months


def month_start(day: date, months: int = 0) -> date:
    """The first day of the month `months` after `day`'s (before it when negative)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return month_start(day, 1) - _ONE_DAY


def month_key(day: date) -> str:
    """« 2017-06 »: how items, page names and commands name `day`'s month."""
    return f"{day.year:04d}-{day.month:02d}"


def shift_months(day: date, months: int) -> date:
    """The same day `months` months later (earlier when negative), or that month's last day."""
    first = month_start(day, months)
    return first.replace(day=min(day.day, month_end(first).day))


def shift_years(day: date, years: int) -> date:
    """The same day `years` years later (earlier when negative); 29 February gives the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# ------------------------------------------------------------------------ school years

# (month, day) of a school year's first day when commune.toml does not say (`Commune.year_start`).
SCHOOL_YEAR_START = (9, 1)


def school_year(day: date, start: tuple[int, int] = SCHOOL_YEAR_START) -> int:
    """The calendar year the school year holding `day` begins in (2014 for 8 December 2014)."""
    return day.year if (day.month, day.day) >= start else day.year - 1


def school_year_first_day(year: int, start: tuple[int, int] = SCHOOL_YEAR_START) -> date:
    return date(year, *start)


def school_year_last_day(year: int, start: tuple[int, int] = SCHOOL_YEAR_START) -> date:
    return school_year_first_day(year + 1, start) - _ONE_DAY


def school_year_label(year: int) -> str:
    """« 2014-2015 »: how statements, invoices and pages name the school year begun in `year`."""
    return f"{year}-{year + 1}"


def school_year_of(day: date, start: tuple[int, int] = SCHOOL_YEAR_START) -> str:
    """« 2014-2015 » for any day of that school year (1 September 2014 to 31 August 2015
    by default): the label invoices, operations and statements store."""
    return school_year_label(school_year(day, start))


# --------------------------------------------------------------------------- deadlines


def weekday_before(day: date, count: int) -> date:
    """The `count`-th weekday (Monday–Friday) strictly before `day` (count ≥ 1, config checks it)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    remaining = count
    current = day
    while True:
        current -= _ONE_DAY
        if current.weekday() < 5:
            remaining -= 1
            if remaining == 0:
                return current


def booking_deadline(day: date, rule: DeadlineRule, tz: ZoneInfo) -> datetime:
    """Last moment (local wall time `rule.time`) to reserve or cancel `day`.

    Only weekends are skipped: public and school holidays count as weekdays, as the
    municipal guide says (for Monday 8 December 2014: Monday 1 December 2014, 23:59).
    """
    deadline_day = weekday_before(day, rule.weekdays)
    local = datetime.combine(deadline_day, rule.time, tzinfo=tz)
    # A wall time inside a spring-forward gap does not exist: normalise it to the real
    # instant (23:59 is never in the gap in Europe/Paris, so nothing moves in practice).
    return local.astimezone(UTC).astimezone(tz)


def is_before_deadline(now: datetime, day: date, rule: DeadlineRule, tz: ZoneInfo) -> bool:
    """True while a request for `day` is on time: the deadline's whole minute counts."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` doit porter son fuseau horaire (datetime « aware »)")
    deadline = booking_deadline(day, rule, tz).replace(second=0, microsecond=0)
    # Compare instants in UTC: two datetimes sharing one tzinfo compare by wall time.
    limit = deadline.astimezone(UTC) + timedelta(minutes=1)
    return now.astimezone(UTC) < limit


def plannings_deadline(today: date, month: date | int) -> date:
    """The last day the paper plannings of `month` are taken: the 20th of the month before.

    `month` is any day of that month, or its number (1 to 12): then the first such
    month after `today`'s month."""
    if isinstance(month, int):
        if not 1 <= month <= 12:
            raise ValueError(f"month {month} is not 1 to 12")
        first = date(today.year if month > today.month else today.year + 1, month, 1)
    else:
        first = month_start(month)
    return (first - _ONE_DAY).replace(day=20)


# ----------------------------------------------------------------------------- closures

ClosureKind = Literal[
    "weekend",
    "public_holiday",
    "school_holiday",
    "closed_day",
    "closed_weekday",
    "not_holiday_period",
]


@dataclass(frozen=True, slots=True)
class Closure:
    """Why a service is closed on a day; `label` is shown to parents as is."""

    kind: ClosureKind
    label: str


def _labelled(name: str, kind: str, said_by: str) -> str:
    """« Noël (jour férié) », « Pont de l'Ascension (vacances scolaires) »: the day's
    name, then what kind of day it is unless the name says so (« Vacances de Noël »,
    `said_by` begins it). No colon: sentences go on after the label with one
    (« Noël (jour férié) : le service … est fermé ce jour-là. »)."""
    if name.casefold().startswith(said_by.casefold()):
        return name
    return f"{name} ({kind})"


class CommuneCalendar:
    """The commune's calendar: official sources plus `commune.toml` (cached per year)."""

    def __init__(self, commune: Commune):
        self.commune = commune
        self.zone = commune.commune.school_zone
        overrides = commune.calendar
        self._extra_public = frozenset(overrides.extra_public_holidays)
        self._closed_days = frozenset(overrides.closed_days)
        self._school_days = frozenset(overrides.school_days)
        self._periods = tuple(overrides.school_holidays)
        self._school_by_year: dict[int, dict[date, str]] = {}

    def public_holiday(self, day: date) -> str | None:
        """French name of the public holiday on `day` (« Noël »), or None."""
        name = public_holidays(day.year).get(day)
        if name is not None:
            return name
        return PUBLIC_HOLIDAY_LABEL if day in self._extra_public else None

    def _school_year_days(self, year: int) -> dict[date, str]:
        cached = self._school_by_year.get(year)
        if cached is not None:
            return cached
        days: dict[date, str] = {}
        current = date(year, 1, 1)
        while current.year == year:
            name = official_school_holiday(self.zone, current)
            if name is not None:
                days[current] = name
            current += _ONE_DAY
        # The commune's own periods win over the official ones on the days they cover.
        for period in self._periods:
            current = max(period.start, date(year, 1, 1))
            while current <= period.end and current.year == year:
                days[current] = clean_name(period.name)
                current += _ONE_DAY
        for day in self._school_days:
            days.pop(day, None)
        self._school_by_year[year] = days
        return days

    def school_holiday(self, day: date) -> str | None:
        """Name of the school holiday period holding `day` (« Vacances de Noël »), or None."""
        return self._school_year_days(day.year).get(day)

    def closure(self, day: date, service: Service) -> Closure | None:
        """Why `service` is closed on `day`, or None when it is open."""
        holiday = self.public_holiday(day)
        if holiday is not None:
            return Closure("public_holiday", _labelled(holiday, "jour férié", PUBLIC_HOLIDAY_LABEL))
        if day in self._closed_days:
            return Closure("closed_day", "Fermeture exceptionnelle")
        school_holiday = self.school_holiday(day)
        if service.period == "school" and school_holiday is not None:
            return Closure("school_holiday", _labelled(school_holiday, "vacances scolaires", "Vacances"))
        if service.period == "holidays" and school_holiday is None:
            return Closure("not_holiday_period", "Service ouvert pendant les vacances scolaires")
        if day.weekday() not in service.weekdays:
            if day.weekday() >= 5:
                return Closure("weekend", "Week-end")
            from chalicelib.formatting import weekday_name

            return Closure("closed_weekday", f"Service fermé le {weekday_name(day)}")
        return None

    def is_open(self, day: date, service: Service) -> bool:
        return self.closure(day, service) is None

    def opening_days(self, service: Service, start: date, end: date) -> list[date]:
        """The days from `start` to `end` (both included) when `service` is open."""
        days = []
        current = start
        while current <= end:
            if self.closure(current, service) is None:
                days.append(current)
            current += _ONE_DAY
        return days

    def nth_open_weekday(self, service: Service, month: date, weekday: int, n: int) -> date | None:
        """The `n`-th open `weekday` (0: Monday) of `month` for `service`; the month's last
        such day when there are fewer, None when there is none."""
        found = [d for d in self.opening_days(service, month_start(month), month_end(month)) if d.weekday() == weekday]
        return found[n - 1] if len(found) >= n else (found[-1] if found else None)

    def previous_open_day(self, day: date, service: Service) -> date | None:
        """The service's last open day before `day`, within PREVIOUS_OPEN_DAY_LOOKBACK days."""
        current = day - _ONE_DAY
        for _ in range(PREVIOUS_OPEN_DAY_LOOKBACK):
            if self.is_open(current, service):
                return current
            current -= _ONE_DAY
        return None

    def follows_absence(self, day: date, service: Service, status_on: Callable[[date], str | None]) -> bool:
        """Whether an absence on `day` continues one: the service's previous open day was
        an absence too (`status_on` gives a day's status). Such a day is not billed once
        a medical certificate covers it; the first day of an absence is."""
        previous = self.previous_open_day(day, service)
        return previous is not None and status_on(previous) == "absent"

