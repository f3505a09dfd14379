"""The commune's documents (docs/family-documents.md): the règlement intérieur, the
registration form, the canteen menus of the month… each a PDF or an image with a title
and a period, published by staff from `/gestion/documents/`.

Staff never send a file through the function either: the form (title, kind, period,
type) answers a page holding a presigned S3 POST (chalicelib.documents: type and size
fixed by the policy) whose file goes to the documents bucket under
`commune/<128 random bits>.<ext>`; S3 sends the browser back to the function, which looks
for the file (one HEAD) and publishes the document: the item `COMMUNEDOCS` / `DOC#<id>`
moves from `awaited` to `published` in the same transaction that asks for a publication of
the public site (chalicelib.site_store). The publication writes the public page
« Documents » (`/documents/`, `markdown_page`) and puts the published documents in the
NOTICES item (`notice_entries`), which the family dashboards read: a document shows
there from the first to the last day of its period. A published document's file is
opened through `GET /api/documents/commune/<id>` (a presigned GET, shown inline).

The rules (`parse_fields`, `notice_entries`, `markdown_page`) are pure.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from chalicelib.documents import CONTENT_TYPES, DocumentError, check_file
from chalicelib.refusals import Refusal

PK = "COMMUNEDOCS"
KEY_PREFIX = "commune"
AWAITED, PUBLISHED = "awaited", "published"
# The kinds staff choose from, in the public page's order.
CATEGORIES = {
    "menu": "Menus de la cantine",
    "reglement": "Règlement intérieur",
    "inscription": "Fiche d'inscription",
    "autre": "Autres documents",
}
TYPE_WORDS = {"application/pdf": "PDF", "image/jpeg": "image JPEG", "image/png": "image PNG"}
BAD_FILE_MESSAGE = "Le document doit être un fichier PDF, JPEG ou PNG de 5 Mo au plus."
_ID = re.compile(r"[0-9a-f]{16}")
PUBLIC_URL = "/api/documents/commune/{}"


@dataclass(frozen=True)
class Fields:
    title: str
    category: str
    starts: date
    ends: date
    content_type: str


def parse_fields(title: str, category: str, starts: str, ends: str, content_type: str) -> Fields:
    """The publication form checked, or a French 400 (nothing is written before)."""
    title = " ".join((title or "").split())
    if not 3 <= len(title) <= 120:
        raise Refusal(400, "invalid_title", "Indiquez un titre de 3 à 120 caractères (par exemple « Menus de décembre »).")
    if category not in CATEGORIES:
        raise Refusal(400, "invalid_category", "Choisissez le genre du document dans la liste.")
    days = []
    for text, word in ((starts, "du"), (ends, "au")):
        try:
            days.append(date.fromisoformat((text or "").strip()))
        except ValueError:
            raise Refusal(400, "invalid_date", f"Date « {word} » illisible : AAAA-MM-JJ, par exemple 2014-12-01.") \
                from None
    if days[1] < days[0]:
        raise Refusal(400, "invalid_range", "La fin de la période précède son début.")
    canonical = check_file(content_type, None, size_known=False, message=BAD_FILE_MESSAGE)
    return Fields(title, category, days[0], days[1], canonical)


def period_words(item: dict) -> str:
    from chalicelib.formatting import short_date

    return f"du {short_date(item['starts'])} au {short_date(item['ends'])}"


def notice_entries(items: list[dict], tz) -> list[dict]:
    """The published documents as entries of the NOTICES item (kind « document »): shown on
    the family dashboards from the first instant of their period to its last
    (chalicelib.pages.account.current_notices)."""
    entries = []
    for item in items:
        if item.get("state") != PUBLISHED:
            continue
        starts = datetime.combine(date.fromisoformat(item["starts"]), time(0, 0), tz)
        ends = datetime.combine(date.fromisoformat(item["ends"]), time(23, 59, 59), tz)
        entries.append({"kind": "document", "title": item["title"], "url": PUBLIC_URL.format(item["document_id"]),
                        "summary": f"{TYPE_WORDS.get(item.get('content_type'), 'fichier')}, {period_words(item)}",
                        "date": item["starts"], "starts": starts.isoformat(), "expires": ends.isoformat()})
    return entries


def _markdown_text(text: str) -> str:
    """A staff title as literal Markdown text: no link, emphasis or HTML; its braces as
    entities, never a figure the build fills in (`{{ commune }}`, portail/site_content.py)."""
    escaped = re.sub(r"([\\`*_\[\]()#+!|<>~-])", r"\\\1", text)
    return escaped.replace("{", "&#123;").replace("}", "&#125;")


def markdown_page(items: list[dict]) -> str:
    """The public page « Documents » (content/pages/documents.md, written by each
    publication): the published documents by kind, the most recent period first."""
    lines = ["Title: Documents", "Slug: documents", "Order: 5",
             "Description: Les documents de la commune : règlement intérieur, fiche d'inscription, menus "
             "de la cantine.", "",
             "Les documents du service Enfance de la commune. Les documents que vous devez fournir "
             "(attestation de quotient familial, assurance scolaire…) s'envoient depuis votre espace "
             "famille, page « Infos./Documents », après la [connexion](/connexion/).", ""]
    published = [i for i in items if i.get("state") == PUBLISHED]
    if not published:
        lines.append("Aucun document n'est publié pour le moment.")
    for category, heading in CATEGORIES.items():
        mine = sorted((i for i in published if i.get("category") == category), key=lambda i: i["starts"], reverse=True)
        if not mine:
            continue
        lines += [f"## {heading}", ""]
        for item in mine:
            kind = TYPE_WORDS.get(item.get("content_type"), "fichier")
            lines.append(f"- [{_markdown_text(item['title'])}]({PUBLIC_URL.format(item['document_id'])}) "
                         f"({kind}, {period_words(item)})")
        lines.append("")
    return "\n".join(lines) + "\n"


# --- I/O -----------------------------------------------------------------------------------------

def listed(storage) -> list[dict]:
    """Every document of the commune (one Query of its partition), the latest period first."""
    return sorted(storage.query_partition(PK, "DOC#"), key=lambda i: (i.get("starts", ""), i["sk"]), reverse=True)


def find(storage, identifier: str) -> dict:
    item = storage.get(PK, f"DOC#{identifier}") if isinstance(identifier, str) and _ID.fullmatch(identifier) else None
    if item is None:
        raise DocumentError(404, "not_found", "Ce document de la commune est introuvable.")
    return item


def prepare(storage, documents, fields: Fields, actor: str, now: datetime, redirect) -> dict:
    """The awaited item and a presigned POST of its file (`redirect`: a function of the id
    giving S3's redirect back to the function). Returns the upload with `document_id`."""
    from chalicelib.documents import FORM_EXPIRES_IN

    identifier = secrets.token_hex(8)
    key = f"{KEY_PREFIX}/{secrets.token_hex(16)}.{CONTENT_TYPES[fields.content_type]}"
    upload = documents.presigned_upload(key, fields.content_type, redirect=redirect(identifier),
                                        expires_in=FORM_EXPIRES_IN)
    storage.put({"pk": PK, "sk": f"DOC#{identifier}", "kind": "commune_document", "document_id": identifier,
                 "title": fields.title, "category": fields.category, "starts": fields.starts.isoformat(),
                 "ends": fields.ends.isoformat(), "content_type": fields.content_type, "document_key": key,
                 "state": AWAITED, "recorded_at": now.astimezone(UTC).isoformat(), "recorded_by": actor})
    return {**upload, "document_id": identifier}


def publish(storage, documents, identifier: str, actor: str, now: datetime) -> tuple[dict, int | None]:
    """The file came back: once it is in the bucket (one HEAD), the document is published
    and a publication of the site asked for, in one transaction. Returns (the item, the
    publication's number, None when nothing changed: no file yet, or already published)."""
    from chalicelib.site_store import SiteStore

    item = find(storage, identifier)
    if item.get("state") == PUBLISHED or not documents.has_object(item["document_key"]):
        return item, None
    store = SiteStore(storage)
    failed = storage.transact([
        storage.update_if_action(PK, item["sk"], {"state": PUBLISHED, "published_at": now, "published_by": actor},
                                 {"state": AWAITED}),
        store.requested_action(actor, now),
        storage.put_action(storage.audit_item(now, actor, "commune_document_published", {
            "document_id": identifier, "title": item["title"]})),
    ])
    if failed:
        return find(storage, identifier), None
    return {**item, "state": PUBLISHED}, int(store.state().get("requested", 0))


def withdraw(storage, documents, identifier: str, actor: str, now: datetime) -> tuple[dict, int]:
    """Takes a document off the site: its item and file deleted, a publication asked for."""
    from chalicelib.site_store import SiteStore

    item = find(storage, identifier)
    store = SiteStore(storage)
    failed = storage.transact([
        storage.delete_action(PK, item["sk"]),
        store.requested_action(actor, now),
        storage.put_action(storage.audit_item(now, actor, "commune_document_withdrawn", {
            "document_id": identifier, "title": item["title"]})),
    ])
    if failed:
        raise DocumentError(409, "changed_meanwhile", "La publication a changé pendant le retrait : réessayez.")
    documents.delete_object(item["document_key"])
    return item, int(store.state().get("requested", 0))


def public_url(storage, documents, identifier: str) -> str:
    """A presigned GET of a published document's file; anything else is a French 404."""
    item = find(storage, identifier)
    if item.get("state") != PUBLISHED:
        raise DocumentError(404, "not_found", "Ce document de la commune est introuvable.")
    extension = CONTENT_TYPES.get(item.get("content_type"), "pdf")
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", item["title"]).strip("-")[:60] or "document"
    return documents.public_download_url(item["document_key"], f"{name}.{extension}", item["content_type"])
