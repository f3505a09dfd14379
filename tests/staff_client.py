"""A Chalice test client logged in as a staff account (the `staff_client` fixture of
tests/conftest.py): it sends the staff cookie, the portal's Origin and, for a POST, the
session's form token, as the back office's pages do."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode

ORIGIN = "http://127.0.0.1:8000"  # tests/commune.toml's site_url
STAFF_PASSWORD = "une phrase de passe pour la gestion"


def totp_code(secret: str, when: datetime | None = None) -> str:
    """The code an authenticator app shows for `secret` at `when` (now, on the real clock)."""
    from chalicelib.staff.accounts import totp

    return totp(secret).at(when or datetime.now(UTC))


def staff_cookie(response) -> str:
    """`__Host-gestion=<token>` from a login's answer."""
    from chalicelib.staff.sessions import COOKIE_NAME

    headers = response.headers.get("Set-Cookie") or response.headers.get("set-cookie") or []
    for header in [headers] if isinstance(headers, str) else headers:
        if header.startswith(COOKIE_NAME + "="):
            return header.split(";")[0]
    raise AssertionError(f"no staff cookie in {response.status_code} {response.headers}")


def create_account(role: str, login: str | None = None, password: str = STAFF_PASSWORD) -> tuple[str, str]:
    """A fresh enrolled account of `role` in the function's table: (login, TOTP secret)."""
    from chalicelib.dependencies import staff_accounts

    login = login or f"{role}-{uuid.uuid4().hex[:8]}"
    accounts = staff_accounts()
    _, secret = accounts.create(login, role, datetime.now(UTC))
    accounts.set_password(login, password, datetime.now(UTC))
    return login, secret


def form_post(client, path: str, fields=(), *, cookie: str = "", headers: dict | None = None):
    body = urlencode(list(fields.items()) if isinstance(fields, dict) else list(fields), doseq=True)
    return client.http.post(path, body=body, headers={
        "Origin": ORIGIN, "Content-Type": "application/x-www-form-urlencoded",
        **({"Cookie": cookie} if cookie else {}), **(headers or {})})


def log_in(client, login: str, secret: str, password: str = STAFF_PASSWORD, **extra):
    return form_post(client, "/gestion/connexion", {"login": login, "password": password,
                                                    "code": totp_code(secret), **extra})


class StaffClient:
    """`.get(path)`, `.post(path, fields)` (the form token added unless `csrf=False`),
    `.post_multipart(path, fields, files)`; `.login`, `.role`, `.cookie`, `.csrf_token`,
    and `.client` (the Chalice test client underneath)."""

    def __init__(self, client, role: str):
        from chalicelib.dependencies import secret
        from chalicelib.staff import sessions

        self.client, self.role = client, role
        self.login, self.secret = create_account(role)
        response = log_in(client, self.login, self.secret)
        assert response.status_code == 303, response.body
        self.cookie = staff_cookie(response)
        self.csrf_token = sessions.csrf_token(secret(), sessions.token_hash(self.cookie.split("=", 1)[1]))

    def get(self, path: str, headers: dict | None = None):
        return self.client.http.get(path, headers={"Cookie": self.cookie, **(headers or {})})

    def post(self, path: str, fields=(), *, csrf: bool = True, headers: dict | None = None):
        fields = list(fields.items()) if isinstance(fields, dict) else list(fields)
        if csrf:
            fields.append(("csrf_token", self.csrf_token))
        return form_post(self.client, path, fields, cookie=self.cookie, headers=headers)

    def post_multipart(self, path: str, fields: dict | None = None, files: dict | None = None, *,
                       csrf: bool = True):
        """`files`: {name: (file name, bytes, content type)}."""
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in {**(fields or {}), **({"csrf_token": self.csrf_token} if csrf else {})}.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                         + value.encode() + b"\r\n")
        for name, (filename, content, content_type) in (files or {}).items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                         f"Content-Type: {content_type}\r\n\r\n".encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.client.http.post(path, body=body, headers={
            "Origin": ORIGIN, "Cookie": self.cookie, "Content-Type": f"multipart/form-data; boundary={boundary}"})
