"""cicd layer: GitHub Actions reach this environment's account through OIDC, never with stored keys.

Two roles per environment, each assumable only by jobs of one repository:

- ``mdreader-<env>-github-plan`` for pull requests (``repo:<owner/name>:pull_request``): read-only
  (``Describe*``/``List*``, the Terraform state, the state key), enough for ``terraform plan`` of every
  stack that does not read a secret back at plan time (the data stack reads its cache token: its plan
  runs in the deploy job).
- ``mdreader-<env>-github-deploy`` for deploy jobs of the GitHub environment named in the settings
  (``repo:<owner/name>:environment:<env>``; the environment's branch rule admits only main, and prod's
  requires a reviewer). It manages the services this app uses, only in this account, this region and
  us-east-1 (CloudFront's), S3 buckets and IAM roles only under ``mdreader-<env>-``, attaches only the
  AWS managed policies the layers use, passes roles only to the services that run them, and may not
  touch the GitHub roles or the OIDC provider (an administrator deploys this stack, like bootstrap).
"""

from __future__ import annotations

from typing import ClassVar

from cdktn_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy

from environments import EnvironmentSettings
from modules._cdk import Construct
from modules.api import FUNCTION_MANAGED_POLICIES
from modules.backup import BACKUP_POLICY_ARNS
from modules.common import LayerStack, Statement, policy_document
from modules.data import ENHANCED_MONITORING_POLICY_ARN
from modules.edge import GLOBAL_REGION
from modules.sync import EXECUTION_MANAGED_POLICY

GITHUB_ISSUER = "token.actions.githubusercontent.com"
#: GitHub's OIDC certificate thumbprints (IAM no longer checks them for GitHub, but the API wants one).
GITHUB_THUMBPRINTS = ("6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd")
#: The regional services the layers create resources in (IAM, S3, CloudFront and Route53 are separate).
REGIONAL_SERVICES = (
    "acm",
    "apigateway",
    "application-autoscaling",
    "backup",
    "cloudwatch",
    "cognito-identity",
    "cognito-idp",
    "ec2",
    "ecr",
    "ecs",
    "elasticache",
    "elasticloadbalancing",
    "kms",
    "lambda",
    "logs",
    "rds",
    "secretsmanager",
    "ses",
    "sns",
    "sqs",
    "wafv2",
    "xray",
    "amplify",
)
#: Services whose resources for CloudFront live in us-east-1 (certificate, web ACL, log groups, key).
GLOBAL_REGION_SERVICES = ("acm", "wafv2", "logs", "kms")
#: Read-only calls that IAM can't scope to a resource (so they take "*"); nothing here reads data.
UNSCOPED_READS = tuple(
    f"{service}:{verb}*"
    for service in (*REGIONAL_SERVICES, "cloudfront", "route53", "budgets", "iam")
    for verb in ("Describe", "List")
)
#: Configuration reads Terraform's refresh needs, scoped like the deploy role's resources. Not for
#: secrets (GetSecretValue) or logs (GetLogEvents): those hold data, not configuration.
PLAN_GET_SERVICES = tuple(s for s in REGIONAL_SERVICES if s not in {"secretsmanager", "logs"})
#: Bucket configuration only (GetBucket*, ...), never objects other than the state.
BUCKET_CONFIGURATION_READS = (
    "s3:GetBucket*",
    "s3:GetLifecycleConfiguration",
    "s3:GetEncryptionConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:GetAccelerateConfiguration",
)
#: Service-linked roles the first deployment may have to create.
SERVICE_LINKED_ROLES = (
    "ecs.amazonaws.com",
    "ecs.application-autoscaling.amazonaws.com",
    "elasticache.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "rds.amazonaws.com",
)
#: Services the layers' roles are passed to.
ROLE_USERS = (
    "lambda.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "monitoring.rds.amazonaws.com",
    "vpc-flow-logs.amazonaws.com",
    "backup.amazonaws.com",
    "cognito-identity.amazonaws.com",
    "rds.amazonaws.com",
)
#: Every AWS managed policy a layer attaches; the deploy role may attach no other.
ATTACHABLE_POLICIES = (
    *FUNCTION_MANAGED_POLICIES,
    *BACKUP_POLICY_ARNS,
    ENHANCED_MONITORING_POLICY_ARN,
    EXECUTION_MANAGED_POLICY,
)
ROLE_ACTIONS = (
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:GetRole",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
)


