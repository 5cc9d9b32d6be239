"""Tables of the offer book and of what the market's and the settlement escrow's events recorded.

`Offer` rows come from rights-holders through the API (signed messages, checked as the contract
would). Every other table here is derived from chain events by the indexer and can be rebuilt
from `chain_events` after a reorg. uint256 amounts are decimal strings (exact in both databases);
an offer's price also has a zero-padded copy so that price ranges compare as text.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models import ADDRESS, HASH, Base, utcnow

AMOUNT = String(78)  # a uint256 in decimal


def price_key(amount: int) -> str:
    """`amount` zero-padded to 78 digits: text order is numeric order."""
    return f"{int(amount):078d}"


class Offer(Base):
    """A signed licence offer in the book (its typed-data message, as the seller signed it)."""

    __tablename__ = "offers"
    __table_args__ = (Index("ix_offers_registration_seller", "registration_id", "seller"),)
    hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    seller: Mapped[str] = mapped_column(ADDRESS, index=True)
    buyer: Mapped[str] = mapped_column(ADDRESS)
    registration_id: Mapped[str] = mapped_column(HASH, index=True)
    licence_type: Mapped[str] = mapped_column(String(20), index=True)
    countries: Mapped[str] = mapped_column(String(48))  # "" worldwide, else "DE,AT"
    duration: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(ADDRESS, index=True)
    price: Mapped[str] = mapped_column(AMOUNT)
    price_key: Mapped[str] = mapped_column(String(78), index=True)
    max_sales: Mapped[int] = mapped_column(BigInteger)
    expiry: Mapped[int] = mapped_column(BigInteger, index=True)
    counter: Mapped[str] = mapped_column(AMOUNT)
    message: Mapped[dict] = mapped_column(JSON)  # integers above 2^53 as decimal strings
    signature: Mapped[str] = mapped_column(String(132))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class Licence(Base):
    """A licence sold by the market, with its escrow's state (`held`, `disputed`, `frozen` by the
    arbiter, `released`, `refunded`)."""

    __tablename__ = "licences"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    registration_id: Mapped[str] = mapped_column(HASH, index=True)
    licensee: Mapped[str] = mapped_column(ADDRESS, index=True)
    seller: Mapped[str] = mapped_column(ADDRESS, index=True)
    offer_hash: Mapped[str] = mapped_column(HASH, index=True)
    licence_type: Mapped[str] = mapped_column(String(20))
    countries: Mapped[str] = mapped_column(String(48))
    seats: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[int] = mapped_column(BigInteger)
    ends_at: Mapped[int | None] = mapped_column(BigInteger)
    domains: Mapped[list] = mapped_column(JSON)  # keccak256 of the host names, 0x hex
    currency: Mapped[str] = mapped_column(ADDRESS)
    price: Mapped[str] = mapped_column(AMOUNT)
    fee: Mapped[str] = mapped_column(AMOUNT)
    release_at: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), index=True)
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    refunded: Mapped[str | None] = mapped_column(AMOUNT)
    released_to_seller: Mapped[str | None] = mapped_column(AMOUNT)
    tx_hash: Mapped[str] = mapped_column(HASH)
    block_number: Mapped[int] = mapped_column(BigInteger)
    # blockhash(block.number - 1) at the purchase, the last of the `Terms` its escrow is checked
    # against (from the event: on Arbitrum or Scroll it is not the block's parentHash); None for
    # licences indexed before migration 0020
    previous_block_hash: Mapped[str | None] = mapped_column(HASH)


class OfferCancellation(Base):
    """An offer its seller cancelled on-chain."""

    __tablename__ = "offer_cancellations"
    offer_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    seller: Mapped[str] = mapped_column(ADDRESS)
    block_number: Mapped[int] = mapped_column(BigInteger)


class SellerCounter(Base):
    """A seller's offer counter after `increment_counter` (offers signed with another are void)."""

    __tablename__ = "seller_counters"
    seller: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    counter: Mapped[str] = mapped_column(AMOUNT)


