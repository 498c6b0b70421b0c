"""apps/sync/Dockerfile: zero failed Checkov dockerfile checks, non-root, health check, pinned base.

(No Docker engine runs on this machine, so the image itself is not built here.)
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "apps" / "sync" / "Dockerfile"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def test_checkov_finds_no_failed_dockerfile_checks() -> None:
    if not CHECKOV.exists():
        pytest.fail(
            "Checkov is not installed in .venv-checkov: run `bash scripts/setup.sh dev`", pytrace=False
        )
    result = subprocess.run(
        [
            str(CHECKOV),
            "-f",
            str(DOCKERFILE),
            "--framework",
            "dockerfile",
            "--skip-download",
            "-o",
            "json",
            "--compact",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    summary = report["summary"]
    failed = [check["check_id"] for check in report["results"]["failed_checks"]]
    assert failed == []
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 0


def test_image_runs_unprivileged_with_a_health_check() -> None:
    text = DOCKERFILE.read_text()
    final_stage = text.split("\nFROM ")[-1]
    assert re.search(r"^USER 10001:10001$", final_stage, re.MULTILINE)
    assert "HEALTHCHECK" in final_stage
    assert "/health" in final_stage
    assert "PYTHONDONTWRITEBYTECODE=1" in final_stage  # nothing written at run time: read-only root works
    for base in re.findall(r"^FROM (\S+)", text, re.MULTILINE):
        assert ":" in base
        assert not base.endswith(":latest")
