"""The demo data of `portail serve --demo`, dated around the portal's clock.

At the guide's dates (`--now 2014-11-28T12:00:00+01:00`) the demo family is exactly the
municipal guide's: Madame PAYS ZTEST, N° famille 381623867924, CONNIE, CRICHI and
PRINCESSE, a balance of 0,00 €, no unpaid invoice, no new message, and in December 2014
the ✓ of the guide's calendar. On other dates every birth date moves by whole years,
so the children keep the guide's ages, and the activity moves with the clock.

The families, responsables and children come from the demo CSV files in data/demo/,
through the same import as a commune's files; `write_demo_files` regenerates them.
"""

from __future__ import annotations

import csv
import os
import random
import secrets
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from chalicelib import numbering
from chalicelib import storage as st
from chalicelib.booking_requests import Item
from chalicelib.bookings import Bookings
from chalicelib.calendar_rules import (
    CommuneCalendar,
    booking_deadline,
    month_end,
    month_key,
    month_start,
    school_year,
    shift_years,
)
from chalicelib.config import Commune

from portail import aws
from portail.importer import ParsedFiles, import_directory

DEMO_DIR = Path(__file__).resolve().parents[1] / "data" / "demo"
DEMO_PASSWORD = "portail-demo-2014"
GUIDE_YEAR = 2014  # the school year (2014-2015) of the guide's screenshots
GUIDE_FAMILY = "381623867924"
GENERATED_FAMILIES = 50
SEPARATED_FAMILY = "381600000005"  # famille05 and famille05-2: one child, alternate weeks

_LAST_NAMES = [
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU",
    "LAURENT", "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL",
    "FOURNIER", "GIRARD", "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT",
    "MULLER", "LEFEVRE", "FAURE", "ANDRE", "MERCIER", "BLANC", "GUERIN", "BOYER", "GARNIER",
    "CHEVALIER", "FRANCOIS", "LEGRAND", "GAUTHIER", "GARCIA", "PERRIN", "ROBIN", "CLEMENT",
    "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "GAUTIER", "MASSON",
]
_MOTHERS = ["NATHALIE", "ISABELLE", "SANDRINE", "CELINE", "AURELIE", "STEPHANIE", "SOPHIE", "JULIE", "EMILIE", "CAROLINE"]
_FATHERS = ["STEPHANE", "SEBASTIEN", "NICOLAS", "JULIEN", "DAVID", "CHRISTOPHE", "FREDERIC", "OLIVIER", "LAURENT", "THOMAS"]
_GIRLS = ["LEA", "MANON", "CHLOE", "EMMA", "CAMILLE", "INES", "SARAH", "JADE", "LOLA", "ZOE", "LOUISE", "CLARA"]
_BOYS = ["LUCAS", "HUGO", "THEO", "NATHAN", "ENZO", "LOUIS", "MATHIS", "TOM", "GABRIEL", "JULES", "ARTHUR", "RAPHAEL"]
_STREETS = ["rue de la Mairie", "rue des Écoles", "allée des Tilleuls", "rue du Moulin", "avenue de Meaux", "rue Jean Jaurès"]
SERVICES = ["GARDERIE_MATIN", "GARDERIE_MIDI", "GARDERIE_SOIR", "RESTAURATION"]


# --- the demo CSV files -------------------------------------------------------------

