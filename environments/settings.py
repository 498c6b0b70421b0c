"""Typed settings of one deployment environment.

Every difference between dev, staging and prod is a value here; the layers in ``modules/`` read nothing
else. Validation runs when an environment's settings are built, so a wrong value stops synthesis with a
message naming the field (see ``environments.load``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, model_validator

#: Retention periods CloudWatch Logs accepts (days).
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
#: Enhanced-monitoring intervals RDS accepts (seconds; 0 would switch it off, which we never do).
MONITORING_INTERVALS = frozenset({1, 5, 10, 15, 30, 60})
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _log_retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        raise ValueError(f"{days} is not a CloudWatch Logs retention period ({sorted(LOG_RETENTION_DAYS)})")
    return days


def _domain(name: str) -> str:
    if not _DOMAIN.match(name):
        raise ValueError(f"{name!r} is not a lower-case DNS name")
    return name


LogRetentionDays = Annotated[int, AfterValidator(_log_retention)]
DomainName = Annotated[str, AfterValidator(_domain)]


class _Settings(BaseModel):
    """Immutable, and unknown keys are errors (a typo must not silently fall back to a default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class NetworkSettings(_Settings):
    vpc_cidr: ipaddress.IPv4Network = Field(description="One /16 per environment so they can peer later.")
    az_count: int = Field(ge=2, le=6, description="Availability zones with a public and a private subnet.")
    subnet_prefix_length: int = Field(default=20, ge=16, le=28, description="Size of every subnet.")
    nat_gateway_per_az: bool = Field(description="One NAT gateway per AZ (resilient) or a single shared one.")
    flow_log_retention_days: LogRetentionDays
    interface_endpoints: tuple[str, ...] = Field(
        default=("secretsmanager", "logs", "ecr.api", "ecr.dkr", "sts"),
        min_length=1,
        description="AWS services reached through interface endpoints instead of the NAT gateway.",
    )

    @model_validator(mode="after")
    def _subnets_fit(self) -> Self:
        if self.subnet_prefix_length <= self.vpc_cidr.prefixlen:
            raise ValueError("subnet_prefix_length must be longer than the VPC prefix")
        available = 2 ** (self.subnet_prefix_length - self.vpc_cidr.prefixlen)
        if available < 2 * self.az_count:
            raise ValueError(f"vpc_cidr holds {available} subnets, {2 * self.az_count} are needed")
        return self


class DatabaseSettings(_Settings):
    engine_version: str = Field(pattern=r"^1[4-9](\.\d+)?$", description="PostgreSQL major (or major.minor).")
    instance_class: str = Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")
    allocated_storage_gb: int = Field(ge=20, le=65536)
    max_allocated_storage_gb: int = Field(le=65536, description="Storage autoscaling ceiling.")
    multi_az: bool
    deletion_protection: bool
    backup_retention_days: int = Field(ge=1, le=35)
    log_retention_days: LogRetentionDays
    performance_insights_retention_days: int = Field(
        ge=7, le=731, description="7 (free tier), or a multiple of 31 up to 731."
    )
    monitoring_interval_seconds: int = Field(description="Enhanced monitoring granularity.")
    slow_statement_ms: int = Field(ge=100, description="log_min_duration_statement.")
    rds_proxy_enabled: bool = Field(description="Put an RDS Proxy in front of the instance for Lambda.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.max_allocated_storage_gb < self.allocated_storage_gb:
            raise ValueError("max_allocated_storage_gb must be >= allocated_storage_gb")
        if self.monitoring_interval_seconds not in MONITORING_INTERVALS:
            raise ValueError(f"monitoring_interval_seconds must be one of {sorted(MONITORING_INTERVALS)}")
        days = self.performance_insights_retention_days
        if days != 7 and days % 31:
            raise ValueError("performance_insights_retention_days must be 7 or a multiple of 31")
        return self


class CacheSettings(_Settings):
    engine: Literal["valkey", "redis"]
    engine_version: str = Field(pattern=r"^\d+\.\d+$")
    parameter_group_family: str = Field(pattern=r"^(valkey|redis)\d+(\.x)?$")
    node_type: str = Field(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
    node_count: int = Field(ge=1, le=6, description="Primary plus replicas.")
    automatic_failover: bool
    snapshot_retention_days: int = Field(ge=0, le=35)
    log_retention_days: LogRetentionDays

    @model_validator(mode="after")
    def _failover_needs_replica(self) -> Self:
        if self.automatic_failover and self.node_count < 2:
            raise ValueError("automatic_failover needs node_count >= 2")
        if not self.parameter_group_family.startswith(self.engine):
            raise ValueError("parameter_group_family must belong to the engine")
        return self


class StorageSettings(_Settings):
    cors_allowed_origins: tuple[HttpUrl, ...] = Field(min_length=1, description="The app's origins only.")
    infrequent_access_after_days: int = Field(ge=30, description="S3 requires >= 30 for STANDARD_IA.")
    glacier_after_days: int
    noncurrent_version_expiry_days: int = Field(ge=1)
    abort_incomplete_multipart_days: int = Field(ge=1, le=30)
    access_log_retention_days: int = Field(ge=1)

    @model_validator(mode="after")
    def _glacier_after_ia(self) -> Self:
        if self.glacier_after_days < self.infrequent_access_after_days + 30:
            raise ValueError("glacier_after_days must be >= infrequent_access_after_days + 30")
        if any(
            origin.scheme != "https" and origin.host != "localhost" for origin in self.cors_allowed_origins
        ):
            raise ValueError("cors_allowed_origins must be https (http only for localhost)")
        return self


class BackupSettings(_Settings):
    schedule: str = Field(pattern=r"^cron\(.+\)$", description="AWS Backup schedule expression (UTC).")
    retention_days: int = Field(ge=1, le=36500)


class MonitoringSettings(_Settings):
    log_retention_days: LogRetentionDays


class EnvironmentSettings(_Settings):
    """One environment: where it runs and how big, resilient and long-lived each layer is."""

    name: Literal["dev", "staging", "prod"]
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    account_id: str = Field(pattern=r"^\d{12}$", description="Placeholder until the account exists.")
    domain_name: DomainName = Field(description="Where users reach the app.")
    api_domain_name: DomainName
    kms_deletion_window_days: int = Field(ge=7, le=30)
    network: NetworkSettings
    database: DatabaseSettings
    cache: CacheSettings
    storage: StorageSettings
    backup: BackupSettings
    monitoring: MonitoringSettings

    @property
    def prefix(self) -> str:
        """Prefix of every resource and stack name: ``mdreader-<env>``."""
        return f"mdreader-{self.name}"

    @property
    def state_bucket(self) -> str:
        """Name of the Terraform state bucket that the bootstrap layer creates."""
        return f"{self.prefix}-tfstate-{self.account_id}"

    @property
    def state_key_alias(self) -> str:
        return f"alias/{self.prefix}-tfstate"

    @property
    def availability_zones(self) -> tuple[str, ...]:
        """The first ``network.az_count`` zones of the region (a, b, c, ...), named without a lookup."""
        return tuple(f"{self.region}{letter}" for letter in "abcdef"[: self.network.az_count])

    @model_validator(mode="after")
    def _resilience(self) -> Self:
        if self.database.multi_az and self.network.az_count < 2:
            raise ValueError("database.multi_az needs network.az_count >= 2")
        if self.cache.node_count > self.network.az_count and self.cache.automatic_failover:
            raise ValueError("cache.node_count must not exceed network.az_count")
        return self
