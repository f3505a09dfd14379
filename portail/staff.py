"""The service enfance's commands (docs/cli.md): the waiting list and its decisions,
paper plannings, the kitchen's headcount, medical certificates (the parents' to accept or
refuse, the ones received on paper).

Every command reads the portal's clock (`PORTAIL_NOW` freezes it) and writes an audit
entry. A decision is told to the family (inbox + notice mail); after a decision or an
import the family's private pages are rendered again. The rules live in
`chalicelib.bookings` and `chalicelib.waiting_list` (pure where they can be); this module reads files, prints, and
turns refusals into one French sentence.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

from chalicelib import storage as st
from chalicelib.booking_requests import MAX_ITEMS, Item
from chalicelib.bookings import Bookings
from chalicelib.calendar_rules import month_end, month_start, plannings_deadline
from chalicelib.config import Commune
from chalicelib.documents import DocumentError
from chalicelib.formatting import french_day, french_month, short_date
from chalicelib.refusals import Refusal
from chalicelib.waiting_list import WaitingList

from portail import aws
from portail.importer import ImportRejected, RowError, normalise_header, read_rows

ACTOR = "staff"
PLANNING_COLUMNS = ("numero_famille", "numero_enfant", "date", "service")  # `rang` is optional
_FAMILY_NUMBER = re.compile(r"^\d{1,20}$")
_CHILD_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class StaffError(Exception):
    """A refusal of a staff command: one French sentence, nothing written."""


# --- small parsers -------------------------------------------------------------------------

def read_date(text: str) -> date:
    """JJ/MM/AAAA or AAAA-MM-JJ, the two ways staff write a day (files and commands)."""
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            pass
    raise ValueError(f"date « {text} » invalide (JJ/MM/AAAA ou AAAA-MM-JJ)")


def parse_day(value: str) -> date:
    """read_date as an argparse `type`: a bad date is a usage error."""
    try:
        return read_date(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def service_code(name: str, commune: Commune) -> str:
    """A service from its code or its label (« GARDERIE MIDI », « garderie_midi »)."""
    by_name = {s.code: s.code for s in commune.services}
    by_name.update({normalise_header(s.label).upper(): s.code for s in commune.services})
    code = by_name.get(normalise_header(name).upper())
    if code is None:
        raise ValueError(f"service « {name} » inconnu (attendu : {', '.join(s.code for s in commune.services)})")
    return code


# --- what every command shares -------------------------------------------------------------

@dataclass
class Staff:
    """The table, the commune and the instant of one command, and its side effects."""

    storage: st.Storage
    commune: Commune
    now: datetime
    endpoint_url: str | None = None

    @classmethod
    def open(cls, endpoint_url: str | None) -> Staff:
        from chalicelib.clock import now
        from chalicelib.config import get_commune

        commune = get_commune()
        return cls(aws.storage(endpoint_url), commune, now(), endpoint_url)

    @cached_property
    def bookings(self) -> Bookings:
        return Bookings(self.storage, self.commune)

    @cached_property
    def waiting_list(self) -> WaitingList:
        return WaitingList(self.storage, self.commune)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.commune.tz).date()

    def service(self, name: str) -> str:
        try:
            return service_code(name, self.commune)
        except ValueError as error:
            text = str(error)
            # Only the first letter: the service codes it lists stay in capitals.
            raise StaffError(text[:1].upper() + text[1:] + ".") from None

    def audit(self, action: str, details: dict) -> None:
        self.storage.audit(self.now, ACTOR, action, details)

    @cached_property
    def messages(self):
        from chalicelib.mail import Mailer
        from chalicelib.messages import Messages

        info = self.commune.commune
        site_url = os.environ.get("PORTAIL_SITE_URL") or info.site_url
        return Messages(self.storage, Mailer(aws.client("ses", self.endpoint_url), info.contact_email),
                        site_url, info.name)

    def notify(self, family: str, subject: str, body: str) -> None:
        """Inbox message and notice mail; a mail that cannot leave is reported, not fatal."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.messages.send(family, subject, body, self.now)
        except (BotoCoreError, ClientError) as error:
            print(f"Famille {family} : message déposé dans sa messagerie, courriel non envoyé : {error}",
                  file=sys.stderr)

    @cached_property
    def pages(self):
        """The families' pages exporter, or None (said on stderr) when the stage's secret is
        unknown: pages rendered with another would carry form tokens the function refuses."""
        secret = os.environ.get("PORTAIL_SECRET", "")
        if not secret and aws.is_local_endpoint(self.endpoint_url):
            from portail.local_keys import local_secret

            secret = local_secret()  # the running local portal's
        if not secret:
            print("Pages des familles non régénérées : PORTAIL_SECRET n'est pas défini "
                  "(elles le seront à leur prochaine action ou au prochain export).", file=sys.stderr)
            return None
        from chalicelib.clock import is_frozen
        from chalicelib.pages import FamilyPages
        from chalicelib.table import bucket_name

        return FamilyPages(aws.client("s3", self.endpoint_url), bucket_name("pages"), self.commune, secret,
                           frozen=is_frozen())

    def export_pages(self, families) -> None:
        """Renders the families' pages again; a failure is reported, the decision stands."""
        families = sorted(set(families))
        if not families or self.pages is None:
            return
        try:
            for family in families:
                self.pages.export(self.storage, family, self.now)
        except Exception as error:  # noqa: BLE001 - the decision is written; say why the pages are not
            print(f"Pages des familles non régénérées : {error}", file=sys.stderr)

    def names(self, keys: list[tuple[str, str, int]]) -> dict:
        """{(family, child): "NOM Prénom"} and {(family, rank): "Civilité PRÉNOM NOM"}, one batch."""
        wanted = []
        for family, child, rank in keys:
            wanted += [(st.family_pk(family), st.child_sk(child)), (st.family_pk(family), st.responsable_sk(rank))]
        found = self.storage.batch_get(wanted) if wanted else {}
        names = {}
        for (pk, sk), item in found.items():
            family = pk.removeprefix("FAMILY#")
            if sk.startswith("CHILD#"):
                names[(family, item["child_id"])] = f"{item['last_name']} {item['first_name']}"
            else:
                names[(family, int(item["rank"]))] = f"{item['civility']} {item['first_name']} {item['last_name']}"
        return names


