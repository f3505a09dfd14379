"""The family pages export: the dashboard, « Mes enfants », « Mes factures »,
« Mes règlements », the statement per school year, the inbox and its messages, the list
of requests, « Mon compte »; each family's pages hold its data and no other family's.

Billing items are written as the billing contract describes them (helpers below).
The guide's clock: Friday 28 November 2014, 12:00 in Paris."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from html import unescape

import boto3
import pytest
from chalicelib import sessions
from chalicelib.pages import (
    FamilyPages,
    pages_showing_billing,
    pages_showing_days,
    pages_showing_messages,
)
from chalicelib.statement import account

from tests.conftest import GUIDE_NOW

REGIE = "REGIE UNIQUE DE CREGY LES MEAUX"
MONTHS = [f"enfants/1/{m}/index.html" for m in ("2014-10", "2014-11", "2014-12", "2015-01")]


@pytest.fixture
def pages(storage, commune):
    s3 = boto3.client("s3", region_name="eu-west-3")
    s3.create_bucket(Bucket="pages", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    return FamilyPages(s3, "pages", commune, "secret-de-test")


def page(pages, key, path):
    return pages.s3.get_object(Bucket="pages", Key=f"famille/{key}/{path}")


def read(pages, key, path="index.html") -> str:
    return page(pages, key, path)["Body"].read().decode()


def listed(pages, key) -> set[str]:
    found = pages.s3.list_objects_v2(Bucket="pages", Prefix=f"famille/{key}/").get("Contents", [])
    return {o["Key"].removeprefix(f"famille/{key}/") for o in found}


INLINE = r"</?(?:a|strong|em|span|abbr|code)\b[^>]*>"


def text(html: str) -> str:
    """The page's words as read: inline tags removed, the others a space; spaces
    collapsed (no-break spaces too)."""
    inline_removed = re.sub(INLINE, "", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", inline_removed)).replace("\u00a0", " ").split())


# --- billing items, as the billing contract writes them ---------------------------------------

def add_invoice(storage, family: str, number: str, month: str, total: str, paid: str = "0", rank: int = 1,
                name: str = "Madame ANNE ALPHA") -> None:
    year, mon = (int(p) for p in month.split("-"))
    issued = f"{year + (mon == 12)}-{mon % 12 + 1:02d}-04"
    storage.put({
        "pk": f"FAMILY#{family}", "sk": f"INVOICE#{number}", "number": number, "seq": int(number[-6:]),
        "regie": REGIE, "responsable_rank": rank, "responsable_name": name, "month": month,
        "period_start": f"{month}-01", "period_end": f"{month}-30",
        "period_label": f"01/{mon:02d}/{year} - 30/{mon:02d}/{year}", "invoice_date": issued,
        "due_date": issued[:8] + "19", "school_year": "2014-2015" if (year, mon) >= (2014, 9) else "2013-2014",
        "lines": [{"child_id": "1", "child_name": "ANNA", "service": "RESTAURATION", "label": "RESTAURATION",
                   "quantity": 10, "unit_price": Decimal(total) / 10, "amount": Decimal(total), "days": []}],
        "deductions": [], "total": Decimal(total), "paid_amount": Decimal(paid),
        "pdf_key": f"factures/{family}/{number}.pdf", "created_at": f"{issued}T06:00:00+00:00",
    })


def add_operation(storage, family: str, number: int, day: str, description: str, *, debit="0", credit="0",
                  year: str = "2014-2015", **extra) -> None:
    storage.put({"pk": f"FAMILY#{family}", "sk": f"OPERATION#{number:09d}", "number": number, "date": day,
                 "description": description, "regie": REGIE, "debit": Decimal(debit), "credit": Decimal(credit),
                 "school_year": year, "responsable_rank": 1, **extra})


def add_payment(storage, family: str, day: str, reference: str, amount: str, mode: str, allocations,
                unallocated="0", operation=0) -> None:
    storage.put({"pk": f"FAMILY#{family}", "sk": f"PAYMENT#{day}#{reference}", "reference": reference,
                 "date": day, "amount": Decimal(amount), "mode": mode,
                 "allocations": [{"invoice_number": n, "amount": Decimal(a)} for n, a in allocations],
                 "unallocated": Decimal(unallocated), "operation_number": operation, "responsable_rank": 1,
                 "imported_at": "2014-11-20T10:00:00+00:00"})


def add_message(storage, family: str, message_id: str, sent: str, subject: str, body: str, read: bool = False,
                **extra) -> None:
    storage.put({"pk": f"FAMILY#{family}", "sk": f"MESSAGE#{sent}#{message_id}", "kind": "message",
                 "message_id": message_id, "sent_at": sent, "subject": subject, "body_markdown": body,
                 "sender": "Service enfance", **({"read_at": "2014-11-27T08:00:00+00:00"} if read else {}), **extra})


def add_request(storage, family: str, instant: str, items: list[dict], **extra) -> None:
    storage.put({"pk": f"FAMILY#{family}", "sk": f"REQUEST#{instant}#r{instant[-8:-6]}", "kind": "request",
                 "request_id": "r", "submitted_at": instant, "child_id": "1", "responsable_rank": 1,
                 "channel": "online", "type": "booking", "items": items, **extra})


@pytest.fixture
def billed(storage, families):
    """Family A: two years of operations, three invoices (one paid, one partly, one not),
    two payments, two messages (one unread), two requests. Family B: its own of each."""
    add_operation(storage, "100", 20500, "2014-07-04", "Facture : 01/06/2014 - 30/06/2014", debit="12.50",
                  year="2013-2014", invoice_number="FAC-000090")
    add_invoice(storage, "100", "FAC-000101", "2014-09", "97.35", paid="97.35")
    add_operation(storage, "100", 21054, "2014-10-04", "Facture : 01/09/2014 - 30/09/2014", debit="97.35",
                  invoice_number="FAC-000101")
    add_payment(storage, "100", "2014-10-14", "CHQ-1", "100.00", "chèque", [("FAC-000101", "97.35")],
                unallocated="2.65", operation=21108)
    add_operation(storage, "100", 21108, "2014-10-14", "Règlement : chèque", credit="100.00",
                  payment_reference="CHQ-1")
    add_invoice(storage, "100", "FAC-000150", "2014-10", "57.45", paid="20.00")
    add_operation(storage, "100", 21162, "2014-11-04", "Facture : 01/10/2014 - 31/10/2014", debit="57.45",
                  invoice_number="FAC-000150")
    add_payment(storage, "100", "2014-11-20", "CB-7", "20.00", "carte", [("FAC-000150", "20.00")], operation=21250)
    add_operation(storage, "100", 21250, "2014-11-20", "Règlement : carte", credit="20.00", payment_reference="CB-7")
    add_invoice(storage, "100", "FAC-000200", "2014-11", "40.00")  # issued on 4 December: not due yet
    add_operation(storage, "100", 21300, "2014-12-04", "Facture : 01/11/2014 - 30/11/2014", debit="40.00",
                  invoice_number="FAC-000200")
    add_message(storage, "100", "aaaa0001", "2014-11-20T09:00:00+00:00", "Bienvenue sur le portail",
                "Vous pouvez **réserver** en ligne.", read=True)
    add_message(storage, "100", "aaaa0002", "2014-11-27T09:00:00+00:00", "Sortie au cirque",
                "Le **12 décembre**, sortie au cirque :\n\n- prévoir un goûter\n- [le programme](/guide/)")
    add_request(storage, "100", "2014-11-25T10:00:00+00:00", [
        {"date": "2014-12-11", "service": "RESTAURATION", "action": "reserve", "status": "validated",
         "reason": "", "message": "Réservation validée."},
        {"date": "2014-12-25", "service": "RESTAURATION", "action": "reserve", "status": "refused",
         "reason": "closed", "message": "Jour férié : Noël."}])
    add_request(storage, "100", "2014-11-26T10:00:00+00:00", [
        {"date": "2014-12-12", "service": "RESTAURATION", "action": "reserve", "status": "pending",
         "reason": "waiting_list", "message": "Service complet : demande en liste d'attente."}])
    # Since then, a seat was freed: the day is validated.
    storage.put({"pk": "FAMILY#100", "sk": "DAY#1#2014-12-12#RESTAURATION", "status": "validated",
                 "child_id": "1", "date": "2014-12-12", "service": "RESTAURATION", "responsable_rank": 1})

    add_invoice(storage, "200", "FAC-000777", "2014-10", "66.60", name="Madame ANNE BRAVO")
    add_operation(storage, "200", 21170, "2014-11-04", "Facture : 01/10/2014 - 31/10/2014", debit="66.60",
                  invoice_number="FAC-000777")
    add_payment(storage, "200", "2014-11-21", "ESP-9", "66.60", "espèces", [("FAC-000777", "66.60")])
    add_message(storage, "200", "bbbb0001", "2014-11-27T10:00:00+00:00", "Impayé de Bruno", "Privé.")
    add_request(storage, "200", "2014-11-25T11:00:00+00:00", [
        {"date": "2014-12-15", "service": "RESTAURATION", "action": "reserve", "status": "validated",
         "reason": "", "message": "Validée pour Bruno."}])
    return families


FAMILY_A_PAGES = {
    "index.html", "compte/index.html", "enfants/index.html", "factures/index.html", "reglements/index.html",
    "demandes/index.html", "documents/index.html", "releve/index.html", "releve/2013-2014/index.html", "releve/2014-2015/index.html",
    "messages/index.html", "messages/aaaa0001/index.html", "messages/aaaa0002/index.html", *MONTHS,
}


def test_a_familys_pages_hold_its_data_and_no_other_familys(storage, billed, pages):
    assert pages.export(storage, "100", GUIDE_NOW) == len(FAMILY_A_PAGES)
    key, other_key = billed["A"]["page_key"], billed["B"]["page_key"]
    assert listed(pages, key) == FAMILY_A_PAGES
    home = page(pages, key, "index.html")
    assert home["ContentType"] == "text/html; charset=utf-8"
    assert home["CacheControl"] == "private, no-cache"
    mine = {
        "index.html": ["Bienvenue ANNE ALPHA", "ANNA", "14/03/2010", "FAC-000150"],
        "compte/index.html": ['value="alice@example.org"'],
        "factures/index.html": ["FAC-000101", "FAC-000150", "FAC-000200"],
        "reglements/index.html": ["carte", "FAC-000150"],
        "releve/2014-2015/index.html": ["21054", "21250"],
        "messages/index.html": ["Sortie au cirque"],
        "demandes/index.html": ["jeudi 11 décembre 2014"],
    }
    for path, expected in mine.items():
        html = read(pages, key, path)
        for fragment in expected:
            assert fragment in html, (path, fragment)
    for path in FAMILY_A_PAGES:
        html = read(pages, key, path)
        for other in ("BRAVO", "BRUNO", "bob@example.org", "FAC-000777", "21170", "Impayé de Bruno",
                      "bbbb0001", "pour Bruno", other_key):
            assert other not in html, (path, other)
    # Nothing was written under family B's key.
    assert listed(pages, other_key) == set()


def test_every_form_carries_the_familys_token_and_no_page_has_inline_script(storage, billed, pages):
    pages.export(storage, "100", GUIDE_NOW)
    key = billed["A"]["page_key"]
    token = sessions.csrf_token("secret-de-test", key)
    for path in FAMILY_A_PAGES:
        html = read(pages, key, path)
        forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", html, re.S)
        assert forms, path  # the logout button at least
        for form in forms:
            assert f'name="csrf_token" value="{token}"' in form, path
        assert "<script>" not in html and " style=" not in html and "onclick" not in html, path
        # The dashboard loads famille.js alone (the page cookies' renewal; its logout is a
        # plain post), a month page calendrier.js (which imports famille.js; a plain logout
        # too), « Mes documents » certificat.js (its upload forms; it imports famille.js), the
        # other pages portail.js, which imports famille.js.
        script = ("famille.js" if path == "index.html" else "certificat.js" if path == "documents/index.html" else
                  "calendrier.js" if path.startswith("enfants/1/") else "portail.js")
        assert f'<script type="module" src="/theme/js/{script}"></script>' in html, path
        assert html.count("<h1") == 1, path


def test_the_menu_of_the_guide_on_every_page(storage, billed, pages):
    pages.export(storage, "100", GUIDE_NOW)
    key = billed["A"]["page_key"]
    home = f"/famille/{key}/"
    for path, current in [("index.html", "Accueil"), ("releve/2014-2015/index.html", "Relevé de compte"),
                          ("messages/aaaa0002/index.html", "Boîte de réception"), (MONTHS[2], "Mes enfants")]:
        html = read(pages, key, path)
        menu = html[html.index('<nav class="menu'):html.index("</nav>", html.index('<nav class="menu'))]
        # Folded into « Menu » on a phone: a <details>, no script needed (portail.css).
        assert '<details class="menu-pli">' in menu and "<summary>Menu</summary>" in menu
        labels = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', menu)
        assert labels == [(home, "Accueil"), (home + "compte/", "Mon compte"), (home + "enfants/", "Mes enfants"),
                          (home + "releve/", "Relevé de compte"), (home + "messages/", "Boîte de réception"),
                          (home + "demandes/", "Liste des demandes"), (home + "documents/", "Infos./Documents")]
        assert ">Déconnexion</button>" in menu
        assert re.search(rf'aria-current="(page|true)">{current}<', menu), path


def test_the_dashboard_as_in_the_guide(storage, billed, pages):
    pages.export(storage, "100", GUIDE_NOW, only=["accueil"])
    html = read(pages, billed["A"]["page_key"])
    words = text(html)
    assert "Bienvenue ANNE ALPHA, vous avez 1 nouveau message." in words
    assert ("<dt>Civilité</dt><dd>Madame</dd>" in html and "<dt>Nom</dt><dd>ALPHA</dd>" in html
            and "<dt>Prénom</dt><dd>ANNE</dd>" in html and "<dt>N° famille</dt><dd>100</dd>" in html)
    # -12.50 (2013-2014) - 97.35 + 100 - 57.45 + 20; the invoice of 4 December is not yet counted.
    assert "À la date du vendredi 28 novembre 2014, votre compte présente un solde de -47,30 €." in words
    assert "Un solde négatif est une somme à régler." in words
    table = html[html.index("Vos factures impayées"):html.index("</table>", html.index("Vos factures impayées"))]
    assert "FAC-000150" in table and "FAC-000101" not in table and "FAC-000200" not in table
    assert "04/11/2014" in table and "19/11/2014" in table and "57,45\u00a0€" in table and "37,45\u00a0€" in table
    assert "Total des factures impayées" in text(table) and text(table).endswith("37,45 €")
    assert 'href="/api/invoices/FAC-000150/pdf"' in table
    # The children: a labelled placeholder for the photo, the first name links to the calendar.
    assert "pas de photo" in html
    assert f'<a href="/famille/{billed["A"]["page_key"]}/enfants/1/2014-11/">ANNA</a>' in html


def test_the_dashboard_figures_are_the_statements(storage, billed, pages, commune):
    """One function computes both: the dashboard's balance on a day after every operation
    is the statement's « Solde »."""
    later = datetime(2014, 12, 10, 12, tzinfo=UTC)
    pages.export(storage, "100", later, only=["accueil", "releve"])
    key = billed["A"]["page_key"]
    state = storage.family_state("100")
    figures = account(state.operations, state.invoices, later.date())
    assert figures.balance == figures.years[-1].balance == Decimal("-87.30")
    assert "votre compte présente un solde de -87,30 €" in text(read(pages, key))
    assert "Solde du compte pour l'année scolaire 2014-2015 -87,30 €" in text(read(pages, key, "releve/index.html"))


