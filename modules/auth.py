"""auth layer: the Cognito user pool, its app client and hosted UI domain, optional social sign-in, and an
identity pool that admits signed-in users only.

Checkov has no check for user pools; tests/infra pins every setting chosen here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from cdktn_provider_aws.cognito_identity_pool import (
    CognitoIdentityPool,
    CognitoIdentityPoolCognitoIdentityProviders,
)
from cdktn_provider_aws.cognito_identity_pool_roles_attachment import CognitoIdentityPoolRolesAttachment
from cdktn_provider_aws.cognito_identity_provider import CognitoIdentityProvider
from cdktn_provider_aws.cognito_user_pool import (
    CognitoUserPool,
    CognitoUserPoolAccountRecoverySetting,
    CognitoUserPoolAccountRecoverySettingRecoveryMechanism,
    CognitoUserPoolAdminCreateUserConfig,
    CognitoUserPoolDeviceConfiguration,
    CognitoUserPoolPasswordPolicy,
    CognitoUserPoolSoftwareTokenMfaConfiguration,
    CognitoUserPoolUsernameConfiguration,
    CognitoUserPoolUserPoolAddOns,
    CognitoUserPoolVerificationMessageTemplate,
)
from cdktn_provider_aws.cognito_user_pool_client import (
    CognitoUserPoolClient,
    CognitoUserPoolClientTokenValidityUnits,
)
from cdktn_provider_aws.cognito_user_pool_domain import CognitoUserPoolDomain
from cdktn_provider_aws.data_aws_secretsmanager_secret_version import DataAwsSecretsmanagerSecretVersion
from cdktn_provider_aws.iam_role import IamRole

from environments import EnvironmentSettings
from environments.settings import DESKTOP_REDIRECT_URLS, AuthSettings, IdentityProviderSettings
from modules._cdk import Construct
from modules.common import LayerStack, policy_document

#: What the app client may do: SRP sign-in (web, desktop), admin password sign-in (backend tests, tools).
AUTH_FLOWS = ("ALLOW_USER_SRP_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
OAUTH_SCOPES = ("openid", "email", "profile")
#: Units of the client's token validity settings (AuthSettings: *_minutes, refresh_token_days).
TOKEN_VALIDITY_UNITS = {"access_token": "minutes", "id_token": "minutes", "refresh_token": "days"}


def social_provider(
    scope: Construct, provider: IdentityProviderSettings, *, user_pool_id: str
) -> CognitoIdentityProvider:
    """Google natively, GitHub through an OIDC shim; the client secret is read at deploy time."""
    secret = DataAwsSecretsmanagerSecretVersion(
        scope, f"{provider.kind.lower()}-client-secret", secret_id=provider.client_secret_arn
    )
    details = {
        "client_id": provider.client_id,
        "client_secret": secret.secret_string,
        "authorize_scopes": " ".join(OAUTH_SCOPES),
    }
    if provider.oidc_issuer is not None:
        details |= {"oidc_issuer": str(provider.oidc_issuer), "attributes_request_method": "GET"}
    return CognitoIdentityProvider(
        scope,
        f"{provider.kind.lower()}-idp",
        user_pool_id=user_pool_id,
        provider_name=provider.kind,
        provider_type="Google" if provider.kind == "Google" else "OIDC",
        provider_details=details,
        attribute_mapping={"email": "email", "username": "sub"},
    )


class UserPool(Construct):
    """A user pool signing in by email: strong passwords, verified email, optional TOTP MFA, devices
    remembered only when the user asks, threat protection as the environment's plan allows.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        config: AuthSettings,
        callback_urls: Sequence[str],
        logout_urls: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        threat_protection = config.threat_protection != "OFF"
        self.pool = CognitoUserPool(
            self,
            "pool",
            name=name,
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            username_configuration=CognitoUserPoolUsernameConfiguration(case_sensitive=False),
            password_policy=CognitoUserPoolPasswordPolicy(
                minimum_length=config.password_minimum_length,
                require_lowercase=True,
                require_uppercase=True,
                require_numbers=True,
                require_symbols=True,
                temporary_password_validity_days=3,
            ),
            mfa_configuration="OPTIONAL",
            software_token_mfa_configuration=CognitoUserPoolSoftwareTokenMfaConfiguration(enabled=True),
            device_configuration=CognitoUserPoolDeviceConfiguration(
                challenge_required_on_new_device=True, device_only_remembered_on_user_prompt=True
            ),
            account_recovery_setting=CognitoUserPoolAccountRecoverySetting(
                recovery_mechanism=[
                    CognitoUserPoolAccountRecoverySettingRecoveryMechanism(name="verified_email", priority=1)
                ]
            ),
            admin_create_user_config=CognitoUserPoolAdminCreateUserConfig(allow_admin_create_user_only=False),
            verification_message_template=CognitoUserPoolVerificationMessageTemplate(
                default_email_option="CONFIRM_WITH_CODE"
            ),
            deletion_protection="ACTIVE" if config.deletion_protection else "INACTIVE",
            user_pool_tier="PLUS" if threat_protection else "ESSENTIALS",
            user_pool_add_ons=(
                CognitoUserPoolUserPoolAddOns(advanced_security_mode=config.threat_protection)
                if threat_protection
                else None
            ),
        )
        self.providers = [
            social_provider(self, provider, user_pool_id=self.pool.id)
            for provider in config.identity_providers
        ]
        self.client = CognitoUserPoolClient(
            self,
            "client",
            name=f"{name}-app",
            user_pool_id=self.pool.id,
            generate_secret=False,
            explicit_auth_flows=list(AUTH_FLOWS),
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            access_token_validity=config.access_token_minutes,
            id_token_validity=config.id_token_minutes,
            refresh_token_validity=config.refresh_token_days,
            token_validity_units=[CognitoUserPoolClientTokenValidityUnits(**TOKEN_VALIDITY_UNITS)],
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_flows=["code"],
            allowed_oauth_scopes=list(OAUTH_SCOPES),
            callback_urls=list(callback_urls),
            logout_urls=list(logout_urls),
            supported_identity_providers=["COGNITO", *(p.kind for p in config.identity_providers)],
            depends_on=list(self.providers),
        )
        self.domain = CognitoUserPoolDomain(
            self, "domain", domain=config.hosted_ui_domain_prefix, user_pool_id=self.pool.id
        )


