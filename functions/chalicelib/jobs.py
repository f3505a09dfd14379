"""Deferred jobs: work a request asks for but does not wait for (a mail, an invoicing run).

`defer(kind, payload)` hands the job over and returns at once; the handler registered
for `kind` (`register`) runs it later with the payload (JSON: strings, numbers, lists,
dicts).

- In AWS (`PORTAIL_JOBS_FUNCTION` names the jobs function of the stack): an
  asynchronous invocation (`InvocationType="Event"`) of that function, the app's
  `@app.lambda_function(name=FUNCTION)`, which calls `run(event)`. Lambda queues the
  event and answers 202 at once; a job that raises is tried again twice by Lambda.
- Elsewhere (`portail serve`, the tests, the benches): one background thread of this
  process runs the jobs in order; `drain()` waits until it has run every job handed
  to it (tests call it before looking at what a job did). A job deferred while a
  request is answered (`held()`, around every request) reaches the thread only once
  the answer is built: run at once, it would share the process (and the embedded AWS)
  with the request and slow that very answer, which a separate Lambda never does.

Payloads travel outside the table (Lambda's queue): nothing secret goes in one, and no
payload is ever logged.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

FUNCTION_ENV = "PORTAIL_JOBS_FUNCTION"
# The Chalice name of the jobs function (functions/app.py); the stack names it
# `<stack>-jobs` (portail/deploy.py).
FUNCTION = "jobs"

_handlers: dict[str, Callable[[dict], None]] = {}
_log = logging.getLogger("portail")


def register(kind: str, handler: Callable[[dict], None]) -> None:
    _handlers[kind] = handler


def registered(kind: str) -> bool:
    return kind in _handlers


def run(event: dict) -> None:
    """Runs one job (the jobs function's body, and the local worker's)."""
    kind = event.get("kind") if isinstance(event, dict) else None
    handler = _handlers.get(kind)
    if handler is None:
        raise ValueError(f"travail différé inconnu : {kind!r}")
    handler(event.get("payload") or {})


def defer(kind: str, payload: dict) -> None:
    if kind not in _handlers:
        raise ValueError(f"travail différé inconnu : {kind!r}")
    event = {"kind": kind, "payload": payload}
    function = os.environ.get(FUNCTION_ENV)
    if function:
        _lambda().invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(event).encode())
    elif getattr(_held, "events", None) is not None:
        _held.events.append(event)
    else:
        _worker().put(event)


_clients: dict = {}


def _lambda():
    if "lambda" not in _clients:
        import boto3

        _clients["lambda"] = boto3.client("lambda")
    return _clients["lambda"]


# --- the local worker ---------------------------------------------------------------------

_lock = threading.Lock()
_queue: queue.Queue | None = None
_held = threading.local()


@contextmanager
def held() -> Iterator[None]:
    """Jobs deferred by this thread inside the block go to the local worker when it ends."""
    _held.events = []
    try:
        yield
    finally:
        events, _held.events = _held.events, None
        for event in events:
            _worker().put(event)


def _work(jobs: queue.Queue) -> None:
    while True:
        event = jobs.get()
        try:
            run(event)
        except Exception:  # a failed job must not stop the ones after it
            _log.exception("deferred job %s failed", event.get("kind"))
        finally:
            jobs.task_done()


def _worker() -> queue.Queue:
    global _queue
    with _lock:
        if _queue is None:
            _queue = queue.Queue()
            threading.Thread(target=_work, args=(_queue,), name="portail-jobs", daemon=True).start()
        return _queue


def drain(timeout: float = 30.0) -> bool:
    """Waits until the local worker has run every job handed to it; False on timeout."""
    jobs = _queue
    if jobs is None:
        return True
    deadline = time.monotonic() + timeout
    with jobs.all_tasks_done:
        while jobs.unfinished_tasks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            jobs.all_tasks_done.wait(remaining)
    return True
