"""Deferred jobs (chalicelib/jobs.py): an asynchronous Lambda invocation in AWS, a
background thread locally, never inside the request that asked for them."""

from __future__ import annotations

import json
import threading

import pytest
from chalicelib import jobs


@pytest.fixture
def kind():
    done, release = [], threading.Event()

    def handler(payload):
        release.wait(10)
        done.append(payload)

    jobs.register("essai", handler)
    yield done, release
    release.set()
    jobs.drain()
    jobs._handlers.pop("essai", None)


def test_locally_a_job_runs_on_the_worker_thread_not_in_the_caller(kind, monkeypatch):
    monkeypatch.delenv(jobs.FUNCTION_ENV, raising=False)
    done, release = kind
    jobs.defer("essai", {"n": 1})  # returns although the job waits
    assert done == []
    assert jobs.drain(timeout=0.2) is False
    release.set()
    assert jobs.drain() is True and done == [{"n": 1}]


def test_jobs_deferred_while_answering_start_once_the_answer_is_built(kind, monkeypatch):
    monkeypatch.delenv(jobs.FUNCTION_ENV, raising=False)
    done, release = kind
    release.set()
    with jobs.held():
        jobs.defer("essai", {"n": 2})
        assert jobs.drain(timeout=0.5) and done == []  # not even handed to the worker yet
    assert jobs.drain() and done == [{"n": 2}]


def test_a_failed_job_does_not_stop_the_next_ones(monkeypatch):
    monkeypatch.delenv(jobs.FUNCTION_ENV, raising=False)
    done = []
    jobs.register("casse", lambda payload: 1 / 0)
    jobs.register("suivant", done.append)
    try:
        jobs.defer("casse", {})
        jobs.defer("suivant", {"ok": True})
        assert jobs.drain() and done == [{"ok": True}]
    finally:
        jobs._handlers.pop("casse", None)
        jobs._handlers.pop("suivant", None)


def test_an_unknown_kind_is_refused_at_once():
    with pytest.raises(ValueError, match="inconnu"):
        jobs.defer("inexistant", {})
    with pytest.raises(ValueError, match="inconnu"):
        jobs.run({"kind": "inexistant", "payload": {}})


def test_in_aws_a_job_is_an_asynchronous_invocation_of_the_jobs_function(kind, monkeypatch):
    calls = []

    class FakeLambda:
        def invoke(self, **arguments):
            calls.append(arguments)
            return {"StatusCode": 202}

    monkeypatch.setenv(jobs.FUNCTION_ENV, "portail-famille-prod-jobs")
    monkeypatch.setitem(jobs._clients, "lambda", FakeLambda())
    done, release = kind
    jobs.defer("essai", {"login": "alice"})
    [call] = calls
    assert call["FunctionName"] == "portail-famille-prod-jobs" and call["InvocationType"] == "Event"
    event = json.loads(call["Payload"])
    assert event == {"kind": "essai", "payload": {"login": "alice"}}
    release.set()
    jobs.run(event)  # what the jobs function does with it
    assert done == [{"login": "alice"}]


def test_the_function_registers_the_reset_mail_and_its_jobs_function():
    import app
    from chalicelib.password_reset import RESET_LINK_JOB

    assert RESET_LINK_JOB in jobs._handlers
    assert jobs.FUNCTION in {f.name for f in app.app.pure_lambda_functions}
