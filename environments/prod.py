"""prod: Multi-AZ everywhere, a NAT gateway per AZ, deletion protection, 30-day backups, 1-year logs."""

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
        name="prod",
        region="eu-central-1",
        account_id="333333333333",
        domain_name="mdreader.example.com",
        api_domain_name="api.mdreader.example.com",
        kms_deletion_window_days=30,
        network=NetworkSettings(
            vpc_cidr="10.2.0.0/16",
            az_count=3,
            nat_gateway_per_az=True,
            flow_log_retention_days=365,
        ),
        database=DatabaseSettings(
            engine_version="17",
            instance_class="db.m7g.large",
            allocated_storage_gb=20,
            max_allocated_storage_gb=1000,
            multi_az=True,
            deletion_protection=True,
            backup_retention_days=30,
            log_retention_days=365,
            performance_insights_retention_days=31,
            monitoring_interval_seconds=30,
            slow_statement_ms=250,
            rds_proxy_enabled=True,
        ),
        cache=CacheSettings(
            engine="valkey",
            engine_version="8.0",
            parameter_group_family="valkey8",
            node_type="cache.m7g.large",
            node_count=2,
            automatic_failover=True,
            snapshot_retention_days=7,
            log_retention_days=365,
        ),
        storage=StorageSettings(
            cors_allowed_origins=("https://mdreader.example.com",),
            infrequent_access_after_days=30,
            glacier_after_days=180,
            noncurrent_version_expiry_days=90,
            abort_incomplete_multipart_days=7,
            access_log_retention_days=365,
        ),
        backup=BackupSettings(schedule="cron(0 3 * * ? *)", retention_days=30),
        monitoring=MonitoringSettings(log_retention_days=365),
    )
