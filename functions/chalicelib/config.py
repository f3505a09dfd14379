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
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeadlineRule(_Strict):
    """Bookings for day D close at `time` on the `weekdays`-th weekday before D."""

    weekdays: int = Field(ge=1, le=30)
    time: time


class QuotientBracket(_Strict):
    code: str = Field(min_length=1, max_length=8)
    label: str = Field(min_length=1)
    max_quotient: int | None = Field(default=None, ge=0)


class Service(_Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    label: str = Field(min_length=1)
    description: str = ""
    weekdays: frozenset[int]
    period: Literal["school", "holidays"]
    capacity: int | None = Field(default=None, ge=1)
    deadline: DeadlineRule | None = None
    tariffs: dict[str, Decimal]

    @field_validator("weekdays", mode="before")
    @classmethod
    def _weekday_names(cls, value):
        if not isinstance(value, list) or not value:
            raise ValueError("donnez une liste non vide de jours, par exemple [\"lundi\", \"mardi\"]")
        days = set()
        for name in value:
            key = str(name).strip().lower()
            if key not in WEEKDAY_NAMES:
                raise ValueError(f"jour inconnu « {name} » (attendu : {', '.join(WEEKDAY_NAMES)})")
            days.add(WEEKDAY_NAMES.index(key))
        return frozenset(days)

    @field_validator("tariffs", mode="before")
    @classmethod
    def _prices_are_strings(cls, value):
        # Prices are written as strings so that no float ever rounds a euro.
        if isinstance(value, dict):
            for bracket, price in value.items():
                if isinstance(price, float):
                    raise ValueError(f"le tarif {bracket} doit être écrit entre guillemets, par exemple \"{price:.2f}\"")
        return value

    @field_validator("tariffs")
    @classmethod
    def _prices_positive(cls, value):
        for bracket, price in value.items():
            if price < 0 or price != price.quantize(Decimal("0.01")):
                raise ValueError(f"le tarif {bracket} doit être un montant positif en euros et centimes")
        return value


class HolidayPeriod(_Strict):
    name: str = "Vacances scolaires"
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError("la fin de la période précède son début")
        return self


class CalendarOverrides(_Strict):
    closed_days: list[date] = []
    extra_public_holidays: list[date] = []
    school_holidays: list[HolidayPeriod] = []
    school_days: list[date] = []


class Invoicing(_Strict):
    number_prefix: str = Field(pattern=r"^[A-Z0-9-]{1,10}$")
    invoice_day: int = Field(ge=1, le=28)
    due_days: int = Field(ge=0, le=90)


class Booking(_Strict):
    deadline_weekdays: int = Field(ge=1, le=30)
    deadline_time: time


class CommuneInfo(_Strict):
    name: str = Field(min_length=1)
    regie: str = Field(min_length=1)
    school_zone: Literal["A", "B", "C"]
    school_year_start: str = Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
    timezone: str = "Europe/Paris"
    site_url: str = Field(pattern=r"^https?://[^/\s]+$")
    contact_email: str = ""
    contact_phone: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value):
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"fuseau horaire inconnu « {value} »") from None
        return value


class FamilyDocumentKind(_Strict):
    """A document the commune asks families to provide (« Mes documents »), how long an
    accepted one stays valid, and whether it sets the tariff bracket (docs/configuration.md)."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,19}$")
    label: str = Field(min_length=1, max_length=120)
    # Months an accepted document stays valid, counted from the day staff accept it.
    valid_months: int = Field(ge=1, le=60)
    # Asked of every family (False: only some need it, a PAI for instance).
    required: bool = True
    # An accepted one lets staff set the family's quotient bracket from a month they choose.
    sets_bracket: bool = False
    description: str = ""


class Retention(_Strict):
    """How long personal data is kept (`portail family purge`); the page
    content/pages/donnees-personnelles.md states the same durations (a test checks it)."""

    # Booked days, requests, waiting lists: the current school year and the previous ones.
    bookings_school_years: int = Field(default=2, ge=1, le=10)
    # Invoices, statement operations, payments (and invoice PDFs): years after the end of
    # the civil year (the commune's budget year) they belong to.
    accounting_years: int = Field(default=10, ge=1, le=30)
    # Messages: years after they were sent.
    messages_years: int = Field(default=2, ge=1, le=10)
    # Medical certificates (and their files): years after the end of the school year of
    # the last day they cover.
    certificates_years: int = Field(default=1, ge=0, le=10)
    # Documents a family provided (« Mes documents ») and their files: years after the end
    # of their validity (a refused one: after the refusal).
    family_documents_years: int = Field(default=1, ge=0, le=10)
    # Audit trail (logins, actions): months.
    audit_months: int = Field(default=12, ge=1, le=120)
    # A family with no activity: its identity, children and logins, years after its last
    # activity (invoices stay for `accounting_years`).
    inactive_family_years: int = Field(default=2, ge=1, le=10)


class Commune(_Strict):
    commune: CommuneInfo
    quotient_brackets: list[QuotientBracket] = Field(min_length=1)
    booking: Booking
    services: list[Service] = Field(min_length=1)
    invoicing: Invoicing
    calendar: CalendarOverrides = CalendarOverrides()
    retention: Retention = Retention()
    family_documents: list[FamilyDocumentKind] = []

    @model_validator(mode="after")
    def _consistent(self):
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
        return self

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



def _where(loc: tuple) -> str:
    parts = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(racine)"


_REASONS = {
    "missing": "clé obligatoire absente",
    "extra_forbidden": "clé inconnue",
}


def parse_commune(text: str, source: str = "commune.toml") -> Commune:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source} : syntaxe TOML invalide ({error})") from None
    try:
        return Commune.model_validate(data)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            reason = _REASONS.get(problem["type"]) or problem["msg"].removeprefix("Value error, ")
            lines.append(f"{source} : {_where(problem['loc'])} : {reason}")
        raise ConfigError("\n".join(lines)) from None


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
