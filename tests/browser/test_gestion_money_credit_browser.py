"""The régie corrects one of October's demo invoices with a credit note (« avoir »), in a
real headless Chromium against the régie's demo portal (2 December 2014, conftest.py):
without JavaScript, preview then confirm; axe-core at 1280 and 360 px; then the family
sees the credit note on « Mes factures » and downloads its PDF; an agent is refused.
The invoice is the last demo family's October one: no other module touches it."""

from __future__ import annotations

import io
import re
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import DESKTOP, page_problems
from tests.browser.test_login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.server]


def last_family_invoice(portal: str) -> tuple[str, str, str]:
    """(login, family number, October invoice number) of the last demo family with one,
    read in the portal's embedded AWS (test tooling, not a staff page)."""
    import boto3
    from chalicelib import table
    from chalicelib.storage import Storage

    from portail.demo import GENERATED_FAMILIES

    # conftest.py's record of each portal's embedded AWS (pytest may load it under two names).
    endpoint = next(m.EMBEDDED_AWS[portal] for m in list(sys.modules.values())
                    if portal in (getattr(m, "EMBEDDED_AWS", None) or {}))
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-west-3",
                          aws_access_key_id="embedded", aws_secret_access_key="embedded")
    storage = Storage(client, table.table_name())
    for n in range(GENERATED_FAMILIES, 0, -1):
        login = f"famille{n:02d}"
        family = storage.login(login)["family_number"]
        october = [i for i in storage.query_partition(f"FAMILY#{family}", "INVOICE#") if i.get("month") == "2014-10"]
        if october:
            return login, family, october[0]["number"]
    raise AssertionError("no demo family has an October invoice")


def test_the_regie_issues_a_credit_note_and_the_family_sees_it(new_context, portal, staff_login):
    login, family, number = last_family_invoice(portal)
    form = f"/gestion/factures/{number}/avoir/?famille={family}"
    page = new_context(javascript=False).new_page()
    staff_login(page, "regie")
    page.goto(form)
    expect(page.get_by_role("heading", level=1, name=f"Avoir sur la facture {number}")).to_be_visible()
    expect(page.get_by_role("table", name="Lignes de la facture")).to_be_visible()
    expect(page.get_by_label("Toute la facture")).to_be_checked()
    page.get_by_label("Un montant").check()
    page.get_by_label("Montant de l'avoir").fill("1,50")
    page.get_by_label("Motif").fill("Repas du 14/10 non servi (sortie scolaire)")
    page.get_by_role("button", name="Voir l'aperçu").click()
    preview = page.get_by_role("region", name="Aperçu : rien n'est encore enregistré")
    expect(preview).to_contain_text(f"Un avoir de 1,50\u00a0€ sur la facture {number}")
    preview.get_by_role("button", name="Émettre l'avoir").click()
    page.wait_for_url(f"**/gestion/factures/{number}/")  # the invoice's page (303)
    page.goto(form)
    expect(page.get_by_role("heading", name="Avoirs déjà émis sur cette facture")).to_be_visible()
    issued = re.search(r"AVO-\d{6}", page.locator("main").inner_text()).group(0)

    # The family: « Mes factures » shows the correction and the credit note's PDF.
    from pypdf import PdfReader

    family_page = new_context(javascript=False).new_page()
    home = log_in(family_page, login)
    family_page.goto(home + "factures/")
    expect(family_page.get_by_role("table", name="Vos factures")).to_contain_text(f"corrigée par l'avoir {issued}")
    notes = family_page.get_by_role("table", name="Vos avoirs")
    expect(notes).to_contain_text(f"Facture {number}")
    expect(notes).to_contain_text("Repas du 14/10 non servi")
    with family_page.expect_download() as download:
        notes.get_by_role("link", name=f"Télécharger l'avoir N° {issued} (PDF)").click()
    content = open(download.value.path(), "rb").read()
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "AVOIR" in words and issued in words and number in words

    # An agent opens no money page.
    agent = new_context(javascript=False).new_page()
    staff_login(agent, "agent")
    answer = agent.goto(form)
    assert answer.status == 403
    expect(agent.locator("main")).to_contain_text("Votre rôle ne donne pas accès à cette page")


def test_the_credit_note_pages_pass_axe_core_at_1280_and_360_px(browser, portal, staff_login):
    login, family, number = last_family_invoice(portal)
    context = browser.new_context(base_url=portal, bypass_csp=True, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        staff_login(page, "regie")
        page.goto(f"/gestion/factures/{number}/avoir/?famille={family}")
        reports = page_problems(page)
        page.get_by_label("Un montant").check()
        page.get_by_label("Montant de l'avoir").fill("0,50")
        page.get_by_label("Motif").fill("Vérification")
        page.get_by_role("button", name="Voir l'aperçu").click()
        expect(page.get_by_role("region", name="Aperçu : rien n'est encore enregistré")).to_be_visible()
        reports += page_problems(page)  # the preview (nothing issued)
        family_page = context.new_page()
        home = log_in(family_page, login)
        family_page.goto(home + "factures/")
        reports += page_problems(family_page)
        assert not reports, "\n".join(reports)
    finally:
        context.close()