def test_no_unpaid_invoice_and_the_unread_count_in_words(storage, families, pages):
    key = families["A"]["page_key"]
    pages.export(storage, "100", GUIDE_NOW, only=["accueil"])
    words = text(read(pages, key))
    assert "vous avez 0 nouveau message." in words
    assert "présente un solde de 0,00 €." in words and "somme à régler" not in words
    assert "Vous n'avez aucune facture impayée à la date du vendredi 28 novembre 2014." in words
    add_message(storage, "100", "m1", "2014-11-27T09:00:00+00:00", "Menus", "Menus.")
    add_message(storage, "100", "m2", "2014-11-28T09:00:00+00:00", "Sortie", "Sortie.")
    pages.export(storage, "100", GUIDE_NOW, only=["accueil"])
    assert "vous avez 2 nouveaux messages." in text(read(pages, key))


def test_the_statement_one_page_per_school_year(storage, billed, pages):
    pages.export(storage, "100", GUIDE_NOW, only=["releve"])
    key = billed["A"]["page_key"]
    current = read(pages, key, "releve/2014-2015/index.html")
    assert read(pages, key, "releve/index.html") == current  # the menu's entry: the current school year
    words = text(current)
    # The school years: a plain GET form (tests/test_statement_years.py), the shown one selected.
    assert '<option value="2013-2014">2013-2014</option>' in current
    assert '<option value="2014-2015" selected>2014-2015</option>' in current
    assert "Relevé des opérations, année scolaire 2014-2015" in words  # the caption
    assert ("N° opération Date Description Régie Débit Crédit Ancien solde -12,50 € "
            "21054 04/10/2014 Facture : 01/09/2014 - 30/09/2014 REGIE UNIQUE DE CREGY LES MEAUX 97,35 € "
            "21108 14/10/2014 Règlement : chèque REGIE UNIQUE DE CREGY LES MEAUX 100,00 € ") in words
    assert "21300 04/12/2014 Facture : 01/11/2014 - 30/11/2014" in words  # the whole year, as recorded
    assert "Total de l'année 194,80 € 120,00 €" in words
    assert "Solde du compte pour l'année scolaire 2014-2015 -87,30 €" in words
    earlier = text(read(pages, key, "releve/2013-2014/index.html"))
    assert "Ancien solde 0,00 €" in earlier and "20500 04/07/2014" in earlier
    assert "Solde du compte pour l'année scolaire 2013-2014 -12,50 €" in earlier and "21054" not in earlier


