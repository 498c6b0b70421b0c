"""The Lambda deployment zip: the check that synth and the build script share (limits, platform, bytecode
for the runtime's Python), the build script's packaging and compiling, and synth refusing to run the api
layer without a built zip.

The real build downloads wheels from PyPI: it runs only with MDREADER_BUILD_LAMBDA=1 (never by default).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from infra_harness import ROOT, TEST_BYTECODE, build_test_zip, offline_env

from modules import lambda_package
from modules.lambda_package import DeploymentZipError, check_deployment_zip

sys.path.insert(0, str(ROOT / "scripts"))
import build_lambda_zip

HANDLER = "mdreader_backend.lambda_handler"


def with_entry(tmp_path: Path, name: str, content: bytes = b"\0") -> Path:
    path = build_test_zip(tmp_path / "backend.zip")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(name, content)
    return path


@pytest.fixture
def runtime_is_this_python(monkeypatch: pytest.MonkeyPatch) -> str:
    """Let the interpreter running the tests stand for the runtime's Python (no 3.12 on this machine)."""
    version = "{}.{}".format(*sys.version_info[:2])
    suffix = f".cpython-{version.replace('.', '')}.pyc"
    monkeypatch.setattr(lambda_package, "RUNTIME_PYTHON", version)
    monkeypatch.setattr(lambda_package, "BYTECODE_SUFFIX", suffix)
    return version


def test_the_test_zip_passes_and_is_reported(tmp_path: Path) -> None:
    report = check_deployment_zip(build_test_zip(tmp_path / "backend.zip"), handler_module=HANDLER)
    assert report.files == 4
    assert "MiB zipped (limit 50)" in report.describe()
    assert "MiB unzipped (limit 250)" in report.describe()


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("mdreader_backend/__pycache__/main.cpython-311.pyc", "carries bytecode for another Python"),
        ("mdreader_backend/main.pyc", "carries bytecode for another Python"),
        (
            "mdreader_backend/main.py",
            "has no Python 3.12 bytecode for 1 modules, e.g. mdreader_backend/main.py",
        ),
        ("mdreader_backend/__pycache__/extra.cpython-312.pyc", "timestamp-checked bytecode"),
        ("pydantic_core/_pydantic_core.cpython-312-x86_64-linux-gnu.so", "native code for another platform"),
        ("pydantic_core/_pydantic_core.cpython-311-aarch64-linux-gnu.so", "native code for another platform"),
    ],
)
def test_wrong_python_or_platform_is_rejected(tmp_path: Path, entry: str, problem: str) -> None:
    with pytest.raises(DeploymentZipError, match=problem):
        check_deployment_zip(with_entry(tmp_path, entry), handler_module=HANDLER)


def test_native_code_for_lambdas_python_is_accepted(tmp_path: Path) -> None:
    path = with_entry(tmp_path, "pydantic_core/_pydantic_core.cpython-312-aarch64-linux-gnu.so")
    assert check_deployment_zip(path, handler_module=HANDLER).files == 5


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


def test_build_script_ships_the_runtimes_bytecode_only_and_zips_reproducibly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "dep" / "__pycache__").mkdir(parents=True)
    (site / "dep" / "__init__.py").write_text("")
    (site / "dep" / "__pycache__" / "__init__.cpython-312.pyc").write_bytes(TEST_BYTECODE)
    (site / "dep" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"\0")
    (site / "bin").mkdir()
    (site / "bin" / "tool").write_text("#!/bin/sh")
    package = tmp_path / "mdreader_backend"
    (package / "__pycache__").mkdir(parents=True)
    (package / "lambda_handler.py").write_text("def handler(event, context): ...\n")
    (package / "__pycache__" / "lambda_handler.cpython-312.pyc").write_bytes(b"\0")  # the build's Python
    (package / "stale.pyc").write_bytes(b"\0")
    build_lambda_zip.stage_package(package, site)
    (site / "mdreader_backend" / "__pycache__").mkdir()
    (site / "mdreader_backend" / "__pycache__" / "lambda_handler.cpython-312.pyc").write_bytes(TEST_BYTECODE)
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    build_lambda_zip.write_zip(first, [(site, "")])
    build_lambda_zip.write_zip(second, [(site, "")])
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == [
            "dep/__init__.py",
            "dep/__pycache__/__init__.cpython-312.pyc",
            "mdreader_backend/__pycache__/lambda_handler.cpython-312.pyc",
            "mdreader_backend/lambda_handler.py",
        ]
        assert archive.read("mdreader_backend/__pycache__/lambda_handler.cpython-312.pyc") == TEST_BYTECODE
    check_deployment_zip(first, handler_module=HANDLER)