def demo_rows() -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    """Rows of familles.csv, responsables.csv and enfants.csv, dated for 2014-2015."""
    families = [[GUIDE_FAMILY, "C", "12 rue de la Mairie", "77124", "Crégy-lès-Meaux"]]
    responsables = [[GUIDE_FAMILY, "1", "Madame", "ZTEST", "PAYS", "pays.ztest@example.org", "01 60 44 12 34", "ztest"]]
    children = [
        [GUIDE_FAMILY, "1", "ZTEST", "CONNIE", "F", "01/01/2006", ", ".join(SERVICES)],
        [GUIDE_FAMILY, "2", "ZTEST", "CRICHI", "M", "01/01/2012", ""],
        [GUIDE_FAMILY, "3", "ZTEST", "PRINCESSE", "F", "01/01/2014", ""],
    ]
    rng = random.Random(381623867924)
    for index in range(1, GENERATED_FAMILIES + 1):
        number = f"3816{index:08d}"
        last = _LAST_NAMES[index - 1]
        families.append([number, rng.choice("ABCDE"), f"{rng.randint(1, 80)} {rng.choice(_STREETS)}", "77124", "Crégy-lès-Meaux"])
        mother, father = rng.choice(_MOTHERS), rng.choice(_FATHERS)
        responsables.append([number, "1", "Madame", last, mother, f"famille{index:02d}@example.org",
                             f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                             f"famille{index:02d}"])
        if index % 5 == 0:  # separated parents: a second responsable, billed for their own bookings
            responsables.append([number, "2", "Monsieur", last, father, f"famille{index:02d}-2@example.org", "",
                                 f"famille{index:02d}-2"])
        for child in range(1, rng.randint(1, 3) + 1):
            girl = rng.random() < 0.5
            born = date(rng.randint(2004, 2011), rng.randint(1, 12), rng.randint(1, 28))
            services = sorted(rng.sample(SERVICES, rng.randint(1, 4)), key=SERVICES.index)
            if index <= 15 and child == 1 and "GARDERIE_MIDI" not in services:
                services.append("GARDERIE_MIDI")  # enough children for the waiting list to show
            children.append([number, str(child), last, rng.choice(_GIRLS if girl else _BOYS), "F" if girl else "M",
                             born.strftime("%d/%m/%Y"), ", ".join(sorted(services, key=SERVICES.index))])
    return families, responsables, children


def write_demo_files(directory: Path = DEMO_DIR) -> None:
    from portail.importer import CHILD_COLUMNS, FAMILY_COLUMNS, RESPONSABLE_COLUMNS

    directory.mkdir(parents=True, exist_ok=True)
    families, responsables, children = demo_rows()
    for name, header, rows in (
        ("familles.csv", FAMILY_COLUMNS, families),
        ("responsables.csv", RESPONSABLE_COLUMNS, responsables),
        ("enfants.csv", CHILD_COLUMNS, children),
    ):
        with open(directory / name, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, delimiter=";", lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)


# --- dating the demo around the clock ------------------------------------------------

def year_shift(commune: Commune, today: date) -> int:
    """Whole years between the guide's school year and the clock's."""
    return school_year(today, commune.year_start) - GUIDE_YEAR


