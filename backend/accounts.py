"""Who is calling: Sign-In with Ethereum (EIP-4361) sessions and API keys; and where an account
hears from Copytrack (its confirmed e-mail address).

Nonces are single use and expire; the message's domain and chain id must be ours; a bearer token
(session or API key) is stored only as its SHA-256, so a database leak reveals no credential; the
same holds for the token of an e-mail confirmation link.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from email_validator import EmailNotValidError, validate_email
from eth_utils import to_checksum_address
from siwe import SiweMessage
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from backend.enforcement.mail import enqueue
from backend.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from backend.models import AccountEmail, ApiKey, AuthSession, LoginNonce, utcnow
from backend.text import check_text

API_KEY_PREFIX = "ctk_"
MAX_MESSAGE_LENGTH = 4096
KEY_NAME_LIMIT = 100
CONFIRMATION_TTL = timedelta(days=2)  # how long an e-mail confirmation link works
CONFIRMATION_RESEND = timedelta(minutes=1)  # at most one confirmation mail a minute per account


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the address, and the API key used (None for a wallet session)."""

    address: str
    api_key_id: int | None = None


@dataclass(frozen=True)
class SignedIn:
    address: str
    token: str
    expires_at: datetime


def issue_nonce(db: Session, ttl_seconds: int) -> str:
    nonce = secrets.token_hex(16)
    db.add(LoginNonce(nonce=nonce, expires_at=utcnow() + timedelta(seconds=ttl_seconds)))
    return nonce


def sign_in(
    db: Session,
    message: str,
    signature: str,
    *,
    domain: str,
    chain_id: int,
    session_ttl: int,
    clock_skew: int = 60,
) -> SignedIn:
    """Verify a signed SIWE message and open a session for its address."""
    if not isinstance(message, str) or not message.strip():
        raise InvalidInput("'message' must be the EIP-4361 message text that the wallet signed")
    if len(message) > MAX_MESSAGE_LENGTH:
        raise InvalidInput(f"'message' is longer than {MAX_MESSAGE_LENGTH} characters")
    if not isinstance(signature, str) or not signature.startswith("0x"):
        raise InvalidInput("'signature' must be the 0x-prefixed hex signature from the wallet")
    try:
        parsed = SiweMessage.from_message(message)
    except Exception as exc:  # the parser raises several unrelated types for bad text
        raise InvalidInput(f"'message' is not a valid EIP-4361 sign-in message: {exc}") from None
    now = utcnow()
    stored = db.get(LoginNonce, parsed.nonce)
    if stored is None:
        raise Unauthenticated("unknown sign-in nonce; request a new one from /api/v1/auth/nonce")
    if stored.used_at is not None:
        raise Unauthenticated("this sign-in message was already used; sign a new one")
    if _aware(stored.expires_at) < now:
        raise Unauthenticated("the sign-in nonce expired; request a new one")
    # Consume the nonce atomically and for good before judging the attempt: of two concurrent
    # sign-ins with one message only one gets this far, and a refused attempt cannot be retried
    # with the same nonce.
    consumed = db.execute(
        update(LoginNonce)
        .where(LoginNonce.nonce == parsed.nonce, LoginNonce.used_at.is_(None))
        .values(used_at=now)
    )
    db.commit()
    if consumed.rowcount != 1:
        raise Unauthenticated("this sign-in message was already used; sign a new one")
    if parsed.domain != domain:
        raise Unauthenticated(f"the message is for domain {parsed.domain!r}, this server is {domain!r}")
    if int(parsed.chain_id) != chain_id:
        raise Unauthenticated(f"the message is for chain {parsed.chain_id}, this server uses chain {chain_id}")
    issued_at = _aware(datetime.fromisoformat(str(parsed.issued_at).replace("Z", "+00:00")))
    if issued_at > now + timedelta(seconds=clock_skew):
        raise Unauthenticated(
            f"the message was issued at {issued_at.isoformat()}, in the future (server time {now.isoformat()}); "
            "check your clock and sign a new message"
        )
    try:
        parsed.verify(signature, domain=domain, nonce=parsed.nonce, timestamp=now)
    except Exception as exc:
        raise Unauthenticated(f"the signature does not verify for this message: {type(exc).__name__}") from None
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=session_ttl)
    if parsed.expiration_time:
        # A session never outlives what the wallet signed.
        expires_at = min(expires_at, _aware(datetime.fromisoformat(str(parsed.expiration_time))))
    address = to_checksum_address(parsed.address)
    db.add(AuthSession(token_hash=_digest(token), address=address, expires_at=expires_at))
    return SignedIn(address=address, token=token, expires_at=expires_at)


