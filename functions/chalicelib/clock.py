"""The portal's clock: real time, or the instant frozen by `portail serve --now`.

Functions that decide take `now` as an argument; only the edges (routes, commands)
call `now()` here.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

FROZEN_ENV = "PORTAIL_NOW"


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant with its offset (a bare date-time is refused: ambiguous)."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(
            f"« {text} » : précisez le décalage horaire, par exemple 2014-11-28T12:00:00+01:00"
        )
    return value


def is_frozen() -> bool:
    """Whether the clock is frozen: read by the edges that build what must know it (the
    pages exporter), never while rendering."""
    return bool(os.environ.get(FROZEN_ENV))


def now() -> datetime:
    frozen = os.environ.get(FROZEN_ENV)
    if frozen:
        return parse_instant(frozen)
    return datetime.now(UTC)
