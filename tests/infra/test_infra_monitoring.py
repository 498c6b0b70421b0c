"""monitoring layer: the seed's alarms to the alert topic, four dashboards, a budget, X-Ray sampling."""

from __future__ import annotations

import json
from typing import Any

import pytest
from infra_json import ENVIRONMENTS, Stacks, reference_to

import environments

SETTINGS = {env: environments.load(env) for env in ENVIRONMENTS}


def alarms(stacks: Stacks, env: str) -> dict[str, dict[str, Any]]:
    found = stacks.get(env, "monitoring").resources("aws_cloudwatch_metric_alarm").values()
    return {alarm["alarm_name"].removeprefix(f"mdreader-{env}-"): alarm for alarm in found}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_alarm_is_enabled_and_notifies_the_alert_topic(stacks: Stacks, env: str) -> None:
    found = alarms(stacks, env)
    nodes = [
        f"cache-{node:03d}-{metric}"
        for node in range(1, SETTINGS[env].cache.node_count + 1)
        for metric in ("memory", "cpu")
    ]
    assert set(found) == {
        "db-connections",
        "db-cpu",
        "db-free-storage",
        "sync-cpu",
        "sync-memory",
        "api-errors",
        "api-throttles",
        "files-errors",
        "files-throttles",
        "secret-key-rotation-errors",
        "secret-key-rotation-throttles",
        *nodes,
    }
    for alarm in found.values():
        assert alarm["actions_enabled"] is True
        for actions in ("alarm_actions", "ok_actions"):
            (action,) = alarm[actions]
            assert reference_to(action, "aws_sns_topic")
        assert alarm["treat_missing_data"] == "notBreaching"
        assert alarm["period"] == 300
        assert alarm["evaluation_periods"] == 2


def test_database_connection_alarm_is_80_percent_of_the_instance_maximum(stacks: Stacks) -> None:
    # max_connections = LEAST(memory / 9531392, 5000): 1 GiB -> 112, 2 GiB -> 225, 8 GiB -> 901.
    thresholds = {env: alarms(stacks, env)["db-connections"]["threshold"] for env in ENVIRONMENTS}
    assert thresholds == {"dev": 89, "staging": 180, "prod": 720}
    for env in ENVIRONMENTS:
        alarm = alarms(stacks, env)["db-connections"]
        assert alarm["dimensions"] == {"DBInstanceIdentifier": f"mdreader-{env}-postgres"}
        assert alarm["statistic"] == "Maximum"
        assert alarm["comparison_operator"] == "GreaterThanThreshold"


def test_alarm_dimensions_name_the_resources_of_the_other_layers(stacks: Stacks) -> None:
    prod = alarms(stacks, "prod")
    assert stacks.get("prod", "data").only("aws_db_instance")["identifier"] == "mdreader-prod-postgres"
    group = stacks.get("prod", "data").only("aws_elasticache_replication_group")
    assert group["replication_group_id"] == "mdreader-prod-cache"
    assert prod["cache-002-memory"]["dimensions"] == {"CacheClusterId": "mdreader-prod-cache-002"}
    assert prod["api-errors"]["dimensions"] == {"FunctionName": "mdreader-prod-api"}
    assert prod["sync-cpu"]["dimensions"] == {
        "ClusterName": "mdreader-prod-sync",
        "ServiceName": "mdreader-prod-sync",
    }
    assert prod["db-free-storage"]["threshold"] == 5 * 2**30
    assert prod["db-free-storage"]["comparison_operator"] == "LessThanThreshold"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_four_dashboards(stacks: Stacks, env: str) -> None:
    dashboards = stacks.get(env, "monitoring").resources("aws_cloudwatch_dashboard").values()
    by_name = {d["dashboard_name"]: json.loads(d["dashboard_body"]) for d in dashboards}
    assert set(by_name) == {f"mdreader-{env}-{name}" for name in ("api", "database", "websocket", "cost")}
    for body in by_name.values():
        assert body["widgets"]
    api = json.dumps(by_name[f"mdreader-{env}-api"])
    assert "Latency" in api
    assert "5xx" in api
    assert "ActiveConnectionCount" in json.dumps(by_name[f"mdreader-{env}-websocket"])
    (cost,) = by_name[f"mdreader-{env}-cost"]["widgets"]
    assert cost["properties"]["region"] == "us-east-1"


def test_budget_per_environment_alerts_the_topic(stacks: Stacks) -> None:
    limits = {}
    for env in ENVIRONMENTS:
        budget = stacks.get(env, "monitoring").only("aws_budgets_budget")
        limits[env] = budget["limit_amount"]
        assert (budget["budget_type"], budget["time_unit"], budget["limit_unit"]) == (
            "COST",
            "MONTHLY",
            "USD",
        )
        notifications = [(n["threshold"], n["notification_type"]) for n in budget["notification"]]
        assert notifications == [(80, "ACTUAL"), (100, "FORECASTED")]
        for notification in budget["notification"]:
            (topic,) = notification["subscriber_sns_topic_arns"]
            assert reference_to(topic, "aws_sns_topic")
    assert limits == {"dev": "30", "staging": "60", "prod": "250"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_xray_sampling_rule(stacks: Stacks, env: str) -> None:
    rule = stacks.get(env, "monitoring").only("aws_xray_sampling_rule")
    assert rule["rule_name"] == f"mdreader-{env}-default"
    assert (rule["fixed_rate"], rule["reservoir_size"], rule["priority"]) == (0.05, 1, 1000)