def github_trust(provider_arn: str, subject: str) -> str:
    """Only GitHub's OIDC tokens for AWS STS whose subject is exactly ``subject``."""
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_ISSUER}:aud": "sts.amazonaws.com",
                        f"{GITHUB_ISSUER}:sub": subject,
                    }
                },
            }
        ]
    )


def state_statements(settings: EnvironmentSettings, *, write: bool) -> list[Statement]:
    """The environment's Terraform state objects and lock files, and the state key through S3."""
    bucket = f"arn:aws:s3:::{settings.state_bucket}"
    object_actions = ["s3:GetObject", *(["s3:PutObject", "s3:DeleteObject"] if write else [])]
    return [
        {"Sid": "StateBucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket},
        {
            "Sid": "StateObjects",
            "Effect": "Allow",
            "Action": object_actions,
            "Resource": f"{bucket}/{settings.name}/*",
        },
        {
            "Sid": "StateKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", *(["kms:Encrypt", "kms:GenerateDataKey"] if write else [])],
            "Resource": f"arn:aws:kms:{settings.region}:{settings.account_id}:key/*",
            "Condition": {
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": settings.state_key_alias},
                "StringEquals": {"kms:ViaService": f"s3.{settings.region}.amazonaws.com"},
            },
        },
    ]


def service_resources(settings: EnvironmentSettings) -> list[str]:
    """Everything of the app's services in this account: its region, plus us-east-1 for CloudFront's."""
    account, region = settings.account_id, settings.region
    return [
        *(f"arn:aws:{service}:{region}:{account}:*" for service in REGIONAL_SERVICES),
        *(f"arn:aws:{service}:{GLOBAL_REGION}:{account}:*" for service in GLOBAL_REGION_SERVICES),
    ]


def edge_resources(settings: EnvironmentSettings) -> list[str]:
    account = settings.account_id
    return [
        f"arn:aws:cloudfront::{account}:*",
        "arn:aws:route53:::hostedzone/*",
        "arn:aws:route53:::change/*",
        f"arn:aws:budgets::{account}:budget/{settings.prefix}-*",
    ]


def plan_statements(settings: EnvironmentSettings, provider_arn: str) -> list[Statement]:
    """Configuration reads for ``terraform plan`` (refresh), on the same resources the deploy role manages."""
    account, prefix = settings.account_id, settings.prefix
    return [
        {
            "Sid": "ReadServiceConfiguration",
            "Effect": "Allow",
            "Action": [f"{service}:Get*" for service in PLAN_GET_SERVICES],
            "Resource": service_resources(settings),
        },
        {
            "Sid": "ReadEdgeConfiguration",
            "Effect": "Allow",
            "Action": ["cloudfront:Get*", "route53:Get*", "budgets:ViewBudget"],
            "Resource": edge_resources(settings),
        },
        {
            "Sid": "ReadSecretMetadata",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetResourcePolicy"],
            "Resource": f"arn:aws:secretsmanager:{settings.region}:{account}:secret:{prefix}-*",
        },
        {
            "Sid": "ReadBucketConfiguration",
            "Effect": "Allow",
            "Action": list(BUCKET_CONFIGURATION_READS),
            "Resource": f"arn:aws:s3:::{prefix}-*",
        },
        {
            "Sid": "ReadRoles",
            "Effect": "Allow",
            "Action": ["iam:GetRole", "iam:GetRolePolicy", "iam:GetOpenIDConnectProvider"],
            "Resource": [f"arn:aws:iam::{account}:role/{prefix}-*", provider_arn],
        },
    ]


