"""The view models of « Mes documents » (famille/documents.html) and of the dashboard's
« Documents » block: what the commune asks the family to provide, in what state, and the
commune's documents of the moment (docs/family-documents.md). Pure: the state and the
notices (the NOTICES item, where a publication puts the commune's documents) are read
by the caller."""

from __future__ import annotations

from datetime import date

from chalicelib.config import Commune
from chalicelib.family_documents import family_status
from chalicelib.pages.certificate_offers import FILE_TYPES
from chalicelib.storage import FamilyState

# A notice of the NOTICES item that is one of the commune's documents (chalicelib.commune_documents).
DOCUMENT_NOTICE = "document"


def split_notices(notices: list[dict] | None) -> tuple[list[dict], list[dict]]:
    """(the notices, the commune's documents of the moment) of the current notices."""
    notices = notices or []
    return ([n for n in notices if n.get("kind") != DOCUMENT_NOTICE],
            [n for n in notices if n.get("kind") == DOCUMENT_NOTICE])


def documents_context(state: FamilyState, commune: Commune, today: date, home: str) -> dict:
    """What famille/documents.html reads: each kind with its state and its form."""
    return {"family_documents": family_status(commune, state.family_documents, today),
            "document_types": FILE_TYPES, "documents_back": home + "documents/"}


def dashboard_documents(state: FamilyState, commune: Commune, today: date, notices: list[dict] | None) -> dict:
    """The dashboard's block: the documents to provide or renew (missing, refused, expired
    or ending within 30 days) and the commune's current documents."""
    _, current = split_notices(notices)
    return {"documents_attention": [s for s in family_status(commune, state.family_documents, today) if s["attention"]],
            "commune_documents": [{"title": n.get("title", ""), "url": n.get("url", ""),
                                   "summary": n.get("summary", "")} for n in current]}
