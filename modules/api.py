"""api layer: the backend on Lambda behind an API Gateway HTTP API, and the file-processing Lambda that
the storage bucket's upload events invoke.

Functions run in the private subnets in the network layer's ``api`` security group, trace with X-Ray,
and get only secret ARNs in their environment (the app resolves them at cold start). Roles name every
bucket prefix, secret, key and SES identity they use.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from cdktn_provider_aws.apigatewayv2_api import Apigatewayv2Api
from cdktn_provider_aws.apigatewayv2_integration import Apigatewayv2Integration
from cdktn_provider_aws.apigatewayv2_route import Apigatewayv2Route
from cdktn_provider_aws.apigatewayv2_stage import (
    Apigatewayv2Stage,
    Apigatewayv2StageAccessLogSettings,
    Apigatewayv2StageDefaultRouteSettings,
)
from cdktn_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
    LambdaFunctionVpcConfig,
)
from cdktn_provider_aws.lambda_permission import LambdaPermission
from cdktn_provider_aws.s3_bucket_notification import S3BucketNotification, S3BucketNotificationLambdaFunction
from cdktn_provider_aws.secretsmanager_secret_rotation import (
    SecretsmanagerSecretRotation,
    SecretsmanagerSecretRotationRotationRules,
)
from cdktn_provider_aws.sqs_queue import SqsQueue

from environments import EnvironmentSettings
from modules._cdk import AssetType, Construct, TerraformAsset
from modules.common import (
    API_FUNCTION_SUFFIX,
    EMAIL_SUFFIX,
    FILES_FUNCTION_SUFFIX,
    SECRET_ROTATION_FUNCTION_SUFFIX,
    AlarmSpec,
    CustomerManagedKey,
    LayerStack,
    ServiceRole,
    Statement,
    encrypted_log_group,
    metric_alarm,
    use_through_services,
)
from modules.data import DataStack, GeneratedSecret
from modules.lambda_package import LAMBDA_RUNTIME, check_deployment_zip
from modules.monitoring import MonitoringStack
from modules.network import NetworkStack
from modules.storage import StorageStack

API_HANDLER = "mdreader_backend.lambda_handler.handler"
#: Secrets Manager's four-step rotation (createSecret/setSecret/testSecret/finishSecret) of SECRET_KEY,
#: in the backend's zip; the backend also accepts tokens signed with the AWSPREVIOUS value.
SECRET_ROTATION_HANDLER = "mdreader_backend.secret_rotation.handler"  # noqa: S105  (a module path)
#: AWS managed policies: ENIs in the VPC (Resource "*" is how EC2 scopes them) and X-Ray segments.
FUNCTION_MANAGED_POLICIES = (
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
)
#: The backend's ENVIRONMENT value per deployment environment (mdreader_backend.settings).
APP_ENVIRONMENT = {"dev": "development", "staging": "staging", "prod": "production"}
#: The one HTTP API stage of each environment's API: no stage prefix in the paths the app sees.
STAGE = "$default"
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","method":"$context.httpMethod","path":"$context.path",'
    '"status":"$context.status","latency":"$context.responseLatency",'
    '"integrationError":"$context.integrationErrorMessage","userAgent":"$context.identity.userAgent"}'
)


def source_code_hash(path: Path) -> str:
    """What Terraform compares to decide whether to upload new code: base64(sha256(zip))."""
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


@dataclass(frozen=True)
class FunctionPlacement:
    """What the functions of this layer share: code, network placement, keys and log retention."""

    settings: EnvironmentSettings
    code: TerraformAsset
    code_hash: str
    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]
    key_arn: str
    logs_key_arn: str
    log_retention_days: int


class PythonFunction(Construct):
    """A Python 3.12 arm64 function in the VPC: its own role, an encrypted log group with retention,
    X-Ray tracing, environment encrypted with a customer-managed key, and a concurrency cap.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        placement: FunctionPlacement,
        name: str,
        handler: str,
        memory_mb: int,
        timeout_seconds: int,
        reserved_concurrency: int,
        environment: Mapping[str, str],
        statements: Sequence[Statement],
        dead_letter_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = encrypted_log_group(
            self,
            "logs",
            name=f"/aws/lambda/{name}",
            retention_days=placement.log_retention_days,
            kms_key_arn=placement.logs_key_arn,
        )
        self.role = ServiceRole(
            self,
            "role",
            settings=placement.settings,
            name=name,
            service="lambda.amazonaws.com",
            managed_policy_arns=FUNCTION_MANAGED_POLICIES,
            statements=statements,
        )
        self.function = LambdaFunction(
            self,
            "function",
            function_name=name,
            role=self.role.arn,
            runtime=LAMBDA_RUNTIME,
            architectures=["arm64"],
            handler=handler,
            filename=placement.code.path,
            source_code_hash=placement.code_hash,
            memory_size=memory_mb,
            timeout=timeout_seconds,
            reserved_concurrent_executions=reserved_concurrency,
            kms_key_arn=placement.key_arn,
            environment=LambdaFunctionEnvironment(variables=dict(environment)),
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            vpc_config=LambdaFunctionVpcConfig(
                subnet_ids=list(placement.subnet_ids), security_group_ids=list(placement.security_group_ids)
            ),
            logging_config=LambdaFunctionLoggingConfig(log_format="JSON", log_group=self.log_group.name),
            dead_letter_config=(
                LambdaFunctionDeadLetterConfig(target_arn=dead_letter_arn) if dead_letter_arn else None
            ),
            depends_on=[self.log_group, *self.role.attachments],
        )
        self.arn = self.function.arn
        self.name = self.function.function_name


