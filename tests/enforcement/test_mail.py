"""The outbox against a real SMTP server: delivered once, retried with backoff, bounces kept."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from backend.enforcement.mail import (
    Attachment,
    SmtpSettings,
    deliver_due,
    enqueue,
    record_bounce,
    requeue,
    sweep_interrupted,
)
from backend.enforcement.models import OutboxMessage
from tests.backend.conftest import free_port

PDF = b"%PDF-1.4 a letter"
pytestmark = pytest.mark.postgres


def queue(database, key="case:1:post_licensing_letter", to="recht@beispiel.test"):
    with database.session() as db:
        return enqueue(db, key=key, to=to, subject="Ihr Schreiben", body="Guten Tag",
                       attachments=[Attachment("letter.pdf", "application/pdf", PDF)]).id


def status(database, message_id):
    with database.session() as db:
        return db.get(OutboxMessage, message_id)


def test_deliver_due__hands_the_mail_and_its_attachment_over_once(database, smtp):
    message_id = queue(database)
    assert queue(database) == message_id  # the same key queues nothing new
    assert deliver_due(database, smtp.settings()) == 1
    assert deliver_due(database, smtp.settings()) == 0
    [mail] = smtp.mailbox.received
    assert mail["To"] == "recht@beispiel.test" and mail["Subject"] == "Ihr Schreiben"
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "letter.pdf" and attachment.get_content() == PDF
    stored = status(database, message_id)
    assert (stored.status, stored.attempts, mail["Message-ID"]) == ("sent", 1, stored.message_id)


def test_deliver_due__after_a_temporary_refusal__retries_with_backoff(database, smtp):
    message_id = queue(database)
    smtp.mailbox.defer_data = 2
    now = datetime.now(timezone.utc)
    assert deliver_due(database, smtp.settings(), now=now) == 0
    first = status(database, message_id)
    assert first.status == "queued" and "451" in first.last_error
    assert deliver_due(database, smtp.settings(), now=now + timedelta(seconds=59)) == 0  # not due yet
    assert deliver_due(database, smtp.settings(), now=now + timedelta(seconds=60)) == 0
    second = status(database, message_id)
    assert second.attempts == 2
    assert abs((second.next_attempt_at.replace(tzinfo=timezone.utc) - now).total_seconds() - 180) < 1  # 60 + 2*60
    assert deliver_due(database, smtp.settings(), now=now + timedelta(seconds=180)) == 1
    assert len(smtp.mailbox.received) == 1


def test_deliver_due__gives_up_after_the_last_attempt(database):
    message_id = queue(database)
    closed = SmtpSettings(host="127.0.0.1", port=free_port(), sender="x@copytrack.test", max_attempts=2, retry_seconds=0)
    deliver_due(database, closed)
    deliver_due(database, closed)
    stored = status(database, message_id)
    assert (stored.status, stored.attempts) == ("failed", 2)
    assert "cannot connect" in stored.last_error


def test_deliver_due__a_refused_recipient_is_a_bounce(database, smtp):
    smtp.mailbox.refuse.add("gone@beispiel.test")
    message_id = queue(database, to="gone@beispiel.test")
    deliver_due(database, smtp.settings())
    stored = status(database, message_id)
    assert stored.status == "bounced" and "550" in stored.last_error
    assert smtp.mailbox.received == []


def test_sweep_interrupted__never_resends_what_a_dead_worker_may_have_sent(database, smtp):
    message_id = queue(database)
    with database.session() as db:  # a worker claimed it, then died before recording the result
        message = db.get(OutboxMessage, message_id)
        message.status, message.leased_at, message.attempts = "sending", datetime.now(timezone.utc) - timedelta(hours=1), 1
    assert sweep_interrupted(database, smtp.settings()) == 1
    assert deliver_due(database, smtp.settings()) == 0
    assert status(database, message_id).status == "uncertain"
    with database.session() as db:
        requeue(db, message_id)  # the operator checked the SMTP log: it never left
    assert deliver_due(database, smtp.settings()) == 1


def test_record_bounce__reads_a_delivery_status_notification(database, smtp):
    message_id = queue(database)
    deliver_due(database, smtp.settings())
    original = status(database, message_id).message_id
    dsn = (
        "From: MAILER-DAEMON@beispiel.test\nTo: enforcement@copytrack.test\nSubject: Undelivered\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
        "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.beispiel.test\n\n"
        "Final-Recipient: rfc822; recht@beispiel.test\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\n"
        f"--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: {original}\nSubject: Ihr Schreiben\n--b--\n"
    ).encode()
    with database.session() as db:
        bounced = record_bounce(db, dsn)
        assert bounced is not None and bounced.id == message_id
    stored = status(database, message_id)
    assert stored.status == "bounced" and "user unknown" in stored.last_error
    with database.session() as db:
        assert db.scalars(select(OutboxMessage).where(OutboxMessage.status == "sent")).all() == []
