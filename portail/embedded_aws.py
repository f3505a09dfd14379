"""The embedded AWS: moto's server mode in this process, on a loopback port of its own.

DynamoDB, S3 and SES answer at `endpoint_url`; `configure_environment()` points every
boto3 client of the process at it (AWS_ENDPOINT_URL), so the function's code runs
unchanged (DESIGN §1, §7).

One lock serialises the requests: moto is not atomic under concurrent requests (a
conditional TransactWriteItems raced by 60 threads let 11–12 writes through a capacity
of 10), while DynamoDB is atomic per request. Behind the lock, moto answers one request
at a time, like one DynamoDB partition would, and race tests hold.

moto keeps its state in process-wide globals: one EmbeddedAWS per process at a time;
`start()` begins from an empty state. While a test's in-process `mock_aws()` is active,
boto3 calls are intercepted before they reach this server.
"""

from __future__ import annotations

import os
import threading
import urllib.request
from collections.abc import MutableMapping

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

    def __call__(self, environ, start_response):
        with self.lock:
            result = self.app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        return [body]


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

    def __init__(self, port: int = 0, host: str = HOST) -> None:
        self.host = host
        self.requested_port = port
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

            from portail import moto_transactions

            # Without it, every action of a transaction copies the whole table (see there).
            moto_transactions.install()

            app = SerialWSGI(DomainDispatcherApplication(create_backend_app))
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
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        if thread is not None:
            thread.join(timeout=10)
        server.server_close()

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
