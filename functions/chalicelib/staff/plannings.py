"""Paper plannings: the days families wrote on paper for next month, typed into a CSV
(`numero_famille;numero_enfant;date;service;rang`) and booked with the channel `paper`.

`preview` runs every check and writes nothing: each bad line with its number and a
French reason (format, month, unknown child or responsable, a line repeated), the rule
of the 20th of the month before (`calendar_rules.plannings_deadline`), and what each
line would become (booked, already booked, waiting list, refused by a rule), family by
family. `apply` checks the same content again and writes only if no line is bad: the
online deadline does not apply to paper, every other rule does (`bookings.decide`).
`/gestion/plannings` and `portail plannings import` call both; they read the CSV as
text or bytes, never from a path. Pure but for the reads and writes of `Plannings`;
the clock is an argument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from chalicelib import storage as st
from chalicelib.booking_requests import MAX_ITEMS, Item
from chalicelib.bookings import Bookings, Outcome, decide
from chalicelib.calendar_rules import month_end, month_start, plannings_deadline
from chalicelib.config import Commune
from chalicelib.formatting import french_day, french_month, short_date
from chalicelib.refusals import Refusal
from chalicelib.staff import names
from chalicelib.staff.csv_input import (
    ImportRejected,
    RowError,
    decode,
    read_date,
    read_rows,
    service_code,
)

COLUMNS = ("numero_famille", "numero_enfant", "date", "service")  # `rang` is optional (1)
OUTCOMES = ("booked", "duplicate", "waiting", "refused")
_FAMILY_NUMBER = re.compile(r"^\d{1,20}$")
_CHILD_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class PlanningsTooLate(Refusal):
    """The 20th of the month before is past and the lateness was not confirmed."""

    def __init__(self, month: date, deadline: date):
        super().__init__(409, "plannings_deadline_passed", deadline_text(month, deadline) + " : rien n'est importé.")


@dataclass(frozen=True)
class PlanningRow:
    line: int
    family: str
    child: str
    day: date
    service: str
    rank: int


@dataclass(frozen=True)
class PlanningLine:
    """What a line becomes: `outcome` (booked, duplicate, waiting, refused) and its words."""

    row: PlanningRow
    outcome: str
    text: str


@dataclass
class Preview:
    """Every check of a planning, nothing written."""

    file: str
    month: date  # next month: the only one a planning fills
    deadline: date  # the last day its plannings are taken
    today: date
    late: bool  # staff said the planning came late and is typed all the same
    errors: list[RowError] = field(default_factory=list)
    lines: list[PlanningLine] = field(default_factory=list)  # what each good line would become
    people: names.People = field(default_factory=names.People)
    existing: dict = field(default_factory=dict)  # the day items already there, by key

    @property
    def too_late(self) -> bool:
        return self.today > self.deadline

    @property
    def can_apply(self) -> bool:
        return not self.errors and (not self.too_late or self.late)

    def counts(self) -> dict[str, int]:
        return count(self.lines)

    def by_family(self) -> list[tuple[str, list[PlanningLine]]]:
        return by_family(self.lines)


@dataclass
class Applied:
    """What an import wrote: each line's outcome, in file order."""

    file: str
    month: date
    late: bool
    lines: list[PlanningLine]

    def counts(self) -> dict[str, int]:
        return count(self.lines)

    def by_family(self) -> list[tuple[str, list[PlanningLine]]]:
        return by_family(self.lines)

    def families(self) -> list[str]:
        return [family for family, _ in self.by_family()]


def count(lines: list[PlanningLine]) -> dict[str, int]:
    return {kind: sum(1 for x in lines if x.outcome == kind) for kind in OUTCOMES}


def by_family(lines: list[PlanningLine]) -> list[tuple[str, list[PlanningLine]]]:
    """The lines family by family (by number), each family's in file order."""
    families: dict[str, list[PlanningLine]] = {}
    for line in lines:
        families.setdefault(line.row.family, []).append(line)
    return sorted(families.items(), key=lambda pair: (len(pair[0]), pair[0]))


