"""`portail serve` as an operator runs it: a real process, stopped with Ctrl-C."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.conftest import ROOT, shipped_environment

pytestmark = pytest.mark.server


# A few seconds of CPU without the demo; minutes of wall on a machine shared with other runs: only a hang should reach it.
STARTUP_SECONDS = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def portal(tmp_path):
    """`portail serve` on an empty data folder (no demo: the demo's own start, what it
    prints and its logins, are read from the browser tests' shared demo portal,
    tests/browser/test_demo_portal.py)."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "portail.cli", "serve", "--data", str(tmp_path / "data"), "--port", str(port),
         "--aws-port", "0", "--output", str(tmp_path / "output")],
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


def test_a_portal_serves_the_site_and_stops_cleanly_on_ctrl_c(portal):
    process, port, printed = portal
    assert f"Portail Famille : http://127.0.0.1:{port}/" in printed, printed
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
        assert response.status == 200
        assert "Crégy-lès-Meaux" in response.read().decode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/me")
    assert refused.value.code == 401

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
