"""Checks of new attachments: S3 ObjectCreated events for keys under `attachments/` (the files Lambda).

The API has no upload route yet (the contract lists attachments as never implemented), so objects reach
the prefix only through presigned uploads or operators. Each new object gets a verdict from what S3 holds,
not from what the event or the uploader claims: its real size, its declared Content-Type and the type its
first bytes show (one ranged GetObject, never the whole object). Accepted: not empty, at
most MAX_ATTACHMENT_BYTES, a declared type in ATTACHMENT_CONTENT_TYPES whose content matches it (an
HTML page or SVG script declared as image/png is rejected). The verdict is logged as one JSON line and,
with STORAGE_TAG_VERDICTS=true, written to the object as tags (`mdreader-verdict`, `mdreader-reason`),
which needs s3:PutObjectTagging; the function's role has only s3:GetObject today, so tagging is off by
default. An object deleted before it is checked is skipped; S3 errors raise, so Lambda retries the event
and then hands it to the dead-letter queue.

Imports no part of the web application: the function starts in milliseconds and needs no database or
SECRET_KEY.
"""

from __future__ import annotations

import codecs
import json
import logging
from dataclasses import asdict, dataclass
from typing import Annotated, Any
from urllib.parse import unquote_plus

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

logger = logging.getLogger("mdreader_backend.storage_events")

SNIFF_BYTES = 4096
TEXT_TYPES = frozenset({"text/plain", "text/markdown"})
DEFAULT_CONTENT_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/markdown",
)


class StorageSettings(BaseSettings):
    """What the files function is configured with (environment variables, case-insensitive)."""

    model_config = SettingsConfigDict(extra="ignore")

    storage_bucket: str | None = None
    uploads_prefix: str = "attachments/"
    max_attachment_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    attachment_content_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_CONTENT_TYPES)
    )
    storage_tag_verdicts: bool = False

    @field_validator("attachment_content_types", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip().lower() for item in value.split(",") if item.strip()]
        return value


@dataclass(frozen=True)
class Verdict:
    bucket: str
    key: str
    outcome: str  # "accepted", "rejected" or "skipped"
    reason: str | None = None
    size: int | None = None
    declared_type: str | None = None
    detected_type: str | None = None


def sniff(head: bytes) -> str | None:
    """The type the first bytes show: a few binary signatures, else UTF-8 text without NULs, else None."""
    signatures = (
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
    )
    for magic, content_type in signatures:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if b"\x00" in head:
        return None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a cut character is fine
    except UnicodeDecodeError:
        return None
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<svg", b"<?xml", b"<script")):
        return "text/html"  # markup the browser would run if it were served as such
    return "text/plain"


def judge(size: int, declared: str | None, detected: str | None, settings: StorageSettings) -> str | None:
    """The reason to reject, or None to accept."""
    if size == 0:
        return "empty object"
    if size > settings.max_attachment_bytes:
        return f"larger than {settings.max_attachment_bytes} bytes"
    if not declared or declared not in settings.attachment_content_types:
        return f"content type {declared or '(none)'} is not allowed"
    if declared in TEXT_TYPES:
        if detected != "text/plain":
            return f"declared {declared}, content is {detected or 'binary'}"
    elif detected != declared:
        return f"declared {declared}, content is {detected or 'unrecognized'}"
    return None


def _check(client: Any, bucket: str, key: str, version: str | None, settings: StorageSettings) -> Verdict:
    versioned = {"VersionId": version} if version else {}
    try:
        # One ranged GET gives the first bytes, the real size (Content-Range) and the declared type; its
        # error codes tell a deleted object (skip) from a missing bucket or denied access (raise: retry).
        response = client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{SNIFF_BYTES - 1}", **versioned)
        first = response["Body"].read(SNIFF_BYTES)
        content_range = str(response.get("ContentRange") or "")
        size = int(content_range.rsplit("/", 1)[1]) if "/" in content_range else len(first)
        content_type = response.get("ContentType")
    except client.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in {"NoSuchKey", "NoSuchVersion"}:
            return Verdict(bucket, key, "skipped", "deleted before it was checked")
        if code != "InvalidRange":
            raise
        head = client.head_object(Bucket=bucket, Key=key, **versioned)  # an empty object has no byte 0
        first, size, content_type = b"", int(head["ContentLength"]), head.get("ContentType")
    declared = (content_type or "").split(";", 1)[0].strip().lower() or None
    detected = sniff(first) if first else None
    reason = judge(size, declared, detected, settings)
    verdict = Verdict(
        bucket,
        key,
        "rejected" if reason else "accepted",
        reason,
        size=size,
        declared_type=declared,
        detected_type=detected,
    )
    if settings.storage_tag_verdicts:
        tags = [{"Key": "mdreader-verdict", "Value": verdict.outcome}]
        if reason:
            tags.append({"Key": "mdreader-reason", "Value": _tag_value(reason)})
        client.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": tags}, **versioned)
    return verdict


def _tag_value(text: str) -> str:
    """S3 tag values: at most 256 characters of letters, digits, spaces and + - = . _ : / @."""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-=._:/@")
    return "".join(character if character in allowed else "_" for character in text)[:256]


def process_event(event: dict[str, Any], client: Any, settings: StorageSettings) -> list[Verdict]:
    """One verdict per record of an S3 event notification."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise ValueError("not an S3 event notification (no Records list)")
    verdicts: list[Verdict] = []
    for record in records:
        s3 = record.get("s3", {}) if isinstance(record, dict) else {}
        bucket = str(s3.get("bucket", {}).get("name", ""))
        key = unquote_plus(str(s3.get("object", {}).get("key", "")))  # event keys are URL-encoded
        version = s3.get("object", {}).get("versionId")
        if record.get("eventSource") != "aws:s3" or not str(record.get("eventName", "")).startswith(
            "ObjectCreated:"
        ):
            verdict = Verdict(
                bucket, key, "skipped", f"not an ObjectCreated event: {record.get('eventName')}"
            )
        elif settings.storage_bucket and bucket != settings.storage_bucket:
            verdict = Verdict(bucket, key, "skipped", "not the storage bucket")
        elif not key.startswith(settings.uploads_prefix) or key == settings.uploads_prefix:
            verdict = Verdict(bucket, key, "skipped", f"not under {settings.uploads_prefix}")
        else:
            verdict = _check(client, bucket, key, version, settings)
        logger.info(json.dumps({"attachment_check": asdict(verdict)}))
        verdicts.append(verdict)
    return verdicts