def test_a_family_without_operations_has_the_current_years_empty_statement(storage, families, pages):
    pages.export(storage, "100", GUIDE_NOW, only=["releve"])
    key = families["A"]["page_key"]
    assert listed(pages, key) == {"releve/index.html", "releve/2014-2015/index.html"}
    words = text(read(pages, key, "releve/index.html"))
    assert "Aucune opération sur l'année scolaire 2014-2015." in words
    assert "Ancien solde 0,00 €" in words and "Solde du compte pour l'année scolaire 2014-2015 0,00 €" in words


def test_my_invoices_with_their_pdf_links(storage, billed, pages):
    pages.export(storage, "100", GUIDE_NOW, only=["factures"])
    html = read(pages, billed["A"]["page_key"], "factures/index.html")
    words = text(html)
    rows = re.findall(r"<tr><th scope=\"row\" data-label=\"N° facture\">(.*?)</tr>", html, re.S)
    assert [re.search(r"FAC-\d+", row).group(0) for row in rows] == ["FAC-000200", "FAC-000150", "FAC-000101"]
    assert ("FAC-000150 Madame ANNE ALPHA 01/10/2014 - 30/10/2014 04/11/2014 19/11/2014 57,45 € 20,00 € "
            "37,45 € à payer Télécharger la facture N° FAC-000150 (PDF)") in words
    assert "FAC-000101" in words and "97,35 € 97,35 € 0,00 € payée" in words
    assert "40,00 € 0,00 € 40,00 € à venir" in words  # issued after the clock's day
    for number in ("FAC-000200", "FAC-000150", "FAC-000101"):
        assert f'<a href="/api/invoices/{number}/pdf">Télécharger la facture N° {number} (PDF)</a>' in html


