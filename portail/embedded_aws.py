"""The embedded AWS: moto's server mode in this process, on a loopback port of its own.

DynamoDB, S3 and SES answer at `endpoint_url`; `configure_environment()` points every
boto3 client of the process at it (AWS_ENDPOINT_URL), so the function's code runs
unchanged (docs/architecture.md).

moto checks no credentials and answers CORS for any origin: any web page open in the
operator's browser could read the whole table through it. `LocalGuard`, in front of
moto, closes it to web pages: it answers no CORS (moto's Access-Control-* headers are
removed, preflights refused), refuses any request with a foreign `Origin` or
`Sec-Fetch-Site: cross-site` (a cross-site form needs no preflight) and any whose Host
is not a loopback name (DNS rebinding). One exception, as the production bucket's CORS
rule: the portal's own origin (`site_origin`, given by `portail serve`) may post an
upload to the documents bucket, and so may a page's form posted without script (its
`Origin` is `null`: the pages' Referrer-Policy hides it). And since moto stores whatever is posted, it checks a
browser upload's POST policy as S3 does (portail/post_policy.py).

One lock serialises the requests: moto is not atomic under concurrent requests (a
conditional TransactWriteItems raced by 60 threads let 11–12 writes through a capacity
of 10), while DynamoDB is atomic per request. Behind the lock, moto answers one request
at a time, like one DynamoDB partition would, and race tests hold.

moto keeps its state in process-wide globals: one EmbeddedAWS per process at a time;
`start()` begins from an empty state, or from a folder's (`durable`: `portail serve
--data`, portail/durable_aws.py, whose journal `SerialWSGI` writes). While a test's
in-process `mock_aws()` is active, boto3 calls are intercepted before they reach this
server.
"""

from __future__ import annotations

import os
import threading
import urllib.request
from collections.abc import MutableMapping
from datetime import UTC, datetime

from chalicelib import table
from chalicelib.config import get_commune
from werkzeug.serving import BaseWSGIServer, make_server

from portail import ports

REGION = "eu-west-3"
HOST = "127.0.0.1"

# Fake credentials: moto accepts anything, and real ones must never be used by mistake.
FAKE_ACCESS_KEY_ID = "embedded"
FAKE_SECRET_ACCESS_KEY = "embedded"

# Environment that would take precedence over AWS_ENDPOINT_URL or the fake credentials.
_CONFLICTING_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


