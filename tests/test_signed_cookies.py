"""CloudFront signed cookies: signed by the function, verified as CloudFront does."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from botocore.signers import CloudFrontSigner
from chalicelib import signed_cookies
from chalicelib.signed_cookies import (
    COOKIE_NAMES,
    KEY_PAIR_ID_COOKIE,
    KEY_PAIR_ID_ENV,
    POLICY_COOKIE,
    PRIVATE_KEY_ENV,
    SIGNATURE_COOKIE,
    SigningConfigMissing,
    clear_cookie_headers,
    family_resource,
    set_cookie_headers,
    signed_cookie_values,
    signing_config_from_environment,
    site_origin,
    url_b64encode,
)

from portail.cloudfront_gate import (
    cloudfront_b64decode,
    parse_cookie_header,
    request_url,
    resource_matches,
    verify_signed_cookies,
)
from portail.local_keys import LocalSigningKeys, export_to_environment, generate_signing_keys

KEY = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"
NOW = datetime.fromisoformat("2014-11-28T12:00:00+01:00")
EXPIRES = NOW + timedelta(minutes=30)
SITE = "https://portail.cregylesmeaux.fr"  # the portal's public address (production)
LOCAL = "http://127.0.0.1:8000"  # `portail serve`'s
CLOUDFRONT = "https://d111111abcdef8.cloudfront.net"  # the distribution's own name


@pytest.fixture(scope="module")
def keys() -> LocalSigningKeys:
    return generate_signing_keys()


@pytest.fixture(scope="module")
def other_keys() -> LocalSigningKeys:
    return generate_signing_keys()


@pytest.fixture(scope="module")
def cookies(keys) -> dict[str, str]:
    return signed_cookie_values(KEY, EXPIRES, keys.key_pair_id, keys.private_key_pem, site_url=SITE)


@pytest.fixture(scope="module")
def local_cookies(keys) -> dict[str, str]:
    return signed_cookie_values(KEY, EXPIRES, keys.key_pair_id, keys.private_key_pem, site_url=LOCAL)


def _verify(cookies, url, keys, now=NOW, **options) -> bool:
    return verify_signed_cookies(cookies, url, now, keys.public_keys(), **options)


def _policy(cookies) -> dict:
    return json.loads(cloudfront_b64decode(cookies[POLICY_COOKIE]))


def _rsa_signer(private_key_pem: str):
    import rsa

    key = rsa.PrivateKey.load_pkcs1(private_key_pem.encode())
    return lambda message: rsa.sign(message, key, "SHA-1")


def _signed(policy: str, keys: LocalSigningKeys) -> dict[str, str]:
    """Cookies for any policy text, signed with `keys` (to test the gate's conditions)."""
    data = policy.encode()
    return {
        POLICY_COOKIE: url_b64encode(data),
        SIGNATURE_COOKIE: url_b64encode(_rsa_signer(keys.private_key_pem)(data)),
        KEY_PAIR_ID_COOKIE: keys.key_pair_id,
    }


# --- the policy --------------------------------------------------------------------


def test_the_policy_covers_the_family_pages_only_until_the_session_ends(cookies, keys):
    assert family_resource(KEY, SITE) == f"{SITE}/famille/{KEY}/*"
    assert _policy(cookies) == {
        "Statement": [
            {
                "Resource": f"{SITE}/famille/{KEY}/*",
                "Condition": {"DateLessThan": {"AWS:EpochTime": int(EXPIRES.timestamp())}},
            }
        ]
    }
    assert cookies[KEY_PAIR_ID_COOKIE] == keys.key_pair_id
    assert set(cookies) == set(COOKIE_NAMES)


@pytest.mark.parametrize("site_url", [SITE, LOCAL, "http://localhost:8123", "https://[::1]:8443"])
def test_the_resource_is_exactly_the_site_url_then_the_familys_path(keys, site_url):
    for written in (site_url, site_url + "/"):
        values = signed_cookie_values(KEY, EXPIRES, keys.key_pair_id, keys.private_key_pem, site_url=written)
        [statement] = _policy(values)["Statement"]
        assert statement["Resource"] == f"{site_url}/famille/{KEY}/*"
        assert family_resource(KEY, written) == f"{site_url}/famille/{KEY}/*"


@pytest.mark.parametrize(
    "written, origin",
    [
        ("HTTPS://Portail.CregyLesMeaux.FR", SITE),  # as a browser writes the host
        (f"{SITE}:443", SITE),  # a default port is not in the URL CloudFront matches
        ("http://127.0.0.1:80/", "http://127.0.0.1"),
        ("http://127.0.0.1:08000", LOCAL),
        ("http://[0:0::1]:8000", "http://[::1]:8000"),
    ],
)
def test_the_site_url_is_written_as_the_browser_writes_it(written, origin):
    assert site_origin(written) == origin


@pytest.mark.parametrize(
    "site_url",
    [
        "", "portail.cregylesmeaux.fr", "//portail.cregylesmeaux.fr", "ftp://portail.cregylesmeaux.fr",
        "https://", "https:///famille", "https://:443",
        f"{SITE}//", f"{SITE}/famille", f"{SITE}/famille/{KEY}/", f"{SITE}/index.html",
        f"{SITE}?", f"{SITE}?x=1", f"{SITE}/?x=/famille/{KEY}/", f"{SITE}#haut",
        "https://parent@portail.cregylesmeaux.fr", "https://a:b@portail.cregylesmeaux.fr",
        "https://*", "http*://portail.cregylesmeaux.fr", "https://*.cregylesmeaux.fr",
        "https://portail.cregylesmeaux.f?", "https://portail?cregylesmeaux.fr", "*://portail.cregylesmeaux.fr",
        f"{SITE}:", f"{SITE}:0", f"{SITE}:65536", f"{SITE}:44a", f"{SITE}:*",
        f"{SITE}.", "https://portail..fr", "https://-portail.fr", "https://portail_famille.fr",
        "https://portail%2efr", "https://portail\\.fr", "https://portail.fr\\x",
        f" {SITE}", f"{SITE} ", f"{SITE}\n", "https://porta il.fr", "https://p\u212aortail.fr", "https://été.fr",
        "https://[::1", "https://[::g]", "https://[fe80::1%25eth0]",
        None, 42, b"https://portail.cregylesmeaux.fr",
    ],
)
def test_an_invalid_site_url_is_refused(keys, site_url):
    with pytest.raises(ValueError) as refused:
        family_resource(KEY, site_url)
    assert "site_url" in str(refused.value)
    assert "attendu" in str(refused.value) or "invalide" in str(refused.value)
    with pytest.raises(ValueError):
        signed_cookie_values(KEY, EXPIRES, keys.key_pair_id, keys.private_key_pem, site_url=site_url)
    with pytest.raises(ValueError):
        set_cookie_headers(KEY, EXPIRES, keys.key_pair_id, keys.private_key_pem, site_url=site_url)


def test_the_site_url_is_a_required_keyword(keys):
    with pytest.raises(TypeError):
        signed_cookie_values(KEY, EXPIRES, keys.key_pair_id, keys.private_key_pem)
    with pytest.raises(TypeError):
        signed_cookie_values(KEY, EXPIRES, keys.key_pair_id, keys.private_key_pem, SITE)
    with pytest.raises(TypeError):
        set_cookie_headers(KEY, EXPIRES, keys.key_pair_id, keys.private_key_pem)


def test_the_encoding_is_cloudfronts_and_the_signature_botocores(cookies, keys):
    for value in cookies.values():
        assert not set(value) & set("+=/;, \"")
    # The same bytes as botocore's own URL signer with the same policy and signer.
    signer = CloudFrontSigner(keys.key_pair_id, _rsa_signer(keys.private_key_pem))
    url = signer.generate_presigned_url(
        "https://x/", policy=signer.build_policy(family_resource(KEY, SITE), EXPIRES)
    )
    assert f"Policy={cookies[POLICY_COOKIE]}&" in url
    assert f"Signature={cookies[SIGNATURE_COOKIE]}&" in url


@pytest.mark.parametrize(
    "page_key",
    ["381623867924", KEY.upper(), KEY[:-1], KEY + "0", KEY[:-1] + "*", KEY[:-1] + "?", f"{KEY[:16]}/{KEY[17:]}"],
)
def test_only_a_32_hex_page_key_is_signed(keys, page_key):
    with pytest.raises(ValueError):
        signed_cookie_values(page_key, EXPIRES, keys.key_pair_id, keys.private_key_pem, site_url=SITE)
    with pytest.raises(ValueError):
        clear_cookie_headers(page_key)


def test_a_naive_expiry_is_refused(keys):
    with pytest.raises(ValueError):
        signed_cookie_values(KEY, datetime(2014, 11, 28, 12), keys.key_pair_id, keys.private_key_pem, site_url=SITE)


def test_a_pkcs8_private_key_signs_the_same(keys, cookies):
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(keys.private_key_pem.encode(), password=None)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    assert "BEGIN PRIVATE KEY" in pkcs8
    assert signed_cookie_values(KEY, EXPIRES, keys.key_pair_id, pkcs8, site_url=SITE) == cookies


# --- the gate: what opens ----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/famille/{KEY}/",
        f"/famille/{KEY}/index.html",
        f"/famille/{KEY}/enfants/connie/2014-12.html",
        f"/famille/{KEY}/factures/",
    ],
)
def test_the_familys_cookies_open_its_pages_at_the_address_they_were_signed_for(
    cookies, local_cookies, keys, path
):
    assert _verify(cookies, f"{SITE}{path}", keys)
    assert _verify(local_cookies, f"{LOCAL}{path}", keys)