class DemoWriter:
    """Builds the demo's activity: past days as items, written as they stand; and the
    requests still open (a waiting list), which `seed_demo` makes through the real
    `Bookings.submit`, in arrival order, so that counters and waiting list are real."""

    def __init__(self, commune: Commune, now: datetime):
        self.commune = commune
        self.calendar = CommuneCalendar(commune)
        self.now = now
        self.today = now.astimezone(commune.tz).date()
        self.items: list[dict] = []
        # (key, PDF): files of the documents bucket (a certificate a parent sent).
        self.files: list[tuple[str, bytes]] = []
        # (family, child, rank, items, instant): submitted in the order of their instants.
        self.requests: list[tuple[str, str, int, list, datetime]] = []

    def ask(self, family: str, child: str, items: list, submitted: datetime, rank: int = 1) -> None:
        self.requests.append((family, child, rank, items, submitted))

    def at(self, day: date, hour: int = 9) -> datetime:
        return datetime.combine(day, time(hour), self.commune.tz)

    def day(self, family: str, child: str, day: date, service: str, status: str, *, rank: int = 1,
            reason: str = "", message: str = "", channel: str = "online") -> dict:
        item = {
            "pk": st.family_pk(family), "sk": st.day_sk(child, day, service), "kind": "day",
            "child_id": child, "date": day, "service": service, "status": status,
            "reason": reason, "message": message, "responsable_rank": rank, "channel": channel,
            "updated_at": self.at(min(day, self.today) - timedelta(days=8)),
            "gsi1pk": f"SERVICEDAY#{service}#{day.isoformat()}", "gsi1sk": f"{family}#{child}",
        }
        self.items.append(item)
        return item

    def certificate(self, family: str, child: str, days: list[date]) -> None:
        """A medical certificate received by the service (no scanned file in the demo)."""
        from chalicelib.documents import certificate_item

        self.items.append(certificate_item(family, child, days, "", "staff", self.at(days[-1], 17)))

    def parent_certificate(self, family: str, child: str, days: list[date]) -> None:
        """A medical certificate a parent sent from the portal: its file is in the bucket,
        so staff find it « à examiner » (/gestion/certificats/)."""
        from chalicelib.documents import KEY_PREFIX, certificate_item

        key = f"{KEY_PREFIX}/{family}/{child}/{secrets.token_hex(16)}.pdf"
        self.items.append(certificate_item(family, child, days, key, "parent", self.at(days[-1], 18),
                                           "application/pdf"))
        self.files.append((key, _certificate_pdf(days)))

    def family_document(self, family: str, code: str, recorded: datetime, *, valid_until: date | None = None) -> None:
        """A document the family sent from « Mes documents » (docs/family-documents.md), its
        file in the bucket: accepted (valid until `valid_until`) or, without, « à examiner »."""
        from chalicelib import family_documents as fd

        item = fd.document_item(family, code, fd.document_key(family, code, "application/pdf"), "application/pdf",
                                f"famille{family[-2:]}", recorded, fd.new_id())
        if valid_until:
            item = {k: v for k, v in item.items() if k not in ("gsi1pk", "gsi1sk")}
            item.update(state="accepted", valid_until=valid_until.isoformat(), decided_by="agent",
                        decided_at=(recorded + timedelta(days=2)).astimezone(UTC).isoformat())
        else:
            item.update(state="to_review", received_at=recorded.astimezone(UTC).isoformat())
        self.items.append(item)
        self.files.append((item["document_key"], _certificate_pdf([recorded.date()], title=code)))

    def message(self, family: str, sent: datetime, subject: str, body: str, read: bool) -> None:
        message_id = secrets.token_hex(8)
        self.items.append({
            "pk": st.family_pk(family), "sk": f"MESSAGE#{sent.astimezone(UTC).isoformat()}#{message_id}",
            "kind": "message", "message_id": message_id, "sent_at": sent, "subject": subject,
            "body_markdown": body, "sender": "Service enfance", "read_at": sent + timedelta(days=1) if read else None,
        })


def seed_demo(storage: st.Storage, commune: Commune, now: datetime, *, documents=None, mailer=None,
              files_later: bool = False) -> str:
    """Imports the demo families dated around `now`, writes their activity, then invoices
    the past months with the real run (chalicelib.invoicing) and imports their payments
    with the real import (chalicelib.payments).

    `documents` and `mailer` (the invoices' PDFs and announcements): by default those of
    the embedded AWS of `portail serve`, none elsewhere (then invoices have no PDF yet).
    `files_later`: the invoices are written without their PDFs and mails, which
    `finish_demo_files` makes afterwards (`portail serve --demo`, once the portal answers:
    the PDFs are most of the seed's time)."""
    shift = year_shift(commune, now.astimezone(commune.tz).date())

    imported: list[ParsedFiles] = []

    def dated(parsed: ParsedFiles) -> ParsedFiles:
        parsed.children = [replace(c, birth_date=shift_years(c.birth_date, shift)) for c in parsed.children]
        imported.append(parsed)
        return parsed

    import_directory(storage, commune, DEMO_DIR, transform=dated)
    _set_demo_passwords(storage, [r.login for r in imported[0].responsables])
    writer = DemoWriter(commune, now)
    invoiced_months = _write_activity(writer, imported[0], commune)
    # The open requests through the real rules: seats counted, the waiting list in order.
    # Before the past days are written: each reads its family (a Query, which moto
    # answers by going through the whole table). Those past days are this month's and
    # before, the requests next month's: their capacity counters never meet.
    bookings = Bookings(storage, commune, writer.calendar)
    for family, child, rank, items, submitted in sorted(writer.requests, key=lambda r: r[4]):
        bookings.submit(family, child, rank, items, submitted)
    storage.batch_write(writer.items)
    storage.batch_write(_capacity_counters(writer.items))
    if documents is None and mailer is None and aws.is_local_endpoint():
        documents, mailer = _embedded_documents_and_mailer(commune)
    if documents is not None:
        for key, pdf in writer.files:
            documents.s3.put_object(Bucket=documents.bucket, Key=key, Body=pdf, ContentType="application/pdf")
    if files_later:
        documents = mailer = None
    _bill(storage, commune, now, invoiced_months, documents, mailer, _states(imported[0], writer.items))
    return demo_banner()