class SerialWSGI:
    """A WSGI application behind one lock: requests are served one at a time.

    The lock is held until the response body is fully produced, so nothing of moto's
    work for a request overlaps another request.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.lock = threading.Lock()
        # `portail serve --data`: the state kept on disk (portail/durable_aws.py), or None.
        self.durable = None

    def __call__(self, environ, start_response):
        with self.lock:
            durable = self.durable
            if durable is not None:
                from portail.aws_journal import answer

                return answer(self.app, durable, environ, start_response)
            from portail.aws_journal import wsgi_body

            return [wsgi_body(self.app, environ, start_response)]


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
# The embedded AWS's own bound on a browser upload's body (S3's is 5 GB): the portal's
# policies allow 5 MB, and the body is held in memory.
MAX_UPLOAD_BODY = 64 * 1024 * 1024
CORS_MAX_AGE = "600"  # as the documents bucket's CORS rule (portail/deploy.py)


def _host_name(host: str) -> str:
    """The name of a Host header, without its port (`[::1]:8001` → `::1`)."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class LocalGuard:
    """The WSGI layer in front of the serialised moto app (see the module's docstring).

    `site_origin()` is the portal's origin (`http://127.0.0.1:<port>`, or None: no origin
    at all is allowed); `documents_bucket()` the bucket the portal's pages upload to;
    `credentials` the access key ids accepted in a POST policy's signature, with their
    secrets; `clock()` the real clock (policies expire by it)."""

    def __init__(self, app, site_origin, documents_bucket, credentials: dict[str, str], clock=None) -> None:
        self.app = app
        self.site_origin = site_origin
        self.documents_bucket = documents_bucket
        self.credentials = credentials
        self.clock = clock or (lambda: datetime.now(UTC))

    def __call__(self, environ, start_response):
        from portail.post_policy import PolicyRefused

        host = _host_name(environ.get("HTTP_HOST", "")).lower()
        if host not in LOOPBACK_NAMES:
            return self._refuse(start_response, "Hôte refusé : l'AWS embarqué ne répond qu'à l'adresse de boucle "
                                                "locale (127.0.0.1).")
        if environ.get("HTTP_SEC_FETCH_SITE", "").lower() == "cross-site":
            return self._refuse(start_response, "Requête d'un autre site refusée par l'AWS embarqué.")
        method = environ.get("REQUEST_METHOD", "GET").upper()
        origin = environ.get("HTTP_ORIGIN")
        portal_upload = origin is not None and origin == self.site_origin() and self._is_upload(environ, method)
        # A page's form posted without script (a navigation) says `Origin: null`: the pages'
        # Referrer-Policy (same-origin) hides their origin from another one. Such an upload
        # is let through to the documents bucket, as S3 does: its signed policy is checked
        # below all the same, and no CORS grant lets the page read the answer.
        form_upload = (origin == "null" and environ.get("HTTP_SEC_FETCH_MODE", "").lower() == "navigate"
                       and self._is_upload(environ, method))
        if method == "OPTIONS":
            if not self._portal_preflight(environ):
                return self._refuse(start_response, "CORSResponse: This CORS request is not allowed.")
            return self._preflight(environ, start_response)
        if origin is not None and not portal_upload and not form_upload:
            return self._refuse(start_response, "Origine refusée : l'AWS embarqué ne répond pas aux pages web.")
        if self._is_form_post(environ, method):
            try:
                self._check_upload(environ)
            except PolicyRefused as refused:
                start_response(f"{refused.status} {_REASONS.get(refused.status, '')}".strip(),
                               [("Content-Type", "application/xml"), ("Content-Length", str(len(refused.xml())))])
                return [refused.xml()]
        grant = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")] if portal_upload else []

        def without_cors(status, headers, exc_info=None):
            kept = [(name, value) for name, value in headers if not name.lower().startswith("access-control-")]
            return start_response(status, kept + grant, exc_info)

        return self.app(environ, without_cors)

    # --- what a request is --------------------------------------------------------------

    @staticmethod
    def _is_form_post(environ, method: str) -> bool:
        """A browser upload (POST Object): a multipart form posted to a bucket."""
        content_type = environ.get("CONTENT_TYPE", "").lower()
        return method == "POST" and content_type.startswith("multipart/form-data")

    def _is_upload(self, environ, method: str) -> bool:
        """A POST Object to the documents bucket: the one thing the portal's pages may do."""
        return self._is_form_post(environ, method) and self._is_documents_path(environ)

    def _is_documents_path(self, environ) -> bool:
        return (environ.get("PATH_INFO", "").rstrip("/") == f"/{self.documents_bucket()}"
                and not environ.get("QUERY_STRING"))

    def _portal_preflight(self, environ) -> bool:
        return (environ.get("HTTP_ORIGIN") == self.site_origin() and self.site_origin() is not None
                and environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "").upper() == "POST"
                and self._is_documents_path(environ))

    # --- answers ------------------------------------------------------------------------

    @staticmethod
    def _refuse(start_response, message: str):
        from xml.sax.saxutils import escape

        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                f"<Message>{escape(message)}</Message></Error>").encode()
        start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
        return [body]

    def _preflight(self, environ, start_response):
        """S3's answer to a preflight its CORS rule allows (POST, any header)."""
        headers = [("Access-Control-Allow-Origin", environ["HTTP_ORIGIN"]),
                   ("Access-Control-Allow-Methods", "POST"),
                   ("Access-Control-Max-Age", CORS_MAX_AGE),
                   ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"),
                   ("Content-Length", "0")]
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
        if requested:
            headers.append(("Access-Control-Allow-Headers", requested))
        start_response("200 OK", headers)
        return [b""]

    # --- the POST policy ------------------------------------------------------------------

    def _check_upload(self, environ) -> None:
        """Reads the form (the body is given back to moto), then S3's checks."""
        import io

        from werkzeug.formparser import parse_form_data

        from portail.post_policy import PolicyRefused, check_upload

        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            raise PolicyRefused(411, "MissingContentLength", "You must provide the Content-Length HTTP header.") from None
        if length > MAX_UPLOAD_BODY:
            raise PolicyRefused(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        copy = {**environ, "wsgi.input": io.BytesIO(body)}
        _, form, files = parse_form_data(copy, silent=True)
        fields = [(name, value) for name, values in form.lists() for value in values]
        uploads = files.getlist("file")
        size = None
        if len(uploads) == 1 and len(files) == 1:
            size = len(uploads[0].read())
        bucket = environ.get("PATH_INFO", "").strip("/").split("/", 1)[0]
        check_upload(fields, size, bucket, self.credentials, self.clock())


_REASONS = {400: "Bad Request", 403: "Forbidden", 411: "Length Required"}


def _quiet_handler():
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietMotoRequestHandler(MotoRequestHandler):
        """moto's request handler without werkzeug's line per request (errors still log)."""

        def log_request(self, code="-", size="-") -> None:
            pass

    return QuietMotoRequestHandler


class EmbeddedAWS:
    """moto's server on 127.0.0.1:`port` (0 picks a free port), in a thread of this process.

    Use as a context manager, or `start()` / `stop()`.
    """

    def __init__(self, port: int = 0, host: str = HOST, site_origin: str | None = None, durable=None) -> None:
        self.host = host
        self.requested_port = port
        # The portal's origin, the only one allowed (to upload to the documents bucket).
        self.site_origin = site_origin
        # A portail.durable_aws.DurableState, its folder already locked: the state is
        # restored from it at start, journaled while serving, snapshotted at stop.
        self.durable = durable
        self.guard: LocalGuard | None = None
        self._serial: SerialWSGI | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> EmbeddedAWS:
        if self._server is not None:
            return self
        # Bind before importing moto: a busy port fails fast (ports.PortInUse).
        sock = ports.bind(self.host, self.requested_port)
        try:
            from moto.server import DomainDispatcherApplication, create_backend_app

            from portail import moto_s3, moto_scan, moto_speedups, moto_transactions

            # Without it, every action of a transaction copies the whole table (see there).
            moto_transactions.install()
            # moto's Query walks the whole table and its answers cost more than DynamoDB's
            # work (see there): the same answers, cheaper.
            moto_speedups.install()
            # moto's Scan walks the table from its first item at every page (see there).
            moto_scan.install()
            # moto's S3 walks the whole bucket for every prefixed listing (see there).
            moto_s3.install()

            self._serial = SerialWSGI(DomainDispatcherApplication(create_backend_app))
            app = self.guard = LocalGuard(self._serial,
                             site_origin=lambda: self.site_origin,
                             documents_bucket=lambda: table.bucket_name("documents"),
                             credentials={FAKE_ACCESS_KEY_ID: FAKE_SECRET_ACCESS_KEY})
            self._server = make_server(
                self.host,
                ports.port_of(sock),
                app,
                threaded=True,
                request_handler=_quiet_handler(),
                fd=sock.fileno(),
            )
        finally:
            sock.close()  # the server holds its own duplicate of the socket
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name="embedded-aws", daemon=True,
        )
        self._thread.start()
        self.reset()
        # This process's own clients may skip the socket (portail/inprocess_aws.py).
        from portail import inprocess_aws

        inprocess_aws.register(self.endpoint_url, self.guard)
        if self.durable is not None:
            with self._serial.lock:  # nothing is answered before the state is back
                self.durable.restore(self._serial.app)
                self._serial.durable = self.durable
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        from portail import inprocess_aws

        inprocess_aws.unregister(self.endpoint_url)
        self._server = self._thread = None
        server.shutdown()
        if thread is not None:
            thread.join(timeout=10)
        server.server_close()
        if self.durable is not None and self._serial is not None:
            # After the lock: no request is half done. A write arriving later is refused.
            with self._serial.lock:
                self.durable.close()

    def __enter__(self) -> EmbeddedAWS:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("l'AWS embarqué n'est pas démarré")
        return self._server.port

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def reset(self) -> None:
        """Forgets every table, bucket and identity (moto's state is process-wide)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    # --- clients --------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        """The variables that point boto3 at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_ACCESS_KEY,
        }

    def configure_environment(self, env: MutableMapping[str, str] | None = None) -> None:
        """Points every boto3 client created afterwards in this process at this server.

        Clients created before keep their endpoint: create clients after this call.
        """
        if env is None:
            env = os.environ
        for name in _CONFLICTING_ENV:
            env.pop(name, None)
        for name in [key for key in env if key.startswith("AWS_ENDPOINT_URL_")]:
            env.pop(name)  # a per-service endpoint would win over AWS_ENDPOINT_URL
        env.update(self.environment())

    def client(self, service: str):
        """A boto3 client for this server, whatever the environment says."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=FAKE_ACCESS_KEY_ID,
            aws_secret_access_key=FAKE_SECRET_ACCESS_KEY,
        )

    def create_resources(self) -> dict[str, object]:
        """Creates the portal's table, its three buckets, and verifies the SES sender.

        Idempotent. Names come from chalicelib.table (the same environment variables as
        the function); the sender is the commune's contact address (commune.toml).
        """
        dynamodb = self.client("dynamodb")
        name = table.table_name()
        try:
            table.create_table(dynamodb, name)
        except dynamodb.exceptions.ResourceInUseException:
            pass

        s3 = self.client("s3")
        buckets = []
        for kind in table.BUCKET_ENVS:
            bucket = table.bucket_name(kind)
            try:
                s3.create_bucket(
                    Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
                )
            except s3.exceptions.BucketAlreadyOwnedByYou:
                pass
            buckets.append(bucket)

        sender = get_commune().commune.contact_email
        if sender:
            self.client("ses").verify_email_identity(EmailAddress=sender)
        return {"table": name, "buckets": buckets, "sender": sender or None}
