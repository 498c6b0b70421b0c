"""Build the backend's Lambda deployment zip: Linux arm64 wheels for CPython 3.12 plus mdreader_backend.

    python scripts/build_lambda_zip.py [--output build/lambda/backend.zip]

Dependencies come from requirements/app.txt (hash-pinned) as binary wheels for manylinux2014_aarch64,
installed without bytecode (Lambda compiles for its own Python). The zip is reproducible (sorted entries,
fixed timestamps); its size is printed and checked against Lambda's limits. Needs PyPI; then pass the
zip to synthesis with MDREADER_LAMBDA_ZIP=<path>.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from modules.lambda_package import DeploymentZipError, check_deployment_zip  # noqa: E402

HANDLER_MODULE = "mdreader_backend.lambda_handler"
BACKEND_PACKAGE = ROOT / "apps" / "backend" / "mdreader_backend"
REQUIREMENTS = ROOT / "requirements" / "app.txt"
#: The target of every wheel: what Lambda's python3.12 arm64 runtime (Amazon Linux 2023, glibc 2.34) can
#: import. manylinux_2_28 too, because some projects (e.g. asyncpg 0.32) publish only those aarch64 wheels.
PLATFORM_ARGS = (
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
#: Never shipped: caches, bytecode, and the installers' console scripts.
EXCLUDED_PARTS = {"__pycache__", "bin"}
FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


def install_dependencies(requirements: Path, target: Path) -> None:
    """pip download the wheels for the target platform, then install them offline without bytecode."""
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
            *map(str, sorted(wheels.glob("*.whl"))),
        ],
        check=True,
    )


def included(path: Path, base: Path) -> bool:
    relative = path.relative_to(base)
    return path.is_file() and path.suffix != ".pyc" and not EXCLUDED_PARTS & set(relative.parts)


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


def build(output: Path, *, requirements: Path = REQUIREMENTS, package: Path = BACKEND_PACKAGE) -> str:
    with tempfile.TemporaryDirectory(prefix="mdreader-lambda-") as work:
        site = Path(work) / "site"
        install_dependencies(requirements, site)
        write_zip(output, [(site, ""), (package, f"{package.name}/")])
    return check_deployment_zip(output, handler_module=HANDLER_MODULE).describe()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "lambda" / "backend.zip")
    args = parser.parse_args(argv)
    try:
        print(build(args.output))
    except (DeploymentZipError, subprocess.CalledProcessError) as error:
        print(f"lambda zip: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
