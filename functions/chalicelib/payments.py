"""The régie's payments (règlements) from a file: `portail payments import FICHIER` and
`/gestion/reglements/` call this same code (columns: docs/billing.md).

Every row is checked before anything is written: one bad row imports nothing, and
every bad row is reported with its line. Each payment is then written in one
TransactWriteItems: the PAYMENT item (which must not exist yet), its statement
operation numbered from the counter (advanced on the condition that it still holds the
value read), the paid amounts of the invoices it settles (on the condition that they
have not changed) and an audit entry. A payment credits the invoice the row names, else
the oldest unpaid invoices of the responsable; what is left over stays a credit, which
the next invoices use. Importing the same file again imports nothing twice: a row's
reference (its own column, or a fingerprint of the row) is the PAYMENT item's key.

Every PAYMENT item (imported here or recorded at the desk, chalicelib/payment_desk.py)
is on the index gsi1 under `PAYMENTS#<its date>` (`payment_index_keys`): the régie's
daily list is one Query (chalicelib/payments_day.py).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from chalicelib import billing, numbering
from chalicelib import storage as st
from chalicelib.calendar_rules import school_year_of
from chalicelib.config import Commune
from chalicelib.formatting import euros, short_date
from chalicelib.money import to_decimal
from chalicelib.refusals import Refusal
from chalicelib.staff.csv_input import ImportRejected, RowError, decode, read_date, read_rows

COLUMNS = ("date", "numero_famille", "montant", "mode")  # required on every row
OPTIONAL_COLUMNS = ("numero_facture", "rang", "reference")
ACTOR = "staff"  # the commands' actor; a page passes the agent's login
MAX_ATTEMPTS = 8
PAYMENTS_INDEX = "PAYMENTS#"
FAMILY_NUMBER = re.compile(r"^\d{1,20}$")
INVOICE_NUMBER = re.compile(r"^[A-Z0-9-]{1,30}$")
_REFERENCE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_AMOUNT = re.compile(r"^\d{1,7}(?:[.,]\d{1,2})?$")
# The modes a payment is recorded with, as the statement and the daily list write them.
MODES = ("chèque", "espèces", "carte", "CESU", "virement", "prélèvement")
_MODES = {
    "especes": "espèces", "espece": "espèces", "liquide": "espèces",
    "cheque": "chèque", "cheques": "chèque",
    "carte": "carte", "cb": "carte", "carte bancaire": "carte", "carte_bancaire": "carte",
    "cesu": "CESU",
    "virement": "virement", "virement bancaire": "virement",
    "prelevement": "prélèvement", "prelevement automatique": "prélèvement",
}


class PaymentError(Refusal):
    """A refusal in French; nothing more is written."""

    def __init__(self, message: str, status: int = 409, code: str = "payment_refused"):
        super().__init__(status, code, message)


@dataclass(frozen=True)
class PaymentRow:
    line: int
    day: date
    family: str
    invoice: str | None
    amount: Decimal
    mode: str
    rank: int | None
    reference: str


@dataclass
class ImportedPayment:
    row: PaymentRow
    status: str  # imported, already_imported (planned on a dry run)
    allocations: list[dict] = field(default_factory=list)
    unallocated: Decimal = billing.ZERO
    rank: int = 1


# --- reading and checking ------------------------------------------------------------------

def parse_amount(text: str) -> Decimal:
    """« 41,40 », « 41.40 », « 1 234,56 € » → Decimal('41.40'); ValueError in French otherwise."""
    cleaned = re.sub(r"[\s\u00a0\u202f€]", "", text)
    if not _AMOUNT.match(cleaned):
        raise ValueError(f"montant « {text} » invalide (en euros, par exemple 41,40)")
    try:
        amount = to_decimal(cleaned.replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"montant « {text} » invalide (en euros, par exemple 41,40)") from None
    if amount <= 0:
        raise ValueError(f"montant « {text} » invalide : il doit être supérieur à zéro")
    return amount


def parse_mode(text: str, modes: tuple[str, ...] = MODES) -> str:
    """A mode as staff write it (accents and case free, « CB » is « carte ») among `modes`."""
    key = unicodedata.normalize("NFKD", text.strip().lower())
    key = "".join(c for c in key if not unicodedata.combining(c))
    mode = _MODES.get(key)
    if mode is None or mode not in modes:
        raise ValueError(f"mode de règlement « {text} » inconnu (attendu : {', '.join(modes)})")
    return mode


def parse_day(text: str, today: date) -> date:
    """A payment's day (JJ/MM/AAAA or AAAA-MM-JJ), never after `today`."""
    day = read_date(text)
    if day > today:
        raise ValueError(f"le {short_date(day)} est dans le futur")
    return day


