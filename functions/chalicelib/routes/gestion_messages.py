"""Messages to families in the back office (docs/staff.md, docs/messages.md):
`/gestion/messages/` (write, preview, send; the sent messages and how many families read
each) and `/gestion/messages/<id>/` (one sending). The rules are in
chalicelib/staff/messages.py, which `portail messages send` calls too; imported in the
views, so that the function's cold start does not grow.

A send writes every family's message within the request (one BatchWriteItem per 25), then
hands the notice mails and the inbox pages to deferred jobs (chalicelib/jobs.py), one per
chunk of 500 families: 3,000 families' mails and pages would not fit API Gateway's 29 s.
"""

from __future__ import annotations

from chalicelib.refusals import Refusal
from chalicelib.routes.staff_calls import STAFF_BODY_TYPES, StaffCall, StaffRoutes

routes = StaffRoutes(__name__)

PAGE = "/gestion/messages/"
SENT_PER_PAGE = 30
# While a sending's mails and pages are under way, its page reloads itself (no JavaScript).
REFRESH_SECONDS = 5


def _desk():
    from chalicelib.dependencies import commune, storage
    from chalicelib.staff.messages import MessageDesk

    return MessageDesk(storage(), commune())


def _form(call: StaffCall) -> dict:
    """The form's fields as typed (shown again in the form after a preview or a refusal)."""
    return {name: call.field(name) for name in ("target", "family_number", "service", "date", "subject", "body",
                                                "sending")}


@routes.route("/gestion/messages", methods=["GET"])
@routes.staff_call("messages")
def messages_page(call: StaffCall):
    """The form (a fresh idempotency token) and the sent messages, newest first, 30 a page
    (`avant=`: the gsi1 key of the last one shown)."""
    from chalicelib.staff.messages import new_sending_id

    form = {"target": call.query("cible") or "family", "family_number": call.query("famille"),
            "sending": new_sending_id()}
    return _compose(call, form)


def _compose(call: StaffCall, form: dict, *, status: int = 200, error: str = "", preview: dict | None = None):
    from chalicelib.dependencies import commune
    from chalicelib.staff.messages import MAX_BODY, MAX_SUBJECT

    before = call.query("avant") or None
    if before is not None and (len(before) > 100 or "#" not in before):
        raise Refusal(400, "invalid_cursor", "Adresse de page invalide : revenez à la liste des messages envoyés.")
    sendings, more = _desk().sendings(before, SENT_PER_PAGE)
    return call.render("gestion/messages.html", status=status, form=form, error=error, preview=preview,
                       services=commune().services, sendings=[_sending_view(h) for h in sendings],
                       older=sendings[-1]["gsi1sk"] if more and sendings else "",
                       max_subject=MAX_SUBJECT, max_body=MAX_BODY)


@routes.route("/gestion/messages", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("messages")
def messages_post(call: StaffCall):
    """`target` (`family`, `service_day`, `all`), `family_number`, `service`, `date`,
    `subject`, `body`, `sending` (the form's token): the preview, nothing written (200);
    with `send=1`, the send, then 303 to the sending's page. A refusal writes nothing: the
    form again with the French sentence and its 4xx."""
    from chalicelib.dependencies import commune
    from chalicelib.messages import MessageError
    from chalicelib.staff import messages as sm

    form = _form(call)
    desk = _desk()
    try:
        message = sm.draft(form["subject"], form["body"])
        chosen = sm.target(form["target"], commune(), families=form["family_number"], service=form["service"],
                           day=form["date"])
        if form["sending"]:
            sm.checked_sending_id(form["sending"])
        recipients = desk.recipients(chosen)
    except MessageError as error:
        return _compose(call, form, status=error.status, error=error.message)
    if call.field("send") != "1":
        form["sending"] = form["sending"] or sm.new_sending_id()
        preview = {"subject": message.subject, "sender": message.sender, "body_html": message.body_html,
                   "count": len(recipients), "described": sm.describe(chosen, len(recipients), commune()),
                   "families": recipients if chosen.kind == "family" else []}
        return _compose(call, form, preview=preview)
    try:
        head = desk.send(message, chosen, recipients, call.now, call.staff.login, sending_id=form["sending"] or None)
    except sm.AlreadySent as already:  # a double submit: the first one stands, nothing more is written
        return call.redirect(f"{PAGE}{already.head['sending_id']}/")
    except MessageError as error:
        return _compose(call, form, status=error.status, error=error.message)
    _defer_delivery(head, call.now)
    return call.redirect(f"{PAGE}{head['sending_id']}/#resultat")


def _defer_delivery(head: dict, now) -> None:
    """One job per chunk of recipients: their notice mails and inbox pages."""
    from chalicelib import jobs
    from chalicelib.staff.messages import DELIVER_JOB

    for chunk in range(int(head["chunks"])):
        jobs.defer(DELIVER_JOB, {"sending": head["sending_id"], "chunk": chunk, "at": now.isoformat()})


@routes.route("/gestion/messages/{message_id}", methods=["GET"])
@routes.staff_call("messages")
def sending_page(call: StaffCall, message_id: str):
    """One sending: to whom, by whom, when, how many families read it, whether its mails
    and pages are done (the page reloads itself until they are), and the message as the
    families see it. An unknown one: 404."""
    from chalicelib import safe_markdown

    found = _desk().sending(message_id)
    if found is None:
        raise Refusal(404, "sending_not_found", "Ce message envoyé est introuvable.")
    head, body = found
    view = _sending_view(head)
    return call.render("gestion/message_envoye.html", sending=view, body_html=safe_markdown.render(body),
                       refresh=REFRESH_SECONDS if not view["delivered"] else None)


def _sending_view(head: dict) -> dict:
    """What the list and the sending's page show of a head."""
    from datetime import date, datetime

    from chalicelib.dependencies import commune
    from chalicelib.formatting import french_moment
    from chalicelib.staff.messages import Target, describe

    sent = datetime.fromisoformat(str(head["sent_at"])).astimezone(commune().tz)
    families, read = int(head.get("families", 0)), int(head.get("read", 0))
    if head.get("target") == "service_day":
        chosen = Target("service_day", service=head["service"], day=date.fromisoformat(head["date"]))
    elif head.get("target") == "all":
        chosen = Target("all")
    else:
        chosen = Target("family", families=(head.get("family_number", ""),))
    try:
        described = describe(chosen, families, commune())
    except KeyError:  # a service since removed from commune.toml
        described = f"{families} famille(s)"
    return {"id": head["sending_id"], "href": f"{PAGE}{head['sending_id']}/", "subject": head.get("subject", ""),
            "sender": head.get("sender", ""), "sent": french_moment(sent), "actor": head.get("actor", ""),
            "families": families, "read": read, "described": described,
            "family_number": head.get("family_number", ""),
            "chunks": int(head.get("chunks", 0)), "delivered_chunks": int(head.get("delivered", 0)),
            "delivered": int(head.get("delivered", 0)) >= int(head.get("chunks", 0))}
