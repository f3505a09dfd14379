"""Routes of « Mon agenda » on « Mon compte »: the responsable's calendar feed and reminder
mails (chalicelib/agenda.py, docs/family-pages.md « The calendar feed »). Each answers a
form with 303 back to « Mon compte » at its message, JSON with the feed's state."""

from __future__ import annotations

from chalicelib.dependencies import family_pages, storage
from chalicelib.refusals import Refusal
from chalicelib.routes.calls import BODY_TYPES, Call, Routes

routes = Routes(__name__)

# The check box sends « oui » when ticked and nothing when not; JSON may say true or false.
_YES, _NO = (True, "oui", "1", "on", "true"), (False, None, "", "non", "0", "off", "false")


def _agenda_page(call: Call) -> str:
    return call.session.home + "compte/"


@routes.route("/api/agenda", methods=["POST"], content_types=BODY_TYPES)
@routes.family_call(form_errors=_agenda_page)
def subscribe(call: Call):
    """The responsable's feed address, made on first use (the same one afterwards)."""
    from chalicelib import agenda

    feed = agenda.subscribe(storage(), family_pages(), call.session, call.source, call.now)
    return call.answer(_agenda_page(call) + "#agenda-ajoute", feed)


@routes.route("/api/agenda/revoke", methods=["POST"], content_types=BODY_TYPES)
@routes.family_call(form_errors=_agenda_page)
def revoke(call: Call):
    """A new address for the feed: the old one answers 404 from now on."""
    from chalicelib import agenda

    feed = agenda.revoke(storage(), family_pages(), call.session, call.source, call.now)
    return call.answer(_agenda_page(call) + "#agenda-renouvele", feed)


@routes.route("/api/agenda/reminders", methods=["POST"], content_types=BODY_TYPES)
@routes.family_call(form_errors=_agenda_page)
def reminders(call: Call):
    """The reminder mails on (`reminders=oui`) or off (the box unticked: no field)."""
    from chalicelib import agenda

    value = call.data.get("reminders")
    value = value.strip().lower() if isinstance(value, str) else value
    if value not in _YES and value not in _NO:
        raise Refusal(400, "invalid_reminders", "Choix des rappels invalide : cochez la case ou décochez-la.")
    feed = agenda.set_reminders(storage(), family_pages(), call.session, value in _YES, call.now)
    return call.answer(_agenda_page(call) + ("#rappels-actives" if feed["reminders"] else "#rappels-desactives"), feed)
