"""environments/: typed settings; a wrong value stops synthesis with a message naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from infra_harness import ROOT  # noqa: F401  (puts the repository root on sys.path)

import environments
import main
from environments import base
from environments.settings import EnvironmentSettings


def changed(env: str, section: str | None, **values: Any) -> dict[str, Any]:
    data = environments.load(env).model_dump()
    (data[section] if section else data).update(values)
    return data


@pytest.mark.parametrize("env", environments.ENVIRONMENT_NAMES)
def test_every_environment_loads(env: str) -> None:
    settings = environments.load(env)
    assert settings.name == env
    assert settings.prefix == f"mdreader-{env}"
    assert len(settings.availability_zones) == settings.network.az_count >= 2


@pytest.mark.parametrize(
    ("section", "values", "field"),
    [
        ("network", {"az_count": 1}, "network.az_count"),
        ("network", {"vpc_cidr": "10.0.0.0/33"}, "network.vpc_cidr"),
        ("network", {"flow_log_retention_days": 45}, "network.flow_log_retention_days"),
        ("network", {"nat_gateway_per_az": "sometimes"}, "network.nat_gateway_per_az"),
        ("database", {"backup_retention_days": 36}, "database.backup_retention_days"),
        ("database", {"instance_class": "t4g.micro"}, "database.instance_class"),
        ("database", {"max_allocated_storage_gb": 10}, "max_allocated_storage_gb"),
        ("database", {"monitoring_interval_seconds": 7}, "monitoring_interval_seconds"),
        ("cache", {"node_count": 1, "automatic_failover": True}, "automatic_failover"),
        ("storage", {"cors_allowed_origins": ("http://example.com",)}, "cors_allowed_origins"),
        ("storage", {"glacier_after_days": 40}, "glacier_after_days"),
        ("database", {"instance_class": "db.x9.huge"}, "instance_class must be one of"),
        ("monitoring", {"monthly_budget_usd": 0}, "monitoring.monthly_budget_usd"),
        ("api", {"timeout_seconds": 31}, "api.timeout_seconds"),
        ("api", {"uploads_prefix": "inbox/"}, "uploads_prefix must be one of"),
        ("api", {"storage_prefixes": ("attachments",)}, "storage_prefixes"),
        ("sync", {"min_count": 2, "desired_count": 1}, "min_count <= desired_count"),
        ("sync", {"idle_timeout_seconds": 60}, "sync.idle_timeout_seconds"),
        ("sync", {"cpu_units": 300}, "sync.cpu_units"),
        ("email", {"mail_from_subdomain": "Mail From"}, "email.mail_from_subdomain"),
        (None, {"account_id": "12345"}, "account_id"),
        (None, {"domain_name": "Not A Domain"}, "domain_name"),
        (None, {"regoin": "eu-west-1"}, "regoin"),
    ],
)
def test_invalid_settings_name_the_field(section: str | None, values: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        EnvironmentSettings.model_validate(changed("dev", section, **values))


def test_synth_stops_with_the_environment_and_field_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = changed("staging", "database", backup_retention_days=0)
    monkeypatch.setattr(environments.staging, "settings", lambda: EnvironmentSettings.model_validate(broken))
    assert main.main(["--env", "staging", "--outdir", str(tmp_path)]) == 2
    message = capsys.readouterr().err
    assert "environments/staging.py" in message
    assert "database.backup_retention_days" in message


def test_unknown_layer_from_the_environment_stops_synth(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("MDREADER_LAYERS", "network,databse")
    assert main.main(["--env", "dev", "--outdir", str(tmp_path)]) == 2
    assert "databse" in capsys.readouterr().err


def test_settings_are_immutable() -> None:
    settings = environments.load("prod")
    with pytest.raises(ValueError, match="frozen"):
        settings.database.multi_az = False  # type: ignore[misc]


@pytest.mark.parametrize("env", environments.ENVIRONMENT_NAMES)
def test_shared_defaults_come_from_the_base(env: str) -> None:
    """environments/base.py writes what every environment shares once; the names derive from name/domain."""
    settings = environments.load(env)
    assert settings.region == base.REGION
    assert settings.api_domain_name == f"api.{settings.domain_name}"
    assert settings.backup.schedule == base.BACKUP_SCHEDULE
    assert settings.backup.retention_days == settings.database.backup_retention_days
    assert settings.cicd.github_environment == env
    assert settings.auth.hosted_ui_domain_prefix == settings.prefix
    assert str(settings.storage.cors_allowed_origins[0]).rstrip("/") == f"https://{settings.domain_name}"
    log_groups = (
        settings.api.log_retention_days,
        settings.sync.log_retention_days,
        settings.edge.log_retention_days,
        settings.database.log_retention_days,
        settings.cache.log_retention_days,
        settings.network.flow_log_retention_days,
    )
    assert set(log_groups) == {settings.monitoring.log_retention_days}


def test_a_section_overrides_a_shared_default_and_a_typo_is_named() -> None:
    dev = environments.load("dev")
    common: dict[str, Any] = {
        "account_id": dev.account_id,
        "domain_name": dev.domain_name,
        "kms_deletion_window_days": dev.kms_deletion_window_days,
        "log_retention_days": 30,
        "deletion_protection": False,
        "backup_retention_days": 7,
    }
    sections = dev.model_dump(
        include={"network", "database", "cache", "storage", "monitoring", "auth", "api", "sync"}
    )
    overridden = base.environment("dev", **common, **sections, edge={"log_retention_days": 90})
    assert overridden.edge.log_retention_days == 90
    assert overridden.api.log_retention_days == 30
    with pytest.raises(ValueError, match="databse"):
        base.environment("dev", **common, **sections, databse={})
