"""Pelican settings for the published site: pelicanconf.py plus the notices' Atom feed.

`build_site(output, site_url="https://…", publish=True)` builds with it; SITEURL must
then be the public https address: the feed's links are absolute (Pelican takes
FEED_DOMAIN from SITEURL).
"""

from pathlib import Path

from pelican.settings import get_settings_from_file

# pelicanconf.py read afresh (not a cached import): the same settings, then ours.
globals().update(get_settings_from_file(str(Path(__file__).with_name("pelicanconf.py"))))

FEED_ALL_ATOM = "informations/atom.xml"
FEED_MAX_ITEMS = 20
