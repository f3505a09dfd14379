"""What a booking submission did, and the family's state after its writes
(chalicelib.bookings `Bookings.submit_state`): the pages are rendered from that state
instead of a second Query of the family (docs/family-pages.md, « What a booking
re-renders, and from what »)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from chalicelib import storage as st


@dataclass
class Submission:
    """What `Bookings.submit_state` did: each day's result, the (service, day) seats freed,
    and the family's state after its writes."""

    results: list[dict]
    freed: list[tuple[str, date]]
    state: st.FamilyState


def after_writes(state: st.FamilyState, days: dict[str, dict], others: list[dict]) -> st.FamilyState:
    """The state read, with the day items written (`days`, by sort key) and the other
    items put (`others`: the request, the idempotency record) in place, each as the table
    gives it back (ISO dates and instants): the state a Query after the writes would give,
    writes of other calls meanwhile aside."""
    if not days and not others:
        return state
    written = {sk: st.deserialise(st.serialise(item)) for sk, item in days.items()}
    written.update((item["sk"], st.deserialise(st.serialise(item))) for item in others)
    items = [*(i for i in _state_items(state) if i["sk"] not in written), *written.values()]
    return st.FamilyState.from_items(sorted(items, key=lambda i: i["sk"]))


def _state_items(state: st.FamilyState) -> list[dict]:
    items = [state.profile] if state.profile is not None else []
    for name in (*st.FamilyState._BY_PREFIX.values(), "other"):
        items.extend(getattr(state, name))
    return items
