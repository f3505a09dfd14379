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

        from portail.payments import PaymentError

        try:
            return command(args)
        except (BillingError, InvoicingError, PaymentError) as error:
            print(str(error), file=sys.stderr)
            return 1
    return handler


def _site_url(commune) -> str:
    return (os.environ.get("PORTAIL_SITE_URL") or commune.commune.site_url).rstrip("/")


def invoices_run(args) -> int:
    from chalicelib.billing import parse_month
    from chalicelib.documents import Documents
    from chalicelib.invoicing import Invoicing, planned_lines, summary
    from chalicelib.mail import Mailer
    from chalicelib.table import bucket_name

    from portail import aws
    from portail.staff import Staff

    month = parse_month(args.month)  # a bad month is refused before AWS is reached
    staff = Staff.open(args.endpoint_url)
    documents = mailer = None
    if not args.dry_run:
        documents = Documents(aws.client("s3", args.endpoint_url), bucket_name("documents"))
        mailer = Mailer(aws.client("ses", args.endpoint_url), staff.commune.commune.contact_email)
    run = Invoicing(staff.storage, staff.commune, staff.now, documents=documents, mailer=mailer,
                    site_url=_site_url(staff.commune), progress=progress_bar())
    report = run.run(month, dry_run=args.dry_run)
    if args.dry_run:
        for line in planned_lines(report):
            print(line)
    for line in summary(report):
        print(line)
    if not args.dry_run:
        staff.export_pages(report.touched_families)
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
    from portail.payments import PaymentImport, report_lines
    from portail.staff import Staff

    path = Path(args.file)
    staff = Staff.open(args.endpoint_url)
    results = PaymentImport(staff.storage, staff.commune, staff.now).import_file(path, dry_run=args.dry_run)
    for line in report_lines(results, args.dry_run):
        print(line)
    if not args.dry_run:
        staff.export_pages(r.row.family for r in results if r.status == "imported")
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
