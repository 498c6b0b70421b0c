"""data layer: RDS PostgreSQL and an ElastiCache (Valkey/Redis) replication group in the private
subnets, their security groups (admitting only the application tiers), parameter groups, logs and
secrets, and an optional RDS Proxy for Lambda.

No secret appears in the configuration: RDS manages the master password in Secrets Manager, and the
cache AUTH token is generated at deploy time into a Secrets Manager secret (write-only, so the value is
neither in the plan nor in that resource's state) and read back for the replication group. Provider 5.100
has no write-only ``auth_token_wo`` for ElastiCache, so the token does end up in this stack's state,
which lives in the KMS-encrypted state bucket.
"""

from __future__ import annotations

from typing import ClassVar

from cdktn_provider_aws.data_aws_secretsmanager_secret_version import DataAwsSecretsmanagerSecretVersion
from cdktn_provider_aws.db_instance import DbInstance
from cdktn_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktn_provider_aws.db_proxy import DbProxy, DbProxyAuth
from cdktn_provider_aws.db_proxy_default_target_group import (
    DbProxyDefaultTargetGroup,
    DbProxyDefaultTargetGroupConnectionPoolConfig,
)
from cdktn_provider_aws.db_proxy_target import DbProxyTarget
from cdktn_provider_aws.db_subnet_group import DbSubnetGroup
from cdktn_provider_aws.elasticache_replication_group import (
    ElasticacheReplicationGroup,
    ElasticacheReplicationGroupLogDeliveryConfiguration,
)
from cdktn_provider_aws.elasticache_subnet_group import ElasticacheSubnetGroup
from cdktn_provider_aws.ephemeral_aws_secretsmanager_random_password import (
    EphemeralAwsSecretsmanagerRandomPassword,
)
from cdktn_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktn_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion

from environments import EnvironmentSettings
from environments.settings import CacheSettings, DatabaseSettings
from modules._cdk import Construct
from modules.common import (
    CACHE_SUFFIX,
    POSTGRES_SUFFIX,
    CustomerManagedKey,
    LayerStack,
    Placement,
    SecurityGroupWithRules,
    ServiceRole,
    admitting_tiers,
    encrypted_log_group,
    use_through_services,
)
from modules.monitoring import MonitoringStack
from modules.network import POSTGRES, REDIS, NetworkStack

#: The RDS-managed policy enhanced monitoring needs (it can not be narrowed: it only writes RDSOSMetrics).
ENHANCED_MONITORING_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
#: A CA whose certificates RDS rotates without client changes until 2061.
RDS_CA = "rds-ca-rsa2048-g1"
POSTGRES_LOG_EXPORTS = ("postgresql", "upgrade")


