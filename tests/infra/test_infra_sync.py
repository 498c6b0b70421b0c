"""sync layer: ECR, ECS on Fargate, the CloudFront-only ALB with its WAF, autoscaling and alarms."""

from __future__ import annotations

import json
from typing import Any

import pytest
from infra_json import ENVIRONMENTS, Stack, Stacks, reference_to

import environments

SETTINGS = {env: environments.load(env) for env in ENVIRONMENTS}
REMOTE = "data.terraform_remote_state"


def container(stack: Stack) -> dict[str, Any]:
    (definition,) = json.loads(stack.only("aws_ecs_task_definition")["container_definitions"])
    return dict(definition)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_repository_is_immutable_scanned_and_encrypted(stacks: Stacks, env: str) -> None:
    sync = stacks.get(env, "sync")
    repository = sync.only("aws_ecr_repository")
    assert repository["image_tag_mutability"] == "IMMUTABLE"
    assert repository["image_scanning_configuration"] == {"scan_on_push": True}
    (encryption,) = repository["encryption_configuration"]
    assert encryption["encryption_type"] == "KMS"
    assert reference_to(encryption["kms_key"], "aws_kms_key")
    assert not sync.resources("aws_ecr_repository_policy")
    (rule,) = json.loads(sync.only("aws_ecr_lifecycle_policy")["policy"])["rules"]
    assert rule["selection"]["countNumber"] == 30
    assert "sync_image_tag" in sync.config["variable"]
    assert "default" not in sync.config["variable"]["sync_image_tag"], "a deploy must name the image tag"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cluster_has_container_insights_and_encrypted_exec_logging(stacks: Stacks, env: str) -> None:
    cluster = stacks.get(env, "sync").only("aws_ecs_cluster")
    assert cluster["setting"] == [{"name": "containerInsights", "value": "enabled"}]
    execute = cluster["configuration"]["execute_command_configuration"]
    assert execute["logging"] == "OVERRIDE"
    assert reference_to(execute["kms_key_id"], "aws_kms_key")
    assert execute["log_configuration"]["cloud_watch_encryption_enabled"] is True


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_task_is_arm64_read_only_non_root_with_secrets_from_secrets_manager(stacks: Stacks, env: str) -> None:
    sync = stacks.get(env, "sync")
    task = sync.only("aws_ecs_task_definition")
    assert (task["cpu"], task["memory"]) == ("512", "1024")
    assert task["runtime_platform"] == {"operating_system_family": "LINUX", "cpu_architecture": "ARM64"}
    assert task["requires_compatibilities"] == ["FARGATE"]
    assert task["network_mode"] == "awsvpc"
    assert task["execution_role_arn"] != task["task_role_arn"]
    definition = container(sync)
    assert definition["readonlyRootFilesystem"] is True
    assert definition["privileged"] is False
    assert definition["user"] == "10001:10001"
    assert definition["portMappings"] == [{"containerPort": 1234, "protocol": "tcp"}]
    assert definition["stopTimeout"] == 60
    assert definition["image"].endswith(":${var.sync_image_tag}")
    secrets = {s["name"]: s["valueFrom"] for s in definition["secrets"]}
    assert set(secrets) == {"DATABASE_PASSWORD", "REDIS_AUTH_TOKEN"}
    assert secrets["DATABASE_PASSWORD"].endswith("secret_arn}:password::")
    assert all(reference_to(value, REMOTE) for value in secrets.values())
    environment = {e["name"]: e["value"] for e in definition["environment"]}
    # Secret values never: the only secret-named variable is an ARN the service resolves itself.
    secret_named = {name for name in environment for word in ("PASSWORD", "SECRET", "TOKEN") if word in name}
    assert secret_named == {"SECRET_KEY_SECRET_ARN"}
    assert environment["SYNC_PORT"] == "1234"
    assert environment["SYNC_MIGRATE_ON_START"] == "false"
    assert "aws_db_instance" in environment["DATABASE_HOST"], "the proxy admits only the api tier"
    options = definition["logConfiguration"]["options"]
    assert reference_to(options["awslogs-group"], "aws_cloudwatch_log_group")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_execution_role_reads_the_two_secrets_and_the_task_role_only_the_signing_key(
    stacks: Stacks, env: str
) -> None:
    sync = stacks.get(env, "sync")
    roles = {role["name"]: key for key, role in sync.resources("aws_iam_role").items()}
    assert set(roles) == {f"mdreader-{env}-sync-execution", f"mdreader-{env}-sync-task"}
    policies = {
        next(name for name, key in roles.items() if key in inline["role"]): json.loads(inline["policy"])
        for inline in sync.resources("aws_iam_role_policy").values()
    }
    execution = {s["Sid"]: s for s in policies[f"mdreader-{env}-sync-execution"]["Statement"]}
    assert len(execution["ReadSecrets"]["Resource"]) == 2
    task = {s["Sid"]: s for s in policies[f"mdreader-{env}-sync-task"]["Statement"]}
    assert set(task) == {"ReadSigningKey", "DecryptSigningKey"}
    assert task["ReadSigningKey"]["Action"] == "secretsmanager:GetSecretValue"
    assert f"mdreader-{env}-api.outputs" in task["ReadSigningKey"]["Resource"]
    assert "signing-key_secret" in task["ReadSigningKey"]["Resource"]
    assert task["DecryptSigningKey"]["Action"] == "kms:Decrypt"
    (definition,) = json.loads(sync.only("aws_ecs_task_definition")["container_definitions"])
    environment = {item["name"]: item["value"] for item in definition["environment"]}
    assert environment["SECRET_KEY_SECRET_ARN"] == task["ReadSigningKey"]["Resource"]
    assert "SECRET_KEY" not in {item["name"] for item in definition["secrets"]}
    (attachment,) = sync.resources("aws_iam_role_policy_attachment").values()
    assert attachment["policy_arn"].endswith("/AmazonECSTaskExecutionRolePolicy")


