"""The `portail` commands of billing: registered by portail/cli.py.

`portail invoices run AAAA-MM [--dry-run]`, `portail invoices credit NUMERO` (a credit
note) and `portail payments import FICHIER [--dry-run]` (docs/cli.md, docs/billing.md). Refusals are French sentences on stderr,
status 1; a progress bar goes to stderr when it is a terminal, the summary to stdout.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path


def register(commands, endpoint_help: str) -> None:
    """Adds this module's sub-commands to `portail`'s parser."""
    invoices = commands.add_parser("invoices", help="facturation mensuelle")
    invoice_actions = invoices.add_subparsers(dest="action", required=True, metavar="ACTION")
    run = invoice_actions.add_parser("run", help="émet les factures d'un mois (une par responsable facturé)")
    run.add_argument("month", metavar="MOIS", help="le mois facturé, AAAA-MM (par exemple 2017-06)")
    run.add_argument("--dry-run", action="store_true", help="affiche ce qui serait facturé, sans rien écrire ni envoyer")
    run.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
    run.set_defaults(handler=_guarded(invoices_run))
    credit = invoice_actions.add_parser("credit", help="corrige une facture par un avoir (numéro AVO-…, PDF, courriel)")
    credit.add_argument("number", metavar="NUMERO", help="le numéro de la facture corrigée (par exemple FAC-001042)")
    what = credit.add_mutually_exclusive_group(required=True)
    what.add_argument("--amount", metavar="MONTANT", help="le montant de l'avoir, en euros (12,50)")
    what.add_argument("--lines", metavar="N,N", help="les lignes de la facture à créditer, par leur numéro (1,3)")
    what.add_argument("--all", action="store_true", help="toute la facture (moins les avoirs déjà émis)")
    credit.add_argument("--reason", metavar="MOTIF", required=True, help="le motif, imprimé sur l'avoir")
    credit.add_argument("--family", metavar="N°", help="le numéro de la famille (sinon cherché par le numéro de facture)")
    credit.add_argument("--dry-run", action="store_true", help="affiche l'avoir qui serait émis, sans rien écrire")
    credit.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
    credit.set_defaults(handler=invoices_credit)

    payments = commands.add_parser("payments", help="règlements reçus par la régie")
    payment_actions = payments.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = payment_actions.add_parser("import", help="importe des règlements (CSV séparé par « ; »)")
    imp.add_argument("file", metavar="FICHIER", help="date;numero_famille;numero_facture;montant;mode")
    imp.add_argument("--dry-run", action="store_true", help="vérifie le fichier et affiche les affectations, sans rien écrire")
    imp.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
    imp.set_defaults(handler=_guarded(payments_import))


def _guarded(command):
    """French refusals (status 1) for the errors of the billing modules."""
    def handler(args) -> int:
        from chalicelib.billing import BillingError
        from chalicelib.invoicing import InvoicingError
        from chalicelib.payments import PaymentError
        from chalicelib.refusals import Refusal

        try:
            return command(args)
        except (BillingError, InvoicingError, PaymentError) as error:
            print(str(error), file=sys.stderr)
            return 1
        except Refusal as error:  # the month's lock held by another run
            print(error.message, file=sys.stderr)
            return 1
    return handler


def _site_url(commune) -> str:
    return (os.environ.get("PORTAIL_SITE_URL") or commune.commune.site_url).rstrip("/")


def invoices_run(args) -> int:
    """The same domain code as `/gestion/facturation/` (chalicelib/invoicing_runs.py): the
    month's lock taken (a French refusal while a run of it is going on, from the back
    office or another terminal), then the whole run in this process, without a time
    budget; it resumes an interrupted run (its lease expired) where it stopped."""
    from chalicelib.billing import parse_month
    from chalicelib.documents import Documents
    from chalicelib.invoicing import Invoicing, planned_lines, summary
    from chalicelib.invoicing_runs import Part, start
    from chalicelib.mail import Mailer
    from chalicelib.table import bucket_name

    from portail import aws
    from portail.staff import Staff

    month = parse_month(args.month)  # a bad month is refused before AWS is reached
    staff = Staff.open(args.endpoint_url)
    if args.dry_run:
        report = Invoicing(staff.storage, staff.commune, staff.now, progress=progress_bar()).run(month, dry_run=True)
        for line in planned_lines(report):
            print(line)
    else:
        payload = start(staff.storage, staff.commune, args.month, staff.now, "staff")
        documents = Documents(aws.client("s3", args.endpoint_url), bucket_name("documents"))
        mailer = Mailer(aws.client("ses", args.endpoint_url), staff.commune.commune.contact_email)
        # The families' billing pages are rendered as each chunk is written, as the back
        # office's run does (the same Part): one code, one cost.
        report = Part(staff.storage, staff.commune, documents=documents, mailer=mailer, pages=staff.pages,
                      site_url=_site_url(staff.commune), budget=None, progress=progress_bar()).run(payload)
        if report is None:  # taken over meanwhile by a « Reprendre la facturation »
            print("Cette facturation a été reprise ailleurs entre-temps : suivez-la sur sa page "
                  f"/gestion/facturation/{payload['month']}/.", file=sys.stderr)
            return 1
    for line in summary(report):
        print(line)
    return 0


def invoices_credit(args) -> int:
    """`portail invoices credit`: the same domain function as /gestion/factures/<n>/avoir."""
    from chalicelib.credit_notes import CreditNoteError, CreditNotes, plan
    from chalicelib.documents import Documents
    from chalicelib.formatting import euros
    from chalicelib.mail import Mailer
    from chalicelib.table import bucket_name

    from portail import aws
    from portail.staff import ACTOR, Staff

    staff = Staff.open(args.endpoint_url)
    documents = mailer = None
    if not args.dry_run:
        documents = Documents(aws.client("s3", args.endpoint_url), bucket_name("documents"))
        mailer = Mailer(aws.client("ses", args.endpoint_url), staff.commune.commune.contact_email)
    notes = CreditNotes(staff.storage, staff.commune, staff.now, documents=documents, mailer=mailer,
                        site_url=_site_url(staff.commune))
    mode = "total" if args.all else ("lignes" if args.lines else "montant")
    try:
        invoice = notes.find_invoice(args.number, args.family)
        asked = plan(invoice, mode, (args.lines or "").split(","), args.amount or "", args.reason)
        if args.dry_run:
            print(f"Vérification seule, rien n'est écrit : un avoir de {euros(asked.amount)} serait émis sur la "
                  f"facture {invoice['number']} (famille {invoice['family_number']}).")
            return 0
        note = notes.issue(invoice, asked, ACTOR)
    except CreditNoteError as error:
        print(error.message, file=sys.stderr)
        return 1
    print(f"Avoir {note['number']} émis sur la facture {invoice['number']} (famille {invoice['family_number']}) : "
          f"{euros(note['amount'])}" + ("" if note.get("pdf_written_at") else " ; PDF non enregistré, à refaire")
          + ("" if note.get("announced_at") else " ; courriel non envoyé") + ".")
    staff.export_pages([invoice["family_number"]])
    return 0


def payments_import(args) -> int:
    """The file read here; its checks, its writes and the pages rendered again are
    chalicelib.payments', which /gestion/reglements/ calls too."""
    from chalicelib.payments import (
        PaymentImport,
        imported_families,
        render_family_pages,
        report_lines,
    )
    from chalicelib.staff.csv_input import ImportRejected, RowError

    from portail.staff import Staff

    path = Path(args.file)
    try:
        content = path.read_bytes()
    except OSError as error:
        raise ImportRejected([RowError(path.name, 0, f"lecture impossible ({error.strerror})")]) from None
    staff = Staff.open(args.endpoint_url)
    results = PaymentImport(staff.storage, staff.commune, staff.now).import_file(content, path.name,
                                                                                 dry_run=args.dry_run)
    for line in report_lines(results, args.dry_run):
        print(line)
    families = imported_families(results)
    if not args.dry_run and families and staff.pages is not None:
        stale = render_family_pages(staff.pages, staff.storage, families, staff.now)
        if stale:
            print(f"Pages des familles non régénérées : {', '.join(stale)} (elles le seront à leur prochaine "
                  "action ou au prochain export).", file=sys.stderr)
    return 0


def progress_bar(stream=None) -> Callable[[int, int], None] | None:
    """A progress bar on stderr when it is a terminal (nothing in a log file)."""
    stream = stream or sys.stderr
    if not stream.isatty():
        return None
    width = 30

    def show(done: int, total: int) -> None:
        if total and (done == total or done % max(1, total // 200) == 0):
            filled = width * done // total
            stream.write(f"\rFacturation : [{'#' * filled}{'.' * (width - filled)}] {done}/{total} familles")
            if done == total:
                stream.write("\n")
            stream.flush()

    return show
