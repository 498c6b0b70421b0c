"""JWTs (HS256) with the original's claims (sub, exp, iat, jti, type) plus `sid`, the login session."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt

from mdreader_backend.settings import Settings

TokenType = Literal["access", "refresh"]


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    jti: str
    type: TokenType
    expires_at: datetime


class InvalidTokenError(Exception):
    """The token is malformed, badly signed, expired, or of the wrong type."""


def issue_token(
    settings: Settings, *, user_id: uuid.UUID, session_id: uuid.UUID, token_type: TokenType
) -> tuple[str, TokenClaims]:
    now = datetime.now(UTC)
    lifetime = (
        timedelta(minutes=settings.access_token_expire_minutes)
        if token_type == "access"
        else timedelta(days=settings.refresh_token_expire_days)
    )
    claims = TokenClaims(
        user_id=user_id,
        session_id=session_id,
        jti=secrets.token_urlsafe(32),
        type=token_type,
        expires_at=(now + lifetime).replace(tzinfo=None),
    )
    payload = {
        "sub": str(user_id),
        "sid": str(session_id),
        "jti": claims.jti,
        "type": token_type,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(payload, settings.jwt_key, algorithm=settings.algorithm), claims


# Tokens whose signature and claims were already checked, with their expiry: the same access token comes
# with every request of a session, and PyJWT's decode (base64 checks in Python, HMAC, JSON) is a large part
# of a small request's CPU. Keyed by the verification key too; only valid tokens get in, and expiry is
# checked on every use. Revocation is not a token property: it is checked against the database per request.
_VERIFIED_MAX = 4096
_verified: dict[tuple[str, str, tuple[str, ...]], tuple[TokenClaims, int]] = {}


def verify_token(settings: Settings, token: str, *, expected_type: TokenType) -> TokenClaims:
    """Checks signature, expiry, required claims and the token type (access and refresh never mix).

    A token may be signed with the current key or the one before the last rotation. One signed with
    neither may come from an instance that started after a rotation: the keys are then read again
    (settings.refresh_signing_keys, rate-limited) and the check repeated once.
    """
    try:
        return _verify(settings.jwt_verification_keys, settings.algorithm, token, expected_type)
    except _UnknownKeyError:
        if settings.refresh_signing_keys():
            try:
                return _verify(settings.jwt_verification_keys, settings.algorithm, token, expected_type)
            except _UnknownKeyError:
                pass
        raise InvalidTokenError("Signature verification failed") from None


class _UnknownKeyError(InvalidTokenError):
    """No known key verifies the signature."""


def _verify(keys: tuple[str, ...], algorithm: str, token: str, expected_type: TokenType) -> TokenClaims:
    cache_key = (token, expected_type, keys)
    cached = _verified.get(cache_key)
    if cached is not None:
        claims, expires = cached
        if expires <= time.time():
            raise InvalidTokenError("Signature has expired")
        return claims
    payload: dict[str, object] | None = None
    try:
        for key in keys:
            try:
                payload = jwt.decode(
                    token,
                    key,
                    algorithms=[algorithm],
                    options={"require": ["sub", "exp", "iat", "jti", "type", "sid"]},
                )
                break
            except jwt.InvalidSignatureError:
                continue
        if payload is None:
            raise _UnknownKeyError("Signature verification failed")
        if payload["type"] != expected_type:
            raise InvalidTokenError(f"expected a {expected_type} token")
        expires = int(str(payload["exp"]))
        claims = TokenClaims(
            user_id=uuid.UUID(str(payload["sub"])),
            session_id=uuid.UUID(str(payload["sid"])),
            jti=str(payload["jti"]),
            type=expected_type,
            expires_at=datetime.fromtimestamp(expires, UTC).replace(tzinfo=None),
        )
    except InvalidTokenError:
        raise
    except (jwt.PyJWTError, ValueError, TypeError, KeyError, OverflowError, OSError) as exc:
        raise InvalidTokenError(str(exc)) from None
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[cache_key] = (claims, expires)
    return claims