class HttpApi(Construct):
    """An HTTP API sending every route to one function, with JSON access logs and stage throttling."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        function: PythonFunction,
        timeout_seconds: int,
        throttling_rate_limit: int,
        throttling_burst_limit: int,
        logs_key_arn: str,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = Apigatewayv2Api(self, "api", name=name, protocol_type="HTTP")
        self.integration = Apigatewayv2Integration(
            self,
            "integration",
            api_id=self.api.id,
            integration_type="AWS_PROXY",
            integration_uri=function.arn,
            payload_format_version="2.0",
            timeout_milliseconds=timeout_seconds * 1000,
        )
        # The backend authenticates every request itself (its own JWTs, public sign-in routes).
        self.route = Apigatewayv2Route(
            self,
            "catch-all",
            api_id=self.api.id,
            route_key="$default",
            target=f"integrations/{self.integration.id}",
            authorization_type="NONE",
        )
        self.access_logs = encrypted_log_group(
            self,
            "access-logs",
            name=f"/aws/apigateway/{name}",
            retention_days=log_retention_days,
            kms_key_arn=logs_key_arn,
        )
        self.stage = Apigatewayv2Stage(
            self,
            "stage",
            api_id=self.api.id,
            name=STAGE,
            auto_deploy=True,
            access_log_settings=Apigatewayv2StageAccessLogSettings(
                destination_arn=self.access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            default_route_settings=Apigatewayv2StageDefaultRouteSettings(
                throttling_rate_limit=throttling_rate_limit,
                throttling_burst_limit=throttling_burst_limit,
                detailed_metrics_enabled=True,
            ),
        )
        self.permission = LambdaPermission(
            self,
            "invoke",
            action="lambda:InvokeFunction",
            function_name=function.name,
            principal="apigateway.amazonaws.com",
            source_arn=f"{self.api.execution_arn}/*",
        )


class SecretRotation(Construct):
    """Scheduled Secrets Manager rotation of one secret by the backend's rotation handler.

    The function's role may read, write and re-stage exactly that secret and use its key; only Secrets
    Manager (for that secret) may invoke it. The first rotation waits for the schedule, so a deploy never
    rotates a key before the backend serving it knows the previous-key grace period.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        placement: FunctionPlacement,
        name: str,
        secret_arn: str,
        key_arn: str,
        rotation_days: int,
        handler: str = SECRET_ROTATION_HANDLER,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = placement.settings
        self.function = PythonFunction(
            self,
            "function",
            placement=placement,
            name=name,
            handler=handler,
            memory_mb=256,
            timeout_seconds=30,
            reserved_concurrency=1,
            # Secrets Manager is reached through the VPC's interface endpoint (private DNS); the handler
            # generates the new key itself, so it needs no secretsmanager:GetRandomPassword.
            environment={"ENVIRONMENT": APP_ENVIRONMENT[settings.name]},
            statements=[
                {
                    "Sid": "RotateThisSecret",
                    "Effect": "Allow",
                    "Action": [
                        "secretsmanager:DescribeSecret",
                        "secretsmanager:GetSecretValue",
                        "secretsmanager:PutSecretValue",
                        "secretsmanager:UpdateSecretVersionStage",
                    ],
                    "Resource": secret_arn,
                },
                {
                    "Sid": "SecretKey",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": key_arn,
                },
            ],
        )
        self.permission = LambdaPermission(
            self,
            "invoke",
            action="lambda:InvokeFunction",
            function_name=self.function.name,
            principal="secretsmanager.amazonaws.com",
            source_arn=secret_arn,
        )
        self.rotation = SecretsmanagerSecretRotation(
            self,
            "rotation",
            secret_id=secret_arn,
            rotation_lambda_arn=self.function.arn,
            rotation_rules=SecretsmanagerSecretRotationRotationRules(automatically_after_days=rotation_days),
            rotate_immediately=False,
            depends_on=[self.permission],
        )