@pytest.mark.parametrize(
    "origin",
    [
        LOCAL,
        CLOUDFRONT,
        "http://portail.cregylesmeaux.fr",  # another scheme
        f"{SITE}:8443",  # another port
        "https://cregylesmeaux.fr",
        "https://portail.cregylesmeaux.fr.evil.fr",
        "https://evil.fr",
        "https://evil.fr/x/portail.cregylesmeaux.fr",
    ],
)
def test_cookies_signed_for_one_host_open_nothing_on_another(cookies, keys, origin):
    assert not _verify(cookies, f"{origin}/famille/{KEY}/index.html", keys)
    assert not _verify(cookies, f"{origin}/famille/{KEY}/", keys)


@pytest.mark.parametrize(
    "url",
    [
        f"http://localhost:8000/famille/{KEY}/",  # the same machine under another name
        f"http://127.0.0.1:8001/famille/{KEY}/",  # another run's port
        f"https://127.0.0.1:8000/famille/{KEY}/",
        f"{SITE}/famille/{KEY}/",
    ],
)
def test_local_cookies_open_nothing_elsewhere(local_cookies, keys, url):
    assert not _verify(local_cookies, url, keys)


def test_the_cookies_open_until_the_last_second_before_expiry(cookies, keys):
    url = f"{SITE}/famille/{KEY}/"
    assert _verify(cookies, url, keys, now=EXPIRES - timedelta(seconds=1))
    assert not _verify(cookies, url, keys, now=EXPIRES)
    assert not _verify(cookies, url, keys, now=EXPIRES + timedelta(days=1))


