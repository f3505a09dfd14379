"""The régie's payments in the back office (docs/staff.md), page `reglements` (régie
and admin): `/gestion/reglements/` records a payment at the desk (with its receipt and
the receipt's PDF), imports a payments file (preview, then confirmation) and lists a
day's payments by mode for the daily reconciliation. The rules are
chalicelib/payments.py (which `portail payments import` calls too), payment_desk.py
and payments_day.py; imported in the views, so that the function's cold start does
not grow (reportlab only when a receipt's PDF is made).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date, timedelta

from chalice import Response

from chalicelib.refusals import Refusal
from chalicelib.routes.staff_calls import STAFF_BODY_TYPES, StaffCall, StaffRoutes

routes = StaffRoutes(__name__)

PAGE = "/gestion/reglements/"
# A bank's or a till's file of a month is a few thousand rows of about 60 bytes; the
# confirmation carries it back in the form (base64: a third more), within the staff
# form's 1 MB (routes/staff_calls.py).
MAX_FILE_BYTES = 512 * 1024
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _today(call: StaffCall) -> date:
    from chalicelib.dependencies import commune

    return call.now.astimezone(commune().tz).date()


def _day(call: StaffCall) -> date:
    text = call.query("date")
    if not text:
        return _today(call)
    try:
        if not _ISO_DAY.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise Refusal(400, "invalid_date", f"Date « {text} » invalide : écrivez-la AAAA-MM-JJ.") from None


# --- the page: the desk's form, the file's form, the day's list --------------------------------------

@routes.route("/gestion/reglements", methods=["GET"])
@routes.staff_call("reglements")
def payments_page(call: StaffCall):
    """`?date=AAAA-MM-JJ` (default: today): that day's payments by mode, with totals."""
    return _page(call, _day(call))


