"""Helpers of the infrastructure tests: offline child processes, synthesis, terraform's offline harness.

Nothing here reaches beyond loopback: terraform and Checkov run with a dead loopback proxy, the EC2
metadata lookup disabled, and (for plan only) test credentials injected through an override file that
exists in the test's copy of the stack, never in cdktf.out.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
# main.py, modules/ and environments/ live at the repository root.
sys.path.insert(0, str(ROOT))
from modules.lambda_package import bytecode_name  # noqa: E402

OFFLINE_PROXY = "http://127.0.0.1:9"
REQUIRE_TERRAFORM = os.environ.get("MDREADER_REQUIRE_TERRAFORM") == "1"
#: Where the machine image keeps provider mirrors; MDREADER_TF_PLUGIN_DIR overrides the search.
MIRROR_CANDIDATES = (
    Path("/opt/tf-plugins"),
    Path("/usr/share/terraform/plugins"),
    Path("/usr/local/share/terraform/plugins"),
    Path.home() / ".terraform.d" / "plugins",
    Path.home() / ".local" / "share" / "terraform" / "plugins",
)


def offline_env(tmp: Path) -> dict[str, str]:
    """Environment for child processes: own TMPDIR (jsii unpacks there), no way off loopback."""
    tmp.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "TMPDIR": str(tmp),
        "AWS_EC2_METADATA_DISABLED": "true",
        "CHECKPOINT_DISABLE": "1",
        "HTTPS_PROXY": OFFLINE_PROXY,
        "HTTP_PROXY": OFFLINE_PROXY,
        "https_proxy": OFFLINE_PROXY,
        "http_proxy": OFFLINE_PROXY,
        "NO_PROXY": "",
        "no_proxy": "",
    }


def synthesize(outdir: Path, tmp: Path, *args: str, extra_env: dict[str, str] | None = None) -> Path:
    subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--outdir", str(outdir), *args],
        cwd=ROOT,
        env={**offline_env(tmp), **(extra_env or {})},
        check=True,
        capture_output=True,
        text=True,
    )
    return outdir


#: A stand-in for the backend's deployment zip: the handler module and nothing else (tests never download).
TEST_HANDLER_SOURCE = '''"""Test stand-in for the backend package (never deployed)."""


def handler(event, context):
    return {"statusCode": 503, "body": "test zip"}
'''


#: The header of unchecked-hash bytecode (PEP 552): the api layer checks the zip's layout and these flags.
TEST_BYTECODE = b"\xcb\r\r\n" + (0b01).to_bytes(4, "little") + bytes(8)


def build_test_zip(path: Path) -> Path:
    """A tiny zip with the layout the api layer checks for: mdreader_backend/lambda_handler.py and the
    bytecode of each module for the runtime's Python."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sources = {"mdreader_backend/__init__.py": "", "mdreader_backend/lambda_handler.py": TEST_HANDLER_SOURCE}
    with zipfile.ZipFile(path, "w") as archive:
        for name, source in sources.items():
            archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), source)
            archive.writestr(zipfile.ZipInfo(bytecode_name(name), (1980, 1, 1, 0, 0, 0)), TEST_BYTECODE)
    return path


def unavailable(reason: str) -> NoReturn:
    """Skip with the reason printed, or fail where CI requires terraform (MDREADER_REQUIRE_TERRAFORM=1)."""
    if REQUIRE_TERRAFORM:
        pytest.fail(f"{reason} (MDREADER_REQUIRE_TERRAFORM=1: terraform checks must run)")
    print(f"SKIP terraform checks: {reason}")
    pytest.skip(reason)


def find_provider_mirror() -> Path | None:
    """The root of a filesystem mirror of the AWS provider (<root>/<host>/hashicorp/aws/<version>/...)."""
    override = os.environ.get("MDREADER_TF_PLUGIN_DIR")
    candidates = [Path(override)] if override else list(MIRROR_CANDIDATES)
    for root in candidates:
        binaries = sorted(root.glob("*/hashicorp/aws/*/*/terraform-provider-aws_*"))
        if binaries:
            return root
    return None


