"""The régie's payments in the back office (/gestion/reglements/) through Chalice's test
client: a payment at the desk gets a gapless receipt and its PDF, shows on the family's
pages, is recorded once however often its form is sent, and a bad form writes nothing;
a payments file is previewed, refused whole for one bad row, then confirmed, and never
records a payment twice; the day's list totals each mode. The roles and the form token
of these routes are the role matrix's (tests/test_staff_access.py)."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from chalicelib.table import bucket_name
from pypdf import PdfReader

from tests.conftest import add_family, all_items
from tests.test_billing_run import tools  # noqa: F401  (fixture)
from tests.test_gestion_headcount import words
from tests.test_payments import two_invoices  # noqa: F401  (fixture)

DESK = "/gestion/reglements"
HEADER = "date;numero_famille;numero_facture;montant;mode;reference\n"
TOKEN = "formulaire-guichet-0001"


@pytest.fixture
def regie(staff_client, two_invoices, frozen_clock):  # noqa: F811
    """A régie's client; family 300 owes FAC-000001 (7,35 €) and FAC-000002 (4,90 €); 28 November 2014."""
    return staff_client("regie")


def money_items(storage) -> list[dict]:
    """What a payment writes (families, counters, receipts, tokens), never the staff's sessions."""
    return sorted((i for i in all_items(storage) if i["pk"].split("#")[0] in
                   ("FAMILY", "COUNTER", "RECEIPT", "PAYMENTTOKEN")), key=lambda i: (i["pk"], i["sk"]))


def of_family(storage, prefix: str, family: str = "300") -> list[dict]:
    return [i for i in money_items(storage) if i["pk"] == f"FAMILY#{family}" and i["sk"].startswith(prefix)]


def family_page(storage, family: str, path: str) -> str:
    key = storage.get(f"FAMILY#{family}", "PROFILE")["page_key"]
    s3 = boto3.client("s3", region_name="eu-west-3")
    body = s3.get_object(Bucket=bucket_name("pages"), Key=f"famille/{key}/{path}")["Body"].read().decode()
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def desk(client, **fields):
    form = {"family_number": "300", "amount": "5,00", "mode": "chèque", "date": "2014-11-27", "token": TOKEN,
            **fields}
    return client.post(DESK, {k: v for k, v in form.items() if v is not None})


def test_a_desk_payment_gets_a_gapless_receipt_with_its_pdf_and_shows_on_the_familys_pages(regie, storage, tools):  # noqa: F811
    import requests

    first = desk(regie, invoice="FAC-000002", amount="4,90")
    assert first.status_code == 303 and first.headers["Location"] == "/gestion/reglements/recus/REC-000001/#resultat"
    second = desk(regie, amount="12.50", mode="especes", date="2014-11-28", token=TOKEN + "b")
    assert second.headers["Location"].startswith("/gestion/reglements/recus/REC-000002/")

    page = words(regie.get("/gestion/reglements/recus/REC-000001/"))
    assert "Reçu REC-000001" in page and "Règlement de 4,90 € (chèque) enregistré pour la famille 300" in page
    assert "Facture indiquée FAC-000002" in page and "Affecté à FAC-000002 (4,90 €)" in page
    receipt = regie.get("/gestion/reglements/recus/REC-000002/pdf")
    assert receipt.status_code == 302 and receipt.headers["Cache-Control"] == "no-store"
    location = receipt.headers["Location"]
    assert urlsplit(location).path.endswith("/recus/300/REC-000002.pdf")
    assert int(parse_qs(urlsplit(location).query)["X-Amz-Expires"][0]) <= 300
    download = requests.get(location, timeout=10)
    assert download.status_code == 200 and download.headers["Content-Type"] == "application/pdf"
    text = " ".join(PdfReader(io.BytesIO(download.content)).pages[0].extract_text().split())
    for expected in ("REÇU", "N° REC-000002", "N° famille 300", "Madame ANNE NOM300", "Montant 12,50 €",
                     "Mode de règlement espèces", "Date du règlement 28/11/2014", "Facture indiquée aucune",
                     "Affecté à FAC-000001 (7,35 €) ; 5,15 € gardés en avoir"):
        assert expected in text, (expected, text)

    # Gapless: the receipts 1 and 2, the statement's operations after the two invoices'.
    assert storage.get("COUNTER#RECEIPT", "COUNTER")["value"] == 2
    payments = of_family(storage, "PAYMENT#")
    assert sorted(p["receipt_number"] for p in payments) == ["REC-000001", "REC-000002"]
    assert [o["number"] for o in of_family(storage, "OPERATION#")] == [1, 2, 3, 4]
    assert {i["number"]: i["paid_amount"] for i in of_family(storage, "INVOICE#")} == {
        "FAC-000001": Decimal("7.35"), "FAC-000002": Decimal("4.90")}
    # The family's pages: « Mes règlements », the statement and the dashboard's balance.
    assert "28/11/2014 espèces 12,50 € FAC-000001 (7,35 €) ; avoir : 5,15 €" in family_page(
        storage, "300", "reglements/index.html")
    assert "Règlement : chèque" in family_page(storage, "300", "releve/index.html")
    assert "5,15" in family_page(storage, "300", "index.html")  # the credit left: a positive balance
    # The staff journal: one entry each, the agent as actor, the family's number.
    entries = [i for i in all_items(storage) if i["pk"].startswith("AUDIT#") and i["action"] == "payment_recorded"]
    assert sorted((e["actor"], e["details"]["family_number"], e["details"]["receipt_number"]) for e in entries) == [
        (regie.login, "300", "REC-000001"), (regie.login, "300", "REC-000002")]


