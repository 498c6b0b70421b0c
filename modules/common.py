"""Building blocks every layer uses: the layer stack base class and secure-by-default constructs.

Each construct takes explicit keyword parameters, defaults to the secure choice (customer-managed KMS
keys with rotation, no public access, TLS only, retention on every log) and exposes what it creates as
attributes, so layers and tests can reach every resource.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from cdktn_provider_aws.acm_certificate import AcmCertificate
from cdktn_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktn_provider_aws.kms_alias import KmsAlias
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from cdktn_provider_aws.route53_record import Route53Record, Route53RecordAlias
from cdktn_provider_aws.s3_bucket import S3Bucket
from cdktn_provider_aws.s3_bucket_cors_configuration import (
    S3BucketCorsConfiguration,
    S3BucketCorsConfigurationCorsRule,
)
from cdktn_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktn_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktn_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktn_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktn_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktn_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktn_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from cdktn_provider_aws.security_group import SecurityGroup
from cdktn_provider_aws.sns_topic import SnsTopic
from cdktn_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktn_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktn_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule

from environments import EnvironmentSettings
from modules._cdk import (
    AWS_PROVIDER_VERSION_RANGE,
    Construct,
    LocalBackend,
    S3Backend,
    TerraformResourceLifecycle,
    TerraformStack,
)

Statement = dict[str, Any]
#: Where the bootstrap stacks keep their local state, next to the synthesis output directory.
BOOTSTRAP_STATE_DIR = "bootstrap-state"


def policy_document(statements: Sequence[Statement]) -> str:
    """An IAM policy as the JSON string the AWS resources take (tokens inside resolve at synth)."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


class LayerStack(TerraformStack):
    """One layer of one environment: stack ``mdreader-<env>-<layer>`` with its provider and state backend.

    Every stack keeps its state in the bootstrap layer's bucket (key ``<env>/<layer>.tfstate``, encrypted
    with the state key, S3-native locking) unless it is the bootstrap stack, which keeps local state.
    """

    layer: ClassVar[str]
    uses_remote_state: ClassVar[bool] = True

    def __init__(self, scope: Construct, *, settings: EnvironmentSettings) -> None:
        super().__init__(scope, f"{settings.prefix}-{self.layer}")
        self.settings = settings
        self.provider = self.aws_provider("aws", region=settings.region)
        if self.uses_remote_state:
            S3Backend(
                self,
                bucket=settings.state_bucket,
                key=f"{settings.name}/{self.layer}.tfstate",
                region=settings.region,
                encrypt=True,
                kms_key_id=f"arn:aws:kms:{settings.region}:{settings.account_id}:{settings.state_key_alias}",
                use_lockfile=True,
            )
        else:
            # Outside cdktf.out (which every synth clears): <outdir>/../bootstrap-state/<stack>.tfstate,
            # relative to the stack's working directory <outdir>/stacks/<stack>. Git ignores *.tfstate.
            LocalBackend(self, path=f"../../../{BOOTSTRAP_STATE_DIR}/{self.node.id}.tfstate")
        # The prebuilt bindings pin one exact 6.x release; admit the 5.100 mirror as well (cdktn has no API).
        self.add_override("terraform.required_providers.aws.version", AWS_PROVIDER_VERSION_RANGE)

    def name(self, suffix: str) -> str:
        """A resource name scoped to this environment: ``mdreader-<env>-<suffix>``."""
        return f"{self.settings.prefix}-{suffix}"

    def aws_provider(self, construct_id: str, *, region: str, alias: str | None = None) -> AwsProvider:
        """An AWS provider pinned to the environment's account, with the project's default tags.

        Stacks that need a second region (CloudFront's certificate and WAF live in us-east-1) add one
        with an ``alias`` and pass it to the constructs placed there.
        """
        settings = self.settings
        return AwsProvider(
            self,
            construct_id,
            alias=alias,
            region=region,
            allowed_account_ids=[settings.account_id],
            default_tags=[
                AwsProviderDefaultTags(
                    tags={
                        "Project": "mdreader",
                        "Environment": settings.name,
                        "Layer": self.layer,
                        "ManagedBy": "cdktn",
                    }
                )
            ],
        )