def demo_banner() -> str:
    """How to log in to the demo (French, printed by `portail serve --demo`)."""
    return (
        "Démonstration : famille du guide (Madame PAYS ZTEST, N° famille 381623867924), "
        f"identifiant « ztest », mot de passe « {DEMO_PASSWORD} » ; "
        f"{GENERATED_FAMILIES} autres familles : « famille01 » … « famille{GENERATED_FAMILIES:02d} », même mot de passe ; "
        "parents séparés, chacun son compte : « famille05 » et « famille05-2 »."
    )


def finish_demo_files(storage: st.Storage, commune: Commune, now: datetime, states, *, documents=None,
                      mailer=None) -> str:
    """The invoices' PDFs and mails a `seed_demo(files_later=True)` left undone, from the
    families' `states` (read after the seed): the invoicing run's own resumption. By
    default the embedded AWS's bucket and mail box. Returns the French summary."""
    from chalicelib.invoicing import Invoicing

    if documents is None and mailer is None:
        documents, mailer = _embedded_documents_and_mailer(commune)
    site_url = os.environ.get("PORTAIL_SITE_URL") or commune.commune.site_url
    months = sorted({date.fromisoformat(marker["sk"].split("#")[1] + "-01") for state in states
                     for marker in state.other if marker["sk"].startswith("BILLED#")})
    report = Invoicing(storage, commune, now, documents=documents, mailer=mailer, site_url=site_url).finish(
        months, states)
    failures = f" ; {len(report.failures)} échec(s)" if report.failures else ""
    return f"Factures de démonstration : {report.resumed} PDF et {report.mailed} courriel(s){failures}."


# The régie's numbering does not start at 1 in the guide (« 21662 »): nor in the demo.
DEMO_FIRST_NUMBERS = {numbering.INVOICE: 1000, numbering.OPERATION: 21000}
_DEMO_MODES = ("carte", "chèque", "prélèvement", "espèces", "CESU")


def _embedded_documents_and_mailer(commune: Commune):
    from chalicelib.documents import Documents
    from chalicelib.mail import Mailer
    from chalicelib.table import bucket_name

    # The demo's own requests to its own embedded AWS: unchecked by botocore, without a
    # socket when it runs in this process (portail.aws.client, `direct`).
    return (Documents(aws.client("s3", direct=True), bucket_name("documents")),
            Mailer(aws.client("ses", direct=True), commune.commune.contact_email))


def _states(records: ParsedFiles, items: list[dict]) -> dict[str, st.FamilyState]:
    """The families as just written (a fresh table): what the invoicing run would read back."""
    from chalicelib.families import child_item, family_item, responsable_item

    by_family: dict[str, list[dict]] = {}
    written = [*(family_item(f) for f in records.families), *(responsable_item(r) for r in records.responsables),
               *(child_item(c) for c in records.children), *items]
    for item in written:
        if item.get("pk", "").startswith("FAMILY#"):
            plain = st.deserialise(st.serialise(item))  # as the table gives it back: ISO dates, no None
            by_family.setdefault(plain["pk"].removeprefix("FAMILY#"), []).append(plain)
    return {number: st.FamilyState.from_items(sorted(found, key=lambda i: i["sk"]))
            for number, found in by_family.items()}


