"""The stage's secrets, from AWS Systems Manager Parameter Store in production.

The function needs two secrets: `PORTAIL_SECRET` (the family forms' anti-CSRF tokens
are HMACs of it) and `PORTAIL_CLOUDFRONT_PRIVATE_KEY` (it signs the CloudFront cookies).
Locally and in the tests they are environment variables. In production they are
SecureString parameters `<prefix>PORTAIL_SECRET` and `<prefix>PORTAIL_CLOUDFRONT_PRIVATE_KEY`
(encrypted by KMS, never in the Lambda's configuration, where anyone allowed to read the
function would see them); the deployment sets `PORTAIL_SSM_PREFIX` (`/portail-famille-<stage>/`,
docs/deployment.md).

`load_secrets()` is called where a secret is about to be read. With a prefix set and a
secret missing from the environment, it asks SSM once (one GetParameters call for
both) and keeps the values in this process's environment: a warm Lambda never asks
again, so a rotated value reaches the function with its next containers (or at once
after a redeployment). Without a prefix it does nothing. Light: boto3 is imported only
when SSM is asked.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

PREFIX_ENV = "PORTAIL_SSM_PREFIX"
SECRET_NAMES = ("PORTAIL_SECRET", "PORTAIL_CLOUDFRONT_PRIVATE_KEY")


class SecretsUnavailable(RuntimeError):
    """A secret is neither in the environment nor in Parameter Store."""


def load_secrets(env: MutableMapping[str, str] | None = None, client=None) -> None:
    """Puts the secrets missing from `env` (default os.environ) there, from SSM.

    `client`: an SSM client (default boto3's). Raises SecretsUnavailable naming the
    parameters that do not exist; an AWS failure (throttling, permissions) propagates
    as botocore's error.
    """
    env = os.environ if env is None else env
    prefix = env.get(PREFIX_ENV, "")
    if not prefix:
        return
    missing = [name for name in SECRET_NAMES if not env.get(name)]
    if not missing:
        return
    if client is None:
        import boto3

        client = boto3.client("ssm")
    answer = client.get_parameters(Names=[prefix + name for name in missing], WithDecryption=True)
    found = {parameter["Name"].removeprefix(prefix): parameter["Value"]
             for parameter in answer.get("Parameters", [])}
    absent = [prefix + name for name in missing if name not in found]
    if absent:
        raise SecretsUnavailable(
            f"Paramètre(s) SSM introuvable(s) : {', '.join(absent)} (docs/deployment.md, « Les secrets »)."
        )
    for name in missing:
        env[name] = found[name]
