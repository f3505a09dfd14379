"""« Règlements » in a browser, as the régie uses it on 2 December 2014 (the régie's
shared demo portal, `billing_portal`): a cheque recorded at the desk without
JavaScript, its receipt and the receipt's PDF; a bank file checked, then confirmed;
the day's list by mode, printed without the menu and the forms; then the family sees
its payment on « Mes règlements ». axe-core at 1280 and 360 px on each page.

Other modules invoice November and make credit notes on the same portal: this one pays
families 43 and 44 of the demo with amounts nobody else uses, and asserts only those.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.test_accessibility import DESKTOP, page_problems
from tests.browser.test_login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.server]

FAMILY, OTHER = "381600000043", "381600000044"
BANK_FILE = ("date;numero_famille;numero_facture;montant;mode;reference\n"
             f"01/12/2014;{OTHER};;21,17;virement;VIR-BROWSER-1\n"
             f"02/12/2014;{FAMILY};;8,09;virement;VIR-BROWSER-2\n").encode("cp1252")


def said(locator) -> str:
    """A locator's text with ordinary spaces (euros are written with no-break ones)."""
    return locator.inner_text().replace("\u00a0", " ")


def no_axe_violation(page) -> None:
    problems = page_problems(page, sideways=False)
    assert not problems, "\n".join(problems)


