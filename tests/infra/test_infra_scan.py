"""The Checkov gate (scripts/scan_infra.py): zero failed checks in all environments, and it fails on
the ways Checkov can report success without having checked anything.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from infra_harness import ROOT, offline_env
from infra_json import ENVIRONMENTS, LAYERS

sys.path.insert(0, str(ROOT / "scripts"))
import scan_infra

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def run_gate(outdir: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `bash scripts/setup.sh dev`")
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "scan_infra.py"), "--outdir", str(outdir)],
        cwd=ROOT,
        env=offline_env(tmp),
        capture_output=True,
        text=True,
        check=False,
    )


def test_all_environments_pass_with_zero_failed_checks(synth_dir: Path, tmp_path: Path) -> None:
    result = run_gate(synth_dir, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    stack_count = len(list((synth_dir / "stacks").iterdir()))
    summary = re.search(
        rf"checkov: {stack_count} stacks, (\d+) resources, (\d+) passed, 0 failed, 0 parsing errors",
        result.stdout,
    )
    assert summary, result.stdout
    assert stack_count == len(ENVIRONMENTS) * len(LAYERS)
    assert int(summary.group(1)) > 400
    assert int(summary.group(2)) > 800
    assert "scan gate: OK" in result.stdout


def test_gate_fails_when_checkov_silently_parses_nothing(synth_dir: Path, tmp_path: Path) -> None:
    """`terraform.required_version` makes Checkov report a parsing error, run nothing and exit 0."""
    outdir = tmp_path / "cdktf.out"
    shutil.copytree(synth_dir / "stacks" / "mdreader-dev-storage", outdir / "stacks" / "mdreader-dev-storage")
    path = outdir / "stacks" / "mdreader-dev-storage" / "cdk.tf.json"
    config = json.loads(path.read_text())
    config["terraform"]["required_version"] = ">= 1.11"
    path.write_text(json.dumps(config))
    result = run_gate(outdir, tmp_path / "tmp")
    assert result.returncode == 1
    assert "parsing error" in result.stderr or "no check ran" in result.stderr


def test_gate_fails_on_a_failed_check(synth_dir: Path, tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    shutil.copytree(
        synth_dir / "stacks" / "mdreader-prod-monitoring", outdir / "stacks" / "mdreader-prod-monitoring"
    )
    path = outdir / "stacks" / "mdreader-prod-monitoring" / "cdk.tf.json"
    config = json.loads(path.read_text())
    for key in config["resource"]["aws_kms_key"].values():
        key["enable_key_rotation"] = False
    path.write_text(json.dumps(config))
    result = run_gate(outdir, tmp_path / "tmp")
    assert result.returncode == 1
    assert "FAILED CKV_AWS_7" in result.stdout


def report(passed: int, failed: int, parsing_errors: int, stacks: list[str]) -> list[dict[str, Any]]:
    check = {"check_id": "CKV_AWS_7", "check_name": "rotation", "resource": "aws_kms_key.k"}
    return [
        {
            "summary": {
                "passed": passed,
                "failed": failed,
                "parsing_errors": parsing_errors,
                "resource_count": 0,
            },
            "results": {
                "passed_checks": [{**check, "file_path": f"/stacks/{stack}/cdk.tf.json"} for stack in stacks][
                    :passed
                ],
                "failed_checks": [{**check, "file_path": f"/stacks/{stacks[0]}/cdk.tf.json"}] * failed,
            },
        }
    ]


@pytest.mark.parametrize(
    ("passed", "failed", "parsing_errors", "scanned", "problem"),
    [
        (2, 0, 0, ["a", "b"], None),
        (2, 1, 0, ["a", "b"], "1 failed check(s)"),
        (2, 0, 1, ["a", "b"], "1 parsing error(s)"),
        (0, 0, 0, [], "no check ran"),
        (1, 0, 0, ["a"], "no check ran on b"),
    ],
)
def test_verdict_does_not_trust_the_exit_code(
    passed: int, failed: int, parsing_errors: int, scanned: list[str], problem: str | None
) -> None:
    result = scan_infra.evaluate(report(passed, failed, parsing_errors, scanned or ["a"]), ["a", "b"])
    if problem is None:
        assert result.ok
    else:
        assert not result.ok
        assert any(problem in found for found in result.problems), result.problems


def test_every_skip_has_a_reason_and_is_scoped_to_stacks() -> None:
    lines = (ROOT / ".checkov.yaml").read_text().splitlines()
    skips = [(index, line.strip()) for index, line in enumerate(lines) if re.match(r"\s+- CKV", line)]
    assert skips
    for index, entry in skips:
        check, _, scope = entry.removeprefix("- ").partition(":")
        assert re.fullmatch(r"CKV2?_AWS_\d+", check), entry
        assert scope.startswith(".*/stacks/mdreader-"), f"{check} is not scoped to stacks"
        assert lines[index - 1].strip().startswith("#"), f"{check} has no reason above it"
