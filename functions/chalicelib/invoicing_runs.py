"""A month's invoicing run outside the request (`/gestion/facturation/`, `portail invoices
run`): the preview, the lock, the run by parts, its progress (docs/billing.md).

- **The lock.** One item per month (`INVOICING#<month>` / `RUN`, chalicelib/invoicing_store.py)
  taken by one conditional write: two runs of one month never overlap. It is a lease of
  LEASE_SECONDS on the real clock, renewed after every chunk; a run that crashed lets it
  expire, a run stopped by a fault ends it at once, and « Reprendre la facturation »
  takes it over (`start` again): the run goes on where its chunk markers say
  (`Invoicing.run` skips what is invoiced and finishes the PDFs and mails left).
- **Parts.** A Lambda invocation lasts 15 minutes at most: a part works BUDGET_SECONDS,
  then hands the rest to a new job of itself (same lock, the families after its cursor).
- **Progress.** The item holds the families done / total and the cursor (written after
  every chunk, not every family), and the count, total and number range of the
  invoices issued, advanced in each chunk's own transaction (exact after any stop).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from chalicelib import billing
from chalicelib.calendar_rules import month_key
from chalicelib.formatting import euros, of_month
from chalicelib.invoicing import DEFAULT_CHUNK, Invoicing, Report
from chalicelib.invoicing_store import DONE, RUNNING, InvoicingStore
from chalicelib.refusals import Refusal

JOB = "invoicing_run"  # the deferred job's kind (functions/app.py registers it)
LEASE_SECONDS = 300  # a crashed run's lock expires after 5 minutes
BUDGET_SECONDS = 600  # a part's work: Lambda stops an invocation at 15 minutes
CHUNK_SIZE = DEFAULT_CHUNK  # invoices per transaction; the progress is written after each
MAX_LISTED = 20  # families named per reason a family was skipped
MAX_FAILURES = 50
ALREADY = "déjà facturée"


class LockLost(Exception):
    """Another run of the month took the lock over: this one stops writing."""


def parse(month_text: str, commune, now: datetime) -> date:
    """The month to invoice: well written (400) and over (409), in French."""
    if not (month_text or "").strip():
        raise Refusal(400, "invalid_month", "Choisissez le mois à facturer (AAAA-MM, par exemple 2014-10).")
    try:
        month = billing.parse_month(month_text)
        billing.check_month_over(commune, month, now.astimezone(commune.tz).date())
    except billing.BillingError as error:
        status = 400 if "invalide" in str(error) else 409
        raise Refusal(status, "invalid_month" if status == 400 else "month_not_over", str(error)) from None
    return month


def preview(storage, commune, month_text: str, now: datetime) -> Report:
    """What the run would do (`portail invoices run --dry-run`): nothing is written."""
    month = parse(month_text, commune, now)
    return Invoicing(storage, commune, now).run(month, dry_run=True)


def start(storage, commune, month_text: str, now: datetime, actor: str, real_now: float | None = None) -> dict:
    """Takes the month's lock for a new run, or takes over an interrupted one (its lease
    expired); French 409 while one runs. Returns the job's payload (`resumed` says which)."""
    month = parse(month_text, commune, now)
    key = month_key(month)
    store = InvoicingStore(storage)
    real_now = int(real_now if real_now is not None else time.time())
    run_id = secrets.token_hex(8)
    at = datetime.fromtimestamp(real_now, UTC).isoformat()
    lease = real_now + LEASE_SECONDS
    item = {"kind": "invoicing_run", "month": key, "state": RUNNING, "run_id": run_id, "lease_until": lease,
            "started_by": actor, "started_at": at, "portal_now": now.isoformat(), "parts": 1,
            "invoices": 0, "total": 0, "families_done": 0, "mailed": 0, "without_address": 0, "resumed": 0}
    if store.take(item):
        resumed = False
    elif store.take_over(key, run_id, actor, at, lease, real_now):
        resumed = True
    else:
        raise Refusal(409, "invoicing_running", f"La facturation du mois {of_month(month)} est déjà en cours : "
                                                "suivez-la sur sa page, elle n'est pas lancée une seconde fois.")
    return {"month": key, "run_id": run_id, "resumed": resumed}


