"""auth layer: Checkov has no Cognito user pool checks, so every security setting is pinned here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from infra_harness import ROOT  # noqa: F401  (puts the repository root on sys.path)
from infra_json import ENVIRONMENTS, Stacks, reference_to
from pydantic import ValidationError

import environments
from environments.settings import AuthSettings, IdentityProviderSettings
from modules.app import build_app

SETTINGS = {env: environments.load(env) for env in ENVIRONMENTS}
DESKTOP = ["tauri://localhost", "http://tauri.localhost"]
SECRET_ARN = "arn:aws:secretsmanager:eu-central-1:111111111111:secret:mdreader-dev-google-AbCdEf"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_user_pool_secure_defaults(stacks: Stacks, env: str) -> None:
    pool = stacks.get(env, "auth").only("aws_cognito_user_pool")
    assert pool["password_policy"] == {
        "minimum_length": 8,
        "require_lowercase": True,
        "require_uppercase": True,
        "require_numbers": True,
        "require_symbols": True,
        "temporary_password_validity_days": 3,
    }
    assert pool["username_attributes"] == ["email"]
    assert pool["auto_verified_attributes"] == ["email"]
    assert pool["username_configuration"] == {"case_sensitive": False}
    assert pool["mfa_configuration"] == "OPTIONAL"
    assert pool["software_token_mfa_configuration"] == {"enabled": True}
    assert pool["device_configuration"] == {
        "challenge_required_on_new_device": True,
        "device_only_remembered_on_user_prompt": True,
    }
    assert pool["account_recovery_setting"]["recovery_mechanism"] == [
        {"name": "verified_email", "priority": 1}
    ]
    assert "sms_configuration" not in pool


def test_deletion_protection_and_threat_protection_differ_by_environment(stacks: Stacks) -> None:
    pools = {env: stacks.get(env, "auth").only("aws_cognito_user_pool") for env in ENVIRONMENTS}
    assert {env: pool["deletion_protection"] for env, pool in pools.items()} == {
        "dev": "INACTIVE",
        "staging": "ACTIVE",
        "prod": "ACTIVE",
    }
    assert pools["prod"]["user_pool_tier"] == "PLUS"
    assert pools["prod"]["user_pool_add_ons"] == {"advanced_security_mode": "ENFORCED"}
    assert pools["staging"]["user_pool_add_ons"] == {"advanced_security_mode": "AUDIT"}
    # The Plus plan costs per user: dev runs Essentials, where advanced security is not available.
    assert pools["dev"]["user_pool_tier"] == "ESSENTIALS"
    assert "user_pool_add_ons" not in pools["dev"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_app_client_is_public_with_code_flow_and_bounded_tokens(stacks: Stacks, env: str) -> None:
    client = stacks.get(env, "auth").only("aws_cognito_user_pool_client")
    assert client["generate_secret"] is False
    assert client["explicit_auth_flows"] == [
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    ]
    assert client["prevent_user_existence_errors"] == "ENABLED"
    assert client["enable_token_revocation"] is True
    assert (
        client["access_token_validity"],
        client["id_token_validity"],
        client["refresh_token_validity"],
    ) == (
        60,
        60,
        30,
    )
    assert client["token_validity_units"] == [
        {"access_token": "minutes", "id_token": "minutes", "refresh_token": "days"}
    ]
    assert client["allowed_oauth_flows"] == ["code"]
    assert client["allowed_oauth_scopes"] == ["openid", "email", "profile"]
    assert client["supported_identity_providers"] == ["COGNITO"]


def test_callback_and_logout_urls_per_environment_include_the_desktop_app(stacks: Stacks) -> None:
    clients = {env: stacks.get(env, "auth").only("aws_cognito_user_pool_client") for env in ENVIRONMENTS}
    assert clients["prod"]["callback_urls"] == ["https://mdreader.example.com/auth/callback", *DESKTOP]
    assert clients["prod"]["logout_urls"] == ["https://mdreader.example.com/", *DESKTOP]
    assert clients["staging"]["callback_urls"] == [
        "https://staging.mdreader.example.com/auth/callback",
        *DESKTOP,
    ]
    assert clients["dev"]["callback_urls"] == [
        "https://dev.mdreader.example.com/auth/callback",
        "http://localhost:5173/auth/callback",
        *DESKTOP,
    ]
    for env in ("staging", "prod"):
        assert not any(
            "localhost:" in url for url in clients[env]["callback_urls"] + clients[env]["logout_urls"]
        )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_hosted_ui_domain_and_identity_pool_without_guests(stacks: Stacks, env: str) -> None:
    auth = stacks.get(env, "auth")
    domain = auth.only("aws_cognito_user_pool_domain")
    assert domain["domain"] == f"mdreader-{env}"
    assert reference_to(domain["user_pool_id"], "aws_cognito_user_pool")
    identity_pool = auth.only("aws_cognito_identity_pool")
    assert identity_pool["allow_unauthenticated_identities"] is False
    assert identity_pool["allow_classic_flow"] is False
    (provider,) = identity_pool["cognito_identity_providers"]
    assert provider["server_side_token_check"] is True
    assert reference_to(provider["client_id"], "aws_cognito_user_pool_client")
    roles = auth.only("aws_cognito_identity_pool_roles_attachment")["roles"]
    assert set(roles) == {"authenticated"}
    role = auth.only("aws_iam_role")
    (trust,) = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert reference_to(
        trust["Condition"]["StringEquals"]["cognito-identity.amazonaws.com:aud"], "aws_cognito_identity_pool"
    )
    assert trust["Condition"]["ForAnyValue:StringLike"] == {
        "cognito-identity.amazonaws.com:amr": "authenticated"
    }
    # The role grants nothing until a feature needs AWS access from the client.
    assert not auth.resources("aws_iam_role_policy")
    assert not auth.resources("aws_iam_role_policy_attachment")


def test_no_social_providers_unless_configured(stacks: Stacks) -> None:
    for env in ENVIRONMENTS:
        assert not stacks.get(env, "auth").resources("aws_cognito_identity_provider")


def synth_auth_with_providers(tmp_path: Path) -> dict[str, Any]:
    """The dev auth stack with both social providers configured, synthesized in this process."""
    providers = (
        IdentityProviderSettings(kind="Google", client_id="google-client", client_secret_arn=SECRET_ARN),
        IdentityProviderSettings(
            kind="GitHub",
            client_id="github-client",
            client_secret_arn=SECRET_ARN.replace("google", "github"),
            oidc_issuer="https://github-oidc.dev.mdreader.example.com",
        ),
    )
    dev = SETTINGS["dev"]
    settings = dev.model_copy(update={"auth": dev.auth.model_copy(update={"identity_providers": providers})})
    build_app([settings], ["auth"], outdir=str(tmp_path / "out")).synth()
    config: dict[str, Any] = json.loads((tmp_path / "out/stacks/mdreader-dev-auth/cdk.tf.json").read_text())
    return config


def test_social_providers_from_settings_read_their_secret_at_deploy_time(tmp_path: Path) -> None:
    config = synth_auth_with_providers(tmp_path)
    providers = config["resource"]["aws_cognito_identity_provider"]
    by_name = {provider["provider_name"]: provider for provider in providers.values()}
    assert {name: p["provider_type"] for name, p in by_name.items()} == {"Google": "Google", "GitHub": "OIDC"}
    for provider in by_name.values():
        assert reference_to(
            provider["provider_details"]["client_secret"], "data.aws_secretsmanager_secret_version"
        )
    assert (
        by_name["GitHub"]["provider_details"]["oidc_issuer"]
        == "https://github-oidc.dev.mdreader.example.com/"
    )
    secrets = config["data"]["aws_secretsmanager_secret_version"]
    assert sorted(s["secret_id"] for s in secrets.values()) == sorted(
        [SECRET_ARN, SECRET_ARN.replace("google", "github")]
    )
    (client,) = config["resource"]["aws_cognito_user_pool_client"].values()
    assert client["supported_identity_providers"] == ["COGNITO", "Google", "GitHub"]
    assert len(client["depends_on"]) == 2


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"password_minimum_length": 7}, "password_minimum_length"),
        ({"web_callback_urls": ("http://mdreader.example.com/cb",)}, "must be https"),
        ({"threat_protection": "ON"}, "threat_protection"),
        (
            {"identity_providers": ({"kind": "GitHub", "client_id": "x", "client_secret_arn": SECRET_ARN},)},
            "oidc_issuer is required",
        ),
        (
            {
                "identity_providers": (
                    {"kind": "Google", "client_id": "x", "client_secret_arn": "the-secret"},
                )
            },
            "client_secret_arn",
        ),
    ],
)
def test_invalid_auth_settings_are_rejected(values: dict[str, Any], message: str) -> None:
    data = SETTINGS["prod"].auth.model_dump() | values
    with pytest.raises(ValidationError, match=message):
        AuthSettings(**data)
