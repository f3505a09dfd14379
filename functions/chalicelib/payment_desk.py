"""One payment recorded at the régie's desk (`/gestion/reglements/`), with its receipt
(« reçu ») and the receipt's PDF (docs/billing.md).

The form is checked whole before anything is read or written (`read_form`: a French
PaymentError, 400); then the family is read (one Query: unknown family, an invoice not
of that family, a missing responsable are 404). The payment is the import's
(chalicelib/payments.py: the same items, allocations, statement operation and index
keys) written in ONE TransactWriteItems with:

- the counters OPERATION and RECEIPT advanced on the condition that they still hold
  the values read: the receipt's number is gapless, as the invoices' are;
- the receipt `RECEIPT#<number>` (what its page and PDF show), which must not exist;
- the form's token `PAYMENTTOKEN#<sha-256 of the token>`, which must not exist: a
  second submission of the same form (a double click, a reload) fails there and is
  answered the first one's receipt, never a second payment;
- the audit entry `payment_recorded` (the agent's login, the family).

The PDF is made after the write (reportlab, imported then) and kept in the documents
bucket; should that fail, the receipt's page makes it when it is asked for.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from chalicelib import billing, numbering
from chalicelib import storage as st
from chalicelib.config import Commune
from chalicelib.formatting import euros, short_date
from chalicelib.money import to_decimal
from chalicelib.payments import (
    FAMILY_NUMBER,
    INVOICE_NUMBER,
    MAX_ATTEMPTS,
    PaymentError,
    PaymentRow,
    apply_allocations,
    paid_actions,
    parse_amount,
    parse_day,
    parse_mode,
    payment_items,
)

DESK_MODES = ("chèque", "espèces", "carte", "CESU", "virement")
SOURCE = "guichet"
RECEIPTS_FOLDER = "recus"
TOKEN_DAYS = 2  # a form's token is kept this long (TTL): a form older than that is reloaded anyway
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class DeskPayment:
    family: str
    amount: Decimal
    mode: str
    day: date
    invoice: str | None
    rank: int | None
    token: str

    def fingerprint(self) -> str:
        text = f"{self.family}|{self.amount}|{self.mode}|{self.day}|{self.invoice or ''}|{self.rank or ''}"
        return hashlib.sha256(text.encode()).hexdigest()


def new_token() -> str:
    """The form's idempotency token (one per form shown)."""
    return secrets.token_urlsafe(18)


def read_form(field, today: date) -> DeskPayment:
    """The desk form (`field(name)` → its text), checked whole: a PaymentError (400) that
    names every bad field, nothing read or written. A form without a token (a script)
    gets a fresh one: no protection against its own repeats."""
    problems = []
    family = field("family_number").strip()
    if not FAMILY_NUMBER.match(family):
        problems.append(f"numéro de famille « {family} » invalide (chiffres uniquement)" if family
                        else "le numéro de famille est obligatoire")
    amount = mode = day = None
    try:
        amount = parse_amount(field("amount"))
    except ValueError as error:
        problems.append(str(error))
    try:
        mode = parse_mode(field("mode"), DESK_MODES)
    except ValueError as error:
        problems.append(str(error))
    try:
        day = parse_day(field("date"), today)
    except ValueError as error:
        problems.append(str(error))
    invoice = field("invoice").strip().upper() or None
    if invoice and not INVOICE_NUMBER.match(invoice):
        problems.append(f"numéro de facture « {invoice} » invalide")
    rank_text = field("rang").strip()
    if rank_text not in ("", "1", "2"):
        problems.append(f"rang « {rank_text} » invalide (1 ou 2, le responsable qui paie)")
    token = field("token").strip() or new_token()
    if not _TOKEN.match(token):
        problems.append("le formulaire est illisible : rechargez la page")
    if problems:
        text = " ; ".join(problems)
        raise PaymentError(f"Règlement refusé, rien n'est enregistré : {text}.", status=400, code="invalid_payment")
    return DeskPayment(family, amount, mode, day, invoice, int(rank_text) if rank_text else None, token)


def token_pk(token: str) -> str:
    return f"PAYMENTTOKEN#{hashlib.sha256(token.encode()).hexdigest()}"