class Withdrawal(Base):
    """Credit an account withdrew from the market or the settlement escrow."""

    __tablename__ = "withdrawals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract: Mapped[str] = mapped_column(String(40))
    account: Mapped[str] = mapped_column(ADDRESS, index=True)
    asset: Mapped[str] = mapped_column(ADDRESS)
    amount: Mapped[str] = mapped_column(AMOUNT)
    tx_hash: Mapped[str] = mapped_column(HASH)
    block_number: Mapped[int] = mapped_column(BigInteger)


class Mandate(Base):
    """A rights-holder's mandate for the platform to enforce (registration "" = all of theirs)."""

    __tablename__ = "mandates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(ADDRESS, index=True)
    registration_id: Mapped[str | None] = mapped_column(HASH)
    expiry: Mapped[int] = mapped_column(BigInteger)
    nonce: Mapped[str] = mapped_column(AMOUNT)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    tx_hash: Mapped[str] = mapped_column(HASH)
    block_number: Mapped[int] = mapped_column(BigInteger)


class EscrowCase(Base):
    """An enforcement case the settlement escrow holds, with what was paid and the current step."""

    __tablename__ = "cases"
    reference: Mapped[str] = mapped_column(HASH, primary_key=True)
    registration_id: Mapped[str] = mapped_column(HASH, index=True)
    rights_holder: Mapped[str] = mapped_column(ADDRESS, index=True)
    asset: Mapped[str] = mapped_column(ADDRESS)
    amount_due: Mapped[str] = mapped_column(AMOUNT)
    amount_paid: Mapped[str] = mapped_column(AMOUNT)
    commission_bps: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(30))
    case_manager: Mapped[str] = mapped_column(ADDRESS)
    tx_hash: Mapped[str] = mapped_column(HASH)
    block_number: Mapped[int] = mapped_column(BigInteger)


class CasePayment(Base):
    __tablename__ = "case_payments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(HASH, index=True)
    payer: Mapped[str] = mapped_column(ADDRESS)
    amount: Mapped[str] = mapped_column(AMOUNT)
    to_rights_holder: Mapped[str] = mapped_column(AMOUNT)
    commission: Mapped[str] = mapped_column(AMOUNT)
    outstanding: Mapped[str] = mapped_column(AMOUNT)
    tx_hash: Mapped[str] = mapped_column(HASH)
    block_number: Mapped[int] = mapped_column(BigInteger)


class CaseStep(Base):
    __tablename__ = "case_steps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(HASH, index=True)
    step: Mapped[str] = mapped_column(String(30))
    previous_step: Mapped[str] = mapped_column(String(30))
    document_hash: Mapped[str] = mapped_column(HASH)
    actor: Mapped[str] = mapped_column(ADDRESS)
    tx_hash: Mapped[str] = mapped_column(HASH)
    block_number: Mapped[int] = mapped_column(BigInteger)


class SaleAllowListEntry(Base):
    """An investor's Merkle proof under an allow-list root the sale's operator published."""

    __tablename__ = "sale_allow_list_entries"
    __table_args__ = (UniqueConstraint("root", "investor"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    root: Mapped[str] = mapped_column(HASH, index=True)
    investor: Mapped[str] = mapped_column(ADDRESS, index=True)
    proof: Mapped[list] = mapped_column(JSON)


class SaleInvestor(Base):
    """An investor as the sale's events show them: how they were allow-listed, and their totals."""

    __tablename__ = "sale_investors"
    address: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    allow_listed_by: Mapped[str | None] = mapped_column(String(10))  # "direct" (an operator) or "merkle" (a proof)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    contributed: Mapped[str] = mapped_column(AMOUNT, default="0")
    tokens_bought: Mapped[str] = mapped_column(AMOUNT, default="0")
    claimed: Mapped[str] = mapped_column(AMOUNT, default="0")
    refunded: Mapped[str] = mapped_column(AMOUNT, default="0")
