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
_verified: dict[tuple[str, str, str], tuple[TokenClaims, int]] = {}


def verify_token(settings: Settings, token: str, *, expected_type: TokenType) -> TokenClaims:
    """Checks signature, expiry, required claims and the token type (access and refresh never mix)."""
    cache_key = (token, expected_type, settings.jwt_key)
    cached = _verified.get(cache_key)
    if cached is not None:
        claims, expires = cached
        if expires <= time.time():
            raise InvalidTokenError("Signature has expired")
        return claims
    try:
        payload = jwt.decode(
            token,
            settings.jwt_key,
            algorithms=[settings.algorithm],
            options={"require": ["sub", "exp", "iat", "jti", "type", "sid"]},
        )
        if payload["type"] != expected_type:
            raise InvalidTokenError(f"expected a {expected_type} token")
        claims = TokenClaims(
            user_id=uuid.UUID(payload["sub"]),
            session_id=uuid.UUID(payload["sid"]),
            jti=str(payload["jti"]),
            type=expected_type,
            expires_at=datetime.fromtimestamp(payload["exp"], UTC).replace(tzinfo=None),
        )
        expires = int(payload["exp"])
    except (jwt.PyJWTError, ValueError, TypeError, KeyError, OverflowError, OSError) as exc:
        raise InvalidTokenError(str(exc)) from None
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[cache_key] = (claims, expires)
    return claims
