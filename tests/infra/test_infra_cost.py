"""scripts/estimate_cost.py: the monthly estimate follows the settings and is compared with the seed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from infra_harness import ROOT
from infra_json import ENVIRONMENTS

import environments

sys.path.insert(0, str(ROOT / "scripts"))
import estimate_cost

SETTINGS = {env: environments.load(env) for env in ENVIRONMENTS}


def total(settings: environments.EnvironmentSettings, env: str = "prod") -> float:
    return sum(estimate_cost.estimate(settings, estimate_cost.USAGE[env]).values())


def test_prints_a_table_per_environment_and_the_seed_comparison() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "estimate_cost.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert "eu-central-1" in lines[0]
    assert lines[2].split() == ["item", *ENVIRONMENTS]
    assert any(line.startswith("total") for line in lines)
    assert "seed estimate for prod: $170-250/month" in result.stdout


def test_json_totals_are_the_sum_of_the_items() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "estimate_cost.py"), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(result.stdout)
    assert set(report) == set(ENVIRONMENTS)
    for entry in report.values():
        assert entry["total"] == pytest.approx(sum(entry["items"].values()), abs=0.01)
    assert report["dev"]["total"] < report["staging"]["total"] < report["prod"]["total"]


def test_fixed_costs_follow_the_settings() -> None:
    prod = SETTINGS["prod"]
    items = estimate_cost.estimate(prod, estimate_cost.USAGE["prod"])
    hours, prices = estimate_cost.HOURS_PER_MONTH, estimate_cost.PRICES
    assert items["RDS Proxy"] == pytest.approx(2 * hours * prices["rds_proxy_vcpu_hour"], abs=0.01)
    assert items["ElastiCache Valkey"] == pytest.approx(
        2 * estimate_cost.CACHE_HOURLY["cache.m7g.large"] * hours, abs=0.01
    )
    single_az = prod.model_copy(update={"database": prod.database.model_copy(update={"multi_az": False})})
    assert (
        estimate_cost.estimate(single_az, estimate_cost.USAGE["prod"])["RDS PostgreSQL"]
        < items["RDS PostgreSQL"]
    )
    smaller = prod.model_copy(
        update={"database": prod.database.model_copy(update={"instance_class": "db.t4g.medium"})}
    )
    assert total(smaller) < total(prod)
    one_nat = prod.model_copy(
        update={"network": prod.network.model_copy(update={"nat_gateway_per_az": False})}
    )
    assert total(prod) - total(one_nat) == pytest.approx(
        2 * hours * (prices["nat_gateway_hour"] + prices["public_ipv4_hour"]), abs=0.05
    )
    more_tasks = prod.model_copy(
        update={"sync": prod.sync.model_copy(update={"desired_count": 3, "max_count": 6})}
    )
    assert estimate_cost.estimate(more_tasks, estimate_cost.USAGE["prod"])["Fargate (sync)"] == pytest.approx(
        1.5 * items["Fargate (sync)"], abs=0.02
    )
    price_all = prod.model_copy(
        update={"edge": prod.edge.model_copy(update={"price_class": "PriceClass_All"})}
    )
    assert total(price_all) > total(prod)
    no_plus = prod.model_copy(update={"auth": prod.auth.model_copy(update={"threat_protection": "OFF"})})
    assert estimate_cost.estimate(no_plus, estimate_cost.USAGE["prod"])["Cognito"] == 0


def test_every_instance_type_the_settings_accept_has_a_price() -> None:
    from environments.settings import DB_INSTANCE_MEMORY_GIB

    assert set(DB_INSTANCE_MEMORY_GIB) == set(estimate_cost.RDS_HOURLY)
    for settings in SETTINGS.values():
        assert settings.cache.node_type in estimate_cost.CACHE_HOURLY


def test_prices_are_for_one_region_only() -> None:
    moved = SETTINGS["dev"].model_copy(update={"region": "us-east-1"})
    with pytest.raises(ValueError, match="prices are for eu-central-1"):
        estimate_cost.estimate(moved, estimate_cost.USAGE["dev"])
