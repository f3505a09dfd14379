"""The family pages export: a family's private pages rendered from its state (one
Query) with the shared layout, and written to the private pages bucket under
`famille/<page key>/`. CloudFront serves them behind the signed cookies (DESIGN §1).

Besides the fixed pages (`PAGES`), each child enrolled in a service has one month page
per month of the window around the clock (`MONTHS_SHOWN`): `enfants/<child>/<AAAA-MM>/`,
named `mois:<child>:<AAAA-MM>` for `only`. It holds the guide's grid (one row per
service, one column per day), the booking form around it, the week pattern form and the
child's last request touching that month. Which action a cell offers is asked of
`bookings.decide`, the very rule the function applies: no rule is written twice.

Issue 5 adds the invoices, statement, inbox and requests pages here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from chalicelib import clock, sessions
from chalicelib.bookings import (
    STATUS_LABELS,
    Item,
    Plan,
    decide,
    french_day,
    french_month,
    month_end,
    plannings_deadline,
)
from chalicelib.calendar_rules import CommuneCalendar, booking_deadline, is_before_deadline
from chalicelib.config import Commune, Service
from chalicelib.layout import TEMPLATES_DIR, layout_globals
from chalicelib.storage import FamilyState, Storage

# Private pages: a browser may keep them for the back button, never a shared cache.
PAGE_CACHE_CONTROL = "private, no-cache"

# Page name → (template, path under the family's folder).
PAGES = {
    "accueil": ("famille/accueil.html", "index.html"),
    "compte": ("famille/compte.html", "compte/index.html"),
}


# The month pages exported around the clock's month: the previous one (absences of
# the last days), the current one and the next two (bookings close 5 weekdays ahead).
MONTHS_SHOWN = (-1, 0, 1, 2)
MONTH_TEMPLATE = "famille/mois.html"
# An absence is offered for a booked day at most this long ago (the month page shows the
# previous month; older absences are the service enfance's business).
ABSENCE_WINDOW = timedelta(days=31)


def month_page_name(child_id: str, month: date) -> str:
    """`mois:<child>:<AAAA-MM>`, the name `only` knows a month page by."""
    return f"mois:{child_id}:{month:%Y-%m}"


def month_page_path(child_id: str, month: date) -> str:
    """The month page's folder under famille/<key>/ (its address ends with this)."""
    return f"enfants/{child_id}/{month:%Y-%m}/"


def pages_showing_days(child_id: str, days) -> list[str]:
    """The pages a change of these booked days makes stale: the child's month pages of
    the months holding them (`render` skips those outside its window). The bookings route
    re-renders exactly these, and nothing else shows a booked day."""
    months = set()
    for day in days:
        value = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
        months.add(value.replace(day=1))
    return [month_page_name(child_id, month) for month in sorted(months)]


