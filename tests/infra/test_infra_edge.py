"""edge layer: CloudFront (web bucket through OAC, /api/* and the sync path), the us-east-1 WAF and
certificate, security headers, the DNS zone with its records, and the optional Amplify hosting.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from infra_json import ENVIRONMENTS, Stack, Stacks, reference_to
from pydantic import ValidationError

import environments
from environments.settings import EdgeSettings
from modules.app import build_app
from modules.edge import SPA_FALLBACK_FUNCTION, WEBSOCKET_HEADERS

SETTINGS = {env: environments.load(env) for env in ENVIRONMENTS}
REMOTE = "data.terraform_remote_state"
GLOBAL = "aws.global"


def distribution(stack: Stack) -> dict[str, Any]:
    return stack.only("aws_cloudfront_distribution")


def behaviors(stack: Stack) -> dict[str, dict[str, Any]]:
    return {b["path_pattern"]: b for b in distribution(stack)["ordered_cache_behavior"]}


def origins(stack: Stack) -> dict[str, dict[str, Any]]:
    return {o["origin_id"]: o for o in distribution(stack)["origin"]}


def buckets(stack: Stack) -> dict[str, str]:
    """Construct key of each bucket by its name."""
    return {body["bucket"]: key for key, body in stack.resources("aws_s3_bucket").items()}


def companion(stack: Stack, resource_type: str, bucket_key: str) -> dict[str, Any]:
    (found,) = [b for b in stack.resources(resource_type).values() if f".{bucket_key}." in b["bucket"]]
    return found


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_distribution_tls_waf_logging_and_price_class_from_settings(stacks: Stacks, env: str) -> None:
    edge = stacks.get(env, "edge")
    settings = SETTINGS[env]
    cdn = distribution(edge)
    assert cdn["enabled"] is True
    assert cdn["aliases"] == [settings.domain_name]
    assert cdn["price_class"] == settings.edge.price_class == "PriceClass_100"
    assert cdn["default_root_object"] == "index.html"
    certificate = cdn["viewer_certificate"]
    assert certificate["minimum_protocol_version"] == "TLSv1.2_2021"
    assert certificate["ssl_support_method"] == "sni-only"
    assert "cloudfront_default_certificate" not in certificate
    assert reference_to(certificate["acm_certificate_arn"], "aws_acm_certificate_validation")
    assert reference_to(cdn["web_acl_id"], "aws_wafv2_web_acl")
    logs_key = buckets(edge)[f"mdreader-{env}-cloudfront-logs-{settings.account_id}"]
    assert cdn["logging_config"]["bucket"] == f"${{aws_s3_bucket.{logs_key}.bucket_domain_name}}"
    assert cdn["restrictions"]["geo_restriction"]["restriction_type"] == "none"
    every = [cdn["default_cache_behavior"], *behaviors(edge).values()]
    assert all(b["viewer_protocol_policy"] in {"redirect-to-https", "https-only"} for b in every)
    assert all(
        reference_to(b["response_headers_policy_id"], "aws_cloudfront_response_headers_policy") for b in every
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_web_app_from_the_private_bucket_through_oac_with_spa_fallback(stacks: Stacks, env: str) -> None:
    edge = stacks.get(env, "edge")
    settings = SETTINGS[env]
    web = origins(edge)["web"]
    bucket_name = f"mdreader-{env}-web-{settings.account_id}"
    assert web["domain_name"] == f"{bucket_name}.s3.{settings.region}.amazonaws.com"
    assert reference_to(web["origin_access_control_id"], "aws_cloudfront_origin_access_control")
    oac = edge.only("aws_cloudfront_origin_access_control")
    assert (oac["signing_behavior"], oac["signing_protocol"]) == ("always", "sigv4")
    default = distribution(edge)["default_cache_behavior"]
    assert default["target_origin_id"] == "web"
    (association,) = default["function_association"]
    assert association["event_type"] == "viewer-request"
    functions = {f["name"]: f for f in edge.resources("aws_cloudfront_function").values()}
    assert functions[f"mdreader-{env}-spa-fallback"]["code"] == SPA_FALLBACK_FUNCTION
    # The SPA fallback is a function, not custom error responses: those would turn API 403/404 into HTML.
    assert "custom_error_response" not in distribution(edge)

    key = buckets(edge)[bucket_name]
    encryption = companion(edge, "aws_s3_bucket_server_side_encryption_configuration", key)
    (rule,) = encryption["rule"]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    ownership = companion(edge, "aws_s3_bucket_ownership_controls", key)
    assert ownership["rule"] == {"object_ownership": "BucketOwnerEnforced"}
    access = companion(edge, "aws_s3_bucket_public_access_block", key)
    assert all(access[flag] is True for flag in ("block_public_acls", "block_public_policy"))
    deny, reads = json.loads(companion(edge, "aws_s3_bucket_policy", key)["policy"])["Statement"]
    assert deny["Sid"] == "DenyInsecureTransport"
    assert reads["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert reads["Action"] == "s3:GetObject"
    assert reference_to(reads["Condition"]["StringEquals"]["AWS:SourceArn"], "aws_cloudfront_distribution")
    (web_key,) = [k for k in edge.resources("aws_kms_key").values() if "web app" in k["description"]]
    grants = {s["Sid"]: s for s in json.loads(web_key["policy"])["Statement"]}
    assert grants["CloudFrontReadsWebApp"]["Action"] == ["kms:Decrypt"]
    assert reference_to(
        grants["CloudFrontReadsWebApp"]["Condition"]["StringEquals"]["AWS:SourceArn"],
        "aws_cloudfront_distribution",
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cloudfront_log_bucket_is_the_only_one_with_acls_and_sse_s3(stacks: Stacks, env: str) -> None:
    """What the edge stack's CKV2_AWS_65 / CKV_AWS_145 skips would otherwise hide."""
    edge = stacks.get(env, "edge")
    for name, key in buckets(edge).items():
        ownership = companion(edge, "aws_s3_bucket_ownership_controls", key)["rule"]["object_ownership"]
        (rule,) = companion(edge, "aws_s3_bucket_server_side_encryption_configuration", key)["rule"]
        algorithm = rule["apply_server_side_encryption_by_default"]["sse_algorithm"]
        logged = companion(edge, "aws_s3_bucket_logging", key)
        assert reference_to(logged["target_bucket"], REMOTE), "access logs go to the storage layer's bucket"
        if "cloudfront-logs" in name:
            assert (ownership, algorithm) == ("BucketOwnerPreferred", "AES256")
        else:
            assert (ownership, algorithm) == ("BucketOwnerEnforced", "aws:kms")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_api_and_sync_paths_reach_their_origins_over_https(stacks: Stacks, env: str) -> None:
    edge = stacks.get(env, "edge")
    settings = SETTINGS[env]
    api, sync = origins(edge)["api"], origins(edge)["sync"]
    assert api["domain_name"].endswith(f".execute-api.{settings.region}.amazonaws.com")
    assert reference_to(api["domain_name"], REMOTE)
    assert sync["domain_name"] == f"sync-origin.{settings.domain_name}", "must match the ALB's certificate"
    for origin in (api, sync):
        config = origin["custom_origin_config"]
        assert config["origin_protocol_policy"] == "https-only"
        assert config["origin_ssl_protocols"] == ["TLSv1.2"]
    paths = behaviors(edge)
    assert set(paths) == {"/api/*", "/sync*"}
    api_behavior, sync_behavior = paths["/api/*"], paths["/sync*"]
    assert api_behavior["target_origin_id"] == "api"
    assert set(api_behavior["allowed_methods"]) == {
        "GET",
        "HEAD",
        "OPTIONS",
        "PUT",
        "POST",
        "PATCH",
        "DELETE",
    }
    assert api_behavior["cache_policy_id"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert api_behavior["origin_request_policy_id"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # no Host
    # The backend's routes are /api/v1/... (the client's paths): nothing rewrites them on the way.
    assert "function_association" not in api_behavior
    assert sync_behavior["target_origin_id"] == "sync"
    assert sync_behavior["cache_policy_id"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    request_policy = edge.only("aws_cloudfront_origin_request_policy")
    assert reference_to(sync_behavior["origin_request_policy_id"], "aws_cloudfront_origin_request_policy")
    headers = request_policy["headers_config"]
    assert headers["header_behavior"] == "whitelist"
    assert set(headers["headers"]["items"]) == set(WEBSOCKET_HEADERS)
    assert "Host" not in headers["headers"]["items"], "the ALB's certificate names sync-origin, not the site"
    assert request_policy["query_strings_config"]["query_string_behavior"] == "all"


def run_function(code: str, uri: str) -> str:
    """Run a CloudFront viewer-request function's handler under Node and return the rewritten URI."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH")
    script = f"{code}\nconsole.log(handler({{request: {{uri: {json.dumps(uri)}}}}}).uri);"
    return subprocess.run([node, "-e", script], capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("/", "/index.html"),
        ("/documents/123", "/index.html"),
        ("/assets/app.3f2a.js", "/assets/app.3f2a.js"),
        ("/favicon.ico", "/favicon.ico"),
    ],
)
def test_spa_fallback_serves_index_for_client_routes_only(uri: str, expected: str) -> None:
    assert run_function(SPA_FALLBACK_FUNCTION, uri) == expected


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_security_headers_hsts_csp_frame_and_content_type(stacks: Stacks, env: str) -> None:
    headers = stacks.get(env, "edge").only("aws_cloudfront_response_headers_policy")[
        "security_headers_config"
    ]
    hsts = headers["strict_transport_security"]
    assert hsts["access_control_max_age_sec"] >= 31536000
    assert (hsts["include_subdomains"], hsts["preload"], hsts["override"]) == (True, True, True)
    csp = headers["content_security_policy"]["content_security_policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    assert f"wss://{SETTINGS[env].domain_name}" in csp
    assert "'unsafe-eval'" not in csp
    assert headers["frame_options"] == {"frame_option": "DENY", "override": True}
    assert headers["content_type_options"] == {"override": True}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cloudfront_waf_in_us_east_1_with_the_seed_rules_and_logging(stacks: Stacks, env: str) -> None:
    edge = stacks.get(env, "edge")
    acl = edge.only("aws_wafv2_web_acl")
    assert (acl["scope"], acl["provider"]) == ("CLOUDFRONT", GLOBAL)
    rules = {rule["name"]: rule for rule in acl["rule"]}
    assert rules["rate-limit-per-ip"]["statement"]["rate_based_statement"] == {
        "limit": 1000,
        "aggregate_key_type": "IP",
    }
    for group in (
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
    ):
        assert rules[group]["override_action"] == {"none": {}}
    logging = edge.only("aws_wafv2_web_acl_logging_configuration")
    assert logging["provider"] == GLOBAL
    groups = {g["name"]: g for g in edge.resources("aws_cloudwatch_log_group").values()}
    waf_logs = groups[f"aws-waf-logs-mdreader-{env}-edge"]
    assert waf_logs["provider"] == GLOBAL
    assert reference_to(waf_logs["kms_key_id"], "aws_kms_key")
    assert waf_logs["retention_in_days"] == SETTINGS[env].edge.log_retention_days


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_certificate_in_us_east_1_validated_through_the_zone(stacks: Stacks, env: str) -> None:
    edge = stacks.get(env, "edge")
    certificate = edge.only("aws_acm_certificate")
    assert certificate["domain_name"] == SETTINGS[env].domain_name
    assert certificate["validation_method"] == "DNS"
    assert certificate["lifecycle"] == {"create_before_destroy": True}
    assert certificate["provider"] == GLOBAL
    validation = edge.only("aws_acm_certificate_validation")
    assert validation["provider"] == GLOBAL
    records = edge.resources("aws_route53_record")
    (validation_record,) = [r for r in records.values() if "domain_validation_options" in r["name"]]
    assert reference_to(validation_record["zone_id"], "aws_route53_zone")
    (logs_key,) = [k for k in edge.resources("aws_kms_key").values() if k.get("provider") == GLOBAL]
    (grant,) = [
        s for s in json.loads(logs_key["policy"])["Statement"] if s["Sid"].startswith("CloudWatchLogs")
    ]
    assert grant["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_zone_with_query_logging_site_aliases_and_email_records(stacks: Stacks, env: str) -> None:
    edge = stacks.get(env, "edge")
    settings = SETTINGS[env]
    domain = settings.domain_name
    assert edge.only("aws_route53_zone")["name"] == domain
    query_log = edge.only("aws_route53_query_log")
    assert reference_to(query_log["cloudwatch_log_group_arn"], "aws_cloudwatch_log_group")
    policy = edge.only("aws_cloudwatch_log_resource_policy")
    assert policy["provider"] == GLOBAL
    (statement,) = json.loads(policy["policy_document"])["Statement"]
    assert statement["Principal"] == {"Service": "route53.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": settings.account_id}}
    records = list(edge.resources("aws_route53_record").values())
    site = sorted((r["type"], r["alias"]["name"]) for r in records if r.get("alias"))
    assert [t for t, _ in site] == ["A", "AAAA"]
    assert all(reference_to(name, "aws_cloudfront_distribution") for _, name in site)
    dkim = [r for r in records if r["type"] == "CNAME"]
    assert len(dkim) == 3
    for record in dkim:
        assert record["name"].endswith(f"._domainkey.{domain}")
        assert f"{REMOTE}.cross-stack-reference-input-mdreader-{env}-email" in record["name"]
        (target,) = record["records"]
        assert target.endswith(".dkim.amazonses.com")
    by_type = {(r["type"], r["name"]): r["records"] for r in records if r["type"] in {"MX", "TXT"}}
    assert by_type[("MX", f"mail.{domain}")] == [f"10 feedback-smtp.{settings.region}.amazonses.com"]
    assert by_type[("TXT", f"mail.{domain}")] == ["v=spf1 include:amazonses.com ~all"]
    assert by_type[("TXT", f"_dmarc.{domain}")] == ["v=DMARC1; p=quarantine"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_sync_certificate_validated_in_the_edge_zone_and_origin_name_aliases_the_alb(
    stacks: Stacks, env: str
) -> None:
    sync = stacks.get(env, "sync")
    records = list(sync.resources("aws_route53_record").values())
    edge_zone = f"{REMOTE}.cross-stack-reference-input-mdreader-{env}-edge"
    assert records
    assert all(edge_zone in r["zone_id"] for r in records)
    aliases = [r for r in records if r.get("alias")]
    assert sorted(r["type"] for r in aliases) == ["A", "AAAA"]
    for record in aliases:
        assert record["name"] == f"sync-origin.{SETTINGS[env].domain_name}"
        assert reference_to(record["alias"]["name"], "aws_lb")
    (listener,) = sync.resources("aws_lb_listener").values()
    assert reference_to(listener["certificate_arn"], "aws_acm_certificate_validation")


def test_amplify_hosting_is_off_by_default(stacks: Stacks) -> None:
    for env in ENVIRONMENTS:
        assert not SETTINGS[env].edge.amplify_enabled
        assert not stacks.get(env, "edge").resources("aws_amplify_app")


def test_edge_follows_its_settings_and_amplify_when_enabled(tmp_path: Path, lambda_zip: Path) -> None:
    dev = SETTINGS["dev"]
    edge_settings = dev.edge.model_copy(
        update={
            "price_class": "PriceClass_All",
            "waf_rate_limit_per_ip": 2000,
            "amplify_enabled": True,
            "amplify_repository": "https://github.com/mdreader/mdreader-web",
        }
    )
    settings = dev.model_copy(update={"edge": edge_settings})
    build_app([settings], ["edge"], outdir=str(tmp_path / "out"), lambda_zip=lambda_zip).synth()
    config = json.loads((tmp_path / "out/stacks/mdreader-dev-edge/cdk.tf.json").read_text())
    edge = Stack("mdreader-dev-edge", config)
    assert distribution(edge)["price_class"] == "PriceClass_All"
    (rate,) = [r for r in edge.only("aws_wafv2_web_acl")["rule"] if r["name"] == "rate-limit-per-ip"]
    assert rate["statement"]["rate_based_statement"]["limit"] == 2000
    app = edge.only("aws_amplify_app")
    assert app["repository"] == "https://github.com/mdreader/mdreader-web"
    (rewrite,) = app["custom_rule"]
    assert (rewrite["target"], rewrite["status"]) == ("/index.html", "200")
    assert rewrite["source"].startswith("</^[^.]+$|")
    assert app["enable_basic_auth"] is False
    assert edge.only("aws_amplify_branch")["branch_name"] == "main"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"log_retention_days": 30, "api_path": "/x", "sync_path": "/x"}, "must differ"),
        ({"log_retention_days": 30, "hsts_max_age_seconds": 86400}, "greater than or equal to 31536000"),
        ({"log_retention_days": 30, "amplify_repository": "https://example.com/r"}, "amplify_enabled"),
        ({"log_retention_days": 31}, "retention period"),
    ],
)
def test_invalid_edge_settings_are_rejected(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EdgeSettings(**values)
