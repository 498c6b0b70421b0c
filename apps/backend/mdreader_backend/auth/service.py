"""Registration, login, token refresh (with rotation) and logout (revocation)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mdreader_backend.auth.models import AuthSession, User
from mdreader_backend.auth.passwords import hash_password, verify_password
from mdreader_backend.auth.schemas import RegisterRequest, TokenPair
from mdreader_backend.auth.tokens import InvalidTokenError, issue_token, verify_token
from mdreader_backend.database import utcnow
from mdreader_backend.errors import ApiError
from mdreader_backend.settings import Settings

INVALID_CREDENTIALS = "Invalid email or password"
INVALID_REFRESH = "Invalid or expired refresh token"
SUSPENDED = "Account is suspended"


async def register(session: AsyncSession, settings: Settings, body: RegisterRequest) -> User:
    if await session.scalar(select(User.id).where(User.email == body.email)):
        raise ApiError(409, f"Email '{body.email}' is already registered")
    if await session.scalar(select(User.id).where(User.username == body.username)):
        raise ApiError(409, f"Username '{body.username}' is already taken")
    user = User(
        email=body.email,
        username=body.username,
        full_name=body.full_name,
        hashed_password=await hash_password(body.password, rounds=settings.bcrypt_rounds),
    )
    session.add(user)
    await session.flush()
    return user


async def authenticate(session: AsyncSession, settings: Settings, email: str, password: str) -> User:
    user = await session.scalar(select(User).where(User.email == email, User.is_deleted.is_(False)))
    if user is None:
        # Spend the same bcrypt time as a real check so response times don't reveal which emails exist.
        await hash_password(password, rounds=settings.bcrypt_rounds)
        raise ApiError(401, INVALID_CREDENTIALS)
    if not await verify_password(password, user.hashed_password):
        raise ApiError(401, INVALID_CREDENTIALS)
    if not user.is_active:
        raise ApiError(401, "Account is suspended. Please contact support.")
    return user


async def start_session(session: AsyncSession, settings: Settings, user: User) -> TokenPair:
    login = AuthSession(
        id=uuid.uuid4(),
        user_id=user.id,
        refresh_jti="",
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(days=settings.refresh_token_expire_days),
    )
    session.add(login)
    return _issue_pair(settings, login)


def _issue_pair(settings: Settings, login: AuthSession) -> TokenPair:
    access, _ = issue_token(settings, user_id=login.user_id, session_id=login.id, token_type="access")
    refresh, refresh_claims = issue_token(
        settings, user_id=login.user_id, session_id=login.id, token_type="refresh"
    )
    login.refresh_jti = refresh_claims.jti
    login.expires_at = refresh_claims.expires_at
    return TokenPair(
        access_token=access, refresh_token=refresh, expires_in=settings.access_token_expire_minutes * 60
    )


async def refresh(session: AsyncSession, settings: Settings, refresh_token: str) -> TokenPair:
    """Rotates: the presented refresh token is spent; presenting a spent one revokes the whole session."""
    try:
        claims = verify_token(settings, refresh_token, expected_type="refresh")
    except InvalidTokenError:
        raise ApiError(401, INVALID_REFRESH) from None
    login = await session.get(AuthSession, claims.session_id, with_for_update=True)
    if login is None or login.revoked_at is not None or login.user_id != claims.user_id:
        raise ApiError(401, INVALID_REFRESH)
    if login.refresh_jti != claims.jti:
        login.revoked_at = utcnow()  # reuse of a rotated token: treat the session as stolen
        await session.commit()
        raise ApiError(401, INVALID_REFRESH)
    user = await session.get(User, claims.user_id)
    if user is None or user.is_deleted:
        raise ApiError(401, "User not found")
    if not user.is_active:
        raise ApiError(401, SUSPENDED)
    return _issue_pair(settings, login)


async def logout(session: AsyncSession, session_id: uuid.UUID) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the user and the login session their access token belongs to."""

    user: User
    session_id: uuid.UUID


@cache
def _principal_statement() -> Select[AuthSession, User]:
    """Built once (it runs on every authenticated request): the login session `:session_id` and its user."""
    return (
        select(AuthSession, User)
        .outerjoin(User, User.id == AuthSession.user_id)
        .where(AuthSession.id == bindparam("session_id"))
    )


async def principal_for_access_token(session: AsyncSession, settings: Settings, token: str) -> Principal:
    """The one verification of an access token, shared by REST and the sync service.

    Raises ApiError 401 (bad/expired/revoked token, unknown user) or 403 (suspended account).
    """
    try:
        claims = verify_token(settings, token, expected_type="access")
    except InvalidTokenError:
        raise ApiError(401, "Could not validate credentials", {"WWW-Authenticate": "Bearer"}) from None
    row = (await session.execute(_principal_statement(), {"session_id": claims.session_id})).one_or_none()
    login, user = row if row is not None else (None, None)
    if login is None or login.revoked_at is not None or login.user_id != claims.user_id:
        raise ApiError(401, "Session has ended", {"WWW-Authenticate": "Bearer"})
    if user is None or user.is_deleted:
        raise ApiError(401, "User not found", {"WWW-Authenticate": "Bearer"})
    if not user.is_active:
        raise ApiError(403, SUSPENDED)
    return Principal(user=user, session_id=login.id)
