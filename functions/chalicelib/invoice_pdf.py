"""An invoice as a one-page A4 PDF (reportlab), from the stored INVOICE item alone.

What a parent needs to check every euro: the commune and its régie, the family number,
the responsable billed and their address, the period (« 01/06/2017 - 30/06/2017 »),
one row per child and service (quantity × unit price = amount), the deductions, the
total, the due date, and how to pay. Euros are written the French way (« 1 234,56 € »)
with reportlab's core fonts, which print `€` (docs/architecture.md). The output is invariant (no
creation date, fixed document id): the same invoice always gives the same bytes.
"""

from __future__ import annotations

import io
from decimal import Decimal

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from chalicelib.billing import PAYMENT_MODES
from chalicelib.config import Commune
from chalicelib.formatting import euros, short_date
from chalicelib.pdf_text import Columns, Stack, TextBlock

HEADER = ("Enfant", "Prestation", "Quantité", "Prix unitaire", "Montant")
COLUMNS = (36 * mm, 68 * mm, 18 * mm, 24 * mm, 24 * mm)  # 170 mm: A4 less margins and frame padding
_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=9.5, leading=12.5)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=8.5, leading=11)
_STRONG = ParagraphStyle("strong", parent=_BODY, fontName="Helvetica-Bold")
_TITLE = ParagraphStyle("title", parent=_BODY, fontName="Helvetica-Bold", fontSize=16, leading=20, alignment=TA_RIGHT)
_RIGHT = ParagraphStyle("right", parent=_BODY, alignment=TA_RIGHT)
_HEADING = ParagraphStyle("heading", parent=_BODY, fontName="Helvetica-Bold", fontSize=11, leading=15, spaceBefore=4)
_STRIPE = colors.HexColor("#f2f2f2")


def _text(value) -> str:
    """Paragraph markup is XML-like: escape what a name or an address may hold."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

def new_document(buffer, title: str, commune: Commune, subject: str = "") -> SimpleDocTemplate:
    """An A4 page with the régie's margins, invariant (the same content, the same bytes)."""
    return SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=17 * mm, rightMargin=17 * mm, topMargin=15 * mm, bottomMargin=15 * mm,
        title=title, author=commune.commune.name, **({"subject": subject} if subject else {}),
        creator="Portail Famille", invariant=1,
    )


def letterhead(commune: Commune, regie: str, heading: str, details: str, *, body: ParagraphStyle = _BODY,
               title: ParagraphStyle = _TITLE, right: ParagraphStyle = _RIGHT) -> Columns:
    """The top of every document of the régie (invoice, credit note, receipt): the commune,
    its régie and contacts on the left; the document's kind, number and dates on the right."""
    info = commune.commune
    sender = TextBlock(f"<b>Commune de {_text(info.name)}</b><br/>{_text(regie)}<br/>Service enfance"
                       + "".join(f"<br/>{_text(p)}" for p in (info.contact_email, info.contact_phone) if p), body)
    return Columns([(sender, 95 * mm), (Stack([TextBlock(heading, title), TextBlock(details, right)]), 75 * mm)],
                   padding=(0, 0, 3, 3))


def table_rows(invoice: dict) -> list[tuple[str, str, str, str, str]]:
    """The rows of the invoice's table, as printed: lines, deductions, then the
    regularisations of months already invoiced (chalicelib.regularisation)."""
    rows = []
    for line in [*invoice.get("lines", []), *invoice.get("deductions", []), *invoice.get("regularisations", [])]:
        rows.append((line["child_name"], line["label"], str(int(line["quantity"])),
                     euros(line["unit_price"]), euros(line["amount"])))
    return rows


def _how_to_pay(invoice: dict, commune: Commune, site_url: str) -> str:
    info = commune.commune
    modes = ", ".join(PAYMENT_MODES[:-1]) + " ou " + PAYMENT_MODES[-1]
    contact = " ; ".join(p for p in (info.contact_email, info.contact_phone) if p)
    text = (f"<b>Comment payer</b> : avant le {short_date(invoice['due_date'])}, auprès de la {_text(invoice['regie'])}, "
            f"en {_text(modes)} (chèque à l'ordre du Trésor public). Rappelez le numéro de facture "
            f"{_text(invoice['number'])} et votre N° famille {_text(invoice['family_number'])}.")
    if contact:
        text += f" Contact : {_text(contact)}."
    if site_url:
        text += (f" Vos factures, vos règlements et votre relevé de compte sont sur le Portail Famille : "
                 f"{_text(site_url.rstrip('/'))}/connexion/")
    return text


