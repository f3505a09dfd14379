"""Whose pages: each responsable's own folder of pages, or one shared (docs/family-pages.md,
« Two responsables »).

Separated parents each have their account: a family whose PROFILE says `shared_account
= false` (the import's « compte commun » column left empty or « non ») and whose second
responsable carries a `page_key` of its own has one *view* per responsable, each in its
own folder `/famille/<key>/`: responsable 1 keeps the family's `page_key`, responsable 2
has the one on its `RESPONSABLE#2` item. Each folder holds the whole site of the family
as that responsable sees it:

- **personal pages** (`PERSONAL_PAGES`): the dashboard (greeting, contact details,
  unpaid invoices, balance), « Mon compte », « Mes factures », « Mes règlements » and the
  « Relevé de compte », rendered from that responsable's money only (`own_money`);
- **shared pages** (the children's months, « Mes enfants », the inbox, « Liste des
  demandes »): the same content for both, rendered once and copied into the other
  folder with only its address and form token changed (`retarget`), so a booking still
  renders its two pages, whatever the number of folders.

A family with one responsable, flagged « compte commun », or imported before the column
existed (no `shared_account`) has one view, the family's `page_key`, as before: every
invoice, payment and operation, greeted as responsable 1.

The view's folder is what the responsable's LOGIN item names (`login_page_key`): the
session copies it, the signed cookies open that folder only, and the function's routes
that show money (an invoice's PDF, the statement's years) serve that view's money only
(`money_rank`). A file of one responsable (a calendar feed) goes next to its pages, in
the same folder (`view.page_key`, `FamilyPages.publish`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from chalicelib import sessions
from chalicelib.storage import FamilyState

# The pages showing what is one responsable's: rendered per view.
PERSONAL_PAGES = ("accueil", "compte", "factures", "reglements", "releve")


@dataclass(frozen=True)
class AccountView:
    """One folder of pages: `rank` the responsable greeted (and whose contact details are
    shown), `money_rank` the responsable whose money is shown (None: the whole family's)."""

    rank: int
    page_key: str
    money_rank: int | None


def separate_accounts(profile: dict, responsables: list[dict]) -> bool:
    """Each responsable has their own pages: the family is not « compte commun » and a
    second responsable has their own key (the import gives it)."""
    if profile.get("shared_account", True):
        return False
    return any(int(r["rank"]) > 1 and r.get("page_key") for r in responsables)


def account_views(state: FamilyState) -> list[AccountView]:
    """The family's folders of pages, responsable 1's (the family's key) first."""
    profile = state.profile
    if not separate_accounts(profile, state.responsables):
        return [AccountView(1, profile["page_key"], None)]
    views = [AccountView(1, profile["page_key"], 1)]
    for person in sorted(state.responsables, key=lambda r: int(r["rank"])):
        if int(person["rank"]) > 1 and person.get("page_key"):
            views.append(AccountView(int(person["rank"]), person["page_key"], int(person["rank"])))
    return views


def login_page_key(profile: dict, responsables: list[dict], rank: int) -> str:
    """The folder a responsable's login opens (its LOGIN item's `page_key`)."""
    return next((v.page_key for v in account_views(FamilyState(profile=profile, responsables=responsables))
                 if v.rank == rank), profile["page_key"])


def money_rank(profile: dict, responsables: list[dict], page_key: str) -> int | None:
    """Whose money the folder `page_key` shows: a rank, or None for the whole family (one
    view); a key of no view (a session older than a change of the family) shows none: 0."""
    for view in account_views(FamilyState(profile=profile, responsables=responsables)):
        if view.page_key == page_key:
            return view.money_rank
    return 0


def _mine(items: list[dict], rank: int) -> list[dict]:
    # Items written before the responsable's rank was recorded were responsable 1's.
    return [i for i in items if int(i.get("responsable_rank") or 1) == rank]


def own_money(state: FamilyState, rank: int | None) -> FamilyState:
    """The family's state with only `rank`'s invoices, operations, payments and credit
    notes (all of them for None): what a personal page may show."""
    if rank is None:
        return state
    return replace(state, invoices=_mine(state.invoices, rank), operations=_mine(state.operations, rank),
                   payments=_mine(state.payments, rank), credit_notes=_mine(state.credit_notes, rank))


def retarget(html: str, secret: str, source: AccountView, target: AccountView) -> str:
    """A shared page rendered for `source`, as `target`'s folder holds it: its links
    (`/famille/<key>/…`) and its forms' token (an HMAC of the key) are the only things
    that name the folder. A test compares the copy with a page rendered for `target`."""
    return (html.replace(f"/famille/{source.page_key}/", f"/famille/{target.page_key}/")
            .replace(sessions.csrf_token(secret, source.page_key), sessions.csrf_token(secret, target.page_key)))
