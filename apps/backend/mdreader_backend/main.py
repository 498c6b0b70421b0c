"""The FastAPI application: one factory used by uvicorn (local), the Lambda handler and the tests."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from mdreader_backend import __version__, health
from mdreader_backend.audit.router import router as audit_router
from mdreader_backend.auth.router import router as auth_router
from mdreader_backend.database import create_engine, make_sessionmaker
from mdreader_backend.documents.router import router as documents_router
from mdreader_backend.email import make_email_sender
from mdreader_backend.errors import install_error_handlers
from mdreader_backend.folders.router import router as folders_router
from mdreader_backend.middleware import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from mdreader_backend.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from mdreader_backend.settings import Settings, get_settings
from mdreader_backend.sharing.router import router as sharing_router
from mdreader_backend.snapshots.router import router as snapshots_router
from mdreader_backend.workspaces.router import router as workspaces_router

# Order matters only within a router (static paths such as /documents/shared-with-me before /{id}).
ROUTERS = [
    health.router,
    auth_router,
    workspaces_router,
    documents_router,
    folders_router,
    sharing_router,
    snapshots_router,
    audit_router,
]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.getLogger("mdreader_backend").setLevel(settings.log_level.upper())
    engine = create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        connect_args=settings.database_connect_args(),
    )
    rate_limiter: RateLimiter = (
        RedisRateLimiter(settings.redis_url) if settings.redis_url else MemoryRateLimiter()
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await rate_limiter.aclose()
        await engine.dispose()

    app = FastAPI(
        title="MDReader API",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.email = make_email_sender(settings)
    app.state.rate_limiter = rate_limiter

    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)

    # Outermost first: CORS answers preflights, then security headers wrap everything, then the body limit.
    app.add_middleware(BodySizeLimitMiddleware, limit=settings.max_request_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware, hsts=not settings.debug)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"],
        allow_headers=["*"],
        expose_headers=["Content-Length", "X-Total-Count"],
        max_age=600,
    )
    return app