TOKEN_SK = "PAYMENTTOKEN"


def receipt_pk(number: str) -> str:
    return f"RECEIPT#{number}"


RECEIPT_SK = "RECEIPT"
_RECEIPT_NUMBER = re.compile(rf"^{numbering.RECEIPT_PREFIX}-\d{{6,9}}$")


def receipt_key(family: str, number: str) -> str:
    """Where a receipt's PDF is kept in the documents bucket."""
    return f"{RECEIPTS_FOLDER}/{family}/{number}.pdf"


class Desk:
    def __init__(self, storage: st.Storage, commune: Commune, now: datetime, actor: str):
        self.storage, self.commune, self.now, self.actor = storage, commune, now, actor
        self.numbers = numbering.Counters(storage, numbering.OPERATION, numbering.RECEIPT)

    def record(self, form: DeskPayment) -> tuple[dict, bool]:
        """(the receipt item, True) once written; (the first receipt, False) when this form
        was already recorded. PaymentError (404, 409) otherwise, nothing written."""
        earlier = self._recorded(form)
        if earlier is not None:
            return earlier, False
        state = self.storage.family_state(form.family)
        for _attempt in range(MAX_ATTEMPTS):
            invoices, rank, responsable = self._checked(form, state)
            mine = [i for i in invoices.values() if int(i["responsable_rank"]) == rank]
            allocations, credit = billing.allocate(form.amount, mine, form.invoice)
            operation_number = self.numbers.number(numbering.OPERATION)
            number = numbering.receipt_number(self.numbers.number(numbering.RECEIPT))
            row = PaymentRow(0, form.day, form.family, form.invoice, form.amount, form.mode, rank, number)
            payment, operation = payment_items(self.commune, row, rank, operation_number, allocations, credit,
                                               self.now, SOURCE, receipt_number=number, recorded_by=self.actor)
            receipt = self._receipt(form, number, payment, responsable)
            actions = [*self.numbers.advance_actions(1),  # 0, 1
                       self.storage.put_new_action(payment), self.storage.put_new_action(operation),
                       self.storage.put_new_action(receipt),
                       self.storage.put_new_action(self._token_item(form, number)),  # 5
                       *paid_actions(self.storage, invoices, allocations),
                       self.storage.put_action(self.storage.audit_item(self.now, self.actor, "payment_recorded", {
                           "family_number": form.family, "receipt_number": number, "amount": form.amount,
                           "mode": form.mode, "date": form.day.isoformat(), "allocations": allocations,
                           "unallocated": credit, "operation_number": operation_number}))]
            failed = self.storage.transact(actions)
            if not failed:
                self.numbers.advanced(1)
                apply_allocations(state, invoices, allocations, payment)
                return receipt, True
            if 5 in failed:
                earlier = self._recorded(form)  # the same form, submitted twice at once
                if earlier is not None:
                    return earlier, False
            if {0, 1} & set(failed):
                self.numbers.forget()
            if set(failed) - {0, 1}:
                state = self.storage.family_state(form.family)  # paid meanwhile
        raise PaymentError("Écritures concurrentes à répétition : rechargez la page et recommencez "
                           "(rien n'a été enregistré).", status=503, code="busy")

    def _recorded(self, form: DeskPayment) -> dict | None:
        """The receipt an earlier submission of this form made, if any."""
        token = self.storage.get(token_pk(form.token), TOKEN_SK)
        if token is None:
            return None
        if token["fingerprint"] != form.fingerprint():
            raise PaymentError(f"Ce formulaire a déjà servi au reçu {token['receipt_number']} : rechargez la page "
                               "« Règlements » pour enregistrer un autre règlement.", code="form_used")
        return self.receipt(token["receipt_number"])

    def _checked(self, form: DeskPayment, state) -> tuple[dict[str, dict], int, dict]:
        """(the family's invoices, the paying responsable's rank, that responsable)."""
        if state.profile is None:
            raise PaymentError(f"Famille {form.family} inconnue : vérifiez son numéro.", status=404,
                               code="family_not_found")
        invoices = {i["number"]: i for i in state.invoices}
        if form.invoice and form.invoice not in invoices:
            raise PaymentError(f"La facture {form.invoice} n'est pas une facture de la famille {form.family}.",
                               status=404, code="invoice_not_found")
        rank = int(invoices[form.invoice]["responsable_rank"]) if form.invoice else form.rank or 1
        if form.invoice and form.rank and form.rank != rank:
            raise PaymentError(f"La facture {form.invoice} est celle du responsable de rang {rank}, pas {form.rank}.",
                               status=422, code="wrong_responsable")
        responsable = next((r for r in state.responsables if int(r.get("rank", 0)) == rank), None)
        if responsable is None:
            raise PaymentError(f"La famille {form.family} n'a pas de responsable de rang {rank}.", status=404,
                               code="responsable_not_found")
        return invoices, rank, responsable

    def _receipt(self, form: DeskPayment, number: str, payment: dict, responsable: dict) -> dict:
        return {
            "pk": receipt_pk(number), "sk": RECEIPT_SK, "kind": "receipt", "number": number,
            "family_number": form.family, "payment_sk": payment["sk"], "date": form.day, "amount": form.amount,
            "mode": form.mode, "requested_invoice": form.invoice, "allocations": payment["allocations"],
            "unallocated": payment["unallocated"], "operation_number": payment["operation_number"],
            "responsable_rank": payment["responsable_rank"],
            "responsable_name": billing.responsable_name(responsable), "regie": self.commune.commune.regie,
            "recorded_by": self.actor, "recorded_at": self.now.astimezone(UTC),
            "pdf_key": receipt_key(form.family, number),
        }

    def _token_item(self, form: DeskPayment, number: str) -> dict:
        expires = self.now.astimezone(UTC) + timedelta(days=TOKEN_DAYS)
        return {"pk": token_pk(form.token), "sk": TOKEN_SK, "receipt_number": number,
                "fingerprint": form.fingerprint(), "expires_at": int(expires.timestamp())}

    def receipt(self, number: str) -> dict | None:
        return find_receipt(self.storage, number)


