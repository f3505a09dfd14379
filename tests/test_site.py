"""The public site built by Pelican: content, shared layout, no inline script or style."""

from __future__ import annotations

import logging
import re
import shutil
from datetime import date
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
import pytest
from chalicelib.clock import FROZEN_ENV
from chalicelib.formatting import french_day
from chalicelib.layout import ACCESSIBILITY_STATUS, FOOTER_LINKS, TEMPLATES_DIR, layout_globals

from portail.build import MARKER, BuildError, build_site
from portail.theme import weekdays_text
from tests.conftest import SHIPPED_COMMUNE_FILE, commune_toml

ROOT = Path(__file__).resolve().parents[1]
THEME_TEMPLATES = ROOT / "site" / "theme" / "templates"
CSS = ROOT / "site" / "theme" / "static" / "css"
GUIDE_NOW = "2014-11-28T12:00:00+01:00"
EXAMPLE = "pour le lundi 8 décembre, au plus tard le lundi 1er décembre à 23 h 59"
GUIDE_PAGES = [  # the guide's reading order (their `Order`)
    "se-connecter",
    "page-d-accueil",
    "reserver-et-annuler",
    "declarer-une-absence",
    "regles",
    "factures-et-releve",
    "messages",
    "suivre-vos-demandes",
]


def _build_at(output: Path, instant: str, commune_file: Path = SHIPPED_COMMUNE_FILE, **options) -> int:
    """Builds as `portail serve --now instant` does: the portal's clock frozen, the
    commune's real configuration (the public site is built from content/ by design)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(FROZEN_ENV, instant)
        patch.setenv("PORTAIL_COMMUNE_FILE", str(commune_file))
        return build_site(output, **options)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The site as the demo shows it: built at the guide's date."""
    output = tmp_path_factory.mktemp("site") / "output"
    return output, _build_at(output, GUIDE_NOW)


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
    expected = {
        "index.html",
        "403.html",
        "404.html",
        "guide/index.html",
        *(f"guide/{name}/index.html" for name in GUIDE_PAGES),
        "informations/index.html",
        "informations/rentree-reservations-en-ligne/index.html",
        "informations/vacances-de-noel/index.html",  # expires after the guide's date
        "mentions-legales/index.html",
        "donnees-personnelles/index.html",
        "accessibilite/index.html",
        "plan-du-site/index.html",
        "documents/index.html",
        "connexion/index.html",
        "mot-de-passe/oublie/index.html",
        "mot-de-passe/nouveau/index.html",
    }
    assert relative == expected
    assert (output / "theme" / "css" / "portail.css").is_file()
    assert (output / "theme" / "css" / "print.css").is_file()
    assert (output / "theme" / "js" / "portail.js").is_file()
    # Served without their comments (portail/theme_assets.py, tests/test_theme_assets.py).
    assert "/*" not in (output / "theme" / "css" / "portail.css").read_text(encoding="utf-8")
    assert "\n// " not in (output / "theme" / "js" / "famille.js").read_text(encoding="utf-8")


def test_home_page_tells_what_the_portal_does(output, shipped_commune):
    page = (output / "index.html").read_text(encoding="utf-8")
    text = _text(page)
    assert shipped_commune.commune.name in text
    for task in ("Réserver la cantine et la garderie", "Déclarer une absence", "factures", "messages"):
        assert task in text
    assert 'href="/guide/reserver-et-annuler/"' in page and 'href="/guide/regles/"' in page
    assert "au plus tard 5 jours avant la date souhaitée (hors week-end), à 23 h 59" in text
    assert "Rentrée : ouverture des réservations en ligne" in text  # latest notices


