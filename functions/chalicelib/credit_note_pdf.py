"""A credit note (« avoir ») as a one-page A4 PDF (reportlab), from the stored
CREDITNOTE item alone, in the invoice's layout (chalicelib.invoice_pdf): the commune
and its régie, « AVOIR », its number and date, the invoice it corrects (or the months it
regularises), the responsable, the rows credited, the amount and the reason, and what
becomes of it. Imported only when a credit note is made (never at the function's start).
"""

from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from chalicelib.config import Commune
from chalicelib.formatting import euros, short_date
from chalicelib.invoice_pdf import (
    _BODY,
    _HEADING,
    _SMALL,
    _STRONG,
    COLUMNS,
    HEADER,
    _text,
    letterhead,
    new_document,
    table_rows,
)
from chalicelib.money import to_decimal


def credited_rows(credit_note: dict) -> list[list]:
    """The table's rows: the invoice's rows credited (as negative amounts), or, for the
    run's credit note, the month's lines and regularisations as invoiced."""
    if credit_note.get("origin") == "regularisation":
        return [[r[0], Paragraph(_text(r[1]), _SMALL), *r[2:]] for r in table_rows(credit_note)]
    return [[line["child_name"], Paragraph(_text(line["label"]), _SMALL), str(int(line["quantity"])),
             euros(line["unit_price"]), euros(-to_decimal(line["amount"]))]
            for line in credit_note.get("credited_lines", [])]


def render(credit_note: dict, commune: Commune, site_url: str = "") -> bytes:
    buffer = io.BytesIO()
    document = new_document(buffer, f"Avoir {credit_note['number']}", commune)
    about = (f"Facture corrigée : {_text(credit_note['invoice_number'])} du {short_date(credit_note['invoice_date'])}"
             if credit_note.get("invoice_number") else f"Régularisation : {_text(credit_note['period_label'])}")
    top = letterhead(commune, credit_note["regie"], "AVOIR",
                     f"N° {_text(credit_note['number'])}<br/>Date : {short_date(credit_note['date'])}<br/>{about}")
    recipient = Paragraph("<br/>".join([f"<b>{_text(credit_note['responsable_name'])}</b>",
                                        *(_text(x) for x in credit_note.get("address", []))]), _BODY)
    family = Paragraph(f"N° famille : {_text(credit_note['family_number'])}", _BODY)
    who = Table([[family, recipient]], colWidths=(95 * mm, 75 * mm), hAlign="LEFT")
    who.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    amount = to_decimal(credit_note["amount"])
    story = [top, Spacer(0, 8 * mm), who, Spacer(0, 8 * mm)]
    rows = credited_rows(credit_note)
    if rows:
        data = [list(HEADER), *rows]
        table = Table(data, colWidths=COLUMNS, repeatRows=1, hAlign="LEFT")
        table.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), "Helvetica", 9.5), ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9.5),
            ("ALIGN", (2, 0), (-1, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
            ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
        story += [Paragraph("Détail", _HEADING), Spacer(0, 2 * mm), table, Spacer(0, 3 * mm)]
    story += [Paragraph(f"Montant de l'avoir : <b>{euros(amount)}</b>", _STRONG), Spacer(0, 2 * mm),
              Paragraph(f"Motif : {_text(credit_note['reason'])}", _BODY), Spacer(0, 4 * mm)]
    settles = to_decimal(credit_note.get("settles") or 0)
    use = []
    if settles > 0:
        use.append(f"{euros(settles)} sont déduits de ce qui reste à payer sur la facture "
                   f"{_text(credit_note['invoice_number'])}.")
    if amount - settles > 0:
        use.append(f"{euros(amount - settles)} restent à votre crédit : ils règlent vos prochaines factures.")
    story.append(Paragraph(" ".join(use), _BODY))
    if site_url:
        story.append(Paragraph(f"Vos factures, avoirs et votre relevé de compte sont sur le Portail Famille : "
                               f"{_text(site_url.rstrip('/'))}/connexion/", _SMALL))
    document.build(story)
    return buffer.getvalue()
