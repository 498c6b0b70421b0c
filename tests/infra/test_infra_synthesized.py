"""Pins every secure default and every environment difference in the synthesized JSON.

Each assertion would fail if the feature broke (a construct default changed, an environment setting
leaked into another environment, a skip in .checkov.yaml started hiding a real regression).
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cdktn_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from infra_harness import ROOT, offline_env
from infra_json import ENVIRONMENTS, LAYERS, Stack, Stacks, reference_to

import environments
from modules._cdk import App, TerraformStack
from modules.common import port_rule

SETTINGS = {env: environments.load(env) for env in ENVIRONMENTS}


def policy(body: dict[str, Any], key: str = "policy") -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = json.loads(body[key])["Statement"]
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- stacks, provider, backend ------------------------------------------------------------------------


def test_every_environment_has_every_layer_and_nothing_else(synth_dir: Path) -> None:
    expected = {f"mdreader-{env}-{layer}" for env in ENVIRONMENTS for layer in LAYERS}
    assert {path.name for path in (synth_dir / "stacks").iterdir()} == expected
    for name in expected:
        assert (synth_dir / "stacks" / name / "cdk.tf.json").is_file()


def test_provider_range_admits_the_mirror_and_6x_and_no_required_version(stacks: Stacks) -> None:
    for stack in stacks:
        terraform = stack.config["terraform"]
        assert terraform["required_providers"]["aws"] == {
            "source": "hashicorp/aws",
            "version": ">= 5.100, < 7.0",
        }
        assert "required_version" not in terraform, "Checkov parses nothing when required_version is present"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_provider_is_pinned_to_the_environment_account_region_and_tags(stacks: Stacks, env: str) -> None:
    settings = SETTINGS[env]
    for layer in LAYERS:
        default, *others = stacks.get(env, layer).config["provider"]["aws"]
        assert default["region"] == settings.region
        assert "alias" not in default
        # CloudFront's certificate, web ACL and DNS query logs exist only in us-east-1 (edge layer).
        expected_others = [("global", "us-east-1")] if layer == "edge" else []
        assert [(other["alias"], other["region"]) for other in others] == expected_others
        for provider in (default, *others):
            assert provider["allowed_account_ids"] == [settings.account_id]
            assert provider["default_tags"] == [
                {"tags": {"Project": "mdreader", "Environment": env, "Layer": layer, "ManagedBy": "cdktn"}}
            ]
            assert not {"access_key", "secret_key", "token", "skip_credentials_validation"} & set(provider)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_remote_state_backend_per_stack(stacks: Stacks, env: str) -> None:
    settings = SETTINGS[env]
    # Bootstrap's local state survives re-synthesis: it lives beside cdktf.out, not in the stack folder.
    assert stacks.get(env, "bootstrap").config["terraform"]["backend"] == {
        "local": {"path": f"../../../bootstrap-state/mdreader-{env}-bootstrap.tfstate"}
    }
    for layer in LAYERS[1:]:
        backend = stacks.get(env, layer).config["terraform"]["backend"]
        assert backend == {
            "s3": {
                "bucket": f"mdreader-{env}-tfstate-{settings.account_id}",
                "key": f"{env}/{layer}.tfstate",
                "region": settings.region,
                "encrypt": True,
                "kms_key_id": f"arn:aws:kms:{settings.region}:{settings.account_id}:"
                f"alias/mdreader-{env}-tfstate",
                "use_lockfile": True,
            }
        }


@pytest.mark.parametrize(
    ("layer", "producers"),
    [("network", {"monitoring"}), ("data", {"network", "monitoring"}), ("backup", {"data", "storage"})],
)
def test_cross_stack_values_flow_through_remote_state(
    stacks: Stacks, layer: str, producers: set[str]
) -> None:
    for env in ENVIRONMENTS:
        remote = stacks.get(env, layer).data("terraform_remote_state")
        keys = {state["config"]["key"] for state in remote.values()}
        assert keys == {f"{env}/{producer}.tfstate" for producer in producers}
        assert all(state["backend"] == "s3" and state["config"]["use_lockfile"] for state in remote.values())
        for producer in producers:
            assert stacks.get(env, producer).config.get("output"), f"{producer} exports nothing"


def test_bootstrap_state_bucket_matches_every_backend(stacks: Stacks) -> None:
    for env in ENVIRONMENTS:
        names = {
            bucket["bucket"] for bucket in stacks.get(env, "bootstrap").resources("aws_s3_bucket").values()
        }
        assert stacks.get(env, "network").config["terraform"]["backend"]["s3"]["bucket"] in names
        aliases = {
            alias["name"] for alias in stacks.get(env, "bootstrap").resources("aws_kms_alias").values()
        }
        assert f"alias/mdreader-{env}-tfstate" in aliases


def test_subset_synthesis_brings_the_layers_it_reads_from(tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "mdreader-prod-data").mkdir(parents=True)  # a stale stack from an earlier synth
    subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--outdir", str(outdir)],
        cwd=ROOT,
        env={**offline_env(tmp_path / "tmp"), "MDREADER_ENVIRONMENTS": "dev", "MDREADER_LAYERS": "network"},
        check=True,
        capture_output=True,
    )
    assert sorted(path.name for path in (outdir / "stacks").iterdir()) == [
        "mdreader-dev-monitoring",
        "mdreader-dev-network",
    ]


# --- KMS -------------------------------------------------------------------------------------------------


def test_every_kms_key_rotates_and_has_a_least_privilege_policy(stacks: Stacks) -> None:
    keys = 0
    for stack in stacks:
        env = stack.name.split("-")[1]
        account = SETTINGS[env].account_id
        for key in stack.resources("aws_kms_key").values():
            keys += 1
            assert key["enable_key_rotation"] is True
            assert key["is_enabled"] is True
            assert key["deletion_window_in_days"] == SETTINGS[env].kms_deletion_window_days
            statements = policy(key)
            admin = [s for s in statements if s["Sid"] == "AdministerKey"]
            assert admin, "the account must keep control of the key"
            assert "kms:Decrypt" not in admin[0]["Action"]
            assert "kms:*" not in admin[0]["Action"]
            for statement in statements:
                assert statement["Effect"] == "Allow"
                principal = statement["Principal"]
                assert principal != "*"
                assert "*" not in json.dumps(principal)
                assert "kms:*" not in as_list(statement["Action"])
                if statement["Sid"] != "AdministerKey":
                    assert statement["Condition"], f"{stack.name}: usage without a condition"
                if "AWS" in principal:
                    assert principal["AWS"] == f"arn:aws:iam::{account}:root"
    # state, logs, alerts, data, storage, backup, email events, api, sync, edge web + us-east-1 logs
    assert keys == 3 * 11


def test_logs_key_admits_cloudwatch_logs_only_for_this_accounts_log_groups(stacks: Stacks) -> None:
    for env, settings in SETTINGS.items():
        keys = stacks.get(env, "monitoring").resources("aws_kms_key")
        (logs_key,) = [key for key in keys.values() if "log groups" in key["description"]]
        (grant,) = [s for s in policy(logs_key) if s["Sid"] == "CloudWatchLogsEncryptLogGroups"]
        assert grant["Principal"] == {"Service": f"logs.{settings.region}.amazonaws.com"}
        assert grant["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == (
            f"arn:aws:logs:{settings.region}:{settings.account_id}:log-group:*"
        )


# --- IAM ---------------------------------------------------------------------------------------------------


def test_iam_roles_trust_one_service_for_this_account_and_name_their_resources(stacks: Stacks) -> None:
    for stack in stacks:
        if stack.name.endswith("-cicd"):
            continue  # GitHub OIDC roles: tests/infra/test_infra_cicd.py pins their trust and scope
        account = SETTINGS[stack.name.split("-")[1]].account_id
        for role in stack.resources("aws_iam_role").values():
            (trust,) = policy(role, "assume_role_policy")
            if trust["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}:
                continue  # the identity pool's role: tests/infra/test_infra_auth.py pins its trust
            assert set(trust["Principal"]) == {"Service"}
            assert trust["Principal"]["Service"].endswith(".amazonaws.com")
            assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}
        for inline in stack.resources("aws_iam_role_policy").values():
            for statement in policy(inline):
                assert not any(
                    action == "*" or action.endswith(":*") for action in as_list(statement["Action"])
                )
                assert "*" not in as_list(statement["Resource"]), (
                    f"{stack.name}: Resource * where one can be named"
                )
        for attachment in stack.resources("aws_iam_role_policy_attachment").values():
            assert not attachment["policy_arn"].endswith(
                ("/AdministratorAccess", "/IAMFullAccess", "/PowerUserAccess")
            )


# --- network --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_network_layout_follows_the_settings(stacks: Stacks, env: str) -> None:
    settings = SETTINGS[env]
    network = stacks.get(env, "network")
    vpc = network.only("aws_vpc")
    assert vpc["cidr_block"] == str(settings.network.vpc_cidr)
    assert vpc["enable_dns_hostnames"] is True
    assert vpc["enable_dns_support"] is True
    subnets = list(network.resources("aws_subnet").values())
    assert len(subnets) == 2 * settings.network.az_count >= 4
    assert {subnet["availability_zone"] for subnet in subnets} == set(settings.availability_zones)
    assert all(subnet["map_public_ip_on_launch"] is False for subnet in subnets)
    blocks = [ipaddress.ip_network(subnet["cidr_block"]) for subnet in subnets]
    assert all(block.subnet_of(settings.network.vpc_cidr) for block in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])
    nats = list(network.resources("aws_nat_gateway").values())
    assert len(nats) == (settings.network.az_count if settings.network.nat_gateway_per_az else 1)
    assert all(reference_to(nat["subnet_id"], "aws_subnet") for nat in nats), "5.100 needs subnet_id"
    assert len(network.resources("aws_eip")) == len(nats)
    assert network.only("aws_internet_gateway")


def test_nat_gateway_per_az_only_in_prod(stacks: Stacks) -> None:
    assert [len(stacks.get(env, "network").resources("aws_nat_gateway")) for env in ENVIRONMENTS] == [1, 1, 3]


def test_environment_vpcs_do_not_overlap_so_they_can_peer() -> None:
    cidrs = [settings.network.vpc_cidr for settings in SETTINGS.values()]
    assert all(cidr.prefixlen == 16 for cidr in cidrs)
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1 :])
    assert str(SETTINGS["dev"].network.vpc_cidr) == "10.0.0.0/16"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_default_security_group_is_locked_down_and_flow_logs_capture_everything(
    stacks: Stacks, env: str
) -> None:
    network = stacks.get(env, "network")
    default_group = network.only("aws_default_security_group")
    assert not default_group.get("ingress")
    assert not default_group.get("egress")
    flow_log = network.only("aws_flow_log")
    assert flow_log["traffic_type"] == "ALL"
    assert flow_log["log_destination_type"] == "cloud-watch-logs"
    assert reference_to(flow_log["log_destination"], "aws_cloudwatch_log_group")
    assert reference_to(flow_log["vpc_id"], "aws_vpc")
    log_group = network.only("aws_cloudwatch_log_group")
    assert log_group["retention_in_days"] == SETTINGS[env].network.flow_log_retention_days
    assert "terraform_remote_state" in log_group["kms_key_id"], (
        "encrypted with the monitoring layer's logs key"
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_vpc_endpoints_keep_aws_traffic_private(stacks: Stacks, env: str) -> None:
    region = SETTINGS[env].region
    endpoints = list(stacks.get(env, "network").resources("aws_vpc_endpoint").values())
    gateway = [endpoint for endpoint in endpoints if endpoint["vpc_endpoint_type"] == "Gateway"]
    assert [endpoint["service_name"] for endpoint in gateway] == [f"com.amazonaws.{region}.s3"]
    assert len(gateway[0]["route_table_ids"]) == SETTINGS[env].network.az_count
    interface = {e["service_name"]: e for e in endpoints if e["vpc_endpoint_type"] == "Interface"}
    assert set(interface) == {
        f"com.amazonaws.{region}.{service}"
        for service in ("secretsmanager", "logs", "ecr.api", "ecr.dkr", "sts")
    }
    assert all(endpoint["private_dns_enabled"] is True for endpoint in interface.values())


# --- security groups -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "peers",
    [{}, {"source_group_id": "sg-1", "cidr_ipv4": "10.0.0.0/16"}],
    ids=["no peer", "two peers"],
)
def test_a_port_rule_names_exactly_one_peer(peers: dict[str, str]) -> None:
    stack = TerraformStack(App(), "rules")
    with pytest.raises(ValueError, match="exactly one peer"):
        port_rule(
            stack,
            "rule",
            rule_type=VpcSecurityGroupIngressRule,
            security_group_id="sg-0",
            port=443,
            description="HTTPS",
            **peers,
        )


def test_no_ingress_from_anywhere_and_every_group_and_rule_is_described(stacks: Stacks) -> None:
    for stack in stacks:
        for group in stack.resources("aws_security_group").values():
            assert group["description"]
            assert "ingress" not in group
            assert "egress" not in group
        for rule in stack.resources("aws_vpc_security_group_ingress_rule").values():
            assert rule["description"]
            # There is no public edge in these layers: nothing admits the internet.
            assert rule.get("cidr_ipv4") not in ("0.0.0.0/0",)
            assert "cidr_ipv6" not in rule
            assert rule["ip_protocol"] == "tcp"
            assert rule["from_port"] == rule["to_port"]
        for rule in stack.resources("aws_vpc_security_group_egress_rule").values():
            assert rule["description"]
            assert rule["ip_protocol"] == "tcp"
            if rule.get("cidr_ipv4") == "0.0.0.0/0":
                assert rule["from_port"] == rule["to_port"] == 443, "only HTTPS leaves the VPC"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_database_and_cache_admit_only_the_application_tiers(stacks: Stacks, env: str) -> None:
    data = stacks.get(env, "data")
    ports_by_group: dict[str, set[tuple[int, str]]] = {}
    for rule in data.resources("aws_vpc_security_group_ingress_rule").values():
        assert "cidr_ipv4" not in rule, "data stores admit security groups, never address ranges"
        source = rule["referenced_security_group_id"]
        assert "terraform_remote_state" in source or reference_to(source, "aws_security_group")
        ports_by_group.setdefault(rule["security_group_id"], set()).add(
            (rule["from_port"], rule["description"])
        )
    ports = {port for rules in ports_by_group.values() for port, _ in rules}
    assert ports == {5432, 6379}
    descriptions = {description for rules in ports_by_group.values() for _, description in rules}
    expected = {"PostgreSQL from api", "PostgreSQL from sync", "Redis from api", "Redis from sync"}
    if SETTINGS[env].database.rds_proxy_enabled:
        expected |= {"PostgreSQL from api", "PostgreSQL from the proxy"}
    assert descriptions == expected


def test_every_security_group_outside_the_network_layer_is_attached(stacks: Stacks) -> None:
    """CKV2_AWS_5 is skipped for the data stacks with a proxy: this is what it would check."""
    for stack in stacks:
        if stack.name.endswith("-network"):
            continue
        text = json.dumps({k: v for k, v in stack.config["resource"].items() if k != "aws_security_group"})
        for name in stack.resources("aws_security_group"):
            attached = re.search(
                rf'"(vpc_security_group_ids|security_group_ids|security_groups)": '
                rf"\[[^\]]*aws_security_group\.{name}\.id",
                text,
            )
            assert attached, f"{stack.name}: security group {name} is attached to nothing"


# --- RDS ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_postgres_secure_defaults(stacks: Stacks, env: str) -> None:
    config = SETTINGS[env].database
    data = stacks.get(env, "data")
    db = data.only("aws_db_instance")
    assert db["engine"] == "postgres"
    assert int(db["engine_version"].split(".")[0]) >= 14
    assert db["storage_encrypted"] is True
    assert reference_to(db["kms_key_id"], "aws_kms_key")
    assert db["publicly_accessible"] is False
    assert db["manage_master_user_password"] is True
    assert "password" not in db
    assert "password_wo" not in db
    assert reference_to(db["master_user_secret_kms_key_id"], "aws_kms_key")
    assert db["iam_database_authentication_enabled"] is True
    assert db["performance_insights_enabled"] is True
    assert reference_to(db["performance_insights_kms_key_id"], "aws_kms_key")
    assert db["performance_insights_retention_period"] == config.performance_insights_retention_days
    assert db["monitoring_interval"] == config.monitoring_interval_seconds
    assert reference_to(db["monitoring_role_arn"], "aws_iam_role")
    assert db["enabled_cloudwatch_logs_exports"] == ["postgresql", "upgrade"]
    assert db["copy_tags_to_snapshot"] is True
    assert db["auto_minor_version_upgrade"] is True
    assert db["ca_cert_identifier"] == "rds-ca-rsa2048-g1"
    assert db["allocated_storage"] == 20
    assert db["max_allocated_storage"] == 1000
    assert db["storage_type"] == "gp3"
    assert db["backup_retention_period"] == config.backup_retention_days
    assert db["skip_final_snapshot"] is (not config.deletion_protection)
    log_groups = {group["name"]: group for group in data.resources("aws_cloudwatch_log_group").values()}
    for export in ("postgresql", "upgrade"):
        group = log_groups[f"/aws/rds/instance/mdreader-{env}-postgres/{export}"]
        assert group["retention_in_days"] == config.log_retention_days
        assert group["kms_key_id"]


def test_postgres_environment_differences(stacks: Stacks) -> None:
    dbs = {env: stacks.get(env, "data").only("aws_db_instance") for env in ENVIRONMENTS}
    assert {env: db["multi_az"] for env, db in dbs.items()} == {"dev": False, "staging": False, "prod": True}
    assert {env: db["deletion_protection"] for env, db in dbs.items()} == {
        "dev": False,
        "staging": True,
        "prod": True,
    }
    assert dbs["prod"]["backup_retention_period"] == 30
    assert dbs["dev"]["instance_class"] == "db.t4g.micro"


def test_parameter_group_forces_tls_and_logs_slow_statements(stacks: Stacks) -> None:
    for env in ENVIRONMENTS:
        data = stacks.get(env, "data")
        group = data.only("aws_db_parameter_group")
        parameters = {parameter["name"]: parameter["value"] for parameter in group["parameter"]}
        assert parameters == {
            "rds.force_ssl": "1",
            "log_statement": "ddl",
            "log_min_duration_statement": str(SETTINGS[env].database.slow_statement_ms),
        }
        assert group["family"] == "postgres17"
        assert reference_to(data.only("aws_db_instance")["parameter_group_name"], "aws_db_parameter_group")


def test_rds_proxy_only_where_enabled_with_tls_and_iam_auth(stacks: Stacks) -> None:
    for env, settings in SETTINGS.items():
        data = stacks.get(env, "data")
        proxies = list(data.resources("aws_db_proxy").values())
        assert len(proxies) == int(settings.database.rds_proxy_enabled)
        for proxy in proxies:
            assert proxy["require_tls"] is True
            assert proxy["engine_family"] == "POSTGRESQL"
            (auth,) = proxy["auth"]
            assert auth["iam_auth"] == "REQUIRED"
            assert auth["auth_scheme"] == "SECRETS"
            assert "master_user_secret" in auth["secret_arn"]
            assert data.only("aws_db_proxy_target")["db_instance_identifier"].startswith("${aws_db_instance.")
    assert [bool(stacks.get(env, "data").resources("aws_db_proxy")) for env in ENVIRONMENTS] == [
        False,
        True,
        True,
    ]


# --- cache ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cache_encryption_auth_and_logs(stacks: Stacks, env: str) -> None:
    config = SETTINGS[env].cache
    data = stacks.get(env, "data")
    cache = data.only("aws_elasticache_replication_group")
    assert cache["at_rest_encryption_enabled"] == "true"
    assert reference_to(cache["kms_key_id"], "aws_kms_key")
    assert cache["transit_encryption_enabled"] is True
    assert cache["transit_encryption_mode"] == "required"
    assert cache["auth_token"].startswith("${data.aws_secretsmanager_secret_version.")
    assert "auth_token_wo" not in cache, "provider 5.100 has no auth_token_wo"
    assert cache["engine"] == config.engine
    assert cache["num_cache_clusters"] == config.node_count
    assert cache["snapshot_retention_limit"] == config.snapshot_retention_days
    (log_delivery,) = cache["log_delivery_configuration"]
    assert log_delivery["log_type"] == "slow-log"
    assert log_delivery["destination_type"] == "cloudwatch-logs"
    version = data.only("aws_secretsmanager_secret_version")
    assert "secret_string" not in version, "the token must not be a value in the configuration"
    assert version["secret_string_wo"].startswith("${ephemeral.aws_secretsmanager_random_password.")
    (generator,) = data.config["ephemeral"]["aws_secretsmanager_random_password"].values()
    assert generator["password_length"] >= 32
    for secret in data.resources("aws_secretsmanager_secret").values():
        assert reference_to(secret["kms_key_id"], "aws_kms_key")


def test_cache_resilience_differs_by_environment(stacks: Stacks) -> None:
    caches = {env: stacks.get(env, "data").only("aws_elasticache_replication_group") for env in ENVIRONMENTS}
    assert {env: c["num_cache_clusters"] for env, c in caches.items()} == {"dev": 1, "staging": 2, "prod": 2}
    assert {env: c["automatic_failover_enabled"] for env, c in caches.items()} == {
        "dev": False,
        "staging": True,
        "prod": True,
    }
    assert {env: c["multi_az_enabled"] for env, c in caches.items()} == {
        "dev": False,
        "staging": True,
        "prod": True,
    }
    assert caches["prod"]["snapshot_retention_limit"] == 7


def test_no_secret_values_anywhere_in_the_synthesized_output(synth_dir: Path) -> None:
    secret_keys = {"password", "secret_string", "auth_token", "secret_key", "access_key", "token"}

    def visit(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in secret_keys and isinstance(value, str):
                    assert value.startswith("${"), f"{path}.{key} holds a literal"
                visit(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                visit(item, f"{path}[{index}]")

    for path in (synth_dir / "stacks").glob("*/cdk.tf.json"):
        text = path.read_text()
        assert not re.search(r"AKIA[0-9A-Z]{16}", text)
        visit(json.loads(text), path.parent.name)


# --- storage ----------------------------------------------------------------------------------------------


def buckets_with(stack: Stack) -> dict[str, dict[str, dict[str, Any]]]:
    """Each bucket's companion resources, keyed by bucket resource name then resource type."""
    companions: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in stack.resources("aws_s3_bucket")}
    for resource_type, _, body in stack.all_resources():
        bucket = body.get("bucket")
        if resource_type.startswith("aws_s3_bucket_") and isinstance(bucket, str):
            name = bucket.removeprefix("${aws_s3_bucket.").split(".")[0]
            companions[name][resource_type] = body
    return companions


