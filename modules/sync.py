"""sync layer: the WebSocket service on ECS Fargate behind an HTTPS-only ALB that only CloudFront reaches.

WebSockets go CloudFront -> ALB -> ECS (API Gateway can not front a stateful Yjs server). The regional
WAF association sits in this stack, next to the ALB it protects (Checkov's graph checks see one stack).
The image tag is a Terraform variable (``sync_image_tag``) that the deploy sets: tags are immutable.
"""

from __future__ import annotations

import json
from typing import ClassVar

from cdktn_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecification,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationDimensions,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktn_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktn_provider_aws.data_aws_ec2_managed_prefix_list import DataAwsEc2ManagedPrefixList
from cdktn_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktn_provider_aws.ecr_repository import (
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from cdktn_provider_aws.ecs_cluster import (
    EcsCluster,
    EcsClusterConfiguration,
    EcsClusterConfigurationExecuteCommandConfiguration,
    EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration,
    EcsClusterSetting,
)
from cdktn_provider_aws.ecs_service import (
    EcsService,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
)
from cdktn_provider_aws.ecs_task_definition import (
    EcsTaskDefinition,
    EcsTaskDefinitionRuntimePlatform,
    EcsTaskDefinitionVolume,
)
from cdktn_provider_aws.lb import Lb, LbAccessLogs
from cdktn_provider_aws.lb_listener import LbListener, LbListenerDefaultAction
from cdktn_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktn_provider_aws.s3_bucket_lifecycle_configuration import S3BucketLifecycleConfigurationRuleExpiration
from cdktn_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from cdktn_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation

from environments import EnvironmentSettings
from modules._cdk import Construct, TerraformOutput, TerraformResourceLifecycle, TerraformVariable
from modules.api import ApiStack
from modules.common import (
    SYNC_SUFFIX,
    AlarmSpec,
    CustomerManagedKey,
    DnsValidatedCertificate,
    LayerStack,
    SecureBucket,
    SecurityGroupWithRules,
    ServiceRole,
    Statement,
    alias_records,
    encrypted_log_group,
    lifecycle_rule,
    metric_alarm,
    port_rule,
    use_through_services,
)
from modules.data import DataStack
from modules.edge import EdgeStack
from modules.monitoring import MonitoringStack
from modules.network import HTTPS, NetworkStack
from modules.storage import StorageStack
from modules.waf import WebAcl

SYNC_PORT = 1234
HEALTH_PATH = "/health"
#: TLS 1.3 with TLS 1.2 fallback (forward-secret ciphers only).
# The sync service's embedded metrics (SYNC_METRICS_NAMESPACE, mdreader_sync.server.SyncServer.metrics).
METRICS_NAMESPACE = "MDReader/Sync"
CONNECTIONS_METRIC = "Connections"
SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
CLOUDFRONT_ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"
#: The Elastic Load Balancing account that writes access logs, for regions that predate the
#: logdelivery.elasticloadbalancing.amazonaws.com service principal.
ELB_LOG_ACCOUNTS = {"eu-central-1": "054676820928", "eu-west-1": "156460612806", "us-east-1": "127311923021"}
#: Images kept in the repository (older ones expire; the running tag is always among the newest).
KEPT_IMAGES = 30
EXECUTION_MANAGED_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def elb_log_delivery_statement(bucket_arn: str, settings: EnvironmentSettings) -> Statement:
    if settings.region not in ELB_LOG_ACCOUNTS:
        raise ValueError(f"no Elastic Load Balancing log account known for {settings.region}: add it")
    return {
        "Sid": "AllowLoadBalancerAccessLogs",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ELB_LOG_ACCOUNTS[settings.region]}:root"},
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/AWSLogs/{settings.account_id}/*",
    }


def deployed_environment(settings: EnvironmentSettings) -> str:
    """The service's ENVIRONMENT, also the dimension of its embedded metrics (Connections, Documents)."""
    return {"dev": "development", "staging": "staging", "prod": "production"}[settings.name]


def container_definitions(
    settings: EnvironmentSettings, *, image: str, log_group: str, data: DataStack, signing_key_arn: str
) -> str:
    """One read-only, non-root container; secrets come from Secrets Manager, never the definition."""
    # Straight to the instance: the RDS Proxy admits only the api tier (IAM auth, Lambda's connection churn).
    database = data.database.instance
    environment = {
        "ENVIRONMENT": deployed_environment(settings),
        "SYNC_HOST": "0.0.0.0",  # noqa: S104  (inside the task's own network namespace)
        "SYNC_PORT": str(SYNC_PORT),
        "SYNC_MIGRATE_ON_START": "false",
        "SYNC_SHUTDOWN_SECONDS": str(settings.sync.stop_timeout_seconds - 5),
        "DATABASE_HOST": database.address,
        "DATABASE_NAME": database.db_name,
        "DATABASE_USER": database.username,
        "REDIS_HOST": data.cache.replication_group.primary_endpoint_address,
        # Read by the service itself (task role) at start and again after a rotation, like the api's.
        "SECRET_KEY_SECRET_ARN": signing_key_arn,
    }
    secrets = {
        "DATABASE_PASSWORD": f"{data.database.master_secret_arn}:password::",
        "REDIS_AUTH_TOKEN": data.cache.auth_token.arn,
    }
    container = {
        "name": SYNC_SUFFIX,
        "image": image,
        "essential": True,
        "user": "10001:10001",
        "readonlyRootFilesystem": True,
        "privileged": False,
        "portMappings": [{"containerPort": SYNC_PORT, "protocol": "tcp"}],
        "environment": [{"name": k, "value": v} for k, v in environment.items()],
        "secrets": [{"name": k, "valueFrom": v} for k, v in secrets.items()],
        "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],  # noqa: S108
        "stopTimeout": settings.sync.stop_timeout_seconds,
        # The image's own check, for ECS: a one-off migration task is done once it turns HEALTHY (the
        # service starts serving only after SYNC_MIGRATE_ON_START's migrations succeeded).
        "healthCheck": {
            "command": [
                "CMD",
                "python",
                "-c",
                "import urllib.request; "
                f"urllib.request.urlopen('http://127.0.0.1:{SYNC_PORT}{HEALTH_PATH}', timeout=2)",
            ],
            "interval": 15,
            "timeout": 3,
            "retries": 3,
            "startPeriod": 20,
        },
        "linuxParameters": {"initProcessEnabled": True},
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": settings.region,
                "awslogs-stream-prefix": SYNC_SUFFIX,
            },
        },
    }
    return json.dumps([container], sort_keys=True)


class SyncStack(LayerStack):
    layer: ClassVar[str] = "sync"

    def __init__(
        self,
        scope: Construct,
        *,
        settings: EnvironmentSettings,
        monitoring: MonitoringStack,
        network: NetworkStack,
        data: DataStack,
        storage: StorageStack,
        edge: EdgeStack,
        api: ApiStack,
    ) -> None:
        super().__init__(scope, settings=settings)
        config = settings.sync
        name = self.name(SYNC_SUFFIX)
        self.key = CustomerManagedKey(
            self,
            "sync-key",
            settings=settings,
            alias=name,
            description=f"{settings.prefix} sync images and ECS Exec sessions",
            grants=[use_through_services(settings, "ecr", "ecs")],
        )
        self.image_tag = TerraformVariable(
            self, "sync_image_tag", type="string", description="Tag of the sync image to run (immutable)."
        )
        self.repository = EcrRepository(
            self,
            "repository",
            name=name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[
                EcrRepositoryEncryptionConfiguration(encryption_type="KMS", kms_key=self.key.arn)
            ],
            force_delete=False,
        )
        self.repository_lifecycle = EcrLifecyclePolicy(
            self,
            "repository-lifecycle",
            repository=self.repository.name,
            policy=json.dumps(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "description": f"keep the newest {KEPT_IMAGES} images",
                            "selection": {
                                "tagStatus": "any",
                                "countType": "imageCountMoreThan",
                                "countNumber": KEPT_IMAGES,
                            },
                            "action": {"type": "expire"},
                        }
                    ]
                }
            ),
        )
        logs_key = monitoring.logs_key.arn
        self.exec_log_group = encrypted_log_group(
            self,
            "exec-logs",
            name=f"/aws/ecs/{name}/exec",
            retention_days=config.log_retention_days,
            kms_key_arn=logs_key,
        )
        self.cluster = EcsCluster(
            self,
            "cluster",
            name=name,
            setting=[EcsClusterSetting(name="containerInsights", value="enabled")],
            configuration=EcsClusterConfiguration(
                execute_command_configuration=EcsClusterConfigurationExecuteCommandConfiguration(
                    kms_key_id=self.key.arn,
                    logging="OVERRIDE",
                    log_configuration=EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration(
                        cloud_watch_encryption_enabled=True,
                        cloud_watch_log_group_name=self.exec_log_group.name,
                    ),
                )
            ),
        )
        self.log_group = encrypted_log_group(
            self,
            "service-logs",
            name=f"/aws/ecs/{name}",
            retention_days=config.log_retention_days,
            kms_key_arn=logs_key,
        )
        self.execution_role = ServiceRole(
            self,
            "execution-role",
            settings=settings,
            name=f"{name}-execution",
            service="ecs-tasks.amazonaws.com",
            managed_policy_arns=[EXECUTION_MANAGED_POLICY],
            statements=[
                {
                    "Sid": "ReadSecrets",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": [data.database.master_secret_arn, data.cache.auth_token.arn],
                },
                {
                    "Sid": "DecryptSecrets",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": data.key.arn,
                },
                {"Sid": "PullImages", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": self.key.arn},
            ],
        )
        # The service itself reads only the JWT signing key (it follows the key's rotation); ECS Exec is off.
        self.task_role = ServiceRole(
            self,
            "task-role",
            settings=settings,
            name=f"{name}-task",
            service="ecs-tasks.amazonaws.com",
            statements=[
                {
                    "Sid": "ReadSigningKey",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": api.signing_key.arn,
                },
                {
                    "Sid": "DecryptSigningKey",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": api.key.arn,
                },
            ],
        )
        self.task_definition = EcsTaskDefinition(
            self,
            "task",
            family=name,
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(config.cpu_units),
            memory=str(config.memory_mb),
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture="ARM64"
            ),
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_role.arn,
            volume=[EcsTaskDefinitionVolume(name="tmp")],
            container_definitions=container_definitions(
                settings,
                image=f"{self.repository.repository_url}:{self.image_tag.string_value}",
                log_group=self.log_group.name,
                data=data,
                signing_key_arn=api.signing_key.arn,
            ),
        )
        self.load_balancer = SyncLoadBalancer(
            self,
            "alb",
            settings=settings,
            name=name,
            network=network,
            storage=storage,
            logs_key_arn=logs_key,
            zone_id=edge.zone_id,
        )
        tasks_group_id = network.application_security_groups["sync"].id
        self.load_balancer.security_group.allow_to_cidr(
            "to-tasks", cidr=network.network.cidr, port=SYNC_PORT, description="Sync tasks in the VPC"
        )
        # The tasks' group belongs to the network layer (the data layer admits it); its ingress lives here.
        self.tasks_ingress = port_rule(
            self,
            "tasks-from-alb",
            rule_type=VpcSecurityGroupIngressRule,
            security_group_id=tasks_group_id,
            source_group_id=self.load_balancer.security_group.id,
            port=SYNC_PORT,
            description="Sync tasks from their load balancer",
        )
        self.service = EcsService(
            self,
            "service",
            name=name,
            cluster=self.cluster.arn,
            task_definition=self.task_definition.arn,
            launch_type="FARGATE",
            desired_count=config.desired_count,
            deployment_maximum_percent=200,
            deployment_minimum_healthy_percent=50,
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(enable=True, rollback=True),
            health_check_grace_period_seconds=60,
            enable_execute_command=False,
            propagate_tags="SERVICE",
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=[subnet.id for subnet in network.network.private_subnets],
                security_groups=[tasks_group_id],
                assign_public_ip=False,
            ),
            load_balancer=[
                EcsServiceLoadBalancer(
                    target_group_arn=self.load_balancer.target_group.arn,
                    container_name=SYNC_SUFFIX,
                    container_port=SYNC_PORT,
                )
            ],
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_count"]),
            depends_on=[self.load_balancer.listener],
        )
        self.scaling_target = AppautoscalingTarget(
            self,
            "scaling-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{self.cluster.name}/{self.service.name}",
            min_capacity=config.min_count,
            max_capacity=config.max_count,
        )
        alb = self.load_balancer
        self.scaling_policies = [
            self._target_tracking(
                "scale-on-cpu", "ECSServiceAverageCPUUtilization", config.cpu_target_percent
            ),
            self._target_tracking("scale-on-connections", CONNECTIONS_METRIC, config.connections_per_task),
        ]
        alarms = [
            AlarmSpec(
                name=self.name("alb-5xx"),
                namespace="AWS/ApplicationELB",
                metric="HTTPCode_ELB_5XX_Count",
                dimensions={"LoadBalancer": alb.alb.arn_suffix},
                statistic="Sum",
                threshold=0,
                description="The sync load balancer answered with server errors",
            ),
            AlarmSpec(
                name=self.name("sync-unhealthy-targets"),
                namespace="AWS/ApplicationELB",
                metric="UnHealthyHostCount",
                dimensions={"LoadBalancer": alb.alb.arn_suffix, "TargetGroup": alb.target_group.arn_suffix},
                statistic="Maximum",
                threshold=0,
                description="A sync task fails its /health check",
            ),
            AlarmSpec(  # each task reports its open sockets once a minute: the sum is the fleet's
                name=self.name("sync-connections"),
                namespace=METRICS_NAMESPACE,
                metric=CONNECTIONS_METRIC,
                dimensions={"Environment": deployed_environment(settings)},
                statistic="Sum",
                period_seconds=60,
                periods=3,
                threshold=config.connection_alarm_count,
                description="More open sync connections than the environment is sized for",
            ),
        ]
        self.alarms = [
            metric_alarm(self, f"alarm-{spec.name}", spec=spec, topic_arn=monitoring.alerts.arn)
            for spec in alarms
        ]
        # What the deploy workflow needs: where to push the image, which cluster runs the migration task.
        TerraformOutput(self, "repository_url", value=self.repository.repository_url)
        TerraformOutput(self, "cluster_name", value=self.cluster.name)

    def _target_tracking(self, construct_id: str, metric: str, target: int) -> AppautoscalingPolicy:
        """CPU: ECS's own metric. Connections: the average of what the tasks report (embedded metrics,
        `mdreader_sync.server.SyncServer.metrics`), i.e. open sockets per task."""
        tracking: dict[str, object] = {}
        if metric == CONNECTIONS_METRIC:
            tracking["customized_metric_specification"] = (
                AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecification(
                    namespace=METRICS_NAMESPACE,
                    metric_name=metric,
                    statistic="Average",
                    dimensions=[
                        AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationDimensions(
                            name="Environment", value=deployed_environment(self.settings)
                        )
                    ],
                )
            )
        else:
            tracking["predefined_metric_specification"] = (
                AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                    predefined_metric_type=metric
                )
            )
        return AppautoscalingPolicy(
            self,
            construct_id,
            name=f"{self.name(SYNC_SUFFIX)}-{construct_id}",
            policy_type="TargetTrackingScaling",
            service_namespace=self.scaling_target.service_namespace,
            scalable_dimension=self.scaling_target.scalable_dimension,
            resource_id=self.scaling_target.resource_id,
            target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                target_value=target, scale_in_cooldown=300, scale_out_cooldown=60, **tracking
            ),
        )


class SyncLoadBalancer(Construct):
    """A public ALB reachable only from CloudFront's origin-facing addresses, HTTPS only (TLS 1.2+),
    idle timeout for long-lived WebSockets, invalid headers dropped, desync mitigation, access logs,
    and the regional web ACL associated here.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        name: str,
        network: NetworkStack,
        storage: StorageStack,
        logs_key_arn: str,
        zone_id: str,
    ) -> None:
        super().__init__(scope, construct_id)
        config = settings.sync
        cloudfront = DataAwsEc2ManagedPrefixList(self, "cloudfront", name=CLOUDFRONT_ORIGIN_FACING)
        self.security_group = SecurityGroupWithRules(
            self,
            "alb-sg",
            name=f"{name}-alb",
            description="Sync load balancer: HTTPS from CloudFront only",
            vpc_id=network.network.vpc.id,
        )
        self.security_group.allow_from_prefix_list(
            "https-from-cloudfront",
            prefix_list_id=cloudfront.id,
            port=HTTPS,
            description="HTTPS from CloudFront",
        )
        bucket_name = f"{name}-alb-logs-{settings.account_id}"
        self.log_bucket = SecureBucket(
            self,
            "access-logs",
            bucket_name=bucket_name,
            kms_key=None,  # ALB access logs support SSE-S3 only
            abort_incomplete_multipart_days=settings.storage.abort_incomplete_multipart_days,
            lifecycle_rules=[
                lifecycle_rule(
                    "expire-alb-logs",
                    expiration=[
                        S3BucketLifecycleConfigurationRuleExpiration(
                            days=settings.storage.access_log_retention_days
                        )
                    ],
                )
            ],
            access_log_bucket=storage.access_log_bucket,
            policy_statements=[elb_log_delivery_statement(f"arn:aws:s3:::{bucket_name}", settings)],
        )
        # CloudFront reaches the ALB by this name over HTTPS; the listener waits for the issued certificate,
        # so its validation record lives here, in the edge layer's zone.
        origin_name = f"{config.origin_subdomain}.{settings.domain_name}"
        self.certificate = DnsValidatedCertificate(
            self, "certificate", domain_name=origin_name, zone_id=zone_id
        )
        self.alb = Lb(
            self,
            "alb",
            name=name,
            load_balancer_type="application",
            internal=False,
            security_groups=[self.security_group.id],
            subnets=[subnet.id for subnet in network.network.public_subnets],
            idle_timeout=config.idle_timeout_seconds,
            drop_invalid_header_fields=True,
            desync_mitigation_mode="defensive",
            enable_deletion_protection=config.deletion_protection,
            access_logs=LbAccessLogs(bucket=self.log_bucket.name, enabled=True),
            depends_on=[self.log_bucket.policy],
        )
        self.origin_records = alias_records(
            self,
            "origin",
            zone_id=zone_id,
            name=origin_name,
            target_name=self.alb.dns_name,
            target_zone_id=self.alb.zone_id,
        )
        self.target_group = LbTargetGroup(
            self,
            "targets",
            name=name,
            port=SYNC_PORT,
            protocol="HTTP",
            target_type="ip",
            vpc_id=network.network.vpc.id,
            deregistration_delay=str(config.deregistration_delay_seconds),
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                path=HEALTH_PATH,
                protocol="HTTP",
                matcher="200",
                interval=15,
                timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
        )
        self.listener = LbListener(
            self,
            "https",
            load_balancer_arn=self.alb.arn,
            port=HTTPS,
            protocol="HTTPS",
            ssl_policy=SSL_POLICY,
            certificate_arn=self.certificate.arn,
            default_action=[LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)],
        )
        self.web_acl = WebAcl(
            self,
            "waf",
            name=f"{name}-alb",
            scope_name="REGIONAL",
            rate_limit_per_ip=config.waf_rate_limit_per_ip,
            logs_key_arn=logs_key_arn,
            log_retention_days=config.log_retention_days,
        )
        self.web_acl_association = Wafv2WebAclAssociation(
            self, "waf-association", resource_arn=self.alb.arn, web_acl_arn=self.web_acl.arn
        )