def render(invoice: dict, commune: Commune, site_url: str = "") -> bytes:
    """The PDF of one invoice (bytes)."""
    buffer = io.BytesIO()
    document = new_document(buffer, f"Facture {invoice['number']}", commune, f"Période {invoice['period_label']}")
    top = letterhead(commune, invoice["regie"], "FACTURE",
                     f"N° {_text(invoice['number'])}<br/>Date de facture : {short_date(invoice['invoice_date'])}<br/>"
                     f"Date d'échéance : {short_date(invoice['due_date'])}")
    recipient = TextBlock("<br/>".join([f"<b>{_text(invoice['responsable_name'])}</b>",
                                        *(_text(x) for x in invoice.get("address", []))]), _BODY)
    family = TextBlock(f"N° famille : {_text(invoice['family_number'])}<br/>"
                       f"Période : {_text(invoice['period_label'])}", _BODY)
    who = Columns([(family, 95 * mm), (recipient, 75 * mm)], padding=(0, 6, 3, 3))

    rows = table_rows(invoice)
    first_regularisation = 1 + len(invoice.get("lines", [])) + len(invoice.get("deductions", []))
    # A regularisation's label is a sentence (month, child, service, cause): it wraps.
    rows = [(r[0], Paragraph(_text(r[1]), _SMALL), *r[2:]) if n >= first_regularisation else r
            for n, r in enumerate(rows, start=1)]
    total = Decimal(str(invoice["total"]))
    paid = Decimal(str(invoice.get("paid_amount") or 0))
    data = [list(HEADER), *[list(r) for r in rows], ["", "Total", "", "", euros(total)]]
    if paid > 0:
        data += [["", "Déjà réglé (avoir)", "", "", euros(-paid)], ["", "Reste à payer", "", "", euros(total - paid)]]
    first_deduction = 1 + len(invoice.get("lines", []))
    style = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 9.5),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9.5),
        ("FONT", (0, 1 + len(rows)), (-1, -1), "Helvetica-Bold", 9.5),
        ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEABOVE", (0, 1 + len(rows)), (-1, 1 + len(rows)), 0.8, colors.black),
        ("ROWBACKGROUNDS", (0, 1), (-1, len(rows)), [colors.white, _STRIPE]),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if invoice.get("deductions"):
        style.append(("FONT", (0, first_deduction), (-1, first_regularisation - 1), "Helvetica-Oblique", 9.5))
    lines = Table(data, colWidths=COLUMNS, repeatRows=1, hAlign="LEFT", spaceAfter=3 * mm)
    lines.setStyle(TableStyle(style))

    # Three flowables for the document template to place (each costs it a frame's work):
    # what comes before the table, the table (which may go on over pages), what follows it.
    head = Stack([top, who, TextBlock("Détail des prestations", _HEADING)],
                 gaps=(8 * mm, 8 * mm + _HEADING.spaceBefore, 2 * mm))
    notes = []
    reasons = sorted({d["reason"] for d in invoice.get("deductions", []) if d.get("reason")})
    if reasons:
        notes.append(TextBlock("Déductions : " + _text(" ; ".join(reasons)) + " (le premier jour d'absence "
                               "reste facturé).", _SMALL))
    if invoice.get("regularisations"):
        notes.append(TextBlock("Régularisations : les changements survenus après la facturation d'un mois déjà "
                               "facturé (jours validés ou saisis après coup, absences justifiées ensuite), "
                               "ajoutés ou déduits ici.", _SMALL))
    notes.append(TextBlock("Chaque ligne : quantité de jours × prix unitaire (tarif de la tranche de quotient "
                           f"familial {_text(invoice.get('quotient_bracket', ''))}) = montant.", _SMALL))
    due = TextBlock(f"Montant à payer avant le {short_date(invoice['due_date'])} : <b>{euros(total - paid)}</b>",
                    _STRONG)
    # Kept on one page: the amount due with how to pay it, and the notes about the table above.
    tail = Stack([*notes, due, TextBlock(_how_to_pay(invoice, commune, site_url), _BODY)],
                 gaps=(*[0] * (len(notes) - 1), 6 * mm, 3 * mm))
    story = [head, lines, tail]
    document.build(story)
    return buffer.getvalue()
