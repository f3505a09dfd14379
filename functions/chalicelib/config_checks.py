"""How commune.toml's values are read and checked (chalicelib/config.py declares its
sections with them): a few plain readers, each turning one TOML value into what the
portal uses or stating, in French, what is wrong with it.

Hand-written rather than a validation library: the function reads this file on every
cold start, and pydantic alone cost about a third of it (docs/architecture.md, « Cold
start »). Every problem is collected, so that staff see all their mistakes at once,
each named by where it is (« services[2].weekdays ») and why.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

# A reader: (value, where, problems) → the value read, or INVALID once it has added
# (where, reason) to problems.
Reader = Callable[[object, tuple, list], object]
INVALID = object()


class Invalid(ValueError):
    """A value's reason, in French (raised inside a reader, recorded at its place)."""


class Section:
    """A section of commune.toml once read: read-only, equal to another when all its keys
    are. Its subclasses are dataclasses for their fields (`dataclasses.fields`, `replace`)
    whose methods are these, shared: a frozen dataclass generates and compiles six methods
    per class, 5 ms of every cold start for commune.toml's eleven sections."""

    __slots__ = ()

    def __init__(self, **values):
        for f in dataclasses.fields(self):
            if f.name in values:
                value = values.pop(f.name)
            elif f.default_factory is not dataclasses.MISSING:
                value = f.default_factory()
            elif f.default is not dataclasses.MISSING:
                value = f.default
            else:
                raise TypeError(f"{type(self).__name__}: missing {f.name!r}")
            object.__setattr__(self, f.name, value)
        if values:
            raise TypeError(f"{type(self).__name__}: unexpected {', '.join(map(repr, values))}")

    def _values(self) -> tuple:
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self))

    def __eq__(self, other):
        return self._values() == other._values() if other.__class__ is self.__class__ else NotImplemented

    def __hash__(self):
        return hash(self._values())

    def __repr__(self):
        values = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self))
        return f"{type(self).__name__}({values})"

    def __setattr__(self, name, value):
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name):
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def section_class(cls: type) -> type:
    """Declares a section: `class Booking(Section)` with `checked` fields."""
    return dataclasses.dataclass(init=False, repr=False, eq=False)(cls)


def checked(reader: Reader, **options) -> dataclasses.Field:
    """A dataclass field read by `reader` (options: `default=` or `default_factory=`)."""
    return dataclasses.field(metadata={"read": reader}, **options)


def _simple(check: Callable[[object], object]) -> Reader:
    """A reader from a function that converts a value or raises Invalid."""
    def read(value, where, problems):
        try:
            return check(value)
        except Invalid as reason:
            problems.append((where, str(reason)))
            return INVALID
    return read


def _bounded(value, ge, le, unit=""):
    if (ge is not None and value < ge) or (le is not None and value > le):
        if ge is not None and le is not None:
            raise Invalid(f"doit être compris entre {ge} et {le}{unit} (lu : {value})")
        raise Invalid(f"doit être au moins {ge}{unit} (lu : {value})" if ge is not None
                      else f"doit être au plus {le}{unit} (lu : {value})")
    return value


def text(*, min_length: int = 0, max_length: int | None = None, pattern: str | None = None,
         example: str = "") -> Reader:
    """A string; `pattern` (with `example`, the expected form as staff read it)."""
    compiled = re.compile(pattern) if pattern else None

    def check(value):
        if not isinstance(value, str):
            raise Invalid("un texte entre guillemets est attendu")
        if len(value) < min_length:
            raise Invalid("ne doit pas être vide")
        if max_length is not None and len(value) > max_length:
            raise Invalid(f"{max_length} caractères au plus (lu : {len(value)})")
        if compiled and not compiled.match(value):
            raise Invalid(f"forme inattendue « {value} » (attendu : {example})")
        return value
    return _simple(check)


def integer(*, ge: int | None = None, le: int | None = None) -> Reader:
    """A whole number (also written "3" or 3.0, as staff may)."""
    def check(value):
        if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            value = int(value)
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"un nombre entier est attendu (lu : {value!r})")
        return _bounded(value, ge, le)
    return _simple(check)


def boolean() -> Reader:
    def check(value):
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise Invalid(f"true ou false est attendu (lu : {value!r})")
        return value
    return _simple(check)


def choice(*allowed: str) -> Reader:
    def check(value):
        if value not in allowed:
            expected = f"{', '.join(allowed[:-1])} ou {allowed[-1]}" if len(allowed) > 1 else allowed[0]
            raise Invalid(f"valeur inattendue « {value} » (attendu : {expected})")
        return value
    return _simple(check)


