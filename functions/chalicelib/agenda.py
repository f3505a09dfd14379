"""« Ajouter à mon agenda » and the reminders' choice, on « Mon compte » (docs/family-pages.md,
« The calendar feed »): each responsable (the session's rank) has their own feed, under a
key of 128 random bits, and their own choice of reminder mails, on the item
`AGENDA#<rank>` of the family's partition (writes: chalicelib/agenda_store.py).

- `subscribe`: the responsable's feed, made on first use (the same one afterwards);
- `revoke`: a new key, the feed written under it, then the old file deleted (its address
  answers 404);
- `set_reminders`: on or off.

Each re-renders « Mon compte » (and the feeds) before the route answers. The clock is an
argument; the collaborators are injected (the function passes its own).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from chalicelib import agenda_store
from chalicelib.refusals import Refusal

FEED_KEY_BYTES = 16  # 128 random bits, as the family pages' key


def new_feed_key() -> str:
    return secrets.token_hex(FEED_KEY_BYTES)


def agenda_item(state, rank: int) -> dict:
    """The responsable's AGENDA item as read with the family ({} when they have none)."""
    return next((a for a in state.agendas if int(a.get("rank", 0)) == int(rank)), {})


def account_context(state, rank: int, site_url: str) -> dict:
    """What « Mon compte » shows of the responsable's feed and reminders."""
    from chalicelib.calendar_feed import feed_path

    item = agenda_item(state, rank)
    feed_url = site_url.rstrip("/") + feed_path(item["feed_key"]) if item.get("feed_key") else ""
    return {"agenda": {
        "feed_url": feed_url,
        # webcal:// opens the phone's or the computer's calendar on a subscription.
        "webcal_url": "webcal://" + feed_url.split("://", 1)[1] if feed_url else "",
        "reminders": bool(item.get("reminders")),
    }}


def _with_agenda(state, session, **attributes) -> None:
    """The state as the write left it: the pages rendered next show the new values."""
    item = agenda_item(state, session.rank)
    if not item:
        item = {"sk": f"AGENDA#{session.rank}", "rank": session.rank, "login": session.login}
        state.agendas.append(item)
    item.update(attributes)


def subscribe(storage, pages, session, source: str, now: datetime) -> dict:
    """The responsable's feed address (made now if they had none); `{"feed_url": …}`."""
    state = storage.family_state(session.family_number)
    if not agenda_item(state, session.rank).get("feed_key"):
        key = new_feed_key()
        if agenda_store.replace_feed_key(storage, session.family_number, session.rank, session.login, key, None, now):
            _with_agenda(state, session, feed_key=key)
            storage.audit(now, session.login, "calendar_feed_created", {"source": source}, by_family=True)
        else:  # made meanwhile (a double click): that one
            state = storage.family_state(session.family_number)
        pages.export(storage, session.family_number, now, only=["compte", "agenda"], state=state)
    return account_context(state, session.rank, pages.site_url)["agenda"]


def revoke(storage, pages, session, source: str, now: datetime) -> dict:
    """A new address for the responsable's feed; the old one answers 404 from now on."""
    state = storage.family_state(session.family_number)
    old = agenda_item(state, session.rank).get("feed_key")
    if not old:
        raise Refusal(409, "no_feed", "Vous n'êtes pas abonné à votre agenda : choisissez d'abord "
                                      "« Ajouter à mon agenda ».")
    key = new_feed_key()
    if not agenda_store.replace_feed_key(storage, session.family_number, session.rank, session.login, key, old, now):
        raise Refusal(409, "changed_meanwhile", "L'adresse de votre agenda vient d'être changée : rechargez la page.")
    _with_agenda(state, session, feed_key=key)
    storage.audit(now, session.login, "calendar_feed_revoked", {"source": source}, by_family=True)
    pages.export(storage, session.family_number, now, only=["compte", "agenda"], state=state)
    pages.delete_feed(old)
    return account_context(state, session.rank, pages.site_url)["agenda"]


def set_reminders(storage, pages, session, wanted: bool, now: datetime) -> dict:
    """The responsable's reminder mails on or off; « Mon compte » rendered again."""
    agenda_store.set_reminders(storage, session.family_number, session.rank, session.login, wanted, now)
    state = storage.family_state(session.family_number)
    pages.export(storage, session.family_number, now, only=["compte"], state=state)
    return account_context(state, session.rank, pages.site_url)["agenda"]
