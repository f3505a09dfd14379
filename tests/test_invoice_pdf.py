"""Invoice PDFs: the text a parent reads matches the stored invoice line by line and its
total; `GET /api/invoices/{number}/pdf` gives only the session family's own invoice."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from chalicelib.formatting import euros
from pypdf import PdfReader

from tests.conftest import GUIDE_NOW
from tests.test_accounts_api import PASSWORD_A, post, session_cookie
from tests.test_billing_run import OCTOBER, book, invoices, invoicing, new_family, tools  # noqa: F401  (fixture)


def pdf_text_lines(pdf: bytes) -> list[str]:
    """The PDF's text as a reader sees it, row by row, spaces collapsed."""
    text = "\n".join(page.extract_text(extraction_mode="layout") for page in PdfReader(io.BytesIO(pdf)).pages)
    return [re.sub(r"\s+", " ", line.replace("\u00a0", " ")).strip() for line in text.splitlines() if line.strip()]


def plain(text: str) -> str:
    return text.replace("\u00a0", " ")


def stored_pdf(tools, invoice: dict) -> bytes:  # noqa: F811
    from chalicelib.table import bucket_name

    return tools.s3.get_object(Bucket=bucket_name("documents"), Key=invoice["pdf_key"])["Body"].read()


def test_each_pdf_reads_as_its_stored_invoice_line_by_line(storage, commune, tools):  # noqa: F811
    from chalicelib.documents import record_staff_certificate

    new_family(storage, "300", second_responsable=True)
    storage.update_attributes("FAMILY#300", "PROFILE", {"address": "12 rue de la Mairie", "postal_code": "77124",
                                                         "city": "Crégy-lès-Meaux", "quotient_bracket": "D"})
    book(storage, "300", ["2014-10-02", "2014-10-03", "2014-10-16"], rank=1)
    book(storage, "300", ["2014-10-02", "2014-10-09"], rank=1, service="GARDERIE_SOIR")
    book(storage, "300", ["2014-10-06", "2014-10-07", "2014-10-09"], status="absent", rank=1)
    record_staff_certificate(storage, "300", "1", ["2014-10-06", "2014-10-07", "2014-10-09"], GUIDE_NOW)
    book(storage, "300", ["2014-10-13", "2014-10-14"], rank=2)
    new_family(storage, "400")
    book(storage, "400", ["2014-10-02"])

    invoicing(storage, commune, tools).run(OCTOBER)

    stored = invoices(storage)
    assert len(stored) == 3 and stored[0]["deductions"]
    for invoice in stored:
        lines = pdf_text_lines(stored_pdf(tools, invoice))
        text = "\n".join(lines)
        for fact in (commune.commune.name, invoice["regie"], f"N° {invoice['number']}",
                     f"N° famille : {invoice['family_number']}", invoice["responsable_name"],
                     f"Période : {invoice['period_label']}", "Date de facture : 04/11/2014",
                     "Date d'échéance : 04/12/2014", "Comment payer"):
            assert fact in text, (invoice["number"], fact)
        # One PDF row per stored line, then per deduction, in order, then the total.
        expected = [f"{x['child_name']} {x['label']} {int(x['quantity'])} {plain(euros(x['unit_price']))} "
                    f"{plain(euros(x['amount']))}" for x in [*invoice["lines"], *invoice["deductions"]]]
        positions = [lines.index(row) for row in expected]
        assert positions == sorted(positions)
        total_row = lines[positions[-1] + 1]
        assert total_row == f"Total {plain(euros(invoice['total']))}"
        assert sum(Decimal(str(x["amount"])) for x in [*invoice["lines"], *invoice["deductions"]]) == invoice["total"]
        assert f"Montant à payer avant le 04/12/2014 : {plain(euros(invoice['total']))}" in text
    first = "\n".join(pdf_text_lines(stored_pdf(tools, stored[0])))
    assert "12 rue de la Mairie" in first and "77124 Crégy-lès-Meaux" in first
    assert "LEA NOM300 RESTAURATION : absences justifiées 2 3,65 € -7,30 €" in first  # bracket D: 3,65 €
    assert "Absence justifiée par certificat médical" in first
    # The other parent's PDF shows only their own days.
    second = "\n".join(pdf_text_lines(stored_pdf(tools, stored[1])))
    assert "LEA NOM300 RESTAURATION 2 3,65 € 7,30 €" in second and "GARDERIE SOIR" not in second


