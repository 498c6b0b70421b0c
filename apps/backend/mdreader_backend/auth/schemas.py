"""Auth request and response bodies (the client's field names)."""

from __future__ import annotations

import re
import uuid
from typing import Literal

from pydantic import EmailStr, Field, field_validator

from mdreader_backend.schemas import ApiModel, ResponseModel, UtcDatetime

RESERVED_USERNAMES = {"admin", "root", "system", "null", "undefined"}
PASSWORD_SYMBOLS = re.compile(r'[!@#$%^&*(),.?":{}|<>]')


class RegisterRequest(ApiModel):
    email: EmailStr
    username: str = Field(min_length=3, max_length=50, pattern=r"^[a-zA-Z0-9_-]+$")
    password: str = Field(min_length=8, max_length=128)
    full_name: str | None = Field(default=None, max_length=100)

    @field_validator("username")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.lower() in RESERVED_USERNAMES:
            raise ValueError(f"Username '{value}' is reserved")
        return value

    @field_validator("password")
    @classmethod
    def _complex_enough(cls, value: str) -> str:
        missing = [
            label
            for label, ok in (
                ("an uppercase letter", re.search(r"[A-Z]", value)),
                ("a lowercase letter", re.search(r"[a-z]", value)),
                ("a digit", re.search(r"\d", value)),
                ("a special character", PASSWORD_SYMBOLS.search(value)),
            )
            if not ok
        ]
        if missing:
            raise ValueError("Password must contain " + ", ".join(missing))
        return value


class LoginRequest(ApiModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(ApiModel):
    refresh_token: str = Field(min_length=1, max_length=4096)


class UserResponse(ResponseModel):
    id: uuid.UUID
    email: str
    username: str
    full_name: str | None
    avatar_url: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class TokenPair(ResponseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class AuthResponse(TokenPair):
    user: UserResponse