def bucket_objects(bucket_arn: str, prefixes: Sequence[str]) -> list[str]:
    return [f"{bucket_arn}/{prefix}*" for prefix in prefixes]


class ApiStack(LayerStack):
    layer: ClassVar[str] = "api"

    def __init__(
        self,
        scope: Construct,
        *,
        settings: EnvironmentSettings,
        deployment_zip: Path,
        monitoring: MonitoringStack,
        network: NetworkStack,
        data: DataStack,
        storage: StorageStack,
    ) -> None:
        super().__init__(scope, settings=settings)
        config = settings.api
        check_deployment_zip(deployment_zip, handler_module=API_HANDLER.rpartition(".")[0])
        code = TerraformAsset(self, "deployment-zip", path=str(deployment_zip.resolve()), type=AssetType.FILE)
        code_hash = source_code_hash(deployment_zip)
        self.key = CustomerManagedKey(
            self,
            "api-key",
            settings=settings,
            alias=self.name("api"),
            description=f"{settings.prefix} function environments, signing key secret, dead letters",
            grants=[use_through_services(settings, "lambda", "secretsmanager", "sqs")],
        )
        self.signing_key = GeneratedSecret(
            self,
            "signing-key",
            name=self.name("api/secret-key"),
            description="SECRET_KEY of the backend: signs its JWTs (generated at deploy time)",
            kms_key_arn=self.key.arn,
            length=64,
            read_back=False,  # only the backend reads it, at cold start
        )
        bucket_arn = storage.attachments_bucket.arn
        ses_identity = f"arn:aws:ses:{settings.region}:{settings.account_id}:identity/{settings.domain_name}"
        ses_configuration_set = (
            f"arn:aws:ses:{settings.region}:{settings.account_id}:configuration-set/{self.name(EMAIL_SUFFIX)}"
        )
        database = data.database.instance
        secrets = [data.database.master_secret_arn, data.cache.auth_token.arn, self.signing_key.arn]
        statements: list[Statement] = [
            {
                "Sid": "ReadSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secrets,
            },
            {
                "Sid": "DecryptSecrets",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": [data.key.arn, self.key.arn],
            },
            {
                "Sid": "StorageObjects",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": bucket_objects(bucket_arn, config.storage_prefixes),
            },
            {
                "Sid": "ListStoragePrefixes",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": [f"{p}*" for p in config.storage_prefixes]}},
            },
            {
                "Sid": "StorageKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": storage.key.arn,
            },
            {
                "Sid": "SendEmail",
                "Effect": "Allow",
                "Action": ["ses:SendEmail", "ses:SendRawEmail"],
                "Resource": [ses_identity, ses_configuration_set],
            },
        ]
        database_host = database.address
        if data.proxy is not None:
            # The proxy's resource id (prx-...) is only the last part of its ARN, and a Terraform function
            # inside this JSON policy would not be JSON any more; the environment's account has one proxy.
            statements.append(
                {
                    "Sid": "ConnectThroughProxy",
                    "Effect": "Allow",
                    "Action": "rds-db:connect",
                    "Resource": (
                        f"arn:aws:rds-db:{settings.region}:{settings.account_id}:dbuser:prx-*/{database.username}"
                    ),
                }
            )
            database_host = data.proxy.proxy.endpoint
        placement = FunctionPlacement(
            settings=settings,
            code=code,
            code_hash=code_hash,
            subnet_ids=[subnet.id for subnet in network.network.private_subnets],
            security_group_ids=[network.application_security_groups["api"].id],
            key_arn=self.key.arn,
            logs_key_arn=monitoring.logs_key.arn,
            log_retention_days=config.log_retention_days,
        )
        environment = {
            "ENVIRONMENT": APP_ENVIRONMENT[settings.name],
            "APP_PUBLIC_URL": f"https://{settings.domain_name}",
            "CORS_ORIGINS": ",".join(str(o).rstrip("/") for o in settings.storage.cors_allowed_origins),
            "DATABASE_HOST": database_host,
            "DATABASE_NAME": database.db_name,
            "DATABASE_USER": database.username,
            "DATABASE_IAM_AUTH": "true" if data.proxy is not None else "false",
            "DATABASE_SECRET_ARN": data.database.master_secret_arn,
            # One request at a time per execution environment: one pooled connection, no overflow.
            "DATABASE_POOL_SIZE": "1",
            "DATABASE_MAX_OVERFLOW": "0",
            "REDIS_HOST": data.cache.replication_group.primary_endpoint_address,
            "REDIS_AUTH_SECRET_ARN": data.cache.auth_token.arn,
            "SECRET_KEY_SECRET_ARN": self.signing_key.arn,
            "STORAGE_BUCKET": storage.attachments_bucket.name,
            "EMAIL_BACKEND": "ses",
            "EMAIL_FROM": f"no-reply@{settings.domain_name}",
            "SES_CONFIGURATION_SET": self.name(EMAIL_SUFFIX),
        }
        self.backend = PythonFunction(
            self,
            "backend-function",
            name=self.name(API_FUNCTION_SUFFIX),
            handler=API_HANDLER,
            memory_mb=config.memory_mb,
            timeout_seconds=config.timeout_seconds,
            reserved_concurrency=config.reserved_concurrency,
            environment=environment,
            statements=statements,
            placement=placement,
        )
        self.http_api = HttpApi(
            self,
            "http",
            name=self.name("http-api"),
            function=self.backend,
            timeout_seconds=config.timeout_seconds,
            throttling_rate_limit=config.throttling_rate_limit,
            throttling_burst_limit=config.throttling_burst_limit,
            logs_key_arn=monitoring.logs_key.arn,
            log_retention_days=config.log_retention_days,
        )
        self.files_dead_letters = SqsQueue(
            self,
            "files-dead-letters",
            name=self.name("files-dead-letters"),
            kms_master_key_id=self.key.arn,
            kms_data_key_reuse_period_seconds=300,
            message_retention_seconds=14 * 24 * 3600,
        )
        self.files = PythonFunction(
            self,
            "files",
            name=self.name(FILES_FUNCTION_SUFFIX),
            handler=config.files_handler,
            memory_mb=config.files_memory_mb,
            timeout_seconds=config.files_timeout_seconds,
            reserved_concurrency=config.files_reserved_concurrency,
            environment={
                "ENVIRONMENT": APP_ENVIRONMENT[settings.name],
                "STORAGE_BUCKET": storage.attachments_bucket.name,
            },
            statements=[
                {
                    "Sid": "ReadUploads",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": bucket_objects(bucket_arn, [config.uploads_prefix]),
                },
                {
                    "Sid": "StorageKey",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": storage.key.arn,
                },
                {
                    "Sid": "DeadLetters",
                    "Effect": "Allow",
                    "Action": "sqs:SendMessage",
                    "Resource": self.files_dead_letters.arn,
                },
                {
                    "Sid": "DeadLettersKey",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": self.key.arn,
                },
            ],
            dead_letter_arn=self.files_dead_letters.arn,
            placement=placement,
        )
        self.signing_key_rotation = SecretRotation(
            self,
            "signing-key-rotation",
            placement=placement,
            name=self.name(SECRET_ROTATION_FUNCTION_SUFFIX),
            secret_arn=self.signing_key.arn,
            key_arn=self.key.arn,
            rotation_days=config.signing_key_rotation_days,
        )
        self.files_permission = LambdaPermission(
            self,
            "files-invoke",
            action="lambda:InvokeFunction",
            function_name=self.files.name,
            principal="s3.amazonaws.com",
            source_arn=bucket_arn,
            source_account=settings.account_id,
        )
        self.upload_events = S3BucketNotification(
            self,
            "upload-events",
            bucket=storage.attachments_bucket.bucket.id,
            lambda_function=[
                S3BucketNotificationLambdaFunction(
                    lambda_function_arn=self.files.arn,
                    events=["s3:ObjectCreated:*"],
                    filter_prefix=config.uploads_prefix,
                )
            ],
            depends_on=[self.files_permission],
        )
        api_dimensions = {"ApiId": self.http_api.api.id, "Stage": STAGE}
        alarms = [
            AlarmSpec(
                name=self.name("api-latency"),
                namespace="AWS/ApiGateway",
                metric="Latency",
                dimensions=api_dimensions,
                threshold=settings.monitoring.api_latency_alarm_seconds * 1000,
                description="API latency (average, ms) above the threshold for two 5-minute periods",
            ),
            AlarmSpec(
                name=self.name("api-5xx"),
                namespace="AWS/ApiGateway",
                metric="5xx",
                dimensions=api_dimensions,
                statistic="Sum",
                threshold=0,
                description="API answered with server errors",
            ),
        ]
        self.alarms = [
            metric_alarm(self, f"alarm-{spec.name}", spec=spec, topic_arn=monitoring.alerts.arn)
            for spec in alarms
        ]
