"""The offer book: signed licence offers checked as the contract would, stored, found, and bought.

An offer is in the book while it could still be bought: not expired, not cancelled, not sold
out, signed with the seller's current counter, and the seller still owns the registration. All
of that is decided when reading, from the tables the indexer keeps, so offers leave the book by
themselves as chain events arrive (and come back if a reorg undoes the event).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_typed_data
from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import Session
from web3 import Web3

from backend.chain.register import RegisterContract, id_hex
from backend.errors import Forbidden, InvalidInput, NotFound
from backend.marketplace.license_market import MAX_FEE_BPS, LicenseMarket
from backend.marketplace.models import Licence, Offer, OfferCancellation, SellerCounter, price_key
from backend.marketplace.typed_data import (
    ETH,
    LICENCE_TYPES,
    MAX_DOMAINS,
    OFFER_FIELDS,
    decode_territory,
    domain_hash,
    encode_territory,
    offer_typed_data,
)
from backend.models import Collection, Image, Registration

LICENCE_TYPE_NAMES = {v: k for k, v in LICENCE_TYPES.items()}
MAX_PAGE = 100
MAX_FILTER_VALUES = 50
MAX_QUERY_CHARS = 200
MAX_EXPIRY = 2**63 - 1  # stored as BIGINT; later than any expiry a person means
SORTS = {
    "newest": (Offer.created_at.desc(),),
    "price": (Offer.price_key.asc(), Offer.created_at.desc()),
    "-price": (Offer.price_key.desc(), Offer.created_at.desc()),
    "expiry": (Offer.expiry.asc(), Offer.created_at.desc()),
}
_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_SIGNATURE = re.compile(r"^0x(?:[0-9a-fA-F]{2}){1,65}$")
# secp256k1's group order: a signature's `s` above half of it has a twin (n - s, the other v) that
# recovers the same signer, so the market refuses it (as OpenZeppelin's ECDSA does).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
ERC1271_MAGIC = bytes.fromhex("1626ba7e")
_ERC1271_ABI = [{"type": "function", "name": "isValidSignature", "stateMutability": "view",
                 "inputs": [{"name": "digest", "type": "bytes32"}, {"name": "signature", "type": "bytes"}],
                 "outputs": [{"name": "", "type": "bytes4"}]}]
# uint64 and uint256 travel as decimal strings (JavaScript rounds above 2^53); smaller ones as numbers.
_WIDE = {f["name"] for f in OFFER_FIELDS if f["type"] in ("uint64", "uint256")}


# -- reading input ----------------------------------------------------------------------------
def parse_uint(name: str, value, bits: int = 256) -> int:
    """An unsigned integer from JSON: a number or a decimal string (no floats, no signs)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInput(f"{name!r} must be an integer or a decimal string, got {value!r}")
    text = str(value).strip()
    if not text.isdigit():
        raise InvalidInput(f"{name!r} must be a non-negative whole number, got {value!r}")
    number = int(text)
    if number >= 2**bits:
        raise InvalidInput(f"{name!r} does not fit in uint{bits}: {value}")
    return number


def parse_address(name: str, value) -> str:
    if not isinstance(value, str) or not Web3.is_address(value):
        raise InvalidInput(f"{name!r} must be an Ethereum address (0x and 40 hex digits), got {value!r}")
    return Web3.to_checksum_address(value)


def parse_registration_id(value) -> str:
    """A registration id as 0x + 64 hex digits (the file's SHA-256), from hex or a decimal string."""
    if isinstance(value, str) and _HEX32.match(value):
        return value.lower()
    return id_hex(parse_uint("registration_id", value))


def parse_currency(market: LicenseMarket, value) -> str:
    """'ETH' / 'CPY' or the address of one of them."""
    cpy = market.contract.functions.CPY().call()
    named = {"ETH": ETH, "CPY": cpy}
    if isinstance(value, str) and value.upper() in named:
        return named[value.upper()]
    address = parse_address("currency", value)
    if address not in (ETH, cpy):
        raise InvalidInput(f"currency {address} is neither ETH ({ETH}) nor CPY ({cpy})")
    return address


