"""« Mes documents » on a phone and their review at /gestion/documents/ (docs/family-documents.md):
a parent sends an attestation with JavaScript (the presigned POST by fetch, under the
page's real CSP) and another without (the function's page of a fresh form, S3's
redirect back), both at 360 px; an agent opens the list, accepts one (with a new bracket
from a month) and refuses the other with a reason; the dashboard says what changed.
axe-core at 360 and 1280 px on « Mes documents », the dashboard and the staff's page.

Only families famille33 and famille34 are changed (their documents)."""

from __future__ import annotations

from tests.browser.test_accessibility import page_problems
from tests.browser.test_certificate_upload_browser import PDF, csp_violations, phone, thumb_sized
from tests.browser.test_login import log_in

QUOTIENT = "Attestation de quotient familial (CAF)"
INSURANCE = "Attestation d'assurance scolaire"
FILE = {"name": "attestation.pdf", "mimeType": "application/pdf", "buffer": PDF}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def staff_section(page, family: str):
    """The block of the staff's list for `family`'s document."""
    return page.locator("section.demande", has_text=f"(famille {family})")


def test_an_attestation_sent_with_javascript_is_accepted_by_an_agent_and_the_dashboard_changes(
        portal, browser, staff_login):
    context = phone(browser, portal, javascript=True)
    page = context.new_page()
    violations = csp_violations(page)
    home = log_in(page, "famille33")
    dashboard = page.locator("main").inner_text()
    assert f"{QUOTIENT} : à fournir" in dashboard
    page.get_by_role("link", name="Envoyer mes documents").tap()
    page.wait_for_url(f"**{home}documents/")
    block = page.locator("#piece-QUOTIENT")
    assert block.get_by_role("radio").count() == 0 or not block.get_by_role("radio").first.is_visible()
    file_input = block.get_by_label("Fichier du document (PDF, JPEG ou PNG, 5 Mo au plus)")
    button = block.get_by_role("button", name=f"Envoyer le document : {QUOTIENT}")
    thumb_sized(file_input)
    thumb_sized(button)
    file_input.set_input_files(FILE)
    button.tap()
    status = block.get_by_role("status")
    status.wait_for()
    assert status.inner_text() == "Document reçu : le service enfance va l'examiner."
    assert block.locator("[data-certificat-etat]").inner_text() == "reçu, en cours d'examen par le service enfance"
    assert violations == []

    # An agent, in the back office: the file opens, « Accepter » with bracket A from January.
    staff = browser.new_context(base_url=portal, bypass_csp=True, **DESKTOP)
    try:
        agent = staff.new_page()
        staff_login(agent, "agent")
        agent.goto("/gestion/documents/")
        section = staff_section(agent, "381600000033")
        assert QUOTIENT in section.inner_text()
        opened = agent.request.get(section.get_by_role("link", name="Ouvrir le fichier").first.get_attribute("href"))
        assert opened.body() == PDF
        assert page_problems(agent) == []
        section.get_by_label("Nouvelle tranche").select_option("A")
        section.get_by_label("À partir du mois (AAAA-MM, pas encore facturé)").fill("2015-01")
        section.get_by_role("button", name="Accepter").click()
        done = agent.get_by_role("status").inner_text()
        assert "Document accepté : famille 381600000033" in done and "Tranche A à partir de 2015-01" in done
    finally:
        staff.close()

    page.goto(home)
    assert QUOTIENT not in page.locator("main").inner_text()
    page.goto(f"{home}documents/")
    assert "accepté, valable jusqu'au 27/11/2015" in page.locator("#piece-QUOTIENT").inner_text()
    assert page.locator("#piece-QUOTIENT form").count() == 0
    context.close()

    checked = browser.new_context(base_url=portal, bypass_csp=True)
    try:
        check = checked.new_page()
        log_in(check, "famille33")
        problems = page_problems(check)
        check.goto(f"{home}documents/")
        assert problems + page_problems(check) == []
    finally:
        checked.close()


def test_an_attestation_sent_without_javascript_then_refused_says_why(portal, browser, staff_login):
    context = phone(browser, portal, javascript=False)
    page = context.new_page()
    home = log_in(page, "famille34")
    page.goto(f"{home}documents/")
    block = page.locator("#piece-ASSURANCE")
    block.get_by_label("un fichier PDF").check()
    with page.expect_navigation(url=f"{portal}/api/documents/formulaire"):
        block.get_by_role("button", name=f"Envoyer le document : {INSURANCE}").tap()
    assert page.get_by_role("heading", level=1).inner_text() == "Envoyer un document"
    file_input = page.get_by_label("Fichier du document (PDF, 5 Mo au plus)")
    thumb_sized(file_input)
    file_input.set_input_files(FILE)
    with page.expect_navigation(url=f"{portal}{home}documents/#piece-ASSURANCE"):
        page.get_by_role("button", name="Envoyer le document").tap()  # S3, its 303 to …/recu, then back here
    assert "reçu, en cours d'examen" in page.locator("#piece-ASSURANCE").inner_text()

    staff = browser.new_context(base_url=portal, java_script_enabled=False, **DESKTOP)
    try:
        agent = staff.new_page()
        staff_login(agent, "agent")
        agent.goto("/gestion/documents/")
        section = staff_section(agent, "381600000034")
        assert INSURANCE in section.inner_text() and "Nouvelle tranche" not in section.inner_text()
        section.get_by_label("Motif du refus").fill("Attestation de l'année dernière.")
        section.get_by_role("button", name="Refuser").click()
        assert "Document refusé : famille 381600000034" in agent.get_by_role("status").inner_text()
    finally:
        staff.close()

    page.goto(home)
    assert f"{INSURANCE} : refusé (motif : Attestation de l'année dernière.)" in page.locator("main").inner_text()
    page.goto(f"{home}documents/")
    assert page.locator("#piece-ASSURANCE").get_by_role("button", name=f"Envoyer un nouveau document : {INSURANCE}")\
        .is_visible()
    context.close()
