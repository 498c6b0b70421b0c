"""bootstrap layer: the Terraform state bucket and its KMS key, created once per account with local state.

Every other stack's S3 backend points at this bucket, so it has to exist (``cdktn deploy
mdreader-<env>-bootstrap``) before any of them is initialized.
"""

from __future__ import annotations

from typing import ClassVar

from cdktn_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)

from environments import EnvironmentSettings
from modules._cdk import Construct
from modules.common import (
    CustomerManagedKey,
    LayerStack,
    SecureBucket,
    access_log_bucket,
    lifecycle_rule,
    use_through_services,
)

#: Old versions of state files stay recoverable for this long after they are overwritten.
STATE_VERSION_RETENTION_DAYS = 90


class StateBackend(Construct):
    """The state bucket (KMS-encrypted, versioned, access-logged) and its own access-log bucket."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: EnvironmentSettings) -> None:
        super().__init__(scope, construct_id)
        storage = settings.storage
        self.key = CustomerManagedKey(
            self,
            "state-key",
            settings=settings,
            alias=settings.state_key_alias.removeprefix("alias/"),
            description=f"{settings.prefix} Terraform state",
            grants=[use_through_services(settings, "s3")],
        )
        self.access_log_bucket = access_log_bucket(
            self,
            "state-access-logs",
            settings=settings,
            bucket_name=f"{settings.prefix}-tfstate-logs-{settings.account_id}",
        )
        self.state_bucket = SecureBucket(
            self,
            "state",
            bucket_name=settings.state_bucket,
            kms_key=self.key,
            abort_incomplete_multipart_days=storage.abort_incomplete_multipart_days,
            lifecycle_rules=[
                lifecycle_rule(
                    "expire-old-state-versions",
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=STATE_VERSION_RETENTION_DAYS
                        )
                    ],
                )
            ],
            access_log_bucket=self.access_log_bucket,
        )


class BootstrapStack(LayerStack):
    layer: ClassVar[str] = "bootstrap"
    uses_remote_state: ClassVar[bool] = False

    def __init__(self, scope: Construct, *, settings: EnvironmentSettings) -> None:
        super().__init__(scope, settings=settings)
        self.state = StateBackend(self, "state-backend", settings=settings)
