"""Login throttling, step by step with an injected clock (CNIL délibération 2022-100)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from chalicelib.throttle import (
    ACCOUNT_DAY,
    MAX_FAILURES_PER_DAY,
    SOURCE_HOUR,
    SOURCE_MAX_FAILURES_PER_HOUR,
    AccountThrottle,
    SourceThrottle,
    account_guard,
    account_retry_after,
    after_failure,
    lock_delay,
    marker_instant,
    source_after_failure,
    source_guard,
    source_key,
    source_retry_after,
)

T0 = datetime(2014, 11, 28, 11, 0, tzinfo=UTC)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def fail_times(state: AccountThrottle, start: datetime, count: int) -> AccountThrottle:
    for i in range(count):
        state = after_failure(state, start + seconds(i))
    return state


def test_four_failures_cost_nothing_the_fifth_locks_for_two_minutes():
    state = AccountThrottle()
    now = T0
    for attempt in range(1, 5):
        assert account_retry_after(state, now) == 0
        state = after_failure(state, now)
        assert state.consecutive_failures == attempt
        assert state.locked_until is None
        assert account_retry_after(state, now) == 0
        now += seconds(1)
    fifth = now
    state = after_failure(state, fifth)
    assert state.consecutive_failures == 5
    assert state.locked_until == fifth + timedelta(minutes=2)
    assert account_retry_after(state, fifth) == 120
    assert account_retry_after(state, fifth + seconds(119)) == 1
    assert account_retry_after(state, fifth + seconds(119.2)) == 1  # rounded up
    assert account_retry_after(state, fifth + seconds(120)) == 0

    sixth = fifth + seconds(120)
    state = after_failure(state, sixth)
    assert account_retry_after(state, sixth) == 240
    assert account_retry_after(state, sixth + seconds(239)) == 1
    assert account_retry_after(state, sixth + seconds(240)) == 0

    seventh = sixth + seconds(240)
    state = after_failure(state, seventh)
    assert account_retry_after(state, seventh) == 480


def test_the_delay_doubles_from_two_minutes_and_stops_at_a_day():
    assert [lock_delay(n) for n in range(1, 5)] == [timedelta(0)] * 4
    assert [lock_delay(n) / timedelta(minutes=1) for n in range(5, 12)] == [2, 4, 8, 16, 32, 64, 128]
    assert lock_delay(5) > timedelta(minutes=1)  # "starting above one minute"
    assert lock_delay(15) == timedelta(hours=24)
    assert lock_delay(1000) == timedelta(hours=24)


def test_success_resets_everything():
    # A success (or a reset) deletes the login's throttle item: it reads back as new.
    state = fail_times(AccountThrottle(), T0, 5)
    assert account_retry_after(state, T0 + seconds(10)) > 0
    state = AccountThrottle.from_item(None)
    assert account_retry_after(state, T0 + seconds(10)) == 0
    # Four new failures are free again, the fifth locks for two minutes again.
    state = fail_times(state, T0 + seconds(200), 4)
    assert state.locked_until is None
    state = after_failure(state, T0 + seconds(300))
    assert account_retry_after(state, T0 + seconds(300)) == 120


def test_password_reset_unlocks_even_a_day_long_lock():
    state = AccountThrottle()
    now = T0
    for _ in range(20):
        state = after_failure(state, now)
        now += seconds(account_retry_after(state, now))
    assert account_retry_after(state, now - seconds(1)) > 0
    state = AccountThrottle.from_item(None)  # the reset deleted the throttle item
    assert account_retry_after(state, now - seconds(1)) == 0


def test_twenty_five_failures_in_a_day_lock_until_the_first_is_a_day_old():
    """The daily cap, with the consecutive count kept under 5 (as it would be between successes
    if the window outlived them), so that the doubling delay never applies."""
    state = AccountThrottle()
    first = T0
    now = first
    for i in range(MAX_FAILURES_PER_DAY):
        assert account_retry_after(state, now) == 0, i
        state = after_failure(state, now)
        if i < MAX_FAILURES_PER_DAY - 1:
            # Keep the window, forget the run of consecutive failures.
            state = AccountThrottle(consecutive_failures=state.consecutive_failures % 4, markers=state.markers)
            assert state.locked_until is None
        now += timedelta(minutes=30)
    last = first + timedelta(minutes=30 * (MAX_FAILURES_PER_DAY - 1))  # 12 h after the first
    assert len(state.recent_failures) == MAX_FAILURES_PER_DAY
    assert account_retry_after(state, last) == 12 * 3600
    assert account_retry_after(state, first + timedelta(hours=24) - seconds(1)) == 1
    assert account_retry_after(state, first + timedelta(hours=24)) == 0
    # The window slides: one more failure then waits for the second one to age out.
    state = AccountThrottle(markers=state.markers)
    later = first + timedelta(hours=24)
    state = after_failure(state, later)
    assert len(state.recent_failures) == MAX_FAILURES_PER_DAY  # the first one was pruned
    assert state.recent_failures[0] == first + timedelta(minutes=30)
    assert account_retry_after(state, later) == (timedelta(minutes=30, hours=24) - timedelta(hours=24)).seconds


def test_the_window_forgets_failures_older_than_a_day():
    state = fail_times(AccountThrottle(), T0, 3)
    state = after_failure(state, T0 + timedelta(hours=24, seconds=1))
    # Failures at T0 and T0 + 1 s are 24 h old or more: out of the window.
    assert state.recent_failures == (T0 + seconds(2), T0 + timedelta(hours=24, seconds=1))


def test_an_attacker_retrying_as_soon_as_allowed_gets_few_guesses_a_day():
    state = AccountThrottle()
    now = T0
    guesses = 0
    while now < T0 + timedelta(days=7):
        wait = account_retry_after(state, now)
        if wait:
            now += seconds(wait)
            continue
        state = after_failure(state, now)
        guesses += 1
        if now < T0 + timedelta(hours=24):
            first_day = guesses
    assert first_day <= MAX_FAILURES_PER_DAY
    assert first_day == 14  # 4 free, then 2, 4, 8 ... minutes
    assert guesses <= first_day + 7  # then one a day


def test_items_round_trip_through_dynamodb_types():
    state = fail_times(AccountThrottle(), T0, 6)
    item = state.to_item()
    assert item["consecutive"] == 6
    assert isinstance(item["recent"], set) and all(isinstance(m, str) for m in item["recent"])
    assert AccountThrottle.from_item(item) == state
    # boto3's resource answers numbers as Decimal.
    assert AccountThrottle.from_item({**item, "consecutive": Decimal(6)}) == state
    assert AccountThrottle.from_item(None) == AccountThrottle()
    assert AccountThrottle.from_item({}) == AccountThrottle()

    source = source_after_failure(SourceThrottle(), T0)
    assert SourceThrottle.from_item(source.to_item()) == source
    assert SourceThrottle.from_item(None) == SourceThrottle()


def test_the_lock_is_derived_from_what_is_stored():
    """No lock instant is stored (it would be read, computed and written back): the lock
    ends `lock_delay(consecutive)` after the latest failure."""
    state = fail_times(AccountThrottle(), T0, 5)
    assert state.locked_until == T0 + seconds(4) + timedelta(minutes=2)
    assert AccountThrottle(consecutive_failures=4, markers=state.markers).locked_until is None
    assert AccountThrottle(consecutive_failures=7, markers=state.markers).locked_until == (
        T0 + seconds(4) + timedelta(minutes=8))


def test_the_guard_lets_parallel_attempts_take_only_the_places_left():
    # Below 5 in a row: any attempt while the stored count is still below 5.
    guard = account_guard(fail_times(AccountThrottle(), T0, 3))
    assert (guard.count_consecutive, guard.consecutive_below, guard.consecutive_equals) == (True, 5, None)
    assert guard.window_below == MAX_FAILURES_PER_DAY
    # Once a delay has passed: only the attempt that finds the count unchanged.
    guard = account_guard(fail_times(AccountThrottle(), T0, 6))
    assert (guard.consecutive_below, guard.consecutive_equals) == (None, 6)
    source = source_guard()
    assert (source.count_consecutive, source.window_below) == (False, SOURCE_MAX_FAILURES_PER_HOUR)


def test_failures_that_left_the_window_are_stale():
    state = fail_times(AccountThrottle(), T0, 3)
    later = T0 + timedelta(hours=24, seconds=1)
    assert ACCOUNT_DAY.stale(state.markers, later) == {m for m in state.markers if marker_instant(m) <= T0 + seconds(1)}
    assert SOURCE_HOUR.stale(source_after_failure(SourceThrottle(), T0).markers, T0 + timedelta(minutes=59)) == set()
    assert len(SOURCE_HOUR.stale(source_after_failure(SourceThrottle(), T0).markers, T0 + timedelta(hours=1))) == 1


def test_source_allows_fifty_failures_an_hour_across_accounts():
    state = SourceThrottle()
    for i in range(SOURCE_MAX_FAILURES_PER_HOUR):
        now = T0 + timedelta(minutes=1) * i // 2  # 50 failures in 25 minutes
        assert source_retry_after(state, now) == 0, i
        state = source_after_failure(state, now)
    last = T0 + timedelta(minutes=1) * (SOURCE_MAX_FAILURES_PER_HOUR - 1) // 2
    assert source_retry_after(state, last) == int((T0 + timedelta(hours=1) - last).total_seconds())
    assert source_retry_after(state, T0 + timedelta(hours=1) - seconds(1)) == 1
    assert source_retry_after(state, T0 + timedelta(hours=1)) == 0
    state = source_after_failure(state, T0 + timedelta(hours=1))
    assert len(state.recent_failures) == SOURCE_MAX_FAILURES_PER_HOUR
    assert source_retry_after(state, T0 + timedelta(hours=1)) == 30  # the second one was at T0 + 30 s


def test_source_key_groups_an_ipv6_subscriber():
    assert source_key("203.0.113.7") == "203.0.113.7"
    assert source_key("2001:db8:1:2:aaaa::1") == source_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert source_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert source_key("not an address") == "not an address"