# --- the gate: what stays shut -----------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/famille/{OTHER}/index.html",
        f"/famille/{OTHER}/",
        f"/famille/{KEY}",
        f"/famille/{KEY}x/index.html",
        f"/famille/{KEY[:-1]}/index.html",
        f"/famille/{KEY.upper()}/index.html",
        f"/famille%2F{KEY}/index.html",
        "/famille/",
        "/",
    ],
)
def test_the_cookies_open_no_other_path(cookies, local_cookies, keys, path):
    assert not _verify(cookies, f"{SITE}{path}", keys)
    assert not _verify(local_cookies, f"{LOCAL}{path}", keys)


def test_the_gate_matches_the_raw_url_dot_segments_included(cookies, keys):
    # CloudFront's wildcard matches the URL as a string: `..` after the family's prefix
    # still matches. The dev server never serves a path with a `..` segment
    # (tests/test_devserver.py), nor would S3 resolve one.
    assert _verify(cookies, f"{SITE}/famille/{KEY}/../{OTHER}/index.html", keys)


@pytest.mark.parametrize(
    "query",
    [
        f"?x=/famille/{KEY}/",
        f"?x={SITE}/famille/{KEY}/",
        f"?x=https://portail.cregylesmeaux.fr/famille/{KEY}/&y=1",
    ],
)
def test_a_query_string_cannot_borrow_the_policy_on_another_familys_page(cookies, local_cookies, keys, query):
    # The exact host pins the start of the path: a query cannot stand in for it.
    assert not _verify(cookies, f"{SITE}/famille/{OTHER}/index.html{query}", keys)
    assert not _verify(local_cookies, f"{LOCAL}/famille/{OTHER}/index.html{query}", keys)
    # On the family's own pages a query changes nothing (S3 ignores it).
    assert _verify(cookies, f"{SITE}/famille/{KEY}/index.html{query}", keys)


