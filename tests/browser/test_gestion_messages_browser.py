"""« Messages » in a browser, as an agent uses it: without JavaScript, a message to
everyone booked on a day of the demo (GARDERIE MIDI, Thursday 11 December 2014: the
small room the first twelve of fifteen families filled), previewed, sent, its mails and
pages done; then a family booked that day finds it in its inbox and reads it, and the
agent's list counts the reader. axe-core at 1280 and 360 px on the form, a preview and
the sent message's page. One demo portal for the back office's modules (conftest.py):
the message's subject is new at each run, and only messages are added to these families.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest

from tests.browser.test_accessibility import DESKTOP, page_problems
from tests.browser.test_login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.server]

BOOKED_FAMILY = "famille01"  # the first of the small room's demo families to ask: validated
BODY = "Les enfants de la **garderie du midi** mangeront au gymnase.\n\n- une gourde\n- une casquette"


def no_axe_violation(page) -> None:
    problems = page_problems(page, sideways=False)
    assert not problems, "\n".join(problems)


def write_message(page, subject: str) -> None:
    page.goto("/gestion/messages/")
    page.get_by_label("Les familles ayant un enfant réservé pour un service, un jour").check()
    page.get_by_label("Service (« un service, un jour »)").select_option(label="GARDERIE MIDI")
    page.get_by_label("Jour (« un service, un jour »)").fill("2014-12-11")
    page.get_by_label(re.compile("^Objet")).fill(subject)
    page.get_by_label("Texte du message").fill(BODY)
    page.get_by_role("button", name="Afficher l'aperçu").click()


def test_an_agent_writes_to_everyone_booked_on_a_day_and_a_family_reads_it(new_context, staff_login, browser,
                                                                           portal):
    subject = f"Repas au gymnase {uuid.uuid4().hex[:6]}"
    page = new_context(javascript=False).new_page()
    agent = staff_login(page, "agent")
    page.get_by_role("link", name="Messages").first.click()
    page.wait_for_url("**/gestion/messages/")
    write_message(page, subject)
    main = page.get_by_role("main")
    assert "Aperçu : rien n'est encore envoyé" in main.inner_text()
    described = re.search(r"messagerie de (\d+) familles ayant un enfant réservé en GARDERIE MIDI "
                          r"le jeudi 11 décembre 2014", main.inner_text())
    assert described, main.inner_text()
    count = int(described.group(1))
    assert count >= 2
    preview = page.locator("article.apercu-message")
    assert preview.get_by_role("heading", name=subject).is_visible()
    assert preview.locator("strong").inner_text() == "garderie du midi"
    assert preview.get_by_role("listitem").all_inner_texts() == ["une gourde", "une casquette"]
    page.get_by_role("button", name=f"Envoyer à {count} familles").click()
    page.wait_for_url(re.compile(r"/gestion/messages/[0-9a-f]{32}/"))
    sending_url = page.url.split("#")[0]
    # the mails and pages are deferred jobs: the page says so and reloads itself (no script)
    deadline = time.monotonic() + 90
    while "pages des familles à jour" not in page.get_by_role("status").inner_text():
        assert "cette page se met à jour toute seule" in page.get_by_role("status").inner_text()
        assert time.monotonic() < deadline, "les courriels et les pages des familles ne sont pas faits en 90 s"
        time.sleep(1)
        page.goto(sending_url)
    shown = " ".join(page.get_by_role("main").inner_text().split())
    assert f"Lu par 0 famille sur {count}" in shown and f"par {agent}" in shown

    # a family booked that day sees it in its inbox, the same HTML as the preview, and reads it
    family = new_context(javascript=False).new_page()
    home = log_in(family, BOOKED_FAMILY)
    family.goto(home + "messages/")
    family.get_by_role("link", name=re.compile(re.escape(subject))).click()
    article = family.locator("article.message")
    assert article.locator("strong").inner_text() == "garderie du midi"
    assert article.get_by_role("listitem").all_inner_texts() == ["une gourde", "une casquette"]
    family.get_by_role("button", name="Marquer comme lu").click()
    assert "Message lu le" in family.get_by_role("main").inner_text()
    page.goto("/gestion/messages/")
    row = page.get_by_role("row", name=re.compile(re.escape(subject)))
    assert f"1 famille sur {count}" in row.inner_text()

    # axe-core at both widths: the form, a preview, the sent message's page
    context = browser.new_context(base_url=portal, bypass_csp=True, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    try:
        axe = context.new_page()
        staff_login(axe, "agent")
        axe.goto("/gestion/messages/")
        no_axe_violation(axe)
        write_message(axe, subject + " (aperçu)")
        assert "Aperçu" in axe.get_by_role("main").inner_text()
        no_axe_violation(axe)
        axe.goto(sending_url)
        no_axe_violation(axe)
    finally:
        context.close()
