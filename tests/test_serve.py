"""`portail serve`: fails fast and clearly, then the whole portal on one port."""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request

import pytest

from portail import ports
from portail.serve import serve

pytestmark = pytest.mark.server


def test_a_busy_port_stops_before_anything_starts(tmp_path):
    taken = ports.bind("127.0.0.1", 0)
    try:
        port = ports.port_of(taken)
        with pytest.raises(SystemExit) as stopped:
            serve(port=port, output_dir=tmp_path / "output", seed=pytest.fail)
        assert str(port) in str(stopped.value.code)
        assert not (tmp_path / "output").exists()  # nothing was built
    finally:
        taken.close()


@pytest.mark.parametrize("now", ["2014-11-28T12:00", "demain"])
def test_a_bad_clock_is_refused_in_french(tmp_path, now):
    with pytest.raises(SystemExit) as stopped:
        serve(port=0, now=now, output_dir=tmp_path / "output")
    assert str(stopped.value.code).startswith("--now : ")
    assert "2014-11-28T12:00:00+01:00" in str(stopped.value.code)


def test_the_whole_portal_answers_on_one_port(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PORTAIL_NOW", raising=False)
    answers = {}

    def seed() -> str:
        answers["endpoint"] = os.environ["AWS_ENDPOINT_URL"]
        return "Connectez-vous avec l'identifiant ztest."

    def on_ready(server) -> None:
        def visit() -> None:
            base = f"http://127.0.0.1:{server.port}"
            try:
                with urllib.request.urlopen(f"{base}/") as response:
                    answers["home"] = response.status
                try:
                    urllib.request.urlopen(f"{base}/api/me")
                except urllib.error.HTTPError as error:
                    answers["me"] = (error.code, json.loads(error.read()))
                try:
                    urllib.request.urlopen(f"{base}/famille/x/")
                except urllib.error.HTTPError as error:
                    answers["famille"] = error.code
                # The function's same-origin reference is this port's address: a post from
                # the portal's own pages passes, one from commune.toml's default port does not.
                for origin in (base, "http://127.0.0.1:8000"):
                    request = urllib.request.Request(f"{base}/api/logout", data=b"{}", method="POST", headers={
                        "Content-Type": "application/json", "Origin": origin})
                    try:
                        with urllib.request.urlopen(request) as response:
                            answers[origin] = response.status
                    except urllib.error.HTTPError as error:
                        answers[origin] = error.code
                answers["now"] = os.environ.get("PORTAIL_NOW")
            finally:
                server.shutdown()

        threading.Thread(target=visit).start()

    serve(
        port=0, now="2014-11-28T12:00:00+01:00", seed=seed,
        output_dir=tmp_path / "output", on_ready=on_ready,
    )
    assert answers["home"] == 200
    assert answers["me"] == (401, answers["me"][1])
    assert answers["me"][1]["error"]["code"] == "not_authenticated"
    assert answers["famille"] == 403
    assert [answers[origin] for origin in answers if origin.startswith("http")] == [204, 403]
    assert answers["now"] == "2014-11-28T12:00:00+01:00"
    assert answers["endpoint"].startswith("http://127.0.0.1:")
    printed = capsys.readouterr().out
    assert "Connectez-vous avec l'identifiant ztest." in printed
    assert "Portail Famille : http://127.0.0.1:" in printed
    assert f"AWS embarqué (DynamoDB, S3, SES) : {answers['endpoint']}" in printed
    assert "Portail Famille arrêté." in printed
    # serve() gives the process its environment back.
    assert "PORTAIL_NOW" not in os.environ
    assert os.environ.get("AWS_ENDPOINT_URL") != answers["endpoint"]