def offer_message(raw) -> dict:
    """The Offer fields with Python types (ints, checksummed addresses, 0x hex), every one checked."""
    if not isinstance(raw, dict):
        raise InvalidInput("'message' must be a JSON object with the Offer fields")
    missing = [f["name"] for f in OFFER_FIELDS if f["name"] not in raw]
    if missing:
        raise InvalidInput(f"the offer lacks the fields {missing}")
    message = {}
    for field in OFFER_FIELDS:
        name, kind, value = field["name"], field["type"], raw[field["name"]]
        if kind == "address":
            message[name] = parse_address(name, value)
        elif kind.startswith("uint"):
            message[name] = parse_uint(name, value, int(kind[4:]))
        elif kind == "bytes32":
            if not isinstance(value, str) or not _HEX32.match(value):
                raise InvalidInput(f"{name!r} must be 0x and 64 hex digits, got {value!r}")
            message[name] = value.lower()
        elif kind == "bytes32[]":
            if not isinstance(value, list) or len(value) > MAX_DOMAINS:
                raise InvalidInput(f"{name!r} must be a list of at most {MAX_DOMAINS} domain hashes")
            for item in value:
                if not isinstance(item, str) or not _HEX32.match(item):
                    raise InvalidInput(f"every entry of {name!r} must be 0x and 64 hex digits, got {item!r}")
            message[name] = [v.lower() for v in value]
    if message["licence_type"] not in LICENCE_TYPE_NAMES:
        raise InvalidInput(f"licence_type {message['licence_type']} is unknown; use 0..3 ({', '.join(LICENCE_TYPES)})")
    try:
        countries = decode_territory(bytes.fromhex(message["territory"][2:]))
        well_formed = encode_territory(countries).hex() == message["territory"][2:]
    except (UnicodeDecodeError, ValueError):
        well_formed = False
    if not well_formed:
        raise InvalidInput("territory is not a valid encoding: up to 16 upper-case ISO 3166 alpha-2 codes, "
                           "packed from the left, zero-filled (ask /api/v1/offers/draft for it)")
    if message["seats"] < 1 or message["max_sales"] < 1:
        raise InvalidInput("seats and max_sales must be at least 1")
    if message["max_fee_bps"] > MAX_FEE_BPS:
        raise InvalidInput(f"max_fee_bps must be at most {MAX_FEE_BPS}")
    if message["expiry"] > MAX_EXPIRY:
        raise InvalidInput(f"expiry {message['expiry']} is beyond any date; give a unix time in seconds")
    if int(message["seller"], 16) == 0:
        raise InvalidInput("the offer has no seller")
    return message


def json_message(message: dict) -> dict:
    """The message as JSON for a browser: uint64/uint256 as decimal strings."""
    return {k: str(v) if k in _WIDE else v for k, v in message.items()}


def signable(typed: dict) -> dict:
    """Typed data with the wide integers back as ints, as `eth_account` and wallets hash them."""
    message = {k: int(v) if k in _WIDE else v for k, v in typed["message"].items()}
    return {**typed, "message": message}


# -- checking an offer as the contract would ----------------------------------------------------
@dataclass(frozen=True)
class Checked:
    typed_data: dict  # JSON form
    offer_hash: str