def _page(call: StaffCall, day: date, *, status: int = 200, message: str = "", values: dict | None = None):
    from chalicelib.dependencies import storage
    from chalicelib.formatting import euros, french_day
    from chalicelib.payment_desk import DESK_MODES, new_token
    from chalicelib.payments_day import day_payments

    today = _today(call)
    values = {"date": today.isoformat(), "mode": "", "rang": "", **(values or {})}
    return call.render("gestion/reglements.html", status=status, message=message, values=values,
                       token=values.get("token") or new_token(), modes=DESK_MODES, today=today.isoformat(),
                       listed=day_payments(storage(), day), day_label=french_day(day),
                       before=(day - timedelta(days=1)).isoformat(), after=(day + timedelta(days=1)).isoformat(),
                       max_kb=MAX_FILE_BYTES // 1024, euros=euros)


# --- a payment at the desk -----------------------------------------------------------------------------

@routes.route("/gestion/reglements", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("reglements")
def record_payment(call: StaffCall):
    """`family_number`, `amount`, `mode`, `date` (AAAA-MM-JJ), optionally `invoice`,
    `rang` and `token` (the form's idempotency token): 303 to the receipt. A bad form:
    the page again with the French reason (4xx), nothing written."""
    from chalicelib.dependencies import commune, documents, family_pages, storage
    from chalicelib.payment_desk import Desk, read_form, write_pdf
    from chalicelib.payments import PaymentError, render_family_pages

    fields = ("family_number", "amount", "mode", "date", "invoice", "rang", "token")
    values = {name: call.field(name) for name in fields}
    try:
        form = read_form(call.field, _today(call))
        receipt, created = Desk(storage(), commune(), call.now, call.staff.login).record(form)
    except PaymentError as error:
        if error.status >= 500:
            raise
        return _page(call, _today(call), status=error.status, message=error.message, values=values)
    number = receipt["number"]
    if created:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            write_pdf(documents(), commune(), receipt)
        except (BotoCoreError, ClientError):
            pass  # the payment stands; the receipt's page makes the PDF when it is opened
        render_family_pages(family_pages(), storage(), [form.family], call.now)
    return call.redirect(f"{PAGE}recus/{number}/" + ("" if created else "?deja=1") + "#resultat")


@routes.route("/gestion/reglements/recus/{number}", methods=["GET"])
@routes.staff_call("reglements")
def receipt_page(call: StaffCall, number: str):
    return _receipt_view(call, number)


def _receipt(number: str) -> dict:
    from chalicelib.dependencies import storage
    from chalicelib.payment_desk import find_receipt

    receipt = find_receipt(storage(), number)
    if receipt is None:
        raise Refusal(404, "receipt_not_found", f"Le reçu « {number[:30]} » est introuvable.")
    return receipt


def _receipt_view(call: StaffCall, number: str):
    from chalicelib.formatting import euros, french_day
    from chalicelib.payment_desk import receipt_rows

    receipt = _receipt(number)
    return call.render("gestion/reglement_recu.html", receipt=receipt, rows=receipt_rows(receipt),
                       again=call.query("deja") == "1", euros=euros, recorded_day=french_day(date.fromisoformat(
                           str(receipt["recorded_at"])[:10])))


@routes.route("/gestion/reglements/recus/{number}/pdf", methods=["GET"])
@routes.staff_call("reglements")
def receipt_pdf(call: StaffCall, number: str):
    """302 to a presigned GET of the receipt's PDF (300 s), made first if it is missing."""
    from chalicelib.dependencies import commune, documents
    from chalicelib.payment_desk import write_pdf

    receipt = _receipt(number)
    write_pdf(documents(), commune(), receipt, only_if_missing=True)
    return Response(body="", status_code=302, headers={
        "Location": documents().invoice_download_url(receipt["pdf_key"]), "Cache-Control": "no-store"})


# --- a payments file: preview, then confirmation ----------------------------------------------------------

@routes.route("/gestion/reglements/import", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("reglements")
def import_payments(call: StaffCall):
    """`fichier` (multipart): the preview, every row checked, nothing written. With
    `confirm=1` and the file (`fichier` again, or `contenu`, base64, and `nom`, as the
    preview's form sends them): checked again, then every row written, or none."""
    upload = call.upload("fichier")
    if upload is not None:
        name, content = _file_name(upload[0]), _bounded(upload[1])
    elif call.field("contenu"):
        name = _file_name(call.field("nom"))
        try:
            content = _bounded(base64.b64decode(call.field("contenu").encode("ascii"), altchars=b"-_", validate=True))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise Refusal(400, "invalid_request", "Le fichier confirmé est illisible : envoyez-le de nouveau.") from None
    else:
        raise Refusal(400, "file_required", "Choisissez le fichier des règlements (CSV) avant d'envoyer.")
    return _import(call, name, content, confirm=call.field("confirm") == "1")


def _import(call: StaffCall, name: str, content: bytes, *, confirm: bool):
    from chalicelib import payments
    from chalicelib.dependencies import commune, family_pages, storage
    from chalicelib.formatting import euros, short_date
    from chalicelib.staff.csv_input import ImportRejected

    run = payments.PaymentImport(storage(), commune(), call.now, actor=call.staff.login)
    context = {"file_name": name, "result_text": payments.result_text, "euros": euros, "short_date": short_date}
    try:
        results = run.import_file(content, name, dry_run=not confirm)
    except ImportRejected as rejected:
        return call.render("gestion/reglements_import.html", status=422, errors=rejected.errors, **context)
    count, total, credit, already = payments.totals(results)
    stale = []
    if confirm:
        call.audit("payments_file_imported", file=name, count=count, total=total, already=already)
        stale = payments.render_family_pages(family_pages(), storage(), payments.imported_families(results), call.now)
    return call.render("gestion/reglements_import.html", results=results, confirmed=confirm, count=count,
                       total=total, credit=credit, already=already, stale=stale,
                       content_b64=base64.urlsafe_b64encode(content).decode("ascii"), **context)


def _bounded(content: bytes) -> bytes:
    if len(content) > MAX_FILE_BYTES:
        raise Refusal(413, "file_too_large", f"Le fichier dépasse {MAX_FILE_BYTES // 1024} Ko : "
                                             "découpez-le en plusieurs fichiers.")
    return content


def _file_name(name: str) -> str:
    """The file's own name (no folder a browser may send), for the messages: at most 100 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return base[:100] or "reglements.csv"