def run(command: Callable, args) -> int:
    """Runs a staff command; its refusals are printed as French sentences (status 1)."""
    try:
        return command(args)
    except StaffError as error:
        print(str(error), file=sys.stderr)
    except Refusal as error:  # BookingRequestError, DocumentError, the staff domain's
        print(error.message, file=sys.stderr)
    return 1


# --- portail requests list|accept|refuse ------------------------------------------------------

def _instant(text: str, commune: Commune) -> str:
    return datetime.fromisoformat(text).astimezone(commune.tz).strftime("%d/%m/%Y à %H:%M")


def requests_list(args) -> int:
    staff = Staff.open(args.endpoint_url)
    service = staff.service(args.service) if args.service else None
    waiting = staff.waiting_list.pending(service, args.date)
    staff.audit("requests_listed", {"service": service, "date": args.date, "count": len(waiting)})
    if not waiting:
        print("Aucune demande en attente.")
        return 0
    heading = None
    for w in waiting:
        label = staff.commune.service(w["service"]).label
        if (w["service"], w["date"]) != heading:
            heading = (w["service"], w["date"])
            print(f"{label}, {french_day(w['date'])} :")
        review = " ; demandée à nouveau après un refus : à examiner" if w["review"] else ""
        print(f"  {w['position']}. famille {w['family']}, enfant {w['child']} "
              f"({w['child_name'] or '?'}), demandée le {_instant(w['requested_at'], staff.commune)} "
              f"par {w['responsable_name'] or '?'}{review}")
    print(f"{len(waiting)} demande(s) en attente.")
    return 0


def _decide(args, accept: bool) -> int:
    from chalicelib.staff import requests

    staff = Staff.open(args.endpoint_url)
    item = requests.RequestItem(args.family, args.child, staff.service(args.service), args.date)
    reason = "" if accept else (args.reason or "").strip()
    (outcome,) = requests.decide(staff.storage, staff.commune, staff.messages, staff.pages, [item], accept, reason,
                                 ACTOR, staff.now)
    if outcome.status not in (requests.ACCEPTED, requests.REFUSED):
        # One day asked for: its refusal is the command's (status 1), as a sentence.
        raise StaffError(outcome.message.removesuffix(" La demande reste en attente."))
    label = staff.commune.service(item.service).label
    what = f"famille {item.family}, enfant {item.child}, {label}, {french_day(item.day)}"
    if accept:
        print(f"Demande acceptée : {what} (réservation validée).")
    else:
        print(f"Demande refusée : {what}. {outcome.message}")
    return 0


