"""The browser's one port: the API in-process, the private-page gate, the static site."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest
from chalice import Chalice, Response
from chalicelib.http_headers import current_security_headers
from chalicelib.signed_cookies import signed_cookie_values
from chalicelib.table import bucket_name
from werkzeug.test import Client

from portail.build import build_site
from portail.cloudfront_gate import verify_signed_cookies
from portail.devserver import (
    DevServer,
    PortInUse,
    make_devserver,
    private_object_key,
    private_pages_allowed,
    serve_in_thread,
)
from portail.local_keys import generate_signing_keys
from tests.conftest import GUIDE_NOW


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    root = tmp_path_factory.mktemp("devserver")
    # Something a traversal would reach: the output's parent holds a secret.
    (root / "secret.txt").write_text("SECRET-DU-PARENT")
    site = root / "output"
    build_site(site)
    return site


@pytest.fixture(scope="module")
def client(output):
    return Client(DevServer(output))


@pytest.fixture(scope="module")
def running(output):
    server, thread = serve_in_thread(DevServer(output))
    yield server
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def _raw_get(port: int, target: str, cookie: str | None = None) -> tuple[int, bytes]:
    """An HTTP request with the path sent exactly as written (clients normalise '..')."""
    extra = f"Cookie: {cookie}\r\n" if cookie else ""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Connection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


# --- the public site ----------------------------------------------------------------


def test_home_page_is_french_html_with_the_commune(client, commune):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = response.get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert commune.commune.name in page
    assert "Portail Famille" in page
    for name, value in current_security_headers().items():
        assert response.headers[name] == value


def test_static_files_have_their_content_type_and_revalidate(client):
    response = client.get("/theme/css/portail.css")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/css; charset=utf-8"
    etag = response.headers["ETag"]
    again = client.get("/theme/css/portail.css", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert client.head("/").status_code == 200


def test_a_folder_without_its_slash_is_redirected(client):
    response = client.get("/guide")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/guide/")
    assert client.get("/guide/").status_code == 200


def test_unknown_page_is_a_french_404(client):
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Page introuvable" in page
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    "path",
    [
        "/../pyproject.toml",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/guide/../../secret.txt",
        "/theme/%2e%2e/%2e%2e/%2e%2e/secret.txt",
        "/..\\secret.txt",
        "/%5c..%5csecret.txt",
        "//etc/passwd",
        "/.portail-build",
        "/index.html%00.css",
    ],
)
def test_no_path_leaves_the_site(client, path):
    response = client.get(path)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "SECRET-DU-PARENT" not in body
    assert "[build-system]" not in body


@pytest.mark.parametrize("target", ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"])
def test_no_raw_path_leaves_the_site_over_the_wire(running, target):
    status, body = _raw_get(running.port, target)
    assert status in (400, 404)
    assert b"SECRET-DU-PARENT" not in body


def test_only_reading_is_allowed_on_the_site(client):
    response = client.post("/")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"


# --- the API ------------------------------------------------------------------------


def test_api_me_answers_401_json(client):
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json()["error"]["code"] == "not_authenticated"


def test_api_unknown_route_answers_like_api_gateway(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 403
    assert response.get_json() == {"message": "Missing Authentication Token"}


@pytest.fixture(scope="module")
def echo_client(output):
    echo = Chalice(app_name="echo")

    @echo.route("/api/echo/{name}", methods=["POST"], content_types=["application/json", "application/x-www-form-urlencoded"])
    def post(name):
        request = echo.current_request
        return Response(
            body={
                "name": name,
                "query": request.query_params,
                "body": request.raw_body.decode(),
                "cookie": request.headers.get("cookie"),
                "origin": request.headers.get("origin"),
            },
            status_code=201,
            headers={"Set-Cookie": ["session=abc; HttpOnly; Path=/api", "CloudFront-Policy=x; Path=/famille/k/"]},
        )

    # use_cookies=False: the Cookie header is sent as written, not from a cookie jar.
    return Client(DevServer(output, chalice_app=echo), use_cookies=False)


def test_api_gets_method_path_query_headers_and_body_and_keeps_every_cookie(echo_client):
    response = echo_client.post(
        "/api/echo/marie?mois=2014-12&mois=2015-01",
        data="login=ztest&password=x",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "a=1; b=2",
            "Origin": "http://127.0.0.1:8000",
        },
    )
    assert response.status_code == 201
    assert json.loads(response.get_data()) == {
        "name": "marie",
        "query": {"mois": "2015-01"},
        "body": "login=ztest&password=x",
        "cookie": "a=1; b=2",
        "origin": "http://127.0.0.1:8000",
    }
    assert response.headers.getlist("Set-Cookie") == [
        "session=abc; HttpOnly; Path=/api",
        "CloudFront-Policy=x; Path=/famille/k/",
    ]


# --- the private pages ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/famille", "/famille/", "/famille/anything/", "/famille/0123/index.html"])
def test_family_pages_are_refused_without_access(client, path):
    response = client.get(path)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Accès réservé" in page
    assert "Aller au contenu" in page  # the site's page, in the shared layout
    assert response.headers["Cache-Control"] == "no-store"


def test_error_pages_exist_without_a_built_site(tmp_path):
    bare = Client(DevServer(tmp_path))
    assert "Accès réservé" in bare.get("/famille/x/").get_data(as_text=True)
    assert "Page introuvable" in bare.get("/").get_data(as_text=True)


def test_without_public_keys_nobody_has_access_to_family_pages():
    assert private_pages_allowed({"PATH_INFO": "/famille/x/", "HTTP_COOKIE": "CloudFront-Policy=x"}) is False


KEY = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"
SESSION_END = GUIDE_NOW + timedelta(minutes=30)
PORT = 8000
SITE = f"http://127.0.0.1:{PORT}"  # what `portail serve` exports as PORTAIL_SITE_URL
PAGE = "<!doctype html><html lang=\"fr\"><title>Famille ZTEST</title>Tableau de bord de la famille</html>"
OTHER_PAGE = "<!doctype html><html lang=\"fr\"><title>Autre famille</title>SECRET-D-UNE-AUTRE-FAMILLE</html>"


@pytest.fixture(scope="module")
def signing_keys():
    return generate_signing_keys()


def _cookie_values(page_key: str, keys, expires_at=SESSION_END, site_url=SITE) -> dict[str, str]:
    return signed_cookie_values(page_key, expires_at, keys.key_pair_id, keys.private_key_pem, site_url=site_url)


def _cookie_header(page_key: str, keys, expires_at=SESSION_END, site_url=SITE) -> str:
    """What a browser sends back after login: the three cookies' name=value."""
    values = _cookie_values(page_key, keys, expires_at, site_url)
    return "; ".join(f"{name}={value}" for name, value in values.items())


