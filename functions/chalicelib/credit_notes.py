"""Credit notes (« avoirs », docs/billing.md): a wrong invoice is corrected by a credit
note, never changed nor deleted. The staff page `/gestion/factures/<number>/avoir` and
`portail invoices credit` call the same `CreditNotes.issue`; the invoicing run issues
one when a month's regularisations deduct more than it bills (`issue_for_draft`).

A credit note has its own gapless number (`AVO-000001`, `numbering.CREDIT_NOTE`), taken
in the ONE transaction that writes it: both counters (credit notes, operations) advanced
on the condition that they hold the values read, the `CREDITNOTE#<number>` item and its
statement operation (a credit), what it credits on the invoice (`CREDITED#<invoice>`,
raised on the condition that it stays within the invoice's total: two credit notes at
once cannot credit more than the invoice), the check that the invoice's paid amount is
the one read, and an audit entry. Then its PDF (documents bucket, reportlab loaded on
first use) and a mail to the responsable that says no more than the invoice's.

Its amount first takes off what is left to pay on the invoice (`credited`, read with
the invoice, chalicelib.storage.FamilyState); what exceeds it (the invoice was already
paid) is a credit (`unallocated`) that settles the responsable's next invoices, as an
overpayment does. The pure parts (`rows`, `plan`, `mail_text`) take everything as
arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from chalicelib import numbering
from chalicelib.calendar_rules import school_year_of
from chalicelib.formatting import euros, short_date
from chalicelib.money import to_decimal
from chalicelib.refusals import Refusal

ZERO = Decimal("0.00")
MAX_REASON = 300
MAX_ATTEMPTS = 6
_AMOUNT = re.compile(r"^\d{1,6}([.,]\d{1,2})?$")
_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,30}$")


class CreditNoteError(Refusal):
    def __init__(self, message: str, status: int = 400, code: str = "invalid_credit_note"):
        super().__init__(status, code, message)


# --- pure: what an invoice can be credited, and the credit note asked for -----------------------

def rows(invoice: dict) -> list[dict]:
    """The invoice's rows as printed (lines, deductions, regularisations), numbered from
    1; a row with a positive amount may be credited."""
    found = []
    for kind in ("lines", "deductions", "regularisations"):
        for line in invoice.get(kind, []):
            amount = to_decimal(line["amount"])
            found.append({"index": len(found) + 1, "kind": kind, "child_name": line.get("child_name", ""),
                          "label": line["label"], "quantity": int(line["quantity"]),
                          "unit_price": to_decimal(line["unit_price"]), "amount": amount,
                          "creditable": amount > 0})
    return found


def creditable(invoice: dict) -> Decimal:
    """What credit notes may still take off the invoice: its total less earlier ones."""
    return max(to_decimal(invoice["total"]) - to_decimal(invoice.get("credited") or 0), ZERO)


def parse_amount(text: str) -> Decimal:
    value = (text or "").strip().replace("\u00a0", "").replace(" ", "").removesuffix("€")
    if not _AMOUNT.match(value):
        raise CreditNoteError(f"Montant « {(text or '')[:20]} » invalide : en euros, par exemple 12,50.")
    try:
        return to_decimal(Decimal(value.replace(",", ".")))
    except InvalidOperation:  # pragma: no cover - the pattern already refused it
        raise CreditNoteError(f"Montant « {text[:20]} » invalide.") from None


@dataclass(frozen=True)
class Plan:
    """A credit note asked for, checked: its amount, the rows it credits, its reason."""

    invoice_number: str
    amount: Decimal
    lines: list[dict]
    reason: str
    whole: bool


def plan(invoice: dict, mode: str, chosen: list[str], amount_text: str, reason: str) -> Plan:
    """Checks a request (`mode`: `total` the whole invoice, `lignes` the `chosen` rows, or
    `montant` an amount) against the invoice; a French CreditNoteError otherwise. The
    amount is at most the invoice's total less earlier credit notes."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise CreditNoteError("Indiquez le motif de l'avoir : il figure sur l'avoir et dans le journal.")
    if len(reason) > MAX_REASON:
        raise CreditNoteError(f"Motif trop long : {MAX_REASON} caractères au plus.")
    left = creditable(invoice)
    if left <= 0:
        raise CreditNoteError(f"La facture {invoice['number']} est entièrement créditée : elle n'a plus rien "
                              "à créditer.")
    all_rows = rows(invoice)
    if mode == "total":
        amount, lines = left, [_credited(r) for r in all_rows if r["creditable"]]
    elif mode == "lignes":
        by_index = {str(r["index"]): r for r in all_rows}
        picked = [by_index.get(str(c).strip()) for c in chosen]
        if not picked:
            raise CreditNoteError("Cochez au moins une ligne de la facture à créditer.")
        if any(p is None or not p["creditable"] for p in picked):
            raise CreditNoteError("Seules les lignes facturées (montant positif) de cette facture peuvent être créditées.")
        lines = [_credited(r) for r in sorted({p["index"]: p for p in picked}.values(), key=lambda r: r["index"])]
        amount = to_decimal(sum((line["amount"] for line in lines), ZERO))
    elif mode == "montant":
        amount, lines = parse_amount(amount_text), []
    else:
        raise CreditNoteError("Choisissez ce que l'avoir crédite : toute la facture, des lignes ou un montant.")
    if amount <= 0:
        raise CreditNoteError("Le montant de l'avoir doit être supérieur à zéro.")
    if amount > left:
        raise CreditNoteError(f"Un avoir de {euros(amount)} dépasserait la facture {invoice['number']} : "
                              f"{euros(left)} au plus (son montant, {euros(invoice['total'])}, "
                              "moins les avoirs déjà émis).")
    return Plan(invoice["number"], amount, lines, reason, mode == "total" and left == to_decimal(invoice["total"]))


