"""Lambda deployment zips: Lambda's size limits and the check both the build script and synth apply.

No CDK import here, so scripts/build_lambda_zip.py can use it without starting the jsii runtime.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

#: Lambda's limits for a zip uploaded directly: 50 MB zipped, 250 MB unzipped (code and layers).
MAX_ZIPPED_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
#: Compiled modules must be for the function's runtime: CPython 3.12 on Linux arm64.
NATIVE_SUFFIX = ".cpython-312-aarch64-linux-gnu.so"


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


def check_deployment_zip(path: Path, *, handler_module: str) -> ZipReport:
    """Raise DeploymentZipError unless the zip fits Lambda's limits, holds the handler's module, and has
    no bytecode and no native extension built for anything but CPython 3.12 on aarch64.
    """
    if not path.is_file():
        raise DeploymentZipError(f"{path} does not exist: build it with scripts/build_lambda_zip.py")
    with zipfile.ZipFile(path) as archive:
        entries = archive.infolist()
    names = [entry.filename for entry in entries]
    report = ZipReport(path, path.stat().st_size, sum(entry.file_size for entry in entries), len(entries))
    problems = []
    if report.zipped_bytes > MAX_ZIPPED_BYTES or report.unzipped_bytes > MAX_UNZIPPED_BYTES:
        problems.append(f"exceeds Lambda's size limits ({report.describe()})")
    if f"{handler_module.replace('.', '/')}.py" not in names:
        problems.append(f"has no {handler_module} module")
    bytecode = [name for name in names if name.endswith(".pyc")]
    if bytecode:
        problems.append(f"carries bytecode, e.g. {bytecode[0]} (Lambda compiles for its own Python)")
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
