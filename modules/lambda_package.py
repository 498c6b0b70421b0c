"""Lambda deployment zips: Lambda's size limits and the check both the build script and synth apply.

No CDK import here, so scripts/build_lambda_zip.py can use it without starting the jsii runtime.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

#: Lambda's limits for a zip uploaded directly: 50 MB zipped, 250 MB unzipped (code and layers).
MAX_ZIPPED_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
#: The functions' Python. Native modules and bytecode in the zip must be built for it (on Linux arm64).
RUNTIME_PYTHON = "3.12"
LAMBDA_RUNTIME = f"python{RUNTIME_PYTHON}"
NATIVE_SUFFIX = f".cpython-{RUNTIME_PYTHON.replace('.', '')}-aarch64-linux-gnu.so"
BYTECODE_SUFFIX = f".cpython-{RUNTIME_PYTHON.replace('.', '')}.pyc"
#: The flags word of a .pyc header (PEP 552) for "hash-based, never checked against the source": what a
#: read-only /var/task needs. Timestamp-based bytecode would not match the zip's fixed timestamps, and
#: Lambda can't write the recompiled files, so every cold start would compile every module again.
UNCHECKED_HASH_FLAGS = 0b01


class DeploymentZipError(ValueError):
    """The zip is missing, too large, or carries code for another platform or Python."""


@dataclass(frozen=True)
class ZipReport:
    path: Path
    zipped_bytes: int
    unzipped_bytes: int
    files: int

    def describe(self) -> str:
        mib = 1024 * 1024
        return (
            f"{self.path}: {self.files} files, {self.zipped_bytes / mib:.1f} MiB zipped "
            f"(limit {MAX_ZIPPED_BYTES // mib}), {self.unzipped_bytes / mib:.1f} MiB unzipped "
            f"(limit {MAX_UNZIPPED_BYTES // mib})"
        )


def bytecode_name(source: str) -> str:
    """Where the runtime's Python looks for a module's bytecode: a/b.py -> a/__pycache__/b.cpython-312.pyc."""
    folder, _, module = source.rpartition("/")
    return f"{folder}/__pycache__/{module.removesuffix('.py')}{BYTECODE_SUFFIX}".removeprefix("/")


def _header(archive: zipfile.ZipFile, name: str) -> bytes:
    """The first 16 bytes of an entry (a .pyc header), without inflating the rest of it."""
    with archive.open(name) as entry:
        return entry.read(16)


def is_runtime_bytecode(name: str) -> bool:
    return PurePosixPath(name).parent.name == "__pycache__" and name.endswith(BYTECODE_SUFFIX)


def check_deployment_zip(path: Path, *, handler_module: str) -> ZipReport:
    """Raise DeploymentZipError unless the zip fits Lambda's limits, holds the handler's module, carries
    unchecked-hash bytecode for the runtime's Python for every module (and no other bytecode), and no native
    extension built for anything but that Python on aarch64.
    """
    if not path.is_file():
        raise DeploymentZipError(f"{path} does not exist: build it with scripts/build_lambda_zip.py")
    with zipfile.ZipFile(path) as archive:
        entries = archive.infolist()
        names = [entry.filename for entry in entries]
        bytecode = {
            name for name in names if name.endswith(BYTECODE_SUFFIX) and "/__pycache__/" in f"/{name}"
        }
        checked_at_import = sorted(
            name
            for name in bytecode
            if int.from_bytes(_header(archive, name)[4:8], "little") != UNCHECKED_HASH_FLAGS
        )
    report = ZipReport(path, path.stat().st_size, sum(entry.file_size for entry in entries), len(entries))
    problems = []
    if report.zipped_bytes > MAX_ZIPPED_BYTES or report.unzipped_bytes > MAX_UNZIPPED_BYTES:
        problems.append(f"exceeds Lambda's size limits ({report.describe()})")
    handler_source = f"{handler_module.replace('.', '/')}.py"
    if handler_source not in names:
        problems.append(f"has no {handler_module} module")
    foreign_bytecode = [name for name in names if name.endswith(".pyc") and name not in bytecode]
    if foreign_bytecode:
        problems.append(f"carries bytecode for another Python, e.g. {foreign_bytecode[0]}")
    uncompiled = [name for name in names if name.endswith(".py") and bytecode_name(name) not in bytecode]
    if uncompiled:
        problems.append(
            f"has no Python {RUNTIME_PYTHON} bytecode for {len(uncompiled)} modules, e.g. {uncompiled[0]} "
            "(/var/task is read-only: each cold start would compile them again)"
        )
    if checked_at_import:
        problems.append(
            f"carries timestamp-checked bytecode, e.g. {checked_at_import[0]} (needs unchecked-hash)"
        )
    foreign = [
        name
        for name in names
        if name.endswith(".so") and ".cpython-" in name and not name.endswith(NATIVE_SUFFIX)
    ]
    if foreign:
        problems.append(f"carries native code for another platform or Python, e.g. {foreign[0]}")
    if problems:
        raise DeploymentZipError(f"{path} " + "; ".join(problems))
    return report
