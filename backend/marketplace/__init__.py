"""Licence marketplace and settlement escrow: typed data to sign and thin web3 bindings.

`LicenseMarket` and `SettlementEscrow` wrap the deployed contracts for the enforcement pipeline
and the web frontend; `typed_data` builds the EIP-712 messages (offers, mandates) both of them
sign and the contracts verify.
"""

from backend.marketplace.license_market import LicenseMarket
from backend.marketplace.settlement import SettlementEscrow
from backend.marketplace.typed_data import (
    ETH,
    LICENCE_TYPES,
    STEPS,
    decode_territory,
    domain_hash,
    encode_territory,
    normalise_domain,
)

__all__ = [
    "ETH",
    "LICENCE_TYPES",
    "STEPS",
    "LicenseMarket",
    "SettlementEscrow",
    "decode_territory",
    "domain_hash",
    "encode_territory",
    "normalise_domain",
]
