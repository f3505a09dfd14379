"""HTTP glue of the function: reading bodies and cookies, the same-origin check, the
error shape, redirects. No rule of the portal lives here (those are in the domain
modules); the routes are in chalicelib/routes/."""

from __future__ import annotations

import functools
import hmac
import json
import logging
import os
import re
from urllib.parse import parse_qs

from chalice import Response

from chalicelib.http_headers import api_headers

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def error_response(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    """The error shape of the HTTP contract (docs/http-api.md)."""
    return Response(body={"error": {"code": code, "message": message}}, status_code=status, headers=headers or {})


def is_form(request) -> bool:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower() == FORM


# Bounds of a request body, checked before parsing: a booking of 100 days is about 8 KB
# as JSON; no call of the portal nests deeper than 4 levels.
MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 16
MAX_FORM_FIELDS = 500
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')


class BodyTooLarge(ValueError):
    """The body exceeds MAX_BODY_BYTES: refused before it is parsed."""


def _raw_text(request) -> str:
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge(len(raw))
    return raw.decode("utf-8", errors="strict") if isinstance(raw, bytes) else raw


def json_depth(text: str) -> int:
    """How deep a JSON text nests (strings skipped), without parsing it: json.loads
    recurses once per level and a few kilobytes of brackets exhaust Python's stack."""
    depth = deepest = 0
    for bracket in re.findall(r"[\[\]{}]", _JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def body(request) -> dict:
    """The fields of a form post or a JSON object; ValueError when unreadable, too big
    (BodyTooLarge) or nested deeper than MAX_JSON_DEPTH."""
    raw = _raw_text(request)
    if is_form(request):
        return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS).items()}
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise ValueError("nested too deep")
    data = json.loads(raw or "{}")
    if not isinstance(data, dict):
        raise ValueError("not an object")
    return data


def form_lists(request) -> dict[str, list[str]]:
    """A form's fields with every value (check boxes repeat their name)."""
    return parse_qs(_raw_text(request), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)


def field(data: dict, name: str) -> str:
    value = data.get(name, "")
    return value if isinstance(value, str) else ""


def redirect(location: str, cookies: list[str] | None = None) -> Response:
    headers = {"Location": location}
    if cookies:
        headers["Set-Cookie"] = cookies
    return Response(body="", status_code=303, headers=headers)


def anchor(code: str) -> str:
    # Static pages show the message whose id is the URL's fragment (CSS :target), no script.
    return "#erreur-" + code.replace("_", "-")


# A page of the family's own folder: segments of letters, digits, `-`, `_` and `.`
# (never first: no `..`), each ended by `/` but the last; the home folder itself included.
_PAGE_PATH = re.compile(r"(?:[A-Za-z0-9_-][A-Za-z0-9._-]*/)*(?:[A-Za-z0-9_-][A-Za-z0-9._-]*)?")


def back_to(value, home: str) -> str:
    """Where a form post returns: `value` when it is a page under `home` (the session's
    `/famille/<key>/`), else `home`. Anything else (another site, a CRLF, `..`) would
    make the redirect an open redirect or an invalid header."""
    if isinstance(value, str) and value.startswith(home) and len(value) <= 300 \
            and _PAGE_PATH.fullmatch(value[len(home):]):
        return value
    return home


def source_address(request) -> str:
    """The parent's address. Behind CloudFront, API Gateway sees CloudFront's: the viewer's
    is then in CloudFront-Viewer-Address, trusted only with the secret header CloudFront
    adds to its origin requests (anyone can send the header to API Gateway directly)."""
    origin_secret = os.environ.get("PORTAIL_ORIGIN_SECRET")
    viewer = request.headers.get("cloudfront-viewer-address")  # ip:port
    if viewer and origin_secret and hmac.compare_digest(request.headers.get("x-portail-origin", ""), origin_secret):
        return viewer.rsplit(":", 1)[0].strip("[]")
    return ((request.context.get("identity") or {}).get("sourceIp")) or "unknown"


def cookie_value(header: str | None, name: str) -> str | None:
    for part in (header or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` as a browser writes an Origin (lower case, no default
    port), or None when `url` is no such address (`null`, a path, garbage)."""
    from chalicelib.signed_cookies import site_origin

    try:
        return site_origin(url)
    except (TypeError, ValueError):
        return None


def same_origin(request, site_url: str) -> bool:
    """A state-changing call must come from the portal's own pages (OWASP CSRF): the
    browser says `Sec-Fetch-Site: same-origin`, and its `Origin`, when it sends one, is
    the site's (`site_url`: the stage's address) exactly: scheme, host and port. The
    request's own Host header is never the reference: whoever sends the request writes it."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site != "same-origin":
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return fetch_site == "same-origin"
    expected = origin_of(site_url)
    return expected is not None and origin_of(origin) == expected


def unavailable_on_aws_error(function):
    """An AWS failure (throttling, an outage) answers 503 in French rather than a stack
    trace. Writes are transactions: nothing is half-done."""
    @functools.wraps(function)
    def guarded(*args, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return function(*args, **kwargs)
        except (ClientError, BotoCoreError):
            logging.getLogger("portail").exception("AWS call failed in %s", function.__name__)
            return error_response(503, "service_unavailable",
                                  "Le service est momentanément indisponible : réessayez dans un instant.",
                                  {"Retry-After": "5"})

    return guarded


def with_headers(response: Response) -> Response:
    for name, value in api_headers().items():
        response.headers.setdefault(name, value)
    return response


def booking_request(request, data: dict) -> tuple[list | None, dict | None]:
    """(items, pattern) from JSON, or from a form: `item` = « AAAA-MM-JJ|SERVICE|action »
    repeated, or the week pattern's fields."""
    if not is_form(request):
        return data.get("items"), data.get("pattern")
    lists = form_lists(request)
    if lists.get("pattern_from"):
        return None, {"weekdays": lists.get("pattern_weekdays", []),  # "0" to "6": checked by the domain
                      "services": lists.get("pattern_services", []),
                      "from": lists["pattern_from"][0], "to": (lists.get("pattern_to") or [""])[0]}
    items = []
    for value in lists.get("item", []):
        day, _, rest = value.partition("|")
        service, _, action = rest.partition("|")
        items.append({"date": day, "service": service, "action": action or field(data, "action")})
    return items, None


