"""Helpers for the CopyrightRegister tests: items, ids and the EIP-712 message types."""

from __future__ import annotations

import hashlib
import secrets

CODEC_RAW = 0x55
CODEC_DAG_PB = 0x70
REGISTER_DOMAIN_NAME = "Copytrack Register"
REGISTER_DOMAIN_VERSION = "1"
REGISTER_MESSAGE_TYPES = {
    "Register": [
        {"name": "owner", "type": "address"},
        {"name": "content_hash", "type": "bytes32"},
        {"name": "phash", "type": "uint64"},
        {"name": "cid_codec", "type": "uint16"},
        {"name": "cid_digest", "type": "bytes32"},
        {"name": "parent", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
REVEAL_MESSAGE_TYPES = {
    "Reveal": [
        field for field in REGISTER_MESSAGE_TYPES["Register"] if field["name"] not in ("nonce", "deadline")
    ]
    + [
        {"name": "salt", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}


def make_register_item(data: bytes | None = None, *, phash: int = 0x8F3C_71E0_0C3E_1F07, parent: int = 0,
                       cid_codec: int = CODEC_RAW) -> dict:
    """A register `Item` for the file `data` (random bytes when omitted).

    For a single-block file the CID digest is the SHA-256 of the bytes, as in a raw CIDv1.
    """
    data = secrets.token_bytes(64) if data is None else data
    digest = hashlib.sha256(data).digest()
    return {
        "content_hash": digest,
        "phash": phash,
        "cid_codec": cid_codec,
        "cid_digest": digest,
        "parent": parent,
    }


def register_id(item: dict) -> int:
    """The registration id of an item: its content hash as a number."""
    return int.from_bytes(item["content_hash"], "big")


ITEM_FIELDS = [
    {"name": "content_hash", "type": "bytes32"},
    {"name": "phash", "type": "uint64"},
    {"name": "cid_codec", "type": "uint16"},
    {"name": "cid_digest", "type": "bytes32"},
    {"name": "parent", "type": "uint256"},
]
REVEAL_BATCH_MESSAGE_TYPES = {
    "RevealBatch": [
        {"name": "owner", "type": "address"},
        {"name": "items", "type": "Item[]"},
        {"name": "salt", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
    "Item": ITEM_FIELDS,
}