def requests_accept(args) -> int:
    return _decide(args, True)


def requests_refuse(args) -> int:
    return _decide(args, False)


# --- portail plannings import -------------------------------------------------------------------

@dataclass(frozen=True)
class PlanningRow:
    line: int
    family: str
    child: str
    day: date
    service: str
    rank: int


@dataclass
class PlanningLine:
    row: PlanningRow
    outcome: str  # booked, duplicate, waiting, refused
    text: str


def parse_planning(path: Path, commune: Commune, month: date, storage: st.Storage) -> list[PlanningRow]:
    """Every row checked (format, month, known child and responsable, no repeat) before
    anything is written; ImportRejected lists every bad row with its line."""
    errors: list[RowError] = []
    name = path.name
    rows, seen = [], {}
    last = month_end(month)
    for line, row in read_rows(path, PLANNING_COLUMNS, errors):
        try:
            family, child = row["numero_famille"], row["numero_enfant"]
            if not _FAMILY_NUMBER.match(family):
                raise ValueError(f"numéro de famille « {family} » invalide (chiffres uniquement)")
            if not _CHILD_ID.match(child):
                raise ValueError(f"numéro d'enfant « {child} » invalide (lettres, chiffres, - ou _)")
            try:
                day = parse_day(row["date"])
            except argparse.ArgumentTypeError as error:
                raise ValueError(str(error)) from None
            if not month <= day <= last:
                raise ValueError(f"le {short_date(day)} n'est pas en {french_month(month)} : "
                                 "seuls les jours du mois prochain sont saisis")
            service = service_code(row["service"], commune)
            rank_text = row.get("rang", "") or "1"
            if rank_text not in ("1", "2"):
                raise ValueError(f"rang « {rank_text} » invalide (1 ou 2, le responsable qui réserve)")
        except ValueError as error:
            errors.append(RowError(name, line, str(error)))
            continue
        record = PlanningRow(line, family, child, day, service, int(rank_text))
        identity = (family, child, day, service)
        if identity in seen:
            errors.append(RowError(name, line, f"doublon de la ligne {seen[identity]}"))
            continue
        seen[identity] = line
        rows.append(record)
    if rows:
        keys = [(st.family_pk(r.family), st.child_sk(r.child)) for r in rows]
        keys += [(st.family_pk(r.family), st.responsable_sk(r.rank)) for r in rows]
        found = storage.batch_get(keys)
        for r in rows:
            if (st.family_pk(r.family), st.child_sk(r.child)) not in found:
                errors.append(RowError(name, r.line, f"enfant {r.child} inconnu dans la famille {r.family}"))
            elif (st.family_pk(r.family), st.responsable_sk(r.rank)) not in found:
                errors.append(RowError(name, r.line, f"la famille {r.family} n'a pas de responsable de rang {r.rank}"))
    if not rows and not errors:
        errors.append(RowError(name, 0, "aucune ligne à importer"))
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.line))
    return rows


def _outcome(result: dict, existing: dict | None) -> tuple[str, str]:
    if result["status"] == "validated":
        return "booked", "réservé"
    if result["status"] == "pending" and result["reason"] == "staff_review":
        return "waiting", "en attente : demandé à nouveau après un refus, à examiner (portail requests list)"
    if result["status"] == "pending":
        return "waiting", "liste d'attente (service complet)"
    if result["reason"] == "already_booked":
        channel = (existing or {}).get("channel", "online")
        where = {"paper": "sur un planning papier", "staff": "par le service enfance"}.get(channel, "en ligne")
        return "duplicate", f"doublon : déjà réservé {where}"
    return "refused", f"refusé : {result['message']}"


