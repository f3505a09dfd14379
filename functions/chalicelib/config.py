"""The commune's configuration (`content/commune.toml`), loaded into typed objects.

Every error names the file, the key and the reason, in French, because the people
who edit this file are the commune's staff.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.config_checks import (
    INVALID,
    Section,
    boolean,
    checked,
    choice,
    clock_time,
    day,
    integer,
    items,
    optional,
    place,
    section,
    section_class,
    tariffs,
    text,
    weekdays,
)

# The words commune.toml's `weekdays` and the week pattern's form accept (0: Monday).
# Read words: chalicelib.formatting (Babel); a test keeps the two the same.
WEEKDAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

# Where the function finds the file once deployed (`portail publish` copies it there);
# in a checkout, the staff-authored original under content/.
_PACKAGED = Path(__file__).with_name("commune.toml")
_CHECKOUT = Path(__file__).resolve().parents[2] / "content" / "commune.toml"


class ConfigError(Exception):
    """A commune.toml that cannot be used: the message says where and why."""


# Each section is a read-only dataclass, made with its keys named (config_checks.Section);
# each key says how it is read (chalicelib/config_checks.py).


@section_class
class DeadlineRule(Section):
    """Bookings for day D close at `time` on the `weekdays`-th weekday before D."""

    weekdays: int = checked(integer(ge=1, le=30))
    time: time = checked(clock_time())


@section_class
class QuotientBracket(Section):
    """A tariff bracket (`[[quotient_brackets]]`): families up to `max_quotient` € a month."""

    code: str = checked(text(min_length=1, max_length=8))
    label: str = checked(text(min_length=1))
    max_quotient: int | None = checked(optional(integer(ge=0)), default=None)


@section_class
class Service(Section):
    """A service families book (`[[services]]`): its days, period, places, deadline and prices."""

    code: str = checked(text(pattern=r"^[A-Z][A-Z0-9_]*$", example='des majuscules, chiffres ou _, par exemple "RESTAURATION"'))
    label: str = checked(text(min_length=1))
    description: str = checked(text(), default="")
    weekdays: frozenset[int] = checked(weekdays(WEEKDAY_NAMES))
    period: str = checked(choice("school", "holidays"))
    capacity: int | None = checked(optional(integer(ge=1)), default=None)
    deadline: DeadlineRule | None = checked(optional(section(DeadlineRule)), default=None)
    tariffs: dict[str, Decimal] = checked(tariffs())


@section_class
class HolidayPeriod(Section):
    """School holidays the commune sets itself (`calendar.school_holidays`), both days included."""

    name: str = checked(text(), default="Vacances scolaires")
    start: date = checked(day())
    end: date = checked(day())

    def check(self):
        if self.end < self.start:
            raise ValueError("la fin de la période précède son début")


@section_class
class CalendarOverrides(Section):
    """`[calendar]`: what completes or overrides the official calendars."""

    closed_days: list[date] = checked(items(day()), default_factory=list)
    extra_public_holidays: list[date] = checked(items(day()), default_factory=list)
    school_holidays: list[HolidayPeriod] = checked(items(section(HolidayPeriod)), default_factory=list)
    school_days: list[date] = checked(items(day()), default_factory=list)


@section_class
class Invoicing(Section):
    """`[invoicing]`: the invoices' numbers, date and due date."""

    number_prefix: str = checked(text(pattern=r"^[A-Z0-9-]{1,10}$", example='1 à 10 majuscules, chiffres ou -, par exemple "FAC"'))
    invoice_day: int = checked(integer(ge=1, le=28))
    due_days: int = checked(integer(ge=0, le=90))


@section_class
class Booking(Section):
    """`[booking]`: the default booking deadline (a service may have its own)."""

    deadline_weekdays: int = checked(integer(ge=1, le=30))
    deadline_time: time = checked(clock_time())


def _known_zone(value, where, problems):
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append((where, f"fuseau horaire inconnu « {value} »"))
        return INVALID
    return value


def _time_zone(value, where, problems):
    value = text()(value, where, problems)
    return value if value is INVALID else _known_zone(value, where, problems)


@section_class
class CommuneInfo(Section):
    """`[commune]`: who the commune is, its school zone and year, its address and contacts."""

    name: str = checked(text(min_length=1))
    regie: str = checked(text(min_length=1))
    school_zone: str = checked(choice("A", "B", "C"))
    school_year_start: str = checked(text(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
                                          example='mois-jour, par exemple "09-01"'))
    timezone: str = checked(_time_zone, default="Europe/Paris")
    site_url: str = checked(text(pattern=r"^https?://[^/\s]+$", example='l\'adresse sans / final, par exemple "https://famille.macommune.fr"'))
    contact_email: str = checked(text(), default="")
    contact_phone: str = checked(text(), default="")