@dataclass(frozen=True)
class KeyGrant:
    """One statement of a key policy letting a principal use (not manage) the key."""

    sid: str
    principal: Mapping[str, str]
    actions: Sequence[str] = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")
    condition: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


KEY_ADMIN_ACTIONS = (
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
)


def use_through_services(settings: EnvironmentSettings, *services: str) -> KeyGrant:
    """Principals of this account may use the key only through the named AWS services (kms:ViaService)."""
    return KeyGrant(
        sid="UseThroughServices",
        principal={"AWS": f"arn:aws:iam::{settings.account_id}:root"},
        actions=(
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:DescribeKey",
            "kms:CreateGrant",
        ),
        condition={
            "StringEquals": {
                "kms:CallerAccount": settings.account_id,
                "kms:ViaService": [f"{service}.{settings.region}.amazonaws.com" for service in services],
            }
        },
    )


class CustomerManagedKey(Construct):
    """A symmetric KMS key with yearly rotation, an alias and a least-privilege key policy.

    The account root may administer the key but not use it; usage is granted only by ``grants``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        alias: str,
        description: str,
        grants: Sequence[KeyGrant],
        provider: AwsProvider | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        admin: Statement = {
            "Sid": "AdministerKey",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{settings.account_id}:root"},
            "Action": list(KEY_ADMIN_ACTIONS),
            "Resource": "*",
        }
        usage: list[Statement] = [
            {
                "Sid": grant.sid,
                "Effect": "Allow",
                "Principal": dict(grant.principal),
                "Action": list(grant.actions),
                "Resource": "*",
                **(
                    {"Condition": {k: dict(v) for k, v in grant.condition.items()}} if grant.condition else {}
                ),
            }
            for grant in grants
        ]
        self.key = KmsKey(
            self,
            "key",
            description=description,
            enable_key_rotation=True,
            is_enabled=True,
            deletion_window_in_days=settings.kms_deletion_window_days,
            policy=policy_document([admin, *usage]),
            provider=provider,
        )
        self.alias = KmsAlias(
            self, "alias", name=f"alias/{alias}", target_key_id=self.key.key_id, provider=provider
        )
        self.arn = self.key.arn


class EncryptedTopic(Construct):
    """An SNS topic encrypted with its own key, to which only the named AWS services of this account
    publish (e.g. ``cloudwatch.amazonaws.com`` for alarms, ``ses.amazonaws.com`` for email events).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        name: str,
        publishers: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        source_account = {"StringEquals": {"aws:SourceAccount": settings.account_id}}
        self.key = CustomerManagedKey(
            self,
            "key",
            settings=settings,
            alias=f"{name}-sns",
            description=f"{name} topic",
            grants=[
                use_through_services(settings, "sns"),
                *(
                    KeyGrant(
                        sid=f"{_sid(service)}Publish",
                        principal={"Service": service},
                        actions=("kms:Decrypt", "kms:GenerateDataKey*"),
                        condition=source_account,
                    )
                    for service in publishers
                ),
            ],
        )
        self.topic = SnsTopic(self, "topic", name=name, kms_master_key_id=self.key.arn)
        self.policy = SnsTopicPolicy(
            self,
            "policy",
            arn=self.topic.arn,
            policy=policy_document(
                [
                    {
                        "Sid": f"{_sid(service)}Publish",
                        "Effect": "Allow",
                        "Principal": {"Service": service},
                        "Action": "sns:Publish",
                        "Resource": self.topic.arn,
                        "Condition": source_account,
                    }
                    for service in publishers
                ]
            ),
        )
        self.arn = self.topic.arn


def _sid(service: str) -> str:
    """``cloudwatch.amazonaws.com`` -> ``Cloudwatch`` (statement ids are alphanumeric)."""
    return service.split(".")[0].capitalize()


#: Names of resources that other layers' alarms and dashboards refer to before (or without) reading
#: their stacks' state: ``mdreader-<env>-<suffix>``.
POSTGRES_SUFFIX = "postgres"
CACHE_SUFFIX = "cache"
API_FUNCTION_SUFFIX = "api"
FILES_FUNCTION_SUFFIX = "files"
#: Rotates the backend's SECRET_KEY; a failed rotation must page someone (its errors alarm).
SECRET_ROTATION_FUNCTION_SUFFIX = "secret-key-rotation"  # noqa: S105  (a name)
SYNC_SUFFIX = "sync"
#: The SES configuration set the backend sends through (email layer) and may use (api layer).
EMAIL_SUFFIX = "email"