class SignedInIdentities(Construct):
    """An identity pool for the user pool's signed-in users only (no guests, no basic flow), with an
    authenticated role that grants nothing yet: AWS access is added per feature, by name.
    """

    def __init__(self, scope: Construct, construct_id: str, *, name: str, user_pool: UserPool) -> None:
        super().__init__(scope, construct_id)
        self.pool = CognitoIdentityPool(
            self,
            "pool",
            identity_pool_name=name.replace("-", "_"),
            allow_unauthenticated_identities=False,
            allow_classic_flow=False,
            cognito_identity_providers=[
                CognitoIdentityPoolCognitoIdentityProviders(
                    client_id=user_pool.client.id,
                    provider_name=user_pool.pool.endpoint,
                    server_side_token_check=True,
                )
            ],
        )
        trust = {
            "Effect": "Allow",
            "Principal": {"Federated": "cognito-identity.amazonaws.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {"cognito-identity.amazonaws.com:aud": self.pool.id},
                "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
            },
        }
        self.authenticated_role = IamRole(
            self, "authenticated", name=f"{name}-authenticated", assume_role_policy=policy_document([trust])
        )
        self.roles = CognitoIdentityPoolRolesAttachment(
            self,
            "roles",
            identity_pool_id=self.pool.id,
            roles={"authenticated": self.authenticated_role.arn},
        )


class AuthStack(LayerStack):
    layer: ClassVar[str] = "auth"

    def __init__(self, scope: Construct, *, settings: EnvironmentSettings) -> None:
        super().__init__(scope, settings=settings)
        config = settings.auth
        self.user_pool = UserPool(
            self,
            "users",
            name=self.name("users"),
            config=config,
            callback_urls=[*(str(url) for url in config.web_callback_urls), *DESKTOP_REDIRECT_URLS],
            logout_urls=[*(str(url) for url in config.web_logout_urls), *DESKTOP_REDIRECT_URLS],
        )
        self.identities = SignedInIdentities(
            self, "identities", name=self.name("identities"), user_pool=self.user_pool
        )
