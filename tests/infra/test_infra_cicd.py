"""cicd layer: GitHub OIDC, a read-only plan role and a scoped deploy role per environment, no keys."""

from __future__ import annotations

import json
from typing import Any

import pytest
from infra_json import ENVIRONMENTS, Stack, Stacks, reference_to

import environments
from modules.cicd import ATTACHABLE_POLICIES, ROLE_USERS

SETTINGS = {env: environments.load(env) for env in ENVIRONMENTS}
ISSUER = "token.actions.githubusercontent.com"


def roles(stack: Stack) -> dict[str, dict[str, Any]]:
    return {role["name"]: role for role in stack.resources("aws_iam_role").values()}


def statements_of(stack: Stack, role_name: str) -> dict[str, dict[str, Any]]:
    (inline,) = [p for p in stack.resources("aws_iam_role_policy").values() if p["name"] == role_name]
    return {s["Sid"]: s for s in json.loads(inline["policy"])["Statement"]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_github_oidc_provider_and_exact_subjects(stacks: Stacks, env: str) -> None:
    cicd = stacks.get(env, "cicd")
    provider = cicd.only("aws_iam_openid_connect_provider")
    assert provider["url"] == f"https://{ISSUER}"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    repository, environment = SETTINGS[env].cicd.github_repository, SETTINGS[env].cicd.github_environment
    subjects = {
        f"mdreader-{env}-github-plan": f"repo:{repository}:pull_request",
        f"mdreader-{env}-github-deploy": f"repo:{repository}:environment:{environment}",
    }
    assert set(roles(cicd)) == set(subjects)
    for name, role in roles(cicd).items():
        (trust,) = json.loads(role["assume_role_policy"])["Statement"]
        assert reference_to(trust["Principal"]["Federated"], "aws_iam_openid_connect_provider")
        assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
        # StringEquals (not StringLike): no other repository, branch or environment matches.
        assert trust["Condition"] == {
            "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:sub": subjects[name]}
        }
        assert role["max_session_duration"] == 3600
    assert not cicd.resources("aws_iam_role_policy_attachment"), "inline, reviewed policies only"


def test_no_long_lived_credentials_anywhere(stacks: Stacks) -> None:
    for stack in stacks:
        for resource_type in ("aws_iam_user", "aws_iam_access_key", "aws_iam_user_policy", "aws_iam_group"):
            assert not stack.resources(resource_type), f"{stack.name} has {resource_type}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_plan_role_reads_configuration_and_state_only(stacks: Stacks, env: str) -> None:
    settings = SETTINGS[env]
    statements = statements_of(stacks.get(env, "cicd"), f"mdreader-{env}-github-plan")
    for sid, statement in statements.items():
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            verb = action.split(":")[1]
            assert verb.startswith(("Describe", "List", "Get", "View")) or action == "kms:Decrypt", (
                sid,
                action,
            )
            assert action not in {"secretsmanager:GetSecretValue", "logs:GetLogEvents"}
            assert not action.startswith(("secretsmanager:Get*", "logs:Get*"))
            if action.startswith("s3:GetObject"):
                assert statement["Resource"] == f"arn:aws:s3:::{settings.state_bucket}/{env}/*"
        if statement["Resource"] == "*":
            assert all(a.split(":")[1] in {"Describe*", "List*"} for a in statement["Action"]), sid
    assert statements["StateKey"]["Condition"]["StringEquals"] == {
        "kms:ViaService": f"s3.{settings.region}.amazonaws.com"
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_deploy_role_is_scoped_to_this_account_environment_and_services(stacks: Stacks, env: str) -> None:
    settings = SETTINGS[env]
    account, prefix = settings.account_id, settings.prefix
    statements = statements_of(stacks.get(env, "cicd"), f"mdreader-{env}-github-deploy")
    for sid, statement in statements.items():
        resources = as_list(statement["Resource"])
        if resources == ["*"]:
            assert sid in {"DescribeAndList", "RegistryLogin"}, sid
            assert all(
                a.split(":")[1] in {"Describe*", "List*", "GetAuthorizationToken"}
                for a in as_list(statement["Action"])
            )
            continue
        for resource in resources:
            assert f":{account}:" in resource or resource.startswith(
                (f"arn:aws:s3:::{prefix}-", "arn:aws:route53:::", "${aws_iam_openid")
            ), (sid, resource)
        assert not any(
            a in {"*", "iam:*", "sts:*", "organizations:*"} for a in as_list(statement["Action"])
        ) or (statement["Effect"] == "Deny"), sid
    assert statements["ManageEnvironmentBuckets"]["Resource"] == [
        f"arn:aws:s3:::{prefix}-*",
        f"arn:aws:s3:::{prefix}-*/*",
    ]
    assert statements["ManageEnvironmentRoles"]["Resource"] == f"arn:aws:iam::{account}:role/{prefix}-*"
    assert "iam:PassRole" not in statements["ManageEnvironmentRoles"]["Action"]
    assert "iam:AttachRolePolicy" not in statements["ManageEnvironmentRoles"]["Action"]
    assert statements["PassRolesToTheirServices"]["Condition"]["StringEquals"]["iam:PassedToService"] == list(
        ROLE_USERS
    )
    deny = statements["NeverTheDeploymentItself"]
    assert deny["Effect"] == "Deny"
    assert f"arn:aws:iam::{account}:role/{prefix}-github-*" in deny["Resource"]
    assert f"arn:aws:s3:::{settings.state_bucket}" in deny["Resource"]


def test_deploy_role_may_attach_exactly_the_managed_policies_the_layers_use(stacks: Stacks) -> None:
    attached = {
        attachment["policy_arn"]
        for stack in stacks
        for attachment in stack.resources("aws_iam_role_policy_attachment").values()
    }
    assert attached == set(ATTACHABLE_POLICIES)
    for env in ENVIRONMENTS:
        statement = statements_of(stacks.get(env, "cicd"), f"mdreader-{env}-github-deploy")[
            "AttachOnlyTheLayersManagedPolicies"
        ]
        assert statement["Condition"] == {"ArnEquals": {"iam:PolicyARN": list(ATTACHABLE_POLICIES)}}


def test_every_role_and_bucket_the_deploy_role_manages_carries_the_environment_prefix(stacks: Stacks) -> None:
    trusted_services: set[str] = set()
    for stack in stacks:
        env = stack.name.split("-")[1]
        if stack.name.endswith(("-bootstrap", "-cicd")):
            continue  # deployed by an administrator
        for role in stack.resources("aws_iam_role").values():
            assert role["name"].startswith(f"mdreader-{env}-"), role["name"]
            for trust in json.loads(role["assume_role_policy"])["Statement"]:
                principal = trust["Principal"]
                trusted_services.add(principal.get("Service") or "cognito-identity.amazonaws.com")
        for bucket in stack.resources("aws_s3_bucket").values():
            assert bucket["bucket"].startswith(f"mdreader-{env}-"), bucket["bucket"]
    # iam:PassRole names every service a layer hands a role to.
    assert trusted_services <= set(ROLE_USERS)
