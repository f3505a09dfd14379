"""Routes of the family's documents: a medical certificate's upload, an invoice's or a
credit note's PDF (docs/billing.md)."""

from __future__ import annotations

from chalice import Response

from chalicelib import family_actions
from chalicelib.dependencies import documents, family_pages, storage
from chalicelib.routes.calls import Call, Routes
from chalicelib.web import JSON

routes = Routes(__name__)


@routes.route("/api/absences/certificate", methods=["POST"], content_types=[JSON])
@routes.family_call()
def absence_certificate(call: Call):
    """A presigned S3 POST for one medical certificate (PDF, JPEG or PNG, ≤ 5 MB)."""
    upload = family_actions.request_certificate(
        storage(), documents(), family_pages(), call.session, call.field("child_id"), call.data.get("dates"),
        call.data.get("content_type"), call.data.get("size"), call.source, call.now)
    return {"upload": upload,
            "message": "Envoyez maintenant le fichier du certificat médical : ce formulaire d'envoi "
                       "reste valable 5 minutes. Le service enfance examinera ensuite le certificat : les "
                       "jours d'absence qu'il couvre ne sont déduits qu'une fois le certificat accepté."}


@routes.route("/api/invoices/{number}/pdf", methods=["GET"])
@routes.family_call()
def invoice_pdf(call: Call, number):
    """The session family's invoice PDF: a redirect to a presigned S3 URL (≤ 5 minutes,
    downloaded as `<number>.pdf`). Any other number, another family's included, is 404."""
    url = family_actions.invoice_download_url(storage(), documents(), call.session.family_number, number)
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})


@routes.route("/api/avoirs/{number}/pdf", methods=["GET"])
@routes.family_call()
def credit_note_pdf(call: Call, number):
    """The session family's credit note PDF, as an invoice's: a redirect to a presigned S3
    URL; any other number, another family's included, is 404."""
    url = family_actions.credit_note_download_url(storage(), documents(), call.session.family_number, number)
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})
