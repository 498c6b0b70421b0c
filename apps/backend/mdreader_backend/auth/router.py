"""/api/v1/auth: register, login, refresh, logout, me."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from mdreader_backend.auth import service
from mdreader_backend.auth.dependencies import AppSettings, CurrentPrincipal, CurrentUser, DbSession
from mdreader_backend.auth.schemas import (
    AuthResponse,
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    UserResponse,
)
from mdreader_backend.email import Email, send_quietly
from mdreader_backend.ratelimit import limit_auth_requests
from mdreader_backend.schemas import error_responses

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
ERRORS = error_responses(401, 403, 429)


@router.post(
    "/register",
    status_code=201,
    response_model=AuthResponse,
    responses=error_responses(401, 403, 409, 429),
    dependencies=[Depends(limit_auth_requests("register"))],
)
async def register(
    body: RegisterRequest, request: Request, session: DbSession, settings: AppSettings
) -> AuthResponse:
    user = await service.register(session, settings, body)
    tokens = await service.start_session(session, settings, user)
    await session.commit()
    await send_quietly(
        request.app.state.email,
        Email(to=user.email, subject="Welcome to MDReader", text=f"Hi {user.username}, welcome to MDReader!"),
    )
    return AuthResponse(user=UserResponse.model_validate(user), **tokens.model_dump())


@router.post(
    "/login",
    response_model=AuthResponse,
    responses=ERRORS,
    dependencies=[Depends(limit_auth_requests("login"))],
)
async def login(body: LoginRequest, session: DbSession, settings: AppSettings) -> AuthResponse:
    user = await service.authenticate(session, settings, body.email, body.password)
    tokens = await service.start_session(session, settings, user)
    await session.commit()
    return AuthResponse(user=UserResponse.model_validate(user), **tokens.model_dump())


@router.post(
    "/refresh",
    response_model=TokenPair,
    responses=ERRORS,
    dependencies=[Depends(limit_auth_requests("refresh"))],
)
async def refresh(body: RefreshRequest, session: DbSession, settings: AppSettings) -> TokenPair:
    tokens = await service.refresh(session, settings, body.refresh_token)
    await session.commit()
    return tokens


@router.post("/logout", status_code=204, responses=ERRORS)
async def logout(principal: CurrentPrincipal, session: DbSession) -> Response:
    """Ends the login session: its refresh token and its access tokens stop working."""
    await service.logout(session, principal.session_id)
    await session.commit()
    return Response(status_code=204)


@router.get("/me", response_model=UserResponse, responses=ERRORS)
async def me(user: CurrentUser) -> UserResponse:
    return UserResponse.model_validate(user)