def fingerprint(day: date, family: str, invoice: str | None, amount: Decimal, mode: str, occurrence: int) -> str:
    """The reference of a row without one: the same row of the same file gives the same
    reference again (so a second import skips it); identical rows differ by occurrence."""
    text = f"{day.isoformat()}|{family}|{invoice or ''}|{amount}|{mode}|{occurrence}"
    return "R" + hashlib.sha256(text.encode()).hexdigest()[:15].upper()


def parse_payments(content: bytes | str, name: str, storage: st.Storage, today: date) -> list[PaymentRow]:
    """Every row checked (format, known family, invoice of that family, responsable) before
    anything is written; ImportRejected lists every bad row with its line."""
    errors: list[RowError] = []
    rows: list[PaymentRow] = []
    seen_references: dict[str, int] = {}
    occurrences: dict[tuple, int] = {}
    for line, row in read_rows(decode(content), name, COLUMNS, errors):
        try:
            day = parse_day(row["date"], today)
            family = row["numero_famille"]
            if not FAMILY_NUMBER.match(family):
                raise ValueError(f"numéro de famille « {family} » invalide (chiffres uniquement)")
            invoice = (row.get("numero_facture") or "").strip().upper() or None
            if invoice and not INVOICE_NUMBER.match(invoice):
                raise ValueError(f"numéro de facture « {invoice} » invalide")
            amount = parse_amount(row["montant"])
            mode = parse_mode(row["mode"])
            rank_text = (row.get("rang") or "").strip()
            if rank_text not in ("", "1", "2"):
                raise ValueError(f"rang « {rank_text} » invalide (1 ou 2, le responsable qui paie)")
            reference = (row.get("reference") or "").strip()
            if reference and not _REFERENCE.match(reference):
                raise ValueError(f"référence « {reference} » invalide (lettres, chiffres, - ou _ ; 40 au plus)")
        except ValueError as error:
            errors.append(RowError(name, line, str(error)))
            continue
        if not reference:
            identity = (day, family, invoice, amount, mode)
            occurrences[identity] = occurrences.get(identity, 0) + 1
            reference = fingerprint(day, family, invoice, amount, mode, occurrences[identity])
        if reference in seen_references:
            errors.append(RowError(name, line, f"référence « {reference} » déjà utilisée ligne {seen_references[reference]}"))
            continue
        seen_references[reference] = line
        rows.append(PaymentRow(line, day, family, invoice, amount, mode, int(rank_text) if rank_text else None,
                               reference))
    errors += _unknown(rows, name, storage)
    if not rows and not errors:
        errors.append(RowError(name, 0, "aucun règlement à importer"))
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.line))
    return rows


def _unknown(rows: list[PaymentRow], name: str, storage: st.Storage) -> list[RowError]:
    """The rows whose family, invoice or responsable is not in the table (one BatchGetItem)."""
    if not rows:
        return []
    keys = {(st.family_pk(r.family), st.PROFILE) for r in rows}
    keys |= {(st.family_pk(r.family), st.invoice_sk(r.invoice)) for r in rows if r.invoice}
    keys |= {(st.family_pk(r.family), st.responsable_sk(r.rank)) for r in rows if r.rank}
    found = storage.batch_get(sorted(keys))
    errors = []
    for r in rows:
        pk = st.family_pk(r.family)
        invoice = found.get((pk, st.invoice_sk(r.invoice))) if r.invoice else None
        if (pk, st.PROFILE) not in found:
            errors.append(RowError(name, r.line, f"famille {r.family} inconnue"))
        elif r.invoice and invoice is None:
            errors.append(RowError(name, r.line, f"facture {r.invoice} inconnue pour la famille {r.family}"))
        elif invoice and r.rank and int(invoice["responsable_rank"]) != r.rank:
            errors.append(RowError(name, r.line, f"la facture {r.invoice} est celle du responsable de rang "
                                                 f"{int(invoice['responsable_rank'])}, pas {r.rank}"))
        elif r.rank and (pk, st.responsable_sk(r.rank)) not in found:
            errors.append(RowError(name, r.line, f"la famille {r.family} n'a pas de responsable de rang {r.rank}"))
    return errors


