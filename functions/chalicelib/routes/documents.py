"""Routes of the family's documents: a medical certificate's upload, an invoice's or a
credit note's PDF (docs/billing.md), the documents the commune asks for (« Mes documents »,
docs/family-documents.md) and the commune's published documents.

A certificate's file never goes through the function: it hands out a presigned S3 POST
(JSON for the page's script; without script, a small page holding the form, whose
policy sends the browser back through `…/recu`), then looks in the bucket when the page
says the file was sent (`…/recu`)."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

from chalice import Response

from chalicelib import family_actions
from chalicelib.dependencies import commune, documents, family_pages, site_url, storage
from chalicelib.refusals import Refusal
from chalicelib.routes.calls import Call, Routes
from chalicelib.routes.family_page import family_page
from chalicelib.web import FORM, JSON, back_to, form_lists, redirect

routes = Routes(__name__)

_CERTIFICATE_ID = re.compile(r"[0-9a-f]{16}")
RECEIVED_PATH = "/api/absences/certificate/{}/recu"


@routes.route("/api/absences/certificate", methods=["POST"], content_types=[JSON])
@routes.family_call()
def absence_certificate(call: Call):
    """A presigned S3 POST for one medical certificate (PDF, JPEG or PNG, ≤ 5 MB)."""
    upload = family_actions.request_certificate(
        storage(), documents(), family_pages(), call.session, call.field("child_id"), call.data.get("dates"),
        call.data.get("content_type"), call.data.get("size"), call.source, call.now)
    return {"upload": {name: upload[name] for name in ("url", "fields", "key", "expires_in")},
            "certificate_id": upload["certificate_id"],
            "received": RECEIVED_PATH.format(upload["certificate_id"]),
            "message": "Envoyez maintenant le fichier du certificat médical : ce formulaire d'envoi "
                       "reste valable 5 minutes. Le service enfance examinera ensuite le certificat : les "
                       "jours d'absence qu'il couvre ne sont déduits qu'une fois le certificat accepté."}


def _family_page(call: Call, template: str, status: int = 200, **context) -> Response:
    return family_page(call, template, status, section="demandes", current="certificat", **context)


@routes.route("/api/absences/certificate/formulaire", methods=["POST"], content_types=[FORM])
@routes.family_call()
def certificate_form(call: Call):
    """Without script: the page's « Envoyer le certificat médical » (`child_id`, `date`
    repeated, `content_type` chosen before the file, `back`) answers a page holding a
    fresh presigned form whose file goes straight to the bucket; S3 then sends the
    browser to `…/recu`. A bad form: the same page with the French refusal (4xx),
    nothing written."""
    from chalicelib.documents import CONTENT_TYPES, FORM_EXPIRES_IN
    from chalicelib.formatting import french_day
    from chalicelib.pages.certificate_offers import FILE_TYPES

    back = back_to(call.data.get("back"), call.session.home)

    def received(identifier: str) -> str:
        return site_url() + RECEIVED_PATH.format(identifier) + "?" + urlencode({"retour": back})

    try:
        upload = family_actions.request_certificate(
            storage(), documents(), family_pages(), call.session, call.field("child_id"),
            form_lists(call.request).get("date", []), call.field("content_type"), None, call.source, call.now,
            redirect=received)
    except Refusal as refusal:
        return _family_page(call, "famille/certificat_envoi.html", refusal.status, refusal=refusal.message,
                            back=back)
    content_type = upload["fields"]["Content-Type"]
    first, last = date.fromisoformat(upload["dates"][0]), date.fromisoformat(upload["dates"][-1])
    period = f"du {french_day(first)} au {french_day(last)}" if first != last else f"le {french_day(first)}"
    return _family_page(call, "famille/certificat_envoi.html", upload=upload, back=back,
                        child_name=upload["child_name"], period=period, content_type=content_type,
                        type_label=dict(FILE_TYPES).get(content_type, CONTENT_TYPES[content_type]),
                        minutes=FORM_EXPIRES_IN // 60)


def _received(call: Call, certificate_id: str) -> dict:
    """The family's certificate once the bucket was looked at; another id (another
    family's included: only this family's partition is read) is a French 404."""
    not_found = Refusal(404, "not_found", "Ce certificat est introuvable dans votre espace famille.")
    if not _CERTIFICATE_ID.fullmatch(certificate_id):
        raise not_found
    try:
        return family_actions.certificate_received(storage(), documents(), family_pages(), call.session,
                                                   certificate_id, call.now)
    except Refusal as refusal:
        if refusal.status == 404:
            raise not_found from None
        raise


@routes.route("/api/absences/certificate/{certificate_id}/recu", methods=["GET"])
@routes.public_call(reads_body=False)
def certificate_back(call: Call, certificate_id):
    """Where S3 sends the browser after a form post without script (its
    `success_action_redirect`, adding `bucket`, `key`, `etag`, which are not trusted): the
    bucket is looked at, the certificate moves to « à examiner » when its file is there,
    its pages are rendered again, and the parent goes back to `retour` (one of the
    family's pages) at #certificat. Changes nothing the bucket does not show: a GET."""
    if call.session is None:
        return redirect("/connexion/")
    query = call.request.query_params or {}
    back = back_to(query.get("retour"), call.session.home)
    _received(call, certificate_id)
    return redirect(back + "#certificat")


@routes.route("/api/absences/certificate/{certificate_id}/recu", methods=["POST"], content_types=[JSON])
@routes.family_call()
def certificate_sent(call: Call, certificate_id):
    """The page's script after its upload: as the GET, answered as JSON: the state and its
    words (`state`, `state_label`, `message`)."""
    from chalicelib import certificates
    from chalicelib.pages.certificate_offers import state_words

    item = _received(call, certificate_id)
    state = certificates.state_of(item)
    message = ("Certificat médical reçu : le service enfance va l'examiner." if state == certificates.TO_REVIEW
               else "Le fichier n'est pas encore arrivé : réessayez l'envoi dans un instant.")
    return {"state": state, "state_label": state_words(item), "message": message}


@routes.route("/api/invoices/{number}/pdf", methods=["GET"])
@routes.family_call()
def invoice_pdf(call: Call, number):
    """The session family's invoice PDF: a redirect to a presigned S3 URL (≤ 5 minutes,
    downloaded as `<number>.pdf`). Any other number, another family's or the other
    responsable's (separate accounts) included, is 404."""
    url = family_actions.invoice_download_url(storage(), documents(), call.session.family_number, number,
                                                call.session.page_key)
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})


