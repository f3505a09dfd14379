"""`/gestion/documents/` (docs/staff.md, docs/family-documents.md): the documents families
sent, to review (open through a presigned GET, accept, with a new quotient bracket from a
month for a quotient attestation, or refuse with a reason), and the commune's documents
(publish one: a form, then a page holding the presigned POST of its file; withdraw one).
The domain is chalicelib.staff.family_documents and chalicelib.commune_documents."""

from __future__ import annotations

from html import escape

from chalice import Response

from chalicelib.dependencies import commune, documents, family_pages, messages, storage
from chalicelib.routes.gestion import DaySummary, day_summary
from chalicelib.routes.staff_calls import STAFF_BODY_TYPES, StaffCall, StaffRoutes

routes = StaffRoutes(__name__)

LIST = "/gestion/documents/"
SENT_PATH = "/gestion/documents/commune/{}/envoye"


def _page(call: StaffCall, *, status: int = 200, **context) -> Response:
    from chalicelib import commune_documents as cd
    from chalicelib.formatting import short_date
    from chalicelib.staff import family_documents

    listed = family_documents.to_review(storage(), documents(), family_pages(), commune(), call.now, call.staff.login)
    for d in listed:
        d["received_label"] = short_date(d["received_at"][:10]) if d.get("received_at") else ""
    published = cd.listed(storage())
    for item in published:
        item["period_label"] = cd.period_words(item)
        item["category_label"] = cd.CATEGORIES.get(item.get("category"), "")
    brackets = [(b.code, b.label) for b in commune().quotient_brackets]
    next_month = f"{call.now.year + call.now.month // 12:04d}-{call.now.month % 12 + 1:02d}"
    return call.render("gestion/documents.html", status=status, documents=listed, commune_documents=published,
                       categories=cd.CATEGORIES, brackets=brackets, next_month=next_month,
                       types=list(cd.TYPE_WORDS.items()), **context)


@routes.route("/gestion/documents", methods=["GET"])
@routes.staff_call("documents")
def documents_page(call: StaffCall):
    """The families' documents whose file arrived, oldest first (one Query of the open
    index, the names in one BatchGetItem), and the commune's documents (one Query).
    `publier=<id>`: back from a commune document's upload, it is published once its file
    is in the bucket."""
    published = None
    identifier = call.query("publier")
    if identifier:
        from chalicelib import commune_documents as cd
        from chalicelib.publishing import request_publication

        item, generation = cd.publish(storage(), documents(), identifier, call.staff.login, call.now)
        if generation:
            request_publication(generation)
        published = {"title": item["title"], "done": item.get("state") == cd.PUBLISHED}
    return _page(call, published=published)


@routes.route("/gestion/documents", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("documents")
def decide_document(call: StaffCall):
    """`document` (`<N° famille>/<id>`), `decision` (accept, refuse), `reason` (required to
    refuse), `bracket` and `bracket_from` (AAAA-MM: a quotient attestation's new bracket,
    optional): the decision, the family told, its pages rendered again; then the list."""
    from chalicelib.staff import family_documents

    family, identifier = family_documents.parse_document(call.field("document"))
    accept, reason = family_documents.parse_decision(call.field("decision"), call.field("reason"))
    decision = family_documents.decide(storage(), documents(), messages(), family_pages(), commune(), family,
                                       identifier, accept, reason, call.staff.login, call.now,
                                       bracket=call.field("bracket") if accept else "",
                                       bracket_from=call.field("bracket_from"))
    kind = commune().family_document(decision.document.get("code", ""))
    return _page(call, decided={"accepted": accept, "family": family, "label": kind.label if kind else "",
                                "reason": reason, "bracket": decision.bracket,
                                "bracket_from": decision.bracket_from,
                                "until": decision.document.get("valid_until", "")})


@routes.route("/gestion/documents/commune", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("documents")
def prepare_commune_document(call: StaffCall):
    """`title`, `category`, `du`, `au` (its period), `content_type`: checked (a French 400,
    nothing written), then a page holding the presigned form of its file; S3 sends the
    browser back to `…/envoye`, which publishes it."""
    from chalicelib import commune_documents as cd
    from chalicelib.dependencies import site_url
    from chalicelib.documents import FORM_EXPIRES_IN

    fields = cd.parse_fields(call.field("title"), call.field("category"), call.field("du"), call.field("au"),
                             call.field("content_type"))
    upload = cd.prepare(storage(), documents(), fields, call.staff.login, call.now,
                        lambda identifier: site_url() + SENT_PATH.format(identifier))
    return call.render("gestion/document_commune_envoi.html", upload=upload, title=fields.title,
                       type_label=cd.TYPE_WORDS[fields.content_type], content_type=fields.content_type,
                       minutes=FORM_EXPIRES_IN // 60)


@routes.route("/gestion/documents/commune/{document_id}/envoye", methods=["GET"])
@routes.staff_public()
def commune_document_sent(call: StaffCall, document_id):
    """S3's redirect after the file's upload. The staff cookie (SameSite=Strict) is not
    sent on a navigation coming from S3: this page, which needs none, sends the browser on
    to the list (`?publier=<id>`) from the portal's own page, where the cookie is sent."""
    target = f"{LIST}?publier={escape(document_id[:32])}"
    html = (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Document envoyé</title>'
            f'<meta http-equiv="refresh" content="0;url={target}"></head><body><main><p>Document envoyé. '
            f'<a href="{target}">Revenir aux documents</a></p></main></body></html>')
    return Response(body=html, status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})


@routes.route("/gestion/documents/commune/{document_id}/retrait", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("documents")
def withdraw_commune_document(call: StaffCall, document_id):
    """Takes a commune's document off the site (its file deleted); the site is published again."""
    from chalicelib import commune_documents as cd
    from chalicelib.publishing import request_publication

    item, generation = cd.withdraw(storage(), documents(), document_id, call.staff.login, call.now)
    request_publication(generation)
    return _page(call, withdrawn=item["title"])


@day_summary("documents")
def _documents_summary(call: StaffCall):
    """The day page's block, when families' documents are to review (one Query of the open
    index; the page itself looks for files that arrived since)."""
    from chalicelib import certificates as cert
    from chalicelib import family_documents as fd

    count = sum(1 for d in storage().query_index(fd.OPEN_INDEX) if cert.state_of(d) == cert.TO_REVIEW)
    if not count:
        return None
    line = f"{count} document{'s' if count > 1 else ''} de famille à examiner."
    return DaySummary("Documents des familles", (line,), LIST, "Voir les documents")