def check_offer(market: LicenseMarket, message: dict) -> Checked:
    """Every check `buy` makes that does not depend on the buyer; the offer's typed data and hash."""
    contract = market.contract.functions
    now = market.w3.eth.get_block("latest")["timestamp"]
    if message["expiry"] <= now:
        raise InvalidInput(f"the offer expired at {message['expiry']} (chain time is {now}); give a later expiry")
    counter = contract.counter(message["seller"]).call()
    if message["counter"] != counter:
        raise InvalidInput(f"the offer carries counter {message['counter']}, but the seller's counter is {counter}; "
                           "draft the offer again")
    fee = contract.fee_bps().call()
    if message["max_fee_bps"] < fee:
        raise InvalidInput(f"the platform fee is {fee} bps, above the offer's max_fee_bps {message['max_fee_bps']}")
    if message["currency"] not in (ETH, contract.CPY().call()):
        raise InvalidInput(f"currency {message['currency']} is neither ETH nor CPY")
    registration = RegisterContract(market.w3, contract.REGISTER().call()).registration(message["registration_id"])
    owner, registered_at = registration["owner"], registration["registered_at"]
    if int(owner, 16) == 0:
        raise NotFound(f"registration {id_hex(message['registration_id'])} is not on the chain")
    if Web3.to_checksum_address(owner) != message["seller"]:
        raise Forbidden(f"{message['seller']} does not own registration {id_hex(message['registration_id'])} "
                        f"(its owner is {owner}); only the owner can offer licences")
    claim_window = contract.CLAIM_WINDOW().call()
    if now < registered_at + claim_window:
        raise InvalidInput(f"registration {id_hex(message['registration_id'])} is in its claim window until "
                           f"{registered_at + claim_window} (chain time {now}); offer licences after it")
    typed = offer_typed_data(market.w3.eth.chain_id, market.address, json_message(message))
    digest = "0x" + market.offer_hash(signable(typed)).hex()
    if contract.cancelled(digest).call():
        raise InvalidInput(f"offer {digest} was cancelled")
    return Checked(typed_data=typed, offer_hash=digest)


def draft_offer(market: LicenseMarket, terms) -> Checked:
    """The typed data a seller signs for the terms given (names, not encodings), already checked."""
    if not isinstance(terms, dict):
        raise InvalidInput("the request body must be a JSON object with the offer's terms")
    allowed = {"seller", "registration_id", "price", "currency", "licence_type", "countries", "duration", "seats",
               "domains", "max_sales", "expiry", "buyer", "max_fee_bps"}
    unknown = sorted(set(terms) - allowed)
    if unknown:
        raise InvalidInput(f"unknown terms {unknown}; known: {sorted(allowed)}")
    for required in ("seller", "registration_id", "price", "expiry"):
        if required not in terms:
            raise InvalidInput(f"the terms lack {required!r}")
    licence_type = terms.get("licence_type", "standard")
    if licence_type not in LICENCE_TYPES:
        raise InvalidInput(f"unknown licence type {licence_type!r}; use one of {list(LICENCE_TYPES)}")
    countries = terms.get("countries") or []
    domains = terms.get("domains") or []
    if not isinstance(countries, list) or not isinstance(domains, list):
        raise InvalidInput("'countries' and 'domains' must be lists")
    if len(domains) > MAX_DOMAINS:
        raise InvalidInput(f"an offer covers at most {MAX_DOMAINS} domains, got {len(domains)}")
    try:
        territory = encode_territory([str(c) for c in countries])
        hashes = ["0x" + domain_hash(str(d)).hex() for d in domains]
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    market_fee = market.contract.functions.fee_bps().call()
    message = offer_message({
        "seller": terms["seller"],
        "buyer": terms.get("buyer") or ETH,
        "registration_id": parse_uint("registration_id", int(parse_registration_id(terms["registration_id"]), 16)),
        "licence_type": LICENCE_TYPES[licence_type],
        "territory": "0x" + territory.hex(),
        "duration": terms.get("duration", 0),
        "seats": terms.get("seats", 1),
        "domains": hashes,
        "currency": parse_currency(market, terms.get("currency", "ETH")),
        "price": terms["price"],
        "max_fee_bps": terms.get("max_fee_bps", market_fee),
        "max_sales": terms.get("max_sales", 1),
        "expiry": terms["expiry"],
        "counter": market.contract.functions.counter(parse_address("seller", terms["seller"])).call(),
        "salt": secrets.randbits(256),
    })
    return check_offer(market, message)


