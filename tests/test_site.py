"""The public site built by Pelican: content, shared layout, no inline script or style."""

from __future__ import annotations

import logging
import re
from datetime import date
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
import pytest
from chalicelib.layout import TEMPLATES_DIR, layout_globals

from portail.build import MARKER, BuildError, build_site
from portail.theme import date_fr, weekdays_text

ROOT = Path(__file__).resolve().parents[1]
THEME_TEMPLATES = ROOT / "site" / "theme" / "templates"
EXAMPLE = "pour le lundi 8 décembre, au plus tard le lundi 1er décembre à 23 h 59"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    output = tmp_path_factory.mktemp("site") / "output"
    return output, build_site(output)


@pytest.fixture(scope="module")
def output(built):
    return built[0]


def _html_pages(output: Path) -> list[Path]:
    return sorted(output.rglob("*.html"))


def _text(html: str) -> str:
    """The page's text with tags removed and whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("href", "src"):
            if attributes.get(name):
                self.links.append(attributes[name])
        if "style" in attributes:
            self.inline.append(f"style= on <{tag}>")
        if any(name.startswith("on") for name in attributes):
            self.inline.append(f"event handler on <{tag}>")
        if tag == "style":
            self.inline.append("<style> element")
        if tag == "script" and not attributes.get("src"):
            self.inline.append("inline <script>")


def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_build_writes_the_pages_and_counts_them(built):
    output, pages = built
    html = _html_pages(output)
    assert pages == len(html)
    relative = {str(path.relative_to(output)) for path in html}
    assert relative == {
        "index.html",
        "403.html",
        "404.html",
        "guide/index.html",
        "guide/reserver-et-annuler/index.html",
        "informations/index.html",
        "informations/rentree-reservations-en-ligne/index.html",
        "mentions-legales/index.html",
        "connexion/index.html",
        "mot-de-passe/oublie/index.html",
        "mot-de-passe/nouveau/index.html",
    }
    assert (output / "theme" / "css" / "portail.css").is_file()
    assert (output / "theme" / "js" / "portail.js").is_file()


def test_home_page_tells_what_the_portal_does(output, commune):
    page = (output / "index.html").read_text(encoding="utf-8")
    text = _text(page)
    assert commune.commune.name in text
    for task in ("Réserver la cantine et la garderie", "Déclarer une absence", "factures", "messages"):
        assert task in text
    assert 'href="/guide/reserver-et-annuler/"' in page
    assert "Rentrée : ouverture des réservations en ligne" in text  # latest notices


def test_guide_page_gives_the_rules_the_example_and_the_services(output, commune):
    page = (output / "guide" / "reserver-et-annuler" / "index.html").read_text(encoding="utf-8")
    text = _text(page)
    assert EXAMPLE in text
    assert "hors week-end" in text
    assert "23 h 59" in text
    assert "certificat médical" in text
    assert "avant le 20 de chaque mois" in text
    assert len(commune.services) == 4
    for service in commune.services:
        assert f'<th scope="row">{service.label}</th>' in page
        assert service.description in text
    # Days and capacities come from commune.toml.
    assert "lundi, mardi, jeudi et vendredi, les jours d'école" in text
    assert "limité pour GARDERIE MIDI et RESTAURATION" in text
    guide = (output / "guide" / "index.html").read_text(encoding="utf-8")
    assert 'href="/guide/reserver-et-annuler/"' in guide


def test_the_notice_is_published_with_its_french_date(output):
    page = (output / "informations" / "rentree-reservations-en-ligne" / "index.html").read_text(
        encoding="utf-8"
    )
    assert "Rentrée : ouverture des réservations en ligne" in page
    assert '<time datetime="2014-08-25">lundi 25 août 2014</time>' in page
    listing = (output / "informations" / "index.html").read_text(encoding="utf-8")
    assert 'href="/informations/rentree-reservations-en-ligne/"' in listing


def test_every_page_extends_the_shared_layout(output, commune):
    for path in _html_pages(output):
        page = path.read_text(encoding="utf-8")
        assert page.startswith("<!doctype html>\n<html lang=\"fr\">"), path
        assert '<a class="lien-evitement" href="#contenu">Aller au contenu</a>' in page, path
        assert '<main id="contenu"' in page, path
        assert '<link rel="stylesheet" href="/theme/css/portail.css">' in page, path
        assert f'<span class="marque-commune">{commune.commune.name}</span>' in page, path
        assert 'href="/mentions-legales/"' in page, path
        assert page.count("<h1>") == 1, path


def test_no_page_has_inline_script_or_style(output):
    for path in _html_pages(output):
        page = path.read_text(encoding="utf-8")
        assert _parse(path).inline == [], path
        assert "style=" not in page, path
        assert "javascript:" not in page, path


def test_every_internal_link_leads_to_a_built_file(output):
    for path in _html_pages(output):
        for link in _parse(path).links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("#"):
                continue
            assert link.startswith("/"), f"{path}: {link} is not root-relative"
            target = output / parts.path.lstrip("/")
            if parts.path.endswith("/"):
                target = target / "index.html"
            assert target.is_file(), f"{path}: {link}"


def test_the_theme_has_no_copy_of_the_layout():
    assert not list(THEME_TEMPLATES.rglob("base.html"))
    for template in THEME_TEMPLATES.glob("*.html"):
        source = template.read_text(encoding="utf-8")
        if template.name != "site_head.html":  # a partial, included in <head>
            # The layout, directly or through the theme's page template.
            assert '{% extends "base.html" %}' in source or '{% extends "page.html" %}' in source, template
    # Pelican looks in the function's templates first: only the layout may sit there.
    top_level = {path.name for path in TEMPLATES_DIR.glob("*.html")}
    assert top_level == {"base.html"}


def test_the_layout_renders_for_the_function_without_pelican(commune):
    """The family pages will extend base.html with plain Jinja2, escaping on, strict."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    page = environment.from_string(
        '{% extends "base.html" %}{% block title %}Tableau de bord{% endblock %}'
        "{% block content %}<h1>Famille ZTEST</h1>{% endblock %}"
    ).render(portail=layout_globals(commune))
    assert '<html lang="fr">' in page
    assert "<title>Tableau de bord – Portail Famille – Crégy-lès-Meaux</title>" in page
    assert "Aller au contenu" in page
    assert 'aria-current="page"' not in page
    assert 'href="tel:+33160440000"' in page


