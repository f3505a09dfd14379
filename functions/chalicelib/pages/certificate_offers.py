"""The view model of « Envoyer le certificat médical » (famille/certificat.html, shown by
a child's month page and « Liste des demandes »): each recent absence of a child whose
following days a medical certificate would excuse, and the state of its certificate.

The first day of an absence is billed; the following ones (`CommuneCalendar.
follows_absence`, the rule billing applies) are not once a certificate covering them is
accepted (docs/billing.md). An absence is offered a certificate while none covers it, or
the last one is awaiting its file or was refused; one received (« à examiner ») or
accepted says so without a form. Pure: the state is read by the caller.
"""

from __future__ import annotations

from datetime import date

from chalicelib import certificates
from chalicelib.calendar_rules import CommuneCalendar
from chalicelib.config import Commune
from chalicelib.formatting import french_day
from chalicelib.pages.names import shown_months
from chalicelib.storage import FamilyState

# No certificate covers the absence yet (the certificate's own states follow).
NONE = "none"
# What the parent reads of each state (a refusal adds its reason).
STATE_WORDS = {
    NONE: "certificat médical attendu",
    certificates.AWAITED: "certificat médical attendu (le fichier n'est pas encore arrivé)",
    certificates.TO_REVIEW: "certificat reçu, à examiner par le service enfance",
    certificates.ACCEPTED: "certificat accepté, les jours d'absence qui suivent le premier ne sont pas facturés",
    certificates.REFUSED: "certificat refusé",
}
# The states in which the page offers the form (again).
SENDABLE = (NONE, certificates.AWAITED, certificates.REFUSED)
# The file types a parent chooses from without script (S3's policy fixes one of them).
FILE_TYPES = (("application/pdf", "PDF"), ("image/jpeg", "photo JPEG"), ("image/png", "image PNG"))


def state_words(item: dict | None) -> str:
    """The state of an absence's certificate in words (`item` None: no certificate)."""
    if item is None:
        return STATE_WORDS[NONE]
    state = certificates.state_of(item)
    if state == certificates.REFUSED and item.get("refusal_reason"):
        return f"{STATE_WORDS[state]} : {item['refusal_reason']}"
    return STATE_WORDS[state]


def _runs(days: list[date], follows) -> list[list[date]]:
    """Absent days (sorted) cut into absences: a day that follows an absence continues the
    current one, any other starts a new one."""
    runs: list[list[date]] = []
    for day in days:
        if runs and follows(day):
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def child_absences(state: FamilyState, child_id: str, commune: Commune, calendar: CommuneCalendar,
                   since: date) -> list[dict]:
    """The child's absences of more than one day ending on `since` or later, oldest
    first: {"days": every absent day, "following": the days a certificate would excuse}.
    The services' absences that overlap are one absence (one certificate covers them)."""
    statuses: dict[tuple[str, date], str] = {}
    for item in state.days:
        _, owner, iso, code = item["sk"].split("#", 3)
        if owner == child_id:
            statuses[(code, date.fromisoformat(iso))] = item.get("status", "")
    found = []
    for service in commune.services:
        absent = sorted(day for (code, day), status in statuses.items() if code == service.code and status == "absent")

        def follows(day: date, service=service) -> bool:
            return calendar.follows_absence(day, service, lambda d: statuses.get((service.code, d)))

        for run in _runs(absent, follows):
            if len(run) > 1 and run[-1] >= since:
                found.append({"days": set(run), "following": set(run[1:])})
    merged: list[dict] = []
    for absence in sorted(found, key=lambda a: min(a["days"])):
        if merged and min(absence["days"]) <= max(merged[-1]["days"]):
            merged[-1]["days"] |= absence["days"]
            merged[-1]["following"] |= absence["following"]
        else:
            merged.append(absence)
    return [{"days": sorted(a["days"]), "following": sorted(a["following"])} for a in merged]


def _latest_certificate(found: list[dict], child_id: str, days: list[date]) -> dict | None:
    wanted = {d.isoformat() for d in days}
    covering = [c for c in found if c.get("child_id") == child_id and wanted & set(c.get("dates", []))]
    return max(covering, key=lambda c: str(c.get("recorded_at", "")), default=None)


def certificate_offers(state: FamilyState, commune: Commune, calendar: CommuneCalendar, today: date,
                       child_id: str | None = None, month: date | None = None) -> list[dict]:
    """The absences to show (every child's, or `child_id`'s with a day in `month`), from
    the first month the pages show: each with its days, the state of its certificate in
    words and whether the form is offered."""
    since = shown_months(today)[0]
    offers = []
    for child in state.children:
        if child_id is not None and child["child_id"] != child_id:
            continue
        for absence in child_absences(state, child["child_id"], commune, calendar, since):
            days = absence["days"]
            if month is not None and not any((d.year, d.month) == (month.year, month.month) for d in days):
                continue
            item = _latest_certificate(state.certificates, child["child_id"], days)
            status = certificates.state_of(item) if item else NONE
            first, last = days[0], days[-1]
            offers.append({
                "id": f"certificat-{child['child_id']}-{first.isoformat()}",
                "child_id": child["child_id"],
                "child_name": child.get("first_name", ""),
                "period": (f"le {french_day(first)}" if first == last
                           else f"du {french_day(first)} au {french_day(last)}"),
                "following": ", ".join(french_day(d) for d in absence["following"]),
                "dates": [d.isoformat() for d in days],
                "state": status,
                "state_label": state_words(item),
                "can_send": status in SENDABLE,
                "again": status == certificates.REFUSED,
            })
    return offers


def certificate_context(offers: list[dict], back: str) -> dict:
    """What famille/certificat.html reads: the offers, where its form returns, the types."""
    return {"certificate_offers": offers, "certificate_back": back, "certificate_types": FILE_TYPES}
