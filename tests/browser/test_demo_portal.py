"""`make run`'s demo portal as an operator meets it, over HTTP: what it prints (how to log
in, the staff accounts), an agent's login and a « Mot de passe oublié ? » mail through the
real server, the demo's family in the embedded AWS it names.

No browser here: the module reads the families' shared demo portal (tests/browser/
conftest.py), so the suite starts no demo portal of its own for it. Stopping a portal
with Ctrl-C is tested on a portal without demo (tests/test_serve_command.py)."""

from __future__ import annotations

import http.client
import re
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode, urlsplit

import boto3
import pytest
from chalicelib import table
from chalicelib.staff.accounts import totp
from chalicelib.storage import Storage

pytestmark = pytest.mark.server


def test_the_demo_portal_says_how_to_log_in_and_agents_and_families_can(portal, portal_output):
    printed = portal_output
    port = urlsplit(portal).port
    assert f"Portail Famille : {portal}/" in printed, printed
    assert "identifiant « ztest », mot de passe « portail-demo-2014 »" in printed
    assert "« famille01 » … « famille50 »" in printed
    with urllib.request.urlopen(f"{portal}/") as response:
        assert response.status == 200
        assert "Crégy-lès-Meaux" in response.read().decode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{portal}/api/me")
    assert refused.value.code == 401

    # The demo's staff accounts, printed, and the agent's login through the real server:
    # a code of the demo secret on the real clock (the portal's is frozen in 2014).
    assert f"Gestion (agents) : {portal}/gestion/ ; comptes « agent », « regie », « admin », " \
           "mot de passe « portail-demo-2014 »" in printed
    assert "JBSWY3DPEHPK3PXP" in printed
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/gestion/connexion", body=urlencode(
        {"login": "agent", "password": "portail-demo-2014", "code": totp("JBSWY3DPEHPK3PXP").now()}),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": portal})
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
        f"{portal}/api/password/forgot", data=b'{"login": "ztest"}', method="POST",
        headers={"Content-Type": "application/json", "Origin": portal})
    with urllib.request.urlopen(request) as response:
        assert response.status == 202
    # The mail leaves from the jobs thread, after the answer (chalicelib/jobs.py).
    for _ in range(100):
        with urllib.request.urlopen(f"{portal}/_local/courriels/") as response:
            mails = response.read().decode()
        if f"{portal}/mot-de-passe/nouveau/#" in mails:
            break
        time.sleep(0.1)
    assert "À : pays.ztest@example.org" in mails
    assert f"{portal}/mot-de-passe/nouveau/#" in mails
