"""Sync service configuration: the backend's settings (database, secret, Redis) plus the `SYNC_*` ones."""

from __future__ import annotations

import os
import socket
import uuid
from functools import lru_cache
from typing import Literal

from pydantic import Field

from mdreader_backend.settings import Settings

MIB = 1024 * 1024


def _instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class SyncSettings(Settings):
    sync_host: str = "127.0.0.1"
    sync_port: int = Field(default=1234, ge=0, le=65535)
    # With auth off (benchmarks only) any document name is served read-write to anyone.
    sync_require_auth: bool = True
    sync_max_message_bytes: int = Field(default=100 * MIB, ge=1024)
    # Ping period; a missing pong closes with 4408, no document within it closes with 4401.
    sync_timeout_seconds: float = Field(default=30, gt=0)
    sync_debounce_seconds: float = Field(default=2, ge=0)
    sync_max_debounce_seconds: float = Field(default=10, ge=0)
    sync_provisional_ttl_hours: float = Field(default=24, gt=0)
    sync_outbound_queue_frames: int = Field(default=10_000, ge=16)
    sync_preauth_max_bytes: int = Field(default=5 * MIB, ge=1024)
    sync_preauth_max_frames: int = Field(default=1000, ge=1)
    sync_preauth_max_documents: int = Field(default=100, ge=1)
    sync_poll_interval_seconds: float = Field(default=1.0, gt=0)
    sync_presence_interval_seconds: float = Field(default=30, gt=0)
    sync_awareness_timeout_seconds: float = Field(default=30, gt=0)
    sync_shutdown_seconds: float = Field(default=10, gt=0)
    # Locally the service migrates the database at start; on ECS a deploy step does it once instead.
    sync_migrate_on_start: bool = True
    sync_instance_id: str = Field(default_factory=_instance_id, min_length=1, max_length=100)
    # With REDIS_URL set: how long a loading instance waits for the peers holding the document.
    sync_redis_join_timeout_seconds: float = Field(default=1.0, gt=0)
    # CloudWatch Embedded Metric Format lines on stdout (connections, documents); 0 turns them off.
    sync_metrics_interval_seconds: float = Field(default=60, ge=0)
    sync_metrics_namespace: str = "MDReader/Sync"
    sync_log_format: Literal["json", "text"] = "json"


@lru_cache
def get_sync_settings() -> SyncSettings:
    return SyncSettings()