def ecdsa_parts(raw: bytes) -> tuple[int, int, int]:
    """(v, r, s) of a 65-byte or a 64-byte (EIP-2098 compact) signature, as the market contract
    reads them; `InvalidInput` saying what is wrong when the contract would refuse it."""
    if len(raw) == 65:
        r, s, v = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]
        if v not in (27, 28):
            raise InvalidInput(f"the signature's v (its last byte) must be 27 or 28, as the market contract takes it; "
                               f"got {v}: sign again with a wallet that uses Ethereum's v")
    elif len(raw) == 64:
        r, vs = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
        v, s = (vs >> 255) + 27, vs & ((1 << 255) - 1)
    else:
        raise InvalidInput(f"a signature is 65 bytes, or 64 in the compact form (EIP-2098); got {len(raw)}")
    if s > SECP256K1_N // 2:
        raise InvalidInput("the signature is malleable (its s is in the upper half of the curve order), which the "
                           "market refuses; use its canonical twin (s' = n - s, the other v) or sign again")
    return v, r, s


def canonical_signature(market: LicenseMarket, typed: dict, signature: str) -> str:
    """The signature to keep for an offer, accepted exactly when the market's `buy` would accept
    it: an ECDSA signature by the seller's key (65 bytes with v 27 or 28, or 64 compact; low s),
    kept in the 65-byte form; else, for a seller with code, whatever its ERC-1271
    `isValidSignature` approves, kept as given. `Forbidden` when neither holds. `typed` is the
    offer's full typed data as this market hands it out."""
    seller = typed["message"]["seller"]
    raw = bytes.fromhex(signature[2:])
    refusal = None
    try:
        v, r, s = ecdsa_parts(raw)
        signer = Account.recover_message(encode_typed_data(full_message=signable(typed)), vrs=(v, r, s))
        if signer == seller:
            return "0x" + (r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])).hex()
        refusal = Forbidden(f"the signature is by {signer}, not by the offer's seller {seller}")
    except InvalidInput as exc:
        refusal = exc
    except Exception:  # eth_keys' errors for values that are not on the curve
        refusal = InvalidInput("the signature is not a valid secp256k1 signature")
    if market.w3.eth.get_code(seller):
        wallet = market.w3.eth.contract(address=seller, abi=_ERC1271_ABI)
        try:
            approved = wallet.functions.isValidSignature(market.offer_hash(signable(typed)), raw).call() == ERC1271_MAGIC
        except Exception:  # a contract without the function, or one that reverts: not approved
            approved = False
        if approved:
            return signature.lower()
        raise Forbidden(f"the seller {seller} is a contract and its isValidSignature (ERC-1271) does not approve "
                        "this signature of the offer")
    raise refusal


def submit_offer(db: Session, market: LicenseMarket, typed, signature) -> tuple[Offer, bool]:
    """Checks a signed offer and puts it into the book; returns the row and whether it is new.

    The signature is accepted exactly when the contract would accept it (`canonical_signature`),
    so no copy of it the contract refuses (v 0 or 1, the high-s twin) can sit in the book ahead
    of the seller's own; a book row from before these rules whose signature the contract would
    refuse is replaced by a good one."""
    if not isinstance(typed, dict) or not isinstance(typed.get("message"), dict):
        raise InvalidInput("send 'typed_data' (the Offer as drafted, with its 'message') and 'signature'")
    if not isinstance(signature, str) or not _SIGNATURE.match(signature):
        raise InvalidInput("'signature' must be 0x and the signature's bytes in hex (65 bytes, or 64 compact)")
    message = offer_message(typed["message"])
    expected = offer_typed_data(market.w3.eth.chain_id, market.address, json_message(message))
    if typed.get("domain") != expected["domain"] or typed.get("primaryType", "Offer") != "Offer":
        raise InvalidInput(f"the typed data is not for this market: its domain must be {expected['domain']}")
    signature = canonical_signature(market, expected, signature)
    checked = check_offer(market, message)
    existing = db.get(Offer, checked.offer_hash)
    if existing is not None:
        if existing.signature != signature and not _contract_accepts(market, expected, existing.signature):
            existing.signature = signature
            db.flush()
        return existing, False
    row = Offer(
        hash=checked.offer_hash,
        seller=message["seller"],
        buyer=message["buyer"],
        registration_id=id_hex(message["registration_id"]),
        licence_type=LICENCE_TYPE_NAMES[message["licence_type"]],
        countries=",".join(decode_territory(bytes.fromhex(message["territory"][2:]))),
        duration=message["duration"],
        currency=message["currency"],
        price=str(message["price"]),
        price_key=price_key(message["price"]),
        max_sales=message["max_sales"],
        expiry=message["expiry"],
        counter=str(message["counter"]),
        message=json_message(message),
        signature=signature,
    )
    db.add(row)
    db.flush()
    return row, True


