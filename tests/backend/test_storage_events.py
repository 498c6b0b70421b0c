"""The files Lambda (`lambda_handler.handle_storage_event`): real S3 event notifications, objects in a
moto S3 server on loopback."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus

import pytest

from tests.backend.aws import aws_client, moto_endpoint  # noqa: F401 - fixture

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def s3_event(bucket: str, key: str, size: int, *, name: str = "ObjectCreated:Put") -> dict[str, Any]:
    """Shaped exactly like the S3 event notification Lambda receives (event version 2.1)."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "eu-central-1",
                "eventTime": "2026-12-02T00:00:00.000Z",
                "eventName": name,
                "userIdentity": {"principalId": "AWS:AROAEXAMPLE:mdreader-dev-api"},
                "requestParameters": {"sourceIPAddress": "203.0.113.7"},
                "responseElements": {
                    "x-amz-request-id": "C3D13FE58DE4C810",
                    "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "attachments-created",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": size,
                        "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                        "sequencer": "0055AED6DCD90281E5",
                    },
                },
            }
        ]
    }


@pytest.fixture(scope="module")
def bucket(moto_endpoint: str) -> str:  # noqa: F811
    name = f"mdreader-test-attachments-{uuid.uuid4().hex[:8]}"
    aws_client("s3", moto_endpoint).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    return name


@pytest.fixture
def files(bucket: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setenv("STORAGE_BUCKET", bucket)
    monkeypatch.setenv("STORAGE_TAG_VERDICTS", "true")
    monkeypatch.setenv("MAX_ATTACHMENT_BYTES", "100000")
    module = importlib.import_module("mdreader_backend.lambda_handler")
    module.reset_storage_handler()
    yield module
    module.reset_storage_handler()


def put(endpoint: str, bucket: str, key: str, body: bytes, content_type: str) -> None:
    aws_client("s3", endpoint).put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)


def tags(endpoint: str, bucket: str, key: str) -> dict[str, str]:
    tag_set = aws_client("s3", endpoint).get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    return {tag["Key"]: tag["Value"] for tag in tag_set}


def test_a_matching_image_is_accepted_and_tagged(files: ModuleType, moto_endpoint: str, bucket: str) -> None:  # noqa: F811
    key = "attachments/ws-1/diagram final.png"  # a space: the event carries it URL-encoded as "+"
    put(moto_endpoint, bucket, key, PNG, "image/png")
    result = files.handle_storage_event(s3_event(bucket, key, len(PNG)), None)
    assert result["accepted"] == 1
    assert result["rejected"] == 0
    (verdict,) = result["verdicts"]
    assert verdict["key"] == key
    assert verdict["size"] == len(PNG)
    assert verdict["detected_type"] == "image/png"
    assert tags(moto_endpoint, bucket, key) == {"mdreader-verdict": "accepted"}


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"<html><script>alert(1)</script></html>", "image/png", "declared image/png, content is text/html"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "image/svg+xml", "not allowed"),
        (PNG, "application/pdf", "declared application/pdf, content is image/png"),
        (b"", "text/plain", "empty object"),
        (b"\x00\x01\x02binary", "text/markdown", "declared text/markdown, content is binary"),
        (b"a" * 100_001, "text/plain", "larger than 100000 bytes"),
    ],
)
def test_disallowed_objects_are_rejected_with_a_reason(
    files: ModuleType,
    moto_endpoint: str,  # noqa: F811
    bucket: str,
    body: bytes,
    content_type: str,
    reason: str,
) -> None:
    key = f"attachments/{uuid.uuid4()}"
    put(moto_endpoint, bucket, key, body, content_type)
    result = files.handle_storage_event(s3_event(bucket, key, len(body)), None)
    (verdict,) = result["verdicts"]
    assert verdict["outcome"] == "rejected"
    assert reason in verdict["reason"]
    assert verdict["size"] == len(body)  # from S3, not from the event
    recorded = tags(moto_endpoint, bucket, key)
    assert recorded["mdreader-verdict"] == "rejected"
    assert recorded["mdreader-reason"]


def test_text_and_pdf_are_accepted(files: ModuleType, moto_endpoint: str, bucket: str) -> None:  # noqa: F811
    text = ("# Notes\n\nÜber naïve café " * 400).encode()  # longer than the sniffed prefix, cut mid-character
    put(moto_endpoint, bucket, "attachments/notes.md", text, "text/markdown; charset=utf-8")
    put(moto_endpoint, bucket, "attachments/paper.pdf", PDF, "application/pdf")
    event = s3_event(bucket, "attachments/notes.md", len(text))
    event["Records"] += s3_event(bucket, "attachments/paper.pdf", len(PDF))["Records"]
    result = files.handle_storage_event(event, None)
    assert [v["outcome"] for v in result["verdicts"]] == ["accepted", "accepted"]


def test_what_is_not_a_new_attachment_is_skipped(files: ModuleType, moto_endpoint: str, bucket: str) -> None:  # noqa: F811
    put(moto_endpoint, bucket, "snapshots/a.bin", b"x", "application/octet-stream")
    events = [
        s3_event(bucket, "snapshots/a.bin", 1),
        s3_event("someone-elses-bucket", "attachments/a.png", 1),
        s3_event(bucket, "attachments/gone.png", 10),  # deleted before the function ran
        s3_event(bucket, "attachments/a.png", 1, name="ObjectRemoved:Delete"),
    ]
    for event in events:
        result = files.handle_storage_event(event, None)
        assert result["skipped"] == 1, result
    assert tags(moto_endpoint, bucket, "snapshots/a.bin") == {}


def test_a_malformed_event_is_refused(files: ModuleType) -> None:
    with pytest.raises(ValueError, match="Records"):
        files.handle_storage_event({"detail-type": "Object Created"}, None)


def test_s3_errors_raise_so_lambda_retries(files: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_BUCKET", "missing-bucket-for-retry")
    files.reset_storage_handler()
    with pytest.raises(Exception, match=r"NoSuchBucket|Not Found|404"):
        files.handle_storage_event(s3_event("missing-bucket-for-retry", "attachments/x.png", 1), None)


def test_the_files_function_starts_without_the_web_app_or_its_secrets() -> None:
    """Lambda names the configured handler in _HANDLER: the files function imports neither FastAPI nor
    SQLAlchemy and needs no SECRET_KEY or database, even in production."""
    code = (
        "import sys, mdreader_backend.lambda_handler as m; "
        "print(sorted(n for n in ('fastapi', 'sqlalchemy', 'boto3') if n in sys.modules))"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "DATABASE_URL", "SECRET_KEY_SECRET_ARN"}
    }
    env.update(ENVIRONMENT="production", _HANDLER="mdreader_backend.lambda_handler.handle_storage_event")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout.strip().replace("'", '"')) == []
    # The API function, configured the same way, refuses to start without its secret.
    env["_HANDLER"] = "mdreader_backend.lambda_handler.handler"
    failed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert failed.returncode != 0
    assert "SECRET_KEY" in failed.stderr
