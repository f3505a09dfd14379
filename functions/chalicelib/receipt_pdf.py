"""A receipt (« reçu ») of a payment made at the régie's desk, as a one-page A4 PDF
(reportlab, imported with this module: only when a receipt's PDF is made), from the
stored RECEIPT item alone (chalicelib/payment_desk.py): the commune and its régie, the
receipt's number, the family number, the responsable who paid, the amount in figures,
the mode, the day, the invoice paid (or the credit kept on the account), and who
recorded it. Invariant output: the same receipt always gives the same bytes.
"""

from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from chalicelib.config import Commune
from chalicelib.formatting import euros, short_date
from chalicelib.invoice_pdf import _text, letterhead, new_document
from chalicelib.payment_desk import receipt_rows

_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=10, leading=13)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=8.5, leading=11)
_TITLE = ParagraphStyle("title", parent=_BODY, fontName="Helvetica-Bold", fontSize=16, leading=20, alignment=TA_RIGHT)
_RIGHT = ParagraphStyle("right", parent=_BODY, alignment=TA_RIGHT)


def receipt_pdf(receipt: dict, commune: Commune) -> bytes:
    buffer = io.BytesIO()
    document = new_document(buffer, f"Reçu {receipt['number']}", commune, f"Famille {receipt['family_number']}")
    recorded = str(receipt.get("recorded_at", ""))[:10]
    top = letterhead(commune, receipt["regie"], "REÇU",
                     f"N° {_text(receipt['number'])}<br/>Établi le {short_date(recorded) if recorded else ''}",
                     body=_BODY, title=_TITLE, right=_RIGHT)
    data = [[Paragraph(_text(k), _BODY), Paragraph(_text(v), _BODY)] for k, v in receipt_rows(receipt)]
    table = Table(data, colWidths=(60 * mm, 110 * mm), hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (0, -1), "Helvetica-Bold", 10),
        ("LINEBELOW", (0, 0), (-1, -2), 0.4, colors.grey),
        ("BOX", (0, 0), (-1, -1), 0.8, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]))
    story = [top, Spacer(0, 10 * mm),
             Paragraph(f"La {_text(receipt['regie'])} reconnaît avoir reçu la somme de "
                       f"<b>{euros(receipt['amount'])}</b> ({_text(receipt['mode'])}) le "
                       f"{short_date(receipt['date'])}.", _BODY),
             Spacer(0, 6 * mm), table, Spacer(0, 6 * mm),
             Paragraph(f"Enregistré par : {_text(receipt.get('recorded_by', ''))}. Ce règlement figure sur le relevé "
                       "de compte de la famille, sur le Portail Famille.", _SMALL)]
    document.build(story)
    return buffer.getvalue()