@pytest.fixture
def family_pages(embedded_resources, embedded_aws, frozen_clock, output, signing_keys):
    """Two families' pages in the embedded private pages bucket, and a dev server."""
    s3 = embedded_aws.client("s3")
    for key, body in ((KEY, PAGE), (OTHER, OTHER_PAGE)):
        for name in ("index.html", "enfants/connie/2014-12.html"):
            s3.put_object(
                Bucket=bucket_name("pages"), Key=f"famille/{key}/{name}", Body=body.encode(),
                ContentType="text/html; charset=utf-8",
            )
    server = DevServer(output, chalice_app=Chalice(app_name="stub"), public_keys=signing_keys.public_keys())
    return Client(server, use_cookies=False)


def _get(client, path, cookie=None, **options):
    """A request to the browser's address, SITE (Host: 127.0.0.1:8000), unless base_url."""
    options.setdefault("base_url", SITE)
    headers = {"Cookie": cookie} if cookie else {}
    headers.update(options.pop("headers", {}))
    return client.open(path, headers=headers, **options)


@pytest.mark.server
@pytest.mark.parametrize("path", [f"/famille/{KEY}/", f"/famille/{KEY}/index.html", f"/famille/{KEY}/enfants/connie/2014-12.html"])
def test_a_family_page_is_served_with_the_familys_cookies(family_pages, signing_keys, path):
    response = _get(family_pages, path, _cookie_header(KEY, signing_keys))
    assert response.status_code == 200
    assert response.get_data(as_text=True) == PAGE
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    for name, value in current_security_headers().items():
        assert response.headers[name] == value
    head = _get(family_pages, path, _cookie_header(KEY, signing_keys), method="HEAD")
    assert head.status_code == 200 and head.get_data() == b""


