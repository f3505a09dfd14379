"""The nightly run's slices of families (the reminder mails, chalicelib/reminders.py;
`export_all(family_slice=…)` can export one slice too), one per scheduled invocation, so
that each slice ends well within Lambda's 15 minutes however many families there are."""

from __future__ import annotations

import zlib
from datetime import datetime

NIGHTLY_SLICES = 12
NIGHTLY_SLICE_MINUTES = 5


def nightly_slice(scheduled_at: datetime) -> int:
    """Which slice of the families a nightly invocation exports: the runs are scheduled
    every NIGHTLY_SLICE_MINUTES within one hour (app.NIGHTLY_REMINDERS), the minute says which."""
    return (scheduled_at.minute // NIGHTLY_SLICE_MINUTES) % NIGHTLY_SLICES


def in_slice(family_number: str, index: int, count: int) -> bool:
    """A family's slice: a stable hash of its number, so each family is in exactly one."""
    return zlib.crc32(str(family_number).encode()) % count == index
