"""The régie's invoicing pages (docs/staff.md, docs/billing.md), roles `regie` and `admin`:

- `/gestion/facturation/`: choose a month, its preview (the command's `--dry-run`, nothing
  written), then the run, which works outside the request (a deferred job,
  chalicelib/invoicing_runs.py) under the month's lock;
- `/gestion/facturation/<AAAA-MM>/`: the run's progress, refreshed by the page itself
  while it runs (no script), then its summary, or « Reprendre la facturation »;
- `/gestion/factures/`: the invoices by number, family, month, unpaid only; an invoice's
  page with its lines and its PDF (a presigned GET, once the file is known to exist).

The rules live in chalicelib/invoicing.py, invoicing_runs.py and staff/invoices.py, which
`portail invoices run` calls too; imported in the views, so that the function's cold
start does not grow.
"""

from __future__ import annotations

from datetime import date

from chalice import Response

from chalicelib.refusals import Refusal
from chalicelib.routes.staff_calls import STAFF_BODY_TYPES, StaffCall, StaffRoutes

routes = StaffRoutes(__name__)

PREVIEW_LINES = 50  # the preview names the first invoices; the summary counts them all
REFRESH_SECONDS = 3


def _today(call: StaffCall):
    from chalicelib.dependencies import commune

    return call.now.astimezone(commune().tz).date()


def _run_page(month: str) -> str:
    return f"/gestion/facturation/{month}/"


# --- /gestion/facturation/ --------------------------------------------------------------------

@routes.route("/gestion/facturation", methods=["GET"])
@routes.staff_call("facturation")
def invoicing_form(call: StaffCall):
    """The month to invoice (the last months over) and the runs already made."""
    return call.render("gestion/facturation.html", **_form_context(call, ""))


def _form_context(call: StaffCall, chosen: str) -> dict:
    from chalicelib.dependencies import storage
    from chalicelib.formatting import french_month
    from chalicelib.invoicing_runs import state
    from chalicelib.invoicing_store import InvoicingStore
    from chalicelib.staff.invoices import months_over

    months = [(m, french_month(date.fromisoformat(m + "-01"))) for m in months_over(_today(call))]
    runs = [{"month": r["month"], "label": french_month(date.fromisoformat(r["month"] + "-01")),
             "state": state(r), "invoices": int(r.get("invoices") or 0), "href": _run_page(r["month"])}
            for r in reversed(InvoicingStore(storage()).runs())]
    return {"months": months, "chosen": chosen or months[0][0], "runs": runs}


@routes.route("/gestion/facturation", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("facturation")
def invoicing_post(call: StaffCall):
    """`month` (AAAA-MM): the preview, nothing written. With `confirm=1`: the run starts
    (or an interrupted one resumes), 303 to its page. A bad month, a month not over or one
    being invoiced: a French 4xx, nothing written."""
    from chalicelib import invoicing_runs
    from chalicelib.dependencies import commune, storage

    month = call.field("month").strip()
    if call.field("confirm") == "1":
        payload = invoicing_runs.start(storage(), commune(), month, call.now, call.staff.login)
        call.audit("invoicing_resumed" if payload["resumed"] else "invoicing_started", month=payload["month"])
        from chalicelib import jobs

        jobs.defer(invoicing_runs.JOB, payload)
        return call.redirect(_run_page(payload["month"]))
    from chalicelib.invoicing import planned_lines, summary

    report = invoicing_runs.preview(storage(), commune(), month, call.now)
    planned = planned_lines(report)
    return call.render("gestion/facturation.html", **_form_context(call, month), preview=summary(report),
                       planned=planned[:PREVIEW_LINES], more=max(0, len(planned) - PREVIEW_LINES),
                       month=month, count=len(report.invoices))


@routes.route("/gestion/facturation/{month}", methods=["GET"])
@routes.staff_call("facturation")
def invoicing_run_page(call: StaffCall, month: str):
    """The run's progress (the page refreshes itself every few seconds while it runs),
    its summary once « terminée », or the button that resumes an interrupted run."""
    from chalicelib.billing import BillingError, parse_month
    from chalicelib.dependencies import storage
    from chalicelib.formatting import french_month
    from chalicelib.invoicing_runs import state, status_lines
    from chalicelib.invoicing_store import InvoicingStore

    try:
        key = parse_month(month).strftime("%Y-%m")
    except BillingError as error:
        raise Refusal(400, "invalid_month", str(error)) from None
    status = InvoicingStore(storage()).run(key)
    label = french_month(date.fromisoformat(key + "-01"))
    if status is None:
        raise Refusal(404, "no_invoicing_run", f"Aucune facturation de {label} n'a été lancée : "
                                               "choisissez le mois sur la page Facturation.")
    now_state = state(status)
    total = status.get("families_total")
    return call.render("gestion/facturation_mois.html", month=key, label=label, state=now_state,
                       lines=status_lines(status), done=int(status.get("families_done") or 0),
                       total=int(total) if total is not None else None, error=status.get("error"),
                       started_by=status.get("started_by"), refresh=REFRESH_SECONDS if now_state == "running" else None)


# --- /gestion/factures/ ------------------------------------------------------------------------

@routes.route("/gestion/factures", methods=["GET"])
@routes.staff_call("factures")
def invoices_page(call: StaffCall):
    """`numero`, `famille`, `mois` (AAAA-MM), `impayees=1`; `apres` (the next page of a
    month). Without a number nor a family: the month, by default the last one over."""
    from urllib.parse import urlencode

    from chalicelib.dependencies import storage
    from chalicelib.staff import invoices

    wanted = invoices.parse(call.query("numero"), call.query("famille"), call.query("mois"), call.query("impayees"),
                            call.query("apres"), invoices.default_month(_today(call)))
    found = invoices.search(storage(), wanted)
    rows = [invoices.row(i) for i in found.invoices]
    next_page = None
    if found.more and rows:
        next_page = "/gestion/factures/?" + urlencode({k: v for k, v in {
            "mois": wanted.month, "impayees": "1" if wanted.unpaid else "", "apres": rows[-1]["number"]}.items() if v})
    return call.render("gestion/factures.html", rows=rows, wanted=wanted, next_page=next_page,
                       months=invoices.months_over(_today(call), 24))


@routes.route("/gestion/factures/{number}", methods=["GET"])
@routes.staff_call("factures")
def invoice_page(call: StaffCall, number: str):
    """An invoice: its family, responsable, period, lines and deductions, paid and due;
    its PDF; « Établir un avoir »."""
    from chalicelib.dependencies import storage
    from chalicelib.formatting import euros, short_date
    from chalicelib.staff import invoices

    invoice = invoices.invoice(storage(), number)
    return call.render("gestion/facture.html", invoice=invoice, row=invoices.row(invoice), euros=euros,
                       short_date=short_date)


@routes.route("/gestion/factures/{number}/pdf", methods=["GET"])
@routes.staff_call("factures")
def invoice_pdf(call: StaffCall, number: str):
    """302 to a presigned GET of the PDF (5 minutes); a French 404 when it is not in the
    bucket (yet): an interrupted run writes it when resumed."""
    from chalicelib.dependencies import documents, storage
    from chalicelib.staff import invoices

    url = invoices.pdf_url(storage(), documents(), number)
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})
