"""Credit notes (« avoirs », chalicelib.credit_notes, docs/billing.md): the régie's page
`/gestion/factures/<number>/avoir` (preview, then confirm), the gapless AVO- numbers, the
PDF, the mail, the statement and the family's pages; an issued invoice never changes,
and two credit notes cannot credit more than the invoice."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from html import unescape

import boto3
import pytest
from chalicelib import credit_notes
from chalicelib.table import bucket_name

from tests.conftest import GUIDE_NOW, all_items
from tests.test_billing_run import book, new_family

OCTOBER = date(2014, 10, 1)
URL = "/gestion/factures/FAC-000001/avoir"
PRICE = Decimal("2.45")


def text(response_or_html) -> str:
    html = response_or_html if isinstance(response_or_html, str) else response_or_html.body.decode()
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).replace("\u00a0", " ").split())


@pytest.fixture
def invoiced(client, storage, commune):
    """Family 300 invoiced for October (FAC-000001: 4 days of canteen, 2 of evening care,
    9,80 € + 2 × the evening's tariff), its PDF in the documents bucket; family 400 too."""
    from chalicelib.dependencies import documents, mailer
    from chalicelib.invoicing import Invoicing

    boto3.client("s3", region_name="eu-west-3").create_bucket(
        Bucket=bucket_name("documents"), CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    new_family(storage, "300")
    new_family(storage, "400")
    book(storage, "300", ["2014-10-02", "2014-10-03", "2014-10-06", "2014-10-07"])
    book(storage, "300", ["2014-10-02", "2014-10-03"], service="GARDERIE_SOIR")
    book(storage, "400", ["2014-10-02"])
    report = Invoicing(storage, commune, GUIDE_NOW, documents=documents(), mailer=mailer()).run(OCTOBER)
    return {i["family_number"]: i for i in report.invoices}


def raw_invoice(storage, family="300", number="FAC-000001") -> dict:
    return storage.client.get_item(TableName=storage.table_name,
                                   Key={"pk": {"S": f"FAMILY#{family}"}, "sk": {"S": f"INVOICE#{number}"}})["Item"]


def issue(regie, fields: dict, confirm: bool = True):
    return regie.post(URL, {"famille": "300", **fields, **({"confirm": "1"} if confirm else {})})


def test_the_regie_previews_then_issues_a_credit_note_and_the_invoice_never_changes(
        staff_client, storage, invoiced, mails):
    regie = staff_client("regie")
    before = raw_invoice(storage)
    page = regie.get(URL + "/?famille=300")
    assert page.status_code == 200
    words = text(page)
    assert "Avoir sur la facture FAC-000001" in words and "Reste à créditer au plus : " + \
        f"{invoiced['300']['total']} €".replace(".", ",") in words
    assert "Ligne 1 : LEA NOM300 – GARDERIE SOIR (4,00 €)" in words
    assert "Ligne 2 : LEA NOM300 – RESTAURATION (9,80 €)" in words
    assert '<input type="hidden" name="famille" value="300">' in page.body.decode()  # the form carries it

    items_before = all_items(storage)
    preview = issue(regie, {"mode": "montant", "montant": "4,90", "motif": "Deux repas servis par erreur"},
                    confirm=False)
    assert preview.status_code == 200 and "Aperçu : rien n'est encore enregistré" in text(preview)
    assert "Un avoir de 4,90 € sur la facture FAC-000001" in text(preview)
    assert all_items(storage) == items_before  # the preview writes nothing

    answer = issue(regie, {"mode": "montant", "montant": "4,90", "motif": "Deux repas servis par erreur"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/gestion/factures/FAC-000001/"

    assert raw_invoice(storage) == before  # the issued invoice is byte-identical
    note = storage.get("FAMILY#300", "CREDITNOTE#AVO-000001")
    assert (note["amount"], note["settles"], note["unallocated"], note["invoice_number"]) == (
        Decimal("4.90"), Decimal("4.90"), 0, "FAC-000001")
    assert storage.get("COUNTER#CREDIT_NOTE", "COUNTER")["value"] == 1
    credit = next(i for i in all_items(storage) if i.get("credit_note_number") == "AVO-000001")
    assert (credit["credit"], credit["description"]) == (Decimal("4.90"), "Avoir AVO-000001 (facture FAC-000001)")
    state = storage.family_state("300")
    assert state.invoices[0]["credited"] == Decimal("4.90")  # what is left to pay counts it
    pdf = boto3.client("s3", region_name="eu-west-3").get_object(Bucket=bucket_name("documents"),
                                                                 Key="factures/300/AVO-000001.pdf")
    assert pdf["Body"].read().startswith(b"%PDF") and note["pdf_written_at"]
    mail = next(m for m in mails() if "avoir" in m["Subject"])
    assert mail["To"] == "f300@example.org" and mail["Subject"] == "Nouvel avoir disponible : AVO-000001"
    body = mail["Body"]["text_part"] if isinstance(mail["Body"], dict) else str(mail["Body"])
    assert "sur la facture FAC-000001, d'un montant de 4,90" in body and "LEA" not in body and "repas" not in body
    entry = next(i for i in all_items(storage) if i.get("action") == "credit_note_issued")
    assert entry["actor"] == regie.login and entry["details"]["reason"] == "Deux repas servis par erreur"

    # The family sees it: « Mes factures » (the invoice corrected, the credit note and its PDF).
    from chalicelib.storage import family_pk

    key = storage.get(family_pk("300"), "PROFILE")["page_key"]
    html = boto3.client("s3", region_name="eu-west-3").get_object(
        Bucket=bucket_name("pages"), Key=f"famille/{key}/factures/index.html")["Body"].read().decode()
    assert "corrigée par l'avoir AVO-000001" in text(html)
    assert "AVO-000001" in text(html) and "/api/avoirs/AVO-000001/pdf" in html
    assert "Deux repas servis par erreur" in text(html)


def test_whole_invoice_or_chosen_lines_and_never_more_than_its_total(staff_client, storage, invoiced):
    regie = staff_client("regie")
    lines = issue(regie, {"mode": "lignes", "ligne": "1", "motif": "Garderie fermée ces soirs-là"})
    assert lines.status_code == 303
    note = storage.get("FAMILY#300", "CREDITNOTE#AVO-000001")
    assert [line["label"] for line in note["credited_lines"]] == ["GARDERIE SOIR"]
    left = invoiced["300"]["total"] - note["amount"]

    items = all_items(storage)
    too_much = issue(regie, {"mode": "montant", "montant": str(left + Decimal("0.01")), "motif": "Erreur"})
    assert too_much.status_code == 400 and "au plus (son montant" in text(too_much)
    no_reason = issue(regie, {"mode": "total", "motif": "  "})
    assert no_reason.status_code == 400 and "Indiquez le motif de l'avoir" in text(no_reason)
    assert all_items(storage) == items  # a refused request writes nothing

    whole = issue(regie, {"mode": "total", "motif": "Facture émise à tort"})
    assert whole.status_code == 303
    assert storage.get("FAMILY#300", "CREDITNOTE#AVO-000002")["amount"] == left
    assert "entièrement créditée" in text(regie.get(URL + "/?famille=300"))
    again = issue(regie, {"mode": "montant", "montant": "1", "motif": "Encore"})
    assert again.status_code == 400 and "n'a plus rien à créditer" in text(again)


def test_two_credit_notes_at_once_cannot_exceed_the_invoice(storage, commune, invoiced):
    """Both read the invoice before either writes (as two régie agents at once): the
    per-invoice credited amount's condition refuses the second, which writes nothing."""
    notes = credit_notes.CreditNotes(storage, commune, GUIDE_NOW)
    first, second = notes.find_invoice("FAC-000001", "300"), notes.find_invoice("FAC-000001", "300")
    total = invoiced["300"]["total"]
    notes.issue(first, credit_notes.plan(first, "montant", [], str(total - 1), "Erreur"), "regie-a")
    items = all_items(storage)
    with pytest.raises(credit_notes.CreditNoteError) as refused:
        credit_notes.CreditNotes(storage, commune, GUIDE_NOW).issue(
            second, credit_notes.plan(second, "montant", [], "2,00", "Erreur aussi"), "regie-b")
    assert refused.value.status == 409 and "il reste 1,00\u00a0€ à créditer au plus" in refused.value.message
    assert all_items(storage) == items
    assert storage.get("FAMILY#300", "CREDITED#FAC-000001")["amount"] == total - 1


def test_a_credit_note_on_a_paid_invoice_is_a_credit_for_the_next_invoice(storage, commune, invoiced):
    storage.update_attributes("FAMILY#400", "INVOICE#FAC-000002", {"paid_amount": PRICE})
    notes = credit_notes.CreditNotes(storage, commune, GUIDE_NOW)
    invoice = notes.find_invoice("FAC-000002", "400")
    note = notes.issue(invoice, credit_notes.plan(invoice, "total", [], "", "Repas non servi"), "regie")
    assert (note["settles"], note["unallocated"]) == (0, PRICE)
    from chalicelib.invoicing import Invoicing

    book(storage, "400", ["2014-11-03", "2014-11-04"])
    (november,) = Invoicing(storage, commune, datetime.fromisoformat("2014-12-04T09:00:00+01:00")).run(
        date(2014, 11, 1)).invoices
    assert november["paid_amount"] == PRICE  # the credit note's credit settled part of it
    assert storage.get("FAMILY#400", "CREDITNOTE#AVO-000001")["unallocated"] == 0


def test_an_invoice_is_found_by_its_number_on_the_index(storage, commune, invoiced):
    storage.update_attributes("FAMILY#400", "INVOICE#FAC-000002",
                              {"gsi2pk": "INVOICES#NUMBER#FAC-000002", "gsi2sk": "400"})
    notes = credit_notes.CreditNotes(storage, commune, GUIDE_NOW)
    assert notes.find_invoice("fac-000002")["family_number"] == "400"
    with pytest.raises(credit_notes.CreditNoteError) as missing:
        notes.find_invoice("FAC-999999")
    assert missing.value.status == 404 and "introuvable" in missing.value.message


def test_the_family_downloads_its_own_credit_note_only(client, staff_client, storage, invoiced):
    from tests.test_accounts_api import post, session_cookie

    issue(staff_client("regie"), {"mode": "total", "motif": "Erreur"})
    from chalicelib import passwords

    for login in ("login300", "login400"):
        storage.update_attributes(f"LOGIN#{login}", "LOGIN", {"password_hash": passwords.hash_password(
            "une phrase de passe tres longue")})
    mine = session_cookie(post(client, "/api/login", {"login": "login300", "password": "une phrase de passe tres longue"}))
    other = session_cookie(post(client, "/api/login", {"login": "login400", "password": "une phrase de passe tres longue"}))
    answer = client.http.get("/api/avoirs/AVO-000001/pdf", headers={"Cookie": mine})
    assert answer.status_code == 302 and "AVO-000001.pdf" in answer.headers["Location"]
    refused = client.http.get("/api/avoirs/AVO-000001/pdf", headers={"Cookie": other})
    assert refused.status_code == 404 and "Cet avoir est introuvable" in refused.body.decode()


def test_an_agent_opens_no_credit_note_page(staff_client, invoiced):
    agent = staff_client("agent")
    assert agent.get(URL + "/?famille=300").status_code == 403
    assert agent.post(URL, {"famille": "300", "mode": "total", "motif": "x", "confirm": "1"}).status_code == 403


def test_amounts_are_read_the_french_way():
    assert credit_notes.parse_amount("12,50") == Decimal("12.50") == credit_notes.parse_amount("12.5 €")
    for bad in ("", "abc", "-3", "1,234"):
        with pytest.raises(credit_notes.CreditNoteError):
            credit_notes.parse_amount(bad)


def test_the_command_issues_the_same_credit_note_and_refuses_in_french(storage, invoiced, frozen_clock, capsys):
    from portail.cli import main

    assert main(["invoices", "credit", "FAC-000001", "--family", "300", "--amount", "99", "--reason", "Erreur"]) == 1
    assert "dépasserait la facture FAC-000001" in capsys.readouterr().err
    assert main(["invoices", "credit", "FAC-000001", "--family", "300", "--lines", "1", "--reason", "Erreur",
                 "--dry-run"]) == 0
    assert "un avoir de 4,00\u00a0€ serait émis" in capsys.readouterr().out
    assert storage.get("FAMILY#300", "CREDITNOTE#AVO-000001") is None
    assert main(["invoices", "credit", "FAC-000001", "--family", "300", "--lines", "1", "--reason", "Erreur"]) == 0
    assert "Avoir AVO-000001 émis sur la facture FAC-000001 (famille 300) : 4,00\u00a0€." in capsys.readouterr().out
    assert storage.get("FAMILY#300", "CREDITNOTE#AVO-000001")["pdf_written_at"]
