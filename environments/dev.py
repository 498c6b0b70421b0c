"""dev: smallest and cheapest; single NAT, single-AZ database, no deletion protection, short retention."""

from environments.settings import (
    ApiSettings,
    AuthSettings,
    BackupSettings,
    CacheSettings,
    DatabaseSettings,
    EnvironmentSettings,
    MonitoringSettings,
    NetworkSettings,
    StorageSettings,
    SyncSettings,
)


def settings() -> EnvironmentSettings:
    return EnvironmentSettings(
        name="dev",
        region="eu-central-1",
        account_id="111111111111",
        domain_name="dev.mdreader.example.com",
        api_domain_name="api.dev.mdreader.example.com",
        kms_deletion_window_days=7,
        network=NetworkSettings(
            vpc_cidr="10.0.0.0/16",
            az_count=2,
            nat_gateway_per_az=False,
            flow_log_retention_days=30,
        ),
        database=DatabaseSettings(
            engine_version="17",
            instance_class="db.t4g.micro",
            allocated_storage_gb=20,
            max_allocated_storage_gb=1000,
            multi_az=False,
            deletion_protection=False,
            backup_retention_days=7,
            log_retention_days=30,
            performance_insights_retention_days=7,
            monitoring_interval_seconds=60,
            slow_statement_ms=500,
            rds_proxy_enabled=False,
        ),
        cache=CacheSettings(
            engine="valkey",
            engine_version="8.0",
            parameter_group_family="valkey8",
            node_type="cache.t4g.micro",
            node_count=1,
            automatic_failover=False,
            snapshot_retention_days=1,
            log_retention_days=30,
        ),
        storage=StorageSettings(
            cors_allowed_origins=("https://dev.mdreader.example.com", "http://localhost:5173"),
            infrequent_access_after_days=30,
            glacier_after_days=90,
            noncurrent_version_expiry_days=30,
            abort_incomplete_multipart_days=7,
            access_log_retention_days=90,
        ),
        backup=BackupSettings(schedule="cron(0 3 * * ? *)", retention_days=7),
        monitoring=MonitoringSettings(log_retention_days=30, monthly_budget_usd=30),
        auth=AuthSettings(
            hosted_ui_domain_prefix="mdreader-dev",
            web_callback_urls=(
                "https://dev.mdreader.example.com/auth/callback",
                "http://localhost:5173/auth/callback",
            ),
            web_logout_urls=(
                "https://dev.mdreader.example.com/",
                "http://localhost:5173/",
            ),
            deletion_protection=False,
            threat_protection="OFF",
        ),
        api=ApiSettings(
            reserved_concurrency=10,
            throttling_rate_limit=20,
            throttling_burst_limit=40,
            log_retention_days=30,
        ),
        sync=SyncSettings(
            desired_count=1,
            min_count=1,
            max_count=2,
            deletion_protection=False,
            log_retention_days=30,
        ),
    )