@section_class
class FamilyDocumentKind(Section):
    """A document the commune asks families to provide (« Mes documents »), how long an
    accepted one stays valid, and whether it sets the tariff bracket (docs/configuration.md)."""

    code: str = checked(text(pattern=r"^[A-Z][A-Z0-9_]{0,19}$", example='1 à 20 majuscules, chiffres ou _, par exemple "QUOTIENT"'))
    label: str = checked(text(min_length=1, max_length=120))
    # Months an accepted document stays valid, counted from the day staff accept it.
    valid_months: int = checked(integer(ge=1, le=60))
    # Asked of every family (False: only some need it, a PAI for instance).
    required: bool = checked(boolean(), default=True)
    # An accepted one lets staff set the family's quotient bracket from a month they choose.
    sets_bracket: bool = checked(boolean(), default=False)
    description: str = checked(text(), default="")


@section_class
class Retention(Section):
    """How long personal data is kept (`portail family purge`); the page
    content/pages/donnees-personnelles.md states the same durations (a test checks it)."""

    # Booked days, requests, waiting lists: the current school year and the previous ones.
    bookings_school_years: int = checked(integer(ge=1, le=10), default=2)
    # Invoices, statement operations, payments (and invoice PDFs): years after the end of
    # the civil year (the commune's budget year) they belong to.
    accounting_years: int = checked(integer(ge=1, le=30), default=10)
    # Messages: years after they were sent.
    messages_years: int = checked(integer(ge=1, le=10), default=2)
    # Medical certificates (and their files): years after the end of the school year of
    # the last day they cover.
    certificates_years: int = checked(integer(ge=0, le=10), default=1)
    # Documents a family provided (« Mes documents ») and their files: years after the end
    # of their validity (a refused one: after the refusal).
    family_documents_years: int = checked(integer(ge=0, le=10), default=1)
    # Audit trail (logins, actions): months.
    audit_months: int = checked(integer(ge=1, le=120), default=12)
    # A family with no activity: its identity, children and logins, years after its last
    # activity (invoices stay for `accounting_years`).
    inactive_family_years: int = checked(integer(ge=1, le=10), default=2)


@section_class
class Commune(Section):
    """The whole commune.toml."""

    commune: CommuneInfo = checked(section(CommuneInfo))
    quotient_brackets: list[QuotientBracket] = checked(items(section(QuotientBracket), min_length=1))
    booking: Booking = checked(section(Booking))
    services: list[Service] = checked(items(section(Service), min_length=1))
    invoicing: Invoicing = checked(section(Invoicing))
    calendar: CalendarOverrides = checked(section(CalendarOverrides), default_factory=CalendarOverrides)
    retention: Retention = checked(section(Retention), default_factory=Retention)
    family_documents: list[FamilyDocumentKind] = checked(items(section(FamilyDocumentKind)), default_factory=list)

    def check(self):
        """What no single section can check: codes defined once, every bracket priced."""
        codes = [s.code for s in self.services]
        for code in codes:
            if codes.count(code) > 1:
                raise ValueError(f"le service {code} est défini deux fois")
        kinds = [k.code for k in self.family_documents]
        for code in kinds:
            if kinds.count(code) > 1:
                raise ValueError(f"le document à fournir {code} est défini deux fois")
        brackets = [b.code for b in self.quotient_brackets]
        for service in self.services:
            missing = [b for b in brackets if b not in service.tariffs]
            unknown = [b for b in service.tariffs if b not in brackets]
            if missing:
                raise ValueError(f"services.{service.code}.tariffs : il manque le tarif de la tranche {', '.join(missing)}")
            if unknown:
                raise ValueError(f"services.{service.code}.tariffs : tranche inconnue {', '.join(unknown)}")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.commune.timezone)

    def service(self, code: str) -> Service:
        for service in self.services:
            if service.code == code:
                return service
        raise KeyError(code)

    def family_document(self, code: str) -> FamilyDocumentKind | None:
        return next((kind for kind in self.family_documents if kind.code == code), None)

    def deadline_rule(self, service: Service) -> DeadlineRule:
        return service.deadline or DeadlineRule(
            weekdays=self.booking.deadline_weekdays, time=self.booking.deadline_time
        )

    @property
    def year_start(self) -> tuple[int, int]:
        """(month, day) of a school year's first day, from `school_year_start` (« 09-01 »);
        the school years themselves are chalicelib.calendar_rules'."""
        month, day = (int(part) for part in self.commune.school_year_start.split("-"))
        return month, day


_read_commune = section(Commune)


def parse_commune(text: str, source: str = "commune.toml") -> Commune:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source} : syntaxe TOML invalide ({error})") from None
    problems: list = []
    commune = _read_commune(data, (), problems)
    if problems:
        raise ConfigError("\n".join(f"{source} : {place(where)} : {reason}" for where, reason in problems))
    return commune


def load_commune(path: str | os.PathLike) -> Commune:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path} : fichier introuvable") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} : le fichier doit être enregistré en UTF-8") from None
    return parse_commune(text, str(path))


def default_path() -> Path:
    configured = os.environ.get("PORTAIL_COMMUNE_FILE")
    if configured:
        return Path(configured)
    return _PACKAGED if _PACKAGED.exists() else _CHECKOUT


@lru_cache(maxsize=4)
def _cached(path: str, mtime: float) -> Commune:
    return load_commune(path)


def get_commune() -> Commune:
    """The configuration in force, read once per process (and again if the file changes)."""
    path = default_path()
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise ConfigError(f"{path} : fichier introuvable") from None
    return _cached(str(path), mtime)
