"""Synthesis and scan benchmark: wall time of `python main.py` for all environments (and each one
alone), then of the Checkov gate, with the number of stacks and resources. Prints numbers only; the
results are recorded in docs/infrastructure.md.

    .venv/bin/python scripts/bench_infra.py [--repeat 3] [--lambda-zip build/lambda/backend.zip]

The api layer packages the backend's deployment zip: pass the one scripts/build_lambda_zip.py built
(or set MDREADER_LAMBDA_ZIP).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from scan_infra import count_resources, stack_names  # noqa: E402

ENVIRONMENTS = ("dev", "staging", "prod")


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (the median is reported)")
    parser.add_argument("--lambda-zip", type=Path, default=os.environ.get("MDREADER_LAMBDA_ZIP"))
    args = parser.parse_args(argv)
    if args.lambda_zip is None:
        print(
            "no deployment zip: build one with scripts/build_lambda_zip.py, pass --lambda-zip",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-infra-") as scratch:
        outdir = Path(scratch) / "cdktf.out"
        env = {
            **os.environ,
            "TMPDIR": scratch,
            "AWS_EC2_METADATA_DISABLED": "true",
            "MDREADER_LAMBDA_ZIP": str(args.lambda_zip),
        }
        synth = [sys.executable, str(ROOT / "main.py"), "--outdir", str(outdir)]

        def median(command: list[str]) -> float:
            return statistics.median(timed(command, env) for _ in range(args.repeat))

        for name in ENVIRONMENTS:
            print(f"synth {name:<8} {median([*synth, '--env', name]):6.1f} s")
        all_environments = median(synth)
        stacks, resources = len(stack_names(outdir)), count_resources(outdir)
        print(
            f"synth all      {all_environments:6.1f} s  ({stacks} stacks, {resources} resources;"
            " target < 20 s)"
        )
        scan = [sys.executable, str(ROOT / "scripts" / "scan_infra.py"), "--outdir", str(outdir)]
        print(f"checkov gate   {median(scan):6.1f} s  ({stacks} stacks, {resources} resources)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
