"""The signed-cookie key pair of one `portail serve` run.

Production signs with the stage's key, whose public half CloudFront trusts (its key
group). Locally, each `portail serve` makes a fresh RSA 2048 pair: the private half goes
into this process's environment, where the function reads it
(chalicelib.signed_cookies.signing_config_from_environment), the public half to the dev
server's gate (portail.cloudfront_gate). Nothing is written to disk; cookies of a
previous run no longer open anything.
"""

from __future__ import annotations

import os
import secrets
import string
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

from chalicelib.signed_cookies import KEY_PAIR_ID_ENV, PRIVATE_KEY_ENV

KEY_SIZE = 2048
_ID_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class LocalSigningKeys:
    key_pair_id: str  # `K` + 13 uppercase letters or digits, like CloudFront's ids
    private_key_pem: str  # PKCS#1 (`BEGIN RSA PRIVATE KEY`), unencrypted
    public_key_pem: str  # SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`), as CloudFront takes it

    def public_keys(self) -> dict[str, str]:
        """{key_pair_id: public_key_pem}: what the gate trusts."""
        return {self.key_pair_id: self.public_key_pem}

    def __repr__(self) -> str:  # never print the private key by accident
        return f"LocalSigningKeys(key_pair_id={self.key_pair_id!r})"


def generate_signing_keys() -> LocalSigningKeys:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    key_pair_id = "K" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(13))
    return LocalSigningKeys(key_pair_id, private_pem, public_pem)


def export_to_environment(
    keys: LocalSigningKeys, env: MutableMapping[str, str] = os.environ
) -> None:
    """Sets PORTAIL_CLOUDFRONT_KEY_PAIR_ID and PORTAIL_CLOUDFRONT_PRIVATE_KEY in `env`.

    Whatever was there (an operator's production key in the shell) is replaced: a local
    run signs with its local key only.
    """
    env[KEY_PAIR_ID_ENV] = keys.key_pair_id
    env[PRIVATE_KEY_ENV] = keys.private_key_pem


LOCAL_STATE = Path(__file__).resolve().parents[1] / ".portail"


def local_secret(directory: Path = LOCAL_STATE) -> str:
    """The local portal's stage secret (form tokens), kept in `.portail/secret` (outside
    git) so that staff commands run from another shell render pages whose forms the
    running portal accepts. Production sets PORTAIL_SECRET instead."""
    path = directory / "secret"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        import secrets

        directory.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked in place: two processes starting at once (parallel
        # test workers) never read a half-written file, and both keep the first one's.
        draft = directory / f".secret.{os.getpid()}.{secrets.token_hex(4)}"
        draft.touch(mode=0o600)
        draft.write_text(secrets.token_hex(32), encoding="ascii")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
        return path.read_text(encoding="ascii").strip()