def test_service_counts_deployment_and_autoscaling_follow_the_settings(stacks: Stacks) -> None:
    counts = {}
    for env in ENVIRONMENTS:
        sync = stacks.get(env, "sync")
        service = sync.only("aws_ecs_service")
        assert (service["deployment_maximum_percent"], service["deployment_minimum_healthy_percent"]) == (
            200,
            50,
        )
        assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
        assert service["network_configuration"]["assign_public_ip"] is False
        assert service["enable_execute_command"] is False
        assert "platform_version" not in service
        assert service["lifecycle"]["ignore_changes"] == ["desired_count"]
        target = sync.only("aws_appautoscaling_target")
        counts[env] = (service["desired_count"], target["min_capacity"], target["max_capacity"])
        tracking = [
            policy["target_tracking_scaling_policy_configuration"]
            for policy in sync.resources("aws_appautoscaling_policy").values()
        ]
        predefined = [
            t["predefined_metric_specification"]["predefined_metric_type"]
            for t in tracking
            if "predefined_metric_specification" in t
        ]
        assert predefined == ["ECSServiceAverageCPUUtilization"]
        (connections,) = [t for t in tracking if "customized_metric_specification" in t]
        # The names the sync service emits as embedded metrics (SyncServer.metrics).
        custom = connections["customized_metric_specification"]
        assert (custom["namespace"], custom["metric_name"], custom["statistic"]) == (
            "MDReader/Sync",
            "Connections",
            "Average",
        )
        environment = {"dev": "development", "staging": "staging", "prod": "production"}[env]
        assert custom["dimensions"] == [{"name": "Environment", "value": environment}]
        assert connections["target_value"] == 500
    assert counts == {"dev": (1, 1, 2), "staging": (1, 1, 3), "prod": (2, 2, 6)}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_load_balancer_is_https_only_for_websockets_and_reachable_only_from_cloudfront(
    stacks: Stacks, env: str
) -> None:
    sync = stacks.get(env, "sync")
    alb = sync.only("aws_lb")
    assert alb["idle_timeout"] >= 300
    assert alb["drop_invalid_header_fields"] is True
    assert alb["desync_mitigation_mode"] in {"defensive", "strictest"}
    assert alb["access_logs"]["enabled"] is True
    assert alb["enable_deletion_protection"] is (env != "dev")
    (listener,) = sync.resources("aws_lb_listener").values()
    assert (listener["port"], listener["protocol"]) == (443, "HTTPS")
    assert listener["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    targets = sync.only("aws_lb_target_group")
    assert targets["port"] == 1234
    assert targets["health_check"]["path"] == "/health"
    assert targets["health_check"]["matcher"] == "200"
    (prefix_list,) = sync.data("aws_ec2_managed_prefix_list").values()
    assert prefix_list["name"] == "com.amazonaws.global.cloudfront.origin-facing"
    ingress = list(sync.resources("aws_vpc_security_group_ingress_rule").values())
    from_cloudfront = [rule for rule in ingress if "prefix_list_id" in rule]
    (rule,) = from_cloudfront
    assert (rule["from_port"], rule["to_port"]) == (443, 443)
    assert reference_to(rule["prefix_list_id"], "data.aws_ec2_managed_prefix_list")
    assert not any("cidr_ipv4" in rule for rule in ingress)
    (to_tasks,) = [r for r in ingress if "referenced_security_group_id" in r]
    assert to_tasks["from_port"] == 1234
    assert reference_to(to_tasks["security_group_id"], REMOTE)
    certificate = sync.only("aws_acm_certificate")
    assert certificate["validation_method"] == "DNS"
    assert certificate["lifecycle"] == {"create_before_destroy": True}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_regional_waf_in_this_stack_with_the_seed_rules_and_logging(stacks: Stacks, env: str) -> None:
    sync = stacks.get(env, "sync")
    acl = sync.only("aws_wafv2_web_acl")
    assert acl["scope"] == "REGIONAL"
    rules = {rule["name"]: rule for rule in acl["rule"]}
    rate = rules["rate-limit-per-ip"]["statement"]["rate_based_statement"]
    assert rate == {"limit": 1000, "aggregate_key_type": "IP"}
    assert rules["rate-limit-per-ip"]["action"] == {"block": {}}
    for group in (
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
        "AWSManagedRulesAnonymousIpList",
    ):
        assert rules[group]["override_action"] == {"none": {}}
    association = sync.only("aws_wafv2_web_acl_association")
    assert reference_to(association["resource_arn"], "aws_lb")
    assert reference_to(association["web_acl_arn"], "aws_wafv2_web_acl")
    logging = sync.only("aws_wafv2_web_acl_logging_configuration")
    (destination,) = logging["log_destination_configs"]
    assert reference_to(destination, "aws_cloudwatch_log_group")
    names = [g["name"] for g in sync.resources("aws_cloudwatch_log_group").values()]
    assert f"aws-waf-logs-mdreader-{env}-sync-alb" in names


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alb_alarms_notify_the_alert_topic(stacks: Stacks, env: str) -> None:
    alarms = {
        a["metric_name"]: a for a in stacks.get(env, "sync").resources("aws_cloudwatch_metric_alarm").values()
    }
    assert set(alarms) == {"HTTPCode_ELB_5XX_Count", "UnHealthyHostCount", "Connections"}
    connections = alarms["Connections"]
    assert (connections["namespace"], connections["statistic"], connections["threshold"]) == (
        "MDReader/Sync",
        "Sum",
        5000,
    )
    for alarm in alarms.values():
        assert alarm["actions_enabled"] is True
        (action,) = alarm["alarm_actions"]
        assert reference_to(action, REMOTE)
