"""The embedded AWS's journal: its writes as moto received them (portail/durable_aws.py).

A file starts with `JOURNAL_MAGIC`; then one record per answered write: its length and
CRC-32, the request's method, path and headers as JSON, its body. A record cut short or
damaged ends the journal (`iter_journal` stops there and says where).

`answer()` is the embedded AWS's serial lock's way through moto when a folder keeps its
state (portail/embedded_aws.py, `SerialWSGI`): a write is appended, and flushed to the
disk, before its answer leaves.
"""

from __future__ import annotations

import io
import json
import struct
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

JOURNAL_MAGIC = b"PORTAIL-JOURNAL 1\n"
_RECORD_HEAD = struct.Struct(">II")  # payload length, CRC-32 of the payload
_HEADERS_LENGTH = struct.Struct(">I")

# DynamoDB actions (X-Amz-Target) and SES actions (form `Action`) that only read.
_READ_PREFIXES = ("Get", "BatchGet", "Query", "Scan", "TransactGet", "Describe", "List")
# What moto reads of a request besides its body; the rest of the environ is the server's.
_KEPT_KEYS = ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "RAW_URI", "REQUEST_URI", "CONTENT_TYPE")
_DROPPED_HEADERS = ("HTTP_TRANSFER_ENCODING", "HTTP_EXPECT", "HTTP_CONTENT_LENGTH")
_PRESERVED_NAMES = "moto.preserved_header_names"  # moto.core.request's key: header names as sent


def wsgi_body(app, environ: dict, start_response) -> bytes:
    """The whole body a WSGI app answers, its iterable closed as WSGI asks (moto's app,
    called by the embedded AWS's server, its journal and its in-process clients)."""
    result = app(environ, start_response)
    try:
        return b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def is_write(environ: dict, body: bytes | None = None) -> bool:
    """Whether a request to moto may change its state (a read is never journaled).

    Without `body`, a first answer from the method and headers alone; with it, SES's
    form-encoded reads are recognised too."""
    method = environ.get("REQUEST_METHOD", "GET").upper()
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return not target.rsplit(".", 1)[-1].startswith(_READ_PREFIXES)
    if body is not None and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        from urllib.parse import parse_qs

        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        return not action.startswith(_READ_PREFIXES)
    return True


def read_body(environ: dict) -> bytes:
    """The request's body, read once and put back for moto as a fresh stream."""
    stream = environ["wsgi.input"]
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        length = None
    body = stream.read(length) if length is not None else stream.read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def encode(environ: dict, body: bytes) -> bytes:
    """One record: what moto needs to answer the same request again."""
    kept = {key: environ[key] for key in _KEPT_KEYS if isinstance(environ.get(key), str)}
    kept.update({key: value for key, value in environ.items()
                 if key.startswith("HTTP_") and key not in _DROPPED_HEADERS and isinstance(value, str)})
    if isinstance(environ.get(_PRESERVED_NAMES), dict):
        kept[_PRESERVED_NAMES] = environ[_PRESERVED_NAMES]
    headers = json.dumps(kept, ensure_ascii=False, separators=(",", ":")).encode()
    payload = _HEADERS_LENGTH.pack(len(headers)) + headers + body
    return _RECORD_HEAD.pack(len(payload), zlib.crc32(payload)) + payload


def environ_of(payload: bytes) -> dict:
    """A record's request as a WSGI environ, for moto's app."""
    (length,) = _HEADERS_LENGTH.unpack_from(payload)
    kept = json.loads(payload[_HEADERS_LENGTH.size:_HEADERS_LENGTH.size + length])
    body = payload[_HEADERS_LENGTH.size + length:]
    return {"SCRIPT_NAME": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "0", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.multithread": False,
            "wsgi.multiprocess": False, "wsgi.run_once": False, "CONTENT_LENGTH": str(len(body)), **kept}


def iter_journal(path: Path, end: list[int]) -> Iterator[bytes]:
    """The journal's whole records, one at a time (a journal may be as big as a
    snapshot); `end[0]` is then the offset where the good part ends."""
    end[:] = [0]
    with open(path, "rb") as file:
        if file.read(len(JOURNAL_MAGIC)) != JOURNAL_MAGIC:
            return
        end[0] = len(JOURNAL_MAGIC)
        while True:
            head = file.read(_RECORD_HEAD.size)
            if len(head) < _RECORD_HEAD.size:
                return
            length, crc = _RECORD_HEAD.unpack(head)
            payload = file.read(length)
            if len(payload) < length or zlib.crc32(payload) != crc:
                return
            end[0] += _RECORD_HEAD.size + length
            yield payload


def read_journal(path: Path) -> tuple[list[bytes], int]:
    """The journal's whole records, and the offset where the good part ends."""
    end: list[int] = []
    records = list(iter_journal(path, end))
    return records, end[0]


def replay(app, payload: bytes) -> str | None:
    """A record's request through moto's app; a French warning if moto refuses it now."""
    environ = environ_of(payload)
    statuses = []
    result = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        for _ in result:
            pass
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if statuses and statuses[0].startswith("2"):
        return None
    return (f"Attention : une écriture du journal rejouée est refusée par l'AWS embarqué "
            f"({environ['REQUEST_METHOD']} {environ.get('PATH_INFO')} : {statuses[:1]}).")


def answer(app, durable, environ, start_response):
    """moto's answer to one request, a write journaled by `durable` before it leaves:
    werkzeug sends the status line only with the body's first bytes, returned after."""
    request = None
    if is_write(environ):
        request = read_body(environ)
        if not is_write(environ, request):
            request = None
        elif not durable.open:
            return _unavailable(start_response)
    statuses = []

    def keep_status(status, headers, exc_info=None):
        statuses.append(status)
        return start_response(status, headers, exc_info)

    body = wsgi_body(app, environ, keep_status)
    if request is not None and statuses and statuses[-1].startswith("2"):
        durable.record(environ, request)
    return [body]


def _unavailable(start_response):
    """A write after the stop's snapshot (the portal is stopping): refused, nothing changed."""
    body = b'{"__type":"ServiceUnavailable","message":"AWS embarque en cours d\'arret"}'
    start_response("503 Service Unavailable", [("Content-Type", "application/x-amz-json-1.0"),
                                               ("Content-Length", str(len(body)))])
    return [body]
