"""The view model of a family's file for staff (gestion/famille.html), from ONE Query of
the family's partition (`Storage.family_state`): the responsables and their contacts,
the children with their services, the tariff bracket, one child's month grid as the
parent sees it (chalicelib.pages.month's own view model), the statement's summary, the
messages and the requests.

The grid offers each day the parent's action when the parent could take it (the
rules of `bookings.decide`); when only the deadline forbids it, the same day offers the
action staff may take by « passer outre la date limite » (`override`), never more.
Pure: the state and the clock in, a dict out.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date, datetime

from chalicelib import statement
from chalicelib.booking_requests import Item
from chalicelib.bookings import Plan, decide
from chalicelib.calendar_rules import CommuneCalendar, month_key, month_start
from chalicelib.config import Commune
from chalicelib.formatting import french_day, french_month, short_date
from chalicelib.pages.account import dashboard_context
from chalicelib.pages.exchanges import messages_view, requests_context
from chalicelib.pages.marks import ACTION_VERBS
from chalicelib.pages.month import capitalised, month_context
from chalicelib.pages.responsables import own_money, separate_accounts
from chalicelib.storage import FamilyState

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# The months the selector lists around the clock's: the last term and the school year ahead.
MONTHS_BEFORE, MONTHS_AFTER = 3, 8
_STAFF_CANDIDATES = {"validated": ("cancel", "absence"), "pending": ("cancel",), "absent": ()}


def file_href(number: str) -> str:
    return f"/gestion/familles/{number}/"


def chosen_month(text: str, today: date) -> date:
    """`?mois=AAAA-MM`, else the clock's month (a month out of reach reads as the current)."""
    match = _MONTH.fullmatch(text or "")
    if match and 1 <= int(match[2]) <= 12 and abs(int(match[1]) - today.year) <= 5:
        return date(int(match[1]), int(match[2]), 1)
    return month_start(today)


def staff_action(day: date, service, day_item: dict | None, enrolled: list[str], commune: Commune,
                 calendar: CommuneCalendar, now: datetime) -> str | None:
    """The action staff may take past the deadline (the parent's rules without it)."""
    status = (day_item or {}).get("status")
    for action in _STAFF_CANDIDATES.get(status, ("reserve",)):
        decision = decide(Item(day, service.code, action), enrolled=enrolled, day_item=day_item, service=service,
                          commune=commune, calendar=calendar, now=now, apply_deadline=False)
        if isinstance(decision, Plan):
            return action
    return None


def _booked_by(state: FamilyState) -> dict[int, str]:
    """Rank → « Responsable 2 : ROBERT THOMAS », for a family with two responsables (the
    grid then says who booked each day, and is billed for it); empty with one."""
    if len(state.responsables) < 2:
        return {}
    return {int(r["rank"]): f"Responsable {int(r['rank'])} : {r.get('last_name', '')} {r.get('first_name', '')}"
            for r in state.responsables}


def staff_grid(state: FamilyState, child: dict, month: date, now: datetime, commune: Commune,
               calendar: CommuneCalendar, frozen: bool) -> dict:
    """The parent's month view model, each cell with the action staff may take and, with two
    responsables, the rank of the one who booked the day and is billed for it (`rank`)."""
    home = f"/famille/{state.profile['page_key']}/"
    grid = month_context(state, child, month, [month], now, home, commune=commune, calendar=calendar, frozen=frozen)
    days = {d["sk"]: d for d in state.days}
    enrolled = list(child.get("services", []))
    names = _booked_by(state)
    for row in grid["rows"]:
        service = row["service"]
        cells = []
        for cell in row["cells"]:
            view = {**asdict(cell), "override": False, "rank": None}
            booked = days.get(f"DAY#{child['child_id']}#{cell.day.isoformat()}#{service.code}")
            if names and booked and booked.get("status") in ("validated", "pending", "absent"):
                rank = int(booked.get("responsable_rank") or 1)
                view.update(rank=rank, words=f"{cell.words}, {names.get(rank, f'Responsable {rank}')}",
                            title=f"{cell.title or cell.words} – {names.get(rank, f'Responsable {rank}')}")
            if cell.action is None:
                day_item = days.get(f"DAY#{child['child_id']}#{cell.day.isoformat()}#{service.code}")
                action = staff_action(cell.day, service, day_item, enrolled, commune, calendar, now)
                if action is not None:
                    view.update(action=action, override=True, value=f"{cell.day.isoformat()}|{service.code}|{action}",
                                field_id=f"j-{cell.day.isoformat()}-{service.code}",
                                label=f"{ACTION_VERBS[action]} {service.label} le {french_day(cell.day)} "
                                      "(après la date limite : passer outre)")
            cells.append(view)
        row["cells"] = cells
    grid["has_override"] = any(c["override"] for row in grid["rows"] for c in row["cells"])
    grid["booked_by"] = [{"rank": rank, "name": name} for rank, name in sorted(names.items())]
    return grid


