"""What the public site's Markdown may rely on at build time (a Pelican plugin).

- **Figures from commune.toml.** A page may write `{{ delai_jours }}`, `{{ delai_heure }}`
  … (the names of `rule_texts`): the build replaces them with the configured values, so
  the guide never states a deadline the function does not apply. An unknown name stops
  the build (a typo must not reach parents as « {{ dleai }} »).
- **Notices that expire.** A notice with `Expires: AAAA-MM-JJ` (or `AAAA-MM-JJ HH:MM`)
  is published up to that day (or minute) included, then left out of the build: no page,
  no line in the lists, no feed entry. The build's clock is the portal's
  (`chalicelib.clock.now`, frozen by `PORTAIL_NOW` / `portail serve --now`).

pelicanconf.py computes the texts and the clock once per build (settings BUILD_TEXTS
and BUILD_NOW) and lists this module in PLUGINS.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, time, timedelta

from chalicelib.calendar_rules import booking_deadline
from chalicelib.config import Commune, DeadlineRule
from chalicelib.formatting import french_day, time_of_day
from chalicelib.layout import ACCESSIBILITY_STATUS

# A child of Pelican's logger: portail.build collects its errors with Pelican's own (whose
# « Could not process x.md » does not say why).
log = logging.getLogger("pelican.portail")

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
EXPIRES_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d")


class ContentError(Exception):
    """A page or notice the build cannot publish as written (French message)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        log.error("%s", message)


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
        "etat_accessibilite": ACCESSIBILITY_STATUS,
        "commune": commune.commune.name,
        "contact_courriel": commune.commune.contact_email,
        "contact_telephone": commune.commune.contact_phone,
    }


def fill(text: str, texts: dict[str, str], source: str) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in texts:
            known = ", ".join(sorted(texts))
            raise ContentError(f"{source} : « {match.group(0)} » est inconnu (possibles : {known})")
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


# --- Pelican's side ------------------------------------------------------------------------


def _fill_content(content) -> None:
    texts = content.settings.get("BUILD_TEXTS")
    if texts is None or not getattr(content, "_content", None):
        return
    source = getattr(content, "relative_source_path", None) or content.source_path
    content._content = fill(content._content, texts, source)
    for field in ("title", "description", "summary"):
        value = content.metadata.get(field)
        if isinstance(value, str) and "{{" in value:
            setattr(content, field, fill(value, texts, source))
            content.metadata[field] = getattr(content, field)


def _read_expiry(content) -> None:
    """Parses `Expires` when the notice is read, so that a bad date names its file."""
    from zoneinfo import ZoneInfo

    raw = content.metadata.get("expires")
    if raw is None:
        content.expires = None
        return
    tz = ZoneInfo(content.settings["TIMEZONE"])
    try:
        content.expires = expires_at(raw, tz)
    except ValueError as error:
        raise ContentError(f"{content.relative_source_path} : {error}") from None


def _content_init(content) -> None:
    _fill_content(content)
    if type(content).__name__ == "Article":
        _read_expiry(content)


def _drop_expired(generator) -> None:
    now = generator.settings.get("BUILD_NOW")
    if now is None:
        return
    for name in ("articles", "hidden_articles", "translations", "hidden_translations"):
        kept = [a for a in getattr(generator, name) if not is_expired(getattr(a, "expires", None), now)]
        setattr(generator, name, kept)


def register() -> None:
    from pelican import signals

    signals.content_object_init.connect(_content_init)
    signals.article_generator_pretaxonomy.connect(_drop_expired)