def test_my_payments(storage, billed, pages):
    pages.export(storage, "100", GUIDE_NOW, only=["reglements"])
    words = text(read(pages, billed["A"]["page_key"], "reglements/index.html"))
    assert "Date Mode Montant Factures réglées" in words
    assert "20/11/2014 carte 20,00 € FAC-000150 (20,00 €)" in words
    assert "14/10/2014 chèque 100,00 € FAC-000101 (97,35 €) ; avoir : 2,65 €" in words
    assert words.index("20/11/2014") < words.index("14/10/2014")  # the most recent first


def test_the_inbox_and_a_messages_page(storage, billed, pages):
    pages.export(storage, "100", GUIDE_NOW, only=pages_showing_messages())
    key = billed["A"]["page_key"]
    assert listed(pages, key) == {"index.html", "messages/index.html", "messages/aaaa0001/index.html",
                                  "messages/aaaa0002/index.html"}
    inbox = read(pages, key, "messages/index.html")
    words = text(inbox)
    # Unread: said in words, not by bold alone; the most recent first.
    assert "Non lu : Sortie au cirque" in words and "Non lu : Bienvenue" not in words
    assert words.index("Sortie au cirque") < words.index("Bienvenue sur le portail")
    assert "Reçu le jeudi 27 novembre 2014 à 10 h 00, de Service enfance" in words
    assert f'href="/famille/{key}/messages/aaaa0002/"' in inbox
    unread = read(pages, key, "messages/aaaa0002/index.html")
    assert "<h2 id=\"objet\">Sortie au cirque</h2>" in unread
    assert "<p>Le <strong>12 décembre</strong>, sortie au cirque :</p>" in unread
    assert '<ul><li>prévoir un goûter</li><li><a href="/guide/">le programme</a></li></ul>' in unread
    assert '<form method="post" action="/api/messages/aaaa0002/read" data-lire>' in unread
    assert ">Marquer comme lu</button>" in unread
    read_page = read(pages, key, "messages/aaaa0001/index.html")
    assert "/read" not in read_page and "Message lu le jeudi 27 novembre 2014 à 09 h 00." in text(read_page)


