"""Secret rotation: the backend's signing key on a Secrets Manager schedule (the backend's four-step
handler), the cache AUTH token through Terraform with ElastiCache's ROTATE strategy.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from infra_harness import ROOT
from infra_json import ENVIRONMENTS, Stack, Stacks, reference_to

import environments
from modules.api import SECRET_ROTATION_HANDLER
from modules.app import build_app

SETTINGS = {env: environments.load(env) for env in ENVIRONMENTS}


def rotation_function(stack: Stack) -> dict[str, Any]:
    (function,) = [
        f for f in stack.resources("aws_lambda_function").values() if f["handler"] == SECRET_ROTATION_HANDLER
    ]
    return function


def signing_key_secret(stack: Stack) -> str:
    (key,) = [
        k for k, s in stack.resources("aws_secretsmanager_secret").items() if s["name"].endswith("secret-key")
    ]
    return key


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_signing_key_rotates_on_a_schedule_through_the_backend_handler(stacks: Stacks, env: str) -> None:
    api = stacks.get(env, "api")
    secret = signing_key_secret(api)
    rotation = api.only("aws_secretsmanager_secret_rotation")
    assert rotation["secret_id"] == f"${{aws_secretsmanager_secret.{secret}.arn}}"
    assert rotation["rotation_rules"] == {"automatically_after_days": 30}
    assert SETTINGS[env].api.signing_key_rotation_days == 30
    # The first rotation waits for the schedule, not the deploy that creates it.
    assert rotation["rotate_immediately"] is False
    assert reference_to(rotation["rotation_lambda_arn"], "aws_lambda_function")
    function = rotation_function(api)
    assert function["function_name"] == f"mdreader-{env}-secret-key-rotation"
    assert function["reserved_concurrent_executions"] == 1
    assert function["vpc_config"]["subnet_ids"], "reaches Secrets Manager through the VPC endpoint"
    assert reference_to(function["kms_key_arn"], "aws_kms_key")
    assert function["tracing_config"] == {"mode": "Active"}
    (permission,) = [
        p
        for p in api.resources("aws_lambda_permission").values()
        if p["principal"] == "secretsmanager.amazonaws.com"
    ]
    assert permission["source_arn"] == f"${{aws_secretsmanager_secret.{secret}.arn}}"
    # The backend still reads exactly its three secrets, the signing key's AWSPREVIOUS stage included.
    assert any(
        f"aws_secretsmanager_secret.{secret}.arn" in json.dumps(p["policy"])
        for p in api.resources("aws_iam_role_policy").values()
        if p["name"] == f"mdreader-{env}-api"
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_rotation_role_touches_only_that_secret_and_its_key(stacks: Stacks, env: str) -> None:
    api = stacks.get(env, "api")
    secret = signing_key_secret(api)
    (inline,) = [
        p
        for p in api.resources("aws_iam_role_policy").values()
        if p["name"] == f"mdreader-{env}-secret-key-rotation"
    ]
    statements = {s["Sid"]: s for s in json.loads(inline["policy"])["Statement"]}
    assert set(statements) == {"RotateThisSecret", "SecretKey"}
    assert statements["RotateThisSecret"]["Resource"] == f"${{aws_secretsmanager_secret.{secret}.arn}}"
    assert set(statements["RotateThisSecret"]["Action"]) == {
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
    }
    assert reference_to(statements["SecretKey"]["Resource"], "aws_kms_key")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_signing_key_is_not_read_back_at_plan_time(stacks: Stacks, env: str) -> None:
    """Only the data stack reads a generated secret during plan (the cache token, for auth_token)."""
    assert not stacks.get(env, "api").data("aws_secretsmanager_secret_version")
    assert stacks.get(env, "data").data("aws_secretsmanager_secret_version")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cache_token_rotates_with_the_rotate_strategy(stacks: Stacks, env: str) -> None:
    data = stacks.get(env, "data")
    group = data.only("aws_elasticache_replication_group")
    assert group["auth_token_update_strategy"] == "ROTATE"
    (version,) = data.resources("aws_secretsmanager_secret_version").values()
    assert version["secret_string_wo_version"] == SETTINGS[env].cache.auth_token_version == 1


def test_raising_the_token_version_writes_a_new_token(tmp_path: Path) -> None:
    dev = SETTINGS["dev"]
    settings = dev.model_copy(update={"cache": dev.cache.model_copy(update={"auth_token_version": 2})})
    build_app([settings], ["data"], outdir=str(tmp_path / "out")).synth()
    config = json.loads((tmp_path / "out/stacks/mdreader-dev-data/cdk.tf.json").read_text())
    (version,) = config["resource"]["aws_secretsmanager_secret_version"].values()
    assert version["secret_string_wo_version"] == 2


def test_only_the_cache_token_skips_the_rotation_check_and_says_why() -> None:
    text = (ROOT / ".checkov.yaml").read_text()
    skips = re.findall(r"^\s+- (CKV2_AWS_57:.*)$", text, re.M)
    assert skips == ["CKV2_AWS_57:.*/stacks/mdreader-[a-z]+-data/.*"]
    assert "cache.auth_token_version" in text
