"""The kitchen's headcount: for a service on a day, the children expected, the absent
ones (billed, not expected) and the waiting list in order, with the capacity and the
closure if the service is closed that day.

Read from the index `gsi1` (`SERVICEDAY#<service>#<date>`: every child's day of that
service, one Query per service and day, never a Scan), then the children's and
responsables' names and birth dates with one BatchGetItem (chalicelib/staff/names.py).
The waiting list is the `pending` days in arrival order: a waiting day's `requested_at`
is the instant of its WAIT entry, so its order is the WAIT entries' order.

`/gestion/effectifs/` and `portail headcount` read it here; their CSV is `csv_text`'s,
the same rows by construction. Pure but for `Headcount.read`; the day is an argument.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from chalicelib import storage as st
from chalicelib.calendar_rules import Closure, CommuneCalendar
from chalicelib.config import Commune, Service
from chalicelib.refusals import Refusal
from chalicelib.staff import names

CSV_HEADER = ("service", "date", "etat", "numero_famille", "numero_enfant", "enfant", "responsable", "rang_attente")
# The CSV's states, in the order of its rows for a service and day.
EXPECTED, ABSENT, WAITING = "attendu", "absent", "liste d'attente"
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Entry:
    """One child on one service's day."""

    family: str
    child: str
    name: str  # « NOM Prénom » (the child id when the child is not found)
    age: int | None  # in whole years on that day; None without a birth date
    responsable: str  # « Civilité PRÉNOM NOM » of who booked (and is billed)
    responsable_rank: int
    channel: str  # online, paper, staff
    position: int | None = None  # on the waiting list: 1 = next in line
    requested_at: str = ""  # ISO instant, UTC
    review: bool = False  # asked again after a staff refusal: staff decide


@dataclass
class ServiceDay:
    service: Service
    day: date
    closure: Closure | None
    expected: list[Entry] = field(default_factory=list)
    absent: list[Entry] = field(default_factory=list)
    waiting: list[Entry] = field(default_factory=list)

    @property
    def capacity(self) -> int | None:
        return self.service.capacity

    @property
    def full(self) -> bool:
        return bool(self.capacity) and len(self.expected) >= self.capacity

    def by_state(self) -> list[tuple[str, list[Entry]]]:
        return [(EXPECTED, self.expected), (ABSENT, self.absent), (WAITING, self.waiting)]


# --- what staff ask for (pure) ----------------------------------------------------------------------

def age_on(birth: date | str | None, day: date) -> int | None:
    """Whole years on `day` (a child born on 29 February turns a year older on 1 March)."""
    if not birth:
        return None
    born = birth if isinstance(birth, date) else date.fromisoformat(str(birth)[:10])
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def parse_day(text: str) -> date:
    """AAAA-MM-JJ (the date field's value); a French 400 otherwise."""
    try:
        if _DAY.match(text.strip()):
            return date.fromisoformat(text.strip())
    except ValueError:
        pass
    raise Refusal(400, "invalid_date", f"Date « {text} » invalide : choisissez un jour (AAAA-MM-JJ).")


def week_days(text: str) -> list[date]:
    """The seven days (Monday first) of an ISO week written AAAA-Snn (« 2014-W50 »)."""
    found = _WEEK.match(text.strip())
    try:
        if found:
            monday = date.fromisocalendar(int(found[1]), int(found[2]), 1)
            return [monday + timedelta(days=n) for n in range(7)]
    except ValueError:
        pass
    raise Refusal(400, "invalid_week", f"Semaine « {text} » invalide : écrivez l'année et le numéro de la semaine "
                                       "(par exemple 2014-W50).")


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# --- reading ----------------------------------------------------------------------------------------

