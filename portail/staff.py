"""The service enfance's commands (docs/cli.md): the waiting list and its decisions,
paper plannings, the kitchen's headcount, medical certificates (the parents' to accept or
refuse, the ones received on paper).

Every command reads the portal's clock (`PORTAIL_NOW` freezes it) and writes an audit
entry. A decision is told to the family (inbox + notice mail); after a decision or an
import the family's private pages are rendered again. The rules live in
`chalicelib.bookings`, `chalicelib.waiting_list` and `chalicelib.staff` (the headcount and
the paper plannings, which `/gestion/` calls too); this module reads files, prints, and
turns refusals into one French sentence.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

from chalicelib import storage as st
from chalicelib.booking_requests import BookingRequestError
from chalicelib.bookings import Bookings
from chalicelib.config import Commune
from chalicelib.documents import DocumentError
from chalicelib.formatting import french_day, short_date

# Re-exported: `portail` commands read dates and services as the domain does.
from chalicelib.staff.csv_input import read_date, service_code  # noqa: F401
from chalicelib.waiting_list import WaitingList

from portail import aws
from portail.importer import ImportRejected, RowError

ACTOR = "staff"


class StaffError(Exception):
    """A refusal of a staff command: one French sentence, nothing written."""


# --- small parsers -------------------------------------------------------------------------

def parse_day(value: str) -> date:
    """read_date as an argparse `type`: a bad date is a usage error."""
    try:
        return read_date(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


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

    def notify(self, family: str, subject: str, body: str) -> None:
        """Inbox message and notice mail; a mail that cannot leave is reported, not fatal."""
        from botocore.exceptions import BotoCoreError, ClientError
        from chalicelib.mail import Mailer
        from chalicelib.messages import Messages

        info = self.commune.commune
        site_url = os.environ.get("PORTAIL_SITE_URL") or info.site_url
        messages = Messages(self.storage, Mailer(aws.client("ses", self.endpoint_url), info.contact_email),
                            site_url, info.name)
        try:
            messages.send(family, subject, body, self.now)
        except (BotoCoreError, ClientError) as error:
            print(f"Famille {family} : message déposé dans sa messagerie, courriel non envoyé : {error}",
                  file=sys.stderr)

    def export_pages(self, families) -> None:
        """Renders the families' pages again; a failure is reported, the decision stands."""
        secret = os.environ.get("PORTAIL_SECRET", "")
        if not secret and aws.is_local_endpoint(self.endpoint_url):
            from portail.local_keys import local_secret

            secret = local_secret()  # the running local portal's
        families = sorted(set(families))
        if not families:
            return
        if not secret:
            # Pages rendered with another secret would carry form tokens the function refuses.
            print("Pages des familles non régénérées : PORTAIL_SECRET n'est pas défini "
                  "(elles le seront à leur prochaine action ou au prochain export).", file=sys.stderr)
            return
        try:
            from chalicelib.clock import is_frozen
            from chalicelib.pages import FamilyPages
            from chalicelib.table import bucket_name

            pages = FamilyPages(aws.client("s3", self.endpoint_url), bucket_name("pages"), self.commune, secret,
                                frozen=is_frozen())
            for family in families:
                pages.export(self.storage, family, self.now)
        except Exception as error:  # noqa: BLE001 - the decision is written; say why the pages are not
            print(f"Pages des familles non régénérées : {error}", file=sys.stderr)

    def names(self, keys: list[tuple[str, str, int]]) -> dict:
        """{(family, child): "NOM Prénom"} and {(family, rank): "Civilité PRÉNOM NOM"}, one batch."""
        from chalicelib.staff import names

        return names.read(self.storage, keys).as_dict()


def run(command: Callable, args) -> int:
    """Runs a staff command; its refusals are printed as French sentences (status 1)."""
    try:
        return command(args)
    except StaffError as error:
        print(str(error), file=sys.stderr)
    except (BookingRequestError, DocumentError) as error:
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
    names = staff.names([(w["family"], w["child"], w["responsable_rank"]) for w in waiting])
    heading = None
    for w in waiting:
        label = staff.commune.service(w["service"]).label
        if (w["service"], w["date"]) != heading:
            heading = (w["service"], w["date"])
            print(f"{label}, {french_day(w['date'])} :")
        review = " ; demandée à nouveau après un refus : à examiner" if w["review"] else ""
        print(f"  {w['position']}. famille {w['family']}, enfant {w['child']} "
              f"({names.get((w['family'], w['child']), '?')}), demandée le {_instant(w['requested_at'], staff.commune)} "
              f"par {names.get((w['family'], w['responsable_rank']), '?')}{review}")
    print(f"{len(waiting)} demande(s) en attente.")
    return 0


