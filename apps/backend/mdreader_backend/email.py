"""Outgoing email behind one small interface; the default writes to the log and keeps an outbox."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

import anyio.to_thread

from mdreader_backend.settings import Settings

logger = logging.getLogger("mdreader_backend.email")


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str


class EmailSender(Protocol):
    async def send(self, email: Email) -> None: ...


class LogEmailSender:
    """Local and test default: logs each email and keeps it in `outbox` (tests read links from it)."""

    def __init__(self) -> None:
        self.outbox: list[Email] = []

    async def send(self, email: Email) -> None:
        self.outbox.append(email)
        logger.info("email to=%s subject=%r\n%s", email.to, email.subject, email.text)


class SmtpEmailSender:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(self, email: Email) -> None:
        await anyio.to_thread.run_sync(self._send_blocking, email)

    def _send_blocking(self, email: Email) -> None:
        s = self._settings
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = s.email_from, email.to, email.subject
        message.set_content(email.text)
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=15) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user and s.smtp_password:
                smtp.login(s.smtp_user, s.smtp_password)
            smtp.send_message(message)


class SesEmailSender:
    """Amazon SES; boto3 is imported on first use so the Lambda cold start doesn't pay for it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Any = None

    async def send(self, email: Email) -> None:
        await anyio.to_thread.run_sync(self._send_blocking, email)

    def _send_blocking(self, email: Email) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("sesv2")
        configuration_set = self._settings.ses_configuration_set
        self._client.send_email(
            **({"ConfigurationSetName": configuration_set} if configuration_set else {}),
            FromEmailAddress=self._settings.email_from,
            Destination={"ToAddresses": [email.to]},
            Content={
                "Simple": {
                    "Subject": {"Data": email.subject},
                    "Body": {"Text": {"Data": email.text}},
                }
            },
        )


def make_email_sender(settings: Settings) -> EmailSender:
    if settings.email_backend == "smtp":
        return SmtpEmailSender(settings)
    if settings.email_backend == "ses":
        return SesEmailSender(settings)
    return LogEmailSender()


async def send_quietly(sender: EmailSender, email: Email) -> bool:
    """Emails are best effort: a failure is logged, never turned into a failed request."""
    try:
        await sender.send(email)
    except Exception:
        logger.exception("could not send email to %s", email.to)
        return False
    return True
