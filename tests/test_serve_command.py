"""`portail serve --demo` as an operator runs it: a real process, stopped with Ctrl-C."""

from __future__ import annotations

import http.client
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import boto3
import pytest
from chalicelib import table
from chalicelib.staff.accounts import totp
from chalicelib.storage import Storage

from tests.conftest import ROOT, shipped_environment

pytestmark = pytest.mark.server


# ~20 s of CPU; minutes of wall on a machine shared with other runs: only a hang should reach it.
STARTUP_SECONDS = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def portal(tmp_path):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "portail.cli", "serve", "--demo", "--port", str(port), "--aws-port", "0",
         "--now", "2014-11-28T12:00:00+01:00", "--output", str(tmp_path / "output")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=shipped_environment(),
        # Started as a background job of a script would be, with SIGINT ignored: Ctrl-C
        # (the SIGINT the test sends) must stop the portal all the same.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    lines = []
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Ctrl-C"):
            break
    yield process, port, "".join(lines)
    if process.poll() is None:
        process.kill()
        process.wait()


def test_demo_portal_serves_says_how_to_log_in_and_stops_cleanly(portal):
    process, port, printed = portal
    assert f"Portail Famille : http://127.0.0.1:{port}/" in printed, printed
    assert "identifiant « ztest », mot de passe « portail-demo-2014 »" in printed
    assert "« famille01 » … « famille50 »" in printed
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
        assert response.status == 200
        assert "Crégy-lès-Meaux" in response.read().decode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/me")
    assert refused.value.code == 401

    # The demo's staff accounts, printed, and the agent's login through the real server:
    # a code of the demo secret on the real clock (the portal's is frozen in 2014).
    assert f"Gestion (agents) : http://127.0.0.1:{port}/gestion/ ; comptes « agent », « regie », « admin », " \
           "mot de passe « portail-demo-2014 »" in printed
    assert "JBSWY3DPEHPK3PXP" in printed
    # A write waits for the demo's warm-up (its family pages and PDFs, made once the portal
    # answers): read on until the portal says it is over, on a loaded machine too.
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and "Pages des familles de démonstration exportées" not in printed:
        printed += process.stdout.readline()
    assert "Pages des familles de démonstration exportées" in printed, printed
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/gestion/connexion", body=urllib.parse.urlencode(
        {"login": "agent", "password": "portail-demo-2014", "code": totp("JBSWY3DPEHPK3PXP").now()}),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://127.0.0.1:{port}"})
    answer = connection.getresponse()
    answer.read()
    assert (answer.status, answer.getheader("Location")) == (303, "/gestion/")
    connection.request("GET", "/gestion/", headers={"Cookie": answer.getheader("Set-Cookie").split(";")[0]})
    day = connection.getresponse()
    assert day.status == 200 and "Bonjour agent" in day.read().decode()
    connection.close()

    # The demo is in the embedded AWS whose address was printed: the guide's family.
    endpoint = re.search(r"AWS embarqué \(DynamoDB, S3, SES\) : (\S+)", printed).group(1)
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-west-3",
                          aws_access_key_id="embedded", aws_secret_access_key="embedded")
    storage = Storage(client, table.table_name())
    assert storage.login("ztest")["family_number"] == "381623867924"
    children = storage.family_state("381623867924").children
    assert [c["first_name"] for c in children] == ["CONNIE", "CRICHI", "PRINCESSE"]

    # « Mot de passe oublié ? » through the real server: the mail lands on the local mail page,
    # its link built from the address the browser uses.
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/password/forgot", data=b'{"login": "ztest"}', method="POST",
        headers={"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{port}"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 202
    # The mail leaves from the jobs thread, after the answer (chalicelib/jobs.py).
    for _ in range(100):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_local/courriels/") as response:
            mails = response.read().decode()
        if f"http://127.0.0.1:{port}/mot-de-passe/nouveau/#" in mails:
            break
        time.sleep(0.1)
    assert "À : pays.ztest@example.org" in mails
    assert f"http://127.0.0.1:{port}/mot-de-passe/nouveau/#" in mails

    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Portail Famille arrêté." in out
    assert "Traceback" not in err


def test_a_busy_port_is_one_clear_sentence(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "portail.cli", "serve", "--port", str(port), "--output", str(tmp_path / "o"),
             "--data", str(tmp_path / "data")],
            cwd=ROOT, capture_output=True, text=True, timeout=60, env=shipped_environment(),
        )
    assert result.returncode == 1
    assert f"Le port {port} est déjà utilisé" in result.stderr
    assert "Traceback" not in result.stderr
