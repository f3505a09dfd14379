"""The local server of `portail serve`: what the browser sees on its one port.

It plays CloudFront's part (docs/architecture.md):
  /api/...      the Chalice app, in this process (chalice.local's LocalGateway)
  /gestion/...  the staff back office: the same Chalice app (docs/staff.md)
  /famille/...  the private family pages, behind the signed-cookie gate: the
                CloudFront signed cookies login sets are verified with the public key
                (portail.cloudfront_gate, as CloudFront does), then the page is read
                from the private pages bucket (S3, `bucket_name("pages")`), the bucket
                CloudFront serves in production; 403 without valid cookies
  /agenda/<key>.ics  a responsable's calendar feed (chalicelib.calendar_feed): from the
                same bucket, without cookies (a phone's calendar has none: the key is
                the secret), `text/calendar`; a revoked or unknown key: 404
  everything    the static public site built by Pelican
The same security headers as production are added to every answer.

Family pages take GET and HEAD only, no query string (they take none; defence in
depth beside the policy's exact host) and no `.`, `..` or empty path segment; `/famille/<key>/` serves `famille/<key>/index.html`. They are never cached
(`Cache-Control: no-store`).
"""

from __future__ import annotations

import base64
import mimetypes
import os
import re
import threading
from collections.abc import Iterable, Mapping
from html import escape
from pathlib import Path
from urllib.parse import quote

# The very headers the function sends and CloudFront's response-headers policy will:
# one definition.
from chalicelib.http_headers import current_security_headers
from werkzeug.security import safe_join
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from portail import ports
from portail.cloudfront_gate import parse_cookie_header, request_url, verify_signed_cookies
from portail.content_types import CONTENT_TYPES
from portail.ports import PortInUse

__all__ = ["DevServer", "PortInUse", "make_devserver", "private_pages_allowed", "run_devserver"]

FUNCTIONS_DIR = Path(__file__).resolve().parents[1] / "functions"

API_PREFIX = "/api"
STAFF_PREFIX = "/gestion"  # the back office's pages, rendered by the function
PRIVATE_PREFIX = "/famille"
FEED_PREFIX = "/agenda"
# A feed's address: 128 random bits in hex (chalicelib.agenda.new_feed_key), nothing else.
_FEED_PATH = re.compile(r"/agenda/([0-9a-f]{32})\.ics")


def _page(title: str, message: str, link: str = "/", link_label: str = "Revenir à l'accueil") -> bytes:
    """A short French HTML page (the server's own answers when the site has none)."""
    return (
        "<!doctype html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)} – Portail Famille</title>\n"
        "<link rel=\"stylesheet\" href=\"/theme/css/portail.css\">\n</head>\n<body>\n"
        "<main id=\"contenu\" class=\"conteneur\">\n"
        f"<h1>{escape(title)}</h1>\n<p>{escape(message)}</p>\n"
        f"<p><a href=\"{escape(link)}\">{escape(link_label)}</a></p>\n"
        "</main>\n</body>\n</html>\n"
    ).encode()


FORBIDDEN_PAGE = _page(
    "Accès réservé",
    "Cette page est réservée à une famille connectée au Portail Famille.",
)
NOT_FOUND_PAGE = _page("Page introuvable", "La page demandée n'existe pas ou a changé d'adresse.")
METHOD_PAGE = _page("Action impossible", "Cette adresse ne peut qu'être consultée.")


def private_pages_allowed(
    environ: Mapping, public_keys: Mapping[str, str] | None = None
) -> bool:
    """Whether this request may read the family page it asks for under /famille/<key>/.

    CloudFront's check of the signed cookies (portail.cloudfront_gate): policy signed
    by one of `public_keys` ({key pair id: public key PEM}; none: nobody gets in), its
    Resource matching the request's URL (`http://<Host><path>?<query>` as received),
    not expired at the portal's clock (chalicelib.clock.now, frozen by `--now`). And,
    beyond CloudFront, no query string (family pages take none): defence in depth
    beside the policy's exact host.
    """
    if not public_keys:
        return False
    if environ.get("QUERY_STRING"):
        return False
    url = request_url(environ)
    if url is None or "?" in url:
        return False
    from chalicelib.clock import now

    cookies = parse_cookie_header(environ.get("HTTP_COOKIE"))
    return verify_signed_cookies(
        cookies, url, now(), public_keys, client_address=environ.get("REMOTE_ADDR")
    )