# --- a part of the run (the deferred job, or the command in one go) -------------------------

class Part:
    """One part of a run: `run(payload)` does the work until done or out of budget."""

    def __init__(self, storage, commune, *, documents=None, mailer=None, pages=None, site_url: str = "",
                 budget: float | None = BUDGET_SECONDS, clock: Callable[[], float] = time.monotonic,
                 real_time: Callable[[], float] = time.time, progress=None):
        self.storage, self.commune = storage, commune
        self.store = InvoicingStore(storage)
        self.documents, self.mailer, self.pages, self.site_url = documents, mailer, pages, site_url
        self.budget, self.clock, self.real_time, self.progress = budget, clock, real_time, progress

    def run(self, payload: dict) -> Report | None:
        """The run's next part; None when the lock is no longer this run's (nothing done).
        `report.stopped_after` set: out of budget, the caller hands the rest on."""
        month, run_id = payload["month"], payload["run_id"]
        status = self.store.run(month)
        if not status or status.get("run_id") != run_id or status.get("state") != RUNNING:
            return None
        if not self.store.renew(month, run_id, self._lease()):
            return None
        now = datetime.fromisoformat(status["portal_now"])
        progress = _Progress(status)
        started = self.clock()
        reached = {"done": int(status.get("families_done") or 0)}

        def checkpoint(report: Report, done: int, last: str) -> bool:
            reached["done"] = done
            self._write(month, run_id, progress, report, now, done=done, cursor=last)
            return self.budget is not None and self.clock() - started > self.budget

        invoicing = Invoicing(self.storage, self.commune, now, documents=self.documents, mailer=self.mailer,
                              site_url=self.site_url, progress=self.progress, chunk_size=CHUNK_SIZE,
                              chunk_action=lambda invoices: self.store.chunk_action(month, invoices),
                              actor=status.get("resumed_by") or status.get("started_by") or "staff")
        try:
            report = invoicing.run(billing.parse_month(month), after=status.get("cursor"), checkpoint=checkpoint)
            if report.stopped_after is None:
                self._write(month, run_id, progress, report, now, done=report.total_families, finished=True)
            else:  # the mails of an earlier interrupted run, finished after the last chunk
                self._write(month, run_id, progress, report, now, done=reached["done"], cursor=report.stopped_after)
        except LockLost:
            return None
        except Exception as error:
            # The lease ends now: the page offers « Reprendre la facturation » at once.
            self.store.release(month, run_id, f"{type(error).__name__} : {error}"[:300])
            raise
        return report

    def _lease(self) -> int:
        return int(self.real_time()) + LEASE_SECONDS

    def _write(self, month: str, run_id: str, progress: _Progress, report: Report, now: datetime, *,
               done: int, cursor: str | None = None, finished: bool = False) -> None:
        """The progress since the last write; the pages of the families just invoiced."""
        added, values, families = progress.since_last(report)
        values.update(families_done=done, families_total=report.total_families)
        if cursor is not None:
            values["cursor"] = cursor
        if finished:
            values["finished_at"] = datetime.fromtimestamp(self.real_time(), UTC).isoformat()
        if not self.store.renew(month, run_id, self._lease(), values, added, finished=finished):
            raise LockLost(month)
        if self.pages is not None:
            from chalicelib.pages import pages_showing_billing

            for family in families:
                try:
                    self.pages.export(self.storage, family, now, only=pages_showing_billing())
                except Exception:  # noqa: BLE001 - the invoice stands; the next login of a day renders the pages
                    import logging

                    logging.getLogger("portail").exception("pages of family %s not rendered", family)