def purge_expired(db: Session) -> int:
    """Forget expired nonces and sessions (run periodically)."""
    now = utcnow()
    removed = db.execute(delete(LoginNonce).where(LoginNonce.expires_at < now)).rowcount
    removed += db.execute(delete(AuthSession).where(AuthSession.expires_at < now)).rowcount
    return removed


def sign_out(db: Session, token: str) -> str:
    """End the credential `token` is: a session ends, an API key is revoked (a key has no
    session to end, and a client that signs out means to stop using it). Says which it was."""
    if token.startswith(API_KEY_PREFIX):
        key = db.scalar(select(ApiKey).where(ApiKey.key_hash == _digest(token)))
        if key is not None:
            key.revoked_at = key.revoked_at or utcnow()
        return "api_key_revoked"
    session = db.get(AuthSession, _digest(token))
    if session is not None:
        db.delete(session)
    return "session_ended"


def authenticate(db: Session, token: str) -> Caller:
    """Who is behind a bearer token (a session token or an API key)."""
    now = utcnow()
    if token.startswith(API_KEY_PREFIX):
        key = db.scalar(select(ApiKey).where(ApiKey.key_hash == _digest(token)))
        if key is None or key.revoked_at is not None:
            raise Unauthenticated("unknown or revoked API key")
        key.last_used_at = now
        return Caller(key.address, api_key_id=key.id)
    session = db.get(AuthSession, _digest(token))
    if session is None or _aware(session.expires_at) < now:
        raise Unauthenticated("the session is unknown or expired; sign in again")
    return Caller(session.address)


def create_api_key(db: Session, caller: Caller, name) -> tuple[str, ApiKey]:
    """A new key; the plaintext is returned once and never stored.

    Only a wallet session may create keys: a key that made keys would leave working children
    behind when it is revoked, so a leaked key could keep itself alive.
    """
    if caller.api_key_id is not None:
        raise Forbidden("an API key cannot create API keys; sign in with your wallet to create one")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > KEY_NAME_LIMIT:
        raise InvalidInput(f"an API key needs a 'name': text of 1 to {KEY_NAME_LIMIT} characters")
    name = check_text(name.strip(), "the API key name")
    address = caller.address
    plaintext = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(address=address, name=name, prefix=plaintext[:10], key_hash=_digest(plaintext))
    db.add(key)
    db.flush()
    return plaintext, key


def list_api_keys(db: Session, address: str) -> list[ApiKey]:
    return list(db.scalars(select(ApiKey).where(ApiKey.address == address).order_by(ApiKey.id)))


def revoke_api_key(db: Session, address: str, key_id: int) -> ApiKey:
    key = db.get(ApiKey, key_id)
    if key is None or key.address != address:
        raise NotFound(f"no API key {key_id} of yours")
    key.revoked_at = key.revoked_at or utcnow()
    return key


# -- the account's e-mail address ---------------------------------------------------------------
def account_view(db: Session, address: str) -> dict:
    """What the account page shows: the e-mail address, whether it is confirmed, the digest."""
    row = db.get(AccountEmail, address)
    return {
        "address": address,
        "email": row.email if row else None,
        "email_confirmed": bool(row and row.confirmed_at),
        "hits_digest": row.hits_digest if row else True,
    }


