"""The public pages know the parent is logged in: « Mon espace » instead of « Se
connecter », the login page's way back home; without script the plain link stays, and
the public pages stay the same cached files (docs/accounts.md).

famille30 only logs in and out here (no other module uses it).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import page_problems
from tests.browser.test_family_pages_browser import open_family_menu
from tests.browser.test_login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.server]

PHONE = {"width": 360, "height": 800}
LOGIN = "famille30"


def menu_link(page):
    return page.get_by_role("navigation", name="Menu principal").get_by_role("link").last


def public_headers(page, path: str) -> dict:
    headers = page.goto(path).all_headers()
    page.wait_for_load_state("load")
    return {name: headers.get(name) for name in ("cache-control", "set-cookie", "vary")}


def axe_problems(browser, portal, context, paths) -> list[str]:
    """axe-core at 360 and 1280 px on these pages, with the cookies of `context` (axe's
    own script needs the Content-Security-Policy bypassed)."""
    axe = browser.new_context(base_url=portal, bypass_csp=True, storage_state=context.storage_state())
    try:
        page = axe.new_page()
        problems = []
        for path in paths:
            page.goto(path)
            expect(menu_link(page)).to_have_text("Mon espace")
            problems += page_problems(page)
        return problems
    finally:
        axe.close()


def test_a_logged_in_parent_sees_mon_espace_on_the_public_pages_at_360_px(new_context, browser, portal):
    context = new_context()
    page = context.new_page()
    page.set_viewport_size(PHONE)
    before = {path: public_headers(page, path) for path in ("/", "/guide/")}
    expect(menu_link(page)).to_have_text("Se connecter")
    home = log_in(page, LOGIN)

    for path in ("/", "/guide/"):
        # The same file as for anyone: no cookie changes what the server sends.
        assert public_headers(page, path) == before[path], path
        link = menu_link(page)
        expect(link).to_have_text("Mon espace")
        expect(link).to_have_attribute("href", home)
    menu_link(page).click()
    page.wait_for_url(f"**{home}")

    page.goto("/connexion/")
    way_home = page.get_by_role("link", name="Aller à mon espace famille")
    expect(way_home).to_have_attribute("href", home)
    expect(page.get_by_text("Vous êtes connecté sur cet appareil")).to_be_visible()
    expect(menu_link(page)).to_have_text("Mon espace")
    assert axe_problems(browser, portal, context, ["/", "/connexion/"]) == []

    # Logged out: « Se connecter » again, and the login page offers no way home.
    page.goto(home)
    open_family_menu(page)  # folded on a phone
    page.get_by_role("button", name="Déconnexion").click()
    page.wait_for_url("**/connexion/#deconnexion")
    expect(menu_link(page)).to_have_text("Se connecter")
    expect(page.get_by_text("Déjà connecté sur cet appareil")).to_be_hidden()
    for path in ("/", "/guide/"):
        page.goto(path)
        expect(menu_link(page)).to_have_text("Se connecter")
        expect(menu_link(page)).to_have_attribute("href", "/connexion/")


def test_without_script_the_plain_link_stays_and_the_login_page_leads_home(new_context):
    logged_in = new_context()
    home = log_in(logged_in.new_page(), LOGIN)
    page = new_context(javascript=False).new_page()
    page.context.add_cookies(logged_in.cookies())
    page.set_viewport_size(PHONE)
    page.goto("/guide/")
    expect(menu_link(page)).to_have_text("Se connecter")
    menu_link(page).click()
    page.wait_for_url("**/connexion/")
    page.get_by_role("link", name="Retrouver mon espace famille").click()
    page.wait_for_url(f"**{home}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # Nobody logged in: the same link says the session ended, on the login page.
    stranger = new_context(javascript=False).new_page()
    stranger.goto("/connexion/")
    stranger.get_by_role("link", name="Retrouver mon espace famille").click()
    stranger.wait_for_url("**/connexion/#session-expiree")
    expect(stranger.get_by_text("Votre session a pris fin")).to_be_visible()
