"""The monthly invoicing run (`portail invoices run AAAA-MM` and the back office's
`/gestion/facturation/`): storage, PDFs, announcements. The rules (which days, lines, deductions, dates) are chalicelib.billing's,
the gapless numbers chalicelib.numbering's.

One invoice per responsable billed and month. Invoices are written by chunks in ONE
TransactWriteItems each: the invoices, their statement operations, a marker per
(family, month, responsable) that must not exist yet (`BILLED#<month>#<rank>`), the
credits taken from earlier overpayments, an audit entry, and both counters advanced
on the condition that they still hold the values read. So:

- a run that stops half-way (crash, fault, Ctrl-C) has written whole chunks only: the
  counters match the numbers given, no gap, no duplicate;
- running the month again skips what the markers say is invoiced and finishes what an
  interrupted run left undone (PDF, mail), then changes nothing more;
- two runs at once cannot give one number twice (the counter's condition) nor invoice
  a responsable twice (the marker's).

After its transaction, each invoice's PDF goes to the documents bucket and a mail
announces it; the chunk's markers then record both (`pdf_written_at`, `announced_at`),
so nothing is sent twice by a re-run (chalicelib.invoice_delivery).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from chalicelib import billing, numbering, regularisation
from chalicelib import storage as st
from chalicelib.calendar_rules import month_end, month_key, school_year_of, shift_months
from chalicelib.config import Commune
from chalicelib.documents import invoice_key
from chalicelib.formatting import euros, of_month
from chalicelib.keys import invoice_index_keys
from chalicelib.money import to_decimal

ACTOR = "staff"
MAX_ACTIONS = 100  # DynamoDB's limit of actions in one TransactWriteItems
ACTIONS_PER_INVOICE = 3  # invoice, operation, marker (plus one per credit taken)
FIXED_ACTIONS = 4  # the two counters, the audit entry and the run's progress (chunk_action)
DEFAULT_CHUNK = 25  # invoices per transaction: 3 actions each, 100 actions at most
MAX_ATTEMPTS = 8
IO_THREADS = 4  # a chunk's S3 writes and mails under way at once (chalicelib.invoice_delivery)


class InvoicingError(Exception):
    """A refusal in French: nothing (more) is written."""


@dataclass
class Report:
    month: date
    dry_run: bool
    families: int = 0
    invoices: list[dict] = field(default_factory=list)  # issued (planned on a dry run)
    skipped: list[billing.Skip] = field(default_factory=list)
    resumed: int = 0  # invoices of an interrupted run whose PDF or mail this run did
    mailed: int = 0
    without_address: int = 0
    failures: list[str] = field(default_factory=list)  # PDFs or mails that could not be done
    total_families: int = 0  # every family of the month, those of an earlier part included
    stopped_after: str | None = None  # the last family done when `checkpoint` asked to stop
    credit_notes: list[dict] = field(default_factory=list)  # a month whose regularisations deduct more than it bills

    @property
    def total(self) -> Decimal:
        return to_decimal(sum((i["total"] for i in self.invoices), Decimal(0)))

    @property
    def touched_families(self) -> list[str]:
        return sorted({i["family_number"] for i in [*self.invoices, *self.credit_notes]})


def mail_text(invoice: dict, site_url: str, commune_name: str) -> tuple[str, str]:
    """(subject, body): that an invoice is available, its number, period and amount, and
    the portal's login page. Nothing else (a mail can be read by anyone)."""
    subject = f"Nouvelle facture disponible : {invoice['number']}"
    body = (
        "Bonjour,\n\n"
        f"Votre facture {invoice['number']} pour la période {invoice['period_label']}, "
        f"d'un montant de {euros(invoice['total'])}, est disponible sur le Portail Famille.\n\n"
        f"Pour la consulter, connectez-vous : {site_url.rstrip('/')}/connexion/\n\n"
        f"Service enfance, commune de {commune_name}\n"
        "Ce message est envoyé automatiquement : merci de ne pas y répondre."
    )
    return subject, body


