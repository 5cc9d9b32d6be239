"""EIP-712 typed data as wallets sign it (`eth_signTypedData_v4`): one builder for every message
type the contracts verify (registrations, reveals, licence offers, mandates)."""

from __future__ import annotations

import re

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


# JavaScript reads a JSON number as a double: integers above 2^53 arrive altered, and a wallet
# would sign a different message. Every field whose type can hold more travels as a decimal string.
JS_SAFE_BITS = 53
_INTEGER_TYPE = re.compile(r"^u?int(\d*)$")
_QUANTITY_FIELDS = ("value", "gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "nonce")


def _typed_value(types: dict, type_: str, value):
    if type_.endswith("]"):
        return [_typed_value(types, type_[: type_.rindex("[")], item) for item in value]
    if type_ in types:
        return {f["name"]: _typed_value(types, f["type"], value[f["name"]]) for f in types[type_] if f["name"] in value}
    match = _INTEGER_TYPE.match(type_)
    if match and isinstance(value, int) and not isinstance(value, bool) and int(match.group(1) or 256) > JS_SAFE_BITS:
        return str(value)
    return value


def json_safe(value):
    """`value` with every integer a browser could misread made exact: in EIP-712 typed data,
    each (u)int field wider than 53 bits (by its type, so a client always sees the same JSON
    type) becomes a decimal string, which wallets, viem and eth-account all accept; in a
    transaction, amounts and gas become hex quantities as `eth_sendTransaction` takes them
    (`chainId` stays a number: EIP-2294 keeps chain ids below 2^53). Anything else is walked."""
    if isinstance(value, dict) and {"types", "primaryType", "domain", "message"} <= set(value):
        types = value["types"]
        return {
            **value,
            "domain": _typed_value(types, "EIP712Domain", value["domain"]),
            "message": _typed_value(types, value["primaryType"], value["message"]),
        }
    if isinstance(value, dict) and {"to", "data"} <= set(value):
        return {k: hex(v) if k in _QUANTITY_FIELDS and isinstance(v, int) else v for k, v in value.items()}
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value
