"""dev: smallest and cheapest; single NAT, single-AZ database, no deletion protection, short retention."""

from environments.base import environment
from environments.settings import EnvironmentSettings


def settings() -> EnvironmentSettings:
    return environment(
        "dev",
        account_id="111111111111",
        domain_name="dev.mdreader.example.com",
        # The Vite dev server: CORS origin, sign-in callback and logout URL next to the site's own.
        local_origins=("http://localhost:5173",),
        kms_deletion_window_days=7,
        log_retention_days=30,
        deletion_protection=False,
        backup_retention_days=7,
        network={"vpc_cidr": "10.0.0.0/16", "az_count": 2, "nat_gateway_per_az": False},
        database={
            "instance_class": "db.t4g.micro",
            "multi_az": False,
            "performance_insights_retention_days": 7,
            "monitoring_interval_seconds": 60,
            "slow_statement_ms": 500,
            "rds_proxy_enabled": False,
        },
        cache={
            "node_type": "cache.t4g.micro",
            "node_count": 1,
            "automatic_failover": False,
            "snapshot_retention_days": 1,
        },
        storage={
            "glacier_after_days": 90,
            "noncurrent_version_expiry_days": 30,
            "access_log_retention_days": 90,
        },
        monitoring={"monthly_budget_usd": 30},
        auth={"threat_protection": "OFF"},
        api={"reserved_concurrency": 10, "throttling_rate_limit": 20, "throttling_burst_limit": 40},
        sync={"desired_count": 1, "min_count": 1, "max_count": 2},
    )