def _contract_accepts(market: LicenseMarket, typed: dict, signature: str) -> bool:
    try:
        canonical_signature(market, typed, signature)
    except (InvalidInput, Forbidden):
        return False
    return True


# -- the book ---------------------------------------------------------------------------------
def _sold():
    return (select(func.count(Licence.id)).where(Licence.offer_hash == Offer.hash)
            .correlate(Offer).scalar_subquery())


def live_condition(now: int):
    """SQL: the offer could still be bought at `now` (as far as the indexed chain knows)."""
    cancelled = select(OfferCancellation.offer_hash).where(OfferCancellation.offer_hash == Offer.hash).exists()
    counter = (select(SellerCounter.counter).where(SellerCounter.seller == Offer.seller)
               .correlate(Offer).scalar_subquery())
    return and_(
        Offer.expiry > now,
        ~cancelled,
        _sold() < Offer.max_sales,
        Offer.counter == func.coalesce(counter, "0"),
        Registration.owner == Offer.seller,
    )


def _book(now: int):
    """Live offers with the seller's title and collection of the image, if they uploaded it here."""
    return (
        select(Offer, Image.title, Collection.name, _sold().label("sold"), Registration.cid)
        .join(Registration, Registration.id == Offer.registration_id)
        .outerjoin(Image, and_(Image.sha256 == Offer.registration_id, Image.owner == Offer.seller))
        .outerjoin(Collection, Collection.id == Image.collection_id)
        .where(live_condition(now))
    )


def _list(raw: list[str] | None, name: str) -> list[str]:
    values = [v for v in (raw or []) if v != ""]
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidInput(f"at most {MAX_FILTER_VALUES} values for {name!r}, got {len(values)}")
    return values


