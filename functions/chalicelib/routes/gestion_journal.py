"""The staff journal (`GET /gestion/journal/`, admin only: chalicelib/staff/roles.py): every
staff action, who, when, what, which family, newest first; filtered by agent, family and
day with a GET form (docs/http-api.md). The reads: chalicelib/staff/journal.py."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlencode

from chalicelib.routes.staff_calls import StaffCall, StaffRoutes

routes = StaffRoutes(__name__)

PAGE_URL = "/gestion/journal/"
# A filter's value as the page's links and form give it: an actor (a staff login, the
# commands' `staff`, `inconnu:<hash>` for an unknown login), a family number, a day.
_ACTOR = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:+-]{0,99}")
_FAMILY = re.compile(r"\d{1,20}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _filters(call: StaffCall) -> tuple[str, str, date | None]:
    """The form's filters, or a French 400 (nothing read) when one is not well formed."""
    from chalicelib.staff.journal import JournalError

    agent, family, day_text = (call.query(name).strip() for name in ("agent", "famille", "jour"))
    if agent and not _ACTOR.fullmatch(agent):
        raise JournalError(400, "invalid_agent", "Agent invalide : choisissez un agent dans la liste.")
    if family and not _FAMILY.fullmatch(family):
        raise JournalError(400, "invalid_family", "Numéro de famille invalide : saisissez des chiffres seulement "
                                                  "(par exemple 1042).")
    day = None
    if day_text:
        try:
            day = date.fromisoformat(day_text) if _DAY.fullmatch(day_text) else None
        except ValueError:
            day = None
        if day is None:
            raise JournalError(400, "invalid_day", "Jour invalide : saisissez une date au format JJ/MM/AAAA "
                                                   "(ou AAAA-MM-JJ).")
    return agent, family, day


def _link(**parameters) -> str:
    query = urlencode({k: v for k, v in parameters.items() if v not in (None, "")})
    return PAGE_URL + ("?" + query if query else "")


@routes.route("/gestion/journal", methods=["GET"])
@routes.staff_call("journal")
def journal_page(call: StaffCall):
    from chalicelib.dependencies import commune, staff_accounts, storage
    from chalicelib.formatting import french_day, hours, short_date
    from chalicelib.staff import journal
    from chalicelib.staff.journal_store import CLI_ACTORS

    agent, family, asked_day = _filters(call)
    before = call.query("avant") or None
    tz = commune().tz
    today = call.now.astimezone(tz).date()
    unfiltered = not (agent or family)
    # The whole journal shows a day at a time (today's first); a filter, every day.
    day = asked_day or (today if unfiltered and not before else None)
    page = journal.entries(storage(), actor=agent or None, family=family or None, day=day, before=before,
                           limit=journal.PAGE, tz=tz)
    rows = [{"when": f"{short_date(e.at.date())} à {hours(e.at)}", "iso": e.at.isoformat(), "actor": e.actor,
             "actor_href": _link(agent=e.actor), "label": e.label, "family": e.family,
             "family_href": f"/gestion/familles/{e.family}/" if e.family else None, "summary": e.summary}
            for e in page.entries]
    shown_day = page.day.isoformat() if page.day else ""
    older = _link(agent=agent, famille=family, jour=shown_day, avant=page.next_cursor) if page.next_cursor else None
    days = None
    if unfiltered and page.day:
        days = {"previous": _link(jour=(page.day - timedelta(days=1)).isoformat()),
                "next": _link(jour=(page.day + timedelta(days=1)).isoformat()) if page.day < today else None}
    agents = sorted({account.login for account in staff_accounts().accounts()})
    return call.render(
        "gestion/journal.html", rows=rows, older=older, days=days, continued=before is not None,
        newest=_link(agent=agent, famille=family, jour=shown_day),
        agent=agent, family=family, day=asked_day.isoformat() if asked_day else "",
        agents=agents, commands=[a for a in CLI_ACTORS if a not in agents],
        heading=_heading(agent, family, page.day, french_day))


def _heading(agent: str, family: str, day: date | None, french_day) -> str:
    """What the table shows, in words: « Actions de l'agent marie sur la famille 1042 »."""
    if not (agent or family):
        return f"Actions du {french_day(day)}"
    parts = ["Actions"]
    if agent:
        parts.append(f"de l'agent {agent}")
    if family:
        parts.append(f"sur la famille {family}")
    if day:
        parts.append(f"le {french_day(day)}")
    return " ".join(parts)
