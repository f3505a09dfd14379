"""The family pages export: a family's state read (one Query), its pages rendered
(chalicelib.pages.render) and written to the private pages bucket under
`famille/<page key>/`; CloudFront serves them behind the signed cookies (docs/architecture.md).
Each subscribed responsable's calendar feed (chalicelib.calendar_feed) is written with
them, to `agenda/<feed key>.ics`, whenever the month pages are (the page name `agenda`).

The I/O of the pages lives here: the state and the notices read from the table, the
pages written to S3 (only those whose ETag changed, by threads, in `export_all`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.config import Commune
from chalicelib.pages.names import FEED
from chalicelib.pages.nightly import in_slice
from chalicelib.pages.responsables import PERSONAL_PAGES, account_views, retarget
from chalicelib.storage import FamilyState, Storage

log = logging.getLogger("portail.pages")

# Private pages: a browser may keep them for the back button, never a shared cache.
PAGE_CACHE_CONTROL = "private, no-cache"
# Concurrent S3 PUTs of `export_all` (boto3 clients are thread-safe).
UPLOAD_THREADS = 8


def page_etag(html: str) -> str:
    """The ETag S3 gives a page stored in one PUT (SSE-S3): the MD5 of its bytes, quoted."""
    return _etag_of(html.encode("utf-8"))


def _etag_of(body: bytes) -> str:
    return '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'


def personal_path(path: str) -> bool:
    """Whether a page's path (under famille/<key>/) is one of a responsable's own pages
    (pages.responsables.PERSONAL_PAGES: the dashboard, compte/, factures/, reglements/, releve/)."""
    return path == "index.html" or path.split("/", 1)[0] in ("compte", "factures", "reglements", "releve")


@dataclass
class ExportReport:
    families: int = 0
    pages: int = 0  # pages written
    unchanged: int = 0  # pages rendered the same as the stored ones, not written again
    failed: list[str] = field(default_factory=list)


@dataclass
class _LazyState:
    """A family read when its turn comes (one Query), so that a failing read is that
    family's failure only, and memory holds one family at a time."""

    storage: Storage
    number: str

    def read(self) -> FamilyState:
        return self.storage.family_state(self.number)


