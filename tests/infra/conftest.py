"""Fixtures for the infrastructure tests: one synthesis per session and the terraform harness."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The helper modules next to this file (tests/infra has no __init__.py, like a rootdir-less test folder).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from infra_harness import TerraformHarness, build_test_zip, find_provider_mirror, synthesize, unavailable
from infra_json import Stacks


@pytest.fixture(scope="session", autouse=True)
def lambda_zip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A tiny test zip as the api layer's deployment package, for every synthesis of this session."""
    path = build_test_zip(tmp_path_factory.mktemp("lambda") / "backend.zip")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MDREADER_LAMBDA_ZIP", str(path))
        yield path


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All stacks of all environments, synthesized once per session by `python main.py`."""
    base = tmp_path_factory.mktemp("synth")
    return synthesize(base / "cdktf.out", base / "tmp")


@pytest.fixture(scope="session")
def stacks(synth_dir: Path) -> Stacks:
    return Stacks.load(synth_dir)


@pytest.fixture(scope="session")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> TerraformHarness:
    binary = os.environ.get("MDREADER_TERRAFORM") or shutil.which("terraform")
    if not binary:
        unavailable("terraform is not on PATH")
    mirror = find_provider_mirror()
    if mirror is None:
        unavailable("no filesystem mirror with the AWS provider (set MDREADER_TF_PLUGIN_DIR)")
    return TerraformHarness(binary, mirror, tmp_path_factory.mktemp("terraform"))