class Invoicing:
    """One run over every family. `documents` (chalicelib.documents.Documents) and
    `mailer` (chalicelib.mail.Mailer) may be None: no PDF, no mail (bench, dry runs)."""

    def __init__(self, storage: st.Storage, commune: Commune, now: datetime, *, documents=None, mailer=None,
                 site_url: str = "", chunk_size: int = DEFAULT_CHUNK, calendar=None,
                 progress: Callable[[int, int], None] | None = None, render: Callable | None = None,
                 chunk_action: Callable[[list[dict]], dict] | None = None, actor: str = ACTOR,
                 io_threads: int | None = None):
        from chalicelib.calendar_rules import CommuneCalendar

        self.storage = storage
        self.commune = commune
        self.now = now
        self.documents = documents
        self.mailer = mailer
        self.site_url = site_url or commune.commune.site_url
        self.chunk_size = max(1, chunk_size)
        self.calendar = calendar or CommuneCalendar(commune)
        self.progress = progress
        self._render = render
        # A transaction action written with each chunk's invoices (chalicelib.invoicing_runs:
        # the run's count of invoices and total, exact whatever stops the run).
        self.chunk_action = chunk_action
        self.actor = actor  # the journal's actor of each chunk's entry: `staff` (the command) or a login
        self.numbers = numbering.Counters(storage, numbering.INVOICE, numbering.OPERATION)
        self.io_threads = io_threads if io_threads is not None else IO_THREADS

    # --- the run --------------------------------------------------------------------

    def run(self, month: date, *, dry_run: bool = False, families: list[str] | None = None,
            states: dict | None = None, after: str | None = None,
            checkpoint: Callable[[Report, int, str], bool] | None = None) -> Report:
        """Invoices `month` for every family (or `families`, one Query each). `states`:
        the families' states already in hand (the demo, which has just written them).
        `after`: only the families whose number sorts after it (a run's continuation).
        `checkpoint(report, done, last_family)`: called after each chunk written, when every
        family up to `last_family` is done; True stops the run there (`stopped_after`)."""
        today = self.now.astimezone(self.commune.tz).date()
        billing.check_month_over(self.commune, month, today)
        if states is not None:
            states, numbers = dict(states), sorted(states)
        elif families is None:
            # Every family: one Scan of what the run needs (a Query per family would cost
            # a round trip each; on moto, each Query also reads the whole table), the
            # months its regularisations look back at included (no more round trips).
            since = shift_months(month, -regularisation.WINDOW_MONTHS)
            states = self.storage.billing_states(month_key(month), billing.first_day_read(since), month_end(month),
                                                 since=month_key(since))
            numbers = sorted(states)
        else:
            states, numbers = {}, sorted(families)
        # The months already invoiced, whose later changes are regularised: the commune's
        # (every family's markers) when the run read them all, else each family's own.
        invoiced = regularisation.invoiced_months(states.values()) if families is None else None
        report = Report(month, dry_run, families=len(numbers), total_families=len(numbers))
        skipped_before = 0
        if after is not None:  # the families numbered up to `after` were done by an earlier part
            skipped_before = sum(1 for n in numbers if n <= after)
            numbers = numbers[skipped_before:]
            report.families = len(numbers)
        pending: list[dict] = []
        negative: list[dict] = []  # drafts whose regularisations deduct more than they bill
        unfinished: list[tuple[dict, dict]] = []  # (marker, invoice) left by an interrupted run
        for done, number in enumerate(numbers, start=skipped_before + 1):
            state = states.pop(number, None) or self.storage.family_state(number)
            drafts, skipped = billing.draft_invoices(state, self.commune, month, self.calendar,
                                                     regularisation.invoiced_months([state]) if invoiced is None
                                                     else invoiced)
            report.skipped += skipped
            negative += [d for d in drafts if d["total"] < 0]
            drafts = [d for d in drafts if d["total"] >= 0]
            unfinished += self._unfinished(state, month)
            for draft in drafts:
                draft["credits"] = self._credits(draft, [*state.payments, *state.credit_notes])
            if pending and self._size(pending) + self._size(drafts) + FIXED_ACTIONS > MAX_ACTIONS:
                report.invoices += self._plan(pending) if dry_run else self._commit(pending, report)
                pending = []
            pending += drafts
            if len(pending) >= self.chunk_size:
                report.invoices += self._plan(pending) if dry_run else self._commit(pending, report)
                pending = []
                if not dry_run and checkpoint is not None and checkpoint(report, done, number):
                    report.stopped_after = number
                    break
            if self.progress:
                self.progress(done, report.total_families)
        if pending and report.stopped_after is None:
            report.invoices += self._plan(pending) if dry_run else self._commit(pending, report)
        if negative:
            self._credit_notes(negative, report)
        if not dry_run and unfinished:
            report.resumed = len(unfinished)
            self._finish(unfinished, report)
        return report

    def _credit_notes(self, drafts: list[dict], report: Report) -> None:
        """A negative month is issued as a credit note (chalicelib.credit_notes), one
        transaction each with the month's marker; a dry run only lists them."""
        from chalicelib.credit_notes import CreditNotes

        notes = CreditNotes(self.storage, self.commune, self.now, documents=self.documents, mailer=self.mailer,
                            site_url=self.site_url)
        for draft in drafts:
            if report.dry_run:
                report.credit_notes.append({**draft, "amount": -draft["total"]})
                continue
            marker = {"pk": st.family_pk(draft["family_number"]),
                      "sk": billing.billed_marker_sk(report.month, draft["responsable_rank"]), "kind": "billed",
                      "month": draft["month"], "responsable_rank": draft["responsable_rank"],
                      "created_at": self.now.astimezone(UTC).isoformat()}
            note = notes.issue_for_draft(draft, marker, self.actor)
            if note is not None:
                report.credit_notes.append(note)
                report.mailed += bool(note.get("mailed"))

    def _size(self, drafts: list[dict]) -> int:
        return sum(ACTIONS_PER_INVOICE + len(d["credits"]) for d in drafts)

    def _credits(self, draft: dict, payments: list[dict]) -> list[tuple[dict, Decimal]]:
        mine = [p for p in payments if int(p.get("responsable_rank") or 1) == draft["responsable_rank"]
                and (p.get("unallocated") or 0) > 0]
        return billing.credits_for(draft["total"], mine)

    def finish(self, months: list[date], states) -> Report:
        """Writes the PDFs and sends the mails that runs of `months` left undone, for the
        families' `states` already read (what `run` does at its end for an interrupted
        run's invoices): the demo invoices first, then makes the files once the portal
        answers (portail/demo.py)."""
        report = Report(months[-1] if months else None, False, families=0, total_families=0)
        unfinished = [pair for state in states for month in months for pair in self._unfinished(state, month)]
        report.resumed = len(unfinished)
        self._finish(unfinished, report)
        return report

    def _unfinished(self, state, month: date) -> list[tuple[dict, dict]]:
        prefix = f"BILLED#{month_key(month)}#"
        invoices = {i["number"]: i for i in state.invoices}
        found = []
        for marker in state.other:
            if marker["sk"].startswith(prefix) and not (marker.get("pdf_written_at") and marker.get("announced_at")):
                invoice = invoices.get(marker["invoice_number"])
                if invoice is not None:
                    responsable = next((r for r in state.responsables
                                        if int(r["rank"]) == int(marker["responsable_rank"])), {})
                    found.append((marker, {**invoice, "email": responsable.get("email") or None}))
        return found

    # --- numbering and writing ------------------------------------------------------

    def _items(self, drafts: list[dict]) -> list[tuple[dict, dict, dict, list]]:
        """(invoice, operation, marker, payment updates) of each draft, numbered from the counters."""
        built = []
        created = self.now.astimezone(UTC).isoformat()
        for k, draft in enumerate(drafts, start=1):
            seq = self.numbers.number(numbering.INVOICE, k)
            operation_number = self.numbers.number(numbering.OPERATION, k)
            number = numbering.invoice_number(self.commune, seq)
            family = draft["family_number"]
            pk = st.family_pk(family)
            paid = to_decimal(sum((share for _, share in draft["credits"]), Decimal(0)))
            invoice = {k2: v for k2, v in draft.items() if k2 not in ("credits", "email")}
            invoice.update(pk=pk, sk=st.invoice_sk(number), kind="invoice", number=number, seq=seq,
                           paid_amount=paid, pdf_key=invoice_key(family, number), created_at=created,
                           operation_number=operation_number, **invoice_index_keys(draft["month"], number, family))
            operation = {
                "pk": pk, "sk": st.operation_sk(operation_number), "kind": "operation", "number": operation_number,
                "date": draft["invoice_date"], "description": billing.invoice_description(draft),
                "regie": draft["regie"], "debit": draft["total"], "credit": billing.ZERO, "invoice_number": number,
                "school_year": school_year_of(draft["invoice_date"], self.commune.year_start),
                "responsable_rank": draft["responsable_rank"],
            }
            marker = {
                "pk": pk, "sk": billing.billed_marker_sk(date.fromisoformat(draft["month"] + "-01"),
                                                         draft["responsable_rank"]),
                "kind": "billed", "month": draft["month"], "responsable_rank": draft["responsable_rank"],
                "invoice_number": number, "created_at": created,
            }
            updates = []
            for payment, share in draft["credits"]:
                old = to_decimal(payment.get("unallocated") or 0)
                allocations = [*payment.get("allocations", []), {"invoice_number": number, "amount": share}]
                updates.append(self.storage.update_if_action(
                    payment["pk"], payment["sk"], {"allocations": allocations, "unallocated": old - share},
                    {"unallocated": payment.get("unallocated") or 0}))
            built.append((invoice, operation, marker, updates))
        return built

    def _plan(self, drafts: list[dict]) -> list[dict]:
        """A dry run: the invoices as they would be numbered; nothing is written."""
        planned = [invoice for invoice, *_ in self._items(drafts)]
        self.numbers.advanced(len(drafts))
        return planned

    def _commit(self, drafts: list[dict], report: Report) -> list[dict]:
        """Writes a chunk in one transaction (retried after a conflict), then its PDFs and mails."""
        drafts = list(drafts)
        for _attempt in range(MAX_ATTEMPTS):
            if not drafts:
                return []
            built = self._items(drafts)
            actions = self.numbers.advance_actions(len(drafts))
            owners: list[tuple[int, str]] = [(-1, "counter")] * len(actions)
            for index, (invoice, operation, marker, updates) in enumerate(built):
                for kind, action in (("invoice", self.storage.put_new_action(invoice)),
                                     ("operation", self.storage.put_new_action(operation)),
                                     ("marker", self.storage.put_new_action(marker)),
                                     *(("credit", u) for u in updates)):
                    actions.append(action)
                    owners.append((index, kind))
            first, last = built[0][0]["number"], built[-1][0]["number"]
            actions.append(self.storage.put_action(self.storage.audit_item(self.now, self.actor, "invoices_issued", {
                "month": drafts[0]["month"], "first": first, "last": last, "count": len(built),
                "total": to_decimal(sum((d["total"] for d in drafts), Decimal(0)))})))
            if self.chunk_action is not None:
                actions.append(self.chunk_action([invoice for invoice, *_ in built]))
            failed = self.storage.transact(actions)
            if not failed:
                self.numbers.advanced(len(drafts))
                issued = [({**invoice, "email": draft.get("email")}, marker)
                          for (invoice, _, marker, _), draft in zip(built, drafts, strict=True)]
                self._finish([(marker, invoice) for invoice, marker in issued], report)
                return [invoice for invoice, _ in issued]
            drop, refresh = set(), set()
            for position in failed:
                index, kind = owners[position]
                if kind == "marker":
                    drop.add(index)  # invoiced meanwhile by another run
                elif kind == "credit":
                    refresh.add(index)  # a payment changed meanwhile: read its family again
                else:
                    self.numbers.forget()  # numbers taken meanwhile: read the counters again
            for index in refresh - drop:
                state = self.storage.family_state(drafts[index]["family_number"])
                drafts[index]["credits"] = self._credits(drafts[index], [*state.payments, *state.credit_notes])
            drafts = [d for i, d in enumerate(drafts) if i not in drop]
        raise InvoicingError("La facturation a rencontré des écritures concurrentes à répétition : "
                             "relancez-la (les factures déjà émises ne seront pas refaites).")

    # --- PDFs and mails ------------------------------------------------------------------

    def render(self, invoice: dict) -> bytes:
        if self._render is None:
            from chalicelib.invoice_pdf import render  # reportlab: loaded by the first PDF only

            self._render = render
        return self._render(invoice, self.commune, self.site_url)

    def _finish(self, pairs: list[tuple[dict, dict]], report: Report) -> None:
        """Each invoice's PDF, then its mail, then the chunk's markers recording both
        (chalicelib.invoice_delivery: a crash can at worst send one chunk's mails twice,
        never skip one)."""
        from chalicelib.invoice_delivery import deliver

        deliver(self, pairs, report)