def example_line(commune: Commune, month: date) -> str:
    """A line of the file as staff would type it: family 100, child 1, the month's first
    weekday, the first service."""
    first = month_start(month)
    day = first + timedelta(days=(7 - first.weekday()) % 7 if first.weekday() >= 5 else 0)
    return f"100;1;{day:%d/%m/%Y};{commune.services[0].code};1"


def deadline_text(month: date, deadline: date) -> str:
    return (f"Les plannings papier de {french_month(month)} devaient être saisis au plus tard le "
            f"{french_day(deadline)}")


# --- reading the file (pure) ---------------------------------------------------------------------------

def parse(content: bytes | str, file: str, commune: Commune, month: date) -> tuple[list[PlanningRow], list[RowError]]:
    """The good rows and every bad one: format, month, service, rank, a line repeated.
    Whether the child and responsable exist is the table's (`Plannings.preview`)."""
    errors: list[RowError] = []
    rows, seen = [], {}
    last = month_end(month)
    for line, row in read_rows(decode(content), file, COLUMNS, errors):
        try:
            family, child = row["numero_famille"], row["numero_enfant"]
            if not _FAMILY_NUMBER.match(family):
                raise ValueError(f"numéro de famille « {family} » invalide (chiffres uniquement)")
            if not _CHILD_ID.match(child):
                raise ValueError(f"numéro d'enfant « {child} » invalide (lettres, chiffres, - ou _)")
            day = read_date(row["date"])
            if not month <= day <= last:
                raise ValueError(f"le {short_date(day)} n'est pas en {french_month(month)} : "
                                 "seuls les jours du mois prochain sont saisis")
            service = service_code(row["service"], commune)
            rank_text = row.get("rang", "") or "1"
            if rank_text not in ("1", "2"):
                raise ValueError(f"rang « {rank_text} » invalide (1 ou 2, le responsable qui réserve)")
        except ValueError as error:
            errors.append(RowError(file, line, str(error)))
            continue
        identity = (family, child, day, service)
        if identity in seen:
            errors.append(RowError(file, line, f"doublon de la ligne {seen[identity]}"))
            continue
        seen[identity] = line
        rows.append(PlanningRow(line, family, child, day, service, int(rank_text)))
    return rows, errors


def outcome(result: dict, existing: dict | None) -> tuple[str, str]:
    """A booking's result (`Bookings.submit`, or its forecast) in a planning's words."""
    if result["status"] == "validated":
        return "booked", "réservé"
    if result["status"] == "pending" and result["reason"] == "staff_review":
        return "waiting", "en attente : demandé à nouveau après un refus, à examiner dans les demandes en attente"
    if result["status"] == "pending":
        return "waiting", "liste d'attente (service complet)"
    if result["reason"] == "already_booked":
        channel = (existing or {}).get("channel", "online")
        where = {"paper": "sur un planning papier", "staff": "par le service enfance"}.get(channel, "en ligne")
        return "duplicate", f"doublon : déjà réservé {where}"
    return "refused", f"refusé : {result['message']}"


# --- the table -------------------------------------------------------------------------------------------