def _bill(storage: st.Storage, commune: Commune, now: datetime, months: list[date], documents, mailer,
          states: dict[str, st.FamilyState]) -> None:
    """Invoices the past months with the real run and imports their payments with the real
    import, month by month: the guide's family has paid everything (« solde de 0.00 € »); most others too, a few owe their
    last invoice, one has paid 5 € too much (a credit). The run is given the states the
    demo has just written instead of reading them back (a Scan on moto takes seconds)."""
    from chalicelib.invoicing import Invoicing
    from chalicelib.payments import PaymentImport, PaymentRow

    numbering.start_numbers(storage, DEMO_FIRST_NUMBERS)
    site_url = os.environ.get("PORTAIL_SITE_URL") or commune.commune.site_url
    run = Invoicing(storage, commune, now, documents=documents, mailer=mailer, site_url=site_url)
    payments = PaymentImport(storage, commune, now)
    today = now.astimezone(commune.tz).date()
    last = month_key(months[-1])
    issued_so_far: list[dict] = []
    for month in months:  # month by month, so that the statement's numbers follow the dates
        issued = run.run(month, states=states).invoices
        issued_so_far += issued
        rows = []
        for invoice in issued:
            family = invoice["family_number"]
            guide = family == GUIDE_FAMILY
            if not guide and invoice["month"] == last and int(family[-2:]) % 4 == 0:
                continue  # still to pay
            paid_on = min(date.fromisoformat(str(invoice["invoice_date"])) + timedelta(days=10), today)
            extra = Decimal("5.00") if family.endswith("07") and invoice["month"] == last else 0
            rows.append(PaymentRow(invoice["seq"], paid_on, family, invoice["number"], invoice["total"] + extra,
                                   "carte" if guide else _DEMO_MODES[invoice["seq"] % len(_DEMO_MODES)], None,
                                   f"DEMO-{invoice['seq']}"))
        rows.sort(key=lambda r: (r.day, r.line))
        accounts = {number: st.FamilyState(profile=state.profile, responsables=state.responsables,
                                           invoices=[i for i in issued_so_far if i["family_number"] == number])
                    for number, state in states.items()}
        payments.import_rows(rows, source="démonstration", states=accounts)


def _set_demo_passwords(storage: st.Storage, logins: list[str]) -> None:
    """Every demo login gets the demo password, accepted in demo mode only (one hash for all)."""
    from chalicelib.passwords import hash_password

    password_hash = hash_password(DEMO_PASSWORD)
    found = storage.batch_get([(st.login_pk(login), st.LOGIN) for login in logins])
    storage.batch_write([{**item, "password_hash": password_hash, "demo_only": True} for item in found.values()])


def _capacity_counters(items: list[dict]) -> list[dict]:
    """Seats taken per service and day, as the bookings count them: a validated day, and
    an absent one (declared after the deadline, it keeps its seat and is billed)."""
    counts: dict[str, int] = {}
    for item in items:
        if item.get("kind") == "day" and item["status"] in ("validated", "absent"):
            counts[item["gsi1pk"]] = counts.get(item["gsi1pk"], 0) + 1
    return [{"pk": key, "sk": "COUNTER", "validated": n} for key, n in sorted(counts.items())]


