"""Page cookies of 5 minutes, renewed while the
session lives (docs/accounts.md).

`portail serve` runs in this process (a thread), so that the test moves the portal's
clock (PORTAIL_NOW, read at every request by the function and by the local gate, which
checks the cookies as CloudFront does); with JavaScript, Playwright's clock moves the
browser's by as much. Two families, alice and bob, exported at the guide's date.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import REPORT_CSP_VIOLATIONS, STARTUP_SECONDS
from tests.browser.test_login import LOGIN_PAGE, log_in
from tests.conftest import GUIDE_NOW

pytestmark = [pytest.mark.browser, pytest.mark.server]

JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["js", "sans-js"])
PASSWORD = "une phrase de passe tres longue"
RENEW = "/api/session/renew"
# The family menu's entries, in the order a parent reading its pages follows them.
MENU = ["Mon compte", "Mes enfants", "Relevé de compte", "Boîte de réception", "Liste des demandes", "Accueil"]
HEADINGS = {"Mon compte": "Mon compte", "Mes enfants": "Mes enfants", "Relevé de compte": "Relevé de compte",
            "Boîte de réception": "Boîte de réception", "Liste des demandes": "Liste des demandes",
            "Accueil": re.compile(r"^Bienvenue ")}


@dataclass
class ClockPortal:
    url: str

    @staticmethod
    def set_clock(instant: datetime) -> datetime:
        """Moves the portal's clock (this process's PORTAIL_NOW, read at every request)."""
        from chalicelib.clock import FROZEN_ENV

        os.environ[FROZEN_ENV] = instant.isoformat()
        return instant


@pytest.fixture(scope="module")
def clock_portal(tmp_path_factory):
    from app import reset_dependencies

    from portail.serve import serve

    ready = threading.Event()
    started: dict = {}

    def seed() -> str:
        from chalicelib.clock import now
        from chalicelib.config import get_commune

        from portail import aws
        from portail.family_export import export_all
        from portail.sample import add_family

        reset_dependencies()  # the function's clients: this portal's embedded AWS
        storage = aws.storage()
        add_family(storage, "100", "alice", PASSWORD, last_name="ALPHA", child="ANNA", email="alice@example.org")
        add_family(storage, "200", "bob", PASSWORD, last_name="BRAVO", child="BRUNO", email="bob@example.org")
        export_all(storage, aws.client("s3"), get_commune(), now())
        return "Familles alice et bob."

    def on_ready(server) -> None:
        started["server"] = server
        ready.set()

    def run() -> None:
        try:
            serve(port=0, now=GUIDE_NOW.isoformat(), seed=seed,
                  output_dir=tmp_path_factory.mktemp("portail-horloge") / "output", on_ready=on_ready)
        except BaseException as error:  # shown by the fixture rather than lost in the thread
            started["error"] = error
            ready.set()

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAIL_SECRET", "secret-de-test")
        patch.delenv("PORTAIL_DEMO", raising=False)
        thread = threading.Thread(target=run, name="portail-serve", daemon=True)
        thread.start()
        if not ready.wait(STARTUP_SECONDS) or "error" in started:
            pytest.fail(f"portail serve n'a pas démarré : {started.get('error')!r}")
        server = started["server"]
        try:
            yield ClockPortal(f"http://127.0.0.1:{server.port}")
        finally:
            server.shutdown()  # serve() then gives the process its environment back
            thread.join(timeout=30)
            reset_dependencies()


@pytest.fixture
def contexts(browser, clock_portal):
    """Makes browser contexts on the portal (`javascript`, Playwright's clock installed
    at the portal's when `clock`); closes them after. The portal's clock starts at the
    guide's date."""
    made = []
    clock_portal.set_clock(GUIDE_NOW)

    def make(*, javascript: bool = True, clock: bool = False):
        context = browser.new_context(java_script_enabled=javascript, base_url=clock_portal.url)
        context.set_default_timeout(10_000)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        if clock:
            context.clock.install(time=GUIDE_NOW)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def _policy_end(context) -> datetime:
    """The DateLessThan of the CloudFront-Policy cookie the browser holds."""
    value = next(c["value"] for c in context.cookies() if c["name"] == "CloudFront-Policy")
    policy = json.loads(base64.b64decode(value.replace("-", "+").replace("_", "=").replace("~", "/")))
    epoch = policy["Statement"][0]["Condition"]["DateLessThan"]["AWS:EpochTime"]
    return datetime.fromtimestamp(epoch, GUIDE_NOW.tzinfo)


def _is_renewal(response) -> bool:
    return urlsplit(response.url).path == RENEW


def _menu(page, entry: str):
    return page.get_by_role("navigation", name="Menu de la famille").get_by_role("link", name=entry)


def _heading(page, entry: str):
    return page.get_by_role("heading", name=HEADINGS[entry], level=1)


def test_a_parent_reading_pages_keeps_access_with_javascript(contexts, clock_portal):
    """A page every 3 minutes for 36 minutes, nothing written: each page shown renews
    the cookies (the last renewal is 2 minutes old or more), so the next page opens
    at once, though the cookies last 5 minutes, and the session outlives its 30 minutes'
    idle timeout: reading is activity."""
    context = contexts(javascript=True, clock=True)
    page = context.new_page()
    log_in(page, "alice", PASSWORD)
    views = []
    page.on("response", lambda r: views.append((urlsplit(r.url).path, r.status))
            if r.request.resource_type == "document" else None)
    for step, entry in enumerate(MENU * 2, start=1):
        now = clock_portal.set_clock(GUIDE_NOW + timedelta(minutes=3 * step))
        context.clock.fast_forward("03:00")
        with page.expect_response(_is_renewal) as renewal:
            _menu(page, entry).click()
        expect(_heading(page, entry)).to_be_visible()
        assert renewal.value.status == 200, f"{entry} à {now:%H:%M}"
        assert now < _policy_end(context) <= now + timedelta(minutes=5)
    # Never the « Accès réservé » page (403): each page shown, or Chromium's copy of a page
    # seen before confirmed unchanged (304: pages are `no-cache` with an ETag).
    assert all(status in (200, 304) for _, status in views), views


def test_an_open_page_renews_while_the_parent_is_there_not_when_left_alone(contexts, clock_portal):
    """Every 2 minutes while the page is visible and the parent did something (here a
    key); a tab left alone renews nothing, so the session still ends 30 minutes idle."""
    context = contexts(javascript=True, clock=True)
    page = context.new_page()
    renewals = []
    page.on("request", lambda r: renewals.append(r.url) if _is_renewal(r) else None)
    with page.expect_response(_is_renewal):  # the first page shown renews
        home = log_in(page, "alice", PASSWORD)
    clock_portal.set_clock(GUIDE_NOW + timedelta(minutes=3))
    context.clock.fast_forward("03:00")  # nobody there
    page.wait_for_timeout(300)
    assert len(renewals) == 1
    page.keyboard.press("Tab")
    with page.expect_response(_is_renewal) as renewal:
        context.clock.fast_forward("00:30")
    assert renewal.value.status == 200
    clock_portal.set_clock(GUIDE_NOW + timedelta(minutes=3 + 31))
    context.clock.fast_forward("31:00")  # left alone past the idle timeout
    page.wait_for_timeout(300)
    assert len(renewals) == 2
    assert page.goto(home + "compte/").status == 403
    expect(page.get_by_role("status")).to_have_text(
        "Votre session a pris fin : connectez-vous pour retrouver votre espace famille.")


def test_a_parent_reading_pages_without_javascript_is_brought_back(contexts, clock_portal):
    """Without script nothing renews the cookies in the background: after 5 minutes the
    next page answers « Accès réservé », whose refresh renews them and brings the
    parent back to that page, for as long as the session lives."""
    context = contexts(javascript=False)
    page = context.new_page()
    home = log_in(page, "alice", PASSWORD)
    views = []
    page.on("response", lambda r: views.append((urlsplit(r.url).path, r.status))
            if r.request.resource_type == "document" else None)
    for step, entry in enumerate(MENU, start=1):
        now = clock_portal.set_clock(GUIDE_NOW + timedelta(minutes=6 * step))
        views.clear()
        target = home + _menu(page, entry).get_attribute("href").split(home, 1)[1]
        _menu(page, entry).click()
        page.wait_for_url(lambda url, target=target: urlsplit(url).path == target)
        expect(_heading(page, entry)).to_be_visible()
        assert [path for path, _ in views] == [target, RENEW, target], views
        assert [status for _, status in views] == [403, 303, 200], views
        assert now < _policy_end(context) <= now + timedelta(minutes=5)


@JAVASCRIPT
def test_cookies_saved_before_logout_open_nothing_6_minutes_later(contexts, clock_portal, javascript):
    parent = contexts(javascript=javascript).new_page()
    home = log_in(parent, "alice", PASSWORD)
    saved = parent.context.cookies()  # everything the browser holds, the session's too
    logout = clock_portal.set_clock(GUIDE_NOW + timedelta(minutes=1))
    parent.get_by_role("button", name="Déconnexion").click()
    parent.wait_for_url(LOGIN_PAGE)

    thief = contexts(javascript=javascript)
    thief.add_cookies(saved)
    page = thief.new_page()
    handed_out = []  # page cookies the portal gives the thief: none, ever
    page.on("response", lambda r: handed_out.extend(
        h["value"] for h in r.headers_array()
        if h["name"].lower() == "set-cookie" and h["value"].startswith("CloudFront-Policy=")))
    clock_portal.set_clock(logout + timedelta(minutes=1))
    assert page.goto(home).status == 200  # within the bound, the cookies still open
    expect(page.get_by_role("heading", name=re.compile(r"^Bienvenue "))).to_be_visible()
    clock_portal.set_clock(logout + timedelta(minutes=6))
    for path in ("", "compte/", "enfants/", "messages/"):
        response = page.goto(home + path)
        assert response.status == 403, path
        if javascript:  # the page tried a renewal: refused, it says why
            expect(page.get_by_role("status")).to_have_text(
                "Votre session a pris fin : connectez-vous pour retrouver votre espace famille.")
            expect(page.get_by_role("heading", name="Accès réservé")).to_be_visible()
        else:  # its refresh tried one: refused, the login page says why
            page.wait_for_url(LOGIN_PAGE)
            assert urlsplit(page.url).fragment == "session-expiree"
            expect(page.get_by_text("Votre session a pris fin : connectez-vous pour retrouver "
                                    "votre espace famille.")).to_be_visible()
        expect(page.get_by_text("ALPHA")).to_have_count(0)
    assert handed_out == []


@JAVASCRIPT
def test_another_familys_page_gives_nothing_and_no_endless_round(contexts, javascript):
    page = contexts(javascript=javascript).new_page()
    log_in(page, "alice", PASSWORD)
    other = contexts().new_page()
    bob_home = log_in(other, "bob", PASSWORD)
    views = []
    page.on("response", lambda r: views.append((urlsplit(r.url).path, r.status))
            if r.request.resource_type == "document" else None)
    with page.expect_response(_is_renewal) as renewal:
        page.goto(bob_home + "compte/")
    expect(page.get_by_text("BRAVO")).to_have_count(0)
    if javascript:  # the renewal says whose pages these are: no reload, the way home
        assert renewal.value.status == 200
        status = page.get_by_role("status")
        expect(status).to_have_text("Cette page ne fait pas partie de votre espace famille : "
                                    "retrouver votre page d'accueil.")
        assert views == [(bob_home + "compte/", 403)], views
        status.get_by_role("link", name="retrouver votre page d'accueil").click()
    # Without script, the refresh renews alice's cookies and brings her home at once.
    page.wait_for_url(lambda url: urlsplit(url).path.startswith("/famille/")
                      and not urlsplit(url).path.startswith(bob_home))
    expect(page.get_by_text(re.compile(r"^Bienvenue ANNE ALPHA, vous avez"))).to_be_visible()
