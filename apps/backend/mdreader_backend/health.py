"""Health and root endpoints (no auth): for load balancers, the client's HEAD /api/v1/health, humans."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from mdreader_backend import __version__

router = APIRouter(tags=["health"])


async def health(request: Request) -> JSONResponse:
    try:
        async with request.app.state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse(status_code=503, content={"status": "unhealthy", "database": "down"})
    return JSONResponse(
        {
            "status": "healthy",
            "version": __version__,
            "environment": request.app.state.settings.environment,
            "database": "up",
        }
    )


# /health for load balancers, /api/v1/health for the client's HEAD probe; HEAD shares GET's handler.
for path in ("/health", "/api/v1/health"):
    router.add_api_route(path, health, methods=["GET"])
    router.add_api_route(path, health, methods=["HEAD"], include_in_schema=False)


@router.get("/")
async def root() -> dict[str, str]:
    return {"message": f"Welcome to MDReader API v2 v{__version__}", "docs": "/docs", "health": "/health"}
