"""Helpers for the marketplace and settlement tests: registration ids and EIP-712 signatures."""

import hashlib

from eth_account import Account
from eth_account.messages import encode_typed_data

from backend.marketplace.typed_data import MANDATE_FIELDS, OFFER_FIELDS, as_tuple


def registration_id_of(name: str) -> int:
    """A registration id as the register makes it: the SHA-256 of the file, as a number."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest(), "big")


def sign_typed(typed: dict, private_key) -> bytes:
    """A 65-byte EIP-712 signature (eth-account) of a full typed-data message."""
    return bytes(Account.sign_message(encode_typed_data(full_message=typed), private_key).signature)


def offer_args(typed: dict) -> tuple:
    return as_tuple(OFFER_FIELDS, typed["message"])


def mandate_args(typed: dict) -> tuple:
    return as_tuple(MANDATE_FIELDS, typed["message"])


NO_TERMS = ("0x" + "00" * 20, "0x" + "00" * 20, "0x" + "00" * 20, 0, b"\0" * 32)


def terms_of(market, licence_id: int) -> tuple:
    """The `Terms` a licence was bought on (licensee, seller, currency, price, the hash of the
    block before the purchase's), read from its `LicencePurchased` event as a client does; empty
    terms for a licence that was never bought."""
    from ape import chain

    for log in market.LicencePurchased.range(0, chain.blocks.height + 1, search_topics={"licence_id": licence_id}):
        return (log.licensee, log.seller, log.currency, log.price, log.previous_block_hash)
    return NO_TERMS
