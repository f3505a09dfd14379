"""Reminder mails (docs/family-pages.md « Reminders »): only to the responsables who asked,
only when nothing is booked in the next period, a few days before its deadline, once a
week at most, even when two nightly runs race."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from chalicelib import agenda_store
from chalicelib.calendar_rules import CommuneCalendar
from chalicelib.reminders import Reminder, due_reminders, send_reminders

from tests.conftest import add_family, race
from tests.test_calendar_feed import put_day
from tests.test_notices import nightly

PARIS = ZoneInfo("Europe/Paris")
# January 2015 opens on Monday 5 (the Christmas holidays of zone C end on the 4th): its
# deadline is Monday 29 December 2014, 23:59 (5 weekdays before).
JANUARY_DEADLINE = datetime(2014, 12, 29, 23, 59, tzinfo=PARIS)
NIGHT = datetime(2014, 12, 26, 2, 0, tzinfo=PARIS)  # 3 days before the deadline's day


def asks(storage, family: str, rank: int = 1, login: str = "alice") -> None:
    agenda_store.set_reminders(storage, family, rank, login, True, NIGHT - timedelta(days=30))


def test_who_gets_a_reminder_is_decided_by_the_clock(storage, enrolled, commune):
    calendar = CommuneCalendar(commune)

    def due(now, family="100"):
        return due_reminders(storage.family_state(family), commune, calendar, now)

    assert due(NIGHT) == []  # nobody asked
    asks(storage, "100")
    reminder = Reminder("100", 1, "alice@example.org", JANUARY_DEADLINE.date().replace(year=2015, month=1, day=1),
                        JANUARY_DEADLINE)
    assert due(NIGHT) == [reminder]
    assert due(datetime(2014, 12, 29, 23, 0, tzinfo=PARIS)) == [reminder]  # the deadline's own evening
    assert due(datetime(2014, 12, 25, 2, 0, tzinfo=PARIS)) == []  # too early
    assert due(datetime(2014, 12, 30, 2, 0, tzinfo=PARIS)) == []  # too late: the deadline has passed
    # A day asked for in January (pending counts: the family has asked), and nothing is due.
    put_day(storage, "100", "2015-01-09", "GARDERIE_MIDI", "pending")
    assert due(NIGHT) == []
    storage.batch_write([], [("FAMILY#100", "DAY#1#2015-01-09#GARDERIE_MIDI")])
    put_day(storage, "100", "2015-01-09", "GARDERIE_MIDI", "cancelled")  # a cancelled day books nothing
    assert due(NIGHT) == [reminder]
    # Reminded within the week: not again; a week later, again.
    storage.update_attributes("FAMILY#100", "AGENDA#1", {"reminded_at": "2014-12-24T01:00:00+00:00"})
    assert due(NIGHT) == []
    assert due(NIGHT + timedelta(days=3)) == []
    storage.update_attributes("FAMILY#100", "AGENDA#1", {"reminded_at": "2014-12-18T01:00:00+00:00"})
    assert due(NIGHT) == [reminder]
    # The summer: the next period is September's (July and August have no school day).
    summer = due(datetime(2015, 8, 24, 2, 0, tzinfo=PARIS))
    assert [(r.month.isoformat(), r.deadline.date().isoformat()) for r in summer] == [("2015-09-01", "2015-08-25")]


def test_the_nightly_run_mails_once_only_who_asked_without_the_bookings(client, storage, enrolled, mails,
                                                                       frozen_clock):
    asks(storage, "100")  # alice asks, with nothing booked in January
    asks(storage, "200", login="bob")  # bob asks, and has booked in January
    put_day(storage, "200", "2015-01-06", "RESTAURATION", "validated")
    add_family(storage, "300", "carole", None, last_name="CHARLIE", child="CLARA", email="carole@example.org")
    frozen_clock(NIGHT.isoformat())  # carole asked nothing, and has nothing booked

    def night(day: str) -> int:
        answers = [nightly(client, f"{day}T01:{minute:02d}:00Z").payload for minute in range(0, 60, 5)]
        assert not any(a["failed"] for a in answers)
        return sum(a["reminders"] for a in answers)

    assert night("2014-12-26") == 1
    (mail,) = mails()
    assert (mail["To"], mail["Subject"]) == ("alice@example.org", "Portail Famille : pensez à réserver")
    assert "janvier 2015" in mail["Body"] and "lundi 29 décembre 2014 à 23 h 59" in mail["Body"]
    assert "http://127.0.0.1:8000/connexion/" in mail["Body"]
    for private in ("ANNA", "RESTAURATION", "GARDERIE", "ALPHA"):  # no child, service nor name
        assert private not in mail["Body"]
    # The next nights before the deadline: nothing more (one mail a week).
    frozen_clock((NIGHT + timedelta(days=1)).isoformat())
    assert night("2014-12-27") == 0
    # Reminders off: none, whatever the week.
    agenda_store.set_reminders(storage, "100", 1, "alice", False, NIGHT)
    storage.update_attributes("FAMILY#100", "AGENDA#1", {"reminded_at": "2014-12-01T01:00:00+00:00"})
    frozen_clock((NIGHT + timedelta(days=2)).isoformat())
    assert night("2014-12-28") == 0
    assert len(mails()) == 1


@pytest.mark.server
def test_two_nightly_runs_at_once_send_one_mail(embedded_aws, embedded_resources):
    from tests.test_accounts_race import CapturingMailer, storage_for

    storage = storage_for(embedded_aws, 8)
    add_family(storage, "100", "alice", None, last_name="ALPHA", child="ANNA", email="alice@example.org")
    asks(storage, "100")
    reminder = Reminder("100", 1, "alice@example.org", JANUARY_DEADLINE.date(), JANUARY_DEADLINE)
    mailer = CapturingMailer()
    answers = race(8, lambda n: send_reminders(storage, mailer, [reminder], "http://127.0.0.1:8000", "", NIGHT))
    assert sorted(len(a) for a in answers) == [0] * 7 + [1]
    assert [to for to, _, _ in mailer.sent] == ["alice@example.org"]


def test_the_nightly_run_reads_no_family_on_a_night_no_reminder_can_be_due(client, storage, enrolled, commune,
                                                                          frozen_clock):
    """The nights outside every service's reminder window read nothing (each Query is paid):
    in December 2014, the nights of 26 to 29 (January's deadline) only."""
    from chalicelib.reminders import reminder_night

    calendar = CommuneCalendar(commune)
    nights = [day for day in range(1, 32)
              if reminder_night(commune, calendar, datetime(2014, 12, day, 2, 0, tzinfo=PARIS))]
    assert nights == [26, 27, 28, 29]
    asks(storage, "100")
    frozen_clock("2014-12-10T02:00:00+01:00")
    answers = [nightly(client, f"2014-12-10T01:{minute:02d}:00Z").payload for minute in range(0, 60, 5)]
    assert sum(a["families"] for a in answers) == 0 and sum(a["reminders"] for a in answers) == 0
    frozen_clock(NIGHT.isoformat())
    answers = [nightly(client, f"2014-12-26T01:{minute:02d}:00Z").payload for minute in range(0, 60, 5)]
    assert sum(a["families"] for a in answers) == len(storage.family_numbers())