@pytest.mark.server
def test_a_family_page_is_refused_without_cookies(family_pages):
    response = _get(family_pages, f"/famille/{KEY}/")
    assert response.status_code == 403
    assert "Accès réservé" in response.get_data(as_text=True)
    assert "Tableau de bord" not in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.server
@pytest.mark.parametrize("path", [f"/famille/{OTHER}/", f"/famille/{OTHER}/index.html", f"/famille/{OTHER}/enfants/connie/2014-12.html"])
def test_a_family_page_is_refused_with_another_familys_cookies(family_pages, signing_keys, path):
    response = _get(family_pages, path, _cookie_header(KEY, signing_keys))
    assert response.status_code == 403
    assert "SECRET-D-UNE-AUTRE-FAMILLE" not in response.get_data(as_text=True)


@pytest.mark.server
def test_a_missing_page_is_a_404_behind_valid_cookies(family_pages, signing_keys):
    response = _get(family_pages, f"/famille/{KEY}/nulle-part.html", _cookie_header(KEY, signing_keys))
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.server
def test_cookies_stop_opening_when_the_session_ends(family_pages, signing_keys, frozen_clock):
    cookie = _cookie_header(KEY, signing_keys)
    frozen_clock(SESSION_END - timedelta(seconds=1))
    assert _get(family_pages, f"/famille/{KEY}/", cookie).status_code == 200
    frozen_clock(SESSION_END)
    assert _get(family_pages, f"/famille/{KEY}/", cookie).status_code == 403


@pytest.mark.server
def test_cookies_signed_with_another_key_are_refused(family_pages):
    stranger = generate_signing_keys()
    assert _get(family_pages, f"/famille/{KEY}/", _cookie_header(KEY, stranger)).status_code == 403


@pytest.mark.server
@pytest.mark.parametrize(
    "path",
    [
        f"/famille/{KEY}/../{OTHER}/index.html",
        f"/famille/{KEY}/%2e%2e/{OTHER}/index.html",
        f"/famille/{KEY}/%2E%2E%2F{OTHER}%2Findex.html",
        f"/famille/{KEY}/./index.html",
        f"/famille/{KEY}//index.html",
        f"/famille/{KEY}/..%5c{OTHER}%5cindex.html",
        f"/famille/{KEY}/index.html%00",
    ],
)
def test_no_path_leaves_the_familys_pages(family_pages, signing_keys, path):
    response = _get(family_pages, path, _cookie_header(KEY, signing_keys))
    assert response.status_code == 404
    assert "SECRET-D-UNE-AUTRE-FAMILLE" not in response.get_data(as_text=True)


