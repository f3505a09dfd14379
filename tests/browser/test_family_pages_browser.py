"""The family pages in a real browser, with JavaScript on and off.

Real headless Chromium against `portail serve --demo` at the guide's date (conftest.py):
an invoice's PDF opened from « Mes factures »; a message read, and the dashboard's count
of new messages goes down; after logging out the family pages are closed; another
family's pages answer 403; the message page passes axe-core.
"""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import PHONE, _axe_violations, _report
from tests.browser.test_login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.server]

JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["js", "sans-js"])
PDF_LINK = re.compile(r"^Télécharger la facture N° (\S+) \(PDF\)$")


def open_family_menu(page) -> None:
    """Unfolds the family menu where a phone shows it folded (« Menu », a <details>),
    once the style sheets have said whether it is folded."""
    page.wait_for_load_state("load")
    summary = page.locator("details.menu-pli > summary")
    if summary.is_visible() and not page.locator("details.menu-pli").evaluate("menu => menu.open"):
        summary.click()


def go_to(page, menu_entry: str) -> None:
    """Follows an entry of the family menu (unfolded first on a phone)."""
    open_family_menu(page)
    page.get_by_role("navigation", name="Menu de la famille").get_by_role("link", name=menu_entry).click()


def test_an_invoice_pdf_opened_from_my_invoices(new_context):
    from pypdf import PdfReader

    page = new_context().new_page()
    log_in(page, "ztest")
    go_to(page, "Relevé de compte")
    expect(page.get_by_role("table", name=re.compile(r"^Relevé des opérations, année scolaire"))).to_be_visible()
    page.get_by_role("link", name="Mes factures").click()
    expect(page.get_by_role("heading", name="Mes factures", level=1)).to_be_visible()
    link = page.get_by_role("link", name=PDF_LINK).first
    number = PDF_LINK.match(link.inner_text()).group(1)
    with page.expect_download() as download:
        link.click()
    pdf = download.value
    assert pdf.suggested_filename.endswith(".pdf")
    content = open(pdf.path(), "rb").read()
    assert content.startswith(b"%PDF")
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert number in words and "ZTEST" in words


@JAVASCRIPT
def test_a_message_read_lowers_the_count_of_new_messages(new_context, javascript):
    # Two demo families, each with two unread messages: one per variant.
    page = new_context(javascript=javascript).new_page()
    log_in(page, "famille01" if javascript else "famille02")
    welcome = page.get_by_text(re.compile(r"^Bienvenue .+, vous avez"))
    expect(welcome).to_contain_text("vous avez 2 nouveaux messages.")
    page.get_by_role("link", name="2 nouveaux messages").click()
    expect(page.get_by_role("heading", name="Boîte de réception", level=1)).to_be_visible()
    unread = page.get_by_role("link", name=re.compile(r"^Non lu : "))
    expect(unread).to_have_count(2)
    unread.first.click()
    if javascript:
        # Opening the message marks it read: the module posts it, the form gives way.
        expect(page.get_by_role("status")).to_have_text("Ce message est marqué comme lu.")
        expect(page.get_by_role("button", name="Marquer comme lu")).to_have_count(0)
    else:
        page.get_by_role("button", name="Marquer comme lu").click()
        expect(page.get_by_text(re.compile(r"^Message lu le "))).to_be_visible()
    go_to(page, "Accueil")
    expect(welcome).to_contain_text("vous avez 1 nouveau message.")
    go_to(page, "Boîte de réception")
    expect(page.get_by_role("link", name=re.compile(r"^Non lu : "))).to_have_count(1)


def test_after_logging_out_the_family_pages_are_closed(new_context):
    page = new_context().new_page()
    home = log_in(page, "famille03")
    go_to(page, "Boîte de réception")
    message = page.get_by_role("link", name=re.compile(r"^(Non lu : )?Bienvenue sur le Portail Famille$"))
    message_address = home + message.get_attribute("href").split(home, 1)[1]
    pages = [home + path for path in ("factures/", "reglements/", "releve/", "messages/", "demandes/", "enfants/")]
    for address in [*pages, message_address]:
        assert page.goto(address).status == 200, address
    page.get_by_role("button", name="Déconnexion").click()
    page.wait_for_url(re.compile(r"/connexion/"))
    for address in [home, *pages, message_address]:
        response = page.goto(address)
        assert response.status == 403, address
        expect(page.get_by_text("Accès réservé").first).to_be_visible()


def test_another_familys_pages_answer_403(new_context, portal):
    other = new_context().new_page()
    other_home = log_in(other, "famille04")
    page = new_context().new_page()
    log_in(page, "ztest")
    for path in ("", "factures/", "releve/", "messages/", "demandes/", "enfants/1/2014-12/"):
        response = page.goto(other_home + path)
        assert response.status == 403, path
        expect(page.get_by_text("Accès réservé").first).to_be_visible()
    # Nor can it mark another family's message read: the function answers 404.
    go_to(other, "Boîte de réception")
    href = other.get_by_role("link", name=re.compile(r"Menus du mois")).get_attribute("href")
    message_id = href.rstrip("/").rsplit("/", 1)[1]
    answer = page.request.post(f"/api/messages/{message_id}/read", data={}, fail_on_status_code=False,
                                headers={"Accept": "application/json", "Origin": portal})
    assert answer.status == 404


def test_the_message_page_passes_axe_core(browser, portal):
    """A message's address holds its random id: not in test_accessibility's FAMILY_PAGES."""
    context = browser.new_context(base_url=portal, bypass_csp=True, viewport=PHONE)
    try:
        page = context.new_page()
        log_in(page, "famille05")
        go_to(page, "Boîte de réception")
        page.get_by_role("link", name=re.compile(r"Bienvenue sur le Portail Famille")).click()
        page.wait_for_load_state("networkidle")
        violations = _axe_violations(page)
        assert not violations, _report(page.url, PHONE["width"], violations)
    finally:
        context.close()