@dataclass(frozen=True)
class AlarmSpec:
    """One CloudWatch alarm on one metric: ``statistic`` of each ``period_seconds`` compared with
    ``threshold`` for ``periods`` consecutive periods; missing data counts as fine (nothing to alarm on).
    """

    name: str
    namespace: str
    metric: str
    dimensions: Mapping[str, str]
    threshold: float
    description: str
    statistic: str = "Average"
    comparison: str = "GreaterThanThreshold"
    period_seconds: int = 300
    periods: int = 2


def metric_alarm(
    scope: Construct, construct_id: str, *, spec: AlarmSpec, topic_arn: str
) -> CloudwatchMetricAlarm:
    """An enabled alarm that notifies the topic when it fires and when it recovers."""
    return CloudwatchMetricAlarm(
        scope,
        construct_id,
        alarm_name=spec.name,
        alarm_description=spec.description,
        namespace=spec.namespace,
        metric_name=spec.metric,
        dimensions=dict(spec.dimensions),
        statistic=spec.statistic,
        comparison_operator=spec.comparison,
        threshold=spec.threshold,
        period=spec.period_seconds,
        evaluation_periods=spec.periods,
        treat_missing_data="notBreaching",
        actions_enabled=True,
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
    )


def encrypted_log_group(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    retention_days: int,
    kms_key_arn: str,
    provider: AwsProvider | None = None,
) -> CloudwatchLogGroup:
    """A CloudWatch log group encrypted with a customer-managed key and with a retention period."""
    return CloudwatchLogGroup(
        scope,
        construct_id,
        name=name,
        retention_in_days=retention_days,
        kms_key_id=kms_key_arn,
        provider=provider,
    )


class ServiceRole(Construct):
    """An IAM role only the given AWS service may assume, and only on behalf of this account."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        name: str,
        service: str,
        managed_policy_arns: Sequence[str] = (),
        statements: Sequence[Statement] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        trust: Statement = {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": settings.account_id}},
        }
        self.role = IamRole(self, "role", name=name, assume_role_policy=policy_document([trust]))
        self.attachments = [
            IamRolePolicyAttachment(self, f"managed-{index}", role=self.role.name, policy_arn=arn)
            for index, arn in enumerate(managed_policy_arns)
        ]
        self.policy = (
            IamRolePolicy(self, "policy", name=name, role=self.role.id, policy=policy_document(statements))
            if statements
            else None
        )
        self.arn = self.role.arn


def lifecycle_rule(rule_id: str, **actions: Any) -> S3BucketLifecycleConfigurationRule:
    """An enabled lifecycle rule applying to every object of the bucket."""
    return S3BucketLifecycleConfigurationRule(
        id=rule_id, status="Enabled", filter=[S3BucketLifecycleConfigurationRuleFilter()], **actions
    )


def tls_only_statement(bucket_arn: str) -> Statement:
    """Deny every request to the bucket that does not use TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


