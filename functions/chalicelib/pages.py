"""The family pages export: a family's private pages rendered from its state (one
Query) with the shared layout, and written to the private pages bucket under
`famille/<page key>/`. CloudFront serves them behind the signed cookies (DESIGN §1).

Pages and the names `only` knows them by (docs/family-pages.md):
- `accueil` (index.html, the dashboard), `compte`, `enfants`, `factures`, `reglements`,
  `demandes`: one file each;
- `releve`: `releve/` (the current school year) and `releve/<AAAA-AAAA>/` per school
  year of the account; `messages`: the inbox `messages/` and `messages/<id>/` per message;
- `mois:<child>:<AAAA-MM>`: each child enrolled in a service has one month page per
  month of the window around the clock (`MONTHS_SHOWN`), `enfants/<child>/<AAAA-MM>/`.
  It holds the guide's grid (one row per service, one column per day), the booking form
  around it, the week pattern form and the child's last request touching that month.
  Which action a cell offers is asked of `bookings.decide`, the very rule the function
  applies: no rule is written twice.

A write re-renders only the pages it makes stale: `pages_showing_days` (bookings),
`pages_showing_messages` (a message sent or read), `pages_showing_billing` (an invoice
run, payments). The figures of the account come from `statement.account`, one function
for the dashboard and the statement. The notices for all parents are one item
(`NOTICES`/`CURRENT`, written by `portail build`), read once per export run.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

from chalicelib import certificates, clock, safe_markdown, sessions, statement
from chalicelib.bookings import (
    STATUS_LABELS,
    Item,
    Plan,
    after_staff_refusal,
    decide,
)
from chalicelib.calendar_rules import (
    CommuneCalendar,
    booking_deadline,
    is_before_deadline,
    month_end,
    month_start,
    plannings_deadline,
)
from chalicelib.config import Commune, Service
from chalicelib.formatting import euros, french_day, french_moment, french_month, hours, short_date
from chalicelib.layout import TEMPLATES_DIR, layout_globals
from chalicelib.storage import FamilyState, Storage

log = logging.getLogger("portail.pages")

# Private pages: a browser may keep them for the back button, never a shared cache.
PAGE_CACHE_CONTROL = "private, no-cache"

# Page name → (template, path under the family's folder): the pages of one file each.
PAGES = {
    "accueil": ("famille/accueil.html", "index.html"),
    "compte": ("famille/compte.html", "compte/index.html"),
    "enfants": ("famille/enfants.html", "enfants/index.html"),
    "factures": ("famille/factures.html", "factures/index.html"),
    "reglements": ("famille/reglements.html", "reglements/index.html"),
    "demandes": ("famille/demandes.html", "demandes/index.html"),
}
# Names of several files: the statement per school year, the inbox and its messages.
STATEMENT_TEMPLATE = "famille/releve.html"
INBOX_TEMPLATE = "famille/messages.html"
MESSAGE_TEMPLATE = "famille/message.html"
# The entry of the family menu each page belongs to (aria-current).
MENU_SECTIONS = {"factures": "releve", "reglements": "releve", "mois": "enfants", "message": "messages"}

# The notices for all parents (portail/notices.py writes them at `portail build`).
NOTICES_PK, NOTICES_SK = "NOTICES", "CURRENT"
NOTICES_SHOWN = 5  # on the dashboard, the most recent current ones
# The « liste des demandes » shows this many requests, the most recent first.
REQUESTS_SHOWN = 100
# Concurrent S3 PUTs of `export_all` (boto3 clients are thread-safe).
UPLOAD_THREADS = 8
# The nightly run is split in slices of families, one per scheduled invocation, so that
# each slice ends well within Lambda's 15 minutes however many families there are.
NIGHTLY_SLICES = 12
NIGHTLY_SLICE_MINUTES = 5


def nightly_slice(scheduled_at: datetime) -> int:
    """Which slice of the families a nightly invocation exports: the runs are scheduled
    every NIGHTLY_SLICE_MINUTES within one hour (app.NIGHTLY_EXPORT), the minute says which."""
    return (scheduled_at.minute // NIGHTLY_SLICE_MINUTES) % NIGHTLY_SLICES


def in_slice(family_number: str, index: int, count: int) -> bool:
    """A family's slice: a stable hash of its number, so each family is in exactly one."""
    import zlib

    return zlib.crc32(str(family_number).encode()) % count == index


