"""Secrets Manager rotation of the JWT signing key (SECRET_KEY).

The Lambda handler is `mdreader_backend.secret_rotation.handler`.

The standard four steps, each invoked by Secrets Manager with the same ClientRequestToken (the new
version's id):

- createSecret: a fresh random key is stored as the AWSPENDING version (once: a retried step finds it);
- setSecret: nothing to do, no other system holds the key (the backend reads the secret itself);
- testSecret: the pending key is long enough and signs and verifies an HS256 token;
- finishSecret: AWSCURRENT moves to the new version; Secrets Manager gives the old one AWSPREVIOUS.

New tokens are signed with AWSCURRENT; the backend also accepts tokens signed with AWSPREVIOUS (settings
`secret_key_previous`), so tokens issued before a rotation stay valid until the next one: rotate less
often than the refresh-token lifetime or sessions end at the second rotation.

Kept free of the web application's imports (FastAPI, SQLAlchemy) so this function starts quickly; boto3
is imported when invoked.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

logger = logging.getLogger("mdreader_backend.secret_rotation")

KEY_BYTES = 48  # token_urlsafe(48): 64 characters, 384 random bits (the minimum accepted is 32 characters)
MIN_KEY_CHARS = 32
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")

_client: Any = None


def _secrets_client() -> Any:
    global _client
    if _client is None:
        import boto3

        _client = boto3.client("secretsmanager")
    return _client


class RotationError(Exception):
    """The rotation can't proceed; Secrets Manager marks it failed and retries later."""


def handler(event: dict[str, Any], context: Any) -> None:
    """Rotation Lambda entry point (event: SecretId, ClientRequestToken, Step)."""
    try:
        arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    except (KeyError, TypeError):
        raise RotationError("event needs SecretId, ClientRequestToken and Step") from None
    if step not in STEPS:
        raise RotationError(f"unknown rotation step {step!r}")
    client = _secrets_client()
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise RotationError(f"rotation is not enabled for {arn}")
    stages: list[str] | None = metadata.get("VersionIdsToStages", {}).get(token)
    if stages is not None and "AWSCURRENT" in stages:
        logger.info("version %s of %s is already AWSCURRENT (%s: nothing to do)", token, arn, step)
        return
    if stages is not None and "AWSPENDING" not in stages:
        raise RotationError(f"version {token} of {arn} is not AWSPENDING")
    if stages is None and step != "createSecret":
        raise RotationError(f"version {token} of {arn} does not exist ({step} before createSecret)")

    if step == "createSecret":
        _create(client, arn, token)
    elif step == "setSecret":
        pass  # nothing outside the secret uses the key
    elif step == "testSecret":
        _test(client, arn, token)
    else:
        _finish(client, arn, token, metadata)
    logger.info("%s done for version %s of %s", step, token, arn)


def _create(client: Any, arn: str, token: str) -> None:
    client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")  # fails early without access
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        return  # a retried createSecret: the pending key exists already
    except client.exceptions.ResourceNotFoundException:
        pass
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=secrets.token_urlsafe(KEY_BYTES),
        VersionStages=["AWSPENDING"],
    )


def _test(client: Any, arn: str, token: str) -> None:
    import jwt

    key = client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")["SecretString"]
    if not isinstance(key, str) or len(key) < MIN_KEY_CHARS:
        raise RotationError(f"the pending key of {arn} is shorter than {MIN_KEY_CHARS} characters")
    probe = jwt.encode({"sub": "rotation-test"}, key, algorithm="HS256")
    if jwt.decode(probe, key, algorithms=["HS256"]).get("sub") != "rotation-test":
        raise RotationError("the pending key does not round-trip an HS256 token")


def _finish(client: Any, arn: str, token: str, metadata: dict[str, Any]) -> None:
    current = next(
        (
            version
            for version, stages in metadata.get("VersionIdsToStages", {}).items()
            if "AWSCURRENT" in stages
        ),
        None,
    )
    client.update_secret_version_stage(
        SecretId=arn,
        VersionStage="AWSCURRENT",
        MoveToVersionId=token,
        **({"RemoveFromVersionId": current} if current and current != token else {}),
    )
