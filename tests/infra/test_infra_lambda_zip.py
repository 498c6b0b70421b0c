"""The Lambda deployment zip: the limits check that synth and the build script share, the build script's
packaging, and synth refusing to run the api layer without a built zip.

The real build downloads wheels from PyPI: it runs only with MDREADER_BUILD_LAMBDA=1 (never by default).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from infra_harness import ROOT, build_test_zip, offline_env

from modules import lambda_package
from modules.lambda_package import DeploymentZipError, check_deployment_zip

sys.path.insert(0, str(ROOT / "scripts"))
import build_lambda_zip

HANDLER = "mdreader_backend.lambda_handler"


def with_entry(tmp_path: Path, name: str) -> Path:
    path = build_test_zip(tmp_path / "backend.zip")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(name, b"\0")
    return path


def test_the_test_zip_passes_and_is_reported(tmp_path: Path) -> None:
    report = check_deployment_zip(build_test_zip(tmp_path / "backend.zip"), handler_module=HANDLER)
    assert report.files == 2
    assert "MiB zipped (limit 50)" in report.describe()
    assert "MiB unzipped (limit 250)" in report.describe()


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("mdreader_backend/__pycache__/main.cpython-311.pyc", "carries bytecode"),
        ("pydantic_core/_pydantic_core.cpython-312-x86_64-linux-gnu.so", "native code for another platform"),
        ("pydantic_core/_pydantic_core.cpython-311-aarch64-linux-gnu.so", "native code for another platform"),
    ],
)
def test_wrong_python_or_platform_is_rejected(tmp_path: Path, entry: str, problem: str) -> None:
    with pytest.raises(DeploymentZipError, match=problem):
        check_deployment_zip(with_entry(tmp_path, entry), handler_module=HANDLER)


def test_native_code_for_lambdas_python_is_accepted(tmp_path: Path) -> None:
    path = with_entry(tmp_path, "pydantic_core/_pydantic_core.cpython-312-aarch64-linux-gnu.so")
    assert check_deployment_zip(path, handler_module=HANDLER).files == 3


def test_missing_handler_missing_file_and_size_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(DeploymentZipError, match="does not exist"):
        check_deployment_zip(tmp_path / "absent.zip", handler_module=HANDLER)
    path = build_test_zip(tmp_path / "backend.zip")
    with pytest.raises(DeploymentZipError, match=r"has no mdreader_backend\.other"):
        check_deployment_zip(path, handler_module="mdreader_backend.other")
    monkeypatch.setattr(lambda_package, "MAX_UNZIPPED_BYTES", 10)
    with pytest.raises(DeploymentZipError, match="exceeds Lambda's size limits"):
        check_deployment_zip(path, handler_module=HANDLER)


def test_build_script_zips_reproducibly_without_bytecode(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "dep" / "__pycache__").mkdir(parents=True)
    (site / "dep" / "__init__.py").write_text("")
    (site / "dep" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (site / "bin").mkdir()
    (site / "bin" / "tool").write_text("#!/bin/sh")
    package = tmp_path / "mdreader_backend"
    package.mkdir()
    (package / "lambda_handler.py").write_text("def handler(event, context): ...\n")
    (package / "stale.pyc").write_bytes(b"\0")
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    build_lambda_zip.write_zip(first, [(site, ""), (package, "mdreader_backend/")])
    build_lambda_zip.write_zip(second, [(site, ""), (package, "mdreader_backend/")])
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == ["dep/__init__.py", "mdreader_backend/lambda_handler.py"]
    check_deployment_zip(first, handler_module=HANDLER)


def test_build_script_targets_lambdas_platform() -> None:
    assert build_lambda_zip.PLATFORM_ARGS == (
        "--platform",
        "manylinux2014_aarch64",
        "--platform",
        "manylinux_2_28_aarch64",
        "--only-binary=:all:",
        "--python-version",
        "3.12",
        "--implementation",
        "cp",
    )


def test_synth_of_the_api_layer_stops_without_a_built_zip(tmp_path: Path) -> None:
    env = offline_env(tmp_path / "tmp")
    env.pop("MDREADER_LAMBDA_ZIP", None)
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "--outdir",
            str(tmp_path / "out"),
            "--env",
            "dev",
            "--layer",
            "api",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "the api layer needs the backend's deployment zip" in result.stderr
    assert not (tmp_path / "out" / "stacks" / "mdreader-dev-api").exists()


def test_real_build_against_pypi(tmp_path: Path) -> None:
    """Opt-in (MDREADER_BUILD_LAMBDA=1): downloads ~30 MB of wheels; prints the zip's numbers."""
    if os.environ.get("MDREADER_BUILD_LAMBDA") != "1":
        print("SKIP real Lambda build: set MDREADER_BUILD_LAMBDA=1 (needs PyPI)")
        pytest.skip("real Lambda build is opt-in: MDREADER_BUILD_LAMBDA=1")
    output = tmp_path / "backend.zip"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_lambda_zip.py"), "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode and "pypi" in result.stderr.lower() and "connection" in result.stderr.lower():
        print(f"SKIP real Lambda build: PyPI unreachable\n{result.stderr[-500:]}")
        pytest.skip("PyPI is unreachable")
    assert result.returncode == 0, result.stderr
    print(result.stdout)
    check_deployment_zip(output, handler_module=HANDLER)
