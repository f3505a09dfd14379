"""Every page type passes axe-core, fits a 360 px screen, and runs clean.

Real headless Chromium against `portail serve --demo` at the guide's date (conftest.py),
logged in once as the guide's family. Two contexts share that session:

- `axe`: made with `bypass_csp=True`, because the portal's Content-Security-Policy
  (rightly) refuses the injected axe-core script (docs/architecture.md). axe-core comes from the
  npm registry (node_modules/axe-core, pinned in package.json); it runs with its
  default rules (WCAG A and AA, WCAG 2.2's target size, best practices), at a phone's
  width and at a desktop's.
- `strict`: the CSP enforced, at 360×740 like a small phone: the page must not scroll
  sideways (a wide table scrolls inside its own region), and must log no console error
  and no CSP violation (conftest's REPORT_CSP_VIOLATIONS names each one).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from pypdf import PdfReader

from tests.browser.conftest import REPORT_CSP_VIOLATIONS
from tests.browser.test_login import log_in
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.server]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

# One address per page type of the public site (Pelican), with the status it answers.
PUBLIC_PAGES = {
    "accueil": ("/", 200),
    "guide": ("/guide/", 200),
    "page-du-guide": ("/guide/reserver-et-annuler/", 200),
    "informations": ("/informations/", 200),
    "une-information": ("/informations/rentree-reservations-en-ligne/", 200),
    "connexion": ("/connexion/", 200),
    "mot-de-passe-oublie": ("/mot-de-passe/oublie/", 200),
    "nouveau-mot-de-passe": ("/mot-de-passe/nouveau/", 200),
    "mentions-legales": ("/mentions-legales/", 200),
    "donnees-personnelles": ("/donnees-personnelles/", 200),
    "accessibilite": ("/accessibilite/", 200),
    "plan-du-site": ("/plan-du-site/", 200),
    "page-introuvable": ("/cette-page-n-existe-pas/", 404),
    "acces-reserve": ("/famille/00000000000000000000000000000000/", 403),
}

# The family pages, relative to the family's home (/famille/<key>/), as the guide's
# family ZTEST sees them at the guide's date. Add each new family page here.
FAMILY_PAGES = [
    "",  # accueil
    "compte/",
    "enfants/1/2014-12/",  # CONNIE's December 2014: bookings, holidays (P) and Christmas (F)
    "enfants/",  # Mes enfants
    "factures/",  # Mes factures
    "reglements/",  # Mes règlements
    "releve/2014-2015/",  # Relevé de compte (releve/ shows the same current year)
    "messages/",  # Boîte de réception (a message's own page: tests/browser/test_family_pages.py)
    "demandes/",  # Liste des demandes
]


@dataclass
class Session:
    axe: object  # BrowserContext, CSP bypassed
    strict: object  # BrowserContext, CSP enforced, 360 px
    home: str  # /famille/<key>/


@pytest.fixture(scope="module")
def session(browser, portal):
    """One login, two contexts sharing its cookies."""
    axe = browser.new_context(base_url=portal, bypass_csp=True, viewport=PHONE)
    axe.set_default_timeout(15_000)
    page = axe.new_page()
    home = log_in(page, "ztest")
    page.close()
    strict = browser.new_context(base_url=portal, viewport=PHONE, storage_state=axe.storage_state())
    strict.set_default_timeout(15_000)
    strict.add_init_script(REPORT_CSP_VIOLATIONS)
    yield Session(axe, strict, home)
    strict.close()
    axe.close()


def _address(session: Session, kind: str, target: str) -> tuple[str, int]:
    if kind == "public":
        return PUBLIC_PAGES[target]
    return session.home + target, 200


def _axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => {
            const results = await axe.run(document, { resultTypes: ["violations"] });
            return results.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
                count: v.nodes.length,
            }));
        }"""
    )


def _report(url: str, width: int, violations: list[dict]) -> str:
    lines = [f"axe-core sur {url} à {width} px :"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}, {violation['count']} élément(s)) : {violation['help']}")
        for node in violation["nodes"]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']} — {summary}")
    return "\n".join(lines)


def page_problems(page, *, sideways: bool = True) -> list[str]:
    """What is wrong with a page as French lines: axe-core's violations at 360 and 1280 px
    and, unless `sideways=False`, a sideways scroll at 360 px (the back office's modules
    and this one share it)."""
    problems = []
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        violations = _axe_violations(page)
        if violations:
            problems.append(_report(page.url, viewport["width"], violations))
        if sideways and viewport is PHONE:
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                problems.append(f"{page.url} défile horizontalement à 360 px ({width} px)")
    return problems


PAGE_TYPES = [("public", name) for name in PUBLIC_PAGES] + [("famille", path) for path in FAMILY_PAGES]
IDS = [name if kind == "public" else f"famille-{name.strip('/').replace('/', '-') or 'accueil'}"
       for kind, name in PAGE_TYPES]


@pytest.mark.parametrize(("kind", "target"), PAGE_TYPES, ids=IDS)
def test_axe_core_finds_no_violation(session, kind, target):
    address, status = _address(session, kind, target)
    page = session.axe.new_page()
    try:
        response = page.goto(address)
        assert response.status == status, f"{address} répond {response.status}"
        page.wait_for_load_state("networkidle")
        reports = page_problems(page, sideways=False)
        assert not reports, "\n".join(reports)
    finally:
        page.close()


