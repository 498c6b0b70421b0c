"""backup layer: an AWS Backup vault encrypted with its own key, a daily plan and a selection of the
database and the attachments bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from cdktn_provider_aws.backup_plan import BackupPlan, BackupPlanRule, BackupPlanRuleLifecycle
from cdktn_provider_aws.backup_selection import BackupSelection
from cdktn_provider_aws.backup_vault import BackupVault

from environments import EnvironmentSettings
from modules._cdk import Construct
from modules.common import CustomerManagedKey, LayerStack, ServiceRole, use_through_services
from modules.data import DataStack
from modules.storage import StorageStack

#: AWS-managed policies AWS Backup needs to back up and restore RDS and S3 (narrowed by the service).
BACKUP_POLICY_ARNS = (
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore",
)


class DailyBackup(Construct):
    """Vault + daily plan + selection: every resource in ``resource_arns`` is backed up once a day and
    each recovery point is deleted after ``retention_days``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        name: str,
        schedule: str,
        retention_days: int,
        resource_arns: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = CustomerManagedKey(
            self,
            "key",
            settings=settings,
            alias=f"{name}-backup",
            description=f"{name} backup vault",
            grants=[use_through_services(settings, "backup")],
        )
        self.vault = BackupVault(self, "vault", name=name, kms_key_arn=self.key.arn, force_destroy=False)
        self.role = ServiceRole(
            self,
            "role",
            settings=settings,
            name=f"{name}-backup",
            service="backup.amazonaws.com",
            managed_policy_arns=BACKUP_POLICY_ARNS,
        )
        self.plan = BackupPlan(
            self,
            "plan",
            name=f"{name}-daily",
            rule=[
                BackupPlanRule(
                    rule_name="daily",
                    target_vault_name=self.vault.name,
                    schedule=schedule,
                    start_window=60,
                    completion_window=360,
                    lifecycle=BackupPlanRuleLifecycle(delete_after=retention_days),
                )
            ],
        )
        self.selection = BackupSelection(
            self,
            "selection",
            name=f"{name}-daily",
            plan_id=self.plan.id,
            iam_role_arn=self.role.arn,
            resources=list(resource_arns),
        )


class BackupStack(LayerStack):
    layer: ClassVar[str] = "backup"

    def __init__(
        self, scope: Construct, *, settings: EnvironmentSettings, data: DataStack, storage: StorageStack
    ) -> None:
        super().__init__(scope, settings=settings)
        self.backup = DailyBackup(
            self,
            "daily",
            settings=settings,
            name=settings.prefix,
            schedule=settings.backup.schedule,
            retention_days=settings.backup.retention_days,
            resource_arns=[data.database.instance.arn, storage.attachments_bucket.arn],
        )
