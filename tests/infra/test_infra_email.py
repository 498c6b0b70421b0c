"""email layer: a DKIM-signed domain identity, a TLS-only configuration set, delivery problems to SNS."""

from __future__ import annotations

import json

import pytest
from infra_json import ENVIRONMENTS, Stacks, reference_to

import environments

SETTINGS = {env: environments.load(env) for env in ENVIRONMENTS}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_domain_identity_with_dkim_and_mail_from(stacks: Stacks, env: str) -> None:
    email = stacks.get(env, "email")
    domain = SETTINGS[env].domain_name
    assert email.only("aws_ses_domain_identity")["domain"] == domain
    assert reference_to(email.only("aws_ses_domain_dkim")["domain"], "aws_ses_domain_identity")
    mail_from = email.only("aws_ses_domain_mail_from")
    assert mail_from["mail_from_domain"] == f"mail.{domain}"
    assert mail_from["behavior_on_mx_failure"] == "RejectMessage"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_configuration_set_requires_tls_and_reports_delivery_problems(stacks: Stacks, env: str) -> None:
    email = stacks.get(env, "email")
    configuration_set = email.only("aws_ses_configuration_set")
    assert configuration_set["delivery_options"] == {"tls_policy": "Require"}
    assert configuration_set["reputation_metrics_enabled"] is True
    destination = email.only("aws_ses_event_destination")
    assert destination["enabled"] is True
    assert destination["matching_types"] == ["bounce", "complaint"]
    assert reference_to(destination["sns_destination"]["topic_arn"], "aws_sns_topic")
    notifications = email.resources("aws_ses_identity_notification_topic").values()
    assert sorted(n["notification_type"] for n in notifications) == ["Bounce", "Complaint"]
    assert all(reference_to(n["topic_arn"], "aws_sns_topic") for n in notifications)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_events_topic_is_encrypted_and_only_ses_of_this_account_publishes(stacks: Stacks, env: str) -> None:
    email = stacks.get(env, "email")
    assert reference_to(email.only("aws_sns_topic")["kms_master_key_id"], "aws_kms_key")
    (statement,) = json.loads(email.only("aws_sns_topic_policy")["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": SETTINGS[env].account_id}}
    key_statements = json.loads(email.only("aws_kms_key")["policy"])["Statement"]
    assert {s["Sid"] for s in key_statements} == {"AdministerKey", "UseThroughServices", "SesPublish"}
