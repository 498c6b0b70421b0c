"""AWS Lambda entry points, one module for both functions of the zip.

- `handler`: the FastAPI app behind API Gateway HTTP API (payload format 2.0). The app is built once per
  execution environment, at import (Lambda's init phase), and reused by every invocation.
- `handle_storage_event`: the files function, fed by S3 ObjectCreated events under `attachments/`
  (`storage_events`). It needs neither the app nor its secrets: when Lambda's `_HANDLER` names it, the
  app is not built (no FastAPI, SQLAlchemy or SECRET_KEY at its cold start).

AWS SDK clients are created lazily by the code that needs them, never at import.
"""

from __future__ import annotations

import gc
import os
from dataclasses import asdict
from typing import Any

STORAGE_HANDLER = f"{__name__}.handle_storage_event"
_asgi_handler: Any = None


def _build_api() -> Any:
    # The init phase creates some hundred thousand objects that live as long as the execution environment
    # (modules, classes, pydantic schemas, routes): garbage collections while importing them find nothing
    # to free (about a tenth of the import time here), and afterwards gc.freeze() keeps them out of every
    # later collection, which then only walks what requests allocate.
    gc.disable()
    try:
        from mangum import Mangum

        from mdreader_backend.main import create_app

        # lifespan="off": the engine connects lazily and lives as long as the execution environment.
        return Mangum(create_app(), lifespan="off", api_gateway_base_path="/")
    finally:
        gc.freeze()
        gc.enable()


if os.environ.get("_HANDLER") != STORAGE_HANDLER:
    _asgi_handler = _build_api()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda handler (configured as `mdreader_backend.lambda_handler.handler`)."""
    global _asgi_handler
    if _asgi_handler is None:  # only when this module was loaded for the files function
        _asgi_handler = _build_api()
    response: dict[str, Any] = _asgi_handler(event, context)
    return response


_storage: tuple[Any, Any] | None = None  # (StorageSettings, S3 client), made on the first event


def reset_storage_handler() -> None:
    """Forget the files function's settings and client (tests change the environment)."""
    global _storage
    _storage = None


def handle_storage_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Files function (configured as `mdreader_backend.lambda_handler.handle_storage_event`): checks every
    new attachment of an S3 event notification; S3 errors raise (Lambda retries, then dead-letters)."""
    global _storage
    from mdreader_backend.storage_events import StorageSettings, process_event

    if _storage is None:
        import boto3

        _storage = (StorageSettings(), boto3.client("s3"))
    settings, client = _storage
    verdicts = process_event(event, client, settings)
    outcomes = [verdict.outcome for verdict in verdicts]
    return {
        "checked": len(verdicts),
        "accepted": outcomes.count("accepted"),
        "rejected": outcomes.count("rejected"),
        "skipped": outcomes.count("skipped"),
        "verdicts": [asdict(verdict) for verdict in verdicts],
    }