def test_a_message_rendered_at_send_time_is_shown_as_sent(storage, families, pages):
    """`portail messages send` stores the sanitised HTML (body_html); the function's own
    messages carry Markdown only, shown through the safe subset (escaped first)."""
    add_message(storage, "100", "c1", "2014-11-27T09:00:00+00:00", "Cirque", "ignored",
                body_html="<h3>Programme</h3><p>Le <em>clown</em>.</p>")
    add_message(storage, "100", "c2", "2014-11-27T10:00:00+00:00", "Piège",
                '<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>')
    pages.export(storage, "100", GUIDE_NOW, only=["messages"])
    key = families["A"]["page_key"]
    assert "<h3>Programme</h3><p>Le <em>clown</em>.</p>" in read(pages, key, "messages/c1/index.html")
    trap = read(pages, key, "messages/c2/index.html")
    assert "<script>alert" not in trap and "<img" not in trap and 'href="javascript' not in trap
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in trap


def test_the_list_of_requests(storage, billed, pages, commune):
    add_request(storage, "100", "2014-11-27T10:00:00+00:00", [
        {"date": "2014-11-24", "action": "certificate", "status": "received", "message": "Certificat médical reçu."}],
        type="certificate")
    add_request(storage, "100", "2014-11-27T11:00:00+00:00", [
        {"date": "2014-12-12", "service": "RESTAURATION", "action": "accept", "status": "validated",
         "reason": "staff_accepted", "message": "Acceptée par le service enfance."}],
        type="staff_decision", channel="staff")
    pages.export(storage, "100", GUIDE_NOW, only=["demandes"])
    words = text(read(pages, billed["A"]["page_key"], "demandes/index.html"))
    assert words.index("Décision du service enfance – ANNA") < words.index("Certificat médical – ANNA") \
        < words.index("Réservation en ligne – ANNA Envoyée le mercredi 26 novembre 2014")
    assert ("Réservation en ligne – ANNA Envoyée le mardi 25 novembre 2014 à 11 h 00 "
            "jeudi 11 décembre 2014, RESTAURATION (réservation) : Réservation validée. "
            "jeudi 25 décembre 2014, RESTAURATION (réservation) : refusée. Jour férié : Noël.") in words
    assert "validée. Réservation validée" not in words  # each outcome said once
    # A day that waited for a seat says what became of it.
    assert ("vendredi 12 décembre 2014, RESTAURATION (réservation) : Service complet : demande en "
            "liste d'attente. Depuis : validée.") in words
    assert "lundi 24 novembre 2014 (certificat médical) : Certificat médical reçu." in words
    assert "vendredi 12 décembre 2014, RESTAURATION (acceptation) : Acceptée par le service enfance." in words