class PostgresDatabase(Construct):
    """RDS PostgreSQL: encrypted with the layer key, private, TLS forced, slow statements and DDL logged
    (exported to encrypted log groups), IAM auth, Performance Insights, enhanced monitoring, automated
    backups and a master password RDS keeps in Secrets Manager.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        identifier: str,
        config: DatabaseSettings,
        placement: Placement,
        key: CustomerManagedKey,
        logs_key_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = admitting_tiers(
            self,
            "sg",
            name=identifier,
            service="PostgreSQL",
            port=POSTGRES,
            placement=placement,
        )
        self.subnet_group = DbSubnetGroup(
            self, "subnets", name=identifier, subnet_ids=list(placement.subnet_ids)
        )
        major = config.engine_version.split(".")[0]
        self.parameter_group = DbParameterGroup(
            self,
            "parameters",
            name=f"{identifier}-postgres{major}",
            family=f"postgres{major}",
            description="TLS only; log DDL and slow statements",
            parameter=[
                DbParameterGroupParameter(name="rds.force_ssl", value="1"),
                DbParameterGroupParameter(name="log_statement", value="ddl"),
                DbParameterGroupParameter(
                    name="log_min_duration_statement", value=str(config.slow_statement_ms)
                ),
            ],
        )
        self.log_groups = [
            encrypted_log_group(
                self,
                f"log-{log_type}",
                name=f"/aws/rds/instance/{identifier}/{log_type}",
                retention_days=config.log_retention_days,
                kms_key_arn=logs_key_arn,
            )
            for log_type in POSTGRES_LOG_EXPORTS
        ]
        self.monitoring_role = ServiceRole(
            self,
            "monitoring-role",
            settings=settings,
            name=f"{identifier}-monitoring",
            service="monitoring.rds.amazonaws.com",
            managed_policy_arns=[ENHANCED_MONITORING_POLICY_ARN],
        )
        self.instance = DbInstance(
            self,
            "instance",
            identifier=identifier,
            engine="postgres",
            engine_version=config.engine_version,
            instance_class=config.instance_class,
            allocated_storage=config.allocated_storage_gb,
            max_allocated_storage=config.max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=key.arn,
            db_name="mdreader",
            username="mdreader_admin",
            manage_master_user_password=True,
            master_user_secret_kms_key_id=key.arn,
            iam_database_authentication_enabled=True,
            db_subnet_group_name=self.subnet_group.name,
            vpc_security_group_ids=[self.security_group.id],
            parameter_group_name=self.parameter_group.name,
            publicly_accessible=False,
            ca_cert_identifier=RDS_CA,
            multi_az=config.multi_az,
            deletion_protection=config.deletion_protection,
            # What deletion protection guards against also deserves a final snapshot.
            skip_final_snapshot=not config.deletion_protection,
            final_snapshot_identifier=f"{identifier}-final",
            backup_retention_period=config.backup_retention_days,
            backup_window="02:00-02:30",
            maintenance_window="sun:03:00-sun:04:00",
            copy_tags_to_snapshot=True,
            delete_automated_backups=False,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            apply_immediately=False,
            enabled_cloudwatch_logs_exports=list(POSTGRES_LOG_EXPORTS),
            performance_insights_enabled=True,
            performance_insights_kms_key_id=key.arn,
            performance_insights_retention_period=config.performance_insights_retention_days,
            monitoring_interval=config.monitoring_interval_seconds,
            monitoring_role_arn=self.monitoring_role.arn,
            depends_on=[*self.log_groups, *self.monitoring_role.attachments],
        )
        self.master_secret_arn = self.instance.master_user_secret.get(0).secret_arn


class DatabaseProxy(Construct):
    """An RDS Proxy for Lambda: TLS required, IAM authentication from clients, the RDS-managed master
    secret for the connection to the database, reachable only from the API tier.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        name: str,
        database: PostgresDatabase,
        placement: Placement,
        key: CustomerManagedKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = SecurityGroupWithRules(
            self, "sg", name=name, description="RDS Proxy: only the API tier", vpc_id=placement.vpc_id
        )
        self.security_group.allow_from_group(
            "from-api",
            source_group_id=placement.client_security_group_ids["api"],
            port=POSTGRES,
            description="PostgreSQL from api",
        )
        self.security_group.allow_to_cidr(
            "to-database",
            cidr=settings.network.vpc_cidr.exploded,
            port=POSTGRES,
            description="To the database",
        )
        database.security_group.allow_from_group(
            "from-proxy",
            source_group_id=self.security_group.id,
            port=POSTGRES,
            description="PostgreSQL from the proxy",
        )
        self.role = ServiceRole(
            self,
            "role",
            settings=settings,
            name=name,
            service="rds.amazonaws.com",
            statements=[
                {
                    "Sid": "ReadMasterSecret",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": database.master_secret_arn,
                },
                {
                    "Sid": "DecryptMasterSecret",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": key.arn,
                    "Condition": {
                        "StringEquals": {"kms:ViaService": f"secretsmanager.{settings.region}.amazonaws.com"}
                    },
                },
            ],
        )
        self.proxy = DbProxy(
            self,
            "proxy",
            name=name,
            engine_family="POSTGRESQL",
            role_arn=self.role.arn,
            vpc_subnet_ids=list(placement.subnet_ids),
            vpc_security_group_ids=[self.security_group.id],
            require_tls=True,
            debug_logging=False,
            idle_client_timeout=1800,
            auth=[
                DbProxyAuth(
                    auth_scheme="SECRETS",
                    secret_arn=database.master_secret_arn,
                    iam_auth="REQUIRED",
                )
            ],
        )
        self.target_group = DbProxyDefaultTargetGroup(
            self,
            "target-group",
            db_proxy_name=self.proxy.name,
            connection_pool_config=DbProxyDefaultTargetGroupConnectionPoolConfig(
                max_connections_percent=90, connection_borrow_timeout=120
            ),
        )
        self.target = DbProxyTarget(
            self,
            "target",
            db_proxy_name=self.proxy.name,
            target_group_name=self.target_group.name,
            db_instance_identifier=database.instance.identifier,
        )


