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
#: Memory (GiB) of the instance classes we use; PostgreSQL's default max_connections derives from it.
DB_INSTANCE_MEMORY_GIB = {
    "db.t4g.micro": 1,
    "db.t4g.small": 2,
    "db.t4g.medium": 4,
    "db.t4g.large": 8,
    "db.m7g.large": 8,
    "db.m7g.xlarge": 16,
    "db.r7g.large": 16,
    "db.r7g.xlarge": 32,
}
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
        if self.instance_class not in DB_INSTANCE_MEMORY_GIB:
            raise ValueError(f"instance_class must be one of {sorted(DB_INSTANCE_MEMORY_GIB)}")
        days = self.performance_insights_retention_days
        if days != 7 and days % 31:
            raise ValueError("performance_insights_retention_days must be 7 or a multiple of 31")
        return self

    @property
    def max_connections(self) -> int:
        """RDS PostgreSQL's default: LEAST(DBInstanceClassMemory / 9531392, 5000)."""
        return min(DB_INSTANCE_MEMORY_GIB[self.instance_class] * 2**30 // 9531392, 5000)


class CacheSettings(_Settings):
    engine: Literal["valkey", "redis"]
    engine_version: str = Field(pattern=r"^\d+\.\d+$")
    parameter_group_family: str = Field(pattern=r"^(valkey|redis)\d+(\.x)?$")
    node_type: str = Field(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
    node_count: int = Field(ge=1, le=6, description="Primary plus replicas.")
    automatic_failover: bool
    snapshot_retention_days: int = Field(ge=0, le=35)
    log_retention_days: LogRetentionDays
    auth_token_version: int = Field(
        default=1, ge=1, description="Raise by one to rotate the AUTH token (ElastiCache ROTATE strategy)."
    )

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
    monthly_budget_usd: int = Field(
        ge=1, description="AWS Budgets limit; alerts at 80% actual, 100% forecast."
    )
    api_latency_alarm_seconds: float = Field(
        default=5.0, gt=0, description="Average over two 5-minute periods."
    )
    db_connections_alarm_percent: int = Field(default=80, ge=10, le=100, description="Of max_connections.")
    rds_cpu_alarm_percent: int = Field(default=80, ge=10, le=100)
    rds_free_storage_alarm_gb: int = Field(default=5, ge=1)
    cache_memory_alarm_percent: int = Field(default=80, ge=10, le=100)
    cache_cpu_alarm_percent: int = Field(default=80, ge=10, le=100)
    xray_sampling_rate: float = Field(
        default=0.05, ge=0, le=1, description="Fraction traced after reservoir."
    )
    xray_reservoir_per_second: int = Field(default=1, ge=0)


class IdentityProviderSettings(_Settings):
    """A social sign-in provider; the client secret stays in Secrets Manager (only its ARN is here)."""

    kind: Literal["Google", "GitHub"]
    client_id: str = Field(min_length=1)
    client_secret_arn: str = Field(pattern=r"^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$")
    oidc_issuer: HttpUrl | None = Field(
        default=None,
        description="GitHub only: the OIDC shim in front of GitHub's OAuth (Cognito needs OIDC).",
    )

    @model_validator(mode="after")
    def _github_needs_issuer(self) -> Self:
        if (self.kind == "GitHub") != (self.oidc_issuer is not None):
            raise ValueError("oidc_issuer is required for GitHub and only for GitHub")
        return self


#: The desktop app (Tauri) signs in through these redirect origins on every environment.
DESKTOP_REDIRECT_URLS = ("tauri://localhost", "http://tauri.localhost")


class AuthSettings(_Settings):
    hosted_ui_domain_prefix: str = Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
    web_callback_urls: tuple[HttpUrl, ...] = Field(min_length=1)
    web_logout_urls: tuple[HttpUrl, ...] = Field(min_length=1)
    deletion_protection: bool
    threat_protection: Literal["OFF", "AUDIT", "ENFORCED"] = Field(
        description="Cognito advanced security (needs the Plus feature plan unless OFF)."
    )
    password_minimum_length: int = Field(default=8, ge=8, le=99)
    access_token_minutes: int = Field(default=60, ge=5, le=1440)
    id_token_minutes: int = Field(default=60, ge=5, le=1440)
    refresh_token_days: int = Field(default=30, ge=1, le=3650)
    identity_providers: tuple[IdentityProviderSettings, ...] = ()

    @model_validator(mode="after")
    def _https_urls(self) -> Self:
        for url in (*self.web_callback_urls, *self.web_logout_urls):
            if url.scheme != "https" and url.host != "localhost":
                raise ValueError("callback and logout URLs must be https (http only for localhost)")
        if len({provider.kind for provider in self.identity_providers}) != len(self.identity_providers):
            raise ValueError("identity_providers: one entry per kind")
        return self


class ApiSettings(_Settings):
    """The backend Lambda behind the HTTP API, and the file-processing Lambda fed by storage events."""

    memory_mb: int = Field(default=1024, ge=128, le=10240)
    timeout_seconds: int = Field(default=30, ge=3, le=30, description="HTTP APIs give up after 30 s.")
    reserved_concurrency: int = Field(ge=1, description="Caps the function and the database connections.")
    throttling_rate_limit: int = Field(ge=1, description="Steady requests per second for the stage.")
    throttling_burst_limit: int = Field(ge=1)
    log_retention_days: LogRetentionDays
    files_handler: str = Field(
        default="mdreader_backend.lambda_handler.handle_storage_event",
        pattern=r"^[a-z_][a-z0-9_.]*\.[a-z_]+$",
    )
    signing_key_rotation_days: int = Field(
        default=30, ge=1, le=90, description="Secrets Manager rotates SECRET_KEY this often."
    )
    files_memory_mb: int = Field(default=512, ge=128, le=10240)
    files_timeout_seconds: int = Field(default=60, ge=3, le=900)
    files_reserved_concurrency: int = Field(default=5, ge=1)
    storage_prefixes: tuple[str, ...] = Field(
        default=("attachments/", "snapshots/"), min_length=1, description="What the backend may read/write."
    )
    uploads_prefix: str = Field(
        default="attachments/", description="New objects here reach the files Lambda."
    )

    @model_validator(mode="after")
    def _prefixes(self) -> Self:
        if not all(prefix.endswith("/") and prefix.strip("/") for prefix in self.storage_prefixes):
            raise ValueError("storage_prefixes must be non-empty folder names ending in '/'")
        if self.uploads_prefix not in self.storage_prefixes:
            raise ValueError("uploads_prefix must be one of storage_prefixes")
        return self


class SyncSettings(_Settings):
    """The sync service on Fargate behind its load balancer."""

    cpu_units: Literal[256, 512, 1024, 2048, 4096] = 512
    memory_mb: int = Field(default=1024, ge=512, le=30720)
    desired_count: int = Field(
        ge=1, description="Tasks at deploy time; autoscaling moves between min and max."
    )
    min_count: int = Field(ge=1)
    max_count: int = Field(ge=1)
    cpu_target_percent: int = Field(default=60, ge=10, le=90)
    connections_per_task: int = Field(
        default=500, ge=1, description="Open WebSockets per task the service scales out to keep (average)."
    )
    connection_alarm_count: int = Field(default=5000, ge=1, description="Active connections worth an alert.")
    idle_timeout_seconds: int = Field(default=600, ge=300, le=4000, description="Above the client keepalive.")
    deregistration_delay_seconds: int = Field(default=60, ge=0, le=3600)
    stop_timeout_seconds: int = Field(default=60, ge=2, le=120, description="SIGTERM drain before SIGKILL.")
    deletion_protection: bool
    log_retention_days: LogRetentionDays
    waf_rate_limit_per_ip: int = Field(
        default=1000, ge=100, description="Requests per 5 minutes (the seed's)."
    )
    origin_subdomain: str = Field(default="sync-origin", pattern=r"^[a-z0-9-]+$")

    @model_validator(mode="after")
    def _counts(self) -> Self:
        if not self.min_count <= self.desired_count <= self.max_count:
            raise ValueError("min_count <= desired_count <= max_count must hold")
        return self


class EmailSettings(_Settings):
    mail_from_subdomain: str = Field(default="mail", pattern=r"^[a-z0-9-]+$")
    dmarc_policy: Literal["none", "quarantine", "reject"] = Field(
        default="quarantine", description="The DMARC record the edge layer publishes for the domain."
    )


class EdgeSettings(_Settings):
    """CloudFront in front of the web app, the API and the sync service; the domain's DNS zone."""

    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = Field(
        default="PriceClass_100", description="North America and Europe edge locations (the seed's)."
    )
    waf_rate_limit_per_ip: int = Field(
        default=1000, ge=100, description="Requests per 5 minutes (the seed's)."
    )
    log_retention_days: LogRetentionDays
    api_path: str = Field(
        default="/api",
        pattern=r"^/[a-z0-9-]+$",
        description="Forwarded unchanged to the HTTP API (/api/v1/...).",
    )
    sync_path: str = Field(default="/sync", pattern=r"^/[a-z0-9-]+$", description="WebSockets to the ALB.")
    hsts_max_age_seconds: int = Field(default=63072000, ge=31536000, description="Two years, preload-ready.")
    amplify_enabled: bool = Field(
        default=False, description="Amplify Hosting as an alternative host of the web app (off: CloudFront)."
    )
    amplify_repository: HttpUrl | None = Field(default=None, description="Git repository Amplify builds.")
    amplify_branch: str = Field(default="main", min_length=1)

    @model_validator(mode="after")
    def _paths(self) -> Self:
        if self.api_path == self.sync_path:
            raise ValueError("api_path and sync_path must differ")
        if self.amplify_repository is not None and not self.amplify_enabled:
            raise ValueError("amplify_repository is set but amplify_enabled is false")
        return self


class CicdSettings(_Settings):
    """Who may deploy: GitHub Actions jobs of one repository, through OIDC (no long-lived keys)."""

    github_repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="owner/name")
    github_environment: str = Field(
        pattern=r"^[a-z0-9-]+$",
        description="GitHub environment whose jobs may assume the deploy role (protected for prod).",
    )


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
    auth: AuthSettings
    api: ApiSettings
    sync: SyncSettings
    edge: EdgeSettings
    cicd: CicdSettings
    email: EmailSettings = EmailSettings()

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