class SecureBucket(Construct):
    """An S3 bucket: versioned, encrypted, public access blocked, ACLs disabled, TLS-only policy,
    lifecycle rules (always aborting incomplete multipart uploads) and optional access logging and CORS.

    ``kms_key`` None means SSE-S3, which only server-access-log target buckets should use (S3 can not
    deliver access logs into an SSE-KMS bucket). ``object_ownership`` stays ``BucketOwnerEnforced`` (ACLs
    off) except for a CloudFront standard-log bucket, which CloudFront writes through an ACL grant.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        kms_key: CustomerManagedKey | None,
        abort_incomplete_multipart_days: int,
        lifecycle_rules: Sequence[S3BucketLifecycleConfigurationRule],
        access_log_bucket: SecureBucket | None = None,
        cors_rules: Sequence[S3BucketCorsConfigurationCorsRule] = (),
        policy_statements: Sequence[Statement] = (),
        object_ownership: Literal["BucketOwnerEnforced", "BucketOwnerPreferred"] = "BucketOwnerEnforced",
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = S3Bucket(self, "bucket", bucket=bucket_name, force_destroy=False)
        self.arn = self.bucket.arn
        self.name = self.bucket.bucket
        self.versioning = S3BucketVersioningA(
            self,
            "versioning",
            bucket=self.bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        default_encryption = S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
            sse_algorithm="aws:kms" if kms_key else "AES256",
            kms_master_key_id=kms_key.arn if kms_key else None,
        )
        self.encryption = S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=self.bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=default_encryption,
                    bucket_key_enabled=kms_key is not None,
                )
            ],
        )
        self.public_access_block = S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        self.ownership = S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=self.bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership=object_ownership),
        )
        self.policy = S3BucketPolicy(
            self,
            "policy",
            bucket=self.bucket.id,
            policy=policy_document([tls_only_statement(self.bucket.arn), *policy_statements]),
            depends_on=[self.public_access_block],
        )
        abort_multipart = lifecycle_rule(
            "abort-incomplete-multipart-uploads",
            abort_incomplete_multipart_upload=[
                S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=abort_incomplete_multipart_days
                )
            ],
        )
        self.lifecycle = S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=self.bucket.id,
            rule=[abort_multipart, *lifecycle_rules],
            depends_on=[self.versioning],
        )
        self.logging = (
            S3BucketLoggingA(
                self,
                "logging",
                bucket=self.bucket.id,
                target_bucket=access_log_bucket.bucket.id,
                target_prefix=f"{bucket_name}/",
            )
            if access_log_bucket
            else None
        )
        self.cors = (
            S3BucketCorsConfiguration(self, "cors", bucket=self.bucket.id, cors_rule=list(cors_rules))
            if cors_rules
            else None
        )


def access_log_delivery_statement(log_bucket_arn: str, account_id: str) -> Statement:
    """Let S3 server access logging of this account's buckets write into a log bucket."""
    return {
        "Sid": "AllowS3ServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"{log_bucket_arn}/*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }


class SecurityGroupWithRules(Construct):
    """A security group whose every rule is its own resource with a description (no inline rules).

    Ingress is admitted only from other security groups or CIDRs the caller names; there is no default
    egress (AWS's allow-all egress is removed because the group declares none inline).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, name: str, description: str, vpc_id: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.group = SecurityGroup(self, "group", name=name, description=description, vpc_id=vpc_id)
        self.id = self.group.id
        self.rules: list[VpcSecurityGroupIngressRule | VpcSecurityGroupEgressRule] = []

    def allow_from_group(self, rule_id: str, *, source_group_id: str, port: int, description: str) -> None:
        self._add(VpcSecurityGroupIngressRule, rule_id, port, description, source_group_id=source_group_id)

    def allow_from_cidr(self, rule_id: str, *, cidr: str, port: int, description: str) -> None:
        self._add(VpcSecurityGroupIngressRule, rule_id, port, description, cidr_ipv4=cidr)

    def allow_from_prefix_list(
        self, rule_id: str, *, prefix_list_id: str, port: int, description: str
    ) -> None:
        self._add(VpcSecurityGroupIngressRule, rule_id, port, description, prefix_list_id=prefix_list_id)

    def allow_to_cidr(self, rule_id: str, *, cidr: str, port: int, description: str) -> None:
        self._add(VpcSecurityGroupEgressRule, rule_id, port, description, cidr_ipv4=cidr)

    def _add(
        self,
        rule_type: type[VpcSecurityGroupIngressRule] | type[VpcSecurityGroupEgressRule],
        rule_id: str,
        port: int,
        description: str,
        **peer: str,
    ) -> None:
        """``peer``: the one ``source_group_id``, ``cidr_ipv4`` or ``prefix_list_id`` of ``port_rule``."""
        self.rules.append(
            port_rule(
                self,
                rule_id,
                rule_type=rule_type,
                security_group_id=self.group.id,
                port=port,
                description=description,
                **peer,
            )
        )


def port_rule(
    scope: Construct,
    rule_id: str,
    *,
    rule_type: type[VpcSecurityGroupIngressRule] | type[VpcSecurityGroupEgressRule],
    security_group_id: str,
    port: int,
    description: str,
    source_group_id: str | None = None,
    cidr_ipv4: str | None = None,
    prefix_list_id: str | None = None,
) -> VpcSecurityGroupIngressRule | VpcSecurityGroupEgressRule:
    """One TCP port to or from exactly one peer (a security group, a CIDR or a prefix list), described,
    as its own rule resource. ``SecurityGroupWithRules`` adds its rules through this; a layer calls it
    directly to admit its own clients into a group another layer owns (the network layer's tier groups).
    """
    if sum(peer is not None for peer in (source_group_id, cidr_ipv4, prefix_list_id)) != 1:
        raise ValueError(f"{rule_id}: name exactly one peer (security group, CIDR or prefix list)")
    return rule_type(
        scope,
        rule_id,
        security_group_id=security_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=description,
        referenced_security_group_id=source_group_id,
        cidr_ipv4=cidr_ipv4,
        prefix_list_id=prefix_list_id,
    )


@dataclass(frozen=True)
class Placement:
    """Where a data store runs (private subnets of the VPC) and which application tiers may reach it."""

    vpc_id: str
    subnet_ids: Sequence[str]
    client_security_group_ids: Mapping[str, str]


def admitting_tiers(
    scope: Construct, construct_id: str, *, name: str, service: str, port: int, placement: Placement
) -> SecurityGroupWithRules:
    """A security group admitting ``port`` only from the security groups of the placement's tiers."""
    group = SecurityGroupWithRules(
        scope,
        construct_id,
        name=name,
        description=f"{service}: only the application tiers",
        vpc_id=placement.vpc_id,
    )
    for tier, group_id in placement.client_security_group_ids.items():
        group.allow_from_group(
            f"from-{tier}", source_group_id=group_id, port=port, description=f"{service} from {tier}"
        )
    return group


def access_log_bucket(
    scope: Construct, construct_id: str, *, settings: EnvironmentSettings, bucket_name: str
) -> SecureBucket:
    """A target bucket for S3 server access logs: SSE-S3 (the only encryption log delivery supports),
    writable by the S3 logging service of this account only, logs expiring after the environment's
    ``storage.access_log_retention_days``.
    """
    storage = settings.storage
    return SecureBucket(
        scope,
        construct_id,
        bucket_name=bucket_name,
        kms_key=None,
        abort_incomplete_multipart_days=storage.abort_incomplete_multipart_days,
        lifecycle_rules=[
            lifecycle_rule(
                "expire-access-logs",
                expiration=[
                    S3BucketLifecycleConfigurationRuleExpiration(days=storage.access_log_retention_days)
                ],
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=1)
                ],
            )
        ],
        policy_statements=[access_log_delivery_statement(f"arn:aws:s3:::{bucket_name}", settings.account_id)],
    )


class DnsValidatedCertificate(Construct):
    """An ACM certificate for one name (no wildcard), validated through a record in a Route53 zone.

    ``arn`` is the validation's certificate ARN, so a listener or distribution using it waits until ACM
    has issued the certificate. Pass ``provider`` for a certificate outside the stack's region (CloudFront
    takes certificates from us-east-1 only).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str,
        zone_id: str,
        provider: AwsProvider | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=domain_name,
            validation_method="DNS",
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            provider=provider,
        )
        # One name, so exactly one validation record (the attribute is a set: index it as a list).
        option = self.certificate.domain_validation_options.get(0)
        self.validation_record = Route53Record(
            self,
            "validation-record",
            zone_id=zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=300,
            allow_overwrite=True,
        )
        self.validation = AcmCertificateValidation(
            self,
            "validation",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=[self.validation_record.fqdn],
            provider=provider,
        )
        self.arn = self.validation.certificate_arn


def alias_records(
    scope: Construct, construct_id: str, *, zone_id: str, name: str, target_name: str, target_zone_id: str
) -> list[Route53Record]:
    """IPv4 and IPv6 alias records for ``name`` pointing at an AWS endpoint (CloudFront, a load balancer)."""
    return [
        Route53Record(
            scope,
            f"{construct_id}-{record_type.lower()}",
            zone_id=zone_id,
            name=name,
            type=record_type,
            alias=Route53RecordAlias(name=target_name, zone_id=target_zone_id, evaluate_target_health=False),
        )
        for record_type in ("A", "AAAA")
    ]
