"""« Facturation » and « Factures » in a browser, as the régie uses them, without
JavaScript: November 2014 invoiced on the demo of 2 December 2014 (the preview, the run,
its page refreshing itself until « terminée » with the summary), November's invoices
listed with gapless numbers and one opened; then the demo family sees its November
invoice on « Mes factures ». axe-core at 1280 and 360 px on each page. The portal is
shared with the régie's other modules (credit notes, payments): no total they could
change is asserted, and a November already invoiced by one of them is taken as it is.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import DESKTOP, page_problems
from tests.browser.test_login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.server]

NUMBER = re.compile(r"^FAC-(\d+)$")


def no_axe_violation(page) -> None:
    problems = page_problems(page, sideways=False)
    assert not problems, "\n".join(problems)


def test_the_regie_invoices_november_then_the_family_sees_its_invoice(browser, portal, new_context, staff_login):
    page = new_context(javascript=False).new_page()
    staff_login(page, "regie")
    page.get_by_role("navigation", name="Menu de la gestion").get_by_role("link", name="Facturation").click()
    page.wait_for_url("**/gestion/facturation/")
    main = page.get_by_role("main")
    assert page.get_by_label("Mois à facturer").input_value() == "2014-11"  # the last month over, by default
    page.set_default_timeout(60_000)  # the preview reads every family (one Scan), slow on the embedded AWS
    page.get_by_role("button", name="Vérifier ce qui serait facturé").click()
    expect(page.get_by_role("heading", name="Aperçu : rien n'est encore écrit ni envoyé")).to_be_visible()
    preview = main.inner_text()
    assert "Vérification seule, rien n'est écrit ni envoyé" in preview and "novembre 2014" in preview
    start = page.get_by_role("button", name=re.compile(r"^Lancer la facturation \(\d+ facture\(s\)\)$"))
    if start.count():  # November still to invoice (no other module of the portal did it first)
        start.click()
        page.wait_for_url("**/gestion/facturation/2014-11/")
    else:
        page.goto("/gestion/facturation/2014-11/")
    # The page reloads itself (a meta refresh, no script) until the run is over.
    expect(page.get_by_text("Facturation terminée.")).to_be_visible(timeout=120_000)
    summary = main.inner_text()
    assert "Facturation du mois de novembre 2014 terminée" in summary
    assert re.search(r"Numéros : FAC-\d+ à FAC-\d+\.", summary) and "Familles parcourues" in summary
    assert page.locator('meta[http-equiv="refresh"]').count() == 0

    # November's invoices: listed, numbers without gap; one opened, its lines and links.
    page.get_by_role("link", name="Voir les factures de novembre 2014").click()
    table = page.get_by_role("table", name=re.compile("Factures de 2014-11"))
    expect(table).to_be_visible()
    numbers = [int(NUMBER.match(t).group(1)) for t in table.locator("tbody th a").all_inner_texts()]
    assert numbers and numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    first = f"FAC-{numbers[0]:06d}"
    table.get_by_role("link", name=first).click()
    expect(page.get_by_role("heading", name=f"Facture {first}", level=1)).to_be_visible()
    expect(page.get_by_role("table", name="Lignes de la facture")).to_be_visible()
    expect(page.get_by_role("link", name="Établir un avoir")).to_have_attribute(
        "href", f"/gestion/factures/{first}/avoir")
    # The search by number, as typed.
    page.goto("/gestion/factures/")
    page.get_by_label("N° de facture").fill(first.lower())
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("table", name=f"Facture {first}").get_by_role("link", name=first)).to_be_visible()

    # axe-core (the CSP refuses its script: a context that bypasses it) at both widths.
    context = browser.new_context(base_url=portal, bypass_csp=True, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    axe = context.new_page()
    staff_login(axe, "regie")
    for address in ("/gestion/facturation/", "/gestion/facturation/2014-11/", "/gestion/factures/?mois=2014-11",
                    f"/gestion/factures/{first}/"):
        axe.goto(address)
        no_axe_violation(axe)
    axe.goto("/gestion/facturation/")
    axe.set_default_timeout(60_000)
    axe.get_by_role("button", name="Vérifier ce qui serait facturé").click()
    no_axe_violation(axe)
    context.close()

    # The demo family sees its November invoice on « Mes factures ».
    family = new_context(javascript=False).new_page()
    log_in(family, "ztest")
    family.get_by_role("navigation", name="Menu de la famille").get_by_role("link", name="Relevé de compte").click()
    family.get_by_role("link", name="Mes factures").click()
    november = family.get_by_role("row").filter(has_text="01/11/2014 - 30/11/2014")
    expect(november.first).to_be_visible()
    assert november.first.get_by_role("link", name=re.compile(r"^Télécharger la facture N° FAC-\d+ \(PDF\)$")).count()
