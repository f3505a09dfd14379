"""The figures of commune.toml a public page names (`{{ delai_jours }}` …) and the
notices' `Expires`: shared by the Pelican build (portail/site_content.py, a plugin) and
the function's preview of staff-edited pages (/gestion/informations/, docs/content.md),
so that a preview states the very figures the published page will.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from chalicelib.calendar_rules import booking_deadline
from chalicelib.config import Commune, DeadlineRule
from chalicelib.formatting import french_day, time_of_day
from chalicelib.layout import ACCESSIBILITY_STATUS

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
EXPIRES_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d")


class UnknownPlaceholder(ValueError):
    """A `{{ name }}` the build does not know (French message naming the source)."""


def days_fr(count: int) -> str:
    return f"{count} jour{'s' if count > 1 else ''}"


def _example(day: date, rule: DeadlineRule, commune: Commune) -> str:
    """« pour le lundi 8 décembre, au plus tard le lundi 1er décembre à 23 h 59 »."""
    deadline = booking_deadline(day, rule, commune.tz)
    return (f"pour le {_without_year(day)}, au plus tard le {_without_year(deadline.date())} "
            f"à {time_of_day(rule.time)}")


def _without_year(day: date) -> str:
    return french_day(day).rsplit(" ", 1)[0]


def example_days(today: date) -> tuple[date, date]:
    """The Monday and the Friday of a week at least ten days ahead: far enough for a
    deadline still to come, near enough to read as « next week or the one after »."""
    start = today + timedelta(days=10)
    monday = start + timedelta(days=(7 - start.weekday()) % 7)
    return monday, monday + timedelta(days=4)


def rule_texts(commune: Commune, now: datetime) -> dict[str, str]:
    """The figures of commune.toml, as sentences' parts, under the names pages may use."""
    # The function's own rule; imported here, so that this module does not load storage.
    from chalicelib.bookings import ABSENCE_WINDOW

    rule = DeadlineRule(weekdays=commune.booking.deadline_weekdays, time=commune.booking.deadline_time)
    monday, friday = example_days(now.astimezone(commune.tz).date())
    particular = [
        f"{service.label} : au plus tard {days_fr(service.deadline.weekdays)} avant, "
        f"hors week-end, à {time_of_day(service.deadline.time)}"
        for service in commune.services
        if service.deadline is not None and service.deadline != rule
    ]
    invoicing = commune.invoicing
    return {
        "delai_jours": days_fr(rule.weekdays),
        "delai_heure": time_of_day(rule.time),
        "exemple_delai": _example(monday, rule, commune),
        "autre_exemple_delai": _example(friday, rule, commune),
        "delais_particuliers": (
            "Délais propres à certains services : " + " ; ".join(particular) + "."
            if particular else ""
        ),
        "jour_facture": "1er" if invoicing.invoice_day == 1 else str(invoicing.invoice_day),
        "echeance_jours": days_fr(invoicing.due_days),
        "absence_jours": days_fr(ABSENCE_WINDOW.days),
        "etat_accessibilite": ACCESSIBILITY_STATUS,
        "commune": commune.commune.name,
        "contact_courriel": commune.commune.contact_email,
        "contact_telephone": commune.commune.contact_phone,
    }


def fill(text: str, texts: dict[str, str], source: str) -> str:
    """`text` with every `{{ name }}` replaced; UnknownPlaceholder for an unknown name."""
    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in texts:
            known = ", ".join(sorted(texts))
            raise UnknownPlaceholder(f"{source} : « {match.group(0)} » est inconnu (possibles : {known})")
        return texts[name]

    # A placeholder alone in its paragraph may stand for nothing (no particular deadline).
    return PLACEHOLDER.sub(replace, text).replace("<p></p>", "")


def expires_at(value, tz) -> datetime | None:
    """The last instant a notice is shown: the end of its `Expires` day (or minute)."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    for pattern in EXPIRES_FORMATS:
        try:
            parsed = datetime.strptime(text, pattern)
        except ValueError:
            continue
        if pattern == "%Y-%m-%d":
            return datetime.combine(parsed.date() + timedelta(days=1), time(0), tzinfo=tz) - timedelta(microseconds=1)
        return parsed.replace(tzinfo=tz) + timedelta(minutes=1) - timedelta(microseconds=1)
    raise ValueError(f"Expires : « {text} » n'est pas une date AAAA-MM-JJ (ou AAAA-MM-JJ HH:MM)")


def is_expired(expires: datetime | None, now: datetime) -> bool:
    return expires is not None and now > expires
