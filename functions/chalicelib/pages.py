"""The family pages export: a family's private pages rendered from its state (one
Query) with the shared layout, and written to the private pages bucket under
`famille/<page key>/`. CloudFront serves them behind the signed cookies (DESIGN §1).

Issue 5 adds the calendars, invoices, statement, inbox and requests pages here.
"""

from __future__ import annotations

from datetime import date, datetime

from chalicelib import sessions
from chalicelib.config import Commune
from chalicelib.layout import TEMPLATES_DIR, layout_globals
from chalicelib.storage import FamilyState, Storage

# Private pages: a browser may keep them for the back button, never a shared cache.
PAGE_CACHE_CONTROL = "private, no-cache"

# Page name → (template, path under the family's folder).
PAGES = {
    "accueil": ("famille/accueil.html", "index.html"),
    "compte": ("famille/compte.html", "compte/index.html"),
}


def pages_showing_days(child_id: str, days) -> list[str]:
    """The pages a change of these booked days makes stale. None yet: the child's month
    pages and the list of requests arrive with the family pages issue, which adds them
    here; the bookings route already re-renders exactly what this returns."""
    return []


def _french_date(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


class FamilyPages:
    def __init__(self, s3_client, bucket: str, commune: Commune, secret: str):
        self.s3 = s3_client
        self.bucket = bucket
        self.commune = commune
        self.secret = secret
        self._environment = None

    @property
    def environment(self):
        if self._environment is None:
            from jinja2 import Environment, FileSystemLoader, select_autoescape

            self._environment = Environment(
                loader=FileSystemLoader(str(TEMPLATES_DIR)),
                autoescape=select_autoescape(default=True),
                trim_blocks=True,
                lstrip_blocks=True,
            )
            self._environment.globals["portail"] = layout_globals(self.commune)
        return self._environment

    def render(self, state: FamilyState, rank: int, now: datetime, only: list[str] | None = None) -> dict[str, str]:
        """{path under famille/<key>/: HTML} for one responsable's view of the family."""
        page_key = state.profile["page_key"]
        responsable = next((r for r in state.responsables if int(r["rank"]) == rank), state.responsables[0])
        context = {
            "home": f"/famille/{page_key}/",
            "csrf_token": sessions.csrf_token(self.secret, page_key),
            "family_number": state.profile["family_number"],
            "responsable": responsable,
            "children": [{**c, "birth_date": _french_date(c["birth_date"])} for c in state.children],
            "unread": state.unread_messages,
            "now": now,
        }
        return {
            path: self.environment.get_template(template).render(current=name, **context)
            for name, (template, path) in PAGES.items()
            if only is None or name in only
        }

    def publish(self, page_key: str, pages: dict[str, str]) -> None:
        for path, html in pages.items():
            self.s3.put_object(
                Bucket=self.bucket, Key=f"famille/{page_key}/{path}", Body=html.encode("utf-8"),
                ContentType="text/html; charset=utf-8", CacheControl=PAGE_CACHE_CONTROL,
            )

    def export(self, storage: Storage, family_number: str, now: datetime, only: list[str] | None = None) -> int:
        """Re-renders a family's pages (all, or `only` those named); returns how many."""
        if only is not None and not only:
            return 0
        return self.export_state(storage.family_state(family_number), now, only)

    def export_state(self, state: FamilyState, now: datetime, only: list[str] | None = None) -> int:
        """Renders and writes the pages of a family state already read."""
        if state.profile is None:
            return 0
        # The pages show the first responsable; a second one (separated parents) sees the
        # same family pages (the booked days say who booked each).
        pages = self.render(state, 1, now, only)
        self.publish(state.profile["page_key"], pages)
        return len(pages)
