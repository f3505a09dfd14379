"""A booking request's body, read and checked before anything is read or written: the
days it names (`Item`: a day, a service, an action), given as a list of items or as a
week pattern (« semaine type ») expanded day by day, at most MAX_ITEMS of them.

Anything malformed refuses the whole request (BookingRequestError, a 4xx with a French
sentence): nothing is written. The rules that decide each day are in bookings.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib.calendar_rules import CommuneCalendar
from chalicelib.config import WEEKDAY_NAMES, Commune
from chalicelib.refusals import Refusal

MAX_ITEMS = 100
ACTIONS = ("reserve", "cancel", "absence")


class BookingRequestError(Refusal):
    """The whole submission is refused; nothing is written."""


@dataclass(frozen=True)
class Item:
    day: date
    service: str
    action: str


# The days a request may name: PLAUSIBLE_YEARS either side of the clock's year. Further
# is no day a parent means, and the calendar's arithmetic overflows near years 1 and 9999.
PLAUSIBLE_YEARS = 5
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _shown(value) -> str:
    """A value of the request, quoted in a message: short, whatever it is."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 30 else text[:29] + "…"


def plausible_days(today: date) -> tuple[date, date]:
    return date(today.year - PLAUSIBLE_YEARS, 1, 1), date(today.year + PLAUSIBLE_YEARS, 12, 31)


def parse_day(value, today: date, where: str) -> date:
    """A day written AAAA-MM-JJ within the plausible years; BookingRequestError (400) else."""
    try:
        if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise BookingRequestError(400, "invalid_request",
                                  f"{where} : date « {_shown(value)} » invalide (AAAA-MM-JJ).") from None
    first, last = plausible_days(today)
    if not first <= day <= last:
        raise BookingRequestError(400, "invalid_request", f"{where} : le {_shown(value)} est hors des années "
                                  f"{first.year} à {last.year}.")
    return day


def parse_items(raw_items, commune: Commune, today: date) -> list[Item]:
    """Items from the request body; BookingRequestError (400) when anything is malformed:
    every field is checked (types included) before anything is read or written."""
    if not isinstance(raw_items, list) or not raw_items:
        raise BookingRequestError(400, "invalid_request", "Indiquez au moins un jour à réserver, annuler ou déclarer absent.")
    if len(raw_items) > MAX_ITEMS:
        raise BookingRequestError(400, "too_many_items",
                                  f"Une demande compte au plus {MAX_ITEMS} jours : envoyez-la en plusieurs fois.")
    codes = {s.code for s in commune.services}
    items = []
    for number, raw in enumerate(raw_items, start=1):
        where = f"Jour n° {number}"
        if not isinstance(raw, dict):
            raise BookingRequestError(400, "invalid_request", f"{where} : format illisible.")
        day = parse_day(raw.get("date", ""), today, where)
        service, action = raw.get("service"), raw.get("action")
        if not isinstance(service, str) or service not in codes:
            raise BookingRequestError(400, "invalid_request", f"{where} : service « {_shown(service)} » inconnu.")
        if not isinstance(action, str) or action not in ACTIONS:
            raise BookingRequestError(400, "invalid_request",
                                      f"{where} : action « {_shown(action)} » inconnue (reserve, cancel ou absence).")
        items.append(Item(day, service, action))
    return items


def _pattern_weekday(value) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str) and value.lower() in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(value.lower())
    if isinstance(value, str) and value in {"0", "1", "2", "3", "4", "5", "6"}:
        return int(value)
    raise BookingRequestError(400, "invalid_request", f"Semaine type : jour « {_shown(value)} » inconnu.")


def expand_pattern(pattern, commune: Commune, calendar: CommuneCalendar, today: date) -> list[Item]:
    """A week pattern (« semaine type ») as reservation items, day by day.

    `pattern`: {weekdays: [0..6, "0".."6" or French names], services: [codes], from, to};
    the range lies within one school period (no school holiday between its ends)."""
    if not isinstance(pattern, dict):
        raise BookingRequestError(400, "invalid_request", "Semaine type illisible.")
    where = "Semaine type"
    if not all(isinstance(pattern.get(end), str) and _ISO_DAY.fullmatch(pattern[end]) for end in ("from", "to")):
        raise BookingRequestError(400, "invalid_request", "Semaine type : dates de début et de fin attendues (AAAA-MM-JJ).")
    start, end = parse_day(pattern["from"], today, where), parse_day(pattern["to"], today, where)
    weekdays, services = pattern.get("weekdays") or [], pattern.get("services") or []
    if not isinstance(weekdays, list) or not isinstance(services, list):
        raise BookingRequestError(400, "invalid_request", "Semaine type : choisissez au moins un jour et un service connu.")
    weekdays = {_pattern_weekday(value) for value in weekdays}
    codes = {s.code for s in commune.services}
    if not weekdays or not services or any(not isinstance(s, str) or s not in codes for s in services):
        raise BookingRequestError(400, "invalid_request", "Semaine type : choisissez au moins un jour et un service connu.")
    if end < start or (end - start).days > 120:
        raise BookingRequestError(400, "invalid_request", "Semaine type : la fin doit suivre le début, dans la même période scolaire.")
    day = start
    while day <= end:
        if day.weekday() < 5 and calendar.school_holiday(day) and start < day < end:
            raise BookingRequestError(400, "invalid_request",
                                      "Semaine type : la période choisie doit se tenir entre deux vacances scolaires.")
        day += timedelta(days=1)
    items = []
    day = start
    while day <= end:
        if day.weekday() in weekdays:
            items.extend(Item(day, service, "reserve") for service in services)
        day += timedelta(days=1)
    if len(items) > MAX_ITEMS:
        raise BookingRequestError(400, "too_many_items",
                                  f"Cette semaine type donne {len(items)} jours : au plus {MAX_ITEMS} par demande, raccourcissez la période.")
    if not items:
        raise BookingRequestError(400, "invalid_request", "Semaine type : aucun jour dans la période choisie.")
    return items

