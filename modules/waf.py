"""The web ACL every public entry point gets (the sync ALB here, CloudFront in the edge layer): the seed's
rate limit per IP, AWS managed common, known-bad-inputs (Log4j), SQL injection, IP reputation and
anonymous-IP rules (Checkov's CKV2_AWS_47/76 require the last two),
and logging into an encrypted log group.
"""

from __future__ import annotations

from typing import Any, Literal

from cdktn_provider_aws.provider import AwsProvider
from cdktn_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktn_provider_aws.wafv2_web_acl_logging_configuration import Wafv2WebAclLoggingConfiguration

from modules._cdk import Construct
from modules.common import encrypted_log_group

#: AWS managed rule groups, in evaluation order after the rate limit.
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesCommonRuleSet",
)


def visibility(metric: str) -> dict[str, Any]:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


class WebAcl(Construct):
    """A web ACL allowing by default and blocking what its rules match, with its requests logged.

    The log group's name must start with ``aws-waf-logs-`` (WAF's rule for log destinations). A
    ``CLOUDFRONT`` ACL and its log group must live in us-east-1: pass that region's ``provider``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        scope_name: Literal["REGIONAL", "CLOUDFRONT"],
        rate_limit_per_ip: int,
        logs_key_arn: str,
        log_retention_days: int,
        provider: AwsProvider | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        rate_rule = Wafv2WebAclRule(
            name="rate-limit-per-ip",
            priority=0,
            action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
            statement={"rate_based_statement": {"limit": rate_limit_per_ip, "aggregate_key_type": "IP"}},
            visibility_config=Wafv2WebAclRuleVisibilityConfig(**visibility(f"{name}-rate-limit")),
        )
        managed_rules = [
            Wafv2WebAclRule(
                name=group,
                priority=index,
                override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
                statement={"managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}},
                visibility_config=Wafv2WebAclRuleVisibilityConfig(**visibility(f"{name}-{group}")),
            )
            for index, group in enumerate(MANAGED_RULE_GROUPS, start=1)
        ]
        self.acl = Wafv2WebAcl(
            self,
            "acl",
            name=name,
            scope=scope_name,
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=[rate_rule, *managed_rules],
            visibility_config=Wafv2WebAclVisibilityConfig(**visibility(name)),
            provider=provider,
        )
        self.log_group = encrypted_log_group(
            self,
            "logs",
            name=f"aws-waf-logs-{name}",
            retention_days=log_retention_days,
            kms_key_arn=logs_key_arn,
            provider=provider,
        )
        self.logging = Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            resource_arn=self.acl.arn,
            log_destination_configs=[self.log_group.arn],
            provider=provider,
        )
        self.arn = self.acl.arn