class Headcount:
    def __init__(self, storage: st.Storage, commune: Commune, calendar: CommuneCalendar | None = None):
        self.storage = storage
        self.commune = commune
        self.calendar = calendar or CommuneCalendar(commune)

    def service(self, code: str) -> Service:
        try:
            return self.commune.service(code)
        except KeyError:
            codes = ", ".join(s.code for s in self.commune.services)
            raise Refusal(400, "invalid_service", f"Service « {code} » inconnu (attendu : {codes}).") from None

    def day(self, day: date, service: str | None = None) -> list[ServiceDay]:
        """The services open that day (or the one asked, even closed), in the commune's order."""
        services = [self.service(service)] if service else [
            s for s in self.commune.services if self.calendar.is_open(day, s)]
        return self.read([(s, day) for s in services])

    def week(self, days: list[date], service: str | None = None) -> list[ServiceDay]:
        """Each service (or the one asked), its open days of `days`, by service then day."""
        services = [self.service(service)] if service else list(self.commune.services)
        return self.read([(s, d) for s in services for d in days if self.calendar.is_open(d, s)])

    def read(self, wanted: list[tuple[Service, date]], with_names: bool = True) -> list[ServiceDay]:
        """One Query of gsi1 per service and day; then, `with_names`, one BatchGetItem of
        the children and responsables (without: the numbers only, as /gestion/ shows them)."""
        found = [(service, day, [i for i in self.storage.query_index(st.service_day_pk(service.code, day))
                                 if i["sk"].startswith("DAY#")]) for service, day in wanted]
        people = names.read(self.storage, [
            (i["pk"].removeprefix("FAMILY#"), i["child_id"], int(i.get("responsable_rank") or 1))
            for _, _, items in found for i in items if i.get("status") in ("validated", "absent", "pending")
        ]) if with_names else names.People()
        return [service_day(service, day, items, people, self.calendar.closure(day, service))
                for service, day, items in found]


def service_day(service: Service, day: date, items: list[dict], people: names.People,
                closure: Closure | None) -> ServiceDay:
    """The day items of one service's day sorted for the kitchen: expected and absent by
    name, the waiting list by arrival (pure)."""
    def entry(item: dict, position: int | None = None) -> Entry:
        family, child = item["pk"].removeprefix("FAMILY#"), item["child_id"]
        rank = int(item.get("responsable_rank") or 1)
        child_item = people.child(family, child) or {}
        return Entry(family, child, people.child_name(family, child), age_on(child_item.get("birth_date"), day),
                     people.responsable_name(family, rank), rank, item.get("channel", ""), position,
                     str(item.get("requested_at", "")), item.get("reason") == "staff_review")

    ordered = sorted(items, key=lambda i: i["gsi1sk"])
    named = sorted(((i["status"], entry(i)) for i in ordered if i.get("status") in ("validated", "absent")),
                   key=lambda pair: pair[1].name)
    pending = sorted((i for i in ordered if i.get("status") == "pending"),
                     key=lambda i: (str(i.get("requested_at", "")), i["gsi1sk"]))
    return ServiceDay(
        service, day, closure,
        expected=[e for status, e in named if status == "validated"],
        absent=[e for status, e in named if status == "absent"],
        waiting=[entry(i, position) for position, i in enumerate(pending, start=1)],
    )


# --- the CSV: `portail headcount --csv` and /gestion/effectifs/?format=csv ----------------------------

def csv_rows(days: list[ServiceDay]) -> list[tuple[str, ...]]:
    """The header, then per service and day its expected, absent and waiting children."""
    rows = [CSV_HEADER]
    for service_day_ in days:
        for state, entries in service_day_.by_state():
            rows += [(service_day_.service.code, service_day_.day.isoformat(), state, e.family, e.child, e.name,
                      e.responsable, "" if e.position is None else str(e.position)) for e in entries]
    return rows


def csv_text(days: list[ServiceDay]) -> str:
    """`csv_rows` as text: « ; » between columns, one line each, as the CLI always printed."""
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\n").writerows(csv_rows(days))
    return out.getvalue()