def test_a_form_sent_twice_records_one_payment(regie, storage, tools):  # noqa: F811
    first, again = desk(regie), desk(regie)
    assert first.headers["Location"] == "/gestion/reglements/recus/REC-000001/#resultat"
    assert again.status_code == 303 and again.headers["Location"] == "/gestion/reglements/recus/REC-000001/?deja=1#resultat"
    assert "le règlement n'est enregistré qu'une fois" in words(regie.get(again.headers["Location"].split("#")[0]))
    assert len(of_family(storage, "PAYMENT#")) == 1 and storage.get("COUNTER#RECEIPT", "COUNTER")["value"] == 1
    # The same token with another amount (a form reused after the back button) is refused.
    before = money_items(storage)
    changed = desk(regie, amount="6,00")
    assert changed.status_code == 409 and "Ce formulaire a déjà servi au reçu REC-000001" in words(changed)
    assert money_items(storage) == before
    # The page hands a new token with each form.
    tokens = {re.search(r'name="token" value="([^"]+)"', regie.get(DESK + "/").body.decode())[1] for _ in range(2)}
    assert len(tokens) == 2


def test_a_bad_desk_form_is_a_french_4xx_and_writes_nothing(regie, storage, tools):  # noqa: F811
    add_family(storage, "400", "login400", None, last_name="NOM400", child="LEO", email="f400@example.org")
    before = money_items(storage)
    for fields, status, message in (
        ({"family_number": "999"}, 404, "Famille 999 inconnue"),
        ({"family_number": "12a"}, 400, "numéro de famille « 12a » invalide"),
        ({"family_number": "400", "invoice": "FAC-000001"}, 404, "La facture FAC-000001 n'est pas une facture de la famille 400"),
        ({"amount": "0"}, 400, "montant « 0 » invalide : il doit être supérieur à zéro"),
        ({"amount": "-3,00"}, 400, "montant « -3,00 » invalide"),
        ({"amount": "douze"}, 400, "montant « douze » invalide"),
        ({"mode": "prélèvement"}, 400, "mode de règlement « prélèvement » inconnu (attendu : chèque, espèces, carte, CESU, virement)"),
        ({"date": "2014-11-29"}, 400, "le 29/11/2014 est dans le futur"),
        ({"date": "2014-13-01"}, 400, "date « 2014-13-01 » invalide"),
        ({"family_number": ""}, 400, "le numéro de famille est obligatoire"),
    ):
        response = desk(regie, **fields)
        assert response.status_code == status, (fields, response.status_code)
        text = words(response)
        assert message in text, (fields, text)
        assert "Enregistrer le règlement" in text  # the form again, with what was typed
    assert money_items(storage) == before


def test_a_file_is_previewed_refused_whole_for_one_bad_row_then_confirmed_once(regie, storage, tools):  # noqa: F811
    add_family(storage, "400", "login400", None, last_name="NOM400", child="LEO", email="f400@example.org")
    good = (HEADER + "20/11/2014;300;FAC-000001;7,35;virement;VIR-1\n"
            "20/11/2014;400;;10,00;chèque;\n21/11/2014;300;;2,00;CB;\n").encode()
    before = money_items(storage)

    preview = regie.post_multipart(DESK + "/import", files={"fichier": ("banque.csv", good, "text/csv")})
    assert preview.status_code == 200
    text = words(preview)
    assert "Rien n'est encore enregistré" in text and "3 règlement(s) à importer, total 19,35 €" in text
    assert "2 300 20/11/2014 virement 7,35 € affecté à FAC-000001 (7,35 €)" in text
    assert "3 400 20/11/2014 chèque 10,00 € aucune facture à régler ; crédit de 10,00 €" in text
    assert money_items(storage) == before

    bad = good + b"22/11/2014;300;;abc;carte;\n30/11/2014;999;;1,00;carte;\n"
    refused = regie.post_multipart(DESK + "/import", {"confirm": "1"}, files={"fichier": ("banque.csv", bad, "text/csv")})
    assert refused.status_code == 422
    text = words(refused)
    assert "2 ligne(s) à corriger : rien n'a été importé" in text
    assert "Ligne 5 : montant « abc » invalide" in text and "Ligne 6 : le 30/11/2014 est dans le futur" in text
    assert money_items(storage) == before

    content = re.search(r'name="contenu" value="([^"]+)"', preview.body.decode())[1]
    confirmed = regie.post(DESK + "/import", {"confirm": "1", "nom": "banque.csv", "contenu": content})
    assert confirmed.status_code == 200
    assert "Import terminé : 3 règlement(s) enregistré(s), total 19,35 €" in words(confirmed)
    assert len(of_family(storage, "PAYMENT#")) == 2 and len(of_family(storage, "PAYMENT#", "400")) == 1
    assert "20/11/2014 virement 7,35 € FAC-000001" in family_page(storage, "300", "reglements/index.html")
    journal = [i for i in all_items(storage) if i["pk"].startswith("AUDIT#") and i.get("actor") == regie.login
               and i["action"] != "staff_login"]
    assert sorted(e["action"] for e in journal) == ["payment_imported"] * 3 + ["payments_file_imported"]

    again = regie.post_multipart(DESK + "/import", {"confirm": "1"}, files={"fichier": ("banque.csv", good, "text/csv")})
    assert "0 règlement(s) enregistré(s), total 0,00 € ; 3 déjà importé(s), ignoré(s)" in words(again)
    assert len(of_family(storage, "PAYMENT#")) == 2 and len(of_family(storage, "PAYMENT#", "400")) == 1


