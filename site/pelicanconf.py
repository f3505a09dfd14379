"""Pelican settings of the public site: guide, notices, legal pages (docs/architecture.md).

Built by `portail build` / `portail serve` through portail.build.build_site, which gives
OUTPUT_PATH (and SITEURL when asked); `pelican -s site/pelicanconf.py` works as well.
Staff write Markdown under content/: guide/ (pages of the parents' guide), notices/
(dated notices, file names `AAAA-MM-JJ-titre.md`) and pages/ (home, legal pages).
"""

import copy
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
# chalicelib (the commune's configuration, the shared layout) and the portail package.
for _path in (_ROOT / "functions", _ROOT):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))

from chalicelib import formatting, site_markdown  # noqa: E402
from chalicelib.clock import now as _clock_now  # noqa: E402
from chalicelib.config import get_commune  # noqa: E402
from chalicelib.layout import TEMPLATES_DIR, layout_globals  # noqa: E402

from portail import site_content, theme  # noqa: E402

_commune = get_commune()
# The build's clock: the portal's (PORTAIL_NOW freezes it, as `portail serve --now` does).
# Notices whose `Expires` has passed are left out; the guide's examples of deadlines are
# dated from it. Read once per build: this file is executed afresh for each one.
BUILD_NOW = _clock_now()
# The figures of commune.toml that the Markdown names as {{ delai_jours }} and so on
# (portail/site_content.py, docs/content.md).
BUILD_TEXTS = site_content.rule_texts(_commune, BUILD_NOW)

SITENAME = f"Portail Famille – {_commune.commune.name}"
# Canonical address (feeds, absolute links); the templates link root-relative, so the
# same build works on any host and port.
SITEURL = _commune.commune.site_url
RELATIVE_URLS = False
TIMEZONE = _commune.commune.timezone
DEFAULT_LANG = "fr"
# Dates are formatted by the `date_fr` filter (chalicelib.formatting, Babel), not by the system locale.
DEFAULT_DATE_FORMAT = "%Y-%m-%d"

PATH = str(_ROOT / "content")
OUTPUT_PATH = str(_ROOT / "output")
ARTICLE_PATHS = ["notices"]
PAGE_PATHS = ["pages", "guide"]
STATIC_PATHS = ["images", "documents"]
READERS = {"html": None, "htm": None}  # Markdown only

# The file name is the address: guide/reserver-et-annuler.md → /guide/reserver-et-annuler/;
# a notice's name starts with its date: notices/2014-08-25-rentree.md → /informations/rentree/.
SLUGIFY_SOURCE = "basename"
FILENAME_METADATA = r"(?P<date>\d{4}-\d{2}-\d{2})-(?P<slug>.*)"
DEFAULT_METADATA = {"section": ""}
EXTRA_PATH_METADATA = {"guide": {"section": "guide/", "template": "guide_page"}}

ARTICLE_URL = "informations/{slug}/"
ARTICLE_SAVE_AS = "informations/{slug}/index.html"
PAGE_URL = "{section}{slug}/"
PAGE_SAVE_AS = "{section}{slug}/index.html"
ARTICLE_ORDER_BY = "reversed-date"
PAGE_ORDER_BY = "basename"

# Direct templates: the notices list and the guide's table of contents. The home page is
# content/pages/accueil.md (saved as index.html).
DIRECT_TEMPLATES = ["index", "guide_index"]
INDEX_SAVE_AS = "informations/index.html"
INDEX_URL = "informations/"
GUIDE_INDEX_SAVE_AS = "guide/index.html"
GUIDE_INDEX_URL = "guide/"
DEFAULT_PAGINATION = False

# Nothing else is published: no categories, tags, authors, archives, translations;
# drafts are never written (a draft must not sit at a guessable address).
CATEGORY_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
TAG_SAVE_AS = ""
TAGS_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
ARTICLE_LANG_SAVE_AS = ""
PAGE_LANG_SAVE_AS = ""
DRAFT_SAVE_AS = ""
DRAFT_LANG_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""
DRAFT_PAGE_LANG_SAVE_AS = ""
DISPLAY_PAGES_ON_MENU = False
DISPLAY_CATEGORIES_ON_MENU = False

# Feeds: only publishconf.py publishes one (the notices).
FEED_ALL_ATOM = None
FEED_ALL_RSS = None
CATEGORY_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None

THEME = str(_ROOT / "site" / "theme")
THEME_STATIC_DIR = "theme"
# The shared layout (base.html) comes from the function's templates: public and
# family pages extend the same file.
THEME_TEMPLATES_OVERRIDES = [str(TEMPLATES_DIR)]
JINJA_GLOBALS = {
    "portail": layout_globals(_commune),
    "services": theme.services(_commune),
}
JINJA_FILTERS = {
    "date_fr": formatting.french_day,
    "join_fr": theme.join_fr,
    "guide_pages": theme.guide_pages,
    "in_order": theme.in_order,
}
# Escaped by default, as the family pages are: the shared layout behaves the same in
# both renderers. Content already in HTML (page.content, summaries) is marked |safe.
JINJA_ENVIRONMENT = {"trim_blocks": True, "lstrip_blocks": True, "autoescape": True}

# One configuration with the preview of /gestion/informations/ (chalicelib/site_markdown.py);
# a copy: Pelican's reader adds to the dict it is given.
MARKDOWN = copy.deepcopy(site_markdown.MARKDOWN)

# Figures from commune.toml in the Markdown; notices with an `Expires` date.
PLUGINS = ["portail.site_content"]
TYPOGRIFY = False
# portail.build empties the output itself (only a folder it built before).
DELETE_OUTPUT_DIRECTORY = False
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False
