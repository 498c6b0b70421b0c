"""monitoring base layer: the KMS key every log group is encrypted with and the alert topic.

Dashboards, alarms and budgets come with the application layers; they publish to ``alert_topic``.
"""

from __future__ import annotations

from typing import ClassVar

from cdktn_provider_aws.sns_topic import SnsTopic
from cdktn_provider_aws.sns_topic_policy import SnsTopicPolicy

from environments import EnvironmentSettings
from modules._cdk import Construct
from modules.common import CustomerManagedKey, KeyGrant, LayerStack, policy_document, use_through_services


def logs_key_grant(settings: EnvironmentSettings) -> KeyGrant:
    """CloudWatch Logs may use the key, and only for log groups of this account and region."""
    return KeyGrant(
        sid="CloudWatchLogsEncryptLogGroups",
        principal={"Service": f"logs.{settings.region}.amazonaws.com"},
        actions=("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
        condition={
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": (
                    f"arn:aws:logs:{settings.region}:{settings.account_id}:log-group:*"
                )
            }
        },
    )


class AlertTopic(Construct):
    """An SNS topic encrypted with its own key, to which only CloudWatch alarms of this account publish."""

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: EnvironmentSettings, name: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = CustomerManagedKey(
            self,
            "key",
            settings=settings,
            alias=f"{name}-sns",
            description=f"{name} alert topic",
            grants=[
                use_through_services(settings, "sns"),
                KeyGrant(
                    sid="CloudWatchAlarmsPublish",
                    principal={"Service": "cloudwatch.amazonaws.com"},
                    actions=("kms:Decrypt", "kms:GenerateDataKey*"),
                    condition={"StringEquals": {"aws:SourceAccount": settings.account_id}},
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
                        "Sid": "CloudWatchAlarmsPublish",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": "sns:Publish",
                        "Resource": self.topic.arn,
                        "Condition": {"StringEquals": {"aws:SourceAccount": settings.account_id}},
                    }
                ]
            ),
        )
        self.arn = self.topic.arn


class MonitoringStack(LayerStack):
    layer: ClassVar[str] = "monitoring"

    def __init__(self, scope: Construct, *, settings: EnvironmentSettings) -> None:
        super().__init__(scope, settings=settings)
        self.logs_key = CustomerManagedKey(
            self,
            "logs-key",
            settings=settings,
            alias=self.name("logs"),
            description=f"{settings.prefix} CloudWatch log groups",
            grants=[logs_key_grant(settings)],
        )
        self.alerts = AlertTopic(self, "alerts", settings=settings, name=self.name("alerts"))
