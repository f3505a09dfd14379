"""The public site's content in Chromium (docs/staff.md, docs/content.md): an admin writes
a notice, previews it, publishes it; Pelican rebuilds the site and the notice shows on
/informations/… and on a family's dashboard; a second version, then the first restored.
Without JavaScript, a guide page edited shows on /guide/…, the progress page refreshing
itself. axe-core at 1280 and 360 px on every page of /gestion/informations/."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from tests.browser.test_accessibility import DESKTOP, page_problems
from tests.browser.test_login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.server]
PUBLISHED = re.compile(r"Publiée le ")
# Pelican's build and every demo family's dashboard, in the demo portal's background thread.
PUBLICATION_SECONDS = 120


def _publish(page) -> float:
    """Clicks « Publier », waits for « Publiée le … » (the page refreshes itself); the seconds taken."""
    start = time.monotonic()
    page.get_by_role("button", name="Publier").click()
    page.wait_for_url("**/gestion/informations/publication/**")
    page.get_by_text(PUBLISHED).wait_for(timeout=PUBLICATION_SECONDS * 1000)
    return time.monotonic() - start


def test_a_notice_written_in_the_browser_reaches_the_site_and_the_dashboards_then_is_restored(
        browser, portal, staff_login):
    title = f"Sortie au musée {uuid.uuid4().hex[:6]}"
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower().replace("é", "e")).strip("-")
    context = browser.new_context(base_url=portal, bypass_csp=True, viewport=DESKTOP)
    try:
        page = context.new_page()
        staff_login(page, "admin")
        page.get_by_role("navigation", name="Menu de la gestion").get_by_role("link", name="Informations").click()
        page.wait_for_url("**/gestion/informations/")
        assert page.get_by_role("heading", level=1).inner_text() == "Informations et guide"
        assert page.get_by_role("link", name="Les règles à retenir").is_visible()  # content/'s guide, stored
        problems = page_problems(page)

        page.get_by_label("Titre").fill(title)
        page.get_by_label("Texte (Markdown)").fill("Les enfants partent **à 9 h**.\n\nRéservez {{ delai_jours }} avant.")
        page.get_by_label("Affichée jusqu'au (facultatif)").fill("2014-12-19")
        page.get_by_role("button", name="Aperçu").click()
        preview = page.locator(".contenu-apercu")
        assert preview.locator("strong", has_text="à 9 h").is_visible()
        assert "Réservez 5 jours avant." in preview.inner_text()
        problems += page_problems(page)

        seconds = _publish(page)
        print(f"\npublication d'une information, du clic au « Publiée » : {seconds:.1f} s")
        problems += page_problems(page)
        page.get_by_role("link", name="Voir la page publique").click()
        page.wait_for_url(f"**/informations/{slug}/")
        assert page.get_by_role("heading", level=1).inner_text() == title
        assert page.locator("strong", has_text="à 9 h").is_visible()

        family = browser.new_context(base_url=portal).new_page()
        log_in(family, "ztest")
        assert family.get_by_role("link", name=title).is_visible()
        family.context.close()

        page.goto(f"/gestion/informations/avis/{slug}/")
        page.get_by_label("Texte (Markdown)").fill("Sortie annulée.")
        _publish(page)
        page.goto(f"/informations/{slug}/")
        assert page.get_by_text("Sortie annulée.").is_visible()

        page.goto(f"/gestion/informations/avis/{slug}/")
        problems += page_problems(page)
        page.get_by_role("button", name="Restaurer cette version (version 1)").click()
        page.get_by_text(PUBLISHED).wait_for(timeout=PUBLICATION_SECONDS * 1000)
        page.goto(f"/informations/{slug}/")
        assert page.locator("strong", has_text="à 9 h").is_visible()
        assert page.get_by_text("Sortie annulée.").count() == 0
        assert not problems, "\n".join(problems)
    finally:
        context.close()


def test_without_javascript_a_guide_page_edited_shows_on_the_guide(new_context, staff_login):
    page = new_context(javascript=False).new_page()
    staff_login(page, "admin")
    page.goto("/gestion/informations/guide/messages/")
    body = page.get_by_label("Texte (Markdown)")
    original = body.input_value()
    sentence = f"Une phrase ajoutée dans le navigateur ({uuid.uuid4().hex[:6]})."
    body.fill(original + "\n\n" + sentence)
    page.get_by_role("button", name="Aperçu").click()
    assert sentence in page.locator(".contenu-apercu").inner_text()
    _publish(page)  # the progress page refreshes itself: <meta http-equiv="refresh">
    page.goto("/guide/messages/")
    assert page.get_by_text(sentence).is_visible()

    # The guide as it was, for the other modules of this demo portal.
    page.goto("/gestion/informations/guide/messages/")
    versions = page.get_by_role("table").locator("tbody tr")
    previous = versions.nth(1).locator("th").inner_text().split()[0]
    page.get_by_role("button", name=f"Restaurer cette version (version {previous})").click()
    page.get_by_text(PUBLISHED).wait_for(timeout=PUBLICATION_SECONDS * 1000)
    page.goto("/guide/messages/")
    assert page.get_by_text(sentence).count() == 0
