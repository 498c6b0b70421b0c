"""storage layer: the attachments/snapshots bucket and the access-log bucket it logs into."""

from __future__ import annotations

from typing import ClassVar

from cdktn_provider_aws.s3_bucket_cors_configuration import S3BucketCorsConfigurationCorsRule
from cdktn_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleTransition,
)

from environments import EnvironmentSettings
from environments.settings import StorageSettings
from modules._cdk import Construct
from modules.common import (
    CustomerManagedKey,
    LayerStack,
    SecureBucket,
    access_log_bucket,
    lifecycle_rule,
    use_through_services,
)

#: What the browser may send on presigned uploads/downloads, and which response headers it may read.
CORS_METHODS = ("GET", "HEAD", "PUT")
CORS_ALLOWED_HEADERS = ("Content-Type", "Content-MD5", "x-amz-checksum-sha256", "x-amz-content-sha256")
CORS_EXPOSED_HEADERS = ("ETag",)
CORS_MAX_AGE_SECONDS = 3600


def tiering_rule(config: StorageSettings) -> S3BucketLifecycleConfigurationRule:
    """Current objects move to Infrequent Access, then Glacier; overwritten versions expire."""
    return lifecycle_rule(
        "tier-to-infrequent-access-then-glacier",
        transition=[
            S3BucketLifecycleConfigurationRuleTransition(
                days=config.infrequent_access_after_days, storage_class="STANDARD_IA"
            ),
            S3BucketLifecycleConfigurationRuleTransition(
                days=config.glacier_after_days, storage_class="GLACIER"
            ),
        ],
        noncurrent_version_expiration=[
            S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                noncurrent_days=config.noncurrent_version_expiry_days
            )
        ],
    )


class StorageStack(LayerStack):
    layer: ClassVar[str] = "storage"

    def __init__(self, scope: Construct, *, settings: EnvironmentSettings) -> None:
        super().__init__(scope, settings=settings)
        config = settings.storage
        self.key = CustomerManagedKey(
            self,
            "storage-key",
            settings=settings,
            alias=self.name("storage"),
            description=f"{settings.prefix} attachments and snapshots",
            grants=[use_through_services(settings, "s3")],
        )
        self.access_log_bucket = access_log_bucket(
            self,
            "access-logs",
            settings=settings,
            bucket_name=self.name(f"access-logs-{settings.account_id}"),
        )
        self.attachments_bucket = SecureBucket(
            self,
            "attachments",
            bucket_name=self.name(f"attachments-{settings.account_id}"),
            kms_key=self.key,
            abort_incomplete_multipart_days=config.abort_incomplete_multipart_days,
            lifecycle_rules=[tiering_rule(config)],
            access_log_bucket=self.access_log_bucket,
            cors_rules=[
                S3BucketCorsConfigurationCorsRule(
                    allowed_origins=[str(origin).rstrip("/") for origin in config.cors_allowed_origins],
                    allowed_methods=list(CORS_METHODS),
                    allowed_headers=list(CORS_ALLOWED_HEADERS),
                    expose_headers=list(CORS_EXPOSED_HEADERS),
                    max_age_seconds=CORS_MAX_AGE_SECONDS,
                )
            ],
        )