def _iso(kind, already, message: str) -> Reader:
    """A value TOML may give typed (`already`), or as ISO text parsed by `kind`; anything
    else, a number included, is refused with `message`."""
    def check(value):
        if already(value):
            return value
        if isinstance(value, str):
            try:
                return kind.fromisoformat(value)
            except ValueError:
                pass
        raise Invalid(message.format(value=value))
    return _simple(check)


def clock_time() -> Reader:
    """A time of day: "23:59" (or a TOML time)."""
    return _iso(time, lambda v: isinstance(v, time),
                "heure invalide « {value} » (attendu : heures:minutes, par exemple \"23:59\")")


def day() -> Reader:
    """A date: "2014-11-10" (or a TOML date)."""
    return _iso(date, lambda v: isinstance(v, date) and not isinstance(v, datetime),
                "date invalide « {value} » (attendu : année-mois-jour, par exemple \"2014-11-10\")")


def optional(reader: Reader) -> Reader:
    return lambda value, where, problems: None if value is None else reader(value, where, problems)


def items(reader: Reader, *, min_length: int = 0) -> Reader:
    """A list, each element read by `reader`."""
    def read(value, where, problems):
        if not isinstance(value, list):
            problems.append((where, "une liste est attendue, entre crochets [ ]"))
            return INVALID
        if len(value) < min_length:
            problems.append((where, "au moins un élément est attendu"))
            return INVALID
        read_items = [reader(item, (*where, index), problems) for index, item in enumerate(value)]
        return INVALID if INVALID in read_items else read_items
    return read


def section(cls: type) -> Reader:
    """A TOML table read into the dataclass `cls`: each field by the reader it was declared
    with (`checked`), unknown keys refused, then `cls.check()` if it has one (the checks
    that need the whole section: a ValueError there is reported at the section)."""
    fields = dataclasses.fields(cls)
    names = {f.name for f in fields}

    def read(value, where, problems):
        if not isinstance(value, dict):
            problems.append((where, "une table est attendue"))
            return INVALID
        before = len(problems)
        values = {}
        for f in fields:
            if f.name in value:
                values[f.name] = f.metadata["read"](value[f.name], (*where, f.name), problems)
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                problems.append(((*where, f.name), "clé obligatoire absente"))
        problems.extend(((*where, key), "clé inconnue") for key in value if key not in names)
        if len(problems) > before:
            return INVALID
        made = cls(**values)
        try:
            getattr(made, "check", lambda: None)()
        except ValueError as reason:
            problems.append((where, str(reason)))
            return INVALID
        return made
    return read


def place(where: tuple) -> str:
    """« services[2].weekdays », as staff find it in the file."""
    parts = []
    for item in where:
        parts.append(f"[{item}]" if isinstance(item, int) else ("." if parts else "") + str(item))
    return "".join(parts) or "(racine)"


# --- the readers of one key ----------------------------------------------------------------

def weekdays(names: tuple[str, ...]) -> Reader:
    """["lundi", "mardi"] → frozenset({0, 1}) (0: Monday)."""
    def check(value):
        if not isinstance(value, list) or not value:
            raise Invalid("donnez une liste non vide de jours, par exemple [\"lundi\", \"mardi\"]")
        days = set()
        for name in value:
            key = str(name).strip().lower()
            if key not in names:
                raise Invalid(f"jour inconnu « {name} » (attendu : {', '.join(names)})")
            days.add(names.index(key))
        return frozenset(days)
    return _simple(check)


def tariffs() -> Reader:
    """{ A = "1.40" } → {"A": Decimal("1.40")}. Prices are written as strings so that no
    float ever rounds a euro."""
    def check(value):
        if not isinstance(value, dict):
            raise Invalid("une table de tarifs est attendue, par exemple { A = \"1.40\", B = \"2.45\" }")
        prices = {}
        for bracket, price in value.items():
            if isinstance(price, float):
                raise Invalid(f"le tarif {bracket} doit être écrit entre guillemets, par exemple \"{price:.2f}\"")
            try:
                amount = Decimal(price) if isinstance(price, str | int) and not isinstance(price, bool) else None
            except InvalidOperation:
                amount = None
            if amount is None or not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
                raise Invalid(f"le tarif {bracket} doit être un montant positif en euros et centimes")
            prices[bracket] = amount
        return prices
    return _simple(check)
