"""Tables of the enforcement domain: cases with their timeline, documents, conversation and
takedown notices, the collection prices owners set, and the durable mail outbox.

A case stands alone: it references the registration, domain and crawler hits by id (no foreign
key into the crawler's tables) and copies the evidence it needs (page URL, image URL, WARC CID).
Amounts are decimal strings of the asset's smallest unit, so no database rounds them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models import ADDRESS, HASH, Base, utcnow

AMOUNT = String(80)


class CollectionPrice(Base):
    """The licence price an owner set for a collection, used when no marketplace offer is published."""

    __tablename__ = "enforcement_collection_prices"
    __table_args__ = (UniqueConstraint("collection_id", "licence_type"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id"), index=True)
    licence_type: Mapped[str] = mapped_column(String(20))
    amount: Mapped[str] = mapped_column(AMOUNT)
    asset: Mapped[str] = mapped_column(ADDRESS)
    minimum: Mapped[str] = mapped_column(AMOUNT)


class Case(Base):
    """One claim against one domain for one registration.

    stage: opened → post_licensing_letter → invoice → legal_letter → court_claim (the escrow's
    steps); status: active, held (by owner or operator), paused (a licence proof awaits the
    owner's review), settled, closed. `pending_step` is the step whose on-chain log is still
    owed: set in the same transaction as the stage change, cleared once the chain has it.
    """

    __tablename__ = "enforcement_cases"
    __table_args__ = (UniqueConstraint("registration_id", "domain"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(HASH, unique=True)  # bytes32 on the escrow, 0x-hex
    public_code: Mapped[str] = mapped_column(String(20), unique=True)  # printed on the letters
    secret_hash: Mapped[str] = mapped_column(String(64))  # the recipient's secret, only hashed
    registration_id: Mapped[str] = mapped_column(HASH, index=True)
    rights_holder: Mapped[str] = mapped_column(ADDRESS, index=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    country: Mapped[str] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(5))
    hit_ids: Mapped[list] = mapped_column(JSON, default=list)
    page_url: Mapped[str] = mapped_column(Text)
    image_url: Mapped[str] = mapped_column(Text)
    warc_cid: Mapped[str | None] = mapped_column(String(100))
    copy_cid: Mapped[str | None] = mapped_column(String(100))  # the copy's bytes as fetched, in the IPFS store
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recipient_name: Mapped[str] = mapped_column(String(300))
    recipient_email: Mapped[str] = mapped_column(String(320))
    recipient_address: Mapped[str] = mapped_column(Text, default="")
    owner_email: Mapped[str | None] = mapped_column(String(320))  # where the owner hears of the case
    claim: Mapped[dict] = mapped_column(JSON)
    mandate: Mapped[dict] = mapped_column(JSON)
    stage: Mapped[str] = mapped_column(String(30), default="opened", index=True)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    pending_step: Mapped[str | None] = mapped_column(String(30))
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    commission_bps: Mapped[int] = mapped_column(Integer, default=3000)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    timeline: Mapped[list["TimelineEntry"]] = relationship(order_by="TimelineEntry.id", back_populates="case")
    documents: Mapped[list["CaseDocument"]] = relationship(order_by="CaseDocument.id", back_populates="case")


class TimelineEntry(Base):
    """Something that happened to a case: a transition, a hold, a letter sent, a chain log."""

    __tablename__ = "enforcement_timeline"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("enforcement_cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))  # an address, "scheduler", "recipient"
    event: Mapped[str] = mapped_column(String(50))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    case: Mapped[Case] = relationship(back_populates="timeline")


class CaseDocument(Base):
    """A rendered document of a case; its SHA-256 is what the chain logs."""

    __tablename__ = "enforcement_documents"
    __table_args__ = (UniqueConstraint("case_id", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("enforcement_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    language: Mapped[str] = mapped_column(String(5))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="documents")


class CaseMessage(Base):
    """The case conversation between rights-holder, operator, partner lawyer and recipient."""

    __tablename__ = "enforcement_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("enforcement_cases.id"), index=True)
    author_role: Mapped[str] = mapped_column(String(20))  # rights_holder, operator, lawyer, recipient
    author: Mapped[str] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TakedownNotice(Base):
    """A DMCA or DSA notice to a host, tracked until a re-fetch shows the copy gone."""

    __tablename__ = "enforcement_takedowns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[str] = mapped_column(HASH, index=True)
    rights_holder: Mapped[str] = mapped_column(ADDRESS, index=True)
    law: Mapped[str] = mapped_column(String(10))  # dmca, dsa
    page_url: Mapped[str] = mapped_column(Text)
    image_url: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(253))
    sent_to: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20), default="sent")  # sent, removed, resent, escalated
    document_sha256: Mapped[str] = mapped_column(String(64))
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sends: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxMessage(Base):
    """A mail to send, durable before the first attempt (see `backend/enforcement/mail.py`).

    status: queued → sending → sent; or → queued again after a temporary failure (backoff),
    failed after the last attempt, bounced when the server (or a later DSN) refused the
    recipient, uncertain when a worker died between handing the mail over and recording it.
    """

    __tablename__ = "enforcement_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    message_id: Mapped[str] = mapped_column(String(250), unique=True)  # RFC 5322 Message-ID
    case_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_cases.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    leased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    attachments: Mapped[list["OutboxAttachment"]] = relationship(order_by="OutboxAttachment.id")


class OutboxAttachment(Base):
    __tablename__ = "enforcement_outbox_attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("enforcement_outbox.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
