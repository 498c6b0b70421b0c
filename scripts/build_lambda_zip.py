"""Build the backend's Lambda deployment zip: Linux arm64 wheels for Lambda's CPython plus mdreader_backend,
with their bytecode compiled by that same Python.

    python scripts/build_lambda_zip.py [--output build/lambda/backend.zip] [--python python3.12]

Dependencies come from requirements/app.txt (hash-pinned) as binary wheels for manylinux2014_aarch64.
Lambda's /var/task is read-only, so Python can't cache the bytecode it compiles there: without bytecode in
the zip every cold start compiles every module again (1.8 s instead of 0.7 s for the handler's import,
measured here with 3.11). So the zip carries `__pycache__/*.cpython-312.pyc`, compiled by a Python 3.12
(`--python`, default `python3.12` on PATH) as unchecked-hash bytecode (valid whatever the files' times).
The zip is reproducible (sorted entries, fixed timestamps); its size is printed and checked against
Lambda's limits. Needs PyPI; then pass the zip to synthesis with MDREADER_LAMBDA_ZIP=<path>.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from modules import lambda_package  # noqa: E402
from modules.lambda_package import (  # noqa: E402
    RUNTIME_PYTHON,
    DeploymentZipError,
    check_deployment_zip,
    is_runtime_bytecode,
)

HANDLER_MODULE = "mdreader_backend.lambda_handler"
BACKEND_PACKAGE = ROOT / "apps" / "backend" / "mdreader_backend"
REQUIREMENTS = ROOT / "requirements" / "app.txt"
#: The target of every wheel: what Lambda's arm64 runtime (Amazon Linux 2023, glibc 2.34) can import.
#: manylinux_2_28 too, because some projects (e.g. asyncpg 0.32) publish only those aarch64 wheels.
PLATFORM_ARGS = (
    "--platform",
    "manylinux2014_aarch64",
    "--platform",
    "manylinux_2_28_aarch64",
    "--only-binary=:all:",
    "--python-version",
    RUNTIME_PYTHON,
    "--implementation",
    "cp",
)
#: requirements/app.txt serves both apps; these projects only serve HTTP/WebSockets themselves (uvicorn
#: and its extras, the sync service's websockets and uvloop). On Lambda mangum drives the app, so they
#: would only take zip space (uvloop alone ~14 MB unzipped).
NOT_ON_LAMBDA = frozenset({"uvicorn", "uvloop", "httptools", "watchfiles", "websockets", "pyyaml"})
#: Never shipped: the installers' console scripts.
EXCLUDED_PARTS = {"bin"}
FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
#: Where Lambda unpacks the zip: the source paths written into the bytecode instead of the build's temporary
#: folder (Python replaces them with the real location at import; this keeps the bytecode reproducible).
TASK_ROOT = "/var/task"


class BuildError(RuntimeError):
    """The build can't run here (no Python of the runtime's version) or a step failed."""


def project_name(wheel: Path) -> str:
    """The normalized project name of a wheel file (PEP 427/503): PyYAML-6.0.2-... -> pyyaml."""
    return re.sub(r"[-_.]+", "-", wheel.name.split("-", 1)[0]).lower()


def wheels_for_lambda(wheels: Iterable[Path]) -> list[Path]:
    return sorted(wheel for wheel in wheels if project_name(wheel) not in NOT_ON_LAMBDA)


def install_dependencies(requirements: Path, target: Path) -> None:
    """pip download the wheels for the target platform, then install those Lambda needs offline without
    bytecode."""
    wheels = target.parent / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "download", "--require-hashes", "-r", str(requirements), "-d", str(wheels), *PLATFORM_ARGS],
        check=True,
    )
    subprocess.run(
        [
            *pip,
            "install",
            "--no-index",
            "--find-links",
            str(wheels),
            "--no-deps",
            "--no-compile",
            "--target",
            str(target),
            *PLATFORM_ARGS,
            *map(str, wheels_for_lambda(wheels.glob("*.whl"))),
        ],
        check=True,
    )


def runtime_python(candidate: str | None) -> str:
    """The interpreter that compiles the bytecode: it must be the runtime's Python version."""
    runtime = lambda_package.RUNTIME_PYTHON
    executable = shutil.which(candidate or f"python{runtime}")
    if executable is None:
        raise BuildError(
            f"needs Python {runtime} (the Lambda runtime's) to compile the zip's bytecode: install "
            f"python{runtime} or pass --python PATH (without bytecode every cold start compiles "
            "every module again)"
        )
    version = subprocess.run(
        [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if version != runtime:
        raise BuildError(f"{executable} is Python {version}; the Lambda runtime is Python {runtime}")
    return executable


def compile_bytecode(tree: Path, python: str) -> None:
    """Compile every module under `tree` as unchecked-hash bytecode with /var/task paths (see above)."""
    subprocess.run(
        [
            python,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(tree),
            "-p",
            TASK_ROOT,
            str(tree),
        ],
        check=True,
    )


def included(path: Path, base: Path) -> bool:
    """Files to ship: sources, data, and bytecode for the runtime's Python only (never a stale cache)."""
    relative = path.relative_to(base)
    if not path.is_file() or EXCLUDED_PARTS & set(relative.parts):
        return False
    if path.suffix == ".pyc":
        return is_runtime_bytecode(relative.as_posix())
    return True


def write_zip(output: Path, trees: Iterable[tuple[Path, str]]) -> None:
    """Zip each (directory, prefix in the zip) with sorted entries and fixed timestamps."""
    output.parent.mkdir(parents=True, exist_ok=True)
    entries = sorted(
        (f"{prefix}{path.relative_to(base).as_posix()}", path)
        for base, prefix in trees
        for path in base.rglob("*")
        if included(path, base)
    )
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in entries:
            info = zipfile.ZipInfo(name, FIXED_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())


def stage_package(package: Path, site: Path) -> None:
    """Copy our package next to the dependencies, without the bytecode of the Python that runs the build."""
    shutil.copytree(package, site / package.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def build(
    output: Path,
    *,
    python: str | None = None,
    requirements: Path = REQUIREMENTS,
    package: Path = BACKEND_PACKAGE,
) -> str:
    compiler = runtime_python(python)  # before the download: fail fast
    with tempfile.TemporaryDirectory(prefix="mdreader-lambda-") as work:
        site = Path(work) / "site"
        print(
            f"downloading and installing the wheels for Python {RUNTIME_PYTHON} on Linux arm64 ...",
            flush=True,
        )
        install_dependencies(requirements, site)
        stage_package(package, site)
        print(f"compiling the bytecode with {compiler} ...", flush=True)
        compile_bytecode(site, compiler)
        write_zip(output, [(site, "")])
    return check_deployment_zip(output, handler_module=HANDLER_MODULE).describe()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "lambda" / "backend.zip")
    parser.add_argument(
        "--python",
        help=f"the Python {RUNTIME_PYTHON} that compiles the bytecode (default: python{RUNTIME_PYTHON})",
    )
    args = parser.parse_args(argv)
    try:
        print(build(args.output, python=args.python))
    except (BuildError, DeploymentZipError, subprocess.CalledProcessError) as error:
        print(f"lambda zip: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
