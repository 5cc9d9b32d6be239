"""EIP-712 typed data as wallets sign it (`eth_signTypedData_v4`): one builder for every message
type the contracts verify (registrations, reveals, licence offers, mandates)."""

from __future__ import annotations

DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def typed_message(*, name: str, version: str, chain_id: int, contract: str, primary: str,
                  fields: list[dict], message: dict, nested: dict | None = None) -> dict:
    """The full message: domain (name, version, chain, contract), the primary struct type (and the
    struct types it nests, by name), its values."""
    return {
        "types": {"EIP712Domain": DOMAIN_FIELDS, primary: fields, **(nested or {})},
        "primaryType": primary,
        "domain": {"name": name, "version": version, "chainId": chain_id, "verifyingContract": contract},
        "message": {f["name"]: message[f["name"]] for f in fields},
    }
