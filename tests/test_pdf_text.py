"""The régie's PDFs' texts without reportlab's Paragraph (chalicelib/pdf_text.py): every
word printed once, in order, within the width it is given, bold where marked, escapes
read back as the characters they stand for; a long invoice still goes on over pages."""

from __future__ import annotations

import io
from decimal import Decimal

from pypdf import PdfReader


def test_a_text_wraps_within_its_width_in_order_bold_where_marked():
    from chalicelib.pdf_text import TextBlock
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase.pdfmetrics import stringWidth

    style = ParagraphStyle("body", fontName="Helvetica", fontSize=10, leading=12)
    markup = ("<b>Comment payer</b> : auprès de la REGIE &amp; CO &lt;caisse&gt;, avant le 19/11/2014.<br/>"
              "Rappelez   le numéro FAC-000123 et votre N° famille. " + "mot " * 40)
    block = TextBlock(markup, style)
    width, height = block.wrap(200, 1000)
    printed = block._printed
    assert height == len(printed) * 12 and len(printed) > 3
    for used, runs in printed:
        assert used <= 200
        assert abs(sum(stringWidth(text, font, 10) for font, text in runs) - used) < 0.01
    words = " ".join(text for _, runs in printed for _, text in runs).split()
    assert words == ("Comment payer : auprès de la REGIE & CO <caisse>, avant le 19/11/2014. "
                     "Rappelez le numéro FAC-000123 et votre N° famille. " + "mot " * 40).split()
    assert printed[0][1][0] == ("Helvetica-Bold", "Comment payer")
    assert printed[0][1][1][0] == "Helvetica"
    # The forced break: the second sentence starts a line.
    assert any(runs and runs[0][1].startswith("Rappelez") for _, runs in printed)


def test_a_long_invoice_goes_on_over_pages_with_its_amount_due_at_the_end():
    from chalicelib.config import get_commune
    from chalicelib.invoice_pdf import render

    lines = [{"child_name": f"ENFANT {n}", "label": "RESTAURATION", "quantity": 1, "unit_price": Decimal("3.45"),
              "amount": Decimal("3.45")} for n in range(70)]
    invoice = {"number": "FAC-000010", "family_number": "100", "regie": "REGIE", "responsable_name": "Madame A B",
               "address": ["1 rue de la Mairie"], "period_label": "01/10/2014 - 31/10/2014",
               "invoice_date": "2014-11-04", "due_date": "2014-12-04", "quotient_bracket": "B",
               "total": Decimal("241.50"), "paid_amount": Decimal(0), "lines": lines, "deductions": []}
    pages = PdfReader(io.BytesIO(render(invoice, get_commune()))).pages
    texts = [page.extract_text() for page in pages]
    assert len(texts) >= 2 and "FACTURE" in texts[0] and "ENFANT 0" in texts[0]
    assert "ENFANT 69" in texts[-1] or "ENFANT 69" in texts[-2]
    assert all("Enfant" in text for text in texts[1:] if "ENFANT" in text)  # the header repeated
    assert "Montant à payer avant le 04/12/2014 : 241,50" in texts[-1] and "Comment payer" in texts[-1]
    assert sum(text.count("ENFANT ") for text in texts) == 70
