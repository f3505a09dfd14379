"""The view model of a child's month page (famille/mois.html): the guide's grid (one row
per service, one column per day), the booking form around it, the week pattern form
and the child's last request touching that month.

Which action a cell offers is asked of `bookings.decide`, the very rule the function
applies: no rule is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from chalicelib.booking_requests import Item
from chalicelib.bookings import Outcome, Plan, after_staff_refusal, decide
from chalicelib.calendar_rules import (
    CommuneCalendar,
    booking_deadline,
    is_before_deadline,
    month_end,
    month_key,
    plannings_deadline,
)
from chalicelib.config import Commune, Service
from chalicelib.formatting import french_day, french_month, hours
from chalicelib.pages.exchanges import request_instant, request_view
from chalicelib.pages.marks import (
    ACTION_LEGEND,
    ACTION_VERBS,
    CLOSED_FOR_BOOKING,
    CLOSED_MARK,
    CLOSURE_MARKS,
    DAY_ABBREVIATIONS,
    DAY_NAMES,
    LEGEND,
    NOT_ENROLLED,
    REVIEW_NOTE,
    REVIEW_VERB,
    STATUS_MARKS,
    outcome_words,
)
from chalicelib.pages.names import month_page_path
from chalicelib.storage import FamilyState

# The order in which a cell's actions are asked of `decide`: the first one allowed wins.
# A day held (validated or waiting) is cancelled while on time, else declared absent.
_CANDIDATES = {"validated": ("cancel", "absence"), "pending": ("cancel",), "absent": ()}


@dataclass(frozen=True)
class Cell:
    day: date
    mark: str = ""
    words: str = ""  # what a screen reader says for the mark
    css: str = ""
    title: str = ""
    action: str | None = None
    value: str = ""
    label: str = ""
    deadline: str = ""  # ISO instant after which the action is no longer taken
    field_id: str = ""


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def allowed_action(day: date, service: Service, day_item: dict | None, enrolled: list[str],
                   commune: Commune, calendar: CommuneCalendar, now: datetime) -> str | None:
    """The action a parent may ask for this day now (`reserve`, `cancel`, `absence`), or
    None: the first candidate `bookings.decide` turns into a write, exactly as the
    function will decide it (absences only within `bookings.ABSENCE_WINDOW`)."""
    status = (day_item or {}).get("status")
    for action in _CANDIDATES.get(status, ("reserve",)):
        decision = decide(Item(day, service.code, action), enrolled=enrolled, day_item=day_item, service=service,
                          commune=commune, calendar=calendar, now=now)
        if isinstance(decision, Plan):
            return action
    return None


def month_link(child_id: str, month: date, home: str) -> dict:
    return {"href": home + month_page_path(child_id, month), "label": capitalised(french_month(month))}


def month_context(state: FamilyState, child: dict, month: date, months: list[date], now: datetime, home: str, *,
                  commune: Commune, calendar: CommuneCalendar, frozen: bool) -> dict:
    """What famille/mois.html shows of one child's month. `frozen`: the portal's clock
    is frozen (`portail serve --now`, demos and training)."""
    child_id = child["child_id"]
    key = month_key(month)
    last = month_end(month)
    days = [month + timedelta(days=i) for i in range(last.day)]
    booked: dict[tuple[str, str], dict] = {}
    for item in state.days:
        _, owner, iso, code = item["sk"].split("#", 3)
        if owner == child_id and iso.startswith(key):
            booked[(iso, code)] = item
    enrolled = list(child.get("services", []))
    shown = {code for _, code in booked} | set(enrolled)
    names = {int(r["rank"]): f"{r['last_name']} {r['first_name']}" for r in state.responsables}
    default_name = names.get(1) or next(iter(names.values()), "")
    rows = []
    for service in commune.services:
        if service.code not in shown:
            continue
        ranks = sorted({int(d.get("responsable_rank") or 1) for (_, code), d in booked.items() if code == service.code})
        rows.append({
            "service": service,
            "responsable": " / ".join(names.get(r, default_name) for r in ranks) or default_name,
            "cells": [cell(day, service, booked.get((day.isoformat(), service.code)), enrolled, now, commune, calendar)
                      for day in days],
        })
    # The days staff refused, said in words under the grid: why, and what asking again does.
    refused_days = [{"day": french_day(c.day), "service": row["service"].label,
                     "message": (booked.get((c.day.isoformat(), row["service"].code)) or {}).get("message", ""),
                     "again": c.action == "reserve"}
                    for row in rows for c in row["cells"] if c.css == STATUS_MARKS["refused"][2]]
    position = months.index(month)
    by_day = [[(row["service"], row["cells"][i]) for row in rows] for i in range(len(days))]
    today = now.astimezone(commune.tz).date()
    services = [s for s in commune.services if s.code in enrolled]
    return {
        "child": child,
        "month_title": capitalised(french_month(month)),
        "month_key": key,
        "month_first": month.isoformat(),
        "month_last": last.isoformat(),
        "page_path": home + month_page_path(child_id, month),
        "columns": [{"day": d, "short": f"{DAY_ABBREVIATIONS[d.weekday()]} {d:%d}", "long": french_day(d)}
                    for d in days],
        "rows": rows,
        "days": [day_view(d, cells, enrolled, booked, commune, calendar, now)
                 for d, cells in zip(days, by_day, strict=True)],
        "structures": [{"code": r["service"].code, "label": r["service"].label, "responsable": r["responsable"]}
                       for r in rows],
        "refused_days": refused_days,
        "review_note": REVIEW_NOTE,
        "legend": LEGEND,
        "action_legend": ACTION_LEGEND,
        "previous": month_link(child_id, months[position - 1], home) if position > 0 else None,
        "next": month_link(child_id, months[position + 1], home) if position + 1 < len(months) else None,
        "last_requests": last_requests(state, child_id, key, commune),
        "pattern": pattern_defaults(month, last, today, now, services, commune, calendar),
        "pattern_services": services,
        "deadline_weekdays": commune.booking.deadline_weekdays,
        "deadline_time": hours(commune.booking.deadline_time),
        "plannings_deadline": french_day(plannings_deadline(today, month)),
        # Demos and training freeze the portal's clock (`portail serve --now`): the page
        # then gives the script that instant, since the browser's clock is the real one.
        "frozen_now": now.isoformat() if frozen else "",
    }


def cell(day: date, service: Service, day_item: dict | None, enrolled: list[str], now: datetime,
         commune: Commune, calendar: CommuneCalendar) -> Cell:
    """One day of one service: its mark, and the action the form offers, if any."""
    status = (day_item or {}).get("status")
    title = ""
    if status in STATUS_MARKS:
        mark, words, css = STATUS_MARKS[status]
        message = (day_item or {}).get("message") or ""
        if status == "refused" and message:
            words = f"{words} : {message}"  # the reason, read out with the mark
            title = capitalised(words)
        else:
            title = capitalised(words) + (f" – {message}" if message else "")
    else:
        closure = calendar.closure(day, service)
        if closure is None:
            mark = words = css = ""
        else:
            mark, words, css = CLOSURE_MARKS.get(closure.kind, CLOSED_MARK)
            title = closure.label
    action = allowed_action(day, service, day_item, enrolled, commune, calendar, now)
    if action is None:
        return Cell(day, mark, words, css, title)
    deadline = ""
    if action != "absence":
        deadline = booking_deadline(day, commune.deadline_rule(service), commune.tz).isoformat()
    label = f"{ACTION_VERBS[action]} {service.label} le {french_day(day)}"
    if action == "reserve" and after_staff_refusal(day_item):
        label = f"{REVIEW_VERB} {service.label} le {french_day(day)} : {REVIEW_NOTE}"
        title = f"{title.rstrip('.')}. Vous pouvez redemander ce jour : {REVIEW_NOTE}."
    return Cell(day, mark, words, css, title, action,
                value=f"{day.isoformat()}|{service.code}|{action}",
                label=label, deadline=deadline, field_id=f"j-{day.isoformat()}-{service.code}")


def day_view(day: date, cells: list[tuple[Service, Cell]], enrolled: list[str], booked: dict,
             commune: Commune, calendar: CommuneCalendar, now: datetime) -> dict:
    """One day of the month page's list (famille/mois.html): its services, each with its
    state in words and its one action, or, when no service of the day holds a state or
    offers an action and all say the same (a weekend, a holiday, reservations closed),
    that one sentence for the whole day."""
    views = []
    for service, c in cells:
        words, css = c.words, c.css
        if not c.mark and c.action is None:
            words, css = unbookable_words(day, service, enrolled, commune, calendar, now)
        elif css == STATUS_MARKS["refused"][2]:
            words = STATUS_MARKS["refused"][1]  # its reason: « Jours refusés par le service enfance »
        verb = (REVIEW_VERB if c.label.startswith(REVIEW_VERB) else ACTION_VERBS[c.action].rstrip(" :")) if c.action else ""
        # The visible verb, then the rest of the label (service and day), said to screen
        # readers: the control's name is the whole label, its visible words its start.
        views.append({"code": service.code, "service": service.label, "css": css, "words": words,
                      "action": c.action, "value": c.value, "deadline": c.deadline, "verb": verb,
                      "context": c.label[len(verb):]})
    quiet = {(v["css"], v["words"]) for v in views if not v["action"]}
    whole = None
    if views and len(quiet) == 1 and not any(v["action"] for v in views) and not any(
            booked.get((day.isoformat(), v["code"])) for v in views):
        css, words = quiet.pop()
        whole = {"css": css, "words": words}
    # On a phone, services of the day that say the same without an action are one line
    # (« GARDERIE MATIN, GARDERIE MIDI : réservations closes le … »); the grid keeps a cell each.
    alike: dict[tuple[str, str], list[dict]] = {}
    for view in views:
        if not view["action"] and view["words"]:
            alike.setdefault((view["css"], view["words"]), []).append(view)
    groups = []
    for (css, words), members in alike.items():
        if len(members) > 1:
            groups.append({"css": css, "words": words, "services": ", ".join(m["service"] for m in members)})
            for member in members:
                member["grouped"] = True
    # A day's controls usually share one deadline: said once, on the day (calendrier.js
    # reads it for every control of the day but an absence, which has none); controls whose
    # services' rules differ keep their own.
    deadlines = {v["deadline"] for v in views if v["deadline"]}
    deadline = deadlines.pop() if len(deadlines) == 1 else ""
    if deadline:
        for view in views:
            view["deadline"] = ""
    return {"iso": day.isoformat(), "abbreviation": DAY_ABBREVIATIONS[day.weekday()],
            "rest": DAY_NAMES[day.weekday()][2:], "number": day.day, "weekend": day.weekday() >= 5,
            "whole": whole, "cells": views, "groups": [] if whole else groups, "deadline": deadline}


def unbookable_words(day: date, service: Service, enrolled: list[str], commune: Commune,
                     calendar: CommuneCalendar, now: datetime) -> tuple[str, str]:
    """Why a day with nothing booked offers no reservation, in words: the deadline
    passed (« réservations closes le … », its date), not enrolled, or (outside the school
    year) no words at all."""
    outcome = decide(Item(day, service.code, "reserve"), enrolled=enrolled, day_item=None, service=service,
                     commune=commune, calendar=calendar, now=now)
    reason = outcome.reason if isinstance(outcome, Outcome) else ""
    if reason == "deadline_passed":
        deadline = booking_deadline(day, commune.deadline_rule(service), commune.tz)
        said = french_day(deadline)  # the year only when it is not the day's
        return (f"{CLOSED_FOR_BOOKING[1]} le {said.removesuffix(f' {day.year}')}",
                CLOSED_FOR_BOOKING[2])
    if reason == "not_enrolled":
        return NOT_ENROLLED[1], NOT_ENROLLED[2]
    return "", ""


def last_requests(state: FamilyState, child_id: str, key: str, commune: Commune) -> list[dict]:
    """The child's latest booking request (online or paper) with a day in this month.

    Only such a request: the bookings route re-renders the pages of the months its
    days fall in, so a page never shows a stale « dernière demande ». Requests are
    ordered by their instant; under a frozen clock (`portail serve --now`) several
    share it and nothing tells which came last: they are all shown."""
    found = [r for r in state.requests
             if r.get("child_id") == child_id and r.get("type", "booking") == "booking"
             and any(str(i.get("date", "")).startswith(key) for i in r.get("items", []))]
    if not found:
        return []
    latest = max(request_instant(r) for r in found)
    views = [request_view(r, commune) for r in sorted(found, key=lambda r: r["sk"]) if request_instant(r) == latest]
    for view in views:
        for item in view["items"]:
            item["outcome"] = outcome_words(item["status"], item["status_label"], item["message"])
    return views


def pattern_defaults(month: date, last: date, today: date, now: datetime, services: list[Service],
                     commune: Commune, calendar: CommuneCalendar) -> dict:
    """The week pattern's suggested range: from the month's first day still open to
    bookings to the day before its next school holidays (a pattern must not span them)."""
    tz = commune.tz
    rules = [commune.deadline_rule(s) for s in services]
    start = None
    day = max(month, today)
    while day <= last:
        if (calendar.school_holiday(day) is None and day.weekday() < 5
                and any(is_before_deadline(now, day, rule, tz) for rule in rules)):
            start = day
            break
        day += timedelta(days=1)
    if start is None:
        return {"from": "", "to": ""}
    end = start
    day = start
    while day <= last and not (day.weekday() < 5 and calendar.school_holiday(day)):
        if day.weekday() < 5:
            end = day
        day += timedelta(days=1)
    return {"from": start.isoformat(), "to": end.isoformat()}
