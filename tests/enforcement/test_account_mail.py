"""An account's e-mail address (confirmed by a link) and the digest of new hits it receives,
through the API, the outbox and a real SMTP server."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from backend.accounts import set_hits_digest
from backend.crawler.models import Hit
from backend.enforcement.digest import DigestSettings, send_hit_digests
from backend.enforcement.mail import deliver_due
from backend.enforcement.models import OutboxMessage
from backend.models import AccountEmail, Image
from tests.backend.conftest import Auth, app, client, wallet  # noqa: F401  (fixtures)

pytestmark = pytest.mark.postgres

DAY = timedelta(days=1)
DIGEST = DigestSettings(public_url="https://copytrack.example", sender_domain="copytrack.example", interval=DAY)


@pytest.fixture
def auth(client):
    return Auth(client)


def outbox(services) -> list[OutboxMessage]:
    with services.db.session() as db:
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def link_token(message: OutboxMessage) -> str:
    return re.search(r"/account\?confirm=([A-Za-z0-9_-]+)", message.body).group(1)


def test_an_address_is_confirmed_by_the_link_mailed_to_it(client, auth, services, wallet):
    headers = auth.headers(wallet)
    assert client.get("/api/v1/account", headers=headers).get_json() == {
        "address": wallet.address, "email": None, "email_confirmed": False, "hits_digest": True}

    answer = client.put("/api/v1/account/email", json={"email": " Anna@Exämple.org "}, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["email"] == "Anna@xn--exmple-cua.org"  # the domain as SMTP writes it
    assert answer.get_json()["email_confirmed"] is False
    assert "confirmation link was mailed" in answer.get_json()["note"]
    [mail] = outbox(services)
    assert mail.to_address == "Anna@xn--exmple-cua.org" and wallet.address in mail.body

    confirmed = client.post("/api/v1/account/email/confirm", json={"token": link_token(mail)})
    assert confirmed.status_code == 200 and confirmed.get_json()["email_confirmed"] is True
    assert client.get("/api/v1/account", headers=headers).get_json()["email_confirmed"] is True
    # the link works once
    again = client.post("/api/v1/account/email/confirm", json={"token": link_token(mail)})
    assert again.status_code == 400 and "unknown, used or expired" in again.get_json()["error"]["message"]
    # asking for the confirmed address again mails nothing
    assert client.put("/api/v1/account/email", json={"email": "Anna@Exämple.org"}, headers=headers).status_code == 200
    assert len(outbox(services)) == 1


@pytest.mark.parametrize("email, reason", [
    ("anna", "An email address must have an @-sign"),
    ("anna@localhost", "It should have a period"),
    ("änna@example.org", "Internationalized characters before the @-sign"),
    ("anna@example.org\r\nBcc: x@example.org", "invalid characters"),
    ("a" * 250 + "@example.org", "at most 254 characters"),
    (42, "one e-mail address"),
])
def test_a_malformed_address_is_refused_and_nothing_is_stored_or_mailed(client, auth, services, wallet, email, reason):
    answer = client.put("/api/v1/account/email", json={"email": email}, headers=auth.headers(wallet))
    assert answer.status_code == 400 and reason in answer.get_json()["error"]["message"], answer.get_json()
    with services.db.session() as db:
        assert db.get(AccountEmail, wallet.address) is None
    assert outbox(services) == []


def test_only_a_wallet_session_changes_the_address_and_links_are_not_resent_within_a_minute(client, auth, services, wallet):
    headers = auth.headers(wallet)
    key = client.post("/api/v1/api-keys", json={"name": "ci"}, headers=headers).get_json()["key"]
    by_key = client.put("/api/v1/account/email", json={"email": "thief@example.org"},
                        headers={"Authorization": f"Bearer {key}"})
    assert by_key.status_code == 403 and "sign in with your wallet" in by_key.get_json()["error"]["message"]

    assert client.put("/api/v1/account/email", json={"email": "anna@example.org"}, headers=headers).status_code == 200
    soon = client.put("/api/v1/account/email", json={"email": "other@example.org"}, headers=headers)
    assert soon.status_code == 409 and "wait a minute" in soon.get_json()["error"]["message"]
    assert [m.to_address for m in outbox(services)] == ["anna@example.org"]
    assert client.get("/api/v1/account", headers=headers).get_json()["email"] == "anna@example.org"


def test_bad_tokens_and_fields_get_clear_errors(client, auth, wallet):
    headers = auth.headers(wallet)
    for token in ("x", "y" * 101, None, "z" * 32):
        answer = client.post("/api/v1/account/email/confirm", json={"token": token})
        assert answer.status_code == 400, token
    no_address = client.patch("/api/v1/account", json={"hits_digest": False}, headers=headers)
    assert no_address.status_code == 409 and "set one first" in no_address.get_json()["error"]["message"]
    unknown = client.patch("/api/v1/account", json={"email": "a@example.org"}, headers=headers)
    assert unknown.status_code == 400 and "PUT /api/v1/account/email" in unknown.get_json()["error"]["message"]
    assert client.get("/api/v1/account").status_code == 401


# -- the digest of new hits ---------------------------------------------------------------------
OWNER = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
REG_A, REG_B = "0x" + "11" * 32, "0x" + "22" * 32


def confirmed_account(database, address=OWNER, email="anna@example.org", since=None, digest=True):
    with database.session() as db:
        db.add(AccountEmail(address=address, email=email, confirmed_at=since, hits_digest=digest, digest_until=since))


def hit(database, n, *, owner=OWNER, registration=REG_A, domain="shop.example", found_at, verdict=None):
    with database.session() as db:
        db.add(Hit(registration_id=registration, owner=owner, page_url=f"https://{domain}/p{n}",
                   image_url=f"https://{domain}/i{n}.jpg", domain=domain, image_sha256="0x" + "00" * 32,
                   match="perceptual", kind="near_duplicate", score=0.9, found_at=found_at, last_seen_at=found_at,
                   verdict=verdict))


def test_the_digest_lists_new_unreviewed_hits_once_per_interval_and_arrives_by_smtp(database, smtp):
    t0 = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)
    confirmed_account(database, since=t0)
    with database.session() as db:
        db.add(Image(owner=OWNER, sha256=REG_A, phash="0" * 16, cid="bafy", title="Matterhorn at dawn", mime="image/jpeg",
                     width=1, height=1, size=1, status="registered"))
    hit(database, 1, found_at=t0 + timedelta(hours=1))
    hit(database, 2, found_at=t0 + timedelta(hours=2))
    hit(database, 3, registration=REG_B, domain="blog.example", found_at=t0 + timedelta(hours=3))
    hit(database, 4, found_at=t0 + timedelta(hours=4), verdict="legal")  # already looked at
    hit(database, 5, owner=OTHER, found_at=t0 + timedelta(hours=5))  # someone else's
    hit(database, 6, found_at=t0 - timedelta(hours=1))  # before the address was confirmed

    assert send_hit_digests(database, DIGEST, now=t0 + timedelta(hours=12)) == 0  # not a day yet
    assert send_hit_digests(database, DIGEST, now=t0 + DAY) == 1
    assert send_hit_digests(database, DIGEST, now=t0 + DAY + timedelta(hours=1)) == 0  # sent for this day

    assert deliver_due(database, smtp.settings()) == 1
    [mail] = smtp.mailbox.received
    assert mail["To"] == "anna@example.org"
    assert mail["Subject"] == "Copytrack: 3 new copies of your images on 2 sites"
    body = mail.get_content()
    assert "- shop.example: 2 copies of \"Matterhorn at dawn\"" in body
    assert "- blog.example: 1 copy of registration 0x22222222…2222" in body
    assert "https://copytrack.example/hits" in body and "https://copytrack.example/account" in body

    # the next day reports only what was found after the first digest
    hit(database, 7, domain="news.example", found_at=t0 + DAY + timedelta(hours=2))
    assert send_hit_digests(database, DIGEST, now=t0 + 2 * DAY) == 1
    assert deliver_due(database, smtp.settings()) == 1
    assert smtp.mailbox.received[1]["Subject"] == "Copytrack: 1 new copy of your images on 1 site"


def test_no_digest_without_a_confirmed_address_with_it_turned_off_or_without_news(database):
    t0 = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)
    confirmed_account(database, OWNER, since=t0, digest=False)
    confirmed_account(database, OTHER, email="other@example.org", since=None)  # never confirmed
    hit(database, 1, found_at=t0 + timedelta(hours=1))
    hit(database, 2, owner=OTHER, found_at=t0 + timedelta(hours=1))
    assert send_hit_digests(database, DIGEST, now=t0 + 2 * DAY) == 0
    with database.session() as db:
        set_hits_digest(db, OWNER, True)  # on again: what was found while it was off is not news
        turned_on = db.get(AccountEmail, OWNER).digest_until
    hit(database, 3, found_at=turned_on + timedelta(hours=1))
    assert send_hit_digests(database, DIGEST, now=turned_on + DAY) == 1
    with database.session() as db:
        assert db.scalar(select(func.count(OutboxMessage.id))) == 1
        assert "1 new copy" in db.scalar(select(OutboxMessage.subject))


def test_case_news_go_to_the_account_address_once_confirmed__also_for_cases_already_open(services, chain):
    from tests.enforcement.ladder import open_test_case, register_with_mandate

    setup = register_with_mandate(services, chain, seed=71)
    opened = open_test_case(setup)  # no notify_email given, no account address yet
    with services.db.session() as db:
        assert db.scalars(select(OutboxMessage.to_address).where(OutboxMessage.to_address == "anna@example.org")).all() == []
        db.add(AccountEmail(address=setup.owner.address, email="anna@example.org", confirmed_at=datetime.now(timezone.utc),
                            hits_digest=True))
    from backend.enforcement.cases import notify_owner
    from backend.enforcement.models import Case

    with services.db.session() as db:  # the case's next news, as the ladder sends it
        notify_owner(setup.env, db, db.get(Case, opened.case_id), "invoice", "invoice sent", "The invoice went out.")
    with services.db.session() as db:
        subjects = db.scalars(select(OutboxMessage.subject).where(OutboxMessage.to_address == "anna@example.org")).all()
    assert subjects == [f"Copytrack case {opened.public_code} (shop.beispiel.de): invoice sent"]
