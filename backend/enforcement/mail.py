"""The durable mail outbox: a letter is a row before it is a mail, and is never sent twice.

**At most once.** A demand letter sent twice is a second demand, so this outbox prefers losing
certainty to duplicating. Each message is claimed by a conditional update (`queued` → `sending`,
committed) before the SMTP conversation and recorded `sent` (committed) after it. A worker that
dies between the two leaves the row in `sending`; `sweep_interrupted` turns such a row into
`uncertain`, which is never retried by itself: the operator looks at the SMTP server's log and
either marks it sent or puts it back in the queue (`requeue`). Failures that provably delivered
nothing are retried with exponential backoff: connecting, `MAIL FROM`, `RCPT TO`, or a reply
to `DATA` that refuses it. A 5xx refusal of the recipient is a bounce; so is a delivery status
notification that arrives later (`record_bounce` with the DSN).

Idempotency: every message carries a key (`case:17:invoice:to:x@y`); enqueueing the same key
again returns the message already there, so a job that is run twice enqueues once.
"""

from __future__ import annotations

import email.policy
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.db import Database
from backend.enforcement.models import OutboxAttachment, OutboxMessage
from backend.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    max_attempts: int = 5
    retry_seconds: float = 60.0
    timeout: float = 30.0
    lease_seconds: float = 600.0  # a `sending` row older than this belonged to a worker that died


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def _now() -> datetime:
    return datetime.now(timezone.utc)


def enqueue(db: Session, *, key: str, to: str, subject: str, body: str, case_id: int | None = None,
            attachments: Iterable[Attachment] = (), sender_domain: str = "copytrack.invalid") -> OutboxMessage:
    """The message for `key`, queued now unless it was queued before (then returned unchanged)."""
    existing = db.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
    if existing is not None:
        return existing
    if "@" not in to or any(c in to for c in "\r\n,;"):
        raise InvalidInput(f"{to!r} is not one e-mail address", key=key)
    message = OutboxMessage(
        idempotency_key=key, message_id=make_msgid(domain=sender_domain), case_id=case_id, to_address=to,
        subject=subject, body=body, status="queued", attempts=0, next_attempt_at=_now(),
    )
    message.attachments = [OutboxAttachment(filename=a.filename, content_type=a.content_type, content=a.content)
                           for a in attachments]
    db.add(message)
    db.flush()
    return message


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.to_address
    mail["Subject"] = message.subject
    mail["Message-ID"] = message.message_id
    mail.set_content(message.body)
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mail.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return mail


class _Undelivered(Exception):
    """Nothing was handed over; `permanent` says whether trying again can help."""

    def __init__(self, reason: str, permanent: bool):
        super().__init__(reason)
        self.permanent = permanent


def _hand_over(mail: EmailMessage, settings: SmtpSettings) -> None:
    """One SMTP conversation. Raises _Undelivered when the server provably kept nothing; any other
    error leaves delivery unknown."""
    try:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    except OSError as error:
        raise _Undelivered(f"cannot connect to {settings.host}:{settings.port} ({error})", permanent=False) from error
    with smtp:
        try:
            smtp.ehlo_or_helo_if_needed()
            code, reply = smtp.mail(mail["From"].addresses[0].addr_spec)
            if code != 250:
                raise _Undelivered(f"MAIL FROM refused: {code} {reply.decode(errors='replace')}", permanent=code >= 500)
            code, reply = smtp.rcpt(mail["To"].addresses[0].addr_spec)
            if code not in (250, 251):
                raise _Undelivered(f"recipient refused: {code} {reply.decode(errors='replace')}", permanent=code >= 500)
        except (smtplib.SMTPException, OSError) as error:
            raise _Undelivered(f"SMTP conversation failed before the message ({error})", permanent=False) from error
        try:
            code, reply = smtp.data(mail.as_bytes(policy=email.policy.SMTP))
        except smtplib.SMTPDataError as error:  # DATA itself refused: no message was sent
            raise _Undelivered(f"DATA refused: {error.smtp_code} {error.smtp_error!r}", permanent=error.smtp_code >= 500) from error
        if code != 250:  # the server answered, after the message, that it did not take it
            raise _Undelivered(f"message refused: {code} {reply.decode(errors='replace')}", permanent=code >= 500)