class FamilyPages:
    """Exports families' pages to `bucket`. `s3_client`: an S3 client, or a function that
    makes one when the first page is written (the function's cold start builds the
    exporter without it: chalicelib/dependencies.py). `frozen`: the portal's clock is frozen
    (`portail serve --now`): the edge that builds the exporter says so (`clock.is_frozen()`)."""

    def __init__(self, s3_client, bucket: str, commune: Commune, secret: str, *, frozen: bool = False,
                 site_url: str | None = None):
        self._s3 = s3_client
        self.bucket = bucket
        self.commune = commune
        # The portal's address, which the calendar feeds link to (the stage's, else commune.toml's).
        self.site_url = (site_url or commune.commune.site_url).rstrip("/")
        self._renderer_options = (secret, frozen)
        self._renderer = None

    @property
    def renderer(self):
        """The pages' renderer (chalicelib.pages.render and the view models, about 15 ms of
        imports), loaded by the first page rendered rather than on the function's cold start."""
        if self._renderer is None:
            from chalicelib.pages.render import PageRenderer

            secret, frozen = self._renderer_options
            self._renderer = PageRenderer(self.commune, secret, frozen=frozen, site_url=self.site_url)
        return self._renderer

    @property
    def s3(self):
        if callable(self._s3):  # a boto3 client is not callable: a factory, called once
            self._s3 = self._s3()
        return self._s3

    def render(self, state: FamilyState, rank: int, now: datetime, only: list[str] | None = None,
               notices: list[dict] | None = None) -> dict[str, str]:
        """{path under famille/<key>/: HTML} (PageRenderer.render), nothing written."""
        return self.renderer.render(state, rank, now, only, notices)

    def render_views(self, state: FamilyState, now: datetime, only: list[str] | None = None,
                     notices: list[dict] | None = None) -> dict[str, dict[str, str]]:
        """{page key: {path: HTML}}: the pages of each folder of the family (one, or one
        per responsable: pages.responsables). Each folder's personal pages are rendered
        for it; the shared ones are rendered once and copied into the other folders
        (`retarget`), so a booking renders as many pages with two folders as with one."""
        views = account_views(state)
        first = views[0]
        rendered = {first.page_key: self.renderer.render(state, first.rank, now, only, notices, view=first)}
        if len(views) == 1:
            return rendered
        personal = [name for name in PERSONAL_PAGES if only is None or name in only]
        shared = {path: html for path, html in rendered[first.page_key].items() if not personal_path(path)}
        for view in views[1:]:
            own = self.renderer.render(state, view.rank, now, personal, notices, view=view) if personal else {}
            secret = self.renderer.secret
            rendered[view.page_key] = {**{path: retarget(html, secret, first, view) for path, html in shared.items()},
                                       **own}
        return rendered

    def publish(self, page_key: str, pages: dict[str, str]) -> None:
        for path, html in pages.items():
            self._put(page_key, path, html)

    def _put(self, page_key: str, path: str, html: str) -> None:
        self.s3.put_object(
            Bucket=self.bucket, Key=f"famille/{page_key}/{path}", Body=html.encode("utf-8"),
            ContentType="text/html; charset=utf-8", CacheControl=PAGE_CACHE_CONTROL,
        )

    def feeds(self, state: FamilyState, now: datetime) -> dict[str, bytes]:
        """{object key: iCalendar bytes} of the family's subscribed responsables' feeds
        (`AGENDA#<rank>` items with a `feed_key`): one rendering, the children being theirs
        in common; {} when nobody subscribed (and `icalendar` is not even imported)."""
        keys = [str(a["feed_key"]) for a in state.agendas if a.get("feed_key")]
        if not keys:
            return {}
        from chalicelib.calendar_feed import feed_object_key, render_feed

        body = render_feed(state, self.commune, now.astimezone(self.commune.tz).date(), self.site_url)
        return {feed_object_key(key): body for key in keys}

    def _put_feed(self, key: str, body: bytes) -> None:
        from chalicelib.calendar_feed import FEED_CACHE_CONTROL, FEED_CONTENT_TYPE

        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=FEED_CONTENT_TYPE,
                           CacheControl=FEED_CACHE_CONTROL)

    def delete_feed(self, feed_key: str) -> None:
        """A revoked feed's file removed: its address answers 404 from then on."""
        from chalicelib.calendar_feed import feed_object_key

        self.s3.delete_object(Bucket=self.bucket, Key=feed_object_key(feed_key))

    def _stored_feed_etag(self, key: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            return self.s3.head_object(Bucket=self.bucket, Key=key)["ETag"]
        except ClientError as error:
            # Without s3:ListBucket on `agenda/` S3 answers a missing object's HEAD with 403.
            if error.response.get("Error", {}).get("Code") in ("403", "404", "NoSuchKey", "NotFound"):
                return None
            raise

    def _stored_etags(self, page_key: str) -> dict[str, str]:
        """{path under the family's folder: ETag} of its stored pages."""
        prefix = f"famille/{page_key}/"
        etags = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                etags[entry["Key"][len(prefix):]] = entry["ETag"]
        return etags

    def all_stored_etags(self) -> dict[str, dict[str, str]]:
        """{page key: {path: ETag}} of every family folder's stored pages: one paginated
        ListObjectsV2 of `famille/` (1,000 keys a request), for an export of every family
        (`export_all(stored_etags=…)`): 57 requests for 3,000 families instead of 3,000."""
        etags: dict[str, dict[str, str]] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix="famille/"):
            for entry in page.get("Contents", []):
                page_key, _, path = entry["Key"].removeprefix("famille/").partition("/")
                etags.setdefault(page_key, {})[path] = entry["ETag"]
        return etags

    def notices(self, storage: Storage, now: datetime) -> list[dict]:
        """The notices for all parents current at `now`: one GetItem."""
        from chalicelib.pages.account import NOTICES_PK, NOTICES_SK, current_notices

        return current_notices(storage.get(NOTICES_PK, NOTICES_SK), now)

    def export(self, storage: Storage, family_number: str, now: datetime, only: list[str] | None = None,
               *, state: FamilyState | None = None) -> int:
        """Re-renders a family's pages (all, or `only` those named); returns how many.
        `state`: the family's state when the caller has just read it (saves the Query)."""
        if only is not None and not only:
            return 0
        if state is None:
            state = storage.family_state(family_number)
        notices = self.notices(storage, now) if only is None or "accueil" in only else None
        return self.export_state(state, now, only, notices)

    def export_state(self, state: FamilyState, now: datetime, only: list[str] | None = None,
                     notices: list[dict] | None = None) -> int:
        """Renders and writes the pages of a family state already read."""
        if state.profile is None:
            return 0
        written = 0
        for page_key, pages in self.render_views(state, now, only, notices).items():
            self.publish(page_key, pages)
            written += len(pages)
        feeds = self.feeds(state, now) if only is None or FEED in only else {}
        for key, body in feeds.items():
            self._put_feed(key, body)
        return written + len(feeds)

    def export_all(self, storage: Storage, now: datetime, states: Iterable[FamilyState] | None = None,
                   family_slice: tuple[int, int] | None = None, visit=None,
                   stored_etags: dict[str, dict[str, str]] | None = None) -> ExportReport:
        """Every family's pages (the nightly run, `portail build --families`): the notices
        are read once; the families one Query each (`storage.family_numbers()`), unless
        `states` are given (the command line reads them all from one Scan). A family that
        fails is logged and counted; the others are exported all the same.

        S3 answers a PUT in tens of milliseconds and a family has about twenty pages: a
        family's pages are uploaded by UPLOAD_THREADS threads while the next family is
        read and rendered. Only the pages whose content changed are written: one
        ListObjectsV2 of the family's folder gives the stored pages' ETags (a night
        changes the dashboard's date and the months whose deadlines passed, not the
        twenty pages; a PUT costs as much as the LIST). `family_slice` = (index, count) exports
        only the families of that slice (the nightly run's invocations, `in_slice`).
        `visit(state)` is called with each family's state once read (the nightly run's
        reminders, chalicelib/reminders.py: no second Query); its failure is logged, and
        the pages are exported all the same. `stored_etags`: every folder's stored pages
        (`all_stored_etags()`, read once by a caller exporting every family: `portail build
        --families`) instead of one ListObjectsV2 per family; a folder absent has none."""
        from concurrent.futures import ThreadPoolExecutor

        report = ExportReport()
        notices = self.notices(storage, now)
        if states is None:
            states = (_LazyState(storage, number) for number in storage.family_numbers()
                      if family_slice is None or in_slice(number, *family_slice))

        def failed(number) -> None:
            log.exception("family %s: pages not exported", number)
            report.failed.append(str(number))

        def settle(number, futures) -> None:
            try:
                for future in futures:
                    future.result()
            except Exception:  # noqa: BLE001 - one family must not stop the others' export
                failed(number)
                return
            report.pages += len(futures)
            report.families += 1

        pending = None
        with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
            for state in states:
                number = state.number if isinstance(state, _LazyState) else (state.profile or {}).get("family_number")
                try:
                    if isinstance(state, _LazyState):
                        state = state.read()
                    if state.profile is None:
                        continue
                    folders = self.render_views(state, now, None, notices)
                except Exception:  # noqa: BLE001 - one family must not stop the others' export
                    failed(number)
                    continue
                if visit is not None:
                    try:
                        visit(state)
                    except Exception:  # noqa: BLE001 - the pages are exported all the same
                        log.exception("family %s: nightly visit failed", number)
                try:
                    stored = {key: self._stored_etags(key) if stored_etags is None else stored_etags.get(key, {})
                              for key in folders}
                    feeds = self.feeds(state, now)
                    # A feed lies outside the family's folders: its own HEAD (subscribers only).
                    feeds = {name: body for name, body in feeds.items()
                             if self._stored_feed_etag(name) != _etag_of(body)}
                except Exception:  # noqa: BLE001 - one family must not stop the others' export
                    failed(number)
                    continue
                futures = []
                for key, pages in folders.items():
                    changed = {path: html for path, html in pages.items() if stored[key].get(path) != page_etag(html)}
                    report.unchanged += len(pages) - len(changed)
                    futures += [pool.submit(self._put, key, path, html) for path, html in changed.items()]
                futures += [pool.submit(self._put_feed, name, body) for name, body in feeds.items()]
                if pending:
                    settle(*pending)
                pending = (number, futures)
            if pending:
                settle(*pending)
        return report