def _write_activity(w: DemoWriter, records: ParsedFiles, commune: Commune) -> list[date]:
    """The families' days, requests and messages; returns the months to invoice."""
    today = w.today
    next_month = month_start(today, 1)
    this_month = month_start(today)
    # Months already invoiced: the previous one once the invoice day has come.
    last_invoiced = month_start(today, -1 if today.day >= commune.invoicing.invoice_day else -2)
    invoiced_months = [month_start(last_invoiced, -1), last_invoiced]
    to_invoice = [month_start(last_invoiced, 1)] if month_start(last_invoiced, 1) < this_month else []
    service = commune.service
    midi = service("GARDERIE_MIDI")
    busy_day = w.calendar.nth_open_weekday(midi, next_month, 3, 2)  # the guide's Je 11
    # The guide's family asks two days ago for its days of next month (the small room's
    # among them), before their deadlines; fifteen families asked for the small room on
    # that day the day before, in turn.
    guide_asks = _guide_asks(w, next_month)
    guide_asked_at = min([w.at(today - timedelta(days=2), 20), *(
        booking_deadline(day, commune.deadline_rule(commune.service(code)), commune.tz) - timedelta(hours=1)
        for day, code in guide_asks)])
    asked_from = guide_asked_at - timedelta(hours=36)
    # The first generated family whose eldest eats at the canteen sent a medical
    # certificate staff have to review (_certificate_to_review).
    certificate_family = min((c.family_number for c in records.children if c.family_number != GUIDE_FAMILY
                              and c.child_id == "1" and "RESTAURATION" in c.services), default=None)

    for family in sorted(records.families, key=lambda f: f.number):
        number = family.number
        guide = number == GUIDE_FAMILY
        children = [c for c in records.children if c.family_number == number]
        ranks = sorted(r.rank for r in records.responsables if r.family_number == number)
        days: list[dict] = []
        for child in children:
            enrolled = child.services
            if not enrolled:
                continue
            cid = child.child_id
            rank = ranks[-1] if len(ranks) > 1 and cid != "1" else 1
            # Past months: the canteen on its open days, validated (the invoices' basis),
            # and the month over but not invoiced yet (early in a month, before the invoice day).
            for month in [*invoiced_months, *to_invoice, this_month]:
                for code in enrolled:
                    if code == "GARDERIE_MIDI":
                        continue
                    every = 1 if code == "RESTAURATION" else 2
                    for i, day in enumerate(w.calendar.opening_days(service(code), month, min(month_end(month), today))):
                        if i % every == 0:
                            days.append(w.day(number, cid, day, code, "validated", rank=_custody(number, day, rank)))
            if guide:
                if guide_asks:
                    w.ask(number, cid, [Item(day, code, "reserve") for day, code in guide_asks], guide_asked_at)
                _guide_family_month(w, number, cid, next_month, days)
                _excused_absence(w, number, cid, last_invoiced, days)
            elif number == certificate_family and cid == "1":
                _certificate_to_review(w, number, cid, this_month, days)
        if number.endswith("35"):
            # « Mes documents »: its quotient attestation is to renew within the month, and
            # its school insurance waits for an agent (/gestion/documents/).
            w.family_document(number, "QUOTIENT", w.at(today - timedelta(days=350)),
                              valid_until=today + timedelta(days=17))
            w.family_document(number, "ASSURANCE", w.at(today - timedelta(days=1), 19))
        if not guide and busy_day and int(number[-2:]) <= 15:
            # The first ones fill the room (capacity 12), the others wait in arrival order.
            for child in children:
                if "GARDERIE_MIDI" in child.services and child.child_id == "1":
                    w.ask(number, "1", [Item(busy_day, "GARDERIE_MIDI", "reserve")],
                          asked_from + timedelta(minutes=int(number[-2:])))
        # Messages: the guide's family has read its messages (« 0 Nouveaux Messages »).
        w.message(number, w.at(this_month), "Bienvenue sur le Portail Famille",
                  "Vous pouvez désormais **réserver** la cantine et la garderie en ligne.\n\n"
                  "Rappel : les réservations se font au plus tard **5 jours (hors week-end)** avant la date souhaitée, à 23 h 59.",
                  read=guide or int(number[-2:]) % 3 == 0)
        if not guide:
            w.message(number, w.at(max(this_month, today - timedelta(days=2))), "Menus du mois",
                      "Les menus du restaurant scolaire du mois prochain sont affichés à l'école et en mairie.",
                      read=False)
    return invoiced_months


def _custody(number: str, day: date, rank: int) -> int:
    """Who booked a day: the demo's separated parents of famille05 (Madame SOPHIE and
    Monsieur THOMAS ROBERT, each with their own account) have their only child every
    other week, so each has invoices of their own; the others' rank is the child's."""
    if number == SEPARATED_FAMILY:
        return 2 if day.isocalendar().week % 2 else 1
    return rank


def _certificate_to_review(w: DemoWriter, number: str, child: str, month: date, days: list[dict]) -> None:
    """The last two canteen days of this month before today missed, and the medical
    certificate the parent sent for them: the first day is billed, the second excused
    once staff accept the certificate."""
    canteen = [d for d in days if d["service"] == "RESTAURATION" and d["child_id"] == child
               and month_start(d["date"]) == month and d["date"] < w.today][-2:]
    if len(canteen) < 2:
        return  # the first days of a month: nothing missed yet
    _absent_in_a_row(canteen)
    w.parent_certificate(number, child, [d["date"] for d in canteen])