def test_the_stylesheet_stays_local_and_accessible():
    css = (ROOT / "site" / "theme" / "static" / "css" / "portail.css").read_text(encoding="utf-8")
    assert "@import" not in css
    assert "@font-face" not in css
    assert "http://" not in css and "https://" not in css
    assert "@media print" in css
    assert ".lien-evitement" in css
    assert ":focus-visible" in css


def test_building_twice_leaves_no_stale_page(tmp_path):
    output = tmp_path / "output"
    build_site(output)
    stale = output / "informations" / "ancienne" / "index.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("<p>supprimée</p>")
    build_site(output)
    assert not stale.exists()
    assert (output / MARKER).exists()


def test_a_foreign_folder_is_never_emptied(tmp_path):
    (tmp_path / "travail.txt").write_text("à garder")
    with pytest.raises(BuildError, match="n'est pas vide"):
        build_site(tmp_path)
    assert (tmp_path / "travail.txt").read_text() == "à garder"


def test_publishing_adds_the_notices_feed_with_absolute_links(tmp_path, caplog):
    output = tmp_path / "output"
    with caplog.at_level(logging.WARNING, logger="portail.build"):
        build_site(output, site_url="https://portail.example.fr/", publish=True)
    assert caplog.records == []
    feed = (output / "informations" / "atom.xml").read_text(encoding="utf-8")
    assert "https://portail.example.fr/informations/rentree-reservations-en-ligne/" in feed
    home = (output / "index.html").read_text(encoding="utf-8")
    assert '<link rel="canonical" href="https://portail.example.fr/">' in home
    assert 'type="application/atom+xml"' in home


def test_french_dates_and_days():
    assert date_fr(date(2014, 12, 1)) == "lundi 1er décembre 2014"
    assert date_fr(date(2014, 12, 8), with_weekday=False) == "8 décembre 2014"
    assert weekdays_text(frozenset({0, 1, 2, 3, 4})) == "du lundi au vendredi"
    assert weekdays_text(frozenset({0, 1, 3, 4})) == "lundi, mardi, jeudi et vendredi"


def test_the_login_page_is_the_guides_compte_famille_form(output):
    html = (output / "connexion" / "index.html").read_text(encoding="utf-8")
    assert "<h1>Compte famille</h1>" in html
    assert "Afin d'accéder à notre service, veuillez vous identifier." in html
    assert '<form class="formulaire-compte" method="post" action="/api/login" data-json>' in html
    assert '<label for="identifiant">Identifiant</label>' in html and 'name="login"' in html
    assert '<label for="mot-de-passe">Mot de passe</label>' in html and 'type="password"' in html
    assert ">Connexion</button>" in html
    assert '<a href="/mot-de-passe/oublie/">Mot de passe oublié ?</a>' in html
    # Without script, the function redirects to #erreur-<code>: each code has its message.
    for anchor in ("erreur-invalid-credentials", "erreur-too-many-attempts", "deconnexion", "mot-de-passe-change"):
        assert f'id="{anchor}" class="message-cible' in html


def test_the_reset_page_reads_its_token_from_the_fragment(output):
    html = (output / "mot-de-passe" / "nouveau" / "index.html").read_text(encoding="utf-8")
    assert 'action="/api/password/reset"' in html and 'name="token"' in html and "data-from-fragment" in html
    assert 'id="erreur-invalid-token"' in html and 'id="erreur-weak-password"' in html
    forgot = (output / "mot-de-passe" / "oublie" / "index.html").read_text(encoding="utf-8")
    assert 'action="/api/password/forgot"' in forgot and 'id="demande-envoyee"' in forgot
