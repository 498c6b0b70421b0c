"""What dev, staging and prod share, written once: ``environment(...)`` builds an environment's settings
from only what makes it differ.

Shared here: the region, the database and cache engines, the storage sizes and lifecycle floors, the
backup window, the GitHub repository, and every name derived from the environment's name or domain (API
domain, CORS origins, sign-in callback and logout URLs, hosted UI prefix, GitHub environment). Three
values apply across layers: ``log_retention_days`` (every CloudWatch log group), ``deletion_protection``
(database, user pool, sync load balancer) and ``backup_retention_days`` (RDS automated backups and AWS
Backup). Each section mapping an environment passes is merged over these defaults, so it can also
override one of them; pydantic validates the result (unknown keys are errors, named with their section).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from environments.settings import EnvironmentSettings

REGION = "eu-central-1"
GITHUB_REPOSITORY = "mdreader/mdreader-cloud"
#: Daily at 03:00 UTC, after the RDS backup window (02:00-02:30).
BACKUP_SCHEDULE = "cron(0 3 * * ? *)"


def environment(
    name: Literal["dev", "staging", "prod"],
    *,
    account_id: str,
    domain_name: str,
    kms_deletion_window_days: int,
    log_retention_days: int,
    deletion_protection: bool,
    backup_retention_days: int,
    local_origins: tuple[str, ...] = (),
    **sections: Mapping[str, Any],
) -> EnvironmentSettings:
    """The settings of environment ``name``: the shared defaults, then ``sections`` (per section of
    ``EnvironmentSettings``, the values that differ). ``local_origins`` are extra web origins (a local
    dev server) admitted for CORS and as sign-in callback and logout URLs after the site's own.
    """
    site = f"https://{domain_name}"
    origins = (site, *local_origins)
    shared: dict[str, dict[str, Any]] = {
        "network": {"flow_log_retention_days": log_retention_days},
        "database": {
            "engine_version": "17",
            "allocated_storage_gb": 20,
            "max_allocated_storage_gb": 1000,
            "deletion_protection": deletion_protection,
            "backup_retention_days": backup_retention_days,
            "log_retention_days": log_retention_days,
        },
        "cache": {
            "engine": "valkey",
            "engine_version": "8.0",
            "parameter_group_family": "valkey8",
            "log_retention_days": log_retention_days,
        },
        "storage": {
            "cors_allowed_origins": origins,
            "infrequent_access_after_days": 30,
            "abort_incomplete_multipart_days": 7,
        },
        "backup": {"schedule": BACKUP_SCHEDULE, "retention_days": backup_retention_days},
        "monitoring": {"log_retention_days": log_retention_days},
        "auth": {
            "hosted_ui_domain_prefix": f"mdreader-{name}",
            "web_callback_urls": tuple(f"{origin}/auth/callback" for origin in origins),
            "web_logout_urls": tuple(f"{origin}/" for origin in origins),
            "deletion_protection": deletion_protection,
        },
        "api": {"log_retention_days": log_retention_days},
        "sync": {"deletion_protection": deletion_protection, "log_retention_days": log_retention_days},
        "edge": {"log_retention_days": log_retention_days},
        "cicd": {"github_repository": GITHUB_REPOSITORY, "github_environment": name},
    }
    for section, values in sections.items():
        shared[section] = {**shared.get(section, {}), **values}
    return EnvironmentSettings.model_validate(
        {
            "name": name,
            "region": REGION,
            "account_id": account_id,
            "domain_name": domain_name,
            "api_domain_name": f"api.{domain_name}",
            "kms_deletion_window_days": kms_deletion_window_days,
            **shared,
        }
    )
