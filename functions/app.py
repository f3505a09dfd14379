"""The Portail Famille function: the Chalice app, its middleware, its routes (blueprints
of chalicelib/routes/, one per concern) and its scheduled and deferred work.

The rules live in chalicelib; the routes only read a call, call the domain and answer.
Every call that changes state passes the same-origin check of the middleware; forms
also carry a token. A form post answers 303 to a page; a JSON call gets JSON (docs/http-api.md).
"""

from __future__ import annotations

from chalice import Chalice, Response
from chalicelib import clock, jobs, publishing, sessions
from chalicelib.dependencies import (
    accounts,
    family_pages,
    password_reset,
    reset_dependencies,
    site_url,
    storage,
)
from chalicelib.routes import accounts as account_routes
from chalicelib.routes import agenda as agenda_routes
from chalicelib.routes import bookings as booking_routes
from chalicelib.routes import documents as document_routes
from chalicelib.routes import gestion as gestion_routes
from chalicelib.routes import gestion_agents as gestion_agent_routes
from chalicelib.routes import gestion_credit_notes as gestion_credit_note_routes
from chalicelib.routes import gestion_documents as gestion_document_routes
from chalicelib.routes import gestion_families as gestion_family_routes
from chalicelib.routes import gestion_headcount as gestion_headcount_routes
from chalicelib.routes import gestion_informations as gestion_information_routes
from chalicelib.routes import gestion_invoicing as gestion_invoicing_routes
from chalicelib.routes import gestion_journal as gestion_journal_routes
from chalicelib.routes import gestion_messages as gestion_message_routes
from chalicelib.routes import gestion_payments as gestion_payment_routes
from chalicelib.routes import gestion_requests as gestion_request_routes
from chalicelib.routes import messages as message_routes
from chalicelib.routes import statement as statement_routes
from chalicelib.routes.calls import context, signed_cookies
from chalicelib.web import (
    UNSAFE_METHODS,
    cookie_value,
    error_response,
    same_origin,
    unavailable_on_aws_error,
    with_headers,
)

# What the tests, the benchmarks and portail's tooling reach through this module.
__all__ = ["NIGHTLY_REMINDERS", "accounts", "app", "family_pages", "reset_dependencies", "storage"]

app = Chalice(app_name="portail-famille")
app.api.binary_types.append("application/pdf")
# A staff upload (a paper-planning CSV) reaches the function as bytes, whatever it holds.
app.api.binary_types.append("multipart/form-data")

# One blueprint per concern (chalicelib/routes/); the staff's (/gestion/) are
# chalicelib/routes/gestion*.py, on StaffRoutes (routes/staff_calls.py).
for module in (account_routes, booking_routes, document_routes, message_routes, gestion_routes,
               gestion_agent_routes, gestion_family_routes, gestion_headcount_routes, gestion_invoicing_routes,
               gestion_journal_routes, gestion_payment_routes, gestion_request_routes, gestion_information_routes,
               gestion_message_routes, gestion_credit_note_routes, statement_routes,
               agenda_routes,  # « Mon agenda »: the calendar feed and reminders
               gestion_document_routes):
    app.register_blueprint(module.routes)


@app.middleware("http")
def guard(event, get_response):
    """Same-origin check, session reading and the headers of every answer. The session is
    read here, from its cookie: Chalice's local authorizer emulation reads only
    `Authorization`."""
    now = clock.now()
    state = context(event)
    state["now"] = now
    if event.method in UNSAFE_METHODS and not same_origin(event, site_url()):
        response = error_response(403, "cross_site_request",
                                  "Requête refusée : elle ne provient pas d'une page du Portail Famille.")
    else:
        # A family session opens nothing under /gestion/ (the staff's own cookie does,
        # read by routes/staff_calls.py): it is not even read there.
        staff_path = event.path.startswith("/gestion")
        token = None if staff_path else cookie_value(event.headers.get("cookie"), sessions.COOKIE_NAME)
        # accounts() may read the stage's secrets (SSM) on a cold start: inside the guard too.
        found = unavailable_on_aws_error(lambda: accounts().current_session(token, now))() if token else (None, False)
        if isinstance(found, Response):  # AWS failed while reading the session: 503
            return with_headers(found)
        session, moved_on = found
        state["session"] = session
        with jobs.held():  # locally, deferred jobs start once the answer is built
            response = get_response(event)
        if session and moved_on and state.get("refresh_cookies", True):
            # The session moved on (at most once a minute): the page cookies follow its new end.
            existing = response.headers.get("Set-Cookie") or []
            response.headers["Set-Cookie"] = [*([existing] if isinstance(existing, str) else existing),
                                              *signed_cookies(session, now)]
    return with_headers(response)