def _absent_in_a_row(days: list[dict]) -> None:
    """Days missed in a row, as the absence rules record them: the first billed, the
    following ones excused on a medical certificate."""
    for position, day in enumerate(days):
        day["status"] = "absent"
        day["reason"] = "absence_first_day" if position == 0 else "absence_following_day"
        day["message"] = ("Absence enregistrée : le premier jour d'absence est facturé." if position == 0 else
                          "Absence enregistrée : ce jour n'est pas facturé sur présentation d'un certificat médical.")


def _certificate_pdf(days: list[date], title: str = "") -> bytes:
    """A one-page « certificat médical » for the demo's certificate to review (`title`: a
    family's document of another kind)."""
    from io import BytesIO

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    name = title or "Certificat médical"
    page.setTitle(f"{name} (démonstration)")
    page.setFont("Helvetica-Bold", 16)
    page.drawString(72, 760, f"{name} (document de démonstration)")
    page.setFont("Helvetica", 12)
    if not title:
        page.drawString(72, 730, "L'enfant n'a pas pu fréquenter l'école du "
                        f"{days[0].strftime('%d/%m/%Y')} au {days[-1].strftime('%d/%m/%Y')}.")
    page.showPage()
    page.save()
    return out.getvalue()


def _excused_absence(w: DemoWriter, number: str, child: str, month: date, days: list[dict]) -> None:
    """Three days of canteen missed in a row, with a medical certificate: the invoice bills
    the first and deducts the two others."""
    canteen = [d for d in days if d["service"] == "RESTAURATION" and month_start(d["date"]) == month]
    run = canteen[3:6]
    if len(run) < 3:
        return
    _absent_in_a_row(run)
    w.certificate(number, child, [d["date"] for d in run])


def _guide_asks(w: DemoWriter, month: date) -> list[tuple[date, str]]:
    """The days the guide's family asks for in its last request: Ve 05 and Ma 09 (✓), and
    Je 11 in the small room, full by then (en attente)."""
    c, cal = w.commune, w.calendar
    matin, midi = c.service("GARDERIE_MATIN"), c.service("GARDERIE_MIDI")
    asked = [(cal.nth_open_weekday(matin, month, 4, 1), matin.code),  # guide: Ve 05 ✓
             (cal.nth_open_weekday(midi, month, 1, 2), midi.code),  # guide: Ma 09 ✓
             (cal.nth_open_weekday(midi, month, 3, 2), midi.code)]  # Je 11: the waiting list
    return [(day, code) for day, code in asked if day is not None]


def _guide_family_month(w: DemoWriter, number: str, child: str, month: date, days: list[dict]) -> None:
    """The guide's December 2014 for the eldest: every state of a booked day. Besides
    the days of its last request (_guide_asks), decided earlier: Je 11 in the evening
    refused by the service enfance, Lu 01 at the canteen cancelled in time."""
    c = w.commune
    cal = w.calendar
    soir, resto = c.service("GARDERIE_SOIR"), c.service("RESTAURATION")
    decided = [
        (soir, cal.nth_open_weekday(soir, month, 4, 2), "refused", "staff_refused",
         "Refusée par le service enfance. Motif : effectif d'encadrement insuffisant ce jour-là."),
        (resto, cal.nth_open_weekday(resto, month, 0, 1), "cancelled", "cancelled_in_time",
         "Annulation enregistrée avant la date limite : ce jour n'est pas facturé."),
    ]
    for service, day, status, reason, message in decided:
        if day is not None:
            w.day(number, child, day, service.code, status, reason=reason, message=message)
    # An absence in the current month, declared after the deadline: the first day is billed.
    past = [d for d in days if d["service"] == "RESTAURATION" and d["date"] < w.today]
    if past:
        past[-1]["status"] = "absent"
        past[-1]["reason"] = "absence_first_day_billed"
        past[-1]["message"] = "Absence enregistrée : le premier jour d'absence est facturé."