def test_compiled_zip_runs_its_bytecode_from_a_read_only_task_root(
    tmp_path: Path, runtime_is_this_python: str
) -> None:
    """What Lambda does: unpack to a read-only folder and import. The bytecode is used as it is (unchecked
    hash: the source is not even read), and tracebacks name where the code really is."""
    site = tmp_path / "site"
    (site / "dep").mkdir(parents=True)
    (site / "dep" / "__init__.py").write_text(
        "VALUE = 'compiled'\n\ndef where():\n    return where.__code__.co_filename\n"
    )
    package = tmp_path / "mdreader_backend"
    package.mkdir()
    (package / "lambda_handler.py").write_text("def handler(event, context): ...\n")
    build_lambda_zip.stage_package(package, site)
    build_lambda_zip.compile_bytecode(site, build_lambda_zip.runtime_python(sys.executable))
    output = tmp_path / "backend.zip"
    build_lambda_zip.write_zip(output, [(site, "")])
    assert check_deployment_zip(output, handler_module=HANDLER).files == 4
    task_root = tmp_path / "task"
    with zipfile.ZipFile(output) as archive:
        archive.extractall(task_root)
    (task_root / "dep" / "__init__.py").write_text("raise SystemExit('the source was compiled again')\n")
    for path in task_root.rglob("*"):
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        result = subprocess.run(
            [sys.executable, "-c", "import dep; print(dep.VALUE, dep.where())"],
            env={"PYTHONPATH": str(task_root), "PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        for path in task_root.rglob("*"):
            path.chmod(0o755)
    assert (result.returncode, result.stdout.split()) == (0, ["compiled", f"{task_root}/dep/__init__.py"])


def test_build_needs_the_runtimes_python(
    runtime_is_this_python: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert build_lambda_zip.runtime_python(sys.executable) == sys.executable
    with pytest.raises(build_lambda_zip.BuildError, match=r"needs Python .* --python PATH"):
        build_lambda_zip.runtime_python("/nonexistent/python")
    monkeypatch.setattr(lambda_package, "RUNTIME_PYTHON", "3.12")
    with pytest.raises(build_lambda_zip.BuildError, match=f"is Python {runtime_is_this_python}; the Lambda"):
        build_lambda_zip.runtime_python(sys.executable)


def test_the_zip_leaves_out_the_servers_only_projects() -> None:
    wheels = [
        Path("uvloop-0.23.0-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"),
        Path("PyYAML-6.0.2-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"),
        Path("pydantic_core-2.41.5-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"),
        Path("uvicorn-0.54.0-py3-none-any.whl"),
        Path("python_dotenv-1.2.1-py3-none-any.whl"),
    ]
    assert [wheel.name.split("-")[0] for wheel in build_lambda_zip.wheels_for_lambda(wheels)] == [
        "pydantic_core",
        "python_dotenv",
    ]


def test_the_handler_serves_without_the_projects_the_zip_leaves_out() -> None:
    """Imports of any project in NOT_ON_LAMBDA fail in this process, as they would on Lambda."""
    code = f"""
import importlib.abc, json, sys
LEFT_OUT = {sorted(build_lambda_zip.NOT_ON_LAMBDA)!r} + ["yaml", "_yaml"]
class LeftOut(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in LEFT_OUT:
            raise ImportError(f"{{name}} is not in the Lambda zip")
        return None
sys.meta_path.insert(0, LeftOut())
import mdreader_backend.lambda_handler as module
path = "/api/v1/openapi.json"
http = {{"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7"}}
event = {{"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
          "headers": {{"host": "api.example.com"}}, "isBase64Encoded": False,
          "requestContext": {{"http": http, "stage": "$default"}}}}
response = module.handler(event, None)
print(json.dumps([response["statusCode"], sorted({{m.split(".")[0] for m in sys.modules}} & set(LEFT_OUT))]))
"""
    env = {"SECRET_KEY": "k" * 48, "ENVIRONMENT": "test", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env, cwd="/"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[200, []]"


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
    if shutil.which(f"python{lambda_package.RUNTIME_PYTHON}") is None:
        print(f"SKIP real Lambda build: no python{lambda_package.RUNTIME_PYTHON} to compile the bytecode")
        pytest.skip(f"python{lambda_package.RUNTIME_PYTHON} is not installed")
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
