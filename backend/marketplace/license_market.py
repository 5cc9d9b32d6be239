"""Thin web3 binding of `contracts/LicenseMarket.vy`.

Transactions are sent `from` the given address through the web3 instance as configured (an
unlocked node account, or a signing middleware for a local key); the binding waits for the
receipt and returns what the contract returned, decoded from its events.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Iterable

from eth_utils import to_hex
from web3 import Web3

from backend.marketplace.binding import ContractBinding
from backend.marketplace.typed_data import (
    ETH,
    LICENCE_TYPES,
    MAX_DOMAINS,
    OFFER_FIELDS,
    as_tuple,
    decode_territory,
    encode_territory,
    offer_typed_data,
)

PAGE = 100
MAX_FEE_BPS = 2_000


class MarketError(RuntimeError):
    """A marketplace call could not be made as asked (the message says why)."""


@dataclass(frozen=True)
class Licence:
    """A licence certificate from chain data: the terms from its `LicencePurchased` event (the
    contract keeps only their hash), its state (revocation) from storage. A revoked licence stays valid before `revoked_at` unless `voided`
    (revoked for fraud)."""

    licence_id: int
    registration_id: int
    licensee: str
    seller: str
    offer_hash: bytes
    licence_type: str
    countries: list[str]
    seats: int
    starts_at: int
    ends_at: int | None
    domain_hashes: list[bytes]
    currency: str
    price: int
    revoked: bool
    revoked_at: int | None
    voided: bool
    previous_block_hash: bytes  # blockhash(block.number - 1) at the purchase, from its event: part of its `Terms`

    @property
    def terms(self) -> tuple:
        """The `Terms` the contract checks when the escrow moves (dispute, refund, release)."""
        return (self.licensee, self.seller, self.currency, self.price, self.previous_block_hash)


class LicenseMarket(ContractBinding):
    """The licence market at `address`."""

    contract_name = "LicenseMarket"
    error = MarketError

    def build_offer(
        self,
        *,
        seller: str,
        registration_id: int,
        price: int,
        expiry: int,
        licence_type: str = "standard",
        countries: Iterable[str] | None = None,
        duration: int = 0,
        seats: int = 1,
        domain_hashes: Iterable[bytes] = (),
        currency: str = ETH,
        max_sales: int = 1,
        buyer: str = ETH,
        max_fee_bps: int | None = None,
        salt: int | None = None,
    ) -> dict:
        """The EIP-712 typed data of an offer, ready for `eth_signTypedData_v4` (JSON-serialisable:
        bytes32 values are 0x-prefixed hex strings).

        `duration` 0 means perpetual; no `countries` means worldwide; no `domain_hashes` lets the
        buyer name their domains at purchase; `buyer` reserves the offer for one account (the zero
        address: anyone). `max_fee_bps` is the highest platform fee the seller accepts; by default
        the market's current fee, so a later fee rise voids the offer. The seller's current counter
        is read from chain.
        """
        if licence_type not in LICENCE_TYPES:
            raise MarketError(f"unknown licence type {licence_type!r}; use one of {sorted(LICENCE_TYPES)}")
        domains = [bytes(d) for d in domain_hashes]
        if len(domains) > MAX_DOMAINS:
            raise MarketError(f"an offer covers at most {MAX_DOMAINS} domains, got {len(domains)}")
        if seats < 1 or max_sales < 1:
            raise MarketError("seats and max_sales must be at least 1")
        if max_fee_bps is None:
            max_fee_bps = self.contract.functions.fee_bps().call()
        if not 0 <= max_fee_bps <= MAX_FEE_BPS:
            raise MarketError(f"max_fee_bps must be 0..{MAX_FEE_BPS}, got {max_fee_bps}")
        seller = Web3.to_checksum_address(seller)
        offer = {
            "seller": seller,
            "buyer": Web3.to_checksum_address(buyer),
            "registration_id": int(registration_id),
            "licence_type": LICENCE_TYPES[licence_type],
            "territory": to_hex(encode_territory(countries)),
            "duration": int(duration),
            "seats": int(seats),
            "domains": [to_hex(d) for d in domains],
            "currency": Web3.to_checksum_address(currency),
            "price": int(price),
            "max_fee_bps": int(max_fee_bps),
            "max_sales": int(max_sales),
            "expiry": int(expiry),
            "counter": self.contract.functions.counter(seller).call(),
            "salt": secrets.randbits(256) if salt is None else int(salt),
        }
        return offer_typed_data(self.w3.eth.chain_id, self.address, offer)

    def offer_hash(self, typed_offer: dict) -> bytes:
        """The digest the contract computes for an offer (what the seller signs)."""
        return bytes(self.contract.functions.offer_hash(self._offer_tuple(typed_offer)).call())

    def buy(self, typed_offer: dict, signature: bytes, buyer: str, domain_hashes: Iterable[bytes] = ()) -> int:
        """Buys a licence from a signed offer; returns the licence id.

        For a CPY offer the buyer must have approved the market for the price beforehand.
        """
        message = typed_offer["message"]
        value = message["price"] if int(message["currency"], 16) == 0 else 0
        call = self.contract.functions.buy(self._offer_tuple(typed_offer), bytes(signature), [bytes(d) for d in domain_hashes])
        receipt = self._send(call, buyer, value)
        events = self.contract.events.LicencePurchased().process_receipt(receipt)
        return events[0]["args"]["licence_id"]

    def cancel_offer(self, typed_offer: dict, seller: str) -> None:
        """Cancels one offer (only its seller may)."""
        self._send(self.contract.functions.cancel_offer(self._offer_tuple(typed_offer)), seller)

    def dispute(self, licence_id: int, buyer: str, reason: str) -> None:
        """The buyer disputes a purchase within the dispute window."""
        self._send(self.contract.functions.dispute(licence_id, self.licence(licence_id).terms, reason), buyer)

    def release(self, licence_id: int, sender: str) -> None:
        """Releases an undisputed escrow after the dispute window and the arbiter's grace period
        (`RELEASE_GRACE_PERIOD`)."""
        self._send(self.contract.functions.release(licence_id, self.licence(licence_id).terms), sender)

    def withdraw(self, account: str, asset: str = ETH) -> None:
        """Withdraws everything credited to `account` in `asset`."""
        self._send(self.contract.functions.withdraw(Web3.to_checksum_address(asset)), account)

    def credit(self, account: str, asset: str = ETH) -> int:
        return self.contract.functions.credit(Web3.to_checksum_address(account), Web3.to_checksum_address(asset)).call()

    def is_licensed(self, registration_id: int, licensee: str, domain_hash: bytes, timestamp: int) -> bool:
        """Whether `licensee` held a licence covering the domain at `timestamp`."""
        return self.contract.functions.is_licensed(
            int(registration_id), Web3.to_checksum_address(licensee), bytes(domain_hash), int(timestamp)
        ).call()

    def licence(self, licence_id: int, from_block: int = 0) -> Licence:
        """The licence certificate with id `licence_id` (its purchase event is searched from
        `from_block`, the market's deployment block if known)."""
        _type, starts_at, _ends, revoked, revoked_at, voided = self.contract.functions.licence(licence_id).call()
        if starts_at == 0:
            raise MarketError(f"no licence with id {licence_id}")
        logs = self.contract.events.LicencePurchased().get_logs(from_block=from_block, argument_filters={"licence_id": licence_id})
        if not logs:
            raise MarketError(f"the purchase of licence {licence_id} is not in the chain's logs from block {from_block}")
        terms = logs[0]["args"]
        names = {v: k for k, v in LICENCE_TYPES.items()}
        return Licence(
            licence_id=licence_id,
            registration_id=terms["registration_id"],
            licensee=terms["licensee"],
            seller=terms["seller"],
            offer_hash=bytes(terms["offer_hash"]),
            licence_type=names[terms["licence_type"]],
            countries=decode_territory(terms["territory"]),
            seats=terms["seats"],
            starts_at=terms["starts_at"],
            ends_at=terms["ends_at"] or None,
            domain_hashes=[bytes(d) for d in terms["domains"]],
            currency=terms["currency"],
            price=terms["price"],
            revoked=revoked,
            revoked_at=revoked_at if revoked else None,
            voided=voided,
            previous_block_hash=bytes(terms["previous_block_hash"]),
        )

    def licences_of(self, registration_id: int) -> list[Licence]:
        """Every licence sold for a registration, oldest first."""
        total = self.contract.functions.licence_count_of(int(registration_id)).call()
        ids: list[int] = []
        for offset in range(0, total, PAGE):
            ids += self.contract.functions.licences_of(int(registration_id), offset, PAGE).call()
        return [self.licence(i) for i in ids]

    def _offer_tuple(self, typed_offer: dict) -> tuple:
        return as_tuple(OFFER_FIELDS, typed_offer["message"])

