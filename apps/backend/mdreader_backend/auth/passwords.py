"""bcrypt password hashes, computed off the event loop (a hash takes ~0.25 s at the default cost)."""

from __future__ import annotations

import anyio.to_thread
import bcrypt

# bcrypt reads at most 72 bytes; passlib and bcrypt<5 truncated silently, bcrypt 5 raises. Truncating
# explicitly keeps the original's hashes valid.
BCRYPT_MAX_BYTES = 72


def _secret(password: str) -> bytes:
    return password.encode("utf-8")[:BCRYPT_MAX_BYTES]


async def hash_password(password: str, *, rounds: int) -> str:
    salt = bcrypt.gensalt(rounds=rounds)
    hashed = await anyio.to_thread.run_sync(bcrypt.hashpw, _secret(password), salt)
    return hashed.decode("ascii")


async def verify_password(password: str, hashed: str) -> bool:
    try:
        return await anyio.to_thread.run_sync(bcrypt.checkpw, _secret(password), hashed.encode("ascii"))
    except ValueError:
        return False
