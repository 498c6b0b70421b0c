"""Per-environment settings: ``environments/<name>.py`` builds one ``EnvironmentSettings``.

``load`` turns a pydantic validation error into ``InvalidSettingsError`` whose message names the
environment and the offending field, which is what stops ``python main.py``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import cast

from pydantic import ValidationError

from environments.settings import EnvironmentSettings

ENVIRONMENT_NAMES = ("dev", "staging", "prod")


class InvalidSettingsError(ValueError):
    """Settings of an environment failed validation; the message names every bad field."""


def describe_errors(environment: str, error: ValidationError) -> str:
    lines = [f"invalid settings in environments/{environment}.py:"]
    for detail in error.errors():
        field = ".".join(str(part) for part in detail["loc"]) or "(settings)"
        lines.append(f"  {field}: {detail['msg']}")
    return "\n".join(lines)


def load(environment: str) -> EnvironmentSettings:
    """Build and validate the settings of one environment."""
    if environment not in ENVIRONMENT_NAMES:
        raise InvalidSettingsError(
            f"unknown environment {environment!r}; expected one of {ENVIRONMENT_NAMES}"
        )
    module = importlib.import_module(f"environments.{environment}")
    build = cast(Callable[[], EnvironmentSettings], module.settings)
    try:
        return build()
    except ValidationError as error:
        raise InvalidSettingsError(describe_errors(environment, error)) from None


__all__ = ["ENVIRONMENT_NAMES", "EnvironmentSettings", "InvalidSettingsError", "load"]