def import_plannings(staff: Staff, path: Path, late: bool = False) -> list[PlanningLine]:
    """Books next month's days of a paper planning (channel `paper`): the online deadline
    does not apply, every other rule does; a day already booked is a duplicate."""
    month = month_start(staff.today, 1)
    deadline = plannings_deadline(staff.today, month)
    if staff.today > deadline and not late:
        raise StaffError(
            f"Les plannings papier de {french_month(month)} devaient être saisis au plus tard le "
            f"{french_day(deadline)} : rien n'est importé. Ajoutez --late pour les saisir quand même.")
    rows = parse_planning(path, staff.commune, month, staff.storage)
    before = staff.storage.batch_get([(st.family_pk(r.family), st.day_sk(r.child, r.day, r.service)) for r in rows])
    groups: dict[tuple[str, str, int], list[PlanningRow]] = {}
    for row in rows:
        groups.setdefault((row.family, row.child, row.rank), []).append(row)
    lines = []
    for (family, child, rank), group in groups.items():
        for start in range(0, len(group), MAX_ITEMS):
            chunk = group[start:start + MAX_ITEMS]
            items = [Item(r.day, r.service, "reserve") for r in chunk]
            results, _ = staff.bookings.submit(family, child, rank, items, staff.now, channel="paper",
                                               apply_deadline=False)
            for row, result in zip(chunk, results, strict=True):
                existing = before.get((st.family_pk(family), st.day_sk(child, row.day, row.service)))
                lines.append(PlanningLine(row, *_outcome(result, existing)))
    lines.sort(key=lambda x: x.row.line)
    counts = {kind: sum(1 for x in lines if x.outcome == kind) for kind in ("booked", "duplicate", "waiting", "refused")}
    staff.audit("plannings_imported", {"file": path.name, "month": month, "late": late, "rows": len(rows), **counts})
    staff.export_pages(r.family for r in rows)
    return lines


def plannings_import(args) -> int:
    staff = Staff.open(args.endpoint_url)
    lines = import_plannings(staff, Path(args.file), late=args.late)
    for x in lines:
        r = x.row
        print(f"ligne {r.line} : famille {r.family}, enfant {r.child}, {r.service}, {french_day(r.day)} : {x.text}")
    count = {kind: sum(1 for x in lines if x.outcome == kind) for kind in ("booked", "duplicate", "waiting", "refused")}
    print(f"Plannings importés : {count['booked']} jour(s) réservé(s), {count['duplicate']} doublon(s), "
          f"{count['waiting']} en liste d'attente, {count['refused']} refusé(s).")
    return 0


# --- portail headcount ----------------------------------------------------------------------------

CSV_HEADER = ("service", "date", "etat", "numero_famille", "numero_enfant", "enfant", "responsable", "rang_attente")


