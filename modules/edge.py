"""edge layer: CloudFront in front of everything users reach, and the environment's DNS zone.

One distribution per environment serves the web app from a private, KMS-encrypted bucket (Origin Access
Control, SPA fallback by a viewer-request function so API 404s stay 404s), ``/api/*`` to the HTTP API
(paths unchanged: the backend's routes are under ``/api/v1``, as the client expects) and the sync path to the
ALB with the WebSocket handshake headers. CloudFront takes its certificate and web ACL from us-east-1
only, so this stack has a second, aliased provider there. The zone also carries the email layer's DKIM
and MAIL FROM records; the sync layer validates its ALB certificate in this zone (its listener must wait
for the issued certificate, so the record lives next to it, in the sync stack).
"""

from __future__ import annotations

from typing import ClassVar

from cdktn_provider_aws.amplify_app import AmplifyApp, AmplifyAppCustomRule
from cdktn_provider_aws.amplify_branch import AmplifyBranch
from cdktn_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation,
    CloudfrontDistributionLoggingConfig,
    CloudfrontDistributionOrderedCacheBehavior,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionOriginCustomOriginConfig,
    CloudfrontDistributionRestrictions,
    CloudfrontDistributionRestrictionsGeoRestriction,
    CloudfrontDistributionViewerCertificate,
)
from cdktn_provider_aws.cloudfront_function import CloudfrontFunction
from cdktn_provider_aws.cloudfront_origin_access_control import CloudfrontOriginAccessControl
from cdktn_provider_aws.cloudfront_origin_request_policy import (
    CloudfrontOriginRequestPolicy,
    CloudfrontOriginRequestPolicyCookiesConfig,
    CloudfrontOriginRequestPolicyHeadersConfig,
    CloudfrontOriginRequestPolicyHeadersConfigHeaders,
    CloudfrontOriginRequestPolicyQueryStringsConfig,
)
from cdktn_provider_aws.cloudfront_response_headers_policy import (
    CloudfrontResponseHeadersPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfig,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity,
)
from cdktn_provider_aws.cloudwatch_log_resource_policy import CloudwatchLogResourcePolicy
from cdktn_provider_aws.provider import AwsProvider
from cdktn_provider_aws.route53_query_log import Route53QueryLog
from cdktn_provider_aws.route53_record import Route53Record
from cdktn_provider_aws.route53_zone import Route53Zone
from cdktn_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)

from environments import EnvironmentSettings
from modules._cdk import Construct, Fn, TerraformOutput
from modules.api import ApiStack
from modules.common import (
    CustomerManagedKey,
    DnsValidatedCertificate,
    KeyGrant,
    LayerStack,
    SecureBucket,
    Statement,
    alias_records,
    encrypted_log_group,
    lifecycle_rule,
    policy_document,
    use_through_services,
)
from modules.email import EmailStack
from modules.monitoring import logs_key_grant
from modules.storage import StorageStack
from modules.waf import WebAcl

#: CloudFront's certificates, web ACLs and Route53 query logs live in this region only.
GLOBAL_REGION = "us-east-1"
#: AWS managed CloudFront policies (fixed ids, so no data-source lookup at plan time).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
#: What a WebSocket handshake needs at the origin (CloudFront drops other headers unless forwarded).
WEBSOCKET_HEADERS = (
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Origin",
)
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
READ_METHODS = ["GET", "HEAD"]
#: Amplify Hosting's single-page-app rewrite: every path without a file extension serves index.html.
AMPLIFY_SPA_REWRITE = AmplifyAppCustomRule(
    source="</^[^.]+$|\\.(?!(css|gif|ico|jpg|jpeg|js|png|txt|svg|woff|woff2|ttf|map|json|webp)$)([^.]+$)/>",
    target="/index.html",
    status="200",
)
WEB_ORIGIN, API_ORIGIN, SYNC_ORIGIN = "web", "api", "sync"