def test_the_days_list_groups_payments_by_mode_with_their_totals(regie, storage, tools):  # noqa: F811
    file = HEADER + "27/11/2014;300;;3,00;chèque;CHQ-9\n27/11/2014;300;;1,50;CESU;\n26/11/2014;300;;9,00;chèque;\n"
    regie.post_multipart(DESK + "/import", {"confirm": "1"}, files={"fichier": ("caisse.csv", file.encode(), "text/csv")})
    desk(regie, amount="4,90", invoice="FAC-000002")  # a cheque at the desk, the 27th
    desk(regie, amount="2,00", mode="carte", token=TOKEN + "c")

    page = regie.get(DESK + "/?date=2014-11-27")
    assert page.status_code == 200
    text = words(page)
    assert "Règlements du jeudi 27 novembre 2014" in text
    assert "chèque 2 7,90 € carte 1 2,00 € CESU 1 1,50 € Total du jour 4 11,40 €" in text
    assert "Chèque : 2 règlements, 7,90 €" in text and "Total chèque 7,90 €" in text
    assert "300 CHQ-9 FAC-000001 caisse.csv 3,00 €" in text
    # The file paid both invoices first: the desk's cheque for FAC-000002 is kept as a credit.
    assert f"300 Reçu REC-000001 avoir 4,90 € guichet ({regie.login}) 4,90 €" in text
    assert "Total du jour : 4 règlements, 11,40 €." in text
    assert "Total du jour : 1 règlement, 9,00 €." in words(regie.get(DESK + "/?date=2014-11-26"))
    assert "Aucun règlement daté de ce jour." in words(regie.get(DESK + "/"))  # today, the 28th
    bad = regie.get(DESK + "/?date=27/11/2014")
    assert bad.status_code == 400 and "Date « 27/11/2014 » invalide : écrivez-la AAAA-MM-JJ." in words(bad)


def test_an_agent_opens_no_money_page_and_a_receipt_unknown_is_404(regie, staff_client, storage, tools):  # noqa: F811
    agent = staff_client("agent")
    for response in (agent.get(DESK + "/"), desk(agent), agent.get("/gestion/reglements/recus/REC-000001/"),
                     agent.post_multipart(DESK + "/import", files={"fichier": ("a.csv", b"x", "text/csv")})):
        assert response.status_code == 403
    assert 'href="/gestion/reglements/"' not in agent.get("/gestion/").body.decode()
    assert 'href="/gestion/reglements/"' in regie.get("/gestion/").body.decode()
    assert of_family(storage, "PAYMENT#") == []
    missing = regie.get("/gestion/reglements/recus/REC-000042/")
    assert missing.status_code == 404 and "Le reçu « REC-000042 » est introuvable." in words(missing)
    assert regie.get("/gestion/reglements/recus/REC-000042/pdf").status_code == 404


def test_a_desk_payment_and_the_days_list_cost_few_round_trips(regie, storage, tools):  # noqa: F811
    from chalicelib.dependencies import storage as function_storage

    from bench.round_trips import RoundTrips

    regie.get(DESK + "/")  # the session's last-seen instant written (at most once a minute)
    trips = RoundTrips(function_storage().client)
    assert desk(regie, invoice="FAC-000001", amount="7,35").status_code == 303
    # The session, the token, the family, the counters, the transaction; then the pages'
    # Query and the notices' GetItem of the dashboard.
    assert dict(trips.by_operation) == {"GetItem": 3, "Query": 2, "BatchGetItem": 1, "TransactWriteItems": 1}
    trips.reset()
    regie.get(DESK + "/?date=2014-11-27")
    assert dict(trips.by_operation) == {"GetItem": 1, "Query": 1}