def deploy_statements(settings: EnvironmentSettings, provider_arn: str) -> list[Statement]:
    account, prefix = settings.account_id, settings.prefix
    github_roles = f"arn:aws:iam::{account}:role/{prefix}-github-*"
    return [
        {
            "Sid": "ManageApplicationServices",
            "Effect": "Allow",
            "Action": [f"{service}:*" for service in REGIONAL_SERVICES],
            "Resource": service_resources(settings),
        },
        {
            "Sid": "ManageEdge",
            "Effect": "Allow",
            "Action": ["cloudfront:*", "route53:*", "budgets:*"],
            "Resource": edge_resources(settings),
        },
        {
            "Sid": "ManageEnvironmentBuckets",
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{prefix}-*", f"arn:aws:s3:::{prefix}-*/*"],
        },
        {
            "Sid": "ManageEnvironmentRoles",
            "Effect": "Allow",
            "Action": list(ROLE_ACTIONS),
            "Resource": f"arn:aws:iam::{account}:role/{prefix}-*",
        },
        {
            "Sid": "AttachOnlyTheLayersManagedPolicies",
            "Effect": "Allow",
            "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            "Resource": f"arn:aws:iam::{account}:role/{prefix}-*",
            "Condition": {"ArnEquals": {"iam:PolicyARN": list(ATTACHABLE_POLICIES)}},
        },
        {
            "Sid": "PassRolesToTheirServices",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": f"arn:aws:iam::{account}:role/{prefix}-*",
            "Condition": {"StringEquals": {"iam:PassedToService": list(ROLE_USERS)}},
        },
        {
            "Sid": "CreateServiceLinkedRoles",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": f"arn:aws:iam::{account}:role/aws-service-role/*",
            "Condition": {"StringEquals": {"iam:AWSServiceName": list(SERVICE_LINKED_ROLES)}},
        },
        {
            "Sid": "NeverTheDeploymentItself",
            "Effect": "Deny",
            "Action": ["iam:*", "s3:DeleteBucket", "s3:PutBucketPolicy"],
            "Resource": [github_roles, provider_arn, f"arn:aws:s3:::{settings.state_bucket}"],
        },
    ]


class GithubRole(Construct):
    """A role that one GitHub OIDC subject may assume, with its inline policy (and nothing attached)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        provider_arn: str,
        subject: str,
        statements: list[Statement],
        max_session_seconds: int = 3600,
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = IamRole(
            self,
            "role",
            name=name,
            assume_role_policy=github_trust(provider_arn, subject),
            max_session_duration=max_session_seconds,
        )
        self.policy = IamRolePolicy(
            self, "policy", name=name, role=self.role.id, policy=policy_document(statements)
        )
        self.arn = self.role.arn


class CicdStack(LayerStack):
    layer: ClassVar[str] = "cicd"

    def __init__(self, scope: Construct, *, settings: EnvironmentSettings) -> None:
        super().__init__(scope, settings=settings)
        config = settings.cicd
        self.oidc_provider = IamOpenidConnectProvider(
            self,
            "github-oidc",
            url=f"https://{GITHUB_ISSUER}",
            client_id_list=["sts.amazonaws.com"],
            thumbprint_list=list(GITHUB_THUMBPRINTS),
        )
        provider_arn = self.oidc_provider.arn
        repository = config.github_repository
        read_only: Statement = {
            "Sid": "DescribeAndList",
            "Effect": "Allow",
            "Action": list(UNSCOPED_READS),
            "Resource": "*",
        }
        # Registry login has no resource-level permission; pushes are scoped by ecr:* on this account.
        registry_login: Statement = {
            "Sid": "RegistryLogin",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
        }
        self.plan_role = GithubRole(
            self,
            "plan-role",
            name=self.name("github-plan"),
            provider_arn=provider_arn,
            subject=f"repo:{repository}:pull_request",
            statements=[
                read_only,
                *state_statements(settings, write=False),
                *plan_statements(settings, provider_arn),
            ],
        )
        self.deploy_role = GithubRole(
            self,
            "deploy-role",
            name=self.name("github-deploy"),
            provider_arn=provider_arn,
            subject=f"repo:{repository}:environment:{config.github_environment}",
            statements=[
                read_only,
                registry_login,
                *state_statements(settings, write=True),
                *deploy_statements(settings, provider_arn),
            ],
        )
