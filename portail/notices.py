"""The notices for all parents (content/notices/*.md), as the family dashboards show them.

Pelican publishes each notice on the public site (/informations/<slug>/); the family
pages, rendered by the function, cannot read content/. So at `portail build` and
`portail serve` time their metadata (title, date, expiry, summary, address) is stored in
the table as ONE item, `NOTICES`/`CURRENT` (docs/data-model.md), which every family
export reads once and filters by its clock: a notice past its `Expires` is not rendered,
and disappears from the dashboards at the next nightly export.

Same rules as the public site (portail/site_content.py): `Expires: AAAA-MM-JJ` keeps a
notice up to that day included (`AAAA-MM-JJ HH:MM`: that minute), drafts are left out,
the figures of commune.toml (`{{ delai_jours }}` …) are filled in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from chalicelib.config import Commune
from chalicelib.pages import NOTICES_PK, NOTICES_SK
from chalicelib.storage import Storage

from portail import site_content

NOTICES_DIR = Path(__file__).resolve().parents[1] / "content" / "notices"
# The item holds the most recent notices not yet expired: enough for any dashboard
# (which shows 5), and the item stays far below DynamoDB's 400 KB.
NOTICES_KEPT = 50
SUMMARY_LENGTH = 240
_FILENAME = re.compile(r"(?P<date>\d{4}-\d{2}-\d{2})-(?P<slug>.*)")
_METADATA = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):\s*(.*)$")


class NoticeError(Exception):
    """A notice that cannot be read as written (French message naming the file)."""


def _split(text: str) -> tuple[dict[str, str], str]:
    """Pelican's Markdown metadata (`Key: value` lines up to the first blank line) and the body."""
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    metadata: dict[str, str] = {}
    last = None
    for line in head.split("\n"):
        match = _METADATA.match(line)
        if match:
            last = match.group(1).lower()
            metadata[last] = match.group(2).strip()
        elif last and line[:1] in (" ", "\t"):
            metadata[last] += " " + line.strip()
        else:
            return {}, text  # no metadata block: the whole file is the body
    return metadata, body


def _plain(markdown_text: str) -> str:
    """The first paragraph as plain text: the summary when a notice gives none."""
    paragraph = next((p for p in re.split(r"\n\s*\n", markdown_text.strip()) if p.strip()), "")
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", paragraph)
    text = re.sub(r"[*_`#>]+", "", text)
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_LENGTH else text[:SUMMARY_LENGTH].rsplit(" ", 1)[0] + "…"


def read_notice(path: Path, commune: Commune, texts: dict[str, str]) -> dict | None:
    """One notice's metadata, or None for a draft (or a hidden one)."""
    metadata, body = _split(path.read_text(encoding="utf-8"))
    if metadata.get("status", "published").lower() in ("draft", "hidden"):
        return None
    name = _FILENAME.fullmatch(path.stem)
    title = metadata.get("title", "").strip()
    if not title:
        raise NoticeError(f"{path.name} : la ligne « Title: … » manque.")
    raw_date = metadata.get("date") or (name.group("date") if name else "")
    try:
        published = datetime.fromisoformat(raw_date.strip()) if raw_date else None
    except ValueError:
        published = None
    if published is None:
        raise NoticeError(f"{path.name} : « Date: {raw_date} » n'est pas une date AAAA-MM-JJ (ou AAAA-MM-JJ HH:MM).")
    try:
        expires = site_content.expires_at(metadata.get("expires"), commune.tz)
    except ValueError as error:
        raise NoticeError(f"{path.name} : {error}") from None
    slug = metadata.get("slug") or (name.group("slug") if name else path.stem)
    summary = metadata.get("summary") or metadata.get("description") or _plain(body)
    source = f"notices/{path.name}"
    return {
        "title": site_content.fill(title, texts, source),
        "date": published.date().isoformat(),
        "expires": expires.astimezone(UTC).isoformat() if expires else None,
        "summary": site_content.fill(summary, texts, source),
        "url": f"/informations/{slug}/",
    }


def read_notices(commune: Commune, now: datetime, directory: Path = NOTICES_DIR) -> list[dict]:
    """The notices not expired at `now`, the most recent first (at most NOTICES_KEPT)."""
    texts = site_content.rule_texts(commune, now)
    notices = []
    for path in sorted(Path(directory).glob("*.md")):
        notice = read_notice(path, commune, texts)
        if notice and not (notice["expires"] and datetime.fromisoformat(notice["expires"]) < now):
            notices.append(notice)
    notices.sort(key=lambda n: (n["date"], n["title"]), reverse=True)
    return notices[:NOTICES_KEPT]


def store_notices(storage: Storage, commune: Commune, now: datetime, directory: Path = NOTICES_DIR) -> int:
    """Writes the NOTICES item (replacing the previous list); returns how many notices."""
    from chalicelib import commune_documents

    notices = read_notices(commune, now, directory)
    count = len(notices)
    # The commune's published documents ride along (kind « document »): the dashboards show
    # them during their period (docs/family-documents.md).
    notices += commune_documents.notice_entries(commune_documents.listed(storage), commune.tz)
    storage.put({"pk": NOTICES_PK, "sk": NOTICES_SK, "kind": "notices",
                 "notices": [{k: v for k, v in n.items() if v is not None} for n in notices],
                 "stored_at": now})
    return count