def _is_under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def private_object_key(path: str) -> str | None:
    """The pages bucket's object key for a family page path, or None when unservable.

    `/famille/<key>/mois.html` → `famille/<key>/mois.html`; a path ending with `/`
    serves its `index.html`. No `.`, `..` or empty segment, backslash or control
    character: the key names exactly the page asked for.
    """
    if not path.startswith(PRIVATE_PREFIX + "/"):
        return None
    if any(ord(char) < 0x20 or char in "\\\x7f" for char in path):
        return None
    relative = path[1:]
    if relative.endswith("/"):
        relative += "index.html"
    segments = relative.split("/")
    if len(segments) < 3 or any(segment in ("", ".", "..") for segment in segments):
        return None
    return relative


class ChaliceDispatcher:
    """Hands a WSGI request to the Chalice app as API Gateway would, in this process."""

    def __init__(self, chalice_app, project_dir: Path = FUNCTIONS_DIR, stage: str = "dev") -> None:
        from chalice.local import LocalChalice, LocalGateway

        self.app = chalice_app
        config = self._config(project_dir, stage)
        self._apply_stage_environment(config, stage)
        # Chalice keeps `app.current_request` on the app object; with several requests
        # at once (a threaded server) it must be per thread, as `chalice local` does.
        if not isinstance(chalice_app, LocalChalice):
            from chalice.local import CustomLocalChalice

            CustomLocalChalice.__bases__ = (LocalChalice, chalice_app.__class__)
            chalice_app.__class__ = CustomLocalChalice
        self.gateway = LocalGateway(chalice_app, config)

    @staticmethod
    def _config(project_dir: Path, stage: str):
        from chalice.cli.factory import CLIFactory
        from chalice.config import Config

        try:
            return CLIFactory(str(project_dir)).create_config_obj(chalice_stage_name=stage)
        except RuntimeError:
            return Config.create(chalice_stage=stage)

    @staticmethod
    def _apply_stage_environment(config, stage: str) -> None:
        # The stage's variables (table and bucket names), as Lambda would set them;
        # whatever the operator exported wins.
        for name, value in config.scope(stage, "api_handler").environment_variables.items():
            os.environ.setdefault(name, value)

    def __call__(self, request: Request) -> Response:
        from chalice.local import LocalGatewayException

        headers = {name: value for name, value in request.headers.items()}
        body = request.get_data() or None
        raw_path = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
        if not raw_path:
            raw_path = quote(request.path)
            if request.query_string:
                raw_path += "?" + request.query_string.decode("latin-1")
        try:
            answer = self.gateway.handle_request(
                method=request.method, path=raw_path, headers=headers, body=body
            )
        except LocalGatewayException as error:
            return Response(
                error.body or b"", status=error.CODE,
                headers=[(k, v) for k, v in error.headers.items()],
                content_type="application/json",
            )
        response_headers: list[tuple[str, str]] = []
        for name, value in (answer.get("headers") or {}).items():
            response_headers.append((name, value))
        for name, values in (answer.get("multiValueHeaders") or {}).items():
            for value in values:  # several Set-Cookie headers stay separate
                response_headers.append((name, value))
        if not any(name.lower() == "content-type" for name, _ in response_headers):
            response_headers.append(("Content-Type", "application/json"))
        payload = answer.get("body")
        if payload is None:
            data = b""
        elif answer.get("isBase64Encoded"):
            data = base64.b64decode(payload)
        elif isinstance(payload, bytes):
            data = payload
        else:
            data = payload.encode("utf-8")
        return Response(data, status=answer["statusCode"], headers=response_headers)


LOCAL_MAILS = "/_local/courriels/"


