"""Error responses: {"detail": ...} everywhere, a JSON-safe 422, never a 500 for bad input."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mdreader_backend.schemas import Detail

logger = logging.getLogger("mdreader_backend")


class ApiError(HTTPException):
    """A domain error with its HTTP status; `detail` may be a string or (restore 409) an object."""

    def __init__(self, status_code: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=headers)


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def forbidden(reason: str) -> ApiError:
    return ApiError(403, reason)


def _json_safe(value: Any) -> Any:
    """pydantic error contexts may hold exceptions or bytes: make them strings."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, str):  # lone surrogates would make the JSON response itself fail to encode
        return value.encode("utf-8", errors="replace").decode("utf-8")
    if isinstance(value, BaseException):
        return str(value)
    return value


def validation_errors(errors: Any) -> list[Any]:
    return list(jsonable_encoder(_json_safe(list(errors))))


async def _validation_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": validation_errors(exc.errors())})


async def _http_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    # Keep the exception's headers (WWW-Authenticate, Retry-After): the original dropped them.
    return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail}, headers=exc.headers)


def _sqlstate(exc: DBAPIError) -> str:
    """The PostgreSQL SQLSTATE behind a driver error (asyncpg keeps it on the wrapped cause)."""
    for error in (exc.orig, getattr(exc.orig, "__cause__", None)):
        state = getattr(error, "sqlstate", None)
        if isinstance(state, str):
            return state
    return ""


async def _database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """SQLSTATE class 22 ("data exception", e.g. a NUL in a query parameter) is bad client input: 422."""
    assert isinstance(exc, DBAPIError)
    if _sqlstate(exc).startswith("22"):
        logger.info("database refused a value: %s", exc.orig)
        error = {
            "type": "value_error",
            "loc": ["request"],
            "msg": "a value the database can't store or compare",
        }
        return JSONResponse(status_code=422, content={"detail": [error]})
    return await _unhandled_handler(request, exc)


async def _unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(status_code=500, content={"detail": "Internal server error"})


def install_error_handlers(app: FastAPI) -> None:
    """The handlers above, and the `Detail` schema that the routes' error responses refer to in OpenAPI."""
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(DBAPIError, _database_error_handler)
    app.add_exception_handler(Exception, _unhandled_handler)
    generate_openapi = app.openapi

    def openapi_with_detail() -> dict[str, Any]:
        document = generate_openapi()  # built once, then cached by FastAPI
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault("Detail", Detail.model_json_schema())
        return document

    app.openapi = openapi_with_detail  # type: ignore[method-assign]
