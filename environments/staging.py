"""staging: prod's shape (two cache nodes with failover, RDS Proxy) at smaller sizes and retention."""

from environments.settings import (
    BackupSettings,
    CacheSettings,
    DatabaseSettings,
    EnvironmentSettings,
    MonitoringSettings,
    NetworkSettings,
    StorageSettings,
)


def settings() -> EnvironmentSettings:
    return EnvironmentSettings(
        name="staging",
        region="eu-central-1",
        account_id="222222222222",
        domain_name="staging.mdreader.example.com",
        api_domain_name="api.staging.mdreader.example.com",
        kms_deletion_window_days=14,
        network=NetworkSettings(
            vpc_cidr="10.1.0.0/16",
            az_count=2,
            nat_gateway_per_az=False,
            flow_log_retention_days=90,
        ),
        database=DatabaseSettings(
            engine_version="17",
            instance_class="db.t4g.small",
            allocated_storage_gb=20,
            max_allocated_storage_gb=1000,
            multi_az=False,
            deletion_protection=True,
            backup_retention_days=14,
            log_retention_days=90,
            performance_insights_retention_days=7,
            monitoring_interval_seconds=60,
            slow_statement_ms=500,
            rds_proxy_enabled=True,
        ),
        cache=CacheSettings(
            engine="valkey",
            engine_version="8.0",
            parameter_group_family="valkey8",
            node_type="cache.t4g.small",
            node_count=2,
            automatic_failover=True,
            snapshot_retention_days=3,
            log_retention_days=90,
        ),
        storage=StorageSettings(
            cors_allowed_origins=("https://staging.mdreader.example.com",),
            infrequent_access_after_days=30,
            glacier_after_days=90,
            noncurrent_version_expiry_days=60,
            abort_incomplete_multipart_days=7,
            access_log_retention_days=180,
        ),
        backup=BackupSettings(schedule="cron(0 3 * * ? *)", retention_days=14),
        monitoring=MonitoringSettings(log_retention_days=90),
    )
