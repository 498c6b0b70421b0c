"""staging: prod's shape (two cache nodes with failover, RDS Proxy) at smaller sizes and retention."""

from environments.base import environment
from environments.settings import EnvironmentSettings


def settings() -> EnvironmentSettings:
    return environment(
        "staging",
        account_id="222222222222",
        domain_name="staging.mdreader.example.com",
        kms_deletion_window_days=14,
        log_retention_days=90,
        deletion_protection=True,
        backup_retention_days=14,
        network={"vpc_cidr": "10.1.0.0/16", "az_count": 2, "nat_gateway_per_az": False},
        database={
            "instance_class": "db.t4g.small",
            "multi_az": False,
            "performance_insights_retention_days": 7,
            "monitoring_interval_seconds": 60,
            "slow_statement_ms": 500,
            "rds_proxy_enabled": True,
        },
        cache={
            "node_type": "cache.t4g.small",
            "node_count": 2,
            "automatic_failover": True,
            "snapshot_retention_days": 3,
        },
        storage={
            "glacier_after_days": 90,
            "noncurrent_version_expiry_days": 60,
            "access_log_retention_days": 180,
        },
        monitoring={"monthly_budget_usd": 60},
        auth={"threat_protection": "AUDIT"},
        api={"reserved_concurrency": 25, "throttling_rate_limit": 50, "throttling_burst_limit": 100},
        sync={"desired_count": 1, "min_count": 1, "max_count": 3},
    )