def _credited(row: dict) -> dict:
    return {"child_name": row["child_name"], "label": row["label"], "quantity": row["quantity"],
            "unit_price": row["unit_price"], "amount": row["amount"]}


def mail_text(credit_note: dict, site_url: str, commune_name: str) -> tuple[str, str]:
    """(subject, body): as the invoice's announcement, its number, what it corrects and
    its amount, and the login page; nothing else (a mail can be read by anyone)."""
    subject = f"Nouvel avoir disponible : {credit_note['number']}"
    about = (f"sur la facture {credit_note['invoice_number']}" if credit_note.get("invoice_number")
             else f"de régularisation pour la période {credit_note['period_label']}")
    body = (
        "Bonjour,\n\n"
        f"Votre avoir {credit_note['number']} {about}, d'un montant de {euros(credit_note['amount'])}, "
        "est disponible sur le Portail Famille.\n\n"
        f"Pour le consulter, connectez-vous : {site_url.rstrip('/')}/connexion/\n\n"
        f"Service enfance, commune de {commune_name}\n"
        "Ce message est envoyé automatiquement : merci de ne pas y répondre."
    )
    return subject, body


def description(credit_note: dict) -> str:
    """The statement's words: « Avoir AVO-000001 (facture FAC-001002) »."""
    if credit_note.get("invoice_number"):
        return f"Avoir {credit_note['number']} (facture {credit_note['invoice_number']})"
    return f"Avoir {credit_note['number']} : régularisation {credit_note['period_label']}"


def pdf_key(family_number: str, number: str) -> str:
    from chalicelib.documents import invoice_key

    return invoice_key(family_number, number)  # beside the invoices: factures/<N°>/AVO-….pdf


# --- the writes ------------------------------------------------------------------------------

