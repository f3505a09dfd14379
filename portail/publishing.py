"""The publishing code: the public site built by Pelican from the stored content
(chalicelib/site_store.py), then the NOTICES item and the family dashboards
(docs/content.md). The same code runs

- in AWS, in the stack's publishing function (portail/publishing_function.py, packaged
  with Pelican by portail/deploy_publishing.py), writing the site bucket;
- locally, on the jobs' background thread of `portail serve` (`install_local`), writing
  the folder the local server serves.

`content/` seeds an empty store (`seed`): the guide's pages and the notices of the
repository are a new commune's first content; content/pages/, the images and the
theme stay in the repository and are packaged with the publishing code.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from chalicelib import publishing
from chalicelib.pages import NOTICES_PK, NOTICES_SK
from chalicelib.site_store import GUIDE, NOTICE, PUBLISHING, SiteStore, file_name, file_text
from chalicelib.storage import Storage

ROOT = Path(__file__).resolve().parents[1]
CONTENT_DIR = ROOT / "content"
STORED_FOLDERS = ("guide", "notices")  # what the store holds; the rest of content/ is copied

log = logging.getLogger("portail.publishing")


# --- content/ as a new commune's first content --------------------------------------------------------

def content_pages(directory: Path = CONTENT_DIR) -> list[dict]:
    """The guide's pages and the notices of `directory`, as the store keeps them."""
    from portail.notices import _FILENAME, _split

    pages = []
    for kind, folder in ((GUIDE, "guide"), (NOTICE, "notices")):
        for path in sorted((Path(directory) / folder).glob("*.md")):
            metadata, body = _split(path.read_text(encoding="utf-8"))
            slug = path.stem
            if kind == NOTICE:
                named = _FILENAME.fullmatch(path.stem)
                slug = metadata.pop("slug", None) or (named.group("slug") if named else path.stem)
                if "date" not in metadata and named:
                    metadata["date"] = named.group("date")
            title = metadata.pop("title", slug)
            pages.append({"kind": kind, "slug": slug, "title": title, "body": body.strip("\n"), "meta": metadata})
    return pages


def seed(storage: Storage, now: datetime, directory: Path = CONTENT_DIR) -> int:
    """content/'s guide and notices into an empty store; returns how many pages (0: not empty)."""
    return SiteStore(storage).seed(content_pages(directory), now)


# --- building ---------------------------------------------------------------------------------------

def write_content(pages: list[dict], target: Path, source: Path = CONTENT_DIR,
                  extra: dict[str, str] | None = None) -> None:
    """A content folder for Pelican: `source` without its guide and notices, the stored
    pages, and `extra` files ({path under content/: text}, the stored ones replace them)."""
    shutil.copytree(source, target, ignore=lambda folder, names: [
        n for n in names if Path(folder) == Path(source) and n in STORED_FOLDERS])
    for page in pages:
        path = target / file_name(page)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file_text(page), encoding="utf-8")
    for name, text in (extra or {}).items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text, encoding="utf-8")


def stored_files(storage: Storage) -> dict[str, str]:
    """The pages the table writes besides the guide and notices: « Documents », the
    commune's published documents (chalicelib.commune_documents, docs/family-documents.md)."""
    from chalicelib import commune_documents

    return {"pages/documents.md": commune_documents.markdown_page(commune_documents.listed(storage))}


def build_stored_site(pages: list[dict], output: Path, *, site_url: str | None, publish: bool = False,
                      work: Path, extra: dict[str, str] | None = None) -> int:
    """Pelican's build of the stored pages into `output`; returns the HTML pages written."""
    from portail.build import build_site

    content = work / "content"
    write_content(pages, content, extra=extra)
    return build_site(output, site_url=site_url, publish=publish, content_dir=content)


def sync_folder(built: Path, served: Path) -> int:
    """Puts a new build in the folder a server serves while it serves it: each file
    replaced at once (os.replace), then the files the build no longer has removed."""
    from portail.build import MARKER

    served.mkdir(parents=True, exist_ok=True)
    kept = set()
    for path in built.rglob("*"):
        if path.is_file():
            relative = path.relative_to(built)
            kept.add(relative)
            target = served / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.nouveau")
            shutil.copyfile(path, temporary)
            os.replace(temporary, target)
    removed = 0
    for path in sorted(served.rglob("*"), reverse=True):
        relative = path.relative_to(served)
        if path.is_file() and relative not in kept and relative.name != MARKER:
            path.unlink()
            removed += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return removed


def publish_stored(storage: Storage, now: datetime, write_site: Callable[[Path], None], *,
                   site_url: str | None, publish: bool = False) -> int | None:
    """One publication: the latest stored content built by Pelican, `write_site(folder)`
    puts it online, the NOTICES item is written, then the dashboards' job is started.
    Returns the publication's number, or None when a later run already covered it."""
    from chalicelib.config import get_commune

    from portail.notices import store_notices

    store = SiteStore(storage)
    state = store.state()
    target = int(state.get("requested", 0))
    if target and int(state.get("built", 0)) >= target:
        return None  # a queued request a previous run already built
    pages = [item for item in store.pages() if item["sk"] != PUBLISHING]
    with tempfile.TemporaryDirectory(prefix="portail-publication-") as work:
        work = Path(work)
        try:
            build_stored_site(pages, work / "site", site_url=site_url, publish=publish, work=work,
                              extra=stored_files(storage))
        except Exception as error:
            store.mark_failed(str(error)[:1000], now)
            raise
        write_site(work / "site")
        before = (storage.get(NOTICES_PK, NOTICES_SK) or {}).get("notices")
        store_notices(storage, get_commune(), now, work / "content" / "notices")
        after = (storage.get(NOTICES_PK, NOTICES_SK) or {}).get("notices")
    store.mark("built", target, now)
    if after == before:  # a guide page, or a notice's text only: the dashboards show the same
        store.mark("published", target, now)
    else:
        publishing.dashboards_after(target)
    return target


# --- locally: a job of `portail serve` ----------------------------------------------------------------

def install_local(served: Path, site_url: str) -> None:
    """Registers the publication job `portail serve` runs on its jobs' thread."""
    from chalicelib import jobs
    from chalicelib.clock import now as clock_now
    from chalicelib.dependencies import storage

    def run(payload: dict) -> None:
        publish_stored(storage(), clock_now(), lambda built: sync_folder(built, Path(served)), site_url=site_url)

    jobs.register(publishing.PUBLISH_JOB, run)
