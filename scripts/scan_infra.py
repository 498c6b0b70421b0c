"""The Checkov gate over the synthesized stacks: passes only if every check passed.

Checkov's exit code is not trusted (it exits 0 when it could not parse a file and ran nothing), so the
gate reads its JSON report and fails on any failed check, on any parsing error, when no check ran at
all, or when a stack got no check (it was silently skipped). Skips live in .checkov.yaml only.

    .venv/bin/python scripts/scan_infra.py [--outdir cdktf.out] [--synth]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
#: A dead loopback proxy: if Checkov tried to reach any server despite --skip-download, it fails here.
OFFLINE_PROXY = "http://127.0.0.1:9"


@dataclass
class ScanResult:
    passed: int
    failed: int
    parsing_errors: int
    checks_per_stack: Counter[str]
    failures: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def stack_names(outdir: Path) -> list[str]:
    return sorted(path.parent.name for path in (outdir / "stacks").glob("*/cdk.tf.json"))


def count_resources(outdir: Path) -> int:
    total = 0
    for path in (outdir / "stacks").glob("*/cdk.tf.json"):
        resources = json.loads(path.read_text()).get("resource", {})
        total += sum(len(by_name) for by_name in resources.values())
    return total


def run_checkov(outdir: Path, checkov: Path, config: Path) -> list[dict[str, Any]]:
    env = {**os.environ, "HTTPS_PROXY": OFFLINE_PROXY, "HTTP_PROXY": OFFLINE_PROXY, "NO_PROXY": ""}
    completed = subprocess.run(
        [
            str(checkov),
            "--config-file",
            str(config),
            "--directory",
            str(outdir),
            "--framework",
            "terraform_json",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if not completed.stdout.strip():
        raise RuntimeError(
            f"checkov printed no report (exit {completed.returncode}):\n{completed.stderr[-2000:]}"
        )
    report = json.loads(completed.stdout)
    return report if isinstance(report, list) else [report]


def evaluate(reports: list[dict[str, Any]], expected_stacks: list[str]) -> ScanResult:
    """Turn Checkov's report(s) into a verdict that does not depend on its exit code."""
    passed = failed = parsing_errors = 0
    per_stack: Counter[str] = Counter()
    failures: list[str] = []
    for report in reports:
        summary = report.get("summary", {})
        passed += int(summary.get("passed", 0))
        failed += int(summary.get("failed", 0))
        parsing_errors += int(summary.get("parsing_errors", 0))
        results = report.get("results", {})
        for outcome in ("passed_checks", "failed_checks"):
            for check in results.get(outcome, []):
                per_stack[Path(check["file_path"]).parent.name] += 1
        failures += [
            f"{check['check_id']} {check['resource']} in {Path(check['file_path']).parent.name}: "
            f"{check['check_name']}"
            for check in results.get("failed_checks", [])
        ]
    result = ScanResult(passed, failed, parsing_errors, per_stack, failures)
    if failed:
        result.problems.append(f"{failed} failed check(s)")
    if parsing_errors:
        result.problems.append(f"{parsing_errors} parsing error(s): Checkov scanned nothing in those files")
    if passed + failed == 0:
        result.problems.append("no check ran")
    unscanned = [stack for stack in expected_stacks if per_stack[stack] == 0]
    if unscanned:
        result.problems.append(f"no check ran on {', '.join(unscanned)}")
    if not expected_stacks:
        result.problems.append("no synthesized stack found")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outdir", type=Path, default=ROOT / "cdktf.out")
    parser.add_argument("--checkov", type=Path, default=Path(os.environ.get("CHECKOV", DEFAULT_CHECKOV)))
    parser.add_argument("--config", type=Path, default=ROOT / ".checkov.yaml")
    parser.add_argument("--synth", action="store_true", help="run `python main.py` first")
    args = parser.parse_args(argv)
    if args.synth:
        subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "--outdir", str(args.outdir)], check=True, cwd=ROOT
        )
    stacks = stack_names(args.outdir)
    started = time.perf_counter()
    result = evaluate(run_checkov(args.outdir, args.checkov, args.config), stacks)
    elapsed = time.perf_counter() - started
    print(
        f"checkov: {len(stacks)} stacks, {count_resources(args.outdir)} resources, "
        f"{result.passed} passed, {result.failed} failed, {result.parsing_errors} parsing errors, "
        f"{elapsed:.1f} s"
    )
    for failure in result.failures:
        print(f"  FAILED {failure}")
    if not result.ok:
        print(f"scan gate: FAIL ({'; '.join(result.problems)})", file=sys.stderr)
        return 1
    print("scan gate: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