# --- the command's text -------------------------------------------------------------------

def summary(report: Report) -> list[str]:
    """The run's summary, in French: invoices, total, families skipped and why."""
    month = of_month(report.month)
    lines = []
    count = len(report.invoices)
    if report.dry_run:
        lines.append(f"Vérification seule, rien n'est écrit ni envoyé : {count} facture(s) seraient émises "
                     f"au titre du mois {month}, total {euros(report.total)}.")
    else:
        lines.append(f"Facturation du mois {month} : {count} facture(s) émise(s), total {euros(report.total)}.")
    if report.invoices:
        lines.append(f"  Numéros : {report.invoices[0]['number']} à {report.invoices[-1]['number']}"
                     + (" (prévus)" if report.dry_run else "") + ".")
    if not report.dry_run:
        if report.resumed:
            lines.append(f"  Reprise d'une facturation interrompue : {report.resumed} facture(s) complétée(s) "
                         "(PDF, courriel).")
        lines.append(f"  Courriels d'annonce envoyés : {report.mailed}"
                     + (f" ; {report.without_address} responsable(s) sans adresse électronique"
                        if report.without_address else "") + ".")
    if report.credit_notes:
        total = to_decimal(sum((n["amount"] for n in report.credit_notes), Decimal(0)))
        lines.append(f"  Avoirs de régularisation (plus déduit que facturé) : {len(report.credit_notes)}"
                     + ("" if report.dry_run else
                        f" ({report.credit_notes[0]['number']} à {report.credit_notes[-1]['number']})")
                     + f", total {euros(total)}.")
    lines.append(f"  Familles parcourues : {report.families}.")
    by_reason: dict[str, list[billing.Skip]] = {}
    for skip in report.skipped:
        key = skip.reason.split(" (")[0] if skip.reason.startswith("déjà facturée") else skip.reason
        by_reason.setdefault(key, []).append(skip)
    if by_reason:
        lines.append(f"  Familles ou responsables sans nouvelle facture : {len(report.skipped)} :")
        for reason, skips in sorted(by_reason.items(), key=lambda x: (not x[1][0].problem, x[0])):
            if skips[0].problem or len(skips) <= 10:
                who = ", ".join(f"famille {s.family_number}" + (f" (responsable {s.rank})" if s.rank else "")
                                for s in skips)
                lines.append(f"    - {reason} : {len(skips)} ({who})")
            else:
                lines.append(f"    - {reason} : {len(skips)}")
    for failure in report.failures:
        lines.append(f"  À reprendre (relancez la même commande) : {failure}")
    return lines


def planned_lines(report: Report) -> list[str]:
    """A dry run's detail: each invoice that would be issued."""
    lines = []
    for invoice in report.invoices:
        deductions = len(invoice["deductions"])
        lines.append(f"{invoice['number']} : famille {invoice['family_number']}, {invoice['responsable_name']}, "
                     f"{len(invoice['lines'])} ligne(s)"
                     + (f", {deductions} déduction(s)" if deductions else "")
                     + f", total {euros(invoice['total'])}"
                     + (f" (dont {euros(invoice['paid_amount'])} réglés par un avoir)" if invoice["paid_amount"] else ""))
    return lines