class GeneratedSecret(Construct):
    """A Secrets Manager secret whose value AWS generates during apply.

    The random value is ephemeral and written with ``secret_string_wo``, so it is never in the
    configuration, the plan or the secret version's state; ``value`` reads it back for a consumer
    (only with ``read_back``: a plan then needs GetSecretValue). Raising ``version`` writes a new value.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        description: str,
        kms_key_arn: str,
        length: int,
        version: int = 1,
        read_back: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.secret = SecretsmanagerSecret(
            self,
            "secret",
            name=name,
            description=description,
            kms_key_id=kms_key_arn,
            recovery_window_in_days=7,
        )
        generated = EphemeralAwsSecretsmanagerRandomPassword(
            self, "random", password_length=length, exclude_punctuation=True
        )
        self.version = SecretsmanagerSecretVersion(
            self,
            "version",
            secret_id=self.secret.id,
            secret_string_wo=generated.random_password,
            secret_string_wo_version=version,
        )
        self.current = (
            DataAwsSecretsmanagerSecretVersion(
                self, "current", secret_id=self.secret.id, depends_on=[self.version]
            )
            if read_back
            else None
        )
        self.value = self.current.secret_string if self.current else None
        self.arn = self.secret.arn


class CacheCluster(Construct):
    """An ElastiCache replication group: encrypted at rest with the layer key and in transit (TLS
    required), AUTH token from a generated secret, snapshots, slow log to an encrypted log group, failover
    and Multi-AZ when the environment has replicas.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        config: CacheSettings,
        placement: Placement,
        key: CustomerManagedKey,
        logs_key_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = admitting_tiers(
            self,
            "sg",
            name=name,
            service="Redis",
            port=REDIS,
            placement=placement,
        )
        self.subnet_group = ElasticacheSubnetGroup(
            self, "subnets", name=name, subnet_ids=list(placement.subnet_ids)
        )
        self.auth_token = GeneratedSecret(
            self,
            "auth-token",
            name=f"{name}/auth-token",
            description="AUTH token of the cache (generated at deploy time)",
            kms_key_arn=key.arn,
            length=64,
            version=config.auth_token_version,
        )
        self.slow_log = encrypted_log_group(
            self,
            "slow-log",
            name=f"/aws/elasticache/{name}/slow-log",
            retention_days=config.log_retention_days,
            kms_key_arn=logs_key_arn,
        )
        self.replication_group = ElasticacheReplicationGroup(
            self,
            "replication-group",
            replication_group_id=name,
            description="MDReader sync pub/sub and cache",
            engine=config.engine,
            engine_version=config.engine_version,
            parameter_group_name=f"default.{config.parameter_group_family}",
            node_type=config.node_type,
            num_cache_clusters=config.node_count,
            automatic_failover_enabled=config.automatic_failover,
            multi_az_enabled=config.automatic_failover,
            port=REDIS,
            subnet_group_name=self.subnet_group.name,
            security_group_ids=[self.security_group.id],
            at_rest_encryption_enabled="true",  # a string in the 6.x bindings
            kms_key_id=key.arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=self.auth_token.value,
            # A new token (cache.auth_token_version) is added next to the old one, which stays valid until
            # every client restarted with the new secret (docs/runbook.md, "Secret rotation").
            auth_token_update_strategy="ROTATE",  # noqa: S106  (a strategy name)
            snapshot_retention_limit=config.snapshot_retention_days,
            snapshot_window="01:00-02:00",
            maintenance_window="sun:04:00-sun:05:00",
            auto_minor_version_upgrade="true",
            apply_immediately=False,
            log_delivery_configuration=[
                ElasticacheReplicationGroupLogDeliveryConfiguration(
                    destination=self.slow_log.name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type="slow-log",
                )
            ],
        )


class DataStack(LayerStack):
    layer: ClassVar[str] = "data"

    def __init__(
        self,
        scope: Construct,
        *,
        settings: EnvironmentSettings,
        network: NetworkStack,
        monitoring: MonitoringStack,
    ) -> None:
        super().__init__(scope, settings=settings)
        self.key = CustomerManagedKey(
            self,
            "data-key",
            settings=settings,
            alias=self.name("data"),
            description=f"{settings.prefix} database, cache and their secrets",
            grants=[use_through_services(settings, "rds", "secretsmanager", "elasticache")],
        )
        placement = Placement(
            vpc_id=network.network.vpc.id,
            subnet_ids=[subnet.id for subnet in network.network.private_subnets],
            client_security_group_ids={
                tier: group.id for tier, group in network.application_security_groups.items()
            },
        )
        self.database = PostgresDatabase(
            self,
            "postgres",
            settings=settings,
            identifier=self.name(POSTGRES_SUFFIX),
            config=settings.database,
            placement=placement,
            key=self.key,
            logs_key_arn=monitoring.logs_key.arn,
        )
        self.proxy = (
            DatabaseProxy(
                self,
                "proxy",
                settings=settings,
                name=self.name("postgres-proxy"),
                database=self.database,
                placement=placement,
                key=self.key,
            )
            if settings.database.rds_proxy_enabled
            else None
        )
        self.cache = CacheCluster(
            self,
            "cache",
            name=self.name(CACHE_SUFFIX),
            config=settings.cache,
            placement=placement,
            key=self.key,
            logs_key_arn=monitoring.logs_key.arn,
        )
