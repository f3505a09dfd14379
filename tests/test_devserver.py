"""The browser's one port: the API in-process, the private-page gate, the static site."""

from __future__ import annotations

import json
import socket

import pytest
from chalice import Chalice, Response
from werkzeug.test import Client

from portail.build import build_site
from portail.devserver import (
    SECURITY_HEADERS,
    DevServer,
    PortInUse,
    make_devserver,
    private_pages_allowed,
    serve_in_thread,
)


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


def _raw_get(port: int, target: str) -> tuple[int, bytes]:
    """An HTTP request with the path sent exactly as written (clients normalise '..')."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
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
    for name, value in SECURITY_HEADERS.items():
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


def test_nobody_has_access_to_family_pages_yet():
    assert private_pages_allowed({"PATH_INFO": "/famille/x/", "HTTP_COOKIE": "CloudFront-Policy=x"}) is False


# --- the port -----------------------------------------------------------------------


def test_a_real_server_answers_and_a_second_one_on_its_port_is_refused(running, output):
    status, body = _raw_get(running.port, "/")
    assert status == 200
    assert b'lang="fr"' in body
    with pytest.raises(PortInUse) as refused:
        make_devserver(DevServer(output), "127.0.0.1", running.port)
    assert str(running.port) in str(refused.value)
    assert "déjà utilisé" in str(refused.value)
