"""Browser tests: demo portals shared by the modules of a kind, driven by Debian's headless Chromium.

Chromium comes from Debian's `chromium` package (`make test` installs it when
/usr/bin/chromium is missing), Playwright from PyPI: `playwright install` cannot
download here, so Playwright launches that binary. A missing Chromium is a failure,
never a skip: CI must run these tests.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portail.screenshots import stop_portal
from tests.conftest import ROOT, shipped_environment

CHROMIUM = Path("/usr/bin/chromium")
# The background-networking flags matter: this machine's network refuses connections,
# and Chromium would otherwise keep trying to reach Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GUIDE_NOW = "2014-11-28T12:00:00+01:00"
# The régie's day after a month ends: November 2014 is over and not invoiced yet (the
# demo invoices a month once its invoice day, the 4th, has come).
BILLING_NOW = "2014-12-02T10:00:00+01:00"
MONEY_MODULES = "test_gestion_money_"
# Each running demo portal's embedded AWS (its address, printed at start): {portal URL: endpoint}.
EMBEDDED_AWS: dict[str, str] = {}
# Each running demo portal's output so far (its log file): {portal URL: path}.
PORTAL_LOGS: dict[str, Path] = {}
STAFF_PASSWORD = "une phrase de passe pour la gestion"
# A demo portal starts on ~20 s of CPU (~30 s of wall on a quiet machine); a machine
# shared with other runs takes minutes. Only a hang should reach this bound.
STARTUP_SECONDS = 300

# CSP violations are console errors in Chromium already ("Refused to …"); this init
# script (injected by the DevTools protocol, so not itself subject to the CSP) names
# each violation once more, with its directive, through the same console.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`securitypolicyviolation: ${event.violatedDirective} ${event.blockedURI}`);
});
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def portal(request):
    """`portail serve --demo` at the guide's date on a free port, as `make run` starts it
    (the commune's real configuration): its base URL. A demo portal takes half a minute
    of CPU to start: the modules share one per kind (tests/conftest.py puts each kind's
    modules on one worker): the families' modules `family_portal`, the back office's
    (test_gestion_*) `staff_portal`, the régie's (test_gestion_money_*) `billing_portal`.
    So a module never depends on state another module may change: it makes what it
    needs (fresh staff accounts) or works on families and days the others do not touch
    or assert on."""
    module = request.module.__name__.rsplit(".", 1)[-1]
    if module.startswith(MONEY_MODULES):
        return request.getfixturevalue("billing_portal")
    if module.startswith("test_gestion_"):
        return request.getfixturevalue("staff_portal")
    return request.getfixturevalue("family_portal")


@pytest.fixture(scope="session")
def family_portal(tmp_path_factory):
    """The demo portal the families' browser modules share (see `portal`): only
    test_booking books (the guide's family's December and today's absence); the others
    read pages, and test_family_pages_browser reads famille01's and famille02's
    messages, which no other module counts."""
    yield from _demo_portal(tmp_path_factory)


@pytest.fixture(scope="session")
def staff_portal(tmp_path_factory):
    """The demo portal the back office's browser modules share (see `portal`)."""
    yield from _demo_portal(tmp_path_factory)


@pytest.fixture(scope="session")
def billing_portal(tmp_path_factory):
    """The demo portal of the régie's modules (test_gestion_money_*), on 2 December 2014:
    November is over and still to invoice."""
    yield from _demo_portal(tmp_path_factory, now=BILLING_NOW)


def _demo_portal(tmp_path_factory, now: str = GUIDE_NOW):
    """Starts `portail serve --demo`, yields its URL, stops it.

    The server's output goes to a file, not a pipe nobody reads (its request log would
    fill a pipe and block it); the file is shown when the portal does not start.
    """
    workdir = tmp_path_factory.mktemp("portail")
    log_path = workdir / "serve.log"
    port = _free_port()
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "portail.cli", "serve", "--demo", "--port", str(port),
             "--aws-port", "0", "--now", now, "--output", str(workdir / "output")],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True, env=shipped_environment(),
        )
    deadline = time.monotonic() + STARTUP_SECONDS
    # The portal answers before the demo's family pages and PDFs are made (its warm-up,
    # portail/serve.py); the tests start once they are, as a parent's first login waits.
    while "Pages des familles de démonstration exportées" not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
                process.wait()
            pytest.fail(f"portail serve --demo n'a pas démarré :\n{log_path.read_text()}")
        time.sleep(0.1)
    assert f"Portail Famille : http://127.0.0.1:{port}/" in log_path.read_text()
    url = f"http://127.0.0.1:{port}"
    EMBEDDED_AWS[url] = re.search(r"AWS embarqué \(DynamoDB, S3, SES\) : (\S+)", log_path.read_text()).group(1)
    PORTAL_LOGS[url] = log_path
    yield url
    stop_portal(process)


