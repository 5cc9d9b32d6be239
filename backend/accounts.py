"""Who is calling: Sign-In with Ethereum (EIP-4361) sessions and API keys.

Nonces are single use and expire; the message's domain and chain id must be ours; a bearer token
(session or API key) is stored only as its SHA-256, so a database leak reveals no credential.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from eth_utils import to_checksum_address
from siwe import SiweMessage
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from backend.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from backend.models import ApiKey, AuthSession, LoginNonce, utcnow
from backend.text import check_text

API_KEY_PREFIX = "ctk_"
MAX_MESSAGE_LENGTH = 4096
KEY_NAME_LIMIT = 100


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
