"""The one place that imports the CDK Terrain core library (``cdktn``) and ``constructs``.

Everything else imports these names from here, so moving to another fork of the CDK for Terraform (or back
to HCL) touches this file only. The generated AWS resource bindings (``cdktn_provider_aws.*``) are imported
where they are used: they are plain typed classes, one module per resource type.
"""

from cdktn import (
    App,
    AssetType,
    Fn,
    LocalBackend,
    S3Backend,
    TerraformAsset,
    TerraformOutput,
    TerraformResourceLifecycle,
    TerraformStack,
    TerraformVariable,
    Token,
)
from constructs import Construct

#: Terraform versions the synthesized configuration targets (npm semver syntax, as cdktn expects).
#: ``use_lockfile`` on the S3 backend needs >= 1.10 and write-only arguments need >= 1.11.
TARGET_VERSIONS = {"terraform": ">=1.11.0"}

#: The AWS provider range every stack declares: the machine's 5.100 mirror and the bindings' 6.x.
AWS_PROVIDER_VERSION_RANGE = ">= 5.100, < 7.0"

__all__ = [
    "AWS_PROVIDER_VERSION_RANGE",
    "TARGET_VERSIONS",
    "App",
    "AssetType",
    "Construct",
    "Fn",
    "LocalBackend",
    "S3Backend",
    "TerraformAsset",
    "TerraformOutput",
    "TerraformResourceLifecycle",
    "TerraformStack",
    "TerraformVariable",
    "Token",
]
