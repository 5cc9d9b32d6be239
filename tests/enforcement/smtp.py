"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what arrives, and can refuse."""

from __future__ import annotations

import email.policy
from email import message_from_bytes

from aiosmtpd.controller import Controller

from backend.enforcement.mail import SmtpSettings


class Mailbox:
    """aiosmtpd handler: refuses recipients in `refuse` (550), answers 451 to the next
    `defer_data` messages, and keeps the others."""

    def __init__(self):
        self.received: list = []
        self.refuse: set[str] = set()
        self.defer_data = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.defer_data:
            self.defer_data -= 1
            return "451 4.3.0 try again later"
        self.received.append(message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int):
        self.mailbox = Mailbox()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=port)

    def settings(self, **overrides) -> SmtpSettings:
        values = dict(host="127.0.0.1", port=self.controller.port, sender="Copytrack <enforcement@copytrack.test>",
                      max_attempts=3, retry_seconds=60)
        values.update(overrides)
        return SmtpSettings(**values)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