def family_file(state: FamilyState, commune: Commune, now: datetime, *, child_id: str = "", month: str = "",
                calendar: CommuneCalendar | None = None, frozen: bool = False) -> dict:
    """What gestion/famille.html shows of one family."""
    calendar = calendar or CommuneCalendar(commune)
    profile = state.profile
    number = profile["family_number"]
    today = now.astimezone(commune.tz).date()
    services = {s.code: s for s in commune.services}
    brackets = {b.code: b.label for b in commune.quotient_brackets}
    children = [{
        "child_id": c["child_id"], "first_name": c.get("first_name", ""), "last_name": c.get("last_name", ""),
        "birth_date": short_date(c.get("birth_date")), "sex": c.get("sex", ""),
        "services": [{"code": s.code, "label": s.label, "enrolled": s.code in c.get("services", [])}
                     for s in commune.services],
        "enrolled_labels": [services[code].label for code in c.get("services", []) if code in services],
    } for c in sorted(state.children, key=lambda c: str(c["child_id"]))]
    shown = next((c for c in state.children if c["child_id"] == child_id), None)
    if shown is None:
        shown = next((c for c in state.children if c.get("services")), state.children[0] if state.children else None)
    chosen = chosen_month(month, today)
    months = [month_start(today, k) for k in range(-MONTHS_BEFORE, MONTHS_AFTER + 1)]
    if chosen not in months:
        months = sorted([*months, chosen])
    position = months.index(chosen)
    href = file_href(number)

    def grid_href(month_: date) -> str:
        return f"{href}?enfant={shown['child_id']}&mois={month_key(month_)}#grille"

    account = statement.account(state.operations, state.invoices, today, commune.year_start)
    summary = dashboard_context(account, None)
    separate = separate_accounts(profile, state.responsables)
    accounts = []
    if separate:  # each responsable's own account, as their pages show it
        for person in sorted(state.responsables, key=lambda r: int(r["rank"])):
            mine = own_money(state, int(person["rank"]))
            own = dashboard_context(statement.account(mine.operations, mine.invoices, today, commune.year_start), None)
            accounts.append({"title": f"Responsable {int(person['rank'])} : {person.get('civility', '')} "
                                      f"{person.get('last_name', '')} {person.get('first_name', '')}",
                             "rank": int(person["rank"]), **own})
    return {
        "number": number,
        "href": href,
        "profile": {"address": profile.get("address", ""), "postal_code": profile.get("postal_code", ""),
                    "city": profile.get("city", ""), "bracket": profile.get("quotient_bracket", ""),
                    "bracket_label": brackets.get(profile.get("quotient_bracket", ""), "")},
        "brackets": [{"code": code, "label": label} for code, label in brackets.items()],
        "responsables": sorted(({k: r.get(k, "") for k in ("civility", "last_name", "first_name", "login", "email",
                                                           "phone")} | {"rank": int(r["rank"])}
                                for r in state.responsables), key=lambda r: r["rank"]),
        "children": children,
        "grid_child": shown,
        "grid": staff_grid(state, shown, chosen, now, commune, calendar, frozen) if shown else None,
        "months": [{"key": month_key(m), "label": capitalised(french_month(m)), "selected": m == chosen}
                   for m in months],
        "previous_month": grid_href(months[position - 1]) if shown and position > 0 else "",
        "next_month": grid_href(months[position + 1]) if shown and position + 1 < len(months) else "",
        "account": summary["account"],
        "unpaid": summary["unpaid"],
        # « compte commun » (one account, one set of pages) or each responsable's own.
        "separate_accounts": separate,
        "accounts": accounts,
        "messages": messages_view(state, f"/famille/{profile['page_key']}/", commune.tz),
        **requests_context(state, commune),
    }

