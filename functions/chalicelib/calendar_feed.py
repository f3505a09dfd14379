"""A responsable's calendar feed (« Ajouter à mon agenda », docs/family-pages.md): the
children's booked days as an iCalendar file (RFC 5545), written beside the family pages
in the pages bucket under a secret key, `agenda/<feed key>.ics`, so that a phone's
calendar polls the CDN, never the function.

One all-day event per child and day, listing that day's services and their state
(« Anna : RESTAURATION, GARDERIE SOIR (en attente) »): the commune's services carry no
hours to put in a timed event, and a phone's month view shows one line per child and
day rather than up to four. The event's UID is the child and the day, so that a day
booked, cancelled or declared absent changes its event in the calendar, never adds one;
its DTSTAMP is the day's last change, so that the file only changes with the bookings
(the refresh at the first login of a day writes a feed again only when its bytes change).

Rendering is pure (the family's state read by the caller, the day as an argument);
`icalendar` is imported by the first feed made, never at the function's start.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import groupby

from chalicelib.calendar_rules import month_start

FEED_PREFIX = "agenda/"
FEED_CONTENT_TYPE = "text/calendar; charset=utf-8"
# Polled through the CDN, which asks S3 again each time (cheap, and a revoked feed is
# gone at once); never the function.
FEED_CACHE_CONTROL = "no-cache"
# What a calendar may keep between two polls (RFC 7986 REFRESH-INTERVAL, and the older
# X-PUBLISHED-TTL most applications read).
REFRESH_INTERVAL = timedelta(hours=6)
# The days shown: from the first of the previous month (the month pages' window,
# chalicelib.pages.names.MONTHS_SHOWN), every booked day after it.
MONTHS_BEFORE = 1
# The states a parent plans around: booked, waiting for a seat, declared absent.
SHOWN_STATUSES = {"validated": "", "pending": "en attente", "absent": "absent"}


def feed_object_key(feed_key: str) -> str:
    """The feed's key in the pages bucket."""
    return f"{FEED_PREFIX}{feed_key}.ics"


def feed_path(feed_key: str) -> str:
    """The feed's address on the portal's domain (CloudFront's `/agenda/*`, no cookie)."""
    return "/" + feed_object_key(feed_key)


def feed_days(state, today: date) -> list[dict]:
    """The booked days shown, one per child and day, in date then child order: `child_id`,
    `first_name`, `date`, `services` [(service code, status)], `changed_at` (the last
    change of the day's items, ISO)."""
    first = month_start(today, -MONTHS_BEFORE).isoformat()
    names = {c["child_id"]: c.get("first_name", "") for c in state.children}
    rows = sorted(
        (str(d["date"])[:10], str(d["child_id"]), str(d["service"]), d["status"],
         str(d.get("updated_at") or d.get("requested_at") or ""))
        for d in state.days if d.get("status") in SHOWN_STATUSES and str(d.get("date", ""))[:10] >= first
    )
    days = []
    for (day, child), items in groupby(rows, key=lambda row: (row[0], row[1])):
        items = list(items)
        days.append({"child_id": child, "first_name": names.get(child, ""), "date": day,
                     "services": [(service, status) for _, _, service, status, _ in items],
                     "changed_at": max(changed for *_, changed in items)})
    return days


def _summary(first_name: str, services: list[tuple[str, str]], labels: dict[str, str]) -> str:
    words = []
    for service, status in services:
        label = labels.get(service, service)
        words.append(f"{label} ({SHOWN_STATUSES[status]})" if SHOWN_STATUSES[status] else label)
    return f"{first_name or 'Enfant'} : {', '.join(words)}"


def _instant(text: str, fallback: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return fallback
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)


def render_feed(state, commune, today: date, site_url: str) -> bytes:
    """The feed's bytes: a VCALENDAR of the family's booked days (`feed_days`)."""
    from icalendar import Calendar, Event, vDuration

    host = site_url.split("://", 1)[-1].split("/", 1)[0] or "portail"
    labels = {service.code: service.label for service in commune.services}
    name = f"Portail Famille – {commune.commune.name}"
    calendar = Calendar()
    calendar.add("prodid", f"-//Portail Famille//{commune.commune.name}//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", commune.commune.timezone)
    calendar.add("refresh-interval", vDuration(REFRESH_INTERVAL), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    where = f"Réserver, annuler ou déclarer une absence : {site_url.rstrip('/')}/connexion/"
    for day in feed_days(state, today):
        start = date.fromisoformat(day["date"])
        event = Event()
        event.add("uid", f"{day['child_id']}-{start:%Y%m%d}@{host}")
        event.add("dtstamp", _instant(day["changed_at"], epoch))
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(days=1))
        event.add("summary", _summary(day["first_name"], day["services"], labels))
        event.add("description", where)
        event.add("status", "TENTATIVE" if any(s == "pending" for _, s in day["services"]) else "CONFIRMED")
        event.add("transp", "TRANSPARENT")  # a day at school does not make the parent busy
        calendar.add_component(event)
    return calendar.to_ical()