@routes.route("/api/avoirs/{number}/pdf", methods=["GET"])
@routes.family_call()
def credit_note_pdf(call: Call, number):
    """The session family's credit note PDF, as an invoice's: a redirect to a presigned S3
    URL; any other number, another family's included, is 404."""
    url = family_actions.credit_note_download_url(storage(), documents(), call.session.family_number, number,
                                                    call.session.page_key)
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})


# --- « Mes documents » -------------------------------------------------------------------------

DOCUMENT_RECEIVED_PATH = "/api/documents/{}/recu"


@routes.route("/api/documents", methods=["POST"], content_types=[JSON])
@routes.family_call()
def family_document(call: Call):
    """A presigned S3 POST for one document the commune asks for (`code`, `content_type`,
    `size`: PDF, JPEG or PNG, ≤ 5 MB); a bad kind or file is a French 400, nothing written."""
    upload = family_actions.request_family_document(
        storage(), documents(), family_pages(), commune(), call.session, call.data.get("code"),
        call.data.get("content_type"), call.data.get("size"), call.source, call.now)
    return {"upload": {name: upload[name] for name in ("url", "fields", "key", "expires_in")},
            "document_id": upload["document_id"], "received": DOCUMENT_RECEIVED_PATH.format(upload["document_id"]),
            "message": "Envoyez maintenant le fichier : ce formulaire d'envoi reste valable 5 minutes. Le service "
                       "enfance examinera ensuite le document."}


@routes.route("/api/documents/formulaire", methods=["POST"], content_types=[FORM])
@routes.family_call()
def family_document_form(call: Call):
    """Without script: « Envoyer le document » (`code`, `content_type` chosen before the
    file, `back`) answers a page holding a fresh presigned form; S3 then sends the
    browser to `…/recu`. A bad form: the same page with the French refusal, nothing written."""
    from chalicelib.documents import CONTENT_TYPES, FORM_EXPIRES_IN
    from chalicelib.pages.certificate_offers import FILE_TYPES

    back = back_to(call.data.get("back"), call.session.home)

    def received(identifier: str) -> str:
        return site_url() + DOCUMENT_RECEIVED_PATH.format(identifier) + "?" + urlencode({"retour": back})

    def answer(status: int = 200, **context) -> Response:
        return family_page(call, "famille/document_envoi.html", status, section="documents", current="documents",
                           back=back, **context)

    try:
        upload = family_actions.request_family_document(
            storage(), documents(), family_pages(), commune(), call.session, call.field("code"),
            call.field("content_type"), None, call.source, call.now, redirect=received)
    except Refusal as refusal:
        return answer(refusal.status, refusal=refusal.message)
    content_type = upload["fields"]["Content-Type"]
    return answer(upload=upload, kind_label=upload["kind"].label, content_type=content_type,
                  type_label=dict(FILE_TYPES).get(content_type, CONTENT_TYPES[content_type]),
                  minutes=FORM_EXPIRES_IN // 60)


@routes.route("/api/documents/{document_id}/recu", methods=["GET"])
@routes.public_call(reads_body=False)
def family_document_back(call: Call, document_id):
    """Where S3 sends the browser after a form post without script: the bucket is looked
    at, the document moves to « à examiner » when its file is there, and the parent goes
    back to `retour` (one of the family's pages). Another family's id: a French 404."""
    if call.session is None:
        return redirect("/connexion/")
    back = back_to((call.request.query_params or {}).get("retour"), call.session.home)
    item = family_actions.family_document_received(storage(), documents(), family_pages(), call.session, document_id,
                                                   call.now)
    return redirect(back + f"#piece-{item['code']}")


@routes.route("/api/documents/{document_id}/recu", methods=["POST"], content_types=[JSON])
@routes.family_call()
def family_document_sent(call: Call, document_id):
    """The page's script after its upload: as the GET, answered as JSON."""
    from chalicelib import certificates
    from chalicelib.family_documents import STATUS_WORDS

    item = family_actions.family_document_received(storage(), documents(), family_pages(), call.session, document_id,
                                                   call.now)
    state = certificates.state_of(item)
    message = ("Document reçu : le service enfance va l'examiner." if state == certificates.TO_REVIEW
               else "Le fichier n'est pas encore arrivé : réessayez l'envoi dans un instant.")
    return {"state": state, "state_label": STATUS_WORDS[state], "message": message}


@routes.route("/api/documents/commune/{document_id}", methods=["GET"])
@routes.public_call(reads_body=False)
def commune_document(call: Call, document_id):
    """One of the commune's published documents (the public page « Documents », the
    dashboards): a redirect to a presigned GET of its file (≤ 5 minutes, shown in the
    browser); an unknown or withdrawn one is a French 404."""
    from chalicelib import commune_documents

    url = commune_documents.public_url(storage(), documents(), document_id)
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})