def test_my_children_link_to_their_months(storage, families, pages):
    storage.put({"pk": "FAMILY#100", "sk": "CHILD#2", "kind": "child", "child_id": "2", "first_name": "ALBAN",
                 "last_name": "ALPHA", "sex": "M", "birth_date": "2012-01-01", "services": []})
    pages.export(storage, "100", GUIDE_NOW, only=["enfants"])
    key = families["A"]["page_key"]
    html = read(pages, key, "enfants/index.html")
    for month, label in (("2014-10", "Octobre 2014"), ("2014-11", "Novembre 2014"), ("2014-12", "Décembre 2014"),
                         ("2015-01", "Janvier 2015")):
        assert f'<a href="/famille/{key}/enfants/1/{month}/">{label}<span class="visuellement-cache"> – ANNA' in html
    assert "Née le 14/03/2010." in text(html)
    assert "ALBAN n'est inscrit à aucun service" in text(html)


def test_names_are_escaped(storage, families, pages):
    storage.update_attributes("FAMILY#100", "CHILD#1", {"first_name": "<script>alert(1)</script>"})
    add_message(storage, "100", "x1", "2014-11-27T09:00:00+00:00", "<b>objet</b>", "texte")
    pages.export(storage, "100", GUIDE_NOW)
    key = families["A"]["page_key"]
    for path in ("index.html", "enfants/index.html", "messages/index.html", "messages/x1/index.html"):
        html = read(pages, key, path)
        assert "<script>alert(1)</script>" not in html and "<b>objet</b>" not in html
    assert "&lt;script&gt;" in read(pages, key)