class CreditNotes:
    """Issues credit notes. `documents` and `mailer` may be None: no PDF, no mail."""

    def __init__(self, storage, commune, now: datetime, *, documents=None, mailer=None, site_url: str = ""):
        self.storage, self.commune, self.now = storage, commune, now
        self.documents, self.mailer = documents, mailer
        self.site_url = site_url or commune.commune.site_url
        self.numbers = numbering.Counters(storage, numbering.CREDIT_NOTE, numbering.OPERATION)

    def find_invoice(self, number: str, family_number: str | None = None) -> dict:
        """The invoice (with what credit notes took off it, `credited`); a French 404."""
        from chalicelib import credit_store
        from chalicelib.storage import credited_sk, family_pk, invoice_sk

        number = (number or "").strip().upper()
        invoice = None
        if _NUMBER.match(number):
            if family_number:
                invoice = self.storage.get(family_pk(family_number), invoice_sk(number))
            else:
                invoice = credit_store.invoice_by_number(self.storage, number)
        if invoice is None:
            raise CreditNoteError(f"Facture « {number[:30]} » introuvable.", 404, "invoice_not_found")
        credited = self.storage.get(invoice["pk"], credited_sk(number))
        if credited:
            invoice["credited"] = credited.get("amount")
        return invoice

    def issue(self, invoice: dict, asked: Plan, actor: str) -> dict:
        """Issues the credit note `asked` on `invoice` (as read by `find_invoice`): one
        transaction, then its PDF and mail. A CreditNoteError (409) when credit notes issued
        meanwhile leave less to credit."""
        from chalicelib import credit_store

        for _attempt in range(MAX_ATTEMPTS):
            total, paid = to_decimal(invoice["total"]), to_decimal(invoice.get("paid_amount") or 0)
            credited = to_decimal(invoice.get("credited") or 0)
            settles = min(asked.amount, max(total - paid - credited, ZERO))
            note = self._item(invoice, asked.amount, asked.lines, asked.reason, settles)
            extra = [credit_store.credited_add_action(self.storage, invoice["family_number"], invoice["number"],
                                                      invoice["month"], asked.amount, total - asked.amount),
                     credit_store.paid_unchanged_action(self.storage, invoice)]
            failed = self._write(note, extra, actor)
            if failed is None:
                return self._finish(note, invoice.get("responsable_rank"))
            if "extra0" in failed:
                invoice = self.find_invoice(invoice["number"], invoice["family_number"])
                raise CreditNoteError(
                    f"Un autre avoir vient d'être émis sur la facture {invoice['number']} : il reste "
                    f"{euros(creditable(invoice))} à créditer au plus. Recommencez.", 409, "credit_note_conflict")
            if "extra1" in failed:
                invoice = self.find_invoice(invoice["number"], invoice["family_number"])
        raise CreditNoteError("L'avoir a rencontré des écritures concurrentes à répétition : recommencez.",
                              409, "credit_note_conflict")

    def issue_for_draft(self, draft: dict, marker: dict, actor: str = "staff") -> dict | None:
        """The invoicing run's credit note for a month whose regularisations deduct more
        than it bills (`draft`'s total is negative), written with the month's marker
        (`marker`, which must not exist yet: a re-run issues nothing twice). The whole
        amount is a credit for the responsable's next invoices. None when the marker
        exists (issued meanwhile)."""
        amount = -to_decimal(draft["total"])
        for _attempt in range(MAX_ATTEMPTS):
            note = self._item(draft, amount, [], "Régularisation de mois déjà facturés", ZERO, from_run=True)
            marker = {**marker, "invoice_number": note["number"], "document": "credit_note"}
            failed = self._write(note, [self.storage.put_new_action(marker)], actor)
            if failed is None:
                return self._finish(note, draft["responsable_rank"], draft.get("email"))
            if "extra0" in failed:
                return None
        raise CreditNoteError("L'avoir de régularisation a rencontré des écritures concurrentes : relancez.", 409,
                              "credit_note_conflict")

    def _item(self, source: dict, amount: Decimal, lines: list[dict], reason: str, settles: Decimal, *,
              from_run: bool = False) -> dict:
        from chalicelib.storage import credit_note_sk, family_pk

        seq = self.numbers.number(numbering.CREDIT_NOTE)
        number = numbering.credit_note_number(seq)
        family = source["family_number"]
        day = self.now.astimezone(self.commune.tz).date()
        note = {
            "pk": family_pk(family), "sk": credit_note_sk(number), "kind": "credit_note", "number": number,
            "seq": seq, "family_number": family, "regie": source["regie"],
            "responsable_rank": int(source.get("responsable_rank") or 1),
            "responsable_name": source.get("responsable_name", ""), "address": source.get("address", []),
            "date": source["invoice_date"] if from_run else day,
            "period_label": source.get("period_label", ""), "month": source["month"],
            "amount": amount, "reason": reason, "credited_lines": lines,
            "settles": settles, "unallocated": amount - settles, "allocations": [],
            "pdf_key": pdf_key(family, number), "operation_number": self.numbers.number(numbering.OPERATION),
            "created_at": self.now.astimezone(UTC).isoformat(),
        }
        if from_run:  # the run's own: its lines count in later regularisations (chalicelib.regularisation)
            note.update(origin="regularisation", quotient_bracket=source.get("quotient_bracket", ""),
                        lines=source["lines"], deductions=source["deductions"],
                        regularisations=source["regularisations"], total=source["total"])
        else:
            note.update(origin="staff", invoice_number=source["number"], invoice_date=source["invoice_date"])
        note["school_year"] = school_year_of(note["date"], self.commune.year_start)
        return note

    def _write(self, note: dict, extra: list[dict], actor: str) -> set[str] | None:
        """One transaction; None when written, else which parts' conditions failed
        (`counter`, `extraN`). Counters taken meanwhile are read again."""
        from chalicelib.storage import operation_sk

        operation = {
            "pk": note["pk"], "sk": operation_sk(note["operation_number"]), "kind": "operation",
            "number": note["operation_number"], "date": note["date"], "description": description(note),
            "regie": note["regie"], "debit": ZERO, "credit": note["amount"], "credit_note_number": note["number"],
            "school_year": note["school_year"], "responsable_rank": note["responsable_rank"],
        }
        actions = self.numbers.advance_actions(1)
        owners = ["counter"] * len(actions) + ["counter", "counter"]
        actions += [self.storage.put_new_action(note), self.storage.put_new_action(operation)]
        owners += [f"extra{i}" for i in range(len(extra))]
        actions += extra
        actions.append(self.storage.put_action(self.storage.audit_item(self.now, actor, "credit_note_issued", {
            "family_number": note["family_number"], "number": note["number"], "amount": note["amount"],
            "invoice": note.get("invoice_number") or "", "reason": note["reason"]})))
        owners.append("audit")
        failed = self.storage.transact(actions)
        if not failed:
            self.numbers.advanced(1)
            return None
        kinds = {owners[i] for i in failed}
        if "counter" in kinds:
            self.numbers.forget()
        return kinds

    def _finish(self, note: dict, rank, email: str | None = None) -> dict:
        """The PDF, then the mail to the responsable; both recorded on the credit note."""
        from botocore.exceptions import BotoCoreError, ClientError

        stamp = self.now.astimezone(UTC).isoformat()
        done = {}
        if self.documents is not None:
            try:
                from chalicelib.credit_note_pdf import (
                    render,  # reportlab: loaded by the first PDF only
                )

                self.documents.put_invoice_pdf(note["pdf_key"], render(note, self.commune, self.site_url))
                done["pdf_written_at"] = stamp
            except (BotoCoreError, ClientError):
                pass  # the page says the PDF is missing; `portail invoices credit` reports it
        if self.mailer is not None and done:
            if email is None:
                from chalicelib.keys import responsable_sk

                email = (self.storage.get(note["pk"], responsable_sk(int(rank or 1))) or {}).get("email")
            if email:
                try:
                    self.mailer.send(email, *mail_text(note, self.site_url, self.commune.commune.name))
                    done.update(announced_at=stamp, mailed=True)
                except (BotoCoreError, ClientError):
                    pass
            else:
                done.update(announced_at=stamp, mailed=False)
        if done:
            self.storage.update_attributes(note["pk"], note["sk"], done)
            note.update(done)
        return note


def short_label(credit_note: dict) -> str:
    """« AVO-000001 du 02/12/2014 »."""
    return f"{credit_note['number']} du {short_date(credit_note['date'])}"
