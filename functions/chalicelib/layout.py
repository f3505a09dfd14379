"""The shared layout `templates/base.html`: where it lives and what it reads.

Two renderers extend that one file (docs/architecture.md): Pelican for the public pages
(site/pelicanconf.py puts TEMPLATES_DIR first through THEME_TEMPLATES_OVERRIDES) and
the function for the family pages. Both give the layout the same `portail` global,
built here, so the header, the menu and the footer never differ.

Only `base.html` sits at the top of TEMPLATES_DIR: Pelican looks there first for
every template, so a top-level `index.html` or `page.html` here would replace the public
site's own. The family pages' templates belong in a subfolder (`famille/`).
"""

from __future__ import annotations

import re
from pathlib import Path

from chalicelib.config import Commune

TEMPLATES_DIR = Path(__file__).with_name("templates")

# The public site's main menu: (address, label, key). A child template marks the
# current entry with `{% set nav_current = "<key>" %}`.
PUBLIC_MENU = (
    ("/", "Accueil", "accueil"),
    ("/guide/", "Guide des familles", "guide"),
    ("/informations/", "Informations", "informations"),
    ("/documents/", "Documents", "documents"),
    ("/connexion/", "Se connecter", "connexion"),
)
LEGAL_NOTICE_URL = "/mentions-legales/"
PRIVACY_URL = "/donnees-personnelles/"
ACCESSIBILITY_URL = "/accessibilite/"
SITE_MAP_URL = "/plan-du-site/"
STYLESHEET_URL = "/theme/css/portail.css"
PRINT_STYLESHEET_URL = "/theme/css/print.css"

# The RGAA's three states are « totalement conforme », « partiellement conforme » (at least
# half the criteria met, by an audit) and « non conforme », which the RGAA also requires
# while no valid audit exists. No audit has been made yet: change this (and the
# statement, content/pages/accessibilite.md) when one is.
ACCESSIBILITY_STATUS = "non conforme"

# Every page's footer (RGAA: the statement and its state are reachable from every page).
FOOTER_LINKS = (
    (LEGAL_NOTICE_URL, "Mentions légales"),
    (PRIVACY_URL, "Données personnelles"),
    (ACCESSIBILITY_URL, f"Accessibilité : {ACCESSIBILITY_STATUS}"),
    (SITE_MAP_URL, "Plan du site"),
    ("/guide/", "Aide : guide des familles"),
)


def phone_uri(phone: str) -> str:
    """`tel:` address of a French number written for people: 01 60 44 00 00 → tel:+33160440000."""
    digits = re.sub(r"[^\d+]", "", phone)
    if re.fullmatch(r"0\d{9}", digits):
        digits = "+33" + digits[1:]
    return f"tel:{digits}" if digits else ""


def layout_globals(commune: Commune) -> dict:
    """The `portail` global that templates/base.html reads."""
    info = commune.commune
    return {
        "commune": info.name,
        "contact_email": info.contact_email,
        "contact_phone": info.contact_phone,
        "contact_phone_uri": phone_uri(info.contact_phone),
        "menu": PUBLIC_MENU,
        "legal_notice_url": LEGAL_NOTICE_URL,
        "footer_links": FOOTER_LINKS,
        "accessibility_status": ACCESSIBILITY_STATUS,
        "stylesheet_url": STYLESHEET_URL,
        "print_stylesheet_url": PRINT_STYLESHEET_URL,
    }