def test_what_each_write_re_renders():
    assert pages_showing_messages() == ["accueil", "messages"]
    assert pages_showing_billing() == ["accueil", "factures", "reglements", "releve"]
    assert pages_showing_days("1", ["2014-12-11"]) == ["mois:1:2014-12", "demandes", "agenda"]


def test_export_all_goes_on_when_one_family_fails(storage, billed, pages):
    """The nightly run: one broken family is logged and counted, the others are exported."""
    storage.put({"pk": "FAMILY#300", "sk": "PROFILE", "family_number": "300", "page_key": "c" * 32,
                 "gsi1pk": "FAMILIES", "gsi1sk": "300"})  # no responsable: cannot be rendered
    report = pages.export_all(storage, GUIDE_NOW)
    assert report.failed == ["300"] and report.families == 2
    assert "index.html" in listed(pages, billed["A"]["page_key"]) and "index.html" in listed(pages, billed["B"]["page_key"])
    assert report.pages == len(FAMILY_A_PAGES) + len(listed(pages, billed["B"]["page_key"]))


def test_an_export_of_every_family_lists_the_stored_pages_once(storage, billed, pages):
    """`portail build --families`: every folder's stored pages are listed at once (one
    listing, not one per family); what did not change since is not written again, and a
    new message writes the 3 pages that show it, in its family's folder only."""
    listings: list[str] = []
    pages.s3.meta.events.register("before-send.s3.ListObjectsV2", lambda request, **_: listings.append(request.url))
    first = pages.export_all(storage, GUIDE_NOW, stored_etags=pages.all_stored_etags())
    assert first.families == 2 and first.pages > 2 * 10 and first.unchanged == 0 and len(listings) == 1
    before = listed(pages, billed["A"]["page_key"]), listed(pages, billed["B"]["page_key"])
    add_message(storage, "100", "new1", "2014-11-28T08:00:00+00:00", "Nouvelle sortie", "Texte.")
    listings.clear()
    again = pages.export_all(storage, GUIDE_NOW, stored_etags=pages.all_stored_etags())
    assert len(listings) == 1 and again.pages == 3 and again.unchanged == first.pages - 2
    assert listed(pages, billed["A"]["page_key"]) == before[0] | {"messages/new1/index.html"}
    assert listed(pages, billed["B"]["page_key"]) == before[1]
    assert "Nouvelle sortie" in read(pages, billed["A"]["page_key"], "messages/index.html")