def page_etag(html: str) -> str:
    """The ETag S3 gives a page stored in one PUT (SSE-S3): the MD5 of its bytes, quoted."""
    import hashlib

    return '"' + hashlib.md5(html.encode("utf-8"), usedforsecurity=False).hexdigest() + '"'


# The month pages exported around the clock's month: the previous one (absences of
# the last days), the current one and the next two (bookings close 5 weekdays ahead).
MONTHS_SHOWN = (-1, 0, 1, 2)
MONTH_TEMPLATE = "famille/mois.html"


def month_page_name(child_id: str, month: date) -> str:
    """`mois:<child>:<AAAA-MM>`, the name `only` knows a month page by."""
    return f"mois:{child_id}:{month:%Y-%m}"


def month_page_path(child_id: str, month: date) -> str:
    """The month page's folder under famille/<key>/ (its address ends with this)."""
    return f"enfants/{child_id}/{month:%Y-%m}/"


def pages_showing_days(child_id: str, days) -> list[str]:
    """The pages a change of these booked days makes stale: the child's month pages of
    the months holding them (`render` skips those outside its window) and the « liste
    des demandes » (a submission adds a request to it, and it says what became of a day
    waiting for a seat). The bookings route re-renders exactly these."""
    months = set()
    for day in days:
        value = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
        months.add(value.replace(day=1))
    if not months:
        return []
    return [*(month_page_name(child_id, month) for month in sorted(months)), "demandes"]


def pages_showing_messages() -> list[str]:
    """The pages a message sent or read makes stale: the dashboard (its count of unread
    messages) and the inbox with every message's page."""
    return ["accueil", "messages"]


def pages_showing_billing() -> list[str]:
    """The pages an invoice run or a payment makes stale: the dashboard (balance, unpaid
    invoices), « Mes factures », « Mes règlements » and the statement's pages."""
    return ["accueil", "factures", "reglements", "releve"]


def current_notices(item: dict | None, now: datetime) -> list[dict]:
    """The notices of the NOTICES item still current at `now`, the most recent first.

    `expires` is the last instant a notice is shown (portail/notices.py: the end of its
    `Expires` day or minute): past it, the next export leaves the notice out."""
    shown = []
    for notice in (item or {}).get("notices", []):
        expires = notice.get("expires")
        if expires:
            moment = datetime.fromisoformat(str(expires))
            if now > (moment if moment.tzinfo else moment.replace(tzinfo=UTC)):
                continue
        shown.append(notice)
    shown.sort(key=lambda n: str(n.get("date", "")), reverse=True)
    return shown


def shown_months(today: date) -> list[date]:
    """First days of the months whose pages are exported when the clock says `today`."""
    return [month_start(today, k) for k in MONTHS_SHOWN]


def _page_id(value: str) -> str:
    """A name safe in a page's path (ids are hex; anything else is dropped)."""
    return re.sub(r"[^A-Za-z0-9_-]", "", value)


def message_id(message: dict) -> str:
    """A message's id: its attribute, else the end of its sort key (MESSAGE#<instant>#<id>)."""
    return _page_id(str(message.get("message_id") or message["sk"].rsplit("#", 1)[-1]))


