"""Login throttling: pure functions of a state and an instant (no clock, no I/O).

The schedule is the one the CNIL asks for a password of about 50 bits protected by
a restriction of access to the account (délibération n° 2022-100 du 21 juillet 2022,
recommandation relative aux mots de passe, cas n° 2 « mot de passe et restriction
d'accès au compte »): a delay after at most 5 consecutive failures, starting above
one minute and doubling at each further failure, and at most 25 failed attempts in
24 hours.

Per account (`AccountThrottle`):

- failures 1 to 4 in a row: no delay;
- 5th consecutive failure: locked for 2 minutes (120 s);
- 6th: 4 minutes, 7th: 8 minutes, 8th: 16 minutes ... doubling, capped at 24 hours;
- whenever the last 24 hours hold 25 failures, locked until the oldest of them is
  24 hours old (a sliding window: never more than 25 failures in any 24 hours);
- a successful login resets everything (the password is proven): the caller deletes
  the login's throttle item, which reads back as a new AccountThrottle;
- a completed password reset resets everything too, so a reset always unlocks the
  account; asking for a reset link changes nothing here, so it never locks anyone out.

While `account_retry_after` is above zero the password is not even checked: the
caller answers 429 `too_many_attempts` with `Retry-After` and counts no failure.

Per source address (`SourceThrottle`), across accounts: at most
`SOURCE_MAX_FAILURES_PER_HOUR` failed logins in any sliding hour; past that, the
address waits until the oldest of them is one hour old.

So that throttling never tells whether a login exists, the caller keeps an
`AccountThrottle` for every login name tried, known or not, and applies it the same
way. `source_key` turns an address into the key to count under (an IPv6 address by
its /64 network, as one subscriber usually holds a whole /64).

Instants are timezone-aware datetimes; `to_item` writes them as ISO-8601 strings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

CONSECUTIVE_FAILURES_BEFORE_DELAY = 5
FIRST_DELAY = timedelta(minutes=2)
MAX_DELAY = timedelta(hours=24)
DAILY_WINDOW = timedelta(hours=24)
MAX_FAILURES_PER_DAY = 25

SOURCE_WINDOW = timedelta(hours=1)
SOURCE_MAX_FAILURES_PER_HOUR = 50


def _parse(value: str) -> datetime:
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise ValueError(f"instant sans décalage horaire : {value}")
    return instant


def _seconds_until(moment: datetime, now: datetime) -> int:
    remaining = (moment - now).total_seconds()
    return math.ceil(remaining) if remaining > 0 else 0


def _window(failures: tuple[datetime, ...], now: datetime, span: timedelta, keep: int) -> tuple[datetime, ...]:
    """The failures still inside the window ending at `now`, oldest first, at most `keep`."""
    recent = sorted(t for t in failures if t > now - span)
    return tuple(recent[-keep:])


def _cap_until(recent: tuple[datetime, ...], span: timedelta, limit: int) -> datetime | None:
    """When the window is full, the instant its oldest counted failure leaves it."""
    if len(recent) >= limit:
        return recent[-limit] + span
    return None


@dataclass(frozen=True)
class AccountThrottle:
    consecutive_failures: int = 0
    # Failure instants within the last 24 hours, oldest first (at most 25 kept).
    recent_failures: tuple[datetime, ...] = ()
    locked_until: datetime | None = None

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "consecutive_failures": self.consecutive_failures,
            "recent_failures": [t.isoformat() for t in self.recent_failures],
        }
        if self.locked_until is not None:
            item["locked_until"] = self.locked_until.isoformat()
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any] | None) -> AccountThrottle:
        if not item:
            return cls()
        locked = item.get("locked_until")
        return cls(
            consecutive_failures=int(item.get("consecutive_failures") or 0),
            recent_failures=tuple(sorted(_parse(t) for t in item.get("recent_failures") or ())),
            locked_until=_parse(locked) if locked else None,
        )


def account_retry_after(state: AccountThrottle, now: datetime) -> int:
    """Seconds (rounded up) before another attempt on this account is even checked; 0 if allowed."""
    waits = [0]
    if state.locked_until is not None:
        waits.append(_seconds_until(state.locked_until, now))
    recent = _window(state.recent_failures, now, DAILY_WINDOW, MAX_FAILURES_PER_DAY)
    cap = _cap_until(recent, DAILY_WINDOW, MAX_FAILURES_PER_DAY)
    if cap is not None:
        waits.append(_seconds_until(cap, now))
    return max(waits)


def lock_delay(consecutive_failures: int) -> timedelta:
    """The delay after this many consecutive failures (zero below 5)."""
    if consecutive_failures < CONSECUTIVE_FAILURES_BEFORE_DELAY:
        return timedelta(0)
    doublings = consecutive_failures - CONSECUTIVE_FAILURES_BEFORE_DELAY
    # 2 min × 2^10 is already past 24 h: no need for larger powers.
    return min(FIRST_DELAY * 2 ** min(doublings, 20), MAX_DELAY)


def after_failure(state: AccountThrottle, now: datetime) -> AccountThrottle:
    """The state once a wrong password (or an unknown login) has been recorded at `now`."""
    recent = _window((*state.recent_failures, now), now, DAILY_WINDOW, MAX_FAILURES_PER_DAY)
    consecutive = state.consecutive_failures + 1
    candidates = [t for t in (state.locked_until, _cap_until(recent, DAILY_WINDOW, MAX_FAILURES_PER_DAY)) if t]
    delay = lock_delay(consecutive)
    if delay:
        candidates.append(now + delay)
    locked = max(candidates) if candidates else None
    if locked is not None and locked <= now:
        locked = None
    return AccountThrottle(consecutive_failures=consecutive, recent_failures=recent, locked_until=locked)


@dataclass(frozen=True)
class SourceThrottle:
    # Failed logins from this source within the last hour, oldest first (at most 50 kept).
    recent_failures: tuple[datetime, ...] = ()

    def to_item(self) -> dict[str, Any]:
        return {"recent_failures": [t.isoformat() for t in self.recent_failures]}

    @classmethod
    def from_item(cls, item: dict[str, Any] | None) -> SourceThrottle:
        if not item:
            return cls()
        return cls(recent_failures=tuple(sorted(_parse(t) for t in item.get("recent_failures") or ())))


def source_retry_after(state: SourceThrottle, now: datetime) -> int:
    """Seconds (rounded up) before this source may try any login again; 0 if allowed."""
    recent = _window(state.recent_failures, now, SOURCE_WINDOW, SOURCE_MAX_FAILURES_PER_HOUR)
    cap = _cap_until(recent, SOURCE_WINDOW, SOURCE_MAX_FAILURES_PER_HOUR)
    return _seconds_until(cap, now) if cap is not None else 0


def source_after_failure(state: SourceThrottle, now: datetime) -> SourceThrottle:
    """The state once a failed login from this source has been recorded at `now`."""
    recent = _window((*state.recent_failures, now), now, SOURCE_WINDOW, SOURCE_MAX_FAILURES_PER_HOUR)
    return SourceThrottle(recent_failures=recent)


def source_key(address: str) -> str:
    """The key to count a source under: the IPv4 address, or the IPv6 /64 network."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)