def local_mails() -> Response:
    """The mails the embedded SES has sent, newest first: the local portal sends no real
    mail, so this page is where « Mot de passe oublié ? » links arrive (local server only)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    region = os.environ.get("AWS_DEFAULT_REGION", "eu-west-3")
    messages = list(ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages)
    parts = [f"Courriels envoyés par le portail local ({len(messages)}), du plus récent au plus ancien.\n"]
    for message in reversed(messages):
        to = ", ".join(message.destinations.get("ToAddresses", []))
        parts.append(f"\n{'=' * 72}\nÀ : {to}\nObjet : {message.subject}\n\n{message.body}")
    response = Response("".join(parts), status=200, content_type="text/plain; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


# The longest a request waits for the warm-up (the demo's 51 families take seconds).
WARM_UP_WAIT = 300


class DevServer:
    """The WSGI application of the browser's port (see the module's docstring)."""

    def __init__(
        self, static_dir: Path, chalice_app=None, public_keys: Mapping[str, str] | None = None
    ) -> None:
        """public_keys: {key pair id: public key PEM} the signed cookies may be signed
        with (portail.local_keys); none: every family page is refused (403)."""
        self.static_dir = Path(static_dir).resolve()
        self.public_keys = dict(public_keys or {})
        if chalice_app is None:
            from app import app as chalice_app
        self.api = ChaliceDispatcher(chalice_app)
        self._s3 = None
        self._s3_lock = threading.Lock()
        # --- warm-up (the demo's family pages exported on a thread, portail/serve.py) ---
        # Set by serve(): an Event set once that work is over. Until then, a family page
        # not written yet waits for it instead of a 404, and so do every write of the API
        # (a booking's own export must not be overwritten by the older one) and a PDF's
        # download.
        self.warming: threading.Event | None = None

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        # The embedded S3's origin (AWS_ENDPOINT_URL) in form-action and connect-src: the
        # pages post certificates to it.
        for name, value in current_security_headers().items():
            response.headers.setdefault(name, value)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path == LOCAL_MAILS:
            return local_mails()
        if _is_under(path, API_PREFIX) or _is_under(path, STAFF_PREFIX):
            # A write (its own export must not be overwritten by the warm-up's older one),
            # or a PDF download (the demo's invoice PDFs are made by the warm-up).
            if request.method not in ("GET", "HEAD", "OPTIONS") or path.endswith("/pdf"):
                self.wait_for_warm_up()
            return self.api(request)
        if _is_under(path, FEED_PREFIX):
            return self.calendar_feed(request)
        if _is_under(path, PRIVATE_PREFIX):
            if not private_pages_allowed(request.environ, self.public_keys):
                return self._site_page("403.html", FORBIDDEN_PAGE, 403)
            return self.private_page(request)
        return self.static(request)

    # --- the private family pages --------------------------------------------------

    def private_page(self, request: Request) -> Response:
        """The family page from the private pages bucket; only once the gate has passed."""
        if request.method not in ("GET", "HEAD"):
            response = self._html(METHOD_PAGE, 405)
            response.headers["Allow"] = "GET, HEAD"
            return response
        key = private_object_key(request.path)
        if key is None:
            return self._not_found()
        from botocore.exceptions import ClientError
        from chalicelib.table import bucket_name

        for attempt in range(2):
            try:
                answer = self._s3_client().get_object(Bucket=bucket_name("pages"), Key=key)
                break
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                    raise
                if attempt or not self.wait_for_warm_up():
                    return self._not_found()
        with answer["Body"] as body:
            data = body.read()
        content_type = answer.get("ContentType") or "application/octet-stream"
        response = Response(data, content_type=content_type)
        response.headers["Cache-Control"] = "no-store"
        return response

    def wait_for_warm_up(self) -> bool:
        """Waits for the warm-up if one is running; True when there was one to wait for."""
        warming = self.warming
        if warming is None or warming.is_set():
            return False
        warming.wait(WARM_UP_WAIT)
        return True

    def calendar_feed(self, request: Request) -> Response:
        """A calendar feed from the pages bucket, as CloudFront's `/agenda/*` serves it."""
        if request.method not in ("GET", "HEAD"):
            response = self._html(METHOD_PAGE, 405)
            response.headers["Allow"] = "GET, HEAD"
            return response
        match = _FEED_PATH.fullmatch(request.path)
        if match is None or request.query_string:
            return self._not_found()
        from botocore.exceptions import ClientError
        from chalicelib.calendar_feed import feed_object_key
        from chalicelib.table import bucket_name

        try:
            answer = self._s3_client().get_object(Bucket=bucket_name("pages"), Key=feed_object_key(match.group(1)))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return self._not_found()
            raise
        with answer["Body"] as body:
            data = body.read()
        response = Response(data, content_type=answer.get("ContentType") or "text/calendar; charset=utf-8")
        response.headers["Cache-Control"] = answer.get("CacheControl") or "no-cache"
        return response

    def _s3_client(self):
        # Created at the first family page, after serve() has pointed boto3 at the
        # embedded AWS (AWS_ENDPOINT_URL).
        with self._s3_lock:
            if self._s3 is None:
                import boto3

                self._s3 = boto3.client("s3")
            return self._s3

    # --- the public site -------------------------------------------------------------

    def static(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            response = self._html(METHOD_PAGE, 405)
            response.headers["Allow"] = "GET, HEAD"
            return response
        relative = request.path.lstrip("/")
        if "\x00" in relative or "\\" in relative:
            return self._not_found()
        # safe_join refuses "..", absolute paths and other escapes from static_dir.
        target = safe_join(str(self.static_dir), relative) if relative else str(self.static_dir)
        if target is None:
            return self._not_found()
        file = Path(target)
        if file.is_dir():
            if not request.path.endswith("/"):
                location = quote(request.path) + "/"
                if request.query_string:
                    location += "?" + request.query_string.decode("latin-1")
                return Response(status=301, headers={"Location": location})
            file = file / "index.html"
        if not file.is_file() or file.name.startswith("."):
            return self._not_found()
        # A symbolic link inside the output must not lead outside it.
        try:
            file.resolve().relative_to(self.static_dir)
        except ValueError:
            return self._not_found()
        content_type = CONTENT_TYPES.get(file.suffix.lower())
        if content_type is None:
            content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        response = Response(file.read_bytes(), content_type=content_type)
        response.headers["Cache-Control"] = "no-cache"
        response.add_etag()
        return response.make_conditional(request)

    def _not_found(self) -> Response:
        return self._site_page("404.html", NOT_FOUND_PAGE, 404)

    def _site_page(self, name: str, fallback: bytes, status: int) -> Response:
        """The site's own error page (content/pages/), or the server's when not built."""
        page = self.static_dir / name
        return self._html(page.read_bytes() if page.is_file() else fallback, status)

    @staticmethod
    def _html(body: bytes, status: int) -> Response:
        response = Response(body, status=status, content_type="text/html; charset=utf-8")
        response.headers["Cache-Control"] = "no-store"
        return response


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler; one log line per request stays (the operator's view)."""


def make_devserver(
    app, host: str = "127.0.0.1", port: int = 8000, sock=None
) -> BaseWSGIServer:
    """A threaded werkzeug server for `app` on host:port (0: a free port), not yet serving.

    `sock`: a socket already bound by portail.ports.bind (serve() binds first, to fail
    fast), handed over to the server; otherwise the port is bound here. A busy port
    raises PortInUse.
    """
    if sock is None:
        sock = ports.bind(host, port)
    try:
        return make_server(
            host, ports.port_of(sock), app, threaded=True,
            request_handler=_RequestHandler, fd=sock.fileno(),
        )
    finally:
        sock.close()  # the server holds its own duplicate


def run_devserver(app, host: str = "127.0.0.1", port: int = 8000, sock=None) -> None:
    """Serves `app` until Ctrl-C (returns then). A busy port raises PortInUse."""
    server = make_devserver(app, host, port, sock=sock)
    try:
        server.serve_forever()  # werkzeug stops quietly on KeyboardInterrupt
    finally:
        server.server_close()


def serve_in_thread(app, host: str = "127.0.0.1", port: int = 0) -> tuple[BaseWSGIServer, threading.Thread]:
    """For tests: the server running in a daemon thread; stop with server.shutdown()."""
    server = make_devserver(app, host, port)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="devserver", daemon=True
    )
    thread.start()
    return server, thread
