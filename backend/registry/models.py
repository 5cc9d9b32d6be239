"""Models of the registry that live beside its code (on the shared `Base`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models import ADDRESS, HASH, Base, utcnow


class RelayBatch(Base):
    """A gasless registration of up to 100 images under one `RevealBatch` signature.

    Every transaction the relayer sends for it is signed and recorded here (hash and raw bytes)
    BEFORE it is sent, so a crash at any point leaves enough to finish from the chain's state:
    `committing` (the commit is signed, maybe sent) → `committed` (the commitment is on-chain, its
    block time known) → `revealing` (the reveal is signed, maybe sent) → `revealed`; or `failed`
    with the reason in `last_error` (the images then say why, too).
    """

    __tablename__ = "relay_batches"
    __table_args__ = (UniqueConstraint("owner", "nonce"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(ADDRESS, index=True)
    image_ids: Mapped[list] = mapped_column(JSON)  # in the signed order
    salt: Mapped[str] = mapped_column(HASH)
    signature: Mapped[str] = mapped_column(String(132))
    nonce: Mapped[str] = mapped_column(String(78))  # uint256 as decimal: above what BigInteger holds
    deadline: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="committing", index=True)
    commit_tx_hash: Mapped[str | None] = mapped_column(HASH)
    commit_tx: Mapped[str | None] = mapped_column(Text)  # the signed raw transaction, to send again
    commit_time: Mapped[int | None] = mapped_column(BigInteger)
    reveal_tx_hash: Mapped[str | None] = mapped_column(HASH)
    reveal_tx: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