def _decide(args, accept: bool) -> int:
    staff = Staff.open(args.endpoint_url)
    service = staff.service(args.service)
    reason = "" if accept else args.reason
    day = staff.waiting_list.staff_decide(args.family, args.child, service, args.date, accept, reason, staff.now)
    label = staff.commune.service(service).label
    when = french_day(args.date)
    child_item = staff.storage.get(st.family_pk(args.family), st.child_sk(args.child)) or {}
    child_name = child_item.get("first_name") or f"l'enfant {args.child}"
    staff.audit("request_accepted" if accept else "request_refused", {
        "family_number": args.family, "child_id": args.child, "service": service, "date": args.date,
        "reason": reason or None})
    if accept:
        staff.notify(args.family, f"Demande acceptée : {label}, {when}",
                     f"La demande de **{label}** du **{when}** pour {child_name}, qui était en attente, "
                     "est acceptée par le service enfance : la réservation est validée.")
        print(f"Demande acceptée : famille {args.family}, enfant {args.child}, {label}, {when} (réservation validée).")
    else:
        staff.notify(args.family, f"Demande refusée : {label}, {when}",
                     f"La demande de **{label}** du **{when}** pour {child_name} est refusée par le service enfance.\n\n"
                     f"Motif : {reason.strip()}")
        print(f"Demande refusée : famille {args.family}, enfant {args.child}, {label}, {when}. {day['message']}")
    staff.export_pages([args.family])
    return 0


def requests_accept(args) -> int:
    return _decide(args, True)


def requests_refuse(args) -> int:
    return _decide(args, False)


# --- portail plannings import -------------------------------------------------------------------

def plannings_import(args) -> int:
    """Checks the whole file (nothing written if a line is bad), then books its lines."""
    from chalicelib.staff.plannings import Plannings, PlanningsTooLate

    staff = Staff.open(args.endpoint_url)
    path = Path(args.file)
    try:
        content = path.read_bytes()
    except OSError as error:
        raise ImportRejected([RowError(path.name, 0, f"lecture impossible ({error.strerror})")]) from None
    try:
        applied = Plannings(staff.storage, staff.commune, staff.bookings).apply(
            content, staff.now, file=path.name, late=args.late)
    except PlanningsTooLate as error:
        raise StaffError(f"{error.message} Ajoutez --late pour les saisir quand même.") from None
    counts = applied.counts()
    staff.audit("plannings_imported", {"file": path.name, "month": applied.month, "late": args.late,
                                       "rows": len(applied.lines), **counts})
    staff.export_pages(applied.families())
    for x in applied.lines:
        r = x.row
        print(f"ligne {r.line} : famille {r.family}, enfant {r.child}, {r.service}, {french_day(r.day)} : {x.text}")
    print(f"Plannings importés : {counts['booked']} jour(s) réservé(s), {counts['duplicate']} doublon(s), "
          f"{counts['waiting']} en liste d'attente, {counts['refused']} refusé(s).")
    return 0


# --- portail headcount ----------------------------------------------------------------------------

def headcount(args) -> int:
    from chalicelib.staff.headcount import Headcount, csv_text

    staff = Staff.open(args.endpoint_url)
    day = args.date
    service = staff.service(args.service) if args.service else None
    days = Headcount(staff.storage, staff.commune, staff.bookings.calendar).day(day, service)
    staff.audit("headcount_viewed", {"date": day, "services": [d.service.code for d in days]})
    if args.csv:
        sys.stdout.write(csv_text(days))
        return 0
    if not days:
        print(f"Aucun service ouvert le {french_day(day)}.")
        return 0
    for d in days:
        capacity = f" (capacité {d.capacity})" if d.capacity else ""
        print(f"{d.service.label}, {french_day(day)} : {len(d.expected)} enfant(s) attendu(s){capacity}")
        if d.closure is not None:
            print(f"  Service fermé ce jour-là : {d.closure.label}.")
        for e in d.expected:
            print(f"  - famille {e.family}, {e.name} (réservé par {e.responsable})")
        if d.absent:
            print(f"  Absents (facturés, non attendus) : {len(d.absent)}")
            for e in d.absent:
                print(f"  - famille {e.family}, {e.name} (réservé par {e.responsable})")
        if d.waiting:
            print(f"  Liste d'attente : {len(d.waiting)}")
            for e in d.waiting:
                print(f"  {e.position}. famille {e.family}, {e.name} (demandé par {e.responsable}, "
                      f"le {_instant(e.requested_at, staff.commune)})")
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
            print(f"    fichier (lien valable 15 minutes) : {documents.certificate_download_url(c['document_key'])}")
    to_review = sum(1 for c in found if c["state"] == cert.TO_REVIEW)
    print(f"{to_review} certificat(s) à examiner, {len(found) - to_review} en attente du fichier.")
    staff.export_pages(c["family_number"] for c in received)  # « Reçu, en cours d'examen » on their pages
    return 0


def _decide_certificate(args, accept: bool) -> int:
    from chalicelib import certificates as cert

    staff = Staff.open(args.endpoint_url)
    reason = "" if accept else args.reason
    decision = cert.decide(staff.storage, _documents(staff), args.family, args.id, accept, reason, ACTOR, staff.now)
    staff.notify(args.family, decision.subject, decision.body)
    item = decision.certificate
    what = "accepté" if accept else "refusé"
    print(f"Certificat médical {what} : famille {args.family}, enfant {item['child_id']}, {args.id} "
          f"({cert.short_dates(item)}).")
    staff.export_pages([args.family])
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