def _expected_console_error(message, status: int, url: str) -> bool:
    """The browser's own line for a page served with an error status (404, 403): it
    is the answer the page is about, not a fault of the page."""
    return (status >= 400 and message.text.startswith("Failed to load resource")
            and message.location.get("url", "") == url)


@pytest.mark.parametrize(("kind", "target"), PAGE_TYPES, ids=IDS)
def test_fits_360_px_without_console_error_or_csp_violation(session, kind, target):
    address, status = _address(session, kind, target)
    page = session.strict.new_page()
    errors = []
    page.on("console", lambda message: errors.append(f"{message.text} ({message.location.get('url', '')})")
            if message.type == "error" and not _expected_console_error(message, status, page.url) else None)
    page.on("pageerror", lambda error: errors.append(f"exception : {error}"))
    try:
        response = page.goto(address)
        assert response.status == status, f"{address} répond {response.status}"
        page.wait_for_load_state("networkidle")
        widths = page.evaluate(
            """() => {
                const page = document.documentElement.scrollWidth;
                // The widest element that sticks out, to name the culprit.
                let culprit = "";
                let widest = window.innerWidth;
                for (const element of document.body.querySelectorAll("*")) {
                    const right = element.getBoundingClientRect().right;
                    if (right > widest + 0.5) {
                        widest = right;
                        culprit = element.tagName.toLowerCase()
                            + (element.id ? "#" + element.id : "")
                            + (element.className && typeof element.className === "string"
                                ? "." + element.className.trim().split(/\\s+/).join(".") : "");
                    }
                }
                return { page, culprit, widest };
            }"""
        )
        assert widths["page"] <= PHONE["width"], (
            f"{address} défile horizontalement à 360 px : largeur {widths['page']} px "
            f"(élément le plus large : {widths['culprit']}, {widths['widest']:.0f} px)"
        )
        assert errors == [], f"{address} :\n" + "\n".join(errors)
    finally:
        page.close()


def test_the_month_is_a_list_of_days_on_a_phone_and_the_grid_on_a_wide_screen(session):
    """At 360 px the month is a list of days in its labelled region: nothing hides on the
    right, the days follow one another down the page. From 60em the same markup is the
    guide's grid: the 31 days side by side, within the page or inside the region, which a
    keyboard user can reach (focusable, named after the month and the child)."""
    page = session.strict.new_page()
    try:
        page.goto(session.home + FAMILY_PAGES[2])
        region = page.get_by_role("region", name="Décembre 2014 – CONNIE")
        sizes = region.evaluate("(element) => ({ scroll: element.scrollWidth, client: element.clientWidth,"
                                " tabindex: element.getAttribute('tabindex') })")
        assert sizes["scroll"] <= sizes["client"] and sizes["tabindex"] == "0"
        tops = page.locator(".jours > li").evaluate_all("(days) => days.map((d) => d.getBoundingClientRect().top)")
        assert len(tops) == 31 and tops == sorted(tops) and len(set(tops)) == 31  # one under the other
        page.set_viewport_size(DESKTOP)
        tops = page.locator(".jours > li").evaluate_all("(days) => days.map((d) => d.getBoundingClientRect().top)")
        assert len(set(tops)) == 1  # side by side: the grid
        assert page.evaluate("() => document.documentElement.scrollWidth") <= DESKTOP["width"]
    finally:
        page.close()


def test_the_skip_link_shows_on_focus_and_leads_to_the_content(session):
    page = session.strict.new_page()
    try:
        page.goto(PUBLIC_PAGES["guide"][0])
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Aller au contenu")
        assert skip.evaluate("(element) => element === document.activeElement")
        box = skip.bounding_box()
        assert box is not None and box["y"] >= 0 and box["height"] > 0  # on screen once focused
        outline = skip.evaluate("(element) => getComputedStyle(element).backgroundColor")
        assert outline == "rgb(255, 221, 0)"  # the focus style: yellow, visible on white and blue
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.id") == "contenu"
    finally:
        page.close()


def test_the_printed_month_is_the_whole_grid_on_a_landscape_sheet(session):
    """Printed (Chromium's PDF, our print.css), December is a sheet to keep: every day
    of the grid, in words and signs, on a landscape page; no menu, button or form."""
    page = session.strict.new_page()
    try:
        page.goto(session.home + FAMILY_PAGES[2])
        page.wait_for_load_state("networkidle")
        reader = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
        texts = [sheet.extract_text() for sheet in reader.pages]
        everything = " ".join(" ".join(texts).split())
        for absent in ("Envoyer ma demande", "Déconnexion", "Boîte de réception", "Semaine type",
                       "Réserver ces jours", "Aller au contenu"):
            assert absent not in everything, absent
        # The grid's row heads (each service and its responsable) are on no other part of the page.
        grid = [(sheet, text) for sheet, text in zip(reader.pages, texts, strict=True)
                if "GARDERIE MATIN ZTEST PAYS" in " ".join(text.split()) and "RESTAURATION" in text]
        assert grid, [" ".join(text.split())[:300] for text in texts]
        sheet, text = grid[0]
        assert sheet.mediabox.width > sheet.mediabox.height  # landscape
        words = " ".join(text.split())
        for day in ("Lu 1", "Ve 5", "Je 25", "Me 31"):
            assert day in words, (day, words[:400])
        assert "Réserver" not in words and "Annuler" not in words  # the controls stay on screen
        assert "Légende" in everything and "Rappel" in everything
    finally:
        page.close()
