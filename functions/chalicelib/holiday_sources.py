"""The official holidays: France's public holidays and the school holidays of a zone.

Sources, checked against each other (see `_vsf_zone_days`):

- public holidays of France: the `holidays` package, any year, names in French;
- school holidays of the commune's zone: the `holidays` package from the 2017 rentrée
  (it has nothing before the 2017-2018 school year, and extrapolates its rules after
  the last published arrêté), otherwise `vacances-scolaires-france` (1990 to the
  summer of 2028).

What the commune adds or removes (commune.toml) is chalicelib.calendar_rules'. Both
packages are imported lazily: this module is on the function's import path.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

_ONE_DAY = timedelta(days=1)

# Days the `holidays` package answers for school holidays: from the rentrée of the first
# school year it knows (2017-2018; on 1-3 September 2017 it would wrongly say "school")
# to the end of the Christmas break of 2030-2031 (only Christmas falls in January).
HOLIDAYS_PACKAGE_FIRST_DAY = date(2017, 9, 4)
HOLIDAYS_PACKAGE_LAST_DAY = date(2031, 1, 31)

SCHOOL_HOLIDAY_LABEL = "Vacances scolaires"
_ASCENSION_BRIDGE = "Pont de l'Ascension"


def clean_name(name: str) -> str:
    """« Vacances de Noël »: single spaces, capital first letter, ASCII apostrophe."""
    text = " ".join(str(name).replace("\u2019", "'").split())
    return text[:1].upper() + text[1:] if text else SCHOOL_HOLIDAY_LABEL


@lru_cache(maxsize=1)
def _france():
    """`holidays.France`, without the package's other 250 countries.

    `holidays.France` imports `holidays.countries.france`, whose package's __init__
    imports every country (about 300 modules: 150 ms of CPU, far more where the bytecode
    must be compiled first) on the first request that looks at a calendar. The package is
    registered without running its __init__, so that only France's module is loaded; a
    country asked by name (holidays.Germany) is still found, module by module."""
    import importlib.util
    import sys

    import holidays  # the base classes and the lazy registry: no country

    if "holidays.countries" not in sys.modules:
        spec = importlib.util.find_spec("holidays.countries")
        package = importlib.util.module_from_spec(spec)
        sys.modules["holidays.countries"] = package
        holidays.countries = package
    from holidays.countries.france import France

    return France


@lru_cache(maxsize=64)
def public_holidays(year: int) -> dict[date, str]:
    # language must be explicit: left out, names follow the process locale (English
    # under LANG=C.UTF-8 or en_US, as on Lambda).
    return dict(_france()(years=year, language="fr"))


@lru_cache(maxsize=64)
def _holidays_package_school_days(zone: str, year: int) -> dict[date, str]:
    """Zone's school holiday days in `year` from `holidays`, within its trusted range."""
    if not HOLIDAYS_PACKAGE_FIRST_DAY.year <= year <= HOLIDAYS_PACKAGE_LAST_DAY.year:
        return {}
    try:
        found = _france()(
            years=year, categories=("school",), subdiv=f"Zone {zone}", language="fr"
        )
    except (NotImplementedError, KeyError, ValueError):  # older releases lack the category
        return {}
    return {
        day: clean_name(name)
        for day, name in found.items()
        if HOLIDAYS_PACKAGE_FIRST_DAY <= day <= HOLIDAYS_PACKAGE_LAST_DAY
    }


@lru_cache(maxsize=1)
def _vsf_dates():
    from vacances_scolaires_france import SchoolHolidayDates

    return SchoolHolidayDates()  # reads its CSV once (about 60 ms)


@lru_cache(maxsize=3)
def _vsf_zone_days(zone: str) -> dict[int, dict[date, str]]:
    """`vacances-scolaires-france` days for `zone`, by year, in the `holidays` convention.

    Both sources end a period on the day before classes resume (Christmas 2014:
    Sunday 4 January 2015; 2018-2019: Sunday 6 January 2019) and start it on the
    Saturday when classes end on a Friday or Saturday. But when classes end on a
    weekday (« le départ en vacances a lieu après la classe »), vacances-scolaires-france
    counts that last day of classes as a holiday (summer 2016 from Tuesday 5 July, summer
    2021 from Tuesday 6 July, Toussaint 2016 from Wednesday 19 October), and some of its
    dates are a day early (zone C winter 2015 from Friday 13 February instead of Saturday
    14). `holidays` starts on the first day without classes. So a period that starts on
    a weekday which is not a public holiday loses that first day; except the Ascension
    bridge, which vacances-scolaires-france already starts on its first day off.
    """
    source = _vsf_dates()
    key = source.zone_key(zone)
    days = sorted(day for day, row in source.data.items() if row[key])
    by_year: dict[int, dict[date, str]] = {}
    previous: date | None = None
    previous_name = None
    for day in days:
        name = clean_name(source.data[day]["nom_vacances"])
        starts_period = previous is None or day - previous != _ONE_DAY or name != previous_name
        previous, previous_name = day, name
        if (
            starts_period
            and day.weekday() < 5
            and name != _ASCENSION_BRIDGE
            and day not in public_holidays(day.year)
        ):
            continue
        by_year.setdefault(day.year, {})[day] = name
    return by_year


def official_school_holiday(zone: str, day: date) -> str | None:
    """Name of the official school holiday period holding `day` in `zone`, if any."""
    if HOLIDAYS_PACKAGE_FIRST_DAY <= day <= HOLIDAYS_PACKAGE_LAST_DAY:
        return _holidays_package_school_days(zone, day.year).get(day)
    return _vsf_zone_days(zone).get(day.year, {}).get(day)