def test_a_pdf_shows_what_a_credit_already_paid():
    from chalicelib.config import get_commune
    from chalicelib.invoice_pdf import render

    invoice = {"number": "FAC-000009", "family_number": "100", "regie": "REGIE", "responsable_name": "Madame A B",
               "address": [], "period_label": "01/10/2014 - 31/10/2014", "invoice_date": date(2014, 11, 4),
               "due_date": date(2014, 12, 4), "quotient_bracket": "B", "total": Decimal("1234.50"),
               "paid_amount": Decimal("10.00"),
               "lines": [{"child_name": "LEA B", "label": "RESTAURATION", "quantity": 2, "unit_price": Decimal("617.25"),
                          "amount": Decimal("1234.50")}], "deductions": []}
    lines = pdf_text_lines(render(invoice, get_commune()))
    assert "LEA B RESTAURATION 2 617,25 € 1 234,50 €" in lines
    assert lines[lines.index("Total 1 234,50 €") + 1:][:2] == ["Déjà réglé (avoir) -10,00 €", "Reste à payer 1 224,50 €"]
    assert "Montant à payer avant le 04/12/2014 : 1 224,50 €" in lines


# --- the download route --------------------------------------------------------------------------

@pytest.fixture
def issued(client, storage, commune, tools, families):  # noqa: F811
    """Families A (100) and B (200) each with an October invoice: FAC-000001 and FAC-000002."""
    book(storage, "100", ["2014-10-02"])
    book(storage, "200", ["2014-10-03"])
    invoicing(storage, commune, tools).run(OCTOBER)
    return {i["family_number"]: i for i in invoices(storage)}


@pytest.fixture
def cookie(client, families, frozen_clock):
    response = post(client, "/api/login", {"login": "alice", "password": PASSWORD_A})
    assert response.status_code == 200
    return session_cookie(response)


def get(client, path, cookie=None):
    return client.http.get(path, headers={"Cookie": cookie} if cookie else {})


def test_the_family_downloads_its_invoice_through_a_short_presigned_url(client, issued, cookie):
    import requests

    response = get(client, "/api/invoices/FAC-000001/pdf", cookie)
    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "no-store"
    location = response.headers["Location"]
    url = urlsplit(location)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path.endswith("/factures/100/FAC-000001.pdf")
    assert int(query["X-Amz-Expires"]) <= 300
    assert query["response-content-disposition"] == 'attachment; filename="FAC-000001.pdf"'
    assert query["response-content-type"] == "application/pdf"
    download = requests.get(location, timeout=10)
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_another_familys_invoice_is_not_found(client, issued, cookie):
    for number in ("FAC-000002", "FAC-999999", "fac-000001", "..%2Ffactures", "A" * 40):
        response = get(client, f"/api/invoices/{number}/pdf", cookie)
        assert response.status_code == 404, number
        error = json.loads(response.body)["error"]
        assert error["code"] == "invoice_not_found"
        assert error["message"] == "Cette facture est introuvable dans votre espace famille."
        assert "Location" not in response.headers


def test_downloading_needs_a_session(client, issued):
    response = get(client, "/api/invoices/FAC-000001/pdf")
    assert response.status_code == 401
    assert json.loads(response.body)["error"]["code"] == "not_authenticated"


def test_an_invoice_whose_pdf_is_missing_is_a_french_404_not_a_link_to_nothing(client, issued, cookie, tools):  # noqa: F811
    """A run interrupted between the invoice's write and its PDF's: the download checks the
    file (one HEAD) before handing out a presigned URL."""
    from chalicelib.table import bucket_name

    tools.s3.delete_object(Bucket=bucket_name("documents"), Key="factures/100/FAC-000001.pdf")
    response = get(client, "/api/invoices/FAC-000001/pdf", cookie)
    assert response.status_code == 404 and "Location" not in response.headers
    error = json.loads(response.body)["error"]
    assert error["code"] == "invoice_pdf_missing"
    assert error["message"].startswith("Le PDF de la facture FAC-000001 n'est pas encore disponible")
