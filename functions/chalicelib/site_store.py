"""The public site's content as staff edit it at /gestion/informations/ (docs/content.md):
the guide's pages and the notices, each page's versions, and the publishing state.

Items (docs/data-model.md), read by Query or GetItem only:
- `CONTENT` / `GUIDE#<slug>`, `NOTICE#<slug>`: a page's current version (its `version`
  number, title, Markdown body, other metadata), one Query lists them all (the staff's
  list, and what the publishing code builds the site from);
- `CONTENT#<KIND>#<slug>` / `V#000001`…: every version ever published, never changed;
- `CONTENT` / `PUBLISHING`: how many publications were asked (`requested`), built
  (`built`: site and NOTICES item) and finished (`published`: family dashboards too).

A save is one transaction: the new version (which must not exist), the current item if
it is still at the version the form was read at (`expected`: two admins saving the same
page never lose one silently: a 409), and the publishing state's counter.
`content/` seeds an empty store (`seed`): it stays the first content of a new commune.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from chalicelib import site_markdown, site_texts
from chalicelib.keys import CONTENT, PUBLISHING, content_sk, content_version_sk, content_versions_pk
from chalicelib.refusals import Refusal

GUIDE, NOTICE = "guide", "notice"
KINDS = (GUIDE, NOTICE)
TITLE_MAX = 150
BODY_MAX = 100_000  # characters: a page's item stays far below DynamoDB's 400 KB
SLUG_MAX = 60
VERSIONS_SHOWN = 50
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class ContentConflict(Refusal):
    def __init__(self) -> None:
        super().__init__(409, "content_conflict",
                         "Cette page a été publiée par quelqu'un d'autre pendant que vous la modifiiez : "
                         "rechargez-la, reportez vos changements et publiez de nouveau.")


def refuse(message: str, code: str = "invalid_content") -> Refusal:
    return Refusal(400, code, message)


def slugify(title: str) -> str:
    """« Vacances de Noël : réservez » → `vacances-de-noel-reservez` (the notice's address)."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:SLUG_MAX].strip("-")
    return slug or "information"


def checked_slug(slug: str) -> str:
    if not _SLUG.fullmatch(slug or "") or len(slug) > SLUG_MAX:
        raise Refusal(404, "unknown_page", "Cette page n'existe pas.")
    return slug


# --- what a form says (pure) -------------------------------------------------------------------

@dataclass(frozen=True)
class Fields:
    """A page as the form sends it, checked: title, Markdown body, expiry (notices)."""

    title: str
    body: str
    expires: date | None = None


def parse_fields(kind: str, title: str, body: str, expires: str, *, today: date, texts: dict[str, str]) -> Fields:
    """The form's fields checked (a French 400 otherwise); `texts`: site_texts.rule_texts."""
    title = " ".join((title or "").split())
    body = (body or "").replace("\r\n", "\n").strip("\n")
    if not title:
        raise refuse("Le titre est obligatoire.")
    if len(title) > TITLE_MAX:
        raise refuse(f"Le titre dépasse {TITLE_MAX} caractères.")
    if not body.strip():
        raise refuse("Le texte est obligatoire.")
    if len(body) > BODY_MAX:
        raise refuse(f"Le texte dépasse {BODY_MAX:_} caractères.".replace("_", " "))
    for name, text in (("Le titre", title), ("Le texte", body)):
        found = site_markdown.raw_html(text)
        if found:
            raise refuse(f"{name} contient du HTML (« {found} ») : écrivez-le en Markdown, "
                         "le site public n'en publie pas.")
        try:
            site_texts.fill(text, texts, name.split()[-1])
        except site_texts.UnknownPlaceholder as error:
            raise refuse(str(error)) from None
    day = None
    if kind == NOTICE and (expires or "").strip():
        try:
            day = date.fromisoformat(expires.strip())
        except ValueError:
            raise refuse(f"La date d'expiration « {expires} » n'est pas une date (AAAA-MM-JJ).") from None
        if day < today:
            raise refuse("La date d'expiration est passée : l'information ne serait plus affichée.")
    return Fields(title, body, day)


def parse_expected(value: str) -> int:
    try:
        version = int(value)
    except (TypeError, ValueError):
        raise refuse("La version de la page lue manque : rechargez la page.", "invalid_version") from None
    if version < 0:
        raise refuse("La version de la page lue est invalide : rechargez la page.", "invalid_version")
    return version


def preview_html(fields: Fields, texts: dict[str, str]) -> tuple[str, str]:
    """(title, body HTML) as the published page shows them: Pelican's Markdown
    (chalicelib/site_markdown.py), then the figures of commune.toml, as the build does."""
    return (site_texts.fill(fields.title, texts, "titre"),
            site_texts.fill(site_markdown.render(fields.body), texts, "texte"))


# --- the Markdown files the build reads (pure) ----------------------------------------------

# Metadata written in this order; the others after.
_FIRST = ("title", "date", "expires", "order", "description", "services")


def file_name(item: dict) -> str:
    """`guide/<slug>.md`, or `notices/<AAAA-MM-JJ>-<slug>.md` (Pelican's names: the address)."""
    if item["kind"] == GUIDE:
        return f"guide/{item['slug']}.md"
    return f"notices/{str(item['meta'].get('date', ''))[:10]}-{item['slug']}.md"


def file_text(item: dict) -> str:
    """The Markdown file of a stored page: its metadata lines, a blank line, its body."""
    meta = {"title": item["title"], **{k: v for k, v in item.get("meta", {}).items() if v not in (None, "")}}
    names = [n for n in _FIRST if n in meta] + sorted(n for n in meta if n not in _FIRST)
    head = "".join(f"{name.capitalize()}: {' '.join(str(meta[name]).split())}\n" for name in names)
    return head + "\n" + item["body"].rstrip("\n") + "\n"


# --- the store -------------------------------------------------------------------------------------

class SiteStore:
    """`storage`: the portal's chalicelib.storage.Storage."""

    def __init__(self, storage):
        self.storage = storage

    def pages(self) -> list[dict]:
        """Every page's current version and the publishing state's item: one Query."""
        return self.storage.query_partition(CONTENT)

    def page(self, kind: str, slug: str) -> dict | None:
        return self.storage.get(CONTENT, content_sk(kind, slug))

    def versions(self, kind: str, slug: str) -> list[dict]:
        """The page's versions, the newest first: one Query."""
        found = self.storage.query_partition(content_versions_pk(kind, slug), "V#")
        return sorted(found, key=lambda v: v["version"], reverse=True)

    def version(self, kind: str, slug: str, number: int) -> dict | None:
        return self.storage.get(content_versions_pk(kind, slug), content_version_sk(number))

    def state(self) -> dict:
        return self.storage.get(CONTENT, PUBLISHING) or {}

    def new_notice_slug(self, title: str) -> str:
        """The title's slug, made unique among the stored notices (`-2`, `-3` …)."""
        base = slugify(title)
        taken = {item["slug"] for item in self.storage.query_partition(CONTENT, "NOTICE#")}
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base[:SLUG_MAX - 4]}-{n}", n + 1
        return slug

    def save(self, kind: str, slug: str, title: str, body: str, meta: dict, *, expected: int, by: str,
             now: datetime, restored_from: int | None = None) -> int:
        """Publishes a new version of a page (`expected`: the version the form was read at,
        0 for a new page); returns its number. ContentConflict (409) when the page moved on."""
        version = expected + 1
        record = {"kind": kind, "slug": slug, "version": version, "title": title, "body": body,
                  "meta": {k: v for k, v in meta.items() if v not in (None, "")},
                  "saved_at": now, "saved_by": by}
        if restored_from is not None:
            record["restored_from"] = restored_from
        current = {"pk": CONTENT, "sk": content_sk(kind, slug), **record}
        if expected == 0:
            current_action = self.storage.put_new_action(current)
        else:
            current_action = self.storage.update_if_action(
                CONTENT, content_sk(kind, slug), {k: v for k, v in current.items() if k not in ("pk", "sk")},
                {"version": expected}, remove=() if restored_from is not None else ("restored_from",))
        history = self.storage.put_new_action(
            {"pk": content_versions_pk(kind, slug), "sk": content_version_sk(version), **record})
        for _ in range(5):  # the state's counter may move under another page's save: read it again
            failed = self.storage.transact([history, current_action, self._requested_action(by, now)])
            if not failed:
                return version
            if 2 not in failed or set(failed) - {2}:
                raise ContentConflict()
        raise ContentConflict()

    def requested_action(self, by: str, now: datetime) -> dict:
        """The transaction action that asks for one more publication, for a write of
        another kind that changes the site (a commune's document, chalicelib.commune_documents)."""
        return self._requested_action(by, now)

    def _requested_action(self, by: str, now: datetime) -> dict:
        state = self.state()
        new = {"requested": int(state.get("requested", 0)) + 1, "requested_at": now, "requested_by": by}
        if not state:
            return self.storage.put_new_action({"pk": CONTENT, "sk": PUBLISHING, "built": 0, "published": 0, **new})
        return self.storage.update_if_action(CONTENT, PUBLISHING, new, {"requested": state["requested"]})

    def restore(self, kind: str, slug: str, number: int, *, expected: int, by: str, now: datetime) -> int:
        """Publishes version `number` again, as a new version (the history keeps both)."""
        old = self.version(kind, slug, number)
        if old is None:
            raise Refusal(404, "unknown_version", "Cette version n'existe pas.")
        return self.save(kind, slug, old["title"], old["body"], old.get("meta", {}), expected=expected,
                         by=by, now=now, restored_from=number)

    def seed(self, pages: list[dict], now: datetime) -> int:
        """Stores `pages` ({kind, slug, title, body, meta}) as their version 1 when the store
        holds no page yet (a new commune: content/); returns how many were stored."""
        if any(item["sk"] != PUBLISHING for item in self.pages()):
            return 0
        puts = []
        for page in pages:
            record = {**page, "version": 1, "saved_at": now, "saved_by": "content/"}
            puts.append({"pk": CONTENT, "sk": content_sk(page["kind"], page["slug"]), **record})
            puts.append({"pk": content_versions_pk(page["kind"], page["slug"]), "sk": content_version_sk(1), **record})
        self.storage.batch_write(puts)
        return len(pages)

    # the publishing state ------------------------------------------------------------------

    def mark(self, stage: str, generation: int, now: datetime) -> None:
        """`built` or `published` reaches `generation`, never goes back: a conditional
        write on the value read, read again when another run moved it meanwhile."""
        for _ in range(5):
            state = self.state()
            old = int(state.get(stage, 0))
            if old >= generation:
                return
            new = {stage: generation, f"{stage}_at": now, **({"error": ""} if stage == "built" else {})}
            if not state:
                action = self.storage.put_new_action({"pk": CONTENT, "sk": PUBLISHING, "requested": generation, **new})
            else:
                action = self.storage.update_if_action(CONTENT, PUBLISHING, new, {stage: state[stage]} if stage in state
                                                       else {}, absent=() if stage in state else (stage,))
            if self.storage.transact_if([action]):
                return

    def mark_failed(self, message: str, now: datetime) -> None:
        self.storage.update_attributes(CONTENT, PUBLISHING, {"error": message, "error_at": now}, must_exist=False)


def publishing_state(state: dict) -> dict:
    """What the page says: « en cours » while a publication asked is not finished."""
    requested, published = int(state.get("requested", 0)), int(state.get("published", 0))
    return {"running": published < requested, "published_at": state.get("published_at"),
            "error": state.get("error") or None}
