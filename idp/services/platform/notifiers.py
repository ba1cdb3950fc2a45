"""Notification adapters behind one interface (docs/architecture.md §12).

Every message is first written to the outbox (in the caller's transaction). The adapter then
decides what "delivery" means:

* ``outbox`` (development, test): nothing leaves the machine; the row *is* the delivery and
  outside production the text is also logged, so demo codes can be read (`idp outbox list`).
* ``gateway``: SMS by HTTP POST to the SMS gateway, e-mail over SMTP; the outcome is recorded
  on the row (``sent_at``, ``attempts``, ``last_error``). A delivery failure never fails the
  caller's action: the row stays pending for a retry worker.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage
from typing import Protocol

from idp.models.base import utcnow
from idp.models.notification import Channel, OutboxMessage
from idp.settings import Settings

log = logging.getLogger("idp.notify")

HTTP_TIMEOUT_SECONDS = 5
SMTP_TIMEOUT_SECONDS = 10


class Notifier(Protocol):
    def deliver(self, message: OutboxMessage) -> None: ...


class OutboxNotifier:
    """Development/test twin: the outbox row is the message; in development (`make run`) the
    log shows it too. Nowhere else: the log holds no code or personal data, and the tests scan
    the log of a served journey for them (tests/cli/test_serve_log_privacy.py)."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def deliver(self, message: OutboxMessage) -> None:
        if self.settings.env != "development":
            return  # never write codes or recipients to any other environment's log
        kind = "SMS" if message.channel is Channel.SMS else "E-mail"
        log.info("%s to %s: %s", kind, message.recipient, message.body)


class GatewayNotifier:
    """Real delivery: HTTP SMS gateway and SMTP."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def deliver(self, message: OutboxMessage) -> None:
        message.attempts = (message.attempts or 0) + 1
        try:
            if message.channel is Channel.SMS:
                self._send_sms(message)
            else:
                self._send_email(message)
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            # OSError covers URLError, timeouts and refused connections.
            message.last_error = f"{type(exc).__name__}: {exc}"[:255]
            log.warning("delivery of outbox message (%s) failed: %s", message.template,
                        type(exc).__name__)
            return
        message.sent_at = utcnow()
        message.last_error = None

    def _send_sms(self, message: OutboxMessage) -> None:
        body = json.dumps({"to": message.recipient, "from": self.settings.sms_sender,
                           "text": message.body}).encode()
        request = urllib.request.Request(
            self.settings.sms_gateway_url, data=body, method="POST",
            headers={"Content-Type": "application/json",
                     "Authorization": f"Bearer {self.settings.sms_gateway_token}"},
        )
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                raise ValueError(f"SMS gateway answered {response.status}")

    def _send_email(self, message: OutboxMessage) -> None:
        settings = self.settings
        email = EmailMessage()
        email["From"] = settings.smtp_from
        email["To"] = message.recipient
        email["Subject"] = str((message.data or {}).get("subject") or "PostID")
        email.set_content(message.body)
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                          timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(email)


def notifier_for(settings: Settings) -> Notifier:
    if settings.notifier == "gateway":
        return GatewayNotifier(settings)
    return OutboxNotifier(settings)
