"""The embedded AWS answering its own process without a socket.

`portail serve --demo` writes its demo and exports the families' pages through boto3
clients of the process that runs the embedded AWS (portail/embedded_aws.py): some 2,000
requests, each paying an HTTP round trip on both sides (urllib3 and http.client in the
client, http.server's parsing in the server) besides moto's own work: about a third of
that CPU. A client `attach`ed here hands each request to the same WSGI application the
server runs (LocalGuard, then the one lock of SerialWSGI and the journal of `--data`,
then moto) as the server would, and gives botocore the answer: the same answers, in
the same order with every other request, without the socket.

Only clients of this process aimed at the running EmbeddedAWS's address are attached
(`portail.aws.client(direct=True)`); anything else goes over HTTP as before.
"""

from __future__ import annotations

import threading
from io import BytesIO
from urllib.parse import unquote, urlsplit

_lock = threading.Lock()
_apps: dict[str, object] = {}  # endpoint URL → the WSGI application answering there


def register(endpoint_url: str, app) -> None:
    """The EmbeddedAWS of this process answers at `endpoint_url` with `app`."""
    with _lock:
        _apps[endpoint_url.rstrip("/")] = app


def unregister(endpoint_url: str) -> None:
    with _lock:
        _apps.pop(endpoint_url.rstrip("/"), None)


def attach(client):
    """`client` sends its requests straight to the embedded AWS of this process when its
    endpoint is that one's; otherwise it is left as it is. Returns the client."""
    with _lock:
        app = _apps.get((client.meta.endpoint_url or "").rstrip("/"))
    if app is not None:
        client.meta.events.register_first("before-send", _Sender(app))
    return client


class _RawBody(BytesIO):
    """The answer's body as botocore reads it from urllib3 (`stream()` and `read()`)."""

    def stream(self, **_kwargs):
        contents = self.read()
        while contents:
            yield contents
            contents = self.read()


class _Sender:
    """botocore's `before-send` hook: the request answered by the WSGI application."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, request, **_kwargs):
        from botocore.awsrequest import AWSResponse, HeadersDict

        environ = _environ(request)
        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers
            return lambda data: None

        from portail.aws_journal import wsgi_body

        body = wsgi_body(self.app, environ, start_response)
        headers = HeadersDict()
        for name, value in answer["headers"]:
            headers[name] = value
        if request.method == "HEAD":
            body = b""
        return AWSResponse(request.url, int(answer["status"].split(" ", 1)[0]), headers, _RawBody(body))


def _environ(request) -> dict:
    """The WSGI environ werkzeug's server would make of this request."""
    parts = urlsplit(request.url)
    body = request.body
    if body is None:
        body = b""
    elif hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode("utf-8")
    environ = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        # As werkzeug.serving: the path unquoted, then as WSGI's latin-1 string.
        "PATH_INFO": unquote(parts.path).encode("utf-8").decode("latin-1"),
        "QUERY_STRING": parts.query,
        "REQUEST_URI": parts.path + (f"?{parts.query}" if parts.query else ""),
        "RAW_URI": parts.path + (f"?{parts.query}" if parts.query else ""),
        "SERVER_NAME": parts.hostname or "127.0.0.1",
        "SERVER_PORT": str(parts.port or 80),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "0",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme or "http",
        "wsgi.input": BytesIO(body),
        "wsgi.errors": BytesIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "HTTP_HOST": parts.netloc,
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in request.headers.items():
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key in ("CONTENT_LENGTH", "TRANSFER_ENCODING", "HOST"):
            continue  # the whole body is in wsgi.input, its length above
        else:
            environ[f"HTTP_{key}"] = value
    return environ