@pytest.mark.parametrize("layer", ["bootstrap", "storage"])
def test_every_bucket_is_versioned_encrypted_private_and_tls_only(stacks: Stacks, layer: str) -> None:
    for env in ENVIRONMENTS:
        stack = stacks.get(env, layer)
        log_targets = {
            logging["target_bucket"].removeprefix("${aws_s3_bucket.").split(".")[0]
            for logging in stack.resources("aws_s3_bucket_logging").values()
        }
        assert len(log_targets) == 1
        for name, parts in buckets_with(stack).items():
            assert parts["aws_s3_bucket_versioning"]["versioning_configuration"] == {"status": "Enabled"}
            access = parts["aws_s3_bucket_public_access_block"]
            assert all(
                access[flag] is True
                for flag in (
                    "block_public_acls",
                    "block_public_policy",
                    "ignore_public_acls",
                    "restrict_public_buckets",
                )
            )
            assert parts["aws_s3_bucket_ownership_controls"]["rule"] == {
                "object_ownership": "BucketOwnerEnforced"
            }
            deny = policy(parts["aws_s3_bucket_policy"])[0]
            assert deny["Effect"] == "Deny"
            assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            rules = parts["aws_s3_bucket_lifecycle_configuration"]["rule"]
            aborts = [
                rule["abort_incomplete_multipart_upload"]
                for rule in rules
                if "abort_incomplete_multipart_upload" in rule
            ]
            assert aborts == [
                [{"days_after_initiation": SETTINGS[env].storage.abort_incomplete_multipart_days}]
            ]
            (encryption,) = parts["aws_s3_bucket_server_side_encryption_configuration"]["rule"]
            algorithm = encryption["apply_server_side_encryption_by_default"]["sse_algorithm"]
            if name in log_targets:  # S3 delivers access logs only into SSE-S3 buckets
                assert algorithm == "AES256", name
                assert policy(parts["aws_s3_bucket_policy"])[1]["Principal"] == {
                    "Service": "logging.s3.amazonaws.com"
                }
            else:  # CKV_AWS_145 is skipped for these stacks because of the log buckets: pin KMS here
                assert algorithm == "aws:kms", name
                assert reference_to(
                    encryption["apply_server_side_encryption_by_default"]["kms_master_key_id"], "aws_kms_key"
                )
                assert encryption["bucket_key_enabled"] is True
                assert reference_to(parts["aws_s3_bucket_logging"]["target_bucket"], "aws_s3_bucket")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_attachments_bucket_lifecycle_and_cors(stacks: Stacks, env: str) -> None:
    config = SETTINGS[env].storage
    storage = stacks.get(env, "storage")
    cors = storage.only("aws_s3_bucket_cors_configuration")
    (rule,) = cors["cors_rule"]
    assert rule["allowed_origins"] == [str(origin).rstrip("/") for origin in config.cors_allowed_origins]
    assert "*" not in json.dumps(rule)
    assert set(rule["allowed_methods"]) == {"GET", "HEAD", "PUT"}
    lifecycles = [
        body
        for body in storage.resources("aws_s3_bucket_lifecycle_configuration").values()
        if cors["bucket"] == body["bucket"]
    ]
    (tiering,) = [r for r in lifecycles[0]["rule"] if "transition" in r]
    assert tiering["transition"] == [
        {"days": config.infrequent_access_after_days, "storage_class": "STANDARD_IA"},
        {"days": config.glacier_after_days, "storage_class": "GLACIER"},
    ]
    assert tiering["noncurrent_version_expiration"] == [
        {"noncurrent_days": config.noncurrent_version_expiry_days}
    ]