def test_the_wildcard_host_was_the_hole(keys):
    # Why the host is exact: with `http*://*/famille/<KEY>/*` the host's `*` matched
    # `/` too, so this URL, naming OTHER's page, matched the policy of KEY.
    wildcard = _signed(_statement({"DateLessThan": {"AWS:EpochTime": LATER}}, resource=f"http*://*/famille/{KEY}/*"), keys)
    assert _verify(wildcard, f"{SITE}/famille/{OTHER}/index.html?x=/famille/{KEY}/", keys)


def test_an_expired_policy_is_refused(keys):
    past = signed_cookie_values(KEY, NOW - timedelta(seconds=1), keys.key_pair_id, keys.private_key_pem, site_url=SITE)
    assert not _verify(past, f"{SITE}/famille/{KEY}/", keys)


def test_a_tampered_policy_is_refused(cookies, keys):
    policy = cloudfront_b64decode(cookies[POLICY_COOKIE]).decode()
    changes = (
        policy.replace(KEY, OTHER),
        policy.replace(f"/famille/{KEY}/*", "/*"),
        policy.replace(SITE, "http*://*"),
        policy.replace(SITE, CLOUDFRONT),
    )
    for changed in changes:
        assert changed != policy
        forged = {**cookies, POLICY_COOKIE: url_b64encode(changed.encode())}
        assert not _verify(forged, f"{SITE}/famille/{OTHER}/", keys)
        assert not _verify(forged, f"{SITE}/famille/{KEY}/", keys)
        assert not _verify(forged, f"{CLOUDFRONT}/famille/{KEY}/", keys)
    later = policy.replace(str(int(EXPIRES.timestamp())), str(int(EXPIRES.timestamp()) + 86400))
    forged = {**cookies, POLICY_COOKIE: url_b64encode(later.encode())}
    assert not _verify(forged, f"{SITE}/famille/{KEY}/", keys)


def test_a_signature_from_another_key_is_refused(keys, other_keys):
    foreign = signed_cookie_values(KEY, EXPIRES, keys.key_pair_id, other_keys.private_key_pem, site_url=SITE)
    assert not _verify(foreign, f"{SITE}/famille/{KEY}/", keys)


def test_an_unknown_key_pair_id_is_refused(cookies, keys, other_keys):
    assert not _verify(cookies, f"{SITE}/famille/{KEY}/", other_keys)
    unknown = {**cookies, KEY_PAIR_ID_COOKIE: "KUNKNOWN000000"}
    assert not _verify(unknown, f"{SITE}/famille/{KEY}/", keys)
    assert not verify_signed_cookies(cookies, f"{SITE}/famille/{KEY}/", NOW, {})


