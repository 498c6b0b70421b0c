"""email layer: the SES domain identity the backend sends from (DKIM, custom MAIL FROM), a configuration
set that refuses to send without TLS, and bounce/complaint events on an encrypted SNS topic.

The DKIM CNAMEs and the MAIL FROM MX/SPF records belong in the domain's Route53 zone (edge layer).
"""

from __future__ import annotations

from typing import ClassVar

from cdktn_provider_aws.ses_configuration_set import (
    SesConfigurationSet,
    SesConfigurationSetDeliveryOptions,
)
from cdktn_provider_aws.ses_domain_dkim import SesDomainDkim
from cdktn_provider_aws.ses_domain_identity import SesDomainIdentity
from cdktn_provider_aws.ses_domain_mail_from import SesDomainMailFrom
from cdktn_provider_aws.ses_event_destination import SesEventDestination, SesEventDestinationSnsDestination
from cdktn_provider_aws.ses_identity_notification_topic import SesIdentityNotificationTopic

from environments import EnvironmentSettings
from modules._cdk import Construct
from modules.common import EMAIL_SUFFIX, EncryptedTopic, LayerStack

#: Events that mean a message did not reach (or upset) its recipient; everything else stays in SES.
DELIVERY_PROBLEMS = ("Bounce", "Complaint")


class SendingDomain(Construct):
    """A verified sending domain with Easy DKIM and a MAIL FROM subdomain (rejecting mail if its MX is
    missing rather than falling back to amazonses.com), and a TLS-only configuration set.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain: str,
        mail_from_domain: str,
        configuration_set_name: str,
        events_topic_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.identity = SesDomainIdentity(self, "identity", domain=domain)
        self.dkim = SesDomainDkim(self, "dkim", domain=self.identity.domain)
        self.mail_from = SesDomainMailFrom(
            self,
            "mail-from",
            domain=self.identity.domain,
            mail_from_domain=mail_from_domain,
            behavior_on_mx_failure="RejectMessage",
        )
        self.configuration_set = SesConfigurationSet(
            self,
            "configuration-set",
            name=configuration_set_name,
            delivery_options=SesConfigurationSetDeliveryOptions(tls_policy="Require"),
            reputation_metrics_enabled=True,
            sending_enabled=True,
        )
        self.event_destination = SesEventDestination(
            self,
            "events",
            name=f"{configuration_set_name}-delivery-problems",
            configuration_set_name=self.configuration_set.name,
            enabled=True,
            matching_types=[event.lower() for event in DELIVERY_PROBLEMS],
            sns_destination=SesEventDestinationSnsDestination(topic_arn=events_topic_arn),
        )
        self.notifications = [
            SesIdentityNotificationTopic(
                self,
                f"notify-{event.lower()}",
                identity=self.identity.domain,
                notification_type=event,
                topic_arn=events_topic_arn,
                include_original_headers=True,
            )
            for event in DELIVERY_PROBLEMS
        ]


class EmailStack(LayerStack):
    layer: ClassVar[str] = "email"

    def __init__(self, scope: Construct, *, settings: EnvironmentSettings) -> None:
        super().__init__(scope, settings=settings)
        self.events = EncryptedTopic(
            self,
            "email-events",
            settings=settings,
            name=self.name("email-events"),
            publishers=["ses.amazonaws.com"],
        )
        self.sending_domain = SendingDomain(
            self,
            "sending-domain",
            domain=settings.domain_name,
            mail_from_domain=f"{settings.email.mail_from_subdomain}.{settings.domain_name}",
            configuration_set_name=self.name(EMAIL_SUFFIX),
            events_topic_arn=self.events.arn,
        )