def find_receipt(storage: st.Storage, number: str) -> dict | None:
    """A receipt by its number (one GetItem); None for an unknown or malformed one."""
    if not _RECEIPT_NUMBER.match(number or ""):
        return None
    return storage.get(receipt_pk(number), RECEIPT_SK)


def what_it_pays(receipt: dict) -> str:
    """« FAC-000042 (12,50 €) », and the credit kept; the same words on the page and the PDF."""
    parts = [f"{a['invoice_number']} ({euros(a['amount'])})" for a in receipt.get("allocations") or []]
    credit = to_decimal(receipt.get("unallocated") or 0)
    text = ", ".join(parts)
    if credit > 0:
        text += (" ; " if text else "") + f"{euros(credit)} gardés en avoir sur le compte de la famille"
    return text or "–"


def receipt_rows(receipt: dict) -> list[tuple[str, str]]:
    """The receipt's table, as printed (and shown on its page)."""
    return [
        ("N° famille", str(receipt["family_number"])),
        ("Reçu de", str(receipt["responsable_name"])),
        ("Montant", euros(receipt["amount"])),
        ("Mode de règlement", str(receipt["mode"])),
        ("Date du règlement", short_date(receipt["date"])),
        ("Facture indiquée", str(receipt.get("requested_invoice") or "aucune")),
        ("Affecté à", what_it_pays(receipt)),
        ("N° d'opération du relevé", str(int(receipt["operation_number"]))),
    ]


def write_pdf(documents, commune: Commune, receipt: dict, *, only_if_missing: bool = False) -> None:
    """The receipt's PDF in the documents bucket (`recus/<N° famille>/<number>.pdf`).
    The documents' PDF helpers serve any PDF of the bucket, invoices' or receipts'."""
    if only_if_missing and documents.has_object(receipt["pdf_key"]):
        return
    from chalicelib.receipt_pdf import receipt_pdf  # reportlab: only when a PDF is made

    documents.put_invoice_pdf(receipt["pdf_key"], receipt_pdf(receipt, commune))