SPA_FALLBACK_FUNCTION = """function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""


def content_security_policy(settings: EnvironmentSettings) -> str:
    """The web app talks to its own origin (REST, WebSocket) and Cognito; nothing else runs or frames it."""
    region = settings.region
    connect = " ".join(
        [
            "'self'",
            f"wss://{settings.domain_name}",
            f"https://cognito-idp.{region}.amazonaws.com",
            f"https://cognito-identity.{region}.amazonaws.com",
            f"https://{settings.auth.hosted_ui_domain_prefix}.auth.{region}.amazoncognito.com",
        ]
    )
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeaders(Construct):
    """A response headers policy: HSTS (preload-ready), CSP, no framing, no MIME sniffing, referrer."""

    def __init__(
        self, scope: Construct, construct_id: str, *, name: str, csp: str, hsts_max_age_seconds: int
    ) -> None:
        super().__init__(scope, construct_id)
        headers = CloudfrontResponseHeadersPolicySecurityHeadersConfig
        self.policy = CloudfrontResponseHeadersPolicy(
            self,
            "policy",
            name=name,
            comment="HSTS, CSP, frame and content-type options",
            security_headers_config=headers(
                strict_transport_security=CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity(
                    access_control_max_age_sec=hsts_max_age_seconds,
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                content_security_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicy(
                    content_security_policy=csp, override=True
                ),
                frame_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions(
                    frame_option="DENY", override=True
                ),
                content_type_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions(
                    override=True
                ),
                referrer_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy(
                    referrer_policy="strict-origin-when-cross-origin", override=True
                ),
            ),
        )
        self.id = self.policy.id


class HostedZone(Construct):
    """The environment's public zone with DNS query logging to an encrypted us-east-1 log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        domain_name: str,
        logs_key_arn: str,
        log_retention_days: int,
        provider: AwsProvider,
    ) -> None:
        super().__init__(scope, construct_id)
        self.zone = Route53Zone(
            self,
            "zone",
            name=domain_name,
            comment=f"{settings.prefix}: managed by cdktn",
            force_destroy=False,
        )
        self.query_log_group = encrypted_log_group(
            self,
            "query-logs",
            name=f"/aws/route53/{domain_name}",
            retention_days=log_retention_days,
            kms_key_arn=logs_key_arn,
            provider=provider,
        )
        self.query_log_policy = CloudwatchLogResourcePolicy(
            self,
            "query-log-policy",
            policy_name=f"{settings.prefix}-route53-query-logs",
            policy_document=policy_document(
                [
                    {
                        "Sid": "Route53QueryLogs",
                        "Effect": "Allow",
                        "Principal": {"Service": "route53.amazonaws.com"},
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": f"{self.query_log_group.arn}:*",
                        "Condition": {"StringEquals": {"aws:SourceAccount": settings.account_id}},
                    }
                ]
            ),
            provider=provider,
        )
        self.query_log = Route53QueryLog(
            self,
            "query-log",
            zone_id=self.zone.zone_id,
            cloudwatch_log_group_arn=self.query_log_group.arn,
            depends_on=[self.query_log_policy],
        )
        self.zone_id = self.zone.zone_id