# --- nightly reminders ---------------------------------------------------------

# Every night from 01:00 UTC (02:00 in Paris in winter, 03:00 in summer: EventBridge
# rules know only UTC), after the deadlines of 23:59: the reminder mails of the families
# whose responsables asked for them (chalicelib/reminders.py), on the nights one may be
# due. One invocation every 5 minutes for an hour, each reading one slice of the families
# (pages.nightly_slice), so that no invocation nears Lambda's 15 minutes, however many
# families the commune has. The family pages are brought up to the day at the family's
# first login of the day instead (chalicelib/page_freshness.py): a night re-exporting
# every family cost 30 times the S3 requests (docs/deployment.md, « Monthly cost »).
NIGHTLY_REMINDERS = "cron(0/5 1 * * ? *)"


@app.schedule(NIGHTLY_REMINDERS, name="nightly-reminders")
def nightly_reminders(event):
    from datetime import datetime

    from chalicelib.dependencies import commune, mailer
    from chalicelib.pages import NIGHTLY_SLICES, nightly_slice
    from chalicelib.reminders import NightlyReminders

    now = clock.now()
    try:  # the time the run was scheduled for (a retried run keeps it)
        scheduled_at = datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    except (AttributeError, TypeError, ValueError):
        scheduled_at = now
    index = nightly_slice(scheduled_at)
    reminders = NightlyReminders(storage(), mailer(), commune(), site_url(), now)
    families, failed = reminders.run((index, NIGHTLY_SLICES))
    if families:
        app.log.info("nightly reminders, slice %d/%d: %d families read, %d mails",
                     index + 1, NIGHTLY_SLICES, families, len(reminders.sent))
    if failed:  # each one's traceback is logged by NightlyReminders.run
        app.log.error("nightly reminders: %d families not read: %s", len(failed), ", ".join(failed))
    return {"slice": index, "families": families, "failed": failed, "reminders": len(reminders.sent)}


# --- deferred jobs (chalicelib/jobs.py) ----------------------------------------------------

def _reset_link(payload: dict) -> None:
    password_reset().send_reset_link(payload)


# chalicelib.password_reset.RESET_LINK_JOB (not imported here: the cold start stays light;
# jobs.defer refuses a kind nobody registered).
jobs.register("password_reset_link", _reset_link)
# The family dashboards after a publication (chalicelib/publishing.py registers its job).
__all__ += ["publishing"]


def _deliver_messages(payload: dict) -> None:
    """A chunk of a staff sending's notice mails and inbox pages (chalicelib/staff/messages.py)."""
    from datetime import datetime

    from chalicelib.dependencies import commune, family_pages, messages
    from chalicelib.staff.messages import MessageDesk

    delivery = MessageDesk(storage(), commune()).deliver(payload["sending"], int(payload["chunk"]), messages(),
                                                         family_pages(), datetime.fromisoformat(payload["at"]))
    if delivery.failed:  # no address in the log: personal data
        app.log.error("message notices refused by SES for %d addresses", len(delivery.failed))
    if delivery.stale:
        app.log.error("message pages not rendered for %d families", len(delivery.stale))


# chalicelib.staff.messages.DELIVER_JOB
jobs.register("messages_deliver", _deliver_messages)


def _invoicing_run(payload: dict) -> None:
    from chalicelib.invoicing_runs import run_job  # the run (and reportlab) loaded by the job only

    run_job(payload)


# chalicelib.invoicing_runs.JOB: a month's invoicing run, part after part.
jobs.register("invoicing_run", _invoicing_run)


@app.lambda_function(name=jobs.FUNCTION)
def run_job(event, context):
    """The jobs function: requests hand it work with an asynchronous invocation."""
    jobs.run(event)