def test_the_guides_rules_give_the_deadline_the_example_absences_and_plannings(output):
    text = _text((output / "guide" / "regles" / "index.html").read_text(encoding="utf-8"))
    assert "au plus tard 5 jours avant ce jour (hors week-end), à 23 h 59" in text
    assert f"Exemple : {EXAMPLE}." in text
    assert ("Autre exemple : pour le vendredi 12 décembre, au plus tard le vendredi "
            "5 décembre à 23 h 59.") in text
    assert "le premier jour est facturé" in text
    assert "certificat médical" in text
    assert "au plus tard le 20 de chaque mois pour le mois suivant" in text


def test_guide_page_gives_the_rules_the_example_and_the_services(output, shipped_commune):
    page = (output / "guide" / "reserver-et-annuler" / "index.html").read_text(encoding="utf-8")
    text = _text(page)
    assert EXAMPLE in text
    assert "hors week-end" in text
    assert "23 h 59" in text
    assert "Envoyer ma demande" in text and "Semaine type" in text  # the month page's labels
    assert len(shipped_commune.services) == 4
    for service in shipped_commune.services:
        assert f'<th scope="row">{service.label}</th>' in page
        assert service.description in text
    # Days and capacities come from commune.toml.
    assert "lundi, mardi, jeudi et vendredi, les jours d'école" in text
    assert "limité pour GARDERIE MIDI et RESTAURATION" in text
    guide = (output / "guide" / "index.html").read_text(encoding="utf-8")
    assert 'href="/guide/reserver-et-annuler/"' in guide


def test_the_guide_lists_its_pages_in_reading_order_and_each_leads_to_the_next(output):
    guide = (output / "guide" / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<li>\s*<a href="/guide/([^/"]+)/">', guide)
    assert links == GUIDE_PAGES
    for name, following in zip(GUIDE_PAGES, GUIDE_PAGES[1:], strict=False):
        page = (output / "guide" / name / "index.html").read_text(encoding="utf-8")
        assert f'<a href="/guide/{following}/" rel="next">' in page, name
    assert 'rel="next"' not in (output / "guide" / GUIDE_PAGES[-1] / "index.html").read_text(encoding="utf-8")


def test_the_guide_states_the_deadline_configured_in_commune_toml(tmp_path):
    """Three weekdays at 18:00 instead of five at 23:59: every sentence follows."""
    def three_days_at_six(data: dict) -> None:
        assert (data["booking"]["deadline_weekdays"], data["booking"]["deadline_time"]) == (5, "23:59")
        data["booking"].update(deadline_weekdays=3, deadline_time="18:00")

    (tmp_path / "commune.toml").write_text(commune_toml(three_days_at_six, SHIPPED_COMMUNE_FILE), encoding="utf-8")
    _build_at(tmp_path / "output", GUIDE_NOW, commune_file=tmp_path / "commune.toml")
    output = tmp_path / "output"
    rules = _text((output / "guide" / "regles" / "index.html").read_text(encoding="utf-8"))
    assert "au plus tard 3 jours avant ce jour (hors week-end), à 18 h" in rules
    assert "Exemple : pour le lundi 8 décembre, au plus tard le mercredi 3 décembre à 18 h." in rules
    booking = _text((output / "guide" / "reserver-et-annuler" / "index.html").read_text(encoding="utf-8"))
    assert "au plus tard 3 jours avant le jour souhaité, hors week-end, à 18 h" in booking
    home = _text((output / "index.html").read_text(encoding="utf-8"))
    assert "au plus tard 3 jours avant la date souhaitée (hors week-end), à 18 h" in home
    for path in _html_pages(output):
        text = _text(path.read_text(encoding="utf-8"))
        assert "23 h 59" not in text or "informations/" in str(path), path
        assert "5 jours" not in text, path


def test_an_unknown_figure_in_the_markdown_stops_the_build(tmp_path):
    content = _content_copy(tmp_path)
    (content / "guide" / "coquille.md").write_text(
        "Title: Coquille\n\nAu plus tard {{ dleai_jours }} avant.\n", encoding="utf-8")
    with pytest.raises(BuildError, match=r"coquille\.md.*dleai_jours"):
        _build_at(tmp_path / "output", GUIDE_NOW, content_dir=content)


