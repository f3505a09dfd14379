"""Reminder mails (« Rappels par courriel », opt-in on « Mon compte »): a few days before
the booking deadline of the next month (or of the next month the child's services open:
the next school period), a responsable who asked for reminders gets one mail when a child
enrolled in a service has nothing booked in that month yet. Sent by the nightly run, at
most one a week per responsable, never with the bookings' details (the rule of the
message notices, chalicelib/messages.py: the mail says where to look, not what).

A waiting-list day decided (a freed seat, a staff decision) is already told at once, by a
message in the inbox and its notice mail to every responsable
(`family_actions.promote_waiting`, `staff/requests.decide`): no second mail for it here.

`due_reminders` decides, pure, the clock an argument; `send_reminders` writes and mails:
the week is taken by a conditional write on the responsable's `AGENDA#<rank>`
(`agenda_store.take_reminder_week`) before the mail leaves, so two nightly runs at once
send one mail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from chalicelib.calendar_rules import booking_deadline, month_end, month_start

log = logging.getLogger("portail.reminders")

REMINDER_DAYS_BEFORE = 3  # the nights from 3 days before the deadline's day to that day
REMINDER_INTERVAL = timedelta(days=7)  # at most one reminder mail a week per responsable
LOOK_AHEAD_MONTHS = 3  # the next period: the first month with an open day, within 3 months
BOOKED = {"validated", "pending", "absent"}  # a day the family has asked for
SUBJECT = "Portail Famille : pensez à réserver"


@dataclass(frozen=True)
class Reminder:
    family_number: str
    rank: int
    email: str
    month: date  # the first day of the month to book
    deadline: datetime  # the booking deadline of that month's first open day


def next_period(services, commune, calendar, today: date) -> tuple[date, datetime] | None:
    """The next month (after `today`'s) in which one of `services` opens, within
    LOOK_AHEAD_MONTHS, and the booking deadline of its first open day; None without one."""
    for ahead in range(1, LOOK_AHEAD_MONTHS + 1):
        first = month_start(today, ahead)
        deadlines = []
        for service in services:
            days = calendar.opening_days(service, first, month_end(first))
            if days:
                deadlines.append(booking_deadline(days[0], commune.deadline_rule(service), commune.tz))
        if deadlines:
            return first, min(deadlines)
    return None


def _after(text, instant: datetime) -> bool:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return False
    return moment.tzinfo is not None and moment > instant


def due_reminders(state, commune, calendar, now: datetime) -> list[Reminder]:
    """The reminders the family's responsables should get tonight: to each one who asked
    for reminders, has an e-mail and had none within REMINDER_INTERVAL, when a child
    enrolled in a service has nothing booked (validated, pending or absent) in its next
    period, whose deadline's day is at most REMINDER_DAYS_BEFORE days away and not past."""
    asking = [a for a in state.agendas if a.get("reminders") and not _after(a.get("reminded_at"), now - REMINDER_INTERVAL)]
    if not asking or state.profile is None:
        return []
    today = now.astimezone(commune.tz).date()
    known = {service.code: service for service in commune.services}
    due = None
    for child in state.children:
        services = [known[code] for code in child.get("services") or [] if code in known]
        period = next_period(services, commune, calendar, today) if services else None
        if period is None:
            continue
        month, deadline = period
        local_deadline = deadline.astimezone(commune.tz)
        if not (local_deadline.date() - timedelta(days=REMINDER_DAYS_BEFORE) <= today and now < deadline):
            continue
        first, last = month.isoformat(), month_end(month).isoformat()
        if any(d.get("child_id") == child.get("child_id") and d.get("status") in BOOKED
               and first <= str(d.get("date", ""))[:10] <= last for d in state.days):
            continue
        if due is None or deadline < due[1]:
            due = (month, deadline)
    if due is None:
        return []
    emails = {int(r["rank"]): (r.get("email") or "").strip() for r in state.responsables}
    return [Reminder(str(state.profile["family_number"]), int(a["rank"]), emails[int(a["rank"])], *due)
            for a in asking if emails.get(int(a["rank"]))]


def reminder_text(reminder: Reminder, site_url: str, commune_name: str = "") -> str:
    """The mail: the deadline and where to book; never which child, day or service."""
    from chalicelib.formatting import french_day, french_month, hours

    deadline = reminder.deadline
    where = f" de {commune_name}" if commune_name else ""
    return (
        "Bonjour,\n\n"
        f"La date limite pour réserver les premiers jours de {french_month(reminder.month)} est le "
        f"{french_day(deadline)} à {hours(deadline)}, et rien n'est encore réservé ce mois-là pour "
        "au moins un de vos enfants inscrits à un service.\n\n"
        f"Connectez-vous au Portail Famille{where} pour réserver : {site_url.rstrip('/')}/connexion/\n\n"
        "Pour protéger votre vie privée, ce courriel ne reprend pas le détail de vos réservations.\n"
        "Vous recevez ce rappel (au plus un par semaine) parce que vous l'avez demandé dans « Mon compte », "
        "où vous pouvez le désactiver.\n"
    )


def send_reminders(storage, mailer, reminders: list[Reminder], site_url: str, commune_name: str,
                   now: datetime) -> list[Reminder]:
    """Each reminder's week taken (a conditional write: reminders still on, none within
    the week), then its mail sent. Returns those sent. A mail SES refuses is logged (no
    address in the log) and not tried again this week: never two."""
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib.agenda_store import take_reminder_week

    sent = []
    for reminder in reminders:
        if not take_reminder_week(storage, reminder.family_number, reminder.rank, now, now - REMINDER_INTERVAL):
            continue
        try:
            mailer.send(reminder.email, SUBJECT, reminder_text(reminder, site_url, commune_name))
        except (BotoCoreError, ClientError):
            log.exception("reminder of family %s refused by SES", reminder.family_number)
            continue
        sent.append(reminder)
    return sent


class NightlyReminders:
    """The nightly run's visit of each family state read (`FamilyPages.export_all(visit=…)`)."""

    def __init__(self, storage, mailer, commune, site_url: str, now: datetime):
        from chalicelib.calendar_rules import CommuneCalendar

        self.storage, self.mailer, self.commune, self.site_url, self.now = storage, mailer, commune, site_url, now
        self.calendar = CommuneCalendar(commune)
        self.sent: list[Reminder] = []

    def visit(self, state) -> None:
        due = due_reminders(state, self.commune, self.calendar, self.now)
        if due:
            self.sent += send_reminders(self.storage, self.mailer, due, self.site_url, self.commune.commune.name,
                                        self.now)

    def run(self, family_slice: tuple[int, int]) -> tuple[int, list[str]]:
        """The nightly run of one slice of the families: (families read, those that
        failed). Nothing is read on a night no reminder can be due (`reminder_night`):
        most nights of a month."""
        if not reminder_night(self.commune, self.calendar, self.now):
            return 0, []
        from chalicelib.pages import in_slice

        read, failed = 0, []
        for number in self.storage.family_numbers():
            if not in_slice(number, *family_slice):
                continue
            try:
                self.visit(self.storage.family_state(number))
                read += 1
            except Exception:  # noqa: BLE001 - one family must not stop the others' reminders
                log.exception("family %s: reminders not decided", number)
                failed.append(str(number))
        return read, failed


def reminder_night(commune, calendar, now: datetime) -> bool:
    """Whether a reminder may be due at `now` for anybody: a service's next period has its
    deadline's day at most REMINDER_DAYS_BEFORE days away and not past (the window of
    `due_reminders`; a child's period is the earliest of its services', so a child due
    has a service due here). Pure: the nightly run reads the families only then."""
    today = now.astimezone(commune.tz).date()
    for service in commune.services:
        period = next_period([service], commune, calendar, today)
        if period is None:
            continue
        deadline = period[1]
        if deadline.astimezone(commune.tz).date() - timedelta(days=REMINDER_DAYS_BEFORE) <= today and now < deadline:
            return True
    return False
