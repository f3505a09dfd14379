"""Correcting a wrong invoice with a credit note (« avoir », docs/staff.md, docs/billing.md):
`/gestion/factures/<number>/avoir`. The domain is chalicelib.credit_notes, which
`portail invoices credit` calls too; this module reads the form, calls it, and renders.
GET shows the invoice's rows and the form; a POST answers the preview (nothing written);
with `confirm=1` it issues the credit note and answers 303 to the invoice's page."""

from __future__ import annotations

from urllib.parse import quote

from chalicelib.dependencies import commune, documents, family_pages, mailer, site_url, storage
from chalicelib.routes.staff_calls import STAFF_BODY_TYPES, StaffCall, StaffRoutes

routes = StaffRoutes(__name__)


def _notes(call: StaffCall):
    from chalicelib.credit_notes import CreditNotes

    return CreditNotes(storage(), commune(), call.now, documents=documents(), mailer=mailer(), site_url=site_url())


def _context(invoice: dict) -> dict:
    from chalicelib import credit_notes
    from chalicelib.formatting import euros, short_date

    rows = [{**r, "unit_price": euros(r["unit_price"]), "amount": euros(r["amount"])}
            for r in credit_notes.rows(invoice)]
    earlier = [n for n in storage().query_partition(invoice["pk"], "CREDITNOTE#")
               if n.get("invoice_number") == invoice["number"]]
    return {"invoice": invoice, "rows": rows, "total": euros(invoice["total"]),
            "credited": euros(invoice.get("credited") or 0), "left": euros(credit_notes.creditable(invoice)),
            "can_credit": credit_notes.creditable(invoice) > 0, "invoice_date": short_date(invoice["invoice_date"]),
            "earlier": [{"number": n["number"], "date": short_date(n["date"]), "amount": euros(n["amount"]),
                         "reason": n.get("reason", "")} for n in sorted(earlier, key=lambda n: n["number"])],
            "invoice_url": f"/gestion/factures/{quote(invoice['number'], safe='')}/",
            "action": f"/gestion/factures/{quote(invoice['number'], safe='')}/avoir"}


@routes.route("/gestion/factures/{number}/avoir", methods=["GET"])
@routes.staff_call("factures")
def credit_note_form(call: StaffCall, number):
    """The invoice's rows and the form: the whole invoice, chosen rows or an amount, a reason.
    `famille` (optional): the family's number, for an invoice not yet on the index by number."""
    invoice = _notes(call).find_invoice(number, call.query("famille") or None)
    return call.render("gestion/avoir.html", **_context(invoice),
                       form={"mode": "total", "famille": call.query("famille")})


@routes.route("/gestion/factures/{number}/avoir", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("factures")
def credit_note_issue(call: StaffCall, number):
    """`mode` (total, lignes, montant), `ligne` (repeated), `montant`, `motif`, `famille`;
    without `confirm=1` the preview, with it the credit note (303 to the invoice's page)."""
    from chalicelib import credit_notes
    from chalicelib.formatting import euros

    notes = _notes(call)
    invoice = notes.find_invoice(number, call.field("famille") or None)
    form = {"mode": call.field("mode"), "lignes": call.fields("ligne"), "montant": call.field("montant"),
            "motif": call.field("motif"), "famille": call.field("famille")}
    try:
        asked = credit_notes.plan(invoice, form["mode"], form["lignes"], form["montant"], form["motif"])
    except credit_notes.CreditNoteError as error:
        return call.render("gestion/avoir.html", status=400, **_context(invoice), form=form, message=error.message)
    if call.field("confirm") != "1":
        preview = {"amount": euros(asked.amount), "lines": [{**line, "amount": euros(-line["amount"])}
                                                             for line in asked.lines],
                   "reason": asked.reason}
        return call.render("gestion/avoir.html", **_context(invoice), form=form, preview=preview)
    notes.issue(invoice, asked, call.staff.login)  # its journal entry is in its transaction
    from chalicelib.pages import pages_showing_billing

    family_pages().export(storage(), invoice["family_number"], call.now, only=pages_showing_billing())
    return call.redirect(f"/gestion/factures/{quote(invoice['number'], safe='')}/")