@pytest.mark.server
def test_no_raw_path_leaves_the_familys_pages_over_the_wire(family_pages, signing_keys, output):
    server, thread = serve_in_thread(DevServer(output, chalice_app=Chalice(app_name="stub"), public_keys=signing_keys.public_keys()))
    try:
        cookie = _cookie_header(KEY, signing_keys, site_url=f"http://127.0.0.1:{server.port}")
        assert _raw_get(server.port, f"/famille/{KEY}/", cookie) == (200, PAGE.encode())
        for target in (f"/famille/{KEY}/../{OTHER}/index.html", f"/famille/{KEY}/%2e%2e/{OTHER}/"):
            status, body = _raw_get(server.port, target, cookie)
            assert status in (400, 404)
            assert b"SECRET-D-UNE-AUTRE-FAMILLE" not in body
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.mark.server
def test_a_query_string_cannot_borrow_another_familys_policy(family_pages, signing_keys):
    # The policy names the exact host, so this URL does not match KEY's policy; and,
    # defence in depth, family pages take no query string at all.
    response = _get(family_pages, f"/famille/{OTHER}/index.html?x=/famille/{KEY}/", _cookie_header(KEY, signing_keys))
    assert response.status_code == 403
    assert "SECRET-D-UNE-AUTRE-FAMILLE" not in response.get_data(as_text=True)
    assert _get(family_pages, f"/famille/{KEY}/?mois=2014-12", _cookie_header(KEY, signing_keys)).status_code == 403


@pytest.mark.parametrize("query", [f"?x=/famille/{KEY}/", f"?x={SITE}/famille/{KEY}/", f"?x=/famille/{KEY}/&y=/"])
def test_the_exact_host_policy_alone_refuses_a_borrowed_query(signing_keys, query):
    # The gate itself, without the dev server's refusal of query strings: the URL
    # CloudFront would match for A's cookies on B's page.
    cookies = _cookie_values(KEY, signing_keys)
    public_keys = signing_keys.public_keys()
    assert not verify_signed_cookies(cookies, f"{SITE}/famille/{OTHER}/index.html{query}", GUIDE_NOW, public_keys)
    # The same cookies do open KEY's own page at that address (the test is not vacuous).
    assert verify_signed_cookies(cookies, f"{SITE}/famille/{KEY}/index.html", GUIDE_NOW, public_keys)


@pytest.mark.server
@pytest.mark.parametrize(
    "signed_for, base_url",
    [
        ("http://localhost:8000", SITE),  # another name for this machine
        (f"http://127.0.0.1:{PORT + 1}", SITE),  # another run's port
        ("https://portail.cregylesmeaux.fr", SITE),  # production's cookies
        (SITE, "http://localhost:8000"),  # the right cookies, asked for at another host
        (SITE, f"http://127.0.0.1:{PORT + 1}"),
    ],
)
def test_cookies_signed_for_another_address_are_refused(family_pages, signing_keys, signed_for, base_url):
    response = _get(family_pages, f"/famille/{KEY}/", _cookie_header(KEY, signing_keys, site_url=signed_for), base_url=base_url)
    assert response.status_code == 403
    assert "Tableau de bord" not in response.get_data(as_text=True)


@pytest.mark.server
@pytest.mark.parametrize("host", [f"evil/famille/{KEY}", f"evil/famille/{KEY}/x?", "127.0.0.1:8000 x", ""])
def test_the_host_header_cannot_borrow_another_familys_policy(family_pages, signing_keys, host):
    response = _get(family_pages, f"/famille/{OTHER}/index.html", _cookie_header(KEY, signing_keys), headers={"Host": host})
    assert response.status_code == 403
    assert "SECRET-D-UNE-AUTRE-FAMILLE" not in response.get_data(as_text=True)


@pytest.mark.server
def test_family_pages_are_only_read(family_pages, signing_keys):
    response = _get(family_pages, f"/famille/{KEY}/", _cookie_header(KEY, signing_keys), method="POST")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
    assert _get(family_pages, f"/famille/{KEY}/", method="POST").status_code == 403


def test_a_server_without_keys_refuses_valid_cookies(output, signing_keys):
    bare = Client(DevServer(output, chalice_app=Chalice(app_name="stub")), use_cookies=False)
    assert _get(bare, f"/famille/{KEY}/", _cookie_header(KEY, signing_keys)).status_code == 403


