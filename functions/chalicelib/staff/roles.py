"""Staff roles and the pages of the back office each may open (docs/staff.md).

One registry for the menu, the routes' decorator (`chalicelib.routes.staff_calls`) and
the role-matrix test: a page named here is reachable exactly by the roles listed.
`regie` does the agent's work and the money pages (invoicing, invoices, payments), which
an `agent` does not open.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("agent", "regie", "admin")
ROLE_LABELS = {"agent": "Agent", "regie": "Régie", "admin": "Administrateur"}

_EVERYONE = frozenset(ROLES)
_ADMIN = frozenset({"admin"})
_MONEY = frozenset({"regie", "admin"})  # the régie's pages: invoicing, invoices, payments


@dataclass(frozen=True)
class Page:
    """A page of the back office: its menu label (French), its address, who may open it."""

    label: str
    url: str
    roles: frozenset[str]


# In menu order.
PAGES: dict[str, Page] = {
    "accueil": Page("Accueil", "/gestion/", _EVERYONE),
    "demandes": Page("Demandes", "/gestion/demandes/", _EVERYONE),
    "certificats": Page("Certificats", "/gestion/certificats/", _EVERYONE),
    "documents": Page("Documents", "/gestion/documents/", _EVERYONE),
    "effectifs": Page("Effectifs", "/gestion/effectifs/", _EVERYONE),
    "familles": Page("Familles", "/gestion/familles/", _EVERYONE),
    "plannings": Page("Plannings papier", "/gestion/plannings/", _EVERYONE),
    "messages": Page("Messages", "/gestion/messages/", _EVERYONE),
    "facturation": Page("Facturation", "/gestion/facturation/", _MONEY),
    "factures": Page("Factures", "/gestion/factures/", _MONEY),
    "reglements": Page("Règlements", "/gestion/reglements/", _MONEY),
    "agents": Page("Agents", "/gestion/agents/", _ADMIN),
    "journal": Page("Journal", "/gestion/journal/", _ADMIN),
    "informations": Page("Informations", "/gestion/informations/", _ADMIN),
}


def allowed(role: str, page: str) -> bool:
    """Whether `role` may open `page` (and make its actions). An unknown page or role: no."""
    entry = PAGES.get(page)
    return entry is not None and role in entry.roles


def menu(role: str) -> list[tuple[str, str, str]]:
    """(page name, label, address) of every page `role` may open, in menu order."""
    return [(name, page.label, page.url) for name, page in PAGES.items() if role in page.roles]


def checked_role(role: str) -> str:
    """`role` when it is one of ROLES; ValueError (a French sentence) otherwise."""
    if role not in ROLES:
        raise ValueError(f"rôle « {role} » inconnu (attendu : {', '.join(ROLES)})")
    return role
