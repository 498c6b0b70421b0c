"""api layer: the backend Lambda behind the HTTP API and the files Lambda; what Checkov does not pin."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from infra_json import ENVIRONMENTS, Stack, Stacks, reference_to

import environments

SETTINGS = {env: environments.load(env) for env in ENVIRONMENTS}
REMOTE = "data.terraform_remote_state"


def function(stack: Stack, name: str) -> dict[str, Any]:
    (found,) = [f for f in stack.resources("aws_lambda_function").values() if f["function_name"] == name]
    return found


def role_statements(stack: Stack, role_name: str) -> dict[str, dict[str, Any]]:
    roles = stack.resources("aws_iam_role")
    (role_id,) = [key for key, role in roles.items() if role["name"] == role_name]
    (inline,) = [p for p in stack.resources("aws_iam_role_policy").values() if role_id in p["role"]]
    return {s["Sid"]: s for s in json.loads(inline["policy"])["Statement"]}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backend_function_runs_python_312_arm64_in_the_private_subnets_with_xray(
    stacks: Stacks, env: str, synth_dir: Path
) -> None:
    stack = stacks.get(env, "api")
    config = SETTINGS[env].api
    backend = function(stack, f"mdreader-{env}-api")
    assert (backend["runtime"], backend["architectures"]) == ("python3.12", ["arm64"])
    assert backend["handler"] == "mdreader_backend.lambda_handler.handler"
    assert (
        (backend["memory_size"], backend["timeout"])
        == (config.memory_mb, config.timeout_seconds)
        == (1024, 30)
    )
    assert backend["reserved_concurrent_executions"] == config.reserved_concurrency
    assert backend["tracing_config"] == {"mode": "Active"}
    assert reference_to(backend["kms_key_arn"], "aws_kms_key")
    assert backend["logging_config"]["log_format"] == "JSON"
    vpc = backend["vpc_config"]
    assert len(vpc["subnet_ids"]) == SETTINGS[env].network.az_count
    assert all(reference_to(subnet, REMOTE) and "private" in subnet for subnet in vpc["subnet_ids"])
    (group,) = vpc["security_group_ids"]
    assert reference_to(group, REMOTE)
    assert "api-sg" in group


def test_reserved_concurrency_and_throttling_differ_by_environment(stacks: Stacks) -> None:
    caps = {}
    for env in ENVIRONMENTS:
        stack = stacks.get(env, "api")
        stage = stack.only("aws_apigatewayv2_stage")["default_route_settings"]
        caps[env] = (
            function(stack, f"mdreader-{env}-api")["reserved_concurrent_executions"],
            stage["throttling_rate_limit"],
            stage["throttling_burst_limit"],
        )
    assert caps == {"dev": (10, 20, 40), "staging": (25, 50, 100), "prod": (200, 500, 1000)}


def test_code_is_the_built_zip_as_an_asset_with_its_hash(stacks: Stacks, synth_dir: Path) -> None:
    test_zip = Path(os.environ["MDREADER_LAMBDA_ZIP"])
    expected_hash = base64.b64encode(hashlib.sha256(test_zip.read_bytes()).digest()).decode()
    for env in ENVIRONMENTS:
        stack = stacks.get(env, "api")
        for code in stack.resources("aws_lambda_function").values():
            assert code["source_code_hash"] == expected_hash
            assert code["filename"].startswith("assets/")
            asset = synth_dir / "stacks" / stack.name / code["filename"]
            assert asset.read_bytes() == test_zip.read_bytes()


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_carries_secret_arns_never_values(stacks: Stacks, env: str) -> None:
    variables = function(stacks.get(env, "api"), f"mdreader-{env}-api")["environment"]["variables"]
    secret_like = {
        name for name in variables if any(w in name for w in ("SECRET", "PASSWORD", "TOKEN", "AUTH"))
    }
    assert secret_like == {
        "DATABASE_SECRET_ARN",
        "REDIS_AUTH_SECRET_ARN",
        "SECRET_KEY_SECRET_ARN",
        "DATABASE_IAM_AUTH",
    }
    for name in secret_like - {"DATABASE_IAM_AUTH"}:
        assert variables[name].startswith("${"), name
        assert variables[name].endswith("arn}"), name
    assert (
        variables["SECRET_KEY_SECRET_ARN"] == "${aws_secretsmanager_secret.signing-key_secret_489ED2E9.arn}"
    )
    assert not {"DATABASE_URL", "SECRET_KEY", "REDIS_URL", "SMTP_PASSWORD"} & set(variables)
    assert variables["ENVIRONMENT"] == {"dev": "development", "staging": "staging", "prod": "production"}[env]
    assert variables["EMAIL_BACKEND"] == "ses"
    assert (variables["DATABASE_POOL_SIZE"], variables["DATABASE_MAX_OVERFLOW"]) == ("1", "0")
    assert variables["SES_CONFIGURATION_SET"] == f"mdreader-{env}-email"
    proxied = SETTINGS[env].database.rds_proxy_enabled
    assert variables["DATABASE_IAM_AUTH"] == ("true" if proxied else "false")
    assert ("aws_db_proxy" in variables["DATABASE_HOST"]) == proxied


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backend_role_names_its_prefixes_secrets_keys_and_ses_identity(stacks: Stacks, env: str) -> None:
    settings = SETTINGS[env]
    statements = role_statements(stacks.get(env, "api"), f"mdreader-{env}-api")
    expected = {
        "ReadSecrets",
        "DecryptSecrets",
        "StorageObjects",
        "ListStoragePrefixes",
        "StorageKey",
        "SendEmail",
    }
    if settings.database.rds_proxy_enabled:
        expected.add("ConnectThroughProxy")
        connect = statements["ConnectThroughProxy"]
        assert connect["Action"] == "rds-db:connect"
        assert connect["Resource"].startswith(
            f"arn:aws:rds-db:{settings.region}:{settings.account_id}:dbuser:"
        )
    assert set(statements) == expected
    assert len(statements["ReadSecrets"]["Resource"]) == 3
    objects = statements["StorageObjects"]["Resource"]
    assert [resource.rsplit("}", 1)[1] for resource in objects] == ["/attachments/*", "/snapshots/*"]
    assert statements["ListStoragePrefixes"]["Condition"] == {
        "StringLike": {"s3:prefix": ["attachments/*", "snapshots/*"]}
    }
    assert statements["SendEmail"]["Resource"] == [
        f"arn:aws:ses:{settings.region}:{settings.account_id}:identity/{settings.domain_name}",
        f"arn:aws:ses:{settings.region}:{settings.account_id}:configuration-set/mdreader-{env}-email",
    ]
    attachments = stacks.get(env, "api").resources("aws_iam_role_policy_attachment").values()
    assert sorted({a["policy_arn"] for a in attachments}) == [
        "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_http_api_sends_everything_to_the_backend_with_access_logs(stacks: Stacks, env: str) -> None:
    stack = stacks.get(env, "api")
    assert stack.only("aws_apigatewayv2_api")["protocol_type"] == "HTTP"
    integration = stack.only("aws_apigatewayv2_integration")
    assert (integration["integration_type"], integration["payload_format_version"]) == ("AWS_PROXY", "2.0")
    assert integration["timeout_milliseconds"] == 30000
    route = stack.only("aws_apigatewayv2_route")
    assert route["route_key"] == "$default"
    assert reference_to(route["target"].removeprefix("integrations/"), "aws_apigatewayv2_integration")
    stage = stack.only("aws_apigatewayv2_stage")
    assert (stage["name"], stage["auto_deploy"]) == ("$default", True)
    assert reference_to(stage["access_log_settings"]["destination_arn"], "aws_cloudwatch_log_group")
    assert json.loads(stage["access_log_settings"]["format"].replace("$context.", ""))["status"] == "status"
    assert stage["default_route_settings"]["detailed_metrics_enabled"] is True
    permissions = {p["principal"]: p for p in stack.resources("aws_lambda_permission").values()}
    assert permissions["apigateway.amazonaws.com"]["source_arn"].endswith(".execution_arn}/*")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_files_function_is_fed_by_uploads_and_keeps_failures(stacks: Stacks, env: str) -> None:
    stack = stacks.get(env, "api")
    files = function(stack, f"mdreader-{env}-files")
    assert files["handler"] == "mdreader_backend.lambda_handler.handle_storage_event"
    assert files["reserved_concurrent_executions"] == 5
    assert files["tracing_config"] == {"mode": "Active"}
    assert reference_to(files["dead_letter_config"]["target_arn"], "aws_sqs_queue")
    queue = stack.only("aws_sqs_queue")
    assert reference_to(queue["kms_master_key_id"], "aws_kms_key")
    (notification,) = stack.only("aws_s3_bucket_notification")["lambda_function"]
    assert notification["events"] == ["s3:ObjectCreated:*"]
    assert notification["filter_prefix"] == "attachments/"
    permission = next(
        p for p in stack.resources("aws_lambda_permission").values() if p["principal"] == "s3.amazonaws.com"
    )
    assert permission["source_account"] == SETTINGS[env].account_id
    assert reference_to(permission["source_arn"], REMOTE)
    statements = role_statements(stack, f"mdreader-{env}-files")
    assert statements["ReadUploads"]["Action"] == "s3:GetObject"
    (uploads,) = statements["ReadUploads"]["Resource"]
    assert uploads.endswith("}/attachments/*")
    assert set(statements) == {"ReadUploads", "StorageKey", "DeadLetters", "DeadLettersKey"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_api_alarms_follow_the_seed(stacks: Stacks, env: str) -> None:
    alarms = {
        a["alarm_name"]: a for a in stacks.get(env, "api").resources("aws_cloudwatch_metric_alarm").values()
    }
    latency = alarms[f"mdreader-{env}-api-latency"]
    assert (latency["metric_name"], latency["statistic"], latency["threshold"]) == (
        "Latency",
        "Average",
        5000,
    )
    assert (latency["period"], latency["evaluation_periods"]) == (300, 2)
    errors = alarms[f"mdreader-{env}-api-5xx"]
    assert (errors["metric_name"], errors["statistic"], errors["threshold"]) == ("5xx", "Sum", 0)
    for alarm in alarms.values():
        assert alarm["dimensions"]["Stage"] == "$default"
        assert reference_to(alarm["dimensions"]["ApiId"], "aws_apigatewayv2_api")
        (action,) = alarm["alarm_actions"]
        assert reference_to(action, REMOTE)
        assert "aws_sns_topic" in action
    # The monitoring layer's function alarms name these functions.
    monitored = {
        a["dimensions"].get("FunctionName")
        for a in stacks.get(env, "monitoring").resources("aws_cloudwatch_metric_alarm").values()
    }
    functions = {f["function_name"] for f in stacks.get(env, "api").resources("aws_lambda_function").values()}
    assert functions <= monitored