def search_offers(db: Session, market_cpy: str, now: int, filters: dict, *, page: int = 1, per_page: int = 20) -> dict:
    """Live offers matching `filters` (lists of strings per name, as from a query string).

    Filters: registration, owner, collection, licence_type, territory (a country code: offers
    valid there, worldwide ones included), currency (ETH/CPY), min_price/max_price (wei), q (text
    over image titles and collection names), sort (newest, price, -price, expiry).
    """
    known = {"registration", "owner", "collection", "licence_type", "territory", "currency", "min_price",
             "max_price", "q", "sort", "page", "per_page"}
    unknown = sorted(set(filters) - known)
    if unknown:
        raise InvalidInput(f"unknown filters {unknown}; known: {sorted(known)}")
    query = _book(now)
    registrations = [parse_registration_id(v) for v in _list(filters.get("registration"), "registration")]
    if registrations:
        query = query.where(Offer.registration_id.in_(registrations))
    owners = [parse_address("owner", v) for v in _list(filters.get("owner"), "owner")]
    if owners:
        query = query.where(Offer.seller.in_(owners))
    collections = _list(filters.get("collection"), "collection")
    if collections:
        query = query.where(Collection.name.in_(collections))
    types = _list(filters.get("licence_type"), "licence_type")
    for kind in types:
        if kind not in LICENCE_TYPES:
            raise InvalidInput(f"unknown licence type {kind!r}; use one of {list(LICENCE_TYPES)}")
    if types:
        query = query.where(Offer.licence_type.in_(types))
    territories = [t.upper() for t in _list(filters.get("territory"), "territory")]
    for code in territories:
        if not re.fullmatch(r"[A-Z]{2}", code):
            raise InvalidInput(f"territory {code!r} is not an ISO 3166-1 alpha-2 country code")
    if territories:
        padded = literal(",") + Offer.countries + literal(",")
        query = query.where(or_(Offer.countries == "", *[padded.like(f"%,{c},%") for c in territories]))
    currencies = _list(filters.get("currency"), "currency")
    if currencies:
        named = {"ETH": ETH, "CPY": market_cpy}
        unknown_currencies = [c for c in currencies if c.upper() not in named]
        if unknown_currencies:
            raise InvalidInput(f"currency must be ETH or CPY, got {unknown_currencies}")
        query = query.where(Offer.currency.in_([named[c.upper()] for c in currencies]))
    for name, compare in (("min_price", Offer.price_key.__ge__), ("max_price", Offer.price_key.__le__)):
        values = _list(filters.get(name), name)
        if len(values) > 1:
            raise InvalidInput(f"give {name!r} once")
        if values:
            query = query.where(compare(price_key(parse_uint(name, values[0]))))
    texts = _list(filters.get("q"), "q")
    for text in texts:
        if len(text) > MAX_QUERY_CHARS:
            raise InvalidInput(f"a text search is at most {MAX_QUERY_CHARS} characters")
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Image.title.ilike(pattern, escape="\\"), Collection.name.ilike(pattern, escape="\\")))
    sort = (filters.get("sort") or ["newest"])[-1]
    if sort not in SORTS:
        raise InvalidInput(f"unknown sort {sort!r}; use one of {list(SORTS)}")
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.execute(query.order_by(*SORTS[sort]).offset((page - 1) * per_page).limit(per_page)).all()
    return {
        "offers": [offer_view(db, offer, title, collection, sold, cid) for offer, title, collection, sold, cid in rows],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


def offer_view(db: Session, offer: Offer, title: str | None = None, collection: str | None = None,
               sold: int | None = None, cid: str | None = None) -> dict:
    message = offer.message
    if sold is None:
        sold = db.scalar(select(func.count(Licence.id)).where(Licence.offer_hash == offer.hash))
    if cid is None:
        cid = db.scalar(select(Registration.cid).where(Registration.id == offer.registration_id))
    return {
        "hash": offer.hash,
        "seller": offer.seller,
        "buyer": None if int(offer.buyer, 16) == 0 else offer.buyer,
        "registration_id": offer.registration_id,
        "cid": cid,
        "title": title,
        "collection": collection,
        "licence_type": offer.licence_type,
        "countries": offer.countries.split(",") if offer.countries else [],
        "duration": str(offer.duration),
        "seats": message["seats"],
        "domains": message["domains"],
        "currency": "ETH" if int(offer.currency, 16) == 0 else "CPY",
        "currency_address": offer.currency,
        "price": offer.price,
        "max_sales": offer.max_sales,
        "sold": sold,
        "expiry": str(offer.expiry),
        "signature": offer.signature,
        "message": message,
    }


def live_offers(db: Session, registration_ids: list[str], now: int, per_registration: int = 20) -> dict[str, list]:
    """The live offers of each registration (cheapest first), for lookup answers."""
    found: dict[str, list] = {}
    if not registration_ids:
        return found
    query = _book(now).where(Offer.registration_id.in_(registration_ids)).order_by(Offer.price_key.asc())
    for offer, title, collection, sold, cid in db.execute(query):
        views = found.setdefault(offer.registration_id, [])
        if len(views) < per_registration:
            views.append(offer_view(db, offer, title, collection, sold, cid))
    return found


def get_offer(db: Session, offer_hash: str) -> Offer:
    if not isinstance(offer_hash, str) or not _HEX32.match(offer_hash):
        raise InvalidInput(f"an offer hash is 0x and 64 hex digits, got {offer_hash!r}")
    offer = db.get(Offer, offer_hash.lower())
    if offer is None:
        raise NotFound(f"no offer {offer_hash} in the book")
    return offer


def is_live(db: Session, offer: Offer, now: int) -> bool:
    query = (select(Offer.hash).join(Registration, Registration.id == Offer.registration_id)
             .where(Offer.hash == offer.hash, live_condition(now)))
    return db.scalar(query) is not None