class EmailRecords(Construct):
    """What SES needs in DNS: the three Easy DKIM CNAMEs, the MAIL FROM MX and SPF, and a DMARC policy."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        zone_id: str,
        email: EmailStack,
    ) -> None:
        super().__init__(scope, construct_id)
        domain = settings.domain_name
        mail_from = f"{settings.email.mail_from_subdomain}.{domain}"
        tokens = email.sending_domain.dkim.dkim_tokens
        self.dkim = [
            Route53Record(
                self,
                f"dkim-{index}",
                zone_id=zone_id,
                name=f"{Fn.element(tokens, index)}._domainkey.{domain}",
                type="CNAME",
                ttl=1800,
                records=[f"{Fn.element(tokens, index)}.dkim.amazonses.com"],
            )
            for index in range(3)  # Easy DKIM always issues three tokens
        ]
        self.mail_from_mx = Route53Record(
            self,
            "mail-from-mx",
            zone_id=zone_id,
            name=mail_from,
            type="MX",
            ttl=1800,
            records=[f"10 feedback-smtp.{settings.region}.amazonses.com"],
        )
        self.mail_from_spf = Route53Record(
            self,
            "mail-from-spf",
            zone_id=zone_id,
            name=mail_from,
            type="TXT",
            ttl=1800,
            records=["v=spf1 include:amazonses.com ~all"],
        )
        self.dmarc = Route53Record(
            self,
            "dmarc",
            zone_id=zone_id,
            name=f"_dmarc.{domain}",
            type="TXT",
            ttl=1800,
            records=[f"v=DMARC1; p={settings.email.dmarc_policy}"],
        )


class EdgeStack(LayerStack):
    layer: ClassVar[str] = "edge"

    def __init__(
        self,
        scope: Construct,
        *,
        settings: EnvironmentSettings,
        storage: StorageStack,
        api: ApiStack,
        email: EmailStack,
    ) -> None:
        super().__init__(scope, settings=settings)
        config = settings.edge
        domain = settings.domain_name
        self.global_provider = self.aws_provider("aws-global", region=GLOBAL_REGION, alias="global")
        self.global_logs_key = CustomerManagedKey(
            self,
            "global-logs-key",
            settings=settings,
            alias=self.name("edge-logs"),
            description=f"{settings.prefix} us-east-1 log groups (CloudFront WAF, DNS query logs)",
            grants=[logs_key_grant(settings, region=GLOBAL_REGION)],
            provider=self.global_provider,
        )
        self.hosted_zone = HostedZone(
            self,
            "dns",
            settings=settings,
            domain_name=domain,
            logs_key_arn=self.global_logs_key.arn,
            log_retention_days=config.log_retention_days,
            provider=self.global_provider,
        )
        self.zone_id = self.hosted_zone.zone_id
        self.certificate = DnsValidatedCertificate(
            self, "certificate", domain_name=domain, zone_id=self.zone_id, provider=self.global_provider
        )
        self.web_acl = WebAcl(
            self,
            "waf",
            name=self.name("edge"),
            scope_name="CLOUDFRONT",
            rate_limit_per_ip=config.waf_rate_limit_per_ip,
            logs_key_arn=self.global_logs_key.arn,
            log_retention_days=config.log_retention_days,
            provider=self.global_provider,
        )
        self.log_bucket = SecureBucket(
            self,
            "cloudfront-logs",
            bucket_name=self.name(f"cloudfront-logs-{settings.account_id}"),
            kms_key=None,  # CloudFront standard logs are delivered to SSE-S3 buckets
            abort_incomplete_multipart_days=settings.storage.abort_incomplete_multipart_days,
            lifecycle_rules=[
                lifecycle_rule(
                    "expire-cloudfront-logs",
                    expiration=[
                        S3BucketLifecycleConfigurationRuleExpiration(
                            days=settings.storage.access_log_retention_days
                        )
                    ],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=1)
                    ],
                )
            ],
            access_log_bucket=storage.access_log_bucket,
            object_ownership="BucketOwnerPreferred",  # CloudFront writes standard logs through an ACL grant
        )
        self.origin_access = CloudfrontOriginAccessControl(
            self,
            "origin-access",
            name=self.name("web"),
            description="CloudFront signs every request to the web bucket",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
        )
        self.security_headers = SecurityHeaders(
            self,
            "security-headers",
            name=self.name("security-headers"),
            csp=content_security_policy(settings),
            hsts_max_age_seconds=config.hsts_max_age_seconds,
        )
        self.spa_fallback = CloudfrontFunction(
            self,
            "spa-fallback",
            name=self.name("spa-fallback"),
            runtime="cloudfront-js-2.0",
            comment="Paths without a file extension serve index.html (client-side routes)",
            publish=True,
            code=SPA_FALLBACK_FUNCTION,
        )
        self.websocket_requests = CloudfrontOriginRequestPolicy(
            self,
            "websocket-requests",
            name=self.name("websocket"),
            comment="WebSocket handshake headers and the query string to the sync service",
            headers_config=CloudfrontOriginRequestPolicyHeadersConfig(
                header_behavior="whitelist",
                headers=CloudfrontOriginRequestPolicyHeadersConfigHeaders(items=list(WEBSOCKET_HEADERS)),
            ),
            query_strings_config=CloudfrontOriginRequestPolicyQueryStringsConfig(query_string_behavior="all"),
            cookies_config=CloudfrontOriginRequestPolicyCookiesConfig(cookie_behavior="none"),
        )
        self.web_bucket_name = self.name(f"web-{settings.account_id}")
        headers_id = self.security_headers.id
        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            comment=f"{settings.prefix}: web app, {config.api_path}/*, {config.sync_path}",
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2and3",
            aliases=[domain],
            default_root_object="index.html",
            price_class=config.price_class,
            web_acl_id=self.web_acl.arn,
            viewer_certificate=CloudfrontDistributionViewerCertificate(
                acm_certificate_arn=self.certificate.arn,
                ssl_support_method="sni-only",
                minimum_protocol_version="TLSv1.2_2021",
            ),
            logging_config=CloudfrontDistributionLoggingConfig(
                bucket=self.log_bucket.bucket.bucket_domain_name, include_cookies=False, prefix="cloudfront/"
            ),
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="none")
            ),
            origin=[
                CloudfrontDistributionOrigin(
                    origin_id=WEB_ORIGIN,
                    # The bucket's regional name is known from its name: the distribution (whose ARN the
                    # bucket and key policies name) need not wait for the bucket.
                    domain_name=f"{self.web_bucket_name}.s3.{settings.region}.amazonaws.com",
                    origin_access_control_id=self.origin_access.id,
                ),
                https_origin(
                    API_ORIGIN, f"{api.http_api.api.id}.execute-api.{settings.region}.amazonaws.com"
                ),
                https_origin(SYNC_ORIGIN, f"{settings.sync.origin_subdomain}.{domain}"),
            ],
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id=WEB_ORIGIN,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD", "OPTIONS"],
                cached_methods=READ_METHODS,
                cache_policy_id=CACHING_OPTIMIZED,
                response_headers_policy_id=headers_id,
                compress=True,
                function_association=[
                    CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation(
                        event_type="viewer-request", function_arn=self.spa_fallback.arn
                    )
                ],
            ),
            ordered_cache_behavior=[
                CloudfrontDistributionOrderedCacheBehavior(
                    path_pattern=f"{config.api_path}/*",
                    target_origin_id=API_ORIGIN,
                    viewer_protocol_policy="https-only",
                    allowed_methods=ALL_METHODS,
                    cached_methods=READ_METHODS,
                    cache_policy_id=CACHING_DISABLED,
                    origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST_HEADER,
                    response_headers_policy_id=headers_id,
                    compress=True,
                ),
                CloudfrontDistributionOrderedCacheBehavior(
                    path_pattern=f"{config.sync_path}*",
                    target_origin_id=SYNC_ORIGIN,
                    viewer_protocol_policy="https-only",
                    allowed_methods=READ_METHODS,  # the WebSocket upgrade is a GET
                    cached_methods=READ_METHODS,
                    cache_policy_id=CACHING_DISABLED,
                    origin_request_policy_id=self.websocket_requests.id,
                    response_headers_policy_id=headers_id,
                    compress=False,
                ),
            ],
            depends_on=[self.log_bucket.ownership],
        )
        reads_through_distribution = {"StringEquals": {"AWS:SourceArn": self.distribution.arn}}
        self.web_key = CustomerManagedKey(
            self,
            "web-key",
            settings=settings,
            alias=self.name("web"),
            description=f"{settings.prefix} web app bucket",
            grants=[
                use_through_services(settings, "s3"),
                KeyGrant(
                    sid="CloudFrontReadsWebApp",
                    principal={"Service": "cloudfront.amazonaws.com"},
                    actions=("kms:Decrypt",),
                    condition=reads_through_distribution,
                ),
            ],
        )
        cloudfront_reads: Statement = {
            "Sid": "CloudFrontReadsWebApp",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{self.web_bucket_name}/*",
            "Condition": reads_through_distribution,
        }
        self.web_bucket = SecureBucket(
            self,
            "web",
            bucket_name=self.web_bucket_name,
            kms_key=self.web_key,
            abort_incomplete_multipart_days=settings.storage.abort_incomplete_multipart_days,
            lifecycle_rules=[
                lifecycle_rule(
                    "expire-old-builds",
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=settings.storage.noncurrent_version_expiry_days
                        )
                    ],
                )
            ],
            access_log_bucket=storage.access_log_bucket,
            policy_statements=[cloudfront_reads],
        )
        self.site_records = alias_records(
            self,
            "site",
            zone_id=self.zone_id,
            name=domain,
            target_name=self.distribution.domain_name,
            target_zone_id=self.distribution.hosted_zone_id,
        )
        self.email_records = EmailRecords(
            self, "email-dns", settings=settings, zone_id=self.zone_id, email=email
        )
        self.amplify = AmplifyHosting(self, "amplify", settings=settings) if config.amplify_enabled else None
        # What the deploy workflow needs to publish the web app and invalidate the cache.
        TerraformOutput(self, "web_bucket", value=self.web_bucket_name)
        TerraformOutput(self, "distribution_id", value=self.distribution.id)


def https_origin(origin_id: str, domain_name: str) -> CloudfrontDistributionOrigin:
    """A custom origin reached over HTTPS only, TLS 1.2 (its certificate must match ``domain_name``)."""
    return CloudfrontDistributionOrigin(
        origin_id=origin_id,
        domain_name=domain_name,
        custom_origin_config=CloudfrontDistributionOriginCustomOriginConfig(
            http_port=80,
            https_port=443,
            origin_protocol_policy="https-only",
            origin_ssl_protocols=["TLSv1.2"],
        ),
    )


class AmplifyHosting(Construct):
    """Amplify Hosting for the web app instead of the bucket (``edge.amplify_enabled``): the SPA
    rewrite rule, no automatic builds of other branches, and the configured branch when a repository is set.
    """

    def __init__(self, scope: Construct, construct_id: str, *, settings: EnvironmentSettings) -> None:
        super().__init__(scope, construct_id)
        config = settings.edge
        self.app = AmplifyApp(
            self,
            "app",
            name=f"{settings.prefix}-web",
            platform="WEB",
            repository=str(config.amplify_repository) if config.amplify_repository else None,
            custom_rule=[AMPLIFY_SPA_REWRITE],
            enable_branch_auto_build=False,
            enable_branch_auto_deletion=False,
            enable_basic_auth=False,
        )
        self.branch = (
            AmplifyBranch(
                self,
                "branch",
                app_id=self.app.id,
                branch_name=config.amplify_branch,
                enable_auto_build=True,
                stage="PRODUCTION" if settings.name == "prod" else "DEVELOPMENT",
            )
            if config.amplify_repository
            else None
        )
