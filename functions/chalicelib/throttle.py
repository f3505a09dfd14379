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

Counted atomically ("reserve, then verify"): every attempt whose password is about to
be checked is first counted as a failure by one conditional write per throttle
(`ADD consecutive 1, recent {marker}`), whose condition (`Guard`) says "still allowed"
in terms of the stored values: so parallel requests can never be checked more often
than the schedule allows, and none is lost. A success then takes its count back (the
caller deletes the login's throttle and removes its marker from the source's). No
field is ever read, computed and written back: the lock's end is derived from what is
stored (the latest failure plus `lock_delay(consecutive)`), and failures that left the
window are pruned by a separate delete of exactly those markers.

A marker is « <ISO instant>#<random> »: the instant of the failure, unique per attempt.

So that throttling never tells whether a login exists, the caller keeps an
`AccountThrottle` for every login name tried, known or not, and applies it the same
way. `source_key` turns an address into the key to count under (an IPv6 address by
its /64 network, as one subscriber usually holds a whole /64).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

CONSECUTIVE_FAILURES_BEFORE_DELAY = 5
FIRST_DELAY = timedelta(minutes=2)
MAX_DELAY = timedelta(hours=24)
DAILY_WINDOW = timedelta(hours=24)
MAX_FAILURES_PER_DAY = 25

SOURCE_WINDOW = timedelta(hours=1)
SOURCE_MAX_FAILURES_PER_HOUR = 50

# « Mot de passe oublié » (counted like failures, atomically, but never locking the
# login itself): per login name, known or not, and per source address.
RESET_WINDOW = timedelta(hours=1)
RESET_MAX_PER_LOGIN = 3
RESET_MAX_PER_SOURCE = 20


def _parse(value: str) -> datetime:
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise ValueError(f"instant sans décalage horaire : {value}")
    return instant


def marker_instant(marker: str) -> datetime:
    return _parse(marker.split("#", 1)[0])


def new_marker(now: datetime, nonce: str) -> str:
    """The marker of one counted attempt; `nonce` (random, from the caller) makes it unique."""
    return f"{now.astimezone(UTC).isoformat()}#{nonce}"


def _seconds_until(moment: datetime, now: datetime) -> int:
    remaining = (moment - now).total_seconds()
    return math.ceil(remaining) if remaining > 0 else 0


@dataclass(frozen=True)
class Window:
    """At most `limit` counted attempts in any sliding `span`."""

    span: timedelta
    limit: int

    def recent(self, markers: frozenset[str], now: datetime) -> list[datetime]:
        """The instants still inside the window ending at `now`, oldest first."""
        return sorted(t for t in map(marker_instant, markers) if t > now - self.span)

    def stale(self, markers: frozenset[str], now: datetime) -> frozenset[str]:
        """The markers that left the window: the caller deletes them before counting."""
        return frozenset(m for m in markers if marker_instant(m) <= now - self.span)

    def full_until(self, markers: frozenset[str], now: datetime) -> datetime | None:
        """When the window is full, the instant its oldest counted attempt leaves it."""
        recent = self.recent(markers, now)
        if len(recent) >= self.limit:
            return recent[-self.limit] + self.span
        return None

    def retry_after(self, markers: frozenset[str], now: datetime) -> int:
        until = self.full_until(markers, now)
        return _seconds_until(until, now) if until is not None else 0


ACCOUNT_DAY = Window(DAILY_WINDOW, MAX_FAILURES_PER_DAY)
SOURCE_HOUR = Window(SOURCE_WINDOW, SOURCE_MAX_FAILURES_PER_HOUR)
RESET_LOGIN_HOUR = Window(RESET_WINDOW, RESET_MAX_PER_LOGIN)
RESET_SOURCE_HOUR = Window(RESET_WINDOW, RESET_MAX_PER_SOURCE)


@dataclass(frozen=True)
class Guard:
    """What must still hold, in the stored item, when one more attempt is counted: the
    condition of the atomic write (storage.py turns it into a ConditionExpression).

    `window_below`: fewer markers than this (stale ones are pruned first);
    `consecutive_below` / `consecutive_equals`: the consecutive count, when counted.
    """

    window_below: int
    count_consecutive: bool = False
    consecutive_below: int | None = None
    consecutive_equals: int | None = None