@pytest.mark.parametrize("missing", COOKIE_NAMES)
def test_a_missing_or_empty_cookie_is_refused(cookies, keys, missing):
    partial = {name: value for name, value in cookies.items() if name != missing}
    assert not _verify(partial, f"{SITE}/famille/{KEY}/", keys)
    assert not _verify({**cookies, missing: ""}, f"{SITE}/famille/{KEY}/", keys)


@pytest.mark.parametrize("garbage", ["not base64!", "====", "eyJ", "a~b~c", "é"])
def test_undecodable_values_are_refused(cookies, keys, garbage):
    for name in (POLICY_COOKIE, SIGNATURE_COOKIE):
        assert not _verify({**cookies, name: garbage}, f"{SITE}/famille/{KEY}/", keys)


def test_a_hash_algorithm_cookie_must_match_the_signature(cookies, keys):
    url = f"{SITE}/famille/{KEY}/"
    assert _verify({**cookies, "CloudFront-Hash-Algorithm": "SHA1"}, url, keys)
    assert not _verify({**cookies, "CloudFront-Hash-Algorithm": "SHA256"}, url, keys)
    assert not _verify({**cookies, "CloudFront-Hash-Algorithm": "MD5"}, url, keys)


def _statement(condition: dict, resource: str = f"{LOCAL}/famille/{KEY}/*") -> str:
    return json.dumps({"Statement": [{"Resource": resource, "Condition": condition}]}, separators=(",", ":"))


LATER = int(EXPIRES.timestamp())


@pytest.mark.parametrize(
    "policy",
    [
        _statement({"DateLessThan": {"AWS:EpochTime": LATER}}),
        _statement({"DateLessThan": {"AWS:EpochTime": LATER}, "DateGreaterThan": {"AWS:EpochTime": int(NOW.timestamp())}}),
        _statement({"DateLessThan": {"AWS:EpochTime": LATER}, "IpAddress": {"AWS:SourceIp": "127.0.0.0/8"}}),
        _statement({"DateLessThan": {"AWS:EpochTime": LATER}}, resource=f"htt?://127.0.0.1:8000/famille/{KEY}/*"),
    ],
)
def test_custom_policy_conditions_that_hold(keys, policy):
    assert _verify(_signed(policy, keys), f"{LOCAL}/famille/{KEY}/", keys, client_address="127.0.0.1")


@pytest.mark.parametrize(
    "policy",
    [
        _statement({}),
        _statement({"DateGreaterThan": {"AWS:EpochTime": 0}}),
        _statement({"DateLessThan": {"AWS:EpochTime": str(LATER)}}),
        _statement({"DateLessThan": {"AWS:EpochTime": float(LATER)}}),
        _statement({"DateLessThan": {"AWS:EpochTime": True}}),
        _statement({"DateLessThan": {"AWS:EpochTime": LATER, "Other": 1}}),
        _statement({"DateLessThan": {"AWS:EpochTime": LATER}, "DateGreaterThan": {"AWS:EpochTime": int(NOW.timestamp()) + 1}}),
        _statement({"DateLessThan": {"AWS:EpochTime": LATER}, "IpAddress": {"AWS:SourceIp": "192.0.2.0/24"}}),
        _statement({"DateLessThan": {"AWS:EpochTime": LATER}, "IpAddress": {"AWS:SourceIp": "::1/128"}}),
        _statement({"DateLessThan": {"AWS:EpochTime": LATER}, "IpAddress": {"AWS:SourceIp": "pas une adresse"}}),
        _statement({"DateLessThan": {"AWS:EpochTime": LATER}, "Unknown": {}}),
        _statement({"DateLessThan": {"AWS:EpochTime": LATER}}, resource=f"http*://127.0.0.1:80/famille/{KEY}/*"),
        _statement({"DateLessThan": {"AWS:EpochTime": LATER}}, resource=f"https://*/famille/{KEY}/*"),
        json.dumps({"Statement": [{"Condition": {"DateLessThan": {"AWS:EpochTime": LATER}}}]}),
        json.dumps({"Statement": [json.loads(_statement({"DateLessThan": {"AWS:EpochTime": LATER}}))["Statement"][0]] * 2}),
        json.dumps({"Statement": []}),
        json.dumps({"Statement": json.loads(_statement({"DateLessThan": {"AWS:EpochTime": LATER}}))["Statement"][0]}),
        json.dumps({"Statement": [{"Resource": f"http*://*/famille/{KEY}/*", "Condition": {"DateLessThan": {"AWS:EpochTime": LATER}}, "Effect": "Allow"}]}),
        '{"Statement":[{"Resource":"x","Resource":"http*://*","Condition":{"DateLessThan":{"AWS:EpochTime":' + str(LATER) + '}}}]}',
        "not json",
        "[]",
    ],
)
def test_any_other_policy_is_refused(keys, policy):
    assert not _verify(_signed(policy, keys), f"{LOCAL}/famille/{KEY}/", keys, client_address="127.0.0.1")


