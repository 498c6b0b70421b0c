"""Fixed-window rate limiting for the auth endpoints: Redis when configured, in-process otherwise."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from fastapi import Request

if TYPE_CHECKING:  # redis is imported on the first rate-limited request (cold-start cost)
    from redis.asyncio import Redis

from mdreader_backend.errors import ApiError


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int


class RateLimiter(Protocol):
    async def hit(self, key: str, *, limit: int, window: int) -> Verdict: ...

    async def aclose(self) -> None: ...


class MemoryRateLimiter:
    """Per-process counters; good for one process (local runs, tests). Lambda instances each count alone."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[int, int]] = {}

    async def hit(self, key: str, *, limit: int, window: int) -> Verdict:
        now = self._clock()
        bucket = int(now // window)
        current_bucket, count = self._windows.get(key, (bucket, 0))
        if current_bucket != bucket:
            count = 0
        count += 1
        self._windows[key] = (bucket, count)
        if len(self._windows) > 100_000:  # bound memory under a flood of distinct keys
            self._windows = {k: v for k, v in self._windows.items() if v[0] == bucket}
        retry_after = max(1, int((bucket + 1) * window - now))
        return Verdict(allowed=count <= limit, retry_after=retry_after)

    async def aclose(self) -> None:
        """Nothing to release."""


class RedisRateLimiter:
    """Shared counters (INCR + EXPIRE in one round trip) so every instance enforces one limit.

    The client (and the redis package, ~60 ms to import) is made on the first rate-limited request: only
    the auth endpoints count, so a Lambda environment serving documents never loads it.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._redis: Redis | None = None

    @property
    def client(self) -> Redis:
        if self._redis is None:
            from redis.asyncio import Redis

            self._redis = Redis.from_url(self._url)
        return self._redis

    async def hit(self, key: str, *, limit: int, window: int) -> Verdict:
        bucket = int(time.time() // window)
        redis_key = f"mdreader:ratelimit:{key}:{bucket}"
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(redis_key)
            pipe.expire(redis_key, window + 1)
            count, _ = await pipe.execute()
        retry_after = max(1, int((bucket + 1) * window - time.time()))
        return Verdict(allowed=int(count) <= limit, retry_after=retry_after)

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limit_auth_requests(scope: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency: counts the request against `scope` for its client address; 429 when over."""

    async def dependency(request: Request) -> None:
        settings = request.app.state.settings
        limiter: RateLimiter = request.app.state.rate_limiter
        verdict = await limiter.hit(
            f"{scope}:{client_address(request)}",
            limit=settings.rate_limit_auth_requests,
            window=settings.rate_limit_auth_window_seconds,
        )
        if not verdict.allowed:
            raise ApiError(
                429, "Too many requests, try again later", {"Retry-After": str(verdict.retry_after)}
            )

    return dependency