def _content_copy(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    return content


def _notice(content: Path, name: str, title: str, date_line: str, expires: str | None = None) -> None:
    lines = [f"Title: {title}", f"Date: {date_line}"]
    if expires:
        lines.append(f"Expires: {expires}")
    (content / "notices" / f"{name}.md").write_text("\n".join(lines) + "\n\nTexte.\n", encoding="utf-8")


def _listed_notices(page: str) -> list[str]:
    return re.findall(r'href="/informations/([^/"]+)/"', page)


def test_a_notice_is_published_until_its_expires_date_then_left_out(tmp_path):
    content = _content_copy(tmp_path)
    _notice(content, "2014-11-20-fin-hier", "Fin hier", "2014-11-20 09:00", "2014-11-27")
    _notice(content, "2014-11-21-fin-ce-soir", "Fin ce soir", "2014-11-21 09:00", "2014-11-28")
    _notice(content, "2014-11-22-fin-ce-matin", "Fin ce matin", "2014-11-22 09:00", "2014-11-28 11:59")
    _notice(content, "2014-11-23-sans-fin", "Sans fin", "2014-11-23 09:00")
    output = tmp_path / "output"
    _build_at(output, GUIDE_NOW, content_dir=content, site_url="https://portail.example.fr", publish=True)

    shown = {"fin-ce-soir", "sans-fin", "vacances-de-noel", "rentree-reservations-en-ligne"}
    gone = {"fin-hier", "fin-ce-matin", "pont-du-10-novembre"}
    for name in shown:
        assert (output / "informations" / name / "index.html").is_file(), name
    for name in gone:
        assert not (output / "informations" / name).exists(), name
    listing = (output / "informations" / "index.html").read_text(encoding="utf-8")
    site_map = (output / "plan-du-site" / "index.html").read_text(encoding="utf-8")
    feed = (output / "informations" / "atom.xml").read_text(encoding="utf-8")
    home = (output / "index.html").read_text(encoding="utf-8")
    for page in (listing, site_map):
        assert set(_listed_notices(page)) == shown
    for name in gone:
        assert f"/informations/{name}/" not in feed + home

    # Built again before the first one ended (the portal's clock decides): all of them.
    _build_at(output, "2014-11-05T08:00:00+01:00", content_dir=content)
    assert (output / "informations" / "pont-du-10-novembre" / "index.html").is_file()


def test_a_wrong_expires_date_names_its_file(tmp_path):
    content = _content_copy(tmp_path)
    _notice(content, "2014-11-20-mauvaise-date", "Mauvaise date", "2014-11-20 09:00", "28/11/2014")
    with pytest.raises(BuildError, match=r"mauvaise-date\.md.*Expires.*28/11/2014"):
        _build_at(tmp_path / "output", GUIDE_NOW, content_dir=content)


def test_notices_are_listed_newest_first(tmp_path):
    content = _content_copy(tmp_path)
    # File names in another order than the dates: the dates decide.
    _notice(content, "2014-01-01-a-le-plus-recent", "Le plus récent", "2014-11-27 18:00")
    _notice(content, "2014-12-31-z-le-plus-ancien", "Le plus ancien", "2014-01-02 08:00")
    output = tmp_path / "output"
    _build_at(output, GUIDE_NOW, content_dir=content)
    expected = ["a-le-plus-recent", "vacances-de-noel", "rentree-reservations-en-ligne", "z-le-plus-ancien"]
    listing = (output / "informations" / "index.html").read_text(encoding="utf-8")
    assert _listed_notices(listing) == expected
    home = (output / "index.html").read_text(encoding="utf-8")
    assert _listed_notices(home) == expected[:3]
    assert '<time datetime="2014-11-27">jeudi 27 novembre 2014</time>' in listing


def test_the_notice_is_published_with_its_french_date(output):
    page = (output / "informations" / "rentree-reservations-en-ligne" / "index.html").read_text(
        encoding="utf-8"
    )
    assert "Rentrée : ouverture des réservations en ligne" in page
    assert '<time datetime="2014-08-25">lundi 25 août 2014</time>' in page
    listing = (output / "informations" / "index.html").read_text(encoding="utf-8")
    assert 'href="/informations/rentree-reservations-en-ligne/"' in listing


def test_every_page_extends_the_shared_layout(output, shipped_commune):
    for path in _html_pages(output):
        page = path.read_text(encoding="utf-8")
        assert page.startswith("<!doctype html>\n<html lang=\"fr\">"), path
        assert '<link rel="stylesheet" href="/theme/css/portail.css">' in page, path
        assert '<link rel="stylesheet" href="/theme/css/print.css" media="print">' in page, path
        assert f'<span class="marque-commune">{shipped_commune.commune.name}</span>' in page, path
        assert page.count("<h1>") == 1, path


def test_every_page_has_the_skip_link_and_the_footer_links(output):
    footer_links = [
        ("/mentions-legales/", "Mentions légales"),
        ("/donnees-personnelles/", "Données personnelles"),
        ("/accessibilite/", f"Accessibilité : {ACCESSIBILITY_STATUS}"),
        ("/plan-du-site/", "Plan du site"),
    ]
    assert [link for link in FOOTER_LINKS if link[0] != "/guide/"] == footer_links
    for path in _html_pages(output):
        page = path.read_text(encoding="utf-8")
        # The skip link comes first in <body> and leads to <main>.
        body = page.split("<body>", 1)[1].lstrip()
        assert body.startswith('<a class="lien-evitement" href="#contenu">Aller au contenu</a>'), path
        assert '<main id="contenu"' in page, path
        footer = page.split('<footer class="pied">', 1)[1]
        for href, label in footer_links:
            assert f'<a href="{href}">{label}</a>' in footer, (path, href)


def test_the_site_map_lists_every_public_page(output):
    site_map = (output / "plan-du-site" / "index.html").read_text(encoding="utf-8")
    listed = {link for link in _parse(output / "plan-du-site" / "index.html").links}
    for path in _html_pages(output):
        relative = path.relative_to(output).as_posix()
        if relative in ("403.html", "404.html"):  # answers, not pages to visit
            continue
        address = "/" + relative.removesuffix("index.html")
        assert address in listed, address
    assert '<a href="/donnees-personnelles/">Données personnelles</a>' in site_map


def test_the_guides_pictures_are_small_and_said_in_words(output):
    pictures = []
    for path in _html_pages(output):
        page = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<img [^>]*>", page):
            alt = re.search(r'alt="([^"]*)"', tag)
            src = re.search(r'src="([^"]*)"', tag).group(1)
            assert alt and len(alt.group(1).split()) >= 8, (path, tag)  # a sentence, not « image »
            pictures.append(src)
    assert pictures, "le guide n'a aucune image"
    for src in set(pictures):
        assert (output / src.lstrip("/")).stat().st_size < 80_000, src


def test_the_accessibility_statement_follows_the_rgaa_model(output, shipped_commune):
    page = (output / "accessibilite" / "index.html").read_text(encoding="utf-8")
    text = _text(page)
    assert re.search(r"<h1>Déclaration d(&#39;|')accessibilité</h1>", page)
    for heading in ("État de conformité", "Contenus non accessibles",
                    "Établissement de cette déclaration", "Retour d'information et contact",
                    "Voies de recours"):
        assert f">{heading}</h2>" in page.replace("&#39;", "'"), heading
    # The state said in the footer of every page is the statement's.
    assert f"Le Portail Famille est {ACCESSIBILITY_STATUS} avec le référentiel général" in text
    assert "RGAA), version 4.1" in text
    assert "axe-core" in text and "Aucun audit manuel complet n'a été fait." in text
    assert re.search(r"Cette déclaration a été établie le \d{1,2} \w+ 20\d\d\.", text)
    assert "article 47 de la loi n° 2005-102 du 11 février 2005" in text
    assert "Défenseur des droits" in text and "Libre réponse 71120" in text
    assert f'href="mailto:{shipped_commune.commune.contact_email}"' in page
    # Its tables are captioned and scroll inside a labelled region.
    assert page.count('role="region"') == page.count("<table>") == 2


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
            if link == "/api/session/renew?depuis=connexion":
                continue  # the function's, not a file: the login page's way home (docs/accounts.md)
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


def test_the_stylesheets_stay_local_and_accessible():
    css = (CSS / "portail.css").read_text(encoding="utf-8")
    printed = (CSS / "print.css").read_text(encoding="utf-8")
    for sheet in (css, printed):
        assert "@import" not in sheet
        assert "@font-face" not in sheet
        assert "http://" not in sheet.replace('a[href^="http"]', "")
        assert "https://" not in sheet
    assert ".lien-evitement" in css
    assert ":focus-visible" in css
    # Wide tables scroll in their own region, never the page.
    assert re.search(r"\.tableau \{[^}]*overflow-x: auto", css)


def _rule(css: str, selector: str) -> str:
    """The declarations of the first rule whose selector list holds `selector`."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        if selector in [part.strip() for part in selectors.split(",")]:
            return body
    raise AssertionError(f"{selector} : pas de règle")


def test_the_print_stylesheet_keeps_the_content_black_on_white():
    printed = (CSS / "print.css").read_text(encoding="utf-8")
    for hidden in (".menu", ".lien-evitement", "button", "input", ".semaine-type", ".mois-voisins"):
        assert "display: none" in _rule(printed, hidden), hidden
    assert "color: #000000" in _rule(printed, "*")
    assert "overflow: visible" in _rule(printed, ".tableau")
    assert "display: table-header-group" in _rule(printed, "thead")
    assert "page: paysage" in _rule(printed, ".tableau:has(.calendrier)")


def test_building_twice_leaves_no_stale_page(tmp_path):
    output = tmp_path / "output"
    _build_at(output, GUIDE_NOW)
    stale = output / "informations" / "ancienne" / "index.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("<p>supprimée</p>")
    _build_at(output, GUIDE_NOW)
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
        _build_at(output, GUIDE_NOW, site_url="https://portail.example.fr/", publish=True)
    assert caplog.records == []
    feed = (output / "informations" / "atom.xml").read_text(encoding="utf-8")
    assert "https://portail.example.fr/informations/rentree-reservations-en-ligne/" in feed
    home = (output / "index.html").read_text(encoding="utf-8")
    assert '<link rel="canonical" href="https://portail.example.fr/">' in home
    assert 'type="application/atom+xml"' in home


def test_french_dates_and_days():
    assert french_day(date(2014, 12, 1)) == "lundi 1er décembre 2014"
    assert french_day(date(2014, 12, 8), with_weekday=False) == "8 décembre 2014"
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


def test_the_403_page_says_why_and_leads_to_the_login_page(output):
    from chalicelib.sessions import ABSOLUTE_TIMEOUT, IDLE_TIMEOUT

    html = (output / "403.html").read_text(encoding="utf-8")
    assert 'href="/connexion/"' in html.split("<main", 1)[1]  # in the page, not only the menu
    text = _text(html)
    assert f"{IDLE_TIMEOUT.seconds // 60} minutes sans activité" in text
    assert f"{ABSOLUTE_TIMEOUT.seconds // 3600} heures après la connexion" in text


def test_no_public_page_says_a_colon_or_a_sentence_twice(output):
    """Every page of the public site (guide, notices, login, legal pages…):
    tests/page_words.py says what counts."""
    from tests import page_words

    pages = {str(page.relative_to(output)): page.read_text(encoding="utf-8") for page in _html_pages(output)}
    assert len(pages) > 15
    assert page_words.problems(pages) == []
