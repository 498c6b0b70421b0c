"""The path users take: `cdktn synth` (cdktn-cli from npm on Node 22) reads our cdktf.json and produces
exactly the stacks `python main.py` produces.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from infra_harness import ROOT, offline_env
from infra_json import ENVIRONMENTS, LAYERS

CDKTN = ROOT / ".local" / "tools" / "bin" / "cdktn"


@pytest.fixture(scope="session")
def cdktn_cli(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pinned CLI, installed by scripts/setup_infra_tools.sh (a no-op once installed)."""
    if shutil.which("npm") is None:
        print("SKIP cdktn CLI test: npm is not installed")
        pytest.skip("npm is not installed (needed to install cdktn-cli and Node 22)")
    # npm must reach its registry here, so this one step runs without the loopback proxy.
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup_infra_tools.sh")], cwd=ROOT, check=True, capture_output=True
    )
    return CDKTN


def test_cli_synth_reads_cdktf_json_and_matches_python_main(
    cdktn_cli: Path, synth_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cdktf_json = json.loads((ROOT / "cdktf.json").read_text())
    assert cdktf_json["app"] == ".venv/bin/python main.py"
    assert cdktf_json["targetVersions"] == {"terraform": ">=1.11.0"}

    base = tmp_path_factory.mktemp("cli")
    outdir = base / "cdktf.out"
    result = subprocess.run(
        [str(cdktn_cli), "synth", "--output", str(outdir)],
        cwd=ROOT,
        env=offline_env(base / "tmp"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    cli_stacks = sorted(path.parent.name for path in outdir.glob("stacks/*/cdk.tf.json"))
    python_stacks = sorted(path.parent.name for path in synth_dir.glob("stacks/*/cdk.tf.json"))
    assert cli_stacks == python_stacks
    assert len(cli_stacks) == len(ENVIRONMENTS) * len(LAYERS)
    for name in cli_stacks:
        cli = json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text())
        assert cli == json.loads((synth_dir / "stacks" / name / "cdk.tf.json").read_text()), name
        # The CLI replaces the app context with cdktf.json's; use_lockfile needs its targetVersions.
        if not name.endswith("-bootstrap"):
            assert cli["terraform"]["backend"]["s3"]["use_lockfile"] is True
    manifest = json.loads((outdir / "manifest.json").read_text())
    assert manifest["stacks"]["mdreader-prod-backup"]["dependencies"] == [
        "mdreader-prod-data",
        "mdreader-prod-storage",
    ]
