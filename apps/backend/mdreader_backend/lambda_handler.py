"""AWS Lambda entry point: the same FastAPI app behind API Gateway HTTP API (payload format 2.0).

The app is built once per execution environment, at import (Lambda's init phase), and reused by every
invocation; AWS SDK clients are created lazily by the code that needs them, never here.
"""

from __future__ import annotations

import gc
from typing import Any

# The init phase creates some hundred thousand objects that live as long as the execution environment
# (modules, classes, pydantic schemas, routes): garbage collections while importing them find nothing to
# free (about a tenth of the import time here), and afterwards gc.freeze() keeps them out of every later
# collection, which then only walks what requests allocate.
gc.disable()
try:
    from mangum import Mangum

    from mdreader_backend.main import create_app

    # lifespan="off": the engine connects lazily and lives as long as the execution environment.
    _asgi_handler = Mangum(create_app(), lifespan="off", api_gateway_base_path="/")
finally:
    gc.freeze()
    gc.enable()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda handler (configured as `mdreader_backend.lambda_handler.handler`)."""
    response: dict[str, Any] = _asgi_handler(event, context)
    return response
