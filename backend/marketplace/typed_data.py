"""EIP-712 messages of the marketplace (offers) and of the settlement escrow (mandates).

The type strings here must match `OFFER_TYPEHASH` in `contracts/LicenseMarket.vy` and
`MANDATE_TYPEHASH` in `contracts/SettlementEscrow.vy`; the contract tests compare the digests.
"""

from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import urlsplit

import idna
from eth_utils import keccak, to_checksum_address

from backend.chain.eip712 import typed_message

ETH = "0x0000000000000000000000000000000000000000"

LICENCE_TYPES = {"standard": 0, "extended": 1, "editorial": 2, "exclusive": 3}

STEPS = {
    "opened": 0,
    "post_licensing_letter": 1,
    "invoice": 2,
    "legal_letter": 3,
    "court_claim": 4,
    "settled": 5,
    "closed": 6,
}

MAX_COUNTRIES = 16
MAX_DOMAINS = 8

OFFER_FIELDS = [
    {"name": "seller", "type": "address"},
    {"name": "buyer", "type": "address"},
    {"name": "registration_id", "type": "uint256"},
    {"name": "licence_type", "type": "uint8"},
    {"name": "territory", "type": "bytes32"},
    {"name": "duration", "type": "uint64"},
    {"name": "seats", "type": "uint16"},
    {"name": "domains", "type": "bytes32[]"},
    {"name": "currency", "type": "address"},
    {"name": "price", "type": "uint256"},
    {"name": "max_fee_bps", "type": "uint16"},
    {"name": "max_sales", "type": "uint32"},
    {"name": "expiry", "type": "uint256"},
    {"name": "counter", "type": "uint256"},
    {"name": "salt", "type": "uint256"},
]

MANDATE_FIELDS = [
    {"name": "owner", "type": "address"},
    {"name": "agent", "type": "address"},
    {"name": "registration_id", "type": "uint256"},
    {"name": "expiry", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
]

MARKET_DOMAIN_NAME = "Copytrack Licence Market"
SETTLEMENT_DOMAIN_NAME = "Copytrack Settlement"
DOMAIN_VERSION = "1"

_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
_HOST_NAME = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*$")


def encode_territory(countries: Iterable[str] | None) -> bytes:
    """The contract's territory word: empty/None = worldwide, else up to 16 ISO 3166 alpha-2 codes."""
    codes = [c.strip().upper() for c in (countries or [])]
    if len(codes) > MAX_COUNTRIES:
        raise ValueError(f"a territory lists at most {MAX_COUNTRIES} countries, got {len(codes)}")
    for code in codes:
        if not _COUNTRY_CODE.match(code):
            raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code (two letters, e.g. 'DE')")
    if len(set(codes)) != len(codes):
        raise ValueError(f"territory lists a country twice: {codes}")
    return "".join(codes).encode("ascii").ljust(32, b"\0")


def decode_territory(territory: bytes) -> list[str]:
    """Country codes of a territory word; an empty list means worldwide."""
    text = bytes(territory).rstrip(b"\0").decode("ascii")
    return [text[i : i + 2] for i in range(0, len(text), 2)]


def normalise_domain(domain: str) -> str:
    """The host name licences record for `domain` (a bare host or a URL).

    Only the host counts: scheme, user info, port, path, query and fragment are dropped. An
    internationalised name becomes its punycode form (IDNA 2008 with UTS 46 mapping), the name is
    lower case and loses a trailing dot: `https://user@Bücher.Example.:8443/a?b#c` -> `xn--bcher-kva.example`.
    """
    text = domain.strip()
    if "://" not in text and not text.startswith("//"):
        text = "//" + text  # a bare host: let urlsplit read it as the network location
    try:
        host = urlsplit(text).hostname
    except ValueError as error:
        raise ValueError(f"{domain!r} is not a domain name or URL ({error})") from error
    host = (host or "").rstrip(".")
    if not host:
        raise ValueError(f"{domain!r} names no host (expected something like 'example.com')")
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as error:
            raise ValueError(f"{domain!r} is not a valid internationalised domain name ({error})") from error
    host = host.lower()
    if not _HOST_NAME.match(host):
        raise ValueError(f"{domain!r} is not a domain name (labels of letters, digits, '-' and '_', separated by dots)")
    return host


def domain_hash(domain: str) -> bytes:
    """keccak256 of the host name licences record for `domain` (see `normalise_domain`)."""
    return keccak(text=normalise_domain(domain))


def offer_typed_data(chain_id: int, market: str, offer: dict) -> dict:
    """The full EIP-712 message for `offer` (a dict with every Offer field), ready for signing."""
    missing = [f["name"] for f in OFFER_FIELDS if f["name"] not in offer]
    if missing:
        raise ValueError(f"offer lacks the fields {missing}")
    return typed_message(name=MARKET_DOMAIN_NAME, version=DOMAIN_VERSION, chain_id=chain_id,
                         contract=to_checksum_address(market), primary="Offer", fields=OFFER_FIELDS, message=offer)


def mandate_typed_data(chain_id: int, settlement: str, mandate: dict) -> dict:
    """The full EIP-712 message for `mandate` (owner, agent, registration_id, expiry, nonce)."""
    missing = [f["name"] for f in MANDATE_FIELDS if f["name"] not in mandate]
    if missing:
        raise ValueError(f"mandate lacks the fields {missing}")
    return typed_message(name=SETTLEMENT_DOMAIN_NAME, version=DOMAIN_VERSION, chain_id=chain_id,
                         contract=to_checksum_address(settlement), primary="Mandate", fields=MANDATE_FIELDS,
                         message=mandate)


def as_tuple(fields: list[dict], message: dict) -> tuple:
    """A typed-data message as the ABI tuple the contract takes (field order of the struct)."""
    return tuple(list(message[f["name"]]) if f["type"].endswith("[]") else message[f["name"]] for f in fields)