class _Progress:
    """What a part adds to the run item at each write: counts since the last one, and the
    reasons families were skipped merged into those of the earlier parts."""

    def __init__(self, status: dict):
        self.skipped: dict = dict(status.get("skipped") or {})
        self.failures: list = list(status.get("failures") or [])
        self.invoices = self.skips = self.mailed = self.without_address = self.resumed = self.failed = 0

    def since_last(self, report: Report) -> tuple[dict, dict, list[str]]:
        new_invoices = report.invoices[self.invoices:]
        for skip in report.skipped[self.skips:]:
            reason = ALREADY if skip.reason.startswith(ALREADY) else skip.reason
            entry = self.skipped.setdefault(reason, {"count": 0, "families": [], "problem": bool(skip.problem)})
            entry["count"] = int(entry["count"]) + 1
            if len(entry["families"]) < MAX_LISTED:
                entry["families"].append(skip.family_number + (f" (responsable {skip.rank})" if skip.rank else ""))
        self.failures = (self.failures + report.failures[self.failed:])[-MAX_FAILURES:]
        added = {"mailed": report.mailed - self.mailed, "without_address": report.without_address - self.without_address,
                 "resumed": report.resumed - self.resumed}
        self.invoices, self.skips, self.failed = len(report.invoices), len(report.skipped), len(report.failures)
        self.mailed, self.without_address, self.resumed = report.mailed, report.without_address, report.resumed
        values = {"skipped": self.skipped, "failures": self.failures}
        return added, values, sorted({i["family_number"] for i in new_invoices})


# --- the deferred job and the page's words -------------------------------------------------

def run_job(payload: dict, *, budget: float | None = None) -> None:
    """The job `invoicing_run` (functions/app.py): one part, then the rest handed on."""
    from chalicelib import jobs
    from chalicelib.dependencies import commune, documents, family_pages, mailer, site_url, storage

    part = Part(storage(), commune(), documents=documents(), mailer=mailer(), pages=family_pages(),
                site_url=site_url(), budget=BUDGET_SECONDS if budget is None else budget)
    report = part.run(payload)
    if report is not None and report.stopped_after is not None:
        jobs.defer(JOB, {"month": payload["month"], "run_id": payload["run_id"], "resumed": True})


def state(status: dict, real_now: float | None = None) -> str:
    """`running`, `interrupted` (its lease has ended: it may be resumed) or `done`."""
    if status.get("state") == DONE:
        return DONE
    now = real_now if real_now is not None else time.time()
    return RUNNING if int(status.get("lease_until") or 0) >= now else "interrupted"


def status_lines(status: dict) -> list[str]:
    """The run's summary in French, as the command's: invoices, total, numbers, mails,
    families skipped and why, what is left to redo."""
    month = of_month(billing.parse_month(status["month"]))
    count = int(status.get("invoices") or 0)
    done = status.get("state") == DONE
    lines = [f"Facturation du mois {month} {'terminée' if done else 'en cours'} : {count} facture(s) émise(s)"
             + (" jusqu'ici" if not done else "") + f", total {euros(status.get('total') or 0)}."]
    if status.get("first_number"):
        lines.append(f"Numéros : {status['first_number']} à {status['last_number']}.")
    if int(status.get("resumed") or 0):
        lines.append(f"Reprise d'une facturation interrompue : {status['resumed']} facture(s) complétée(s) "
                     "(PDF, courriel).")
    without = int(status.get("without_address") or 0)
    lines.append(f"Courriels d'annonce envoyés : {int(status.get('mailed') or 0)}"
                 + (f" ; {without} responsable(s) sans adresse électronique" if without else "") + ".")
    if status.get("families_total") is not None:
        lines.append(f"Familles parcourues : {int(status.get('families_done') or 0)} sur {int(status['families_total'])}.")
    skipped = status.get("skipped") or {}
    if skipped:
        lines.append(f"Familles ou responsables sans nouvelle facture : "
                     f"{sum(int(e['count']) for e in skipped.values())} :")
        for reason, entry in sorted(skipped.items(), key=lambda x: (not x[1].get("problem"), x[0])):
            listed = entry["families"]
            shown = ", ".join(f"famille {f}" for f in listed) + (", …" if int(entry["count"]) > len(listed) else "")
            lines.append(f"– {reason} : {int(entry['count'])} ({shown})")
    for failure in status.get("failures") or []:
        lines.append(f"À reprendre (relancez la facturation du mois) : {failure}")
    return lines
