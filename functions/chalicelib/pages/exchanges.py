"""View models of what the family received and sent: the inbox and each message, and
the « liste des demandes » (bookings online or on paper, certificates, the service
enfance's decisions); the month page shows a child's last request with the same view."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from chalicelib import certificates, safe_markdown
from chalicelib.config import Commune
from chalicelib.formatting import french_day, french_moment
from chalicelib.pages.marks import (
    ACTION_NOUNS,
    CERTIFICATE_DECISIONS,
    PAPER_PLANNING,
    REQUEST_KINDS,
    outcome_words,
)
from chalicelib.pages.names import message_id
from chalicelib.storage import FamilyState
from chalicelib.waiting_list import STATUS_LABELS

# The « liste des demandes » shows this many requests, the most recent first.
REQUESTS_SHOWN = 100


def _local_moment(value, tz: ZoneInfo) -> str:
    instant = datetime.fromisoformat(str(value))
    return french_moment((instant if instant.tzinfo else instant.replace(tzinfo=UTC)).astimezone(tz))


def messages_view(state: FamilyState, home: str, tz: ZoneInfo) -> list[dict]:
    """The inbox, the most recent message first; each message has a page of its own."""
    views = []
    for item in sorted(state.messages, key=lambda m: m["sk"], reverse=True):
        identifier = message_id(item)
        if not identifier:
            continue
        sent = item.get("sent_at") or item["sk"].split("#")[1]
        views.append({
            "id": identifier, "href": f"{home}messages/{identifier}/",
            "subject": item.get("subject") or "(sans objet)", "sender": item.get("sender", ""),
            "sent": _local_moment(sent, tz),
            "unread": not item.get("read_at"),
            "read": _local_moment(item["read_at"], tz) if item.get("read_at") else "",
            # Rendered and sanitised at send time by `portail messages send`; a message
            # the function itself wrote carries Markdown only: its safe subset here.
            "body_html": item.get("body_html") or safe_markdown.render(item.get("body_markdown", "")),
        })
    return views


def request_instant(request: dict) -> datetime:
    """When a request was submitted (its sort key holds the UTC instant too)."""
    instant = datetime.fromisoformat(str(request.get("submitted_at") or request["sk"].split("#")[1]))
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def request_view(request: dict, commune: Commune) -> dict:
    """One request as the pages list it: when, how, and each day's outcome."""
    items = []
    for item in request.get("items", []):
        try:
            label = commune.service(item.get("service", "")).label
        except KeyError:
            label = item.get("service", "")
        items.append({
            "day": french_day(date.fromisoformat(str(item["date"])[:10])),
            "service": label,
            "status": item.get("status", ""),
            "status_label": STATUS_LABELS.get(item.get("status"), item.get("status", "")),
            "message": item.get("message", ""),
        })
    return {"submitted": french_moment(request_instant(request).astimezone(commune.tz)),
            "channel": request.get("channel", "online"), "items": items}


def requests_context(state: FamilyState, commune: Commune) -> dict:
    """What famille/demandes.html shows: the latest REQUESTS_SHOWN requests."""
    names = {c["child_id"]: c["first_name"] for c in state.children}
    days = {d["sk"]: d for d in state.days}
    ordered = sorted(state.requests, key=lambda r: r["sk"], reverse=True)
    return {"requests": [_demand_view(r, names, days, state.certificates, commune) for r in ordered[:REQUESTS_SHOWN]],
            "requests_total": len(ordered), "requests_shown": REQUESTS_SHOWN}


def _demand_view(request: dict, names: dict, days: dict, certificates_read: list[dict], commune: Commune) -> dict:
    view = request_view(request, commune)
    child_id = request.get("child_id", "")
    view["child"] = names.get(child_id, "")
    view["kind"] = REQUEST_KINDS.get(request.get("type", "booking"), "Demande")
    if view["kind"] == REQUEST_KINDS["booking"] and view["channel"] == "paper":
        view["kind"] = PAPER_PLANNING
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
        # Each outcome said once: a booking's message names its state (marks.outcome_words),
        # a staff decision's and a certificate's too (« Refusée par le service enfance.
        # Motif : … », « Certificat médical reçu. »); a decision on a certificate's gives
        # only the reason (« Motif : … »), so its state leads it.
        kind, message = request.get("type", "booking"), item["message"]
        if kind == "booking":
            item["outcome"] = outcome_words(item["status"], item["status_label"], message)
        elif kind in ("staff_decision", "certificate") and message:
            item["outcome"] = message
        else:
            item["outcome"] = f"{item['status_label']}." + (f" {message}" if message else "")
        # A day that waited for a seat: what became of it since.
        current = days.get(f"DAY#{child_id}#{str(raw.get('date', ''))[:10]}#{raw.get('service', '')}")
        if raw.get("status") == "pending" and current and current.get("status") != "pending":
            item["now_label"] = STATUS_LABELS.get(current["status"], current["status"])
    return view


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