def confirmed_email(db: Session, address: str) -> str | None:
    """The account's e-mail address, once confirmed (where case news and digests go)."""
    row = db.get(AccountEmail, address)
    return row.email if row and row.confirmed_at else None


def set_email(db: Session, caller: Caller, email, *, public_url: str, sender_domain: str) -> dict:
    """Record `email` for the caller's account, unconfirmed, and mail it a confirmation link.

    Only a wallet session may: a leaked API key must not redirect the account's mail. An address
    is confirmed again whenever it changes; asking for the same one resends the link (at most
    once a minute, so nobody can use it to flood a mailbox)."""
    if caller.api_key_id is not None:
        raise Forbidden("an API key cannot change the account's e-mail address; sign in with your wallet")
    if not isinstance(email, str) or len(email) > 254:
        raise InvalidInput("send 'email': one e-mail address of at most 254 characters")
    try:
        checked = validate_email(email.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"{email!r} is not an e-mail address Copytrack can write to: {exc}") from None
    now = utcnow()
    row = db.get(AccountEmail, caller.address)
    if row is None:
        row = AccountEmail(address=caller.address, email=checked.ascii_email, hits_digest=True)
        db.add(row)
    elif row.email == checked.ascii_email and row.confirmed_at:
        return account_view(db, caller.address)
    elif row.token_sent_at and now - _aware(row.token_sent_at) < CONFIRMATION_RESEND:
        raise Conflict(f"a confirmation link was mailed to {row.email} less than a minute ago; "
                       "wait a minute before asking for another")
    token = secrets.token_urlsafe(24)
    row.email, row.confirmed_at, row.token_hash, row.token_sent_at = checked.ascii_email, None, _digest(token), now
    enqueue(db, key=f"account:{caller.address}:confirm:{row.token_hash}", to=row.email,
            subject="Copytrack: confirm your e-mail address",
            body=(f"Someone signed in as {caller.address} asked Copytrack to send that account's news "
                  f"(cases, new copies of your images) to this address.\n\n"
                  f"To confirm, open this link within two days:\n{public_url}/account?confirm={token}\n\n"
                  f"If this was not you, ignore this mail: nothing is sent here until the link is opened.\n"),
            sender_domain=sender_domain)
    db.flush()
    return account_view(db, caller.address)


def confirm_email(db: Session, token) -> dict:
    """Confirm the address a link's token was mailed to (no sign-in needed: the token is the proof)."""
    if not isinstance(token, str) or not 16 <= len(token) <= 100:
        raise InvalidInput("send 'token': the code from the confirmation link")
    row = db.scalar(select(AccountEmail).where(AccountEmail.token_hash == _digest(token)))
    if row is None or utcnow() - _aware(row.token_sent_at) > CONFIRMATION_TTL:
        raise InvalidInput("this confirmation link is unknown, used or expired; "
                           "enter your e-mail address again on your account page to get a new one")
    row.confirmed_at, row.token_hash = utcnow(), None
    if row.digest_until is None:
        row.digest_until = row.confirmed_at  # the first digest reports hits found from now on
    return account_view(db, row.address)


def set_hits_digest(db: Session, address: str, enabled) -> dict:
    """Turn the digest of new hits on or off for the account; turned on again, it reports the hits
    found from then on (not those found while it was off)."""
    if not isinstance(enabled, bool):
        raise InvalidInput("send 'hits_digest': true or false")
    row = db.get(AccountEmail, address)
    if row is None:
        raise Conflict("the account has no e-mail address yet; set one first")
    if enabled and not row.hits_digest and row.confirmed_at:
        row.digest_until = utcnow()
    row.hits_digest = enabled
    return account_view(db, address)


def remove_email(db: Session, address: str) -> dict:
    """Forget the account's e-mail address (nothing more is sent to it)."""
    row = db.get(AccountEmail, address)
    if row is not None:
        db.delete(row)
        db.flush()
    return account_view(db, address)