# --- writing ----------------------------------------------------------------------------------

def payment_index_keys(day: date, recorded_at: datetime, family: str, reference: str) -> dict:
    """A payment's place in the régie's daily list: gsi1 `PAYMENTS#<date>`, in the order
    they were recorded (docs/data-model.md)."""
    return {"gsi1pk": f"{PAYMENTS_INDEX}{day.isoformat()}",
            "gsi1sk": f"{recorded_at.astimezone(UTC).isoformat()}#{family}#{reference}"}


def payment_items(commune: Commune, row: PaymentRow, rank: int, number: int, allocations: list[dict],
                  credit: Decimal, now: datetime, source: str, **extra) -> tuple[dict, dict]:
    """The PAYMENT item and its statement operation (credit)."""
    pk = st.family_pk(row.family)
    payment = {
        "pk": pk, "sk": st.payment_sk(row.day, row.reference), "kind": "payment", "reference": row.reference,
        "date": row.day, "amount": row.amount, "mode": row.mode, "allocations": allocations, "unallocated": credit,
        "operation_number": number, "responsable_rank": rank, "imported_at": now.astimezone(UTC),
        "requested_invoice": row.invoice, "source": source or None, "family_number": row.family,
        **payment_index_keys(row.day, now, row.family, row.reference), **extra,
    }
    operation = {
        "pk": pk, "sk": st.operation_sk(number), "kind": "operation", "number": number, "date": row.day,
        "description": billing.payment_description(row.mode), "regie": commune.commune.regie,
        "debit": billing.ZERO, "credit": row.amount, "payment_reference": row.reference,
        "school_year": school_year_of(row.day, commune.year_start), "responsable_rank": rank,
    }
    return payment, operation


def paid_actions(storage: st.Storage, invoices: dict[str, dict], allocations: list[dict]) -> list[dict]:
    """The invoices' new paid amounts, on the condition that they are still those read."""
    actions = []
    for allocation in allocations:
        invoice = invoices[allocation["invoice_number"]]
        old = invoice.get("paid_amount") or 0
        actions.append(storage.update_if_action(
            invoice["pk"], invoice["sk"], {"paid_amount": to_decimal(old) + allocation["amount"]},
            {"paid_amount": old}))
    return actions


def apply_allocations(state, invoices: dict[str, dict], allocations: list[dict], payment: dict | None) -> None:
    """Keeps the family's state read at the start true to what was just written."""
    for allocation in allocations:
        invoice = invoices[allocation["invoice_number"]]
        invoice["paid_amount"] = to_decimal(invoice.get("paid_amount") or 0) + allocation["amount"]
    if payment is not None:
        state.payments.append(payment)


def payer_rank(row: PaymentRow, invoices: dict[str, dict]) -> int:
    if row.invoice:
        return int(invoices[row.invoice]["responsable_rank"])
    return row.rank or 1