class TerraformHarness:
    """terraform with a project CLI config (shared plugin cache of symlinks into the mirror)."""

    def __init__(self, binary: str, mirror: Path, workdir: Path) -> None:
        self.binary = binary
        self.mirror = mirror
        self.workdir = workdir
        cache = workdir / "plugin-cache"
        cache.mkdir(parents=True, exist_ok=True)
        self.cli_config = workdir / "terraformrc"
        self.cli_config.write_text(
            "disable_checkpoint = true\n"
            f'plugin_cache_dir = "{cache}"\n'
            # No lock file is committed; let init reuse the cache without one.
            "plugin_cache_may_break_dependency_lock_file = true\n"
        )
        self.env = {
            **offline_env(workdir / "tmp"),
            "TF_CLI_CONFIG_FILE": str(self.cli_config),
            "TF_IN_AUTOMATION": "1",
        }

    def copy_stack(self, source: Path, name: str) -> Path:
        target = self.workdir / "stacks" / name
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        shutil.copy(source / "cdk.tf.json", target / "cdk.tf.json")
        return target

    def offline_override(self, aliases: tuple[str, ...] = ()) -> dict[str, Any]:
        """Provider settings that keep plan off AWS (for the default provider and every aliased one),
        and local state instead of the S3 backend.
        """
        offline = {
            "access_key": "mdreader-test",
            "secret_key": "mdreader-test",
            "skip_credentials_validation": True,
            "skip_requesting_account_id": True,
            "skip_metadata_api_check": True,
            # Without an account lookup the provider can't verify the allowed account.
            "allowed_account_ids": None,
        }
        return {
            "provider": {"aws": [offline, *({**offline, "alias": alias} for alias in aliases)]},
            "terraform": {"backend": {"local": {}}},
        }

    def write_offline_override(self, stack_dir: Path, remote_states: dict[str, Path] | None = None) -> Path:
        """The offline override, pointing each ``terraform_remote_state`` at a local state file."""
        config = json.loads((stack_dir / "cdk.tf.json").read_text())
        aliases = tuple(p["alias"] for p in config.get("provider", {}).get("aws", []) if "alias" in p)
        override = self.offline_override(aliases)
        if remote_states:
            override["data"] = {
                "terraform_remote_state": {
                    name: {"backend": "local", "config": {"path": str(path)}}
                    for name, path in remote_states.items()
                }
            }
        path = stack_dir / "offline_override.tf.json"
        path.write_text(json.dumps(override, indent=2))
        return path


#: Stand-ins for producer outputs, by the resource type and attribute each output refers to.
FAKE_VALUES: dict[tuple[str, str], str | list[str]] = {
    ("aws_vpc", "id"): "vpc-0123456789abcdef0",
    ("aws_subnet", "id"): "subnet-0123456789abcdef0",
    ("aws_security_group", "id"): "sg-0123456789abcdef0",
    ("aws_kms_key", "arn"): "arn:aws:kms:{region}:{account}:key/11111111-2222-3333-4444-555555555555",
    ("aws_db_instance", "arn"): "arn:aws:rds:{region}:{account}:db:mdreader-offline",
    ("aws_db_instance", "address"): "mdreader-offline.abcdefghijkl.{region}.rds.amazonaws.com",
    ("aws_db_instance", "db_name"): "mdreader",
    ("aws_db_instance", "username"): "mdreader_admin",
    ("aws_db_instance", "master_user_secret[0].secret_arn"): (
        "arn:aws:secretsmanager:{region}:{account}:secret:rds!db-offline-AbCdEf"
    ),
    ("aws_db_proxy", "endpoint"): "mdreader-offline.proxy-abcdefghijkl.{region}.rds.amazonaws.com",
    ("aws_elasticache_replication_group", "primary_endpoint_address"): (
        "master.mdreader-offline.abcdef.euc1.cache.amazonaws.com"
    ),
    ("aws_s3_bucket", "arn"): "arn:aws:s3:::mdreader-offline",
    ("aws_s3_bucket", "bucket"): "mdreader-offline",
    ("aws_s3_bucket", "id"): "mdreader-offline",
    ("aws_secretsmanager_secret", "arn"): "arn:aws:secretsmanager:{region}:{account}:secret:offline-AbCdEf",
    ("aws_sns_topic", "arn"): "arn:aws:sns:{region}:{account}:mdreader-offline",
    ("aws_apigatewayv2_api", "id"): "a1b2c3d4e5",
    ("aws_ses_domain_dkim", "dkim_tokens"): ["dkimtokenone", "dkimtokentwo", "dkimtokenthree"],
    ("aws_route53_zone", "zone_id"): "Z0123456789ABCDEFGHIJ",
}


def producer_state(producer: dict[str, Any], region: str, account_id: str) -> dict[str, Any]:
    """A local state file with a syntactically valid value for every output a producer stack declares."""
    outputs: dict[str, Any] = {}
    for name, output in producer.get("output", {}).items():
        resource_type, _, attribute = output["value"].removeprefix("${").removesuffix("}").split(".", 2)
        fake = FAKE_VALUES[(resource_type, attribute)]
        if isinstance(fake, list):
            outputs[name] = {"value": fake, "type": ["list", "string"]}
        else:
            outputs[name] = {"value": fake.format(region=region, account=account_id), "type": "string"}
    return {
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": 1,
        "lineage": "mdreader-offline-plan",
        "outputs": outputs,
        "resources": [],
    }
