"""prod: Multi-AZ everywhere, a NAT gateway per AZ, deletion protection, 30-day backups, 1-year logs."""

from environments.base import environment
from environments.settings import EnvironmentSettings


def settings() -> EnvironmentSettings:
    return environment(
        "prod",
        account_id="333333333333",
        domain_name="mdreader.example.com",
        kms_deletion_window_days=30,
        log_retention_days=365,
        deletion_protection=True,
        backup_retention_days=30,
        network={"vpc_cidr": "10.2.0.0/16", "az_count": 3, "nat_gateway_per_az": True},
        database={
            "instance_class": "db.m7g.large",
            "multi_az": True,
            "performance_insights_retention_days": 31,
            "monitoring_interval_seconds": 30,
            "slow_statement_ms": 250,
            "rds_proxy_enabled": True,
        },
        cache={
            "node_type": "cache.m7g.large",
            "node_count": 2,
            "automatic_failover": True,
            "snapshot_retention_days": 7,
        },
        storage={
            "glacier_after_days": 180,
            "noncurrent_version_expiry_days": 90,
            "access_log_retention_days": 365,
        },
        monitoring={"monthly_budget_usd": 250},
        auth={"threat_protection": "ENFORCED"},
        api={"reserved_concurrency": 200, "throttling_rate_limit": 500, "throttling_burst_limit": 1000},
        sync={"desired_count": 2, "min_count": 2, "max_count": 6},
    )