@pytest.fixture
def portal_output(portal) -> str:
    """What the module's demo portal has printed so far, as an operator reads it."""
    return PORTAL_LOGS[portal].read_text()


@pytest.fixture(scope="module")
def playwright():
    """Playwright's sync API; fails (never skips) when Debian's Chromium is missing."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium est absent ({CHROMIUM}) : `make test` l'installe (en root), "
            "ou `apt-get update && apt-get install -y chromium`."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


def launch_chromium(playwright):
    """Debian's Chromium, headless, as CI runs it."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def browser(playwright):
    """One Chromium for the module; each test makes its own contexts (`new_context`)."""
    browser = launch_chromium(playwright)
    yield browser
    browser.close()


@pytest.fixture
def fresh_browser(playwright):
    """A Chromium of its own, for a test that must see a first visit's every request
    (Chromium asks for /favicon.ico once per browser, not per context)."""
    browser = launch_chromium(playwright)
    yield browser
    browser.close()


def context_factory(browser, portal):
    """`make(javascript=True)`: a new context on the portal; `close()` closes them all."""
    contexts = []

    def make(*, javascript: bool = True):
        context = browser.new_context(java_script_enabled=javascript, base_url=portal)
        context.set_default_timeout(10_000)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        contexts.append(context)
        return context

    def close():
        for context in contexts:
            context.close()

    return make, close


@pytest.fixture
def new_context(browser, portal):
    """Makes browser contexts (JavaScript on by default) on the portal; closes them after."""
    make, close = context_factory(browser, portal)
    yield make
    close()


@pytest.fixture
def fresh_context(fresh_browser, portal):
    """As `new_context`, in a Chromium that has visited nothing yet."""
    make, close = context_factory(fresh_browser, portal)
    yield make
    close()


def create_staff_account(portal: str, role: str) -> tuple[str, str]:
    """A fresh staff account in the demo portal's table, made by the domain's own
    function against its embedded AWS (no route of the product makes one): (login, secret)."""
    import uuid
    from datetime import UTC, datetime

    import boto3
    from chalicelib import table
    from chalicelib.staff.accounts import StaffAccounts
    from chalicelib.storage import Storage

    client = boto3.client("dynamodb", endpoint_url=EMBEDDED_AWS[portal], region_name="eu-west-3",
                          aws_access_key_id="embedded", aws_secret_access_key="embedded")
    accounts = StaffAccounts(Storage(client, table.table_name()), secret="unused: no login here")
    login = f"{role}-{uuid.uuid4().hex[:8]}"
    _, secret = accounts.create(login, role, datetime.now(UTC))
    accounts.set_password(login, STAFF_PASSWORD, datetime.now(UTC))
    return login, secret


@pytest.fixture
def staff_account(portal):
    """`staff_account("admin")`: a fresh account of that role on the module's portal: (login, secret)."""
    return lambda role="agent": create_staff_account(portal, role)


@pytest.fixture
def staff_login(portal):
    """`staff_login(page, "agent")`: logs a Playwright page (of a context on the module's
    portal) in as a FRESH staff account of that role, through the login form, with the
    code an authenticator app would show now; returns the login."""
    def log_in(page, role: str = "agent") -> str:
        from chalicelib.staff.accounts import totp

        login, secret = create_staff_account(portal, role)
        page.goto("/gestion/connexion/")
        page.get_by_label("Identifiant").fill(login)
        page.get_by_label("Mot de passe").fill(STAFF_PASSWORD)
        page.get_by_label("Code à 6 chiffres").fill(totp(secret).now())
        page.get_by_role("button", name="Connexion").click()
        page.wait_for_url("**/gestion/")
        return login

    return log_in