def test_an_ip_condition_needs_the_client_address(keys):
    policy = _statement({"DateLessThan": {"AWS:EpochTime": LATER}, "IpAddress": {"AWS:SourceIp": "127.0.0.1/32"}})
    assert not _verify(_signed(policy, keys), f"{LOCAL}/famille/{KEY}/", keys)


def test_wildcards():
    assert resource_matches("http*://*/a/*", "https://h:1/a/b?c=d")
    assert resource_matches("http?://h/a", "https://h/a")
    assert not resource_matches("http?://h/a", "http://h/a")
    assert not resource_matches("http://h/a.b", "http://h/aXb")  # `.` is no wildcard
    assert not resource_matches("http://h/a", "http://h/a/")  # the whole URL


def test_parse_cookie_header():
    assert parse_cookie_header(None) == {}
    assert parse_cookie_header("a=1; b = 2 ;c=x=y; flag; d=") == {"a": "1", "b": "2", "c": "x=y", "d": ""}
    assert parse_cookie_header("a=first; a=second") == {"a": "first"}


@pytest.mark.parametrize(
    "environ, url",
    [
        ({"HTTP_HOST": "127.0.0.1:8000", "RAW_URI": "/famille/k/a%20b.html?x=1"}, "http://127.0.0.1:8000/famille/k/a%20b.html?x=1"),
        ({"HTTP_HOST": "localhost", "PATH_INFO": "/famille/k/€", "QUERY_STRING": "x=1"}, None),
        ({"HTTP_HOST": "localhost", "PATH_INFO": "/famille/k/\xc3\xa9", "QUERY_STRING": "x=1"}, "http://localhost/famille/k/%C3%A9?x=1"),
        ({"HTTP_HOST": "[::1]:8000", "PATH_INFO": "/"}, "http://[::1]:8000/"),
        ({"HTTP_HOST": "evil/famille/k", "PATH_INFO": "/"}, None),
        ({"HTTP_HOST": "127.0.0.1:8000?", "PATH_INFO": "/"}, None),
        ({"HTTP_HOST": "", "PATH_INFO": "/"}, None),
        ({"PATH_INFO": "/"}, None),
        ({"HTTP_HOST": "h", "RAW_URI": "http://other/famille/k/"}, None),
        ({"HTTP_HOST": "h", "RAW_URI": "//other/famille/k/"}, None),
    ],
)
def test_request_url_from_the_wsgi_environ(environ, url):
    assert request_url(environ) == url


# --- Set-Cookie --------------------------------------------------------------------


def test_set_cookie_headers_are_exactly_as_specified(keys, cookies):
    headers = set_cookie_headers(KEY, EXPIRES, keys.key_pair_id, keys.private_key_pem, site_url=SITE)
    attributes = f"Path=/famille/{KEY}/; Secure; HttpOnly; SameSite=Lax"
    assert headers == [f"{name}={cookies[name]}; {attributes}" for name in COOKIE_NAMES]