def shown_months(today: date) -> list[date]:
    """First days of the months whose pages are exported when the clock says `today`."""
    index = today.year * 12 + today.month - 1
    return [date((index + k) // 12, (index + k) % 12 + 1, 1) for k in MONTHS_SHOWN]


def _french_date(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def _request_instant(request: dict) -> datetime:
    """When a request was submitted (its sort key holds the UTC instant too)."""
    instant = datetime.fromisoformat(str(request.get("submitted_at") or request["sk"].split("#")[1]))
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _hours(moment) -> str:
    return f"{moment:%H} h {moment:%M}"


# --- the month page ---------------------------------------------------------------------

_DAY_ABBREVIATIONS = ("Lu", "Ma", "Me", "Je", "Ve", "Sa", "Di")

# Every mark of the grid: the sign shown, the words a screen reader says (and the
# legend), the cell's class. Colour only repeats what the sign and the words say.
STATUS_MARKS = {
    "validated": ("✓", "réservé", "jour-reserve"),
    "pending": ("…", "en attente", "jour-attente"),
    "refused": ("✗", "refusé", "jour-refuse"),
    "absent": ("A", "absent", "jour-absent"),
    "cancelled": ("○", "annulé", "jour-annule"),
}
CLOSURE_MARKS = {
    "public_holiday": ("F", "férié", "jour-ferie"),
    "school_holiday": ("P", "vacances", "jour-vacances"),
}
CLOSED_MARK = ("–", "fermé", "jour-ferme")
# The legend: (sign, class, words, what it means), every sign of the grid once.
LEGEND = [
    (*STATUS_MARKS["validated"][::2], "réservé", "réservation validée"),
    (*STATUS_MARKS["pending"][::2], "en attente", "service complet : demande en liste d'attente"),
    (*STATUS_MARKS["refused"][::2], "refusé", "la raison est donnée au survol du jour et dans « Votre dernière demande »"),
    (*STATUS_MARKS["absent"][::2], "absent", "absence déclarée après la date limite"),
    (*STATUS_MARKS["cancelled"][::2], "annulé", "réservation annulée à temps, non facturée"),
    (*CLOSURE_MARKS["public_holiday"][::2], "férié", "jour férié, service fermé"),
    (*CLOSURE_MARKS["school_holiday"][::2], "vacances", "vacances scolaires, service fermé"),
    (*CLOSED_MARK[::2], "fermé", "week-end ou jour sans ce service"),
]
ACTION_VERBS = {
    "reserve": "Réserver",
    "cancel": "Annuler",
    "absence": "Déclarer une absence :",
}
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


def allowed_action(day: date, service: Service, day_item: dict | None, enrolled: list[str],
                   commune: Commune, calendar: CommuneCalendar, now: datetime) -> str | None:
    """The action a parent may ask for this day now (`reserve`, `cancel`, `absence`), or
    None: the first candidate `bookings.decide` turns into a write, exactly as the
    function will decide it (absences only within `ABSENCE_WINDOW`)."""
    status = (day_item or {}).get("status")
    today = now.astimezone(commune.tz).date()
    for action in _CANDIDATES.get(status, ("reserve",)):
        if action == "absence" and day < today - ABSENCE_WINDOW:
            continue
        decision = decide(Item(day, service.code, action), enrolled=enrolled, day_item=day_item, service=service,
                          commune=commune, calendar=calendar, now=now)
        if isinstance(decision, Plan):
            return action
    return None


class FamilyPages:
    def __init__(self, s3_client, bucket: str, commune: Commune, secret: str):
        self.s3 = s3_client
        self.bucket = bucket
        self.commune = commune
        self.secret = secret
        self._environment = None
        self.calendar = CommuneCalendar(commune)

    @property
    def environment(self):
        if self._environment is None:
            from jinja2 import Environment, FileSystemLoader, select_autoescape

            self._environment = Environment(
                loader=FileSystemLoader(str(TEMPLATES_DIR)),
                autoescape=select_autoescape(default=True),
                trim_blocks=True,
                lstrip_blocks=True,
            )
            self._environment.globals["portail"] = layout_globals(self.commune)
        return self._environment

    def render(self, state: FamilyState, rank: int, now: datetime, only: list[str] | None = None) -> dict[str, str]:
        """{path under famille/<key>/: HTML} for one responsable's view of the family."""
        page_key = state.profile["page_key"]
        home = f"/famille/{page_key}/"
        responsable = next((r for r in state.responsables if int(r["rank"]) == rank), state.responsables[0])
        months = shown_months(now.astimezone(self.commune.tz).date())
        children = [
            {**c, "birth_date": _french_date(c["birth_date"]),
             "month_href": home + month_page_path(c["child_id"], months[MONTHS_SHOWN.index(0)])
             if c.get("services") else None}
            for c in state.children
        ]
        context = {
            "home": home,
            "csrf_token": sessions.csrf_token(self.secret, page_key),
            "family_number": state.profile["family_number"],
            "responsable": responsable,
            "children": children,
            "unread": state.unread_messages,
            "now": now,
        }
        pages = {
            path: self.environment.get_template(template).render(current=name, **context)
            for name, (template, path) in PAGES.items()
            if only is None or name in only
        }
        for child in state.children:
            if not child.get("services"):
                continue
            for month in months:
                name = month_page_name(child["child_id"], month)
                if only is None or name in only:
                    pages[month_page_path(child["child_id"], month) + "index.html"] = (
                        self.environment.get_template(MONTH_TEMPLATE).render(
                            current=name, **context, **self.month_context(state, child, month, months, now, home)))
        return pages

    # --- the month page -----------------------------------------------------------------

    def month_context(self, state: FamilyState, child: dict, month: date, months: list[date], now: datetime,
                      home: str) -> dict:
        """What famille/mois.html shows of one child's month."""
        commune = self.commune
        child_id = child["child_id"]
        key = f"{month:%Y-%m}"
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
                "cells": [self._cell(day, service, booked.get((day.isoformat(), service.code)), enrolled, now)
                          for day in days],
            })
        position = months.index(month)
        path = home + month_page_path(child_id, month)
        today = now.astimezone(commune.tz).date()
        return {
            "child": child,
            "month_title": _capitalised(french_month(month)),
            "month_key": key,
            "month_first": month.isoformat(),
            "month_last": last.isoformat(),
            "page_path": path,
            "columns": [{"day": d, "short": f"{_DAY_ABBREVIATIONS[d.weekday()]} {d:%d}", "long": french_day(d)}
                        for d in days],
            "rows": rows,
            "legend": LEGEND,
            "previous": self._month_link(child_id, months[position - 1], home) if position > 0 else None,
            "next": self._month_link(child_id, months[position + 1], home) if position + 1 < len(months) else None,
            "last_requests": self._last_requests(state, child_id, key),
            "pattern": self._pattern_defaults(month, last, today, now, [s for s in commune.services if s.code in enrolled]),
            "pattern_services": [s for s in commune.services if s.code in enrolled],
            "deadline_weekdays": commune.booking.deadline_weekdays,
            "deadline_time": _hours(commune.booking.deadline_time),
            "plannings_deadline": french_day(plannings_deadline(today, month)),
            # Demos and training freeze the portal's clock (`portail serve --now`): the page
            # then gives the script that instant, since the browser's clock is the real one.
            "frozen_now": now.isoformat() if os.environ.get(clock.FROZEN_ENV) else "",
        }

    def _cell(self, day: date, service: Service, day_item: dict | None, enrolled: list[str], now: datetime) -> Cell:
        commune = self.commune
        status = (day_item or {}).get("status")
        title = ""
        if status in STATUS_MARKS:
            mark, words, css = STATUS_MARKS[status]
            message = (day_item or {}).get("message") or ""
            if status == "refused" and message:
                words = f"{words} : {message}"  # the reason, read out with the mark
                title = _capitalised(words)
            else:
                title = _capitalised(words) + (f" – {message}" if message else "")
        else:
            closure = self.calendar.closure(day, service)
            if closure is None:
                mark = words = css = ""
            else:
                mark, words, css = CLOSURE_MARKS.get(closure.kind, CLOSED_MARK)
                title = closure.label
        action = allowed_action(day, service, day_item, enrolled, commune, self.calendar, now)
        if action is None:
            return Cell(day, mark, words, css, title)
        deadline = ""
        if action != "absence":
            deadline = booking_deadline(day, commune.deadline_rule(service), commune.tz).isoformat()
        return Cell(day, mark, words, css, title, action,
                    value=f"{day.isoformat()}|{service.code}|{action}",
                    label=f"{ACTION_VERBS[action]} {service.label} le {french_day(day)}",
                    deadline=deadline, field_id=f"j-{day.isoformat()}-{service.code}")

    def _month_link(self, child_id: str, month: date, home: str) -> dict:
        return {"href": home + month_page_path(child_id, month), "label": _capitalised(french_month(month))}

    def _last_requests(self, state: FamilyState, child_id: str, key: str) -> list[dict]:
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
        latest = max(_request_instant(r) for r in found)
        return [self._request_view(r) for r in sorted(found, key=lambda r: r["sk"]) if _request_instant(r) == latest]

    def _request_view(self, request: dict) -> dict:
        local = _request_instant(request).astimezone(self.commune.tz)
        items = []
        for item in request.get("items", []):
            try:
                label = self.commune.service(item.get("service", "")).label
            except KeyError:
                label = item.get("service", "")
            items.append({
                "day": french_day(date.fromisoformat(str(item["date"])[:10])),
                "service": label,
                "status": item.get("status", ""),
                "status_label": STATUS_LABELS.get(item.get("status"), item.get("status", "")),
                "message": item.get("message", ""),
            })
        return {"submitted": f"{french_day(local.date())} à {_hours(local)}",
                "channel": request.get("channel", "online"), "items": items}

    def _pattern_defaults(self, month: date, last: date, today: date, now: datetime,
                          services: list[Service]) -> dict:
        """The week pattern's suggested range: from the month's first day still open to
        bookings to the day before its next school holidays (a pattern must not span them)."""
        tz = self.commune.tz
        rules = [self.commune.deadline_rule(s) for s in services]
        start = None
        day = max(month, today)
        while day <= last:
            if (self.calendar.school_holiday(day) is None and day.weekday() < 5
                    and any(is_before_deadline(now, day, rule, tz) for rule in rules)):
                start = day
                break
            day += timedelta(days=1)
        if start is None:
            return {"from": "", "to": ""}
        end = start
        day = start
        while day <= last and not (day.weekday() < 5 and self.calendar.school_holiday(day)):
            if day.weekday() < 5:
                end = day
            day += timedelta(days=1)
        return {"from": start.isoformat(), "to": end.isoformat()}

    def publish(self, page_key: str, pages: dict[str, str]) -> None:
        for path, html in pages.items():
            self.s3.put_object(
                Bucket=self.bucket, Key=f"famille/{page_key}/{path}", Body=html.encode("utf-8"),
                ContentType="text/html; charset=utf-8", CacheControl=PAGE_CACHE_CONTROL,
            )

    def export(self, storage: Storage, family_number: str, now: datetime, only: list[str] | None = None) -> int:
        """Re-renders a family's pages (all, or `only` those named); returns how many."""
        if only is not None and not only:
            return 0
        return self.export_state(storage.family_state(family_number), now, only)

    def export_state(self, state: FamilyState, now: datetime, only: list[str] | None = None) -> int:
        """Renders and writes the pages of a family state already read."""
        if state.profile is None:
            return 0
        # The pages show the first responsable; a second one (separated parents) sees the
        # same family pages (the booked days say who booked each).
        pages = self.render(state, 1, now, only)
        self.publish(state.profile["page_key"], pages)
        return len(pages)