def _claim(database: Database, message_id: int, now: datetime) -> bool:
    with database.session() as db:
        claimed = db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == "queued")
            .values(status="sending", leased_at=now, attempts=OutboxMessage.attempts + 1)
        ).rowcount
    return claimed == 1


def deliver_due(database: Database, settings: SmtpSettings, now: datetime | None = None, limit: int = 50) -> int:
    """Hands every due message to the SMTP server once; returns how many were sent."""
    now = now or _now()
    with database.session() as db:
        due = db.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id).limit(limit)
        ).all()
    sent = 0
    for message_id in due:
        if not _claim(database, message_id, now):
            continue  # another worker has it
        with database.session() as db:
            message = db.get(OutboxMessage, message_id)
            mail = build_email(message, settings.sender)
        try:
            _hand_over(mail, settings)
        except _Undelivered as failure:
            _record_failure(database, message_id, str(failure), failure.permanent, settings, now)
            continue
        except (smtplib.SMTPException, OSError) as error:
            _mark_uncertain(database, message_id, f"the connection broke while the message was handed over ({error})")
            continue
        with database.session() as db:
            message = db.get(OutboxMessage, message_id)
            message.status, message.sent_at, message.last_error = "sent", _now(), None
        sent += 1
    return sent


def _record_failure(database: Database, message_id: int, reason: str, permanent: bool, settings: SmtpSettings,
                    now: datetime) -> None:
    with database.session() as db:
        message = db.get(OutboxMessage, message_id)
        message.last_error = reason
        if permanent and "recipient refused" in reason:
            message.status = "bounced"
        elif permanent or message.attempts >= settings.max_attempts:
            message.status = "failed"
        else:
            message.status = "queued"
            message.next_attempt_at = now + timedelta(seconds=settings.retry_seconds * 2 ** (message.attempts - 1))
    log.warning("mail %s to %s: %s", message_id, message.to_address, reason)


def _mark_uncertain(database: Database, message_id: int, reason: str) -> None:
    with database.session() as db:
        message = db.get(OutboxMessage, message_id)
        message.status, message.last_error = "uncertain", reason
    log.error("mail %s: %s; not retried by itself", message_id, reason)


def sweep_interrupted(database: Database, settings: SmtpSettings, now: datetime | None = None) -> int:
    """Marks messages whose worker died mid-send as `uncertain` (never resent automatically)."""
    cutoff = (now or _now()) - timedelta(seconds=settings.lease_seconds)
    with database.session() as db:
        return db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "sending", OutboxMessage.leased_at <= cutoff)
            .values(status="uncertain", last_error="the sending worker stopped mid-send; check the SMTP log, then mark it sent or requeue it")
        ).rowcount


def requeue(db: Session, message_id: int) -> OutboxMessage:
    """The operator's decision that an uncertain or failed message was not delivered."""
    message = db.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"no outbox message {message_id}")
    if message.status not in ("uncertain", "failed"):
        raise InvalidInput(f"message {message_id} is {message.status}; only uncertain or failed messages are requeued")
    message.status, message.next_attempt_at = "queued", _now()
    return message


def record_bounce(db: Session, dsn: bytes) -> OutboxMessage | None:
    """Reads a delivery status notification (RFC 3464) and marks the message it reports on as
    bounced; returns it, or None if the DSN names no message of ours or reports a delivery."""
    report = message_from_bytes(dsn, policy=email.policy.default)
    original_id, action, diagnostic = None, None, None
    for part in report.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            for block in part.get_payload():
                action = block.get("Action", action)
                diagnostic = block.get("Diagnostic-Code", diagnostic)
        elif content_type in ("message/rfc822", "text/rfc822-headers"):
            payload = part.get_payload()
            headers = payload[0] if isinstance(payload, list) else message_from_bytes(
                payload.encode() if isinstance(payload, str) else payload, policy=email.policy.default)
            original_id = headers.get("Message-ID", original_id)
    if original_id is None or (action or "").lower() != "failed":
        return None
    message = db.scalar(select(OutboxMessage).where(OutboxMessage.message_id == str(original_id).strip()))
    if message is not None:
        message.status, message.last_error = "bounced", f"bounced: {diagnostic or 'no diagnostic given'}"
    return message