@dataclass(frozen=True)
class AccountThrottle:
    consecutive_failures: int = 0
    # Markers of the failures of the last 24 hours (and maybe older ones not pruned yet).
    markers: frozenset[str] = field(default_factory=frozenset)

    @property
    def recent_failures(self) -> tuple[datetime, ...]:
        return tuple(sorted(map(marker_instant, self.markers)))

    @property
    def locked_until(self) -> datetime | None:
        """The end of the delay the latest failure started (None below 5 in a row)."""
        delay = lock_delay(self.consecutive_failures)
        if not delay or not self.markers:
            return None
        return max(map(marker_instant, self.markers)) + delay

    def to_item(self) -> dict[str, Any]:
        return {"consecutive": self.consecutive_failures, "recent": set(self.markers)}

    @classmethod
    def from_item(cls, item: dict[str, Any] | None) -> AccountThrottle:
        if not item:
            return cls()
        return cls(consecutive_failures=int(item.get("consecutive") or 0),
                   markers=frozenset(item.get("recent") or ()))


def account_retry_after(state: AccountThrottle, now: datetime) -> int:
    """Seconds (rounded up) before another attempt on this account is even checked; 0 if allowed."""
    waits = [0, ACCOUNT_DAY.retry_after(state.markers, now)]
    if state.locked_until is not None:
        waits.append(_seconds_until(state.locked_until, now))
    return max(waits)


def account_guard(state: AccountThrottle) -> Guard:
    """The condition under which one more failure may be counted, given the state read
    (allowed at the instant of the read): below 5 in a row, any of the parallel attempts
    may take the places left; once a delay has passed, exactly one attempt (the one that
    finds the count unchanged) goes through."""
    if state.consecutive_failures < CONSECUTIVE_FAILURES_BEFORE_DELAY:
        return Guard(window_below=MAX_FAILURES_PER_DAY, count_consecutive=True,
                     consecutive_below=CONSECUTIVE_FAILURES_BEFORE_DELAY)
    return Guard(window_below=MAX_FAILURES_PER_DAY, count_consecutive=True,
                 consecutive_equals=state.consecutive_failures)


def lock_delay(consecutive_failures: int) -> timedelta:
    """The delay after this many consecutive failures (zero below 5)."""
    if consecutive_failures < CONSECUTIVE_FAILURES_BEFORE_DELAY:
        return timedelta(0)
    doublings = consecutive_failures - CONSECUTIVE_FAILURES_BEFORE_DELAY
    # 2 min × 2^10 is already past 24 h: no need for larger powers.
    return min(FIRST_DELAY * 2 ** min(doublings, 20), MAX_DELAY)


def after_failure(state: AccountThrottle, now: datetime, nonce: str | None = None) -> AccountThrottle:
    """The state once a wrong password (or an unknown login) has been counted at `now`:
    what the atomic write leaves in the item (stale markers pruned)."""
    markers = state.markers - ACCOUNT_DAY.stale(state.markers, now)
    marker = new_marker(now, nonce if nonce is not None else str(len(state.markers)))
    return AccountThrottle(consecutive_failures=state.consecutive_failures + 1, markers=markers | {marker})


@dataclass(frozen=True)
class SourceThrottle:
    # Markers of the failed logins from this source within the last hour.
    markers: frozenset[str] = field(default_factory=frozenset)

    @property
    def recent_failures(self) -> tuple[datetime, ...]:
        return tuple(sorted(map(marker_instant, self.markers)))

    def to_item(self) -> dict[str, Any]:
        return {"recent": set(self.markers)}

    @classmethod
    def from_item(cls, item: dict[str, Any] | None) -> SourceThrottle:
        return cls(markers=frozenset((item or {}).get("recent") or ()))


def source_retry_after(state: SourceThrottle, now: datetime) -> int:
    """Seconds (rounded up) before this source may try any login again; 0 if allowed."""
    return SOURCE_HOUR.retry_after(state.markers, now)


def source_guard() -> Guard:
    return Guard(window_below=SOURCE_MAX_FAILURES_PER_HOUR)


def source_after_failure(state: SourceThrottle, now: datetime, nonce: str | None = None) -> SourceThrottle:
    """The state once a failed login from this source has been counted at `now`."""
    markers = state.markers - SOURCE_HOUR.stale(state.markers, now)
    return SourceThrottle(markers=markers | {new_marker(now, nonce if nonce is not None else str(len(state.markers)))})


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