@pytest.fixture
def axe_page(browser, portal, staff_login):
    """A logged-in régie's page where axe-core may run (the CSP refuses its script)."""
    context = browser.new_context(base_url=portal, bypass_csp=True, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    staff_login(page, "regie")
    yield page
    context.close()


def test_a_cheque_at_the_desk_its_receipt_and_the_family_sees_it(new_context, staff_login, axe_page, portal):
    page = new_context(javascript=False).new_page()
    login = staff_login(page, "regie")
    page.get_by_role("link", name="Règlements").first.click()
    page.wait_for_url("**/gestion/reglements/")
    assert page.get_by_role("heading", name="Règlements du mardi 2 décembre 2014").is_visible()
    page.get_by_label("N° famille").fill(FAMILY)
    page.get_by_label("Montant en euros").fill("13,37")
    page.get_by_label("Mode de règlement").select_option("chèque")
    assert page.get_by_label("Date du règlement").input_value() == "2014-12-02"  # today, by default
    form = page.locator("form[action='/gestion/reglements']")
    sent = {name: form.locator(f"[name={name}]").input_value()
            for name in ("csrf_token", "token", "family_number", "amount", "mode", "date", "invoice", "rang")}
    page.get_by_role("button", name="Enregistrer le règlement").click()
    page.wait_for_url(re.compile(r"/gestion/reglements/recus/REC-\d{6}/"))
    number = re.search(r"REC-\d{6}", page.url)[0]
    assert said(page.get_by_role("heading", level=1)) == f"Reçu {number}"
    assert (f"Règlement de 13,37 € (chèque) enregistré pour la famille {FAMILY}"
            in said(page.get_by_role("status")))
    receipt = page.get_by_role("table", name=re.compile(f"Reçu {number}"))
    assert "Montant\t13,37 €" in said(receipt) and "Mode de règlement\tchèque" in said(receipt)
    # The receipt's PDF: the link answers a presigned address that S3 answers with the PDF.
    link = page.get_by_role("link", name=f"Ouvrir le reçu {number} (PDF)")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"{number}.pdf"
    assert open(download.value.path(), "rb").read(5) == b"%PDF-"
    # The same form sent a second time (a double click, a slow network): recorded once.
    again = page.request.post("/gestion/reglements", form=sent, headers={"Origin": portal}, max_redirects=0)
    assert again.status == 303 and again.headers["location"] == f"/gestion/reglements/recus/{number}/?deja=1#resultat"
    # The day's list: the cheque under « Chèque », with the agent's login.
    page.goto("/gestion/reglements/?date=2014-12-02")
    cheques = page.get_by_role("table", name="Règlements par chèque du mardi 2 décembre 2014")
    row = cheques.get_by_role("row", name=re.compile(FAMILY))
    assert row.count() == 1 and f"guichet ({login})" in said(row) and "13,37 €" in said(row)
    axe_page.goto(f"/gestion/reglements/recus/{number}/")
    no_axe_violation(axe_page)
    # The family (famille43 of the demo) sees it on « Mes règlements ».
    family = new_context().new_page()
    home = log_in(family, "famille43")
    family.goto(home + "reglements/")
    payments = family.get_by_role("table", name="Vos règlements")
    rows = [said(row).split("\t") for row in payments.get_by_role("row").all()]
    assert sum(1 for row in rows if row[:3] == ["02/12/2014", "chèque", "13,37 €"]) == 1, rows


def test_a_bank_file_checked_confirmed_and_the_days_list_printed(new_context, staff_login, axe_page):
    page = new_context(javascript=False).new_page()
    staff_login(page, "regie")
    page.goto("/gestion/reglements/")
    page.get_by_label(re.compile("Fichier des règlements")).set_input_files(
        files=[{"name": "banque-decembre.csv", "mimeType": "text/csv", "buffer": BANK_FILE}])
    page.get_by_role("button", name="Vérifier le fichier").click()
    main = page.get_by_role("main")
    assert "Rien n'est encore enregistré" in said(main)
    assert "2 règlement(s) à importer, total 29,26 €" in said(main)
    lines = page.get_by_role("table", name=re.compile("Ce qui sera enregistré"))
    assert OTHER in said(lines) and "21,17 €" in said(lines)
    page.get_by_role("button", name="Confirmer l'import").click()
    assert "Import terminé : 2 règlement(s) enregistré(s), total 29,26 €" in said(page.get_by_role("status"))
    # The same file again: nothing twice.
    page.goto("/gestion/reglements/")
    page.get_by_label(re.compile("Fichier des règlements")).set_input_files(
        files=[{"name": "banque-decembre.csv", "mimeType": "text/csv", "buffer": BANK_FILE}])
    page.get_by_role("button", name="Vérifier le fichier").click()
    assert "0 règlement(s) à importer, total 0,00 € ; 2 déjà importé(s)" in said(page.get_by_role("main"))
    assert page.get_by_role("button", name="Confirmer l'import").count() == 0
    # The day's list, chosen with the date form (GET, no script), and printed.
    page.goto("/gestion/reglements/")
    page.get_by_label("Jour", exact=True).fill("2014-12-01")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(re.compile(r"/gestion/reglements/\?date=2014-12-01"))
    transfers = page.get_by_role("table", name="Règlements par virement du lundi 1er décembre 2014")
    assert "VIR-BROWSER-1" in said(transfers) and "banque-decembre.csv" in said(transfers)
    assert page.get_by_role("table", name=re.compile("Totaux du lundi 1er décembre 2014")).is_visible()
    page.emulate_media(media="print")
    assert not page.get_by_role("navigation", name="Menu de la gestion").is_visible()
    assert not page.get_by_role("button", name="Enregistrer le règlement").is_visible()
    assert not page.get_by_role("heading", name="Importer un fichier de règlements").is_visible()
    assert transfers.is_visible()
    # axe-core: the page with its list, a preview with a bad row.
    axe_page.goto("/gestion/reglements/?date=2014-12-01")
    no_axe_violation(axe_page)
    axe_page.get_by_label(re.compile("Fichier des règlements")).set_input_files(
        files=[{"name": "faux.csv", "mimeType": "text/csv", "buffer": BANK_FILE + b"02/12/2014;999;;1,00;carte;\n"}])
    axe_page.get_by_role("button", name="Vérifier le fichier").click()
    assert "Ligne 4 : famille 999 inconnue" in said(axe_page.get_by_role("main"))
    no_axe_violation(axe_page)
