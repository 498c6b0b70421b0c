"""Monthly cost estimate per environment, computed from environments/*.py and compared with the seed.

    .venv/bin/python scripts/estimate_cost.py [--env prod] [--json]

Fixed costs (instances, NAT gateways, endpoints, load balancer, keys, secrets, WAF, zones) follow from
the settings; usage-driven costs (requests, traffic, log volume, users) from the explicit assumptions in
USAGE, per environment. Prices: AWS on-demand list prices for eu-central-1 (Frankfurt) in USD, as
published on the AWS pricing pages in 2025 and carried here on 2026-12-01 without a live lookup; they
exclude tax, free tiers (except where noted), savings plans and reserved instances. Re-check them with
the AWS Pricing Calculator before a budget decision.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import environments
from environments import EnvironmentSettings

HOURS_PER_MONTH = 730
PRICE_REGION = "eu-central-1"
PRICE_DATE = "2025 list prices, carried 2026-12-01"
#: The seed architecture's estimate for production (its cost table gives the range only).
SEED_PROD_RANGE_USD = (170, 250)

#: USD, eu-central-1 on-demand.
PRICES = {
    "nat_gateway_hour": 0.052,
    "nat_gateway_gb": 0.052,
    "public_ipv4_hour": 0.005,
    "interface_endpoint_hour": 0.012,  # per endpoint per AZ
    "alb_hour": 0.027,
    "alb_lcu_hour": 0.008,
    "rds_storage_gb_month": 0.137,  # gp3; doubled for Multi-AZ
    "rds_backup_gb_month": 0.095,  # beyond the free amount equal to the allocated storage
    "rds_proxy_vcpu_hour": 0.018,  # billed on the instance's vCPUs, at least 2
    "fargate_arm_vcpu_hour": 0.03725,
    "fargate_arm_gb_hour": 0.00409,
    "lambda_arm_gb_second": 0.0000133334,
    "lambda_million_requests": 0.20,
    "http_api_million_requests": 1.20,
    "cloudfront_10k_https_requests": 0.012,
    "waf_web_acl_month": 5.00,
    "waf_rule_month": 1.00,
    "waf_million_requests": 0.60,
    "route53_zone_month": 0.50,
    "route53_million_queries": 0.40,
    "secret_month": 0.40,
    "kms_key_month": 1.00,
    "logs_ingest_gb": 0.63,
    "logs_store_gb_month": 0.0324,
    "alarm_month": 0.10,
    "dashboard_month": 3.00,  # the first three per account are free
    "s3_standard_gb_month": 0.0245,
    "cognito_plus_mau": 0.02,  # threat protection needs the Plus plan; Essentials' first 10k MAU are free
    "ses_thousand_emails": 0.10,
    "ecr_gb_month": 0.10,
}
#: On-demand hourly price per instance type (RDS PostgreSQL single-AZ; ElastiCache Valkey).
RDS_HOURLY = {
    "db.t4g.micro": 0.019,
    "db.t4g.small": 0.037,
    "db.t4g.medium": 0.074,
    "db.t4g.large": 0.147,
    "db.m7g.large": 0.196,
    "db.m7g.xlarge": 0.392,
    "db.r7g.large": 0.262,
    "db.r7g.xlarge": 0.524,
}
RDS_VCPUS = {"micro": 2, "small": 2, "medium": 2, "large": 2, "xlarge": 4}
CACHE_HOURLY = {
    "cache.t4g.micro": 0.0148,
    "cache.t4g.small": 0.0296,
    "cache.t4g.medium": 0.0592,
    "cache.m7g.large": 0.145,
    "cache.r7g.large": 0.196,
}
#: CloudFront data out per GB (first 10 TB) by price class: North America/Europe only, or more.
CLOUDFRONT_GB = {"PriceClass_100": 0.085, "PriceClass_200": 0.100, "PriceClass_All": 0.110}

#: What the app layers' structure fixes (count them again when a layer adds one).
KMS_KEYS = (
    11  # logs, alerts, data, storage, backup, email events, api, sync, edge web + us-east-1 logs, state
)
GENERATED_SECRETS = 3  # signing key, cache token, the RDS-managed master secret
WEB_ACLS = 2  # the sync ALB's (regional) and CloudFront's
WAF_RULES_PER_ACL = 6  # rate limit + five AWS managed groups (modules/waf.py)
ALARMS_FIXED = 16  # api, sync, rotation and the per-resource alarms besides the per-cache-node ones
DASHBOARDS = 4


@dataclass(frozen=True)
class Usage:
    """Monthly usage assumed for an environment (not infrastructure settings: traffic, not sizes)."""

    api_requests_millions: float
    api_average_ms: int
    cloudfront_requests_millions: float
    cloudfront_gb: float
    nat_gb: float
    log_ingest_gb: float
    monthly_active_users: int
    emails: int
    stored_gb: float


USAGE = {
    "dev": Usage(0.2, 80, 0.5, 5, 5, 2, 20, 500, 2),
    "staging": Usage(0.5, 80, 1.0, 10, 10, 5, 50, 2000, 5),
    "prod": Usage(5.0, 80, 20.0, 150, 50, 20, 2000, 50000, 50),
}


def estimate(settings: EnvironmentSettings, usage: Usage) -> dict[str, float]:
    """USD per month by line item for one environment."""
    if settings.region != PRICE_REGION:
        raise ValueError(f"prices are for {PRICE_REGION}; {settings.name} runs in {settings.region}")
    p, hours = PRICES, HOURS_PER_MONTH
    network, db, cache, sync = settings.network, settings.database, settings.cache, settings.sync
    nat_gateways = network.az_count if network.nat_gateway_per_az else 1
    db_copies = 2 if db.multi_az else 1
    vcpus = RDS_VCPUS[db.instance_class.rsplit(".", 1)[1]]
    log_months_kept = settings.monitoring.log_retention_days / 30  # steady state: that many months stored
    lambda_gb_seconds = (
        usage.api_requests_millions * 1e6 * usage.api_average_ms / 1000 * settings.api.memory_mb / 1024
    )
    cognito = (
        usage.monthly_active_users * p["cognito_plus_mau"]
        if settings.auth.threat_protection != "OFF"
        else 0.0
    )
    items = {
        "NAT gateways": nat_gateways * hours * p["nat_gateway_hour"] + usage.nat_gb * p["nat_gateway_gb"],
        "public IPv4 (NAT, ALB)": (nat_gateways + network.az_count) * hours * p["public_ipv4_hour"],
        "VPC interface endpoints": len(network.interface_endpoints)
        * network.az_count
        * hours
        * p["interface_endpoint_hour"],
        "RDS PostgreSQL": db_copies
        * (RDS_HOURLY[db.instance_class] * hours + db.allocated_storage_gb * p["rds_storage_gb_month"])
        + max(0, db.backup_retention_days / 7 - 1) * db.allocated_storage_gb * p["rds_backup_gb_month"],
        "RDS Proxy": max(2, vcpus) * hours * p["rds_proxy_vcpu_hour"] if db.rds_proxy_enabled else 0.0,
        "ElastiCache Valkey": cache.node_count * CACHE_HOURLY[cache.node_type] * hours,
        "Fargate (sync)": sync.desired_count
        * hours
        * (
            sync.cpu_units / 1024 * p["fargate_arm_vcpu_hour"]
            + sync.memory_mb / 1024 * p["fargate_arm_gb_hour"]
        ),
        "ALB (sync)": hours * (p["alb_hour"] + p["alb_lcu_hour"]),
        "Lambda + HTTP API": lambda_gb_seconds * p["lambda_arm_gb_second"]
        + usage.api_requests_millions * (p["lambda_million_requests"] + p["http_api_million_requests"]),
        "CloudFront": usage.cloudfront_gb * CLOUDFRONT_GB[settings.edge.price_class]
        + usage.cloudfront_requests_millions * 100 * p["cloudfront_10k_https_requests"],
        "WAF (CloudFront + ALB)": WEB_ACLS
        * (p["waf_web_acl_month"] + WAF_RULES_PER_ACL * p["waf_rule_month"])
        + 2 * usage.cloudfront_requests_millions * p["waf_million_requests"],
        "Route53": p["route53_zone_month"]
        + usage.cloudfront_requests_millions / 10 * p["route53_million_queries"],
        "KMS keys + secrets": KMS_KEYS * p["kms_key_month"] + GENERATED_SECRETS * p["secret_month"],
        "CloudWatch (logs, alarms, dashboards)": usage.log_ingest_gb * p["logs_ingest_gb"]
        + usage.log_ingest_gb * log_months_kept * p["logs_store_gb_month"]
        + (ALARMS_FIXED + 2 * cache.node_count) * p["alarm_month"]
        + max(0, DASHBOARDS - 3) * p["dashboard_month"],
        "S3 + ECR": usage.stored_gb * p["s3_standard_gb_month"] + 1 * p["ecr_gb_month"],
        "Cognito": cognito,
        "SES": usage.emails / 1000 * p["ses_thousand_emails"],
    }
    return {name: round(value, 2) for name, value in items.items()}


def render(estimates: dict[str, dict[str, float]]) -> str:
    names = list(estimates)
    items = list(next(iter(estimates.values())))
    width = max(len(item) for item in [*items, "total"]) + 2
    lines = [f"Monthly cost estimate, USD ({PRICE_REGION} on-demand, {PRICE_DATE})", ""]
    lines.append("item".ljust(width) + "".join(name.rjust(10) for name in names))
    lines.append("-" * (width + 10 * len(names)))
    for item in items:
        lines.append(item.ljust(width) + "".join(f"{estimates[n][item]:10.2f}" for n in names))
    lines.append("-" * (width + 10 * len(names)))
    totals = {name: sum(values.values()) for name, values in estimates.items()}
    lines.append("total".ljust(width) + "".join(f"{totals[n]:10.2f}" for n in names))
    if "prod" in totals:
        low, high = SEED_PROD_RANGE_USD
        verdict = (
            "within" if low <= totals["prod"] <= high else ("above" if totals["prod"] > high else "below")
        )
        lines += [
            "",
            f"seed estimate for prod: ${low}-{high}/month; this prod: ${totals['prod']:.0f} ({verdict})",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", action="append", choices=environments.ENVIRONMENT_NAMES)
    parser.add_argument("--json", action="store_true", help="print the line items as JSON")
    args = parser.parse_args(argv)
    names = args.env or list(environments.ENVIRONMENT_NAMES)
    estimates = {name: estimate(environments.load(name), USAGE[name]) for name in names}
    if args.json:
        print(json.dumps({n: {"items": v, "total": round(sum(v.values()), 2)} for n, v in estimates.items()}))
    else:
        print(render(estimates))
    return 0


if __name__ == "__main__":
    sys.exit(main())
