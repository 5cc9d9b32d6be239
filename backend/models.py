"""SQLAlchemy models: the same on SQLite (embedded) and PostgreSQL (at scale).

Addresses are stored checksummed, hashes as 0x-prefixed lower-case hex, so rows read the same in
both databases and in logs.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Index,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


ADDRESS = String(42)
HASH = String(66)


class LoginNonce(Base):
    """A Sign-In with Ethereum nonce: single use, expires."""

    __tablename__ = "login_nonces"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuthSession(Base):
    """A signed-in wallet; the bearer token is only ever stored hashed."""

    __tablename__ = "auth_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(ADDRESS, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """A key for programmatic clients; shown once at creation, stored hashed."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(ADDRESS, index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AccountEmail(Base):
    """Where an account hears from Copytrack (case news, the digest of new hits): an address the
    account's holder confirmed by following a link mailed to it. Until confirmed, nothing but the
    confirmation is sent there."""

    __tablename__ = "account_emails"
    address: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # SHA-256 of the link's token
    token_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hits_digest: Mapped[bool] = mapped_column(Boolean, default=True)
    digest_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # hits found before: reported


class _OwnedName:
    """A grouping of one owner's images, named uniquely per owner (collections, categories)."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        return (UniqueConstraint("owner", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(ADDRESS, index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Collection(_OwnedName, Base):
    __tablename__ = "collections"


class Category(_OwnedName, Base):
    __tablename__ = "categories"


class Image(Base):
    """An uploaded image and where its registration stands.

    status: `uploaded` (stored, not yet sent to the chain), `committed` (a gasless registration:
    the relayer has committed to it and reveals it a block later), `submitted` (a register
    transaction is known), `registered` (the Registered event is final), `conflict` (the same
    bytes were registered by someone else first).
    """

    __tablename__ = "images"
    __table_args__ = (UniqueConstraint("owner", "sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(ADDRESS, index=True)
    sha256: Mapped[str] = mapped_column(HASH, index=True)
    phash: Mapped[str] = mapped_column(String(16))
    cid: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary)
    title: Mapped[str | None] = mapped_column(String(300))
    filename: Mapped[str | None] = mapped_column(String(300))
    mime: Mapped[str] = mapped_column(String(50))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)
    collection_id: Mapped[int | None] = mapped_column(ForeignKey("collections.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    parent: Mapped[str | None] = mapped_column(HASH)  # the registration this work derives from
    status: Mapped[str] = mapped_column(String(20), default="uploaded", index=True)
    tx_hash: Mapped[str | None] = mapped_column(HASH)
    last_error: Mapped[str | None] = mapped_column(Text)
    # A gasless registration between commit and reveal: the owner's signature and the secret salt.
    relay_salt: Mapped[str | None] = mapped_column(HASH)
    relay_signature: Mapped[str | None] = mapped_column(String(132))
    relay_deadline: Mapped[int | None] = mapped_column(BigInteger)
    relay_nonce: Mapped[int | None] = mapped_column(BigInteger)
    relay_commit_block: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    collection: Mapped[Collection | None] = relationship()
    category: Mapped[Category | None] = relationship()


class Registration(Base):
    """The register's state as the indexer has seen it in final blocks (id = content hash)."""

    __tablename__ = "registrations"
    id: Mapped[str] = mapped_column(HASH, primary_key=True)
    owner: Mapped[str] = mapped_column(ADDRESS, index=True)
    parent: Mapped[str | None] = mapped_column(HASH, index=True)
    phash: Mapped[str] = mapped_column(String(16), index=True)
    cid: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(HASH)
    block_number: Mapped[int] = mapped_column(BigInteger)


class ChainEvent(Base):
    """Every followed contract's events from final blocks, so state can be rebuilt after a reorg.

    `registration_id` is set for the register's events only (the register's rebuild keys on it).
    """

    __tablename__ = "chain_events"
    __table_args__ = (
        UniqueConstraint("block_hash", "log_index"),
        Index("ix_chain_events_registration", "registration_id", "block_number", "log_index"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract: Mapped[str] = mapped_column(String(40), default="CopyrightRegister", index=True)
    name: Mapped[str] = mapped_column(String(50))
    registration_id: Mapped[str | None] = mapped_column(HASH)
    args: Mapped[dict] = mapped_column(JSON)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    block_hash: Mapped[str] = mapped_column(HASH)
    tx_hash: Mapped[str] = mapped_column(HASH)
    log_index: Mapped[int] = mapped_column(Integer)


class IndexedBlock(Base):
    """Hashes of the blocks the indexer has consumed, to detect a reorg below its cursor."""

    __tablename__ = "indexed_blocks"
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[str] = mapped_column(HASH)


class Verification(Base):
    """Verification levels recorded by attestors (mirror of the register's VerificationSet)."""

    __tablename__ = "verifications"
    address: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    level: Mapped[int] = mapped_column(Integer)


class KeyValue(Base):
    """Small facts the backend keeps (indexer cursor, deployment it indexed)."""

    __tablename__ = "key_values"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# The domain packages' tables, on Base.metadata for Alembic and the tests.
from backend.marketplace import models as _marketplace_models  # noqa: E402,F401
from backend.registry.models import RelayBatch  # noqa: E402,F401
from backend.enforcement import models as _enforcement_models  # noqa: E402,F401
from backend.crawler import models as _crawler_models  # noqa: E402,F401