def test_production_origins_are_https_only() -> None:
    assert all(origin.scheme == "https" for origin in SETTINGS["prod"].storage.cors_allowed_origins)
    assert "localhost" not in str(SETTINGS["staging"].storage.cors_allowed_origins)


# --- backup and monitoring ----------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backup_vault_plan_and_selection(stacks: Stacks, env: str) -> None:
    backup = stacks.get(env, "backup")
    assert reference_to(backup.only("aws_backup_vault")["kms_key_arn"], "aws_kms_key")
    (rule,) = backup.only("aws_backup_plan")["rule"]
    assert rule["schedule"] == SETTINGS[env].backup.schedule
    assert rule["lifecycle"] == {"delete_after": SETTINGS[env].backup.retention_days}
    resources = backup.only("aws_backup_selection")["resources"]
    assert len(resources) == 2
    assert any("mdreader-" + env + "-data" in arn for arn in resources)
    assert any("mdreader-" + env + "-storage" in arn for arn in resources)


def test_backups_kept_30_days_in_prod() -> None:
    assert {env: settings.backup.retention_days for env, settings in SETTINGS.items()} == {
        "dev": 7,
        "staging": 14,
        "prod": 30,
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alert_topic_is_encrypted_and_only_alarms_and_budgets_of_this_account_publish(
    stacks: Stacks, env: str
) -> None:
    monitoring = stacks.get(env, "monitoring")
    topic = monitoring.only("aws_sns_topic")
    assert reference_to(topic["kms_master_key_id"], "aws_kms_key")
    statements = policy(monitoring.only("aws_sns_topic_policy"))
    assert [s["Principal"] for s in statements] == [
        {"Service": "cloudwatch.amazonaws.com"},
        {"Service": "budgets.amazonaws.com"},
    ]
    for statement in statements:
        assert statement["Action"] == "sns:Publish"
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": SETTINGS[env].account_id}}


def test_every_log_group_is_encrypted_with_retention_and_a_year_in_prod(stacks: Stacks) -> None:
    for stack in stacks:
        env = stack.name.split("-")[1]
        for group in stack.resources("aws_cloudwatch_log_group").values():
            assert group["kms_key_id"]
            assert group["retention_in_days"] > 0
            if env == "prod":
                assert group["retention_in_days"] >= 365
