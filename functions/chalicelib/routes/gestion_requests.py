"""The staff's pending requests and certificates to review (docs/staff.md):
`/gestion/demandes/` (the pending days, decided in bulk) and `/gestion/certificats/`
(the medical certificates whose file arrived). The domain is chalicelib.staff.requests
and chalicelib.staff.certificates, which `portail requests` and `portail certificates`
call too; this module reads the form, calls them, and renders."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

from chalicelib.dependencies import commune, documents, family_pages, messages, storage
from chalicelib.refusals import Refusal
from chalicelib.routes.gestion import DaySummary, day_summary
from chalicelib.routes.staff_calls import STAFF_BODY_TYPES, StaffCall, StaffRoutes

routes = StaffRoutes(__name__)

_AFTER = re.compile(r"^\d{4}-\d{2}-\d{2}#[A-Za-z0-9_]{1,40}#[0-9T:.+-]{10,40}#\d{1,20}#[A-Za-z0-9_-]{1,32}$")


# --- /gestion/demandes/ ---------------------------------------------------------------------

def _filters(service: str, first: str, last: str) -> tuple[str | None, date | None, date | None]:
    """The list's filters from the GET form (or the post's copy), or a French 400."""
    codes = {s.code for s in commune().services}
    if service and service not in codes:
        raise Refusal(400, "invalid_service", "Service inconnu : choisissez-en un dans la liste.")
    days = []
    for text, word in ((first, "du"), (last, "au")):
        try:
            days.append(date.fromisoformat(text) if text else None)
        except ValueError:
            raise Refusal(400, "invalid_date", f"Date « {word} » illisible : AAAA-MM-JJ, par exemple 2014-12-11.") \
                from None
    if days[0] and days[1] and days[0] > days[1]:
        raise Refusal(400, "invalid_range", "La date « du » est après la date « au » : aucune demande à montrer.")
    return service or None, days[0], days[1]


def _list_url(**query) -> str:
    kept = {k: v for k, v in query.items() if v}
    return "/gestion/demandes/" + ("?" + urlencode(kept) if kept else "")


@routes.route("/gestion/demandes", methods=["GET"])
@routes.staff_call("demandes")
def requests_page(call: StaffCall):
    """Pending days, oldest first (one Query of the index WAITING per page of 200 lines:
    a page ends with a day's whole line); filters `service`, `du`, `au`; `apres` resumes
    after a line; `cocher=tout` checks every box (without JavaScript)."""
    from chalicelib.formatting import french_day
    from chalicelib.staff import requests

    service, first, last = _filters(call.query("service"), call.query("du"), call.query("au"))
    after = call.query("apres")
    if after and not _AFTER.match(after):
        raise Refusal(400, "invalid_page", "Page de la liste illisible : repartez du début de la liste.")
    lines, next_after = requests.pending_page(storage(), commune(), service, first, last, after or None,
                                               size=requests.PAGE_SIZE)
    filters = {"service": service or "", "du": call.query("du"), "au": call.query("au")}
    for line in lines:
        line["service_label"] = commune().service(line["service"]).label
        line["day_label"] = french_day(line["date"])
        line["requested_label"] = _instant(line["requested_at"])
        line["value"] = requests.RequestItem(line["family"], line["child"], line["service"], line["date"]).value
    return call.render(
        "gestion/demandes.html", lines=lines, services=commune().services, filters=filters,
        check_all=call.query("cocher") == "tout", first_page=not after,
        check_all_url=_list_url(**filters, apres=after, cocher="tout"),
        uncheck_all_url=_list_url(**filters, apres=after),
        next_url=_list_url(**filters, apres=next_after) if next_after else "",
        start_url=_list_url(**filters), page_size=requests.PAGE_SIZE, max_items=requests.MAX_ITEMS)


@routes.route("/gestion/demandes", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("demandes")
def decide_requests(call: StaffCall):
    """`item` (repeated), `decision` (accept, refuse), `reason`: every item checked before
    any write (a French 400 or 413, nothing written); then each day decided within the
    capacity, each family told once and its pages rendered again; the answer lists each
    day's outcome."""
    from chalicelib.formatting import french_day
    from chalicelib.staff import requests

    accept, reason = requests.parse_decision(call.field("decision"), call.field("reason"))
    items = requests.parse_items(call.fields("item"), commune())
    outcomes = requests.decide(storage(), commune(), messages(), family_pages(), items, accept, reason,
                               call.staff.login, call.now)
    shown = [{"status": o.status, "word": requests.OUTCOME_WORDS[o.status], "message": o.message,
              "family": o.item.family, "child": o.item.child, "day_label": french_day(o.item.day),
              "service_label": commune().service(o.item.service).label} for o in outcomes]
    counts = {status: sum(1 for o in outcomes if o.status == status) for status in requests.OUTCOME_WORDS}
    filters = {"service": call.field("service"), "du": call.field("du"), "au": call.field("au")}
    return call.render("gestion/demandes_decision.html", outcomes=shown, counts=counts, accept=accept,
                       back_url=_list_url(**{k: v for k, v in filters.items() if _safe_filter(k, v)}))


def _safe_filter(name: str, value: str) -> bool:
    """A filter copied from the post into the link back, only when it is one."""
    try:
        _filters(*(value if n == name else "" for n in ("service", "du", "au")))
    except Refusal:
        return False
    return bool(value)


def _instant(text: str) -> str:
    from datetime import datetime

    return datetime.fromisoformat(str(text)).astimezone(commune().tz).strftime("%d/%m/%Y à %H:%M")


# --- /gestion/certificats/ ---------------------------------------------------------------------

def _certificates_page(call: StaffCall, *, status: int = 200, decided: dict | None = None):
    from chalicelib.formatting import short_date
    from chalicelib.staff import certificates

    listed = certificates.to_review(storage(), documents(), family_pages(), call.now, call.staff.login)
    for c in listed:
        c["days_label"] = ", ".join(short_date(d) for d in c["days"])
        c["received_label"] = _instant(c["received_at"]) if c.get("received_at") else ""
    return call.render("gestion/certificats.html", status=status, certificates=listed, decided=decided)


@routes.route("/gestion/certificats", methods=["GET"])
@routes.staff_call("certificats")
def certificates_page(call: StaffCall):
    """The certificates whose file arrived, oldest first (one Query of the open index, the
    names in one BatchGetItem), each with « Ouvrir le fichier » (presigned, 5 minutes)."""
    return _certificates_page(call)


@routes.route("/gestion/certificats", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("certificats")
def decide_certificate(call: StaffCall):
    """`certificate` (`<N° famille>/<id>`), `decision` (accept, refuse), `reason`
    (required to refuse): the decision, the family told, its pages rendered again; then
    the list again with what was decided. Only an accepted certificate changes billing."""
    from chalicelib import certificates as cert
    from chalicelib.staff import certificates

    family, identifier = certificates.parse_certificate(call.field("certificate"))
    accept, reason = certificates.parse_decision(call.field("decision"), call.field("reason"))
    decision = certificates.decide(storage(), documents(), messages(), family_pages(), family, identifier, accept,
                                   reason, call.staff.login, call.now)
    item = decision.certificate
    return _certificates_page(call, decided={
        "accepted": accept, "family": family, "child": item["child_id"], "days": cert.short_dates(item),
        "reason": reason})


# --- the day page's summaries ---------------------------------------------------------------------

@day_summary("demandes")
def _pending_summary(call: StaffCall):
    from chalicelib.waiting_list import WaitingList

    count = WaitingList(storage(), commune()).count()
    line = f"{count} jour{'s' if count > 1 else ''} en attente de décision." if count else "Aucune demande en attente."
    return DaySummary("Demandes en attente", (line,), "/gestion/demandes/", "Voir les demandes")


@day_summary("certificats")
def _certificates_summary(call: StaffCall):
    from chalicelib import certificates as cert

    open_items = storage().query_index(cert.OPEN_INDEX)  # one Query; the page itself looks for new files
    count = sum(1 for c in open_items if cert.state_of(c) == cert.TO_REVIEW)
    awaited = len(open_items) - count
    lines = [f"{count} certificat{'s' if count > 1 else ''} médica{'ux' if count > 1 else 'l'} à examiner."
             if count else "Aucun certificat médical à examiner."]
    if awaited:
        lines.append(f"{awaited} en attente du fichier de la famille (la page des certificats vérifie s'il est arrivé).")
    return DaySummary("Certificats médicaux", tuple(lines), "/gestion/certificats/", "Voir les certificats")
