"""FastAPI dependencies that authenticate the caller from `Authorization: Bearer <access JWT>`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from mdreader_backend.auth.models import User
from mdreader_backend.auth.service import Principal, principal_for_access_token
from mdreader_backend.database import get_session
from mdreader_backend.errors import ApiError
from mdreader_backend.settings import Settings

_bearer = HTTPBearer(auto_error=False)


async def get_app_settings(request: Request) -> Settings:
    """Async on purpose: FastAPI runs plain `def` dependencies in a worker thread, on every request."""
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(get_app_settings)]
DbSession = Annotated[AsyncSession, Depends(get_session)]


async def current_principal(
    settings: AppSettings,
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # 401 (not the original's 403) for a missing header: the client refreshes its token only on 401.
    if credentials is None:
        raise ApiError(401, "Not authenticated", {"WWW-Authenticate": "Bearer"})
    return await principal_for_access_token(session, settings, credentials.credentials)


async def current_user(principal: Annotated[Principal, Depends(current_principal)]) -> User:
    return principal.user


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
CurrentUser = Annotated[User, Depends(current_user)]