def test_clear_cookie_headers_expire_the_same_three_cookies(keys):
    assert clear_cookie_headers(KEY) == [
        f"{name}=; Path=/famille/{KEY}/; Max-Age=0; Secure; HttpOnly; SameSite=Lax" for name in COOKIE_NAMES
    ]


def test_what_a_browser_sends_back_opens_the_page(keys):
    # The name=value part of each Set-Cookie, joined as a browser's Cookie header.
    headers = set_cookie_headers(KEY, EXPIRES, keys.key_pair_id, keys.private_key_pem, site_url=LOCAL)
    cookie_header = "; ".join(header.split(";", 1)[0] for header in headers)
    assert _verify(parse_cookie_header(cookie_header), f"{LOCAL}/famille/{KEY}/", keys)
    assert not _verify(parse_cookie_header(cookie_header), f"http://localhost:8000/famille/{KEY}/", keys)


# --- configuration -----------------------------------------------------------------


def test_local_keys_go_into_the_functions_environment(keys):
    env: dict[str, str] = {PRIVATE_KEY_ENV: "production key, replaced"}
    export_to_environment(keys, env)
    key_pair_id, private_key_pem = signing_config_from_environment(env)
    assert key_pair_id == keys.key_pair_id
    assert key_pair_id.startswith("K") and len(key_pair_id) == 14 and key_pair_id.isupper()
    assert private_key_pem.strip() == keys.private_key_pem.strip()
    assert keys.private_key_pem not in repr(keys)
    cookies = signed_cookie_values(KEY, EXPIRES, key_pair_id, private_key_pem, site_url=LOCAL)
    assert _verify(cookies, f"{LOCAL}/famille/{KEY}/", keys)


def test_a_one_line_pem_is_accepted(keys):
    one_line = keys.private_key_pem.strip().replace("\n", "\\n")
    _, pem = signing_config_from_environment({KEY_PAIR_ID_ENV: "K1", PRIVATE_KEY_ENV: one_line})
    assert pem.strip() == keys.private_key_pem.strip()


@pytest.mark.parametrize(
    "env, missing",
    [
        ({}, [KEY_PAIR_ID_ENV, PRIVATE_KEY_ENV]),
        ({KEY_PAIR_ID_ENV: "K1"}, [PRIVATE_KEY_ENV]),
        ({KEY_PAIR_ID_ENV: " ", PRIVATE_KEY_ENV: "x"}, [KEY_PAIR_ID_ENV]),
    ],
)
def test_missing_configuration_is_named(env, missing):
    with pytest.raises(SigningConfigMissing) as refused:
        signing_config_from_environment(env)
    for name in missing:
        assert name in str(refused.value)


def test_the_default_environment_is_os_environ(monkeypatch, keys):
    monkeypatch.setenv(KEY_PAIR_ID_ENV, keys.key_pair_id)
    monkeypatch.setenv(PRIVATE_KEY_ENV, keys.private_key_pem)
    assert signing_config_from_environment()[0] == keys.key_pair_id
    monkeypatch.delenv(PRIVATE_KEY_ENV)
    with pytest.raises(SigningConfigMissing):
        signing_config_from_environment()


def test_signing_stays_off_the_import_path():
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = "import sys, chalicelib.signed_cookies; print('rsa' in sys.modules, 'cryptography' in sys.modules)"
    out = subprocess.check_output([sys.executable, "-c", code], cwd=ROOT / "functions", text=True)
    assert out.split() == ["False", "False"]
    assert signed_cookies.__doc__ and "PORTAIL_CLOUDFRONT_PRIVATE_KEY" in signed_cookies.__doc__




def test_the_local_secret_is_made_once_and_kept_private(tmp_path):
    import stat

    from portail.local_keys import local_secret

    first = local_secret(tmp_path)
    assert len(first) == 64 and local_secret(tmp_path) == first
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600
