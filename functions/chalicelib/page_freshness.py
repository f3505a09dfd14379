"""The family's pages brought up to the day when a parent logs in (docs/family-pages.md).

A family page is static: what changes with the date alone (« À la date du … » and the
balance of the dashboard, the days whose booking deadline has passed, the months shown, an
expired notice, an invoice whose date has come) changes only when the page is written
again. A parent can only open the pages with the cookies a login gives (a session lasts
12 hours at most, docs/accounts.md), so they are brought up to the day at the family's
first login of the day, before the login answers: the family read (one Query), every
page rendered, and only those whose content changed written (one ListObjectsV2 gives the
stored ETags, `FamilyPages.export_all`). A nightly re-export of every family did the same
for every family every night, whether anybody looked or not: 30 times the S3 requests
(docs/deployment.md, « Monthly cost »).

The day of the last refresh is `pages_day` on the family's PROFILE item (its day in the
commune's time zone), set once the pages are written: a refresh that fails is tried again
at the next login. Two logins at once may both refresh: the same pages, written twice at
worst.
"""

from __future__ import annotations

import logging
from datetime import datetime

from chalicelib.keys import PROFILE, family_pk

log = logging.getLogger("portail.pages")

PAGES_DAY = "pages_day"


def refresh_if_stale(storage, pages, family_number: str, now: datetime, tz) -> int | None:
    """Writes the family's pages changed since their last refresh when it was not today
    (`tz`: the commune's); returns how many were written (None: already up to the day,
    nothing read but the profile). `pages`: the FamilyPages, or a function giving it (made
    only when a refresh is due). A failure is logged and the login goes on: the parent sees
    the pages as last written (`calendrier.js` disables the days whose deadline has passed)."""
    today = now.astimezone(tz).date().isoformat()
    pk = family_pk(family_number)
    try:
        profile = storage.get(pk, PROFILE)
        if profile is None or profile.get(PAGES_DAY) == today:
            return None
        if callable(pages):
            pages = pages()
        report = pages.export_all(storage, now, states=[storage.family_state(family_number)])
        if report.failed:
            return report.pages
        storage.update_attributes(pk, PROFILE, {PAGES_DAY: today})
        return report.pages
    except Exception:  # noqa: BLE001 - the login must not fail for a page's refresh
        log.exception("family %s: pages not refreshed at login", family_number)
        return None