@pytest.mark.parametrize(
    "path, key",
    [
        (f"/famille/{KEY}/", f"famille/{KEY}/index.html"),
        (f"/famille/{KEY}/enfants/", f"famille/{KEY}/enfants/index.html"),
        (f"/famille/{KEY}/factures.html", f"famille/{KEY}/factures.html"),
        (f"/famille/{KEY}", None),
        ("/famille/", None),
        (f"/famille/{KEY}/../x/", None),
        (f"/famille/{KEY}/a\\b", None),
        (f"/famille/{KEY}/a\x01", None),
    ],
)
def test_private_object_keys(path, key):
    assert private_object_key(path) == key


# --- the port -----------------------------------------------------------------------


def test_a_real_server_answers_and_a_second_one_on_its_port_is_refused(running, output):
    status, body = _raw_get(running.port, "/")
    assert status == 200
    assert b'lang="fr"' in body
    with pytest.raises(PortInUse) as refused:
        make_devserver(DevServer(output), "127.0.0.1", running.port)
    assert str(running.port) in str(refused.value)
    assert "déjà utilisé" in str(refused.value)


@pytest.mark.server
def test_a_family_page_written_by_the_warm_up_is_waited_for_not_a_404(family_pages, embedded_aws, signing_keys):
    """`portail serve --demo` answers before the families' pages are written (its
    warm-up): a family page not there yet waits for the warm-up, and is then served; the
    public site does not wait; once the warm-up is over, a page that does not exist is
    the 404 as before."""
    import threading
    import time

    server = family_pages.application
    server.warming, go = threading.Event(), threading.Event()
    late = f"/famille/{KEY}/enfants/connie/2015-01/"

    def warm_up():
        go.wait(30)
        time.sleep(0.3)  # the page below is asked before it is written
        embedded_aws.client("s3").put_object(Bucket=bucket_name("pages"),
                                             Key=f"famille/{KEY}/enfants/connie/2015-01/index.html",
                                             Body=PAGE.encode(), ContentType="text/html; charset=utf-8")
        server.warming.set()

    threading.Thread(target=warm_up).start()
    assert _get(family_pages, "/").status_code == 200  # the public site does not wait
    assert not server.warming.is_set()
    go.set()
    response = _get(family_pages, late, _cookie_header(KEY, signing_keys))
    assert response.status_code == 200 and response.get_data(as_text=True) == PAGE
    missing = _get(family_pages, f"/famille/{KEY}/enfants/connie/2099-01/", _cookie_header(KEY, signing_keys))
    assert missing.status_code == 404


@pytest.mark.server
def test_a_calendar_feed_is_served_without_cookies_and_a_missing_one_is_404(family_pages, embedded_aws):
    """`/agenda/<key>.ics` (docs/family-pages.md « The calendar feed »): a calendar
    application sends no cookie, the key is the secret; anything else under /agenda/ is 404."""
    feed_key = "0123456789abcdef" * 2
    embedded_aws.client("s3").put_object(
        Bucket=bucket_name("pages"), Key=f"agenda/{feed_key}.ics", Body=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        ContentType="text/calendar; charset=utf-8", CacheControl="no-cache")
    response = _get(family_pages, f"/agenda/{feed_key}.ics")
    assert (response.status_code, response.headers["Content-Type"]) == (200, "text/calendar; charset=utf-8")
    assert response.get_data() == b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    assert response.headers["Cache-Control"] == "no-cache"
    for path in (f"/agenda/{'f' * 32}.ics", f"/agenda/{feed_key}.ics?x=1", f"/agenda/{feed_key.upper()}.ics",
                 "/agenda/", f"/agenda/../famille/{KEY}/index.html", f"/agenda/{feed_key}"):
        assert _get(family_pages, path).status_code == 404, path
    assert _get(family_pages, f"/agenda/{feed_key}.ics", method="POST").status_code == 405