class PaymentImport:
    def __init__(self, storage: st.Storage, commune: Commune, now: datetime, actor: str = ACTOR):
        self.storage = storage
        self.commune = commune
        self.now = now
        self.actor = actor
        self.numbers = numbering.Counters(storage, numbering.OPERATION)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.commune.tz).date()

    def import_file(self, content: bytes | str, name: str, *, dry_run: bool = False,
                    source: str | None = None) -> list[ImportedPayment]:
        """A file's content checked whole (ImportRejected), then written (or planned)."""
        return self.import_rows(parse_payments(content, name, self.storage, self.today), dry_run=dry_run,
                                source=source or name)

    def import_rows(self, rows: list[PaymentRow], *, dry_run: bool = False, source: str = "",
                    states: dict | None = None) -> list[ImportedPayment]:
        """Writes the checked rows, family by family, in file order within a family.
        `states`: the families' invoices and payments already in hand (the demo's),
        else one Query per family."""
        results: dict[int, ImportedPayment] = {}
        by_family: dict[str, list[PaymentRow]] = {}
        for row in rows:
            by_family.setdefault(row.family, []).append(row)
        for family, family_rows in by_family.items():
            state = (states or {}).get(family) or self.storage.family_state(family)
            for row in family_rows:
                results[row.line] = self._one(row, state, dry_run, source)
        return [results[r.line] for r in rows]

    def _one(self, row: PaymentRow, state, dry_run: bool, source: str) -> ImportedPayment:
        sk = st.payment_sk(row.day, row.reference)
        for _attempt in range(MAX_ATTEMPTS):
            if any(p["sk"] == sk for p in state.payments):
                return ImportedPayment(row, "already_imported")
            invoices = {i["number"]: i for i in state.invoices}
            rank = payer_rank(row, invoices)
            mine = [i for i in invoices.values() if int(i["responsable_rank"]) == rank]
            allocations, credit = billing.allocate(row.amount, mine, row.invoice)
            result = ImportedPayment(row, "imported", allocations, credit, rank)
            if dry_run:
                apply_allocations(state, invoices, allocations, None)
                return result
            number = self.numbers.number(numbering.OPERATION)
            payment, operation = payment_items(self.commune, row, rank, number, allocations, credit, self.now, source)
            actions = [*self.numbers.advance_actions(1),
                       self.storage.put_new_action(payment), self.storage.put_new_action(operation),
                       *paid_actions(self.storage, invoices, allocations),
                       self.storage.put_action(self.storage.audit_item(self.now, self.actor, "payment_imported", {
                           "family_number": row.family, "reference": row.reference, "amount": row.amount,
                           "mode": row.mode, "date": row.day.isoformat(), "allocations": allocations,
                           "unallocated": credit, "operation_number": number, "file": source or None}))]
            failed = self.storage.transact(actions)
            if not failed:
                self.numbers.advanced(1)
                apply_allocations(state, invoices, allocations, payment)
                return result
            if 0 in failed:
                self.numbers.forget()  # numbers taken meanwhile
            if set(failed) - {0}:
                state = self.storage.family_state(row.family)  # imported or paid meanwhile
        raise PaymentError(f"Ligne {row.line} : écritures concurrentes à répétition, relancez l'import "
                           "(les règlements déjà importés ne le seront pas deux fois).", status=503)


def imported_families(results: list[ImportedPayment]) -> list[str]:
    return sorted({r.row.family for r in results if r.status == "imported"})


def render_family_pages(pages, storage: st.Storage, families, now: datetime) -> list[str]:
    """The pages payments make stale (dashboard, « Mes factures », « Mes règlements », the
    statement), for each family paid; returns the families whose pages could not be
    rendered (the payments stand: the next action or the first login of a day renders them)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib.pages import pages_showing_billing

    stale = []
    for family in sorted(set(families)):
        try:
            pages.export(storage, family, now, only=pages_showing_billing())
        except (BotoCoreError, ClientError):
            stale.append(family)
    return stale


def totals(results: list[ImportedPayment]) -> tuple[int, Decimal, Decimal, int]:
    """(payments to import or imported, their total, credit left unallocated, already imported)."""
    imported = [r for r in results if r.status == "imported"]
    total = to_decimal(sum((r.row.amount for r in imported), Decimal(0)))
    credit = to_decimal(sum((r.unallocated for r in imported), Decimal(0)))
    return len(imported), total, credit, len(results) - len(imported)


def result_text(r: ImportedPayment) -> str:
    """What became (or would become) of one row, in French."""
    if r.status == "already_imported":
        return f"déjà importé (référence {r.row.reference}), ignoré"
    parts = [f"{a['invoice_number']} ({euros(a['amount'])})" for a in r.allocations]
    text = ("affecté à " + ", ".join(parts)) if parts else "aucune facture à régler"
    if r.unallocated > 0:
        text += f" ; crédit de {euros(r.unallocated)} conservé pour les prochaines factures"
    return text


def report_lines(results: list[ImportedPayment], dry_run: bool) -> list[str]:
    lines = [f"ligne {r.row.line} : famille {r.row.family}, {euros(r.row.amount)} ({r.row.mode}, "
             f"{short_date(r.row.day)}) : {result_text(r)}" for r in results]
    count, total, credit, already = totals(results)
    verb = "à importer (vérification seule, rien n'est écrit)" if dry_run else "importé(s)"
    lines.append(f"Règlement(s) {verb} : {count}, total {euros(total)} ; crédit non affecté : {euros(credit)}"
                 + (f" ; déjà importé(s) : {already}" if already else "") + ".")
    return lines