class Plannings:
    def __init__(self, storage: st.Storage, commune: Commune, bookings: Bookings | None = None):
        self.storage = storage
        self.commune = commune
        self.bookings = bookings or Bookings(storage, commune)

    def preview(self, content: bytes | str, now: datetime, *, file: str = "planning.csv",
                late: bool = False) -> Preview:
        """Every check and every line's forecast; reads the children, responsables, the days
        already booked and the seat counters in one BatchGetItem (per 100 keys)."""
        today = now.astimezone(self.commune.tz).date()
        month = month_start(today, 1)
        found = Preview(file, month, plannings_deadline(today, month), today, late)
        rows, found.errors = parse(content, file, self.commune, month)
        keys = names.keys((r.family, r.child, r.rank) for r in rows)
        keys += [(st.family_pk(r.family), st.day_sk(r.child, r.day, r.service)) for r in rows]
        keys += list(dict.fromkeys((st.service_day_pk(r.service, r.day), st.COUNTER) for r in rows
                                   if self.commune.service(r.service).capacity))
        items = self.storage.batch_get(keys) if rows else {}
        found.people = names.sort(items)
        found.existing = {key: item for key, item in items.items() if key[1].startswith("DAY#")}
        good = []
        for r in rows:
            if found.people.child(r.family, r.child) is None:
                found.errors.append(RowError(file, r.line, f"enfant {r.child} inconnu dans la famille {r.family}"))
            elif (r.family, r.rank) not in found.people.responsables:
                found.errors.append(RowError(file, r.line, f"la famille {r.family} n'a pas de responsable de rang {r.rank}"))
            else:
                good.append(r)
        if not rows and not found.errors:
            found.errors.append(RowError(file, 0, "aucune ligne à importer"))
        found.errors.sort(key=lambda e: e.line)
        found.lines = self._forecast(good, found, items, now)
        return found

    def _forecast(self, rows: list[PlanningRow], preview: Preview, items: dict, now: datetime) -> list[PlanningLine]:
        """What `apply` would make of each line, from the state read (a seat taken online
        meanwhile may still send a day to the waiting list: `apply` says what it did)."""
        taken: dict[tuple[str, date], int] = {}
        lines = []
        for r in rows:
            service = self.commune.service(r.service)
            day_key = (st.family_pk(r.family), st.day_sk(r.child, r.day, r.service))
            child = preview.people.child(r.family, r.child) or {}
            decision = decide(Item(r.day, r.service, "reserve"), enrolled=list(child.get("services", [])),
                              day_item=items.get(day_key), service=service, commune=self.commune,
                              calendar=self.bookings.calendar, now=now, apply_deadline=False)
            if isinstance(decision, Outcome):
                result = {"status": decision.status, "reason": decision.reason, "message": decision.message}
            elif decision.status == "pending":
                result = {"status": "pending", "reason": decision.reason}
            else:
                seats = items.get((st.service_day_pk(r.service, r.day), st.COUNTER), {}).get("validated", 0)
                full = service.capacity and int(seats) + taken.get((r.service, r.day), 0) >= service.capacity
                taken[(r.service, r.day)] = taken.get((r.service, r.day), 0) + (0 if full else 1)
                result = {"status": "pending" if full else "validated", "reason": "waiting_list" if full else ""}
            lines.append(PlanningLine(r, *outcome(result, items.get(day_key))))
        return lines

    def apply(self, content: bytes | str, now: datetime, *, file: str = "planning.csv",
              late: bool = False) -> Applied:
        """Checks the content again (PlanningsTooLate past the 20th unless `late`;
        ImportRejected with every bad line: nothing written), then books every line,
        child by child, in transactions (`Bookings.submit`, channel `paper`)."""
        today = now.astimezone(self.commune.tz).date()
        month = month_start(today, 1)
        deadline = plannings_deadline(today, month)
        if today > deadline and not late:
            raise PlanningsTooLate(month, deadline)  # before reading the file, as it always was
        checked = self.preview(content, now, file=file, late=late)
        if checked.errors:
            raise ImportRejected(checked.errors)
        groups: dict[tuple[str, str, int], list[PlanningRow]] = {}
        for line in checked.lines:
            groups.setdefault((line.row.family, line.row.child, line.row.rank), []).append(line.row)
        lines = []
        for (family, child, rank), group in groups.items():
            for start in range(0, len(group), MAX_ITEMS):
                chunk = group[start:start + MAX_ITEMS]
                items = [Item(r.day, r.service, "reserve") for r in chunk]
                results, _ = self.bookings.submit(family, child, rank, items, now, channel="paper",
                                                  apply_deadline=False)
                for row, result in zip(chunk, results, strict=True):
                    existing = checked.existing.get((st.family_pk(family), st.day_sk(child, row.day, row.service)))
                    lines.append(PlanningLine(row, *outcome(result, existing)))
        lines.sort(key=lambda x: x.row.line)
        return Applied(file, month, late, lines)