def headcount(args) -> int:
    staff = Staff.open(args.endpoint_url)
    day = args.date
    if args.service:
        services = [staff.commune.service(staff.service(args.service))]
    else:
        services = [s for s in staff.commune.services if staff.bookings.calendar.is_open(day, s)]
    counts = [(s, staff.waiting_list.service_day(s.code, day)) for s in services]
    staff.audit("headcount_viewed", {"date": day, "services": [s.code for s in services]})
    people = [(e["family"], e["child"], e["responsable_rank"])
              for _, c in counts for e in c["expected"] + c["absent"] + c["waiting"]]
    names = staff.names(people)

    def child(e):
        return names.get((e["family"], e["child"]), e["child"])

    def responsable(e):
        return names.get((e["family"], e["responsable_rank"]), "")

    if args.csv:
        writer = csv.writer(sys.stdout, delimiter=";", lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for service, count in counts:
            for state, entries in (("attendu", count["expected"]), ("absent", count["absent"]),
                                   ("liste d'attente", count["waiting"])):
                for e in sorted(entries, key=child) if state != "liste d'attente" else entries:
                    writer.writerow((service.code, day.isoformat(), state, e["family"], e["child"], child(e),
                                     responsable(e), e.get("position", "")))
        return 0
    if not services:
        print(f"Aucun service ouvert le {french_day(day)}.")
        return 0
    for service, count in counts:
        closure = staff.bookings.calendar.closure(day, service)
        capacity = f" (capacité {service.capacity})" if service.capacity else ""
        print(f"{service.label}, {french_day(day)} : {len(count['expected'])} enfant(s) attendu(s){capacity}")
        if closure is not None:
            print(f"  Service fermé ce jour-là : {closure.label}.")
        for e in sorted(count["expected"], key=child):
            print(f"  - famille {e['family']}, {child(e)} (réservé par {responsable(e)})")
        if count["absent"]:
            print(f"  Absents (facturés, non attendus) : {len(count['absent'])}")
            for e in sorted(count["absent"], key=child):
                print(f"  - famille {e['family']}, {child(e)} (réservé par {responsable(e)})")
        if count["waiting"]:
            print(f"  Liste d'attente : {len(count['waiting'])}")
            for e in count["waiting"]:
                print(f"  {e['position']}. famille {e['family']}, {child(e)} (demandé par {responsable(e)}, "
                      f"le {_instant(e['requested_at'], staff.commune)})")
        print()
    return 0


# --- portail certificates list|accept|refuse|record -----------------------------------------------

def _documents(staff: Staff):
    from chalicelib.documents import Documents
    from chalicelib.table import bucket_name

    return Documents(aws.client("s3", staff.endpoint_url), bucket_name("documents"))


def certificates_list(args) -> int:
    from chalicelib import certificates as cert

    staff = Staff.open(args.endpoint_url)
    documents = _documents(staff)
    found = cert.list_open(staff.storage, documents, staff.now, ACTOR)
    received = [c for c in found if c["seen_now"]]
    staff.audit("certificates_listed", {"count": len(found), "received": len(received)})
    if not found:
        print("Aucun certificat médical à examiner.")
        return 0
    names = staff.names([(c["family_number"], c["child_id"], 1) for c in found])
    for c in found:
        child = names.get((c["family_number"], c["child_id"]), "?")
        print(f"{c['certificate_id']}  famille {c['family_number']}, enfant {c['child_id']} ({child}), "
              f"{cert.short_dates(c)} : {cert.STAFF_WORDS[c['state']]}, formulaire d'envoi donné le "
              f"{_instant(c['recorded_at'], staff.commune)}")
        if c["state"] == cert.TO_REVIEW and c.get("document_key"):
            print(f"    fichier (lien valable 5 minutes) : {documents.certificate_download_url(c['document_key'])}")
    to_review = sum(1 for c in found if c["state"] == cert.TO_REVIEW)
    print(f"{to_review} certificat(s) à examiner, {len(found) - to_review} en attente du fichier.")
    staff.export_pages(c["family_number"] for c in received)  # « Reçu, en cours d'examen » on their pages
    return 0


def _decide_certificate(args, accept: bool) -> int:
    from chalicelib import certificates as cert
    from chalicelib.staff import certificates

    staff = Staff.open(args.endpoint_url)
    reason = "" if accept else args.reason
    decision = certificates.decide(staff.storage, _documents(staff), staff.messages, staff.pages, args.family,
                                   args.id, accept, reason, ACTOR, staff.now)
    item = decision.certificate
    what = "accepté" if accept else "refusé"
    print(f"Certificat médical {what} : famille {args.family}, enfant {item['child_id']}, {args.id} "
          f"({cert.short_dates(item)}).")
    return 0


def certificates_accept(args) -> int:
    return _decide_certificate(args, True)


def certificates_refuse(args) -> int:
    return _decide_certificate(args, False)


def certificates_record(args) -> int:
    from chalicelib.documents import KEY_PREFIX, record_staff_certificate

    staff = Staff.open(args.endpoint_url)
    days = []
    for text in args.dates.split(","):
        if not text.strip():
            continue
        try:
            days.append(parse_day(text))
        except argparse.ArgumentTypeError as error:
            raise StaffError(f"--dates : {error}.") from None
    if not days:
        raise StaffError("--dates : indiquez au moins une date (JJ/MM/AAAA, séparées par des virgules).")
    prefix = f"{KEY_PREFIX}/{args.family}/{args.child}/"
    if args.file and not (args.file.startswith(prefix) and len(args.file) > len(prefix) and ".." not in args.file):
        raise StaffError(f"--file : le fichier du certificat doit être rangé sous « {prefix} » dans le bucket des documents.")
    try:
        item = record_staff_certificate(staff.storage, args.family, args.child, days, staff.now,
                                        document_key=args.file or "", actor=ACTOR)
    except DocumentError as error:
        raise StaffError(f"Famille {args.family}, enfant {args.child} : {error.message}") from None
    shown = ", ".join(short_date(date.fromisoformat(d)) for d in item["dates"])
    print(f"Certificat médical enregistré : famille {args.family}, enfant {args.child}, {shown}.")
    staff.export_pages([args.family])
    return 0