def _request_instant(request: dict) -> datetime:
    """When a request was submitted (its sort key holds the UTC instant too)."""
    instant = datetime.fromisoformat(str(request.get("submitted_at") or request["sk"].split("#")[1]))
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


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
    (*STATUS_MARKS["pending"][::2], "en attente",
     "service complet : demande en liste d'attente ; ou jour demandé à nouveau après un refus, "
     "en attente de la décision du service enfance"),
    (*STATUS_MARKS["refused"][::2], "refusé",
     "refusé par le service enfance, qui donne sa raison au survol du jour et sous le calendrier ; "
     "vous pouvez le demander à nouveau : le service enfance l'examine, il n'est pas validé d'office"),
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
# A day the service enfance refused, asked for again (bookings.after_staff_refusal).
REVIEW_VERB = "Redemander"
REVIEW_NOTE = "le service enfance examinera la demande, elle ne sera pas validée d'office"
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
    function will decide it (absences only within `bookings.ABSENCE_WINDOW`)."""
    status = (day_item or {}).get("status")
    for action in _CANDIDATES.get(status, ("reserve",)):
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

    def render(self, state: FamilyState, rank: int, now: datetime, only: list[str] | None = None,
               notices: list[dict] | None = None) -> dict[str, str]:
        """{path under famille/<key>/: HTML} for one responsable's view of the family;
        `notices` are the current notices for all parents (`current_notices`)."""
        page_key = state.profile["page_key"]
        home = f"/famille/{page_key}/"
        responsable = next((r for r in state.responsables if int(r["rank"]) == rank), state.responsables[0])
        today = now.astimezone(self.commune.tz).date()
        months = shown_months(today)
        this_month = months[MONTHS_SHOWN.index(0)]
        children = [
            {**c, "birth_date": short_date(c["birth_date"]),
             "month_href": home + month_page_path(c["child_id"], this_month) if c.get("services") else None,
             "months": [self._month_link(c["child_id"], m, home) for m in months] if c.get("services") else []}
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
            "today_label": french_day(today),
        }

        def wanted(name: str) -> bool:
            return only is None or name in only

        def page(template: str, name: str, **extra) -> str:
            section = MENU_SECTIONS.get(name.split(":")[0], name)
            return self.environment.get_template(template).render(current=name, section=section, **context, **extra)

        account = None
        if any(wanted(name) for name in ("accueil", "factures", "releve")):
            account = statement.account(state.operations, state.invoices, today, self.commune.year_start)
        extras = {
            "accueil": lambda: {"account": self._account_view(account), "unpaid": self._unpaid_view(account),
                                "notices": [self._notice_view(n) for n in (notices or [])[:NOTICES_SHOWN]]},
            "factures": lambda: {"invoices": self._invoices_view(state, account)},
            "reglements": lambda: {"payments": self._payments_view(state)},
            "demandes": lambda: self._requests_context(state),
        }
        pages = {}
        for name, (template, path) in PAGES.items():
            if wanted(name):
                pages[path] = page(template, name, **extras.get(name, dict)())
        if wanted("releve"):
            years = sorted({y.school_year for y in account.years} | {account.current_year})
            for year in years:
                html = page(STATEMENT_TEMPLATE, "releve", **self._statement_context(account, year, years, home))
                pages[f"releve/{year}/index.html"] = html
                if year == account.current_year:
                    pages["releve/index.html"] = html
        if wanted("messages"):
            messages = self._messages_view(state, home)
            pages["messages/index.html"] = page(INBOX_TEMPLATE, "messages", messages=messages)
            for message in messages:
                pages[f"messages/{message['id']}/index.html"] = page(MESSAGE_TEMPLATE, "message", message=message)
        for child in state.children:
            if not child.get("services"):
                continue
            for month in months:
                name = month_page_name(child["child_id"], month)
                if wanted(name):
                    pages[month_page_path(child["child_id"], month) + "index.html"] = page(
                        MONTH_TEMPLATE, name, **self.month_context(state, child, month, months, now, home))
        return pages

    # --- the dashboard, invoices, payments, statement ---------------------------------------

    @staticmethod
    def _account_view(account: statement.Account) -> dict:
        return {"balance": euros(account.balance), "owes": account.balance < 0}

    @staticmethod
    def _unpaid_view(account: statement.Account) -> dict:
        return {
            "invoices": [{"number": i.number, "invoice_date": short_date(i.invoice_date),
                          "due_date": short_date(i.due_date), "total": euros(i.total),
                          "left": euros(i.left_to_pay), "pdf_href": invoice_pdf_href(i.number)}
                         for i in account.unpaid],
            "total": euros(account.unpaid_total),
        }

    @staticmethod
    def _notice_view(notice: dict) -> dict:
        return {"title": notice.get("title", ""), "url": notice.get("url", ""),
                "summary": notice.get("summary", ""), "date": short_date(notice.get("date"))}

    @staticmethod
    def _invoices_view(state: FamilyState, account: statement.Account) -> list[dict]:
        unpaid = {i.number for i in account.unpaid}
        views = []
        for item in sorted(state.invoices, key=lambda i: (str(i.get("invoice_date", "")), str(i["number"])),
                           reverse=True):
            left = statement.left_to_pay(item)
            paid = item.get("paid_amount") or 0
            views.append({
                "number": str(item["number"]), "period": item.get("period_label", ""),
                "responsable": item.get("responsable_name", ""),
                "invoice_date": short_date(item.get("invoice_date")), "due_date": short_date(item.get("due_date")),
                "total": euros(item.get("total") or 0), "paid": euros(paid), "left": euros(left),
                "state": "payée" if left == 0 else ("à payer" if str(item["number"]) in unpaid else "à venir"),
                "pdf_href": invoice_pdf_href(str(item["number"])),
            })
        return views

    @staticmethod
    def _payments_view(state: FamilyState) -> list[dict]:
        views = []
        for item in sorted(state.payments, key=lambda p: p["sk"], reverse=True):
            allocations = item.get("allocations")
            if allocations is None:  # before the billing contract: the invoices' numbers only
                allocations = [{"invoice_number": n} for n in item.get("invoice_numbers", [])]
            views.append({
                "date": short_date(item.get("date")), "mode": item.get("mode", ""),
                "amount": euros(item.get("amount") or 0),
                "invoices": [{"number": a["invoice_number"],
                              "amount": euros(a["amount"]) if a.get("amount") is not None else ""}
                             for a in allocations],
                "unallocated": euros(item["unallocated"]) if item.get("unallocated") else "",
            })
        return views

    @staticmethod
    def _statement_context(account: statement.Account, year: str, years: list[str], home: str) -> dict:
        shown = account.year(year)
        return {
            "school_year": year,
            "years": [{"label": y, "href": f"{home}releve/{y}/", "current": y == year} for y in years],
            "opening_balance": euros(shown.opening_balance),
            "operations": [{"number": o.number, "date": short_date(o.day), "description": o.description,
                            "regie": o.regie, "debit": euros(o.debit) if o.debit else "",
                            "credit": euros(o.credit) if o.credit else ""} for o in shown.operations],
            "total_debit": euros(shown.total_debit),
            "total_credit": euros(shown.total_credit),
            "balance": euros(shown.balance),
            "owes": shown.balance < 0,
        }

    # --- messages and requests ------------------------------------------------------------

    def _local_moment(self, value) -> str:
        instant = datetime.fromisoformat(str(value))
        local = (instant if instant.tzinfo else instant.replace(tzinfo=UTC)).astimezone(self.commune.tz)
        return french_moment(local)

    def _messages_view(self, state: FamilyState, home: str) -> list[dict]:
        views = []
        for item in sorted(state.messages, key=lambda m: m["sk"], reverse=True):
            identifier = message_id(item)
            if not identifier:
                continue
            sent = item.get("sent_at") or item["sk"].split("#")[1]
            views.append({
                "id": identifier, "href": f"{home}messages/{identifier}/",
                "subject": item.get("subject") or "(sans objet)", "sender": item.get("sender", ""),
                "sent": self._local_moment(sent),
                "unread": not item.get("read_at"),
                "read": self._local_moment(item["read_at"]) if item.get("read_at") else "",
                # Rendered and sanitised at send time by `portail messages send`; a message
                # the function itself wrote carries Markdown only: its safe subset here.
                "body_html": item.get("body_html") or safe_markdown.render(item.get("body_markdown", "")),
            })
        return views

    def _requests_context(self, state: FamilyState) -> dict:
        names = {c["child_id"]: c["first_name"] for c in state.children}
        days = {d["sk"]: d for d in state.days}
        ordered = sorted(state.requests, key=lambda r: r["sk"], reverse=True)
        return {"requests": [self._demand_view(r, names, days, state.certificates) for r in ordered[:REQUESTS_SHOWN]],
                "requests_total": len(ordered), "requests_shown": REQUESTS_SHOWN}

    def _demand_view(self, request: dict, names: dict, days: dict, certificates_read: list[dict]) -> dict:
        view = self._request_view(request)
        child_id = request.get("child_id", "")
        view["child"] = names.get(child_id, "")
        view["kind"] = REQUEST_KINDS.get(request.get("type", "booking"), "Demande")
        if view["kind"] == REQUEST_KINDS["booking"] and view["channel"] == "paper":
            view["kind"] = "Planning papier"
        # A certificate's line says what it is now (awaited, under review, decided), not
        # what it was when it was sent.
        certificate = _certificate_of(request, certificates_read) if request.get("type") == "certificate" else None
        for item, raw in zip(view["items"], request.get("items", []), strict=True):
            item["action"] = ACTION_NOUNS.get(raw.get("action", ""), "")
            if certificate is not None:
                item["status"] = certificates.state_of(certificate)
                item["status_label"] = certificates.family_words(certificate)
                item["message"] = ""
            elif request.get("type") == "certificate_decision":
                item["status_label"] = CERTIFICATE_DECISIONS.get(raw.get("status"), raw.get("status", ""))
            elif raw.get("status") == "received":
                item["status_label"] = "reçu"
            # A day that waited for a seat: what became of it since.
            current = days.get(f"DAY#{child_id}#{str(raw.get('date', ''))[:10]}#{raw.get('service', '')}")
            if raw.get("status") == "pending" and current and current.get("status") != "pending":
                item["now_label"] = STATUS_LABELS.get(current["status"], current["status"])
        return view

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
        # The days staff refused, said in words under the grid: why, and what asking again does.
        refused_days = [{"day": french_day(cell.day), "service": row["service"].label,
                         "message": (booked.get((cell.day.isoformat(), row["service"].code)) or {}).get("message", ""),
                         "again": cell.action == "reserve"}
                        for row in rows for cell in row["cells"] if cell.css == STATUS_MARKS["refused"][2]]
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
            "refused_days": refused_days,
            "review_note": REVIEW_NOTE,
            "legend": LEGEND,
            "previous": self._month_link(child_id, months[position - 1], home) if position > 0 else None,
            "next": self._month_link(child_id, months[position + 1], home) if position + 1 < len(months) else None,
            "last_requests": self._last_requests(state, child_id, key),
            "pattern": self._pattern_defaults(month, last, today, now, [s for s in commune.services if s.code in enrolled]),
            "pattern_services": [s for s in commune.services if s.code in enrolled],
            "deadline_weekdays": commune.booking.deadline_weekdays,
            "deadline_time": hours(commune.booking.deadline_time),
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
        label = f"{ACTION_VERBS[action]} {service.label} le {french_day(day)}"
        if action == "reserve" and after_staff_refusal(day_item):
            label = f"{REVIEW_VERB} {service.label} le {french_day(day)} : {REVIEW_NOTE}"
            title = f"{title.rstrip('.')}. Vous pouvez redemander ce jour : {REVIEW_NOTE}."
        return Cell(day, mark, words, css, title, action,
                    value=f"{day.isoformat()}|{service.code}|{action}",
                    label=label, deadline=deadline, field_id=f"j-{day.isoformat()}-{service.code}")

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
        return {"submitted": french_moment(local),
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
            self._put(page_key, path, html)

    def _put(self, page_key: str, path: str, html: str) -> None:
        self.s3.put_object(
            Bucket=self.bucket, Key=f"famille/{page_key}/{path}", Body=html.encode("utf-8"),
            ContentType="text/html; charset=utf-8", CacheControl=PAGE_CACHE_CONTROL,
        )

    def _stored_etags(self, page_key: str) -> dict[str, str]:
        """{path under the family's folder: ETag} of its stored pages."""
        prefix = f"famille/{page_key}/"
        etags = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                etags[entry["Key"][len(prefix):]] = entry["ETag"]
        return etags

    def notices(self, storage: Storage, now: datetime) -> list[dict]:
        """The notices for all parents current at `now`: one GetItem."""
        return current_notices(storage.get(NOTICES_PK, NOTICES_SK), now)

    def export(self, storage: Storage, family_number: str, now: datetime, only: list[str] | None = None,
               *, state: FamilyState | None = None) -> int:
        """Re-renders a family's pages (all, or `only` those named); returns how many.
        `state`: the family's state when the caller has just read it (saves the Query)."""
        if only is not None and not only:
            return 0
        if state is None:
            state = storage.family_state(family_number)
        notices = self.notices(storage, now) if only is None or "accueil" in only else None
        return self.export_state(state, now, only, notices)

    def export_state(self, state: FamilyState, now: datetime, only: list[str] | None = None,
                     notices: list[dict] | None = None) -> int:
        """Renders and writes the pages of a family state already read."""
        if state.profile is None:
            return 0
        # The pages show the first responsable; a second one (separated parents) sees the
        # same family pages (the booked days, invoices and payments say whose they are).
        pages = self.render(state, 1, now, only, notices)
        self.publish(state.profile["page_key"], pages)
        return len(pages)

    def export_all(self, storage: Storage, now: datetime, states: Iterable[FamilyState] | None = None,
                   family_slice: tuple[int, int] | None = None) -> ExportReport:
        """Every family's pages (the nightly run, `portail build --families`): the notices
        are read once; the families one Query each (`storage.family_numbers()`), unless
        `states` are given (the command line reads them all from one Scan). A family that
        fails is logged and counted; the others are exported all the same.

        S3 answers a PUT in tens of milliseconds and a family has about twenty pages: a
        family's pages are uploaded by UPLOAD_THREADS threads while the next family is
        read and rendered. Only the pages whose content changed are written: one
        ListObjectsV2 of the family's folder gives the stored pages' ETags (a night
        changes the dashboard's date and the months whose deadlines passed, not the
        twenty pages; a PUT costs as much as the LIST). `family_slice` = (index, count) exports
        only the families of that slice (the nightly run's invocations, `in_slice`)."""
        from concurrent.futures import ThreadPoolExecutor

        report = ExportReport()
        notices = self.notices(storage, now)
        if states is None:
            states = (_LazyState(storage, number) for number in storage.family_numbers()
                      if family_slice is None or in_slice(number, *family_slice))

        def failed(number) -> None:
            log.exception("family %s: pages not exported", number)
            report.failed.append(str(number))

        def settle(number, futures) -> None:
            try:
                for future in futures:
                    future.result()
            except Exception:  # noqa: BLE001 - one family must not stop the others' export
                failed(number)
                return
            report.pages += len(futures)
            report.families += 1

        pending = None
        with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
            for state in states:
                number = state.number if isinstance(state, _LazyState) else (state.profile or {}).get("family_number")
                try:
                    if isinstance(state, _LazyState):
                        state = state.read()
                    if state.profile is None:
                        continue
                    pages = self.render(state, 1, now, None, notices)
                except Exception:  # noqa: BLE001 - one family must not stop the others' export
                    failed(number)
                    continue
                key = state.profile["page_key"]
                try:
                    stored = self._stored_etags(key)
                except Exception:  # noqa: BLE001 - one family must not stop the others' export
                    failed(number)
                    continue
                changed = {path: html for path, html in pages.items() if stored.get(path) != page_etag(html)}
                report.unchanged += len(pages) - len(changed)
                futures = [pool.submit(self._put, key, path, html) for path, html in changed.items()]
                if pending:
                    settle(*pending)
                pending = (number, futures)
            if pending:
                settle(*pending)
        return report


@dataclass
class ExportReport:
    families: int = 0
    pages: int = 0  # pages written
    unchanged: int = 0  # pages rendered the same as the stored ones, not written again
    failed: list[str] = field(default_factory=list)


@dataclass
class _LazyState:
    """A family read when its turn comes (one Query), so that a failing read is that
    family's failure only, and memory holds one family at a time."""

    storage: Storage
    number: str

    def read(self) -> FamilyState:
        return self.storage.family_state(self.number)


def _certificate_of(request: dict, found: list[dict]) -> dict | None:
    """The certificate a « certificate » request line was sent with: by its id, or (lines
    written before the id was kept) by child and instant."""
    identifier = request.get("certificate_id")
    for item in found:
        if identifier:
            if certificates.certificate_id(item) == identifier:
                return item
        elif item.get("child_id") == request.get("child_id") and item.get("recorded_at") == request.get("submitted_at"):
            return item
    return None


def invoice_pdf_href(number: str) -> str:
    """The function's address of an invoice's PDF (ownership checked there)."""
    return f"/api/invoices/{quote(number, safe='')}/pdf"


# What the « liste des demandes » calls each kind of request and each action.
REQUEST_KINDS = {"booking": "Réservation en ligne", "certificate": "Certificat médical",
                 "staff_decision": "Décision du service enfance",
                 "certificate_decision": "Décision sur un certificat médical"}
CERTIFICATE_DECISIONS = {"accepted": "accepté", "refused": "refusé"}
ACTION_NOUNS = {"reserve": "réservation", "cancel": "annulation", "absence": "absence",
                "certificate": "certificat médical", "accept": "acceptation", "refuse": "refus"}
