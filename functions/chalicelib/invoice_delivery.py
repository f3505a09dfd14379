"""After a chunk's transaction (chalicelib.invoicing): each invoice's PDF written to the
documents bucket, then the mail that announces it, then the markers record both
(`pdf_written_at`, `announced_at`, `mailed`) in one BatchWriteItem for the chunk.

The order is what protects the mails: an invoice's mail only after its PDF is written,
its marker only after its mail. A crash between a chunk's mails and its markers' write
could at worst send that chunk's mails again (at most one chunk: 25 invoices), each
mail twice at most; it never skips one. One batch per chunk instead of one PutItem per
invoice: a third of the run's AWS requests (docs/billing.md).

The PDFs are rendered one after the other in the calling thread (reportlab keeps
process-wide state); the S3 writes and SES sends of a chunk go through a small thread
pool: on AWS each waits on the network (10–30 ms), so a chunk's requests overlap.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC


@dataclass
class _Outcome:
    marker: dict
    failures: list[str] = field(default_factory=list)
    mailed: bool = False
    without_address: bool = False


def deliver(run, pairs: list[tuple[dict, dict]], report) -> None:
    """Writes each (marker, invoice)'s PDF and sends its mail when not done yet, then
    records both on the markers; `run` is the chalicelib.invoicing.Invoicing (its
    documents, mailer, storage, render, texts). A failure is reported; a re-run retries it."""
    stamp = run.now.astimezone(UTC).isoformat()
    size = max(1, run.chunk_size)
    for start in range(0, len(pairs), size):
        part = pairs[start:start + size]
        jobs = [(before, invoice, _pdf(run, before, invoice)) for before, invoice in part]
        outcomes, error = _send_all(run, jobs, stamp)
        markers = []
        for (before, _, _), outcome in zip(jobs, outcomes, strict=True):
            if outcome is None:
                continue
            report.failures += outcome.failures
            report.mailed += outcome.mailed
            report.without_address += outcome.without_address
            if outcome.marker != before:
                markers.append(outcome.marker)
        if markers:  # after every mail of the chunk, even when one of them raised
            run.storage.batch_write(markers)
        if error is not None:
            raise error


def _pdf(run, before: dict, invoice: dict) -> bytes | None:
    if run.documents is None or before.get("pdf_written_at"):
        return None
    return run.render(invoice)


def _send_all(run, jobs: list, stamp: str) -> tuple[list[_Outcome | None], BaseException | None]:
    """Each job's requests, in the pool when there are several; an unexpected error is
    handed back after the others are done (their markers are still written)."""
    threads = min(run.io_threads, len(jobs))
    if threads <= 1:
        results: list[_Outcome | None] = []
        for job in jobs:
            try:
                results.append(_send(run, *job, stamp))
            except Exception as error:  # noqa: BLE001 - handed back once the markers are written
                return results + [None] * (len(jobs) - len(results)), error
        return results, None
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="invoice-delivery") as pool:
        futures = [pool.submit(_send, run, *job, stamp) for job in jobs]
    results, error = [], None
    for future in futures:
        if future.exception() is not None:
            error = error or future.exception()
            results.append(None)
        else:
            results.append(future.result())
    return results, error


def _send(run, before: dict, invoice: dict, pdf: bytes | None, stamp: str) -> _Outcome:
    """One invoice: its PDF written, then its mail sent (never before its PDF)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib.invoicing import mail_text

    outcome = _Outcome(dict(before))
    marker = outcome.marker
    if pdf is not None:
        try:
            run.documents.put_invoice_pdf(invoice["pdf_key"], pdf)
            marker["pdf_written_at"] = stamp
        except (BotoCoreError, ClientError) as error:
            outcome.failures.append(f"{invoice['number']} : PDF non enregistré ({error})")
    if run.mailer is not None and marker.get("pdf_written_at") and not marker.get("announced_at"):
        address = invoice.get("email")
        if not address:
            marker.update(announced_at=stamp, mailed=False)
            outcome.without_address = True
        else:
            try:
                subject, body = mail_text(invoice, run.site_url, run.commune.commune.name)
                run.mailer.send(address, subject, body)
                marker.update(announced_at=stamp, mailed=True)
                outcome.mailed = True
            except (BotoCoreError, ClientError) as error:
                outcome.failures.append(f"{invoice['number']} : courriel non envoyé ({error})")
    return outcome
