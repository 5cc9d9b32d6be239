"""Licences as the indexer recorded them, the on-chain licence check, and the transactions a
buyer, seller or licensee sends to the market (the backend never holds their keys)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from backend.chain import artifacts
from backend.chain.client import revert_reason
from backend.errors import ChainRejected, Forbidden, InvalidInput, NotFound
from backend.marketplace.license_market import LicenseMarket
from backend.marketplace.models import Licence, Offer
from backend.marketplace.offers import (
    MAX_FILTER_VALUES,
    is_live,
    parse_address,
    parse_registration_id,
    parse_uint,
    signable,
)
from backend.marketplace.typed_data import ETH, MAX_DOMAINS, OFFER_FIELDS, as_tuple, domain_hash, normalise_domain
from backend.models import Image, Registration

MAX_REASON_CHARS = 200  # the contract's String[200]


def licence_view(licence: Licence) -> dict:
    return {
        "id": licence.id,
        "registration_id": licence.registration_id,
        "licensee": licence.licensee,
        "seller": licence.seller,
        "offer_hash": licence.offer_hash,
        "licence_type": licence.licence_type,
        "countries": licence.countries.split(",") if licence.countries else [],
        "seats": licence.seats,
        "starts_at": str(licence.starts_at),
        "ends_at": None if licence.ends_at is None else str(licence.ends_at),
        "domain_hashes": licence.domains,
        "currency": "ETH" if int(licence.currency, 16) == 0 else "CPY",
        "price": licence.price,
        "fee": licence.fee,
        "escrow": {
            "status": licence.status,
            "release_at": str(licence.release_at),
            "dispute_reason": licence.dispute_reason,
            "refunded": licence.refunded,
            "released_to_seller": licence.released_to_seller,
        },
        "revoked": licence.revoked,
        "revocation_reason": licence.revocation_reason,
        "tx_hash": licence.tx_hash,
        "block_number": licence.block_number,
    }


def get_licence(db: Session, licence_id) -> Licence:
    number = parse_uint("licence id", licence_id, 63)
    licence = db.get(Licence, number)
    if licence is None:
        raise NotFound(f"no licence {number} (or it is not final yet; licences appear once their block is final)")
    return licence


def list_licences(db: Session, filters: dict, *, page: int, per_page: int) -> dict:
    known = {"licensee", "registration", "seller", "page", "per_page"}
    unknown = sorted(set(filters) - known)
    if unknown:
        raise InvalidInput(f"unknown filters {unknown}; known: {sorted(known)}")
    query = select(Licence)
    for name, column, parse in (("licensee", Licence.licensee, lambda v: parse_address("licensee", v)),
                                ("seller", Licence.seller, lambda v: parse_address("seller", v)),
                                ("registration", Licence.registration_id, parse_registration_id)):
        values = [v for v in filters.get(name, []) if v]
        if len(values) > MAX_FILTER_VALUES:
            raise InvalidInput(f"at most {MAX_FILTER_VALUES} values for {name!r}, got {len(values)}")
        if values:
            query = query.where(column.in_([parse(v) for v in values]))
    rows = db.scalars(query.order_by(Licence.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    return {"licences": [licence_view(r) for r in rows], "page": page, "per_page": per_page}


def certificate(db: Session, licence: Licence, base_url: str) -> dict:
    """What a licence certificate shows: the image, the terms, the parties, the proof on-chain."""
    registration = db.get(Registration, licence.registration_id)
    image = db.scalars(select(Image).where(Image.sha256 == licence.registration_id,
                                           Image.owner == licence.seller)).first()
    return {
        "licence": licence_view(licence),
        "image": {
            "registration_id": licence.registration_id,
            "title": image.title if image else None,
            "cid": registration.cid if registration else None,
            "registered_at": registration.registered_at if registration else None,
            "owner": registration.owner if registration else None,
        },
        "verify_url": f"{base_url.rstrip('/')}/verify/licence/{licence.id}",
        "valid": not licence.revoked and licence.status != "refunded",
    }


def check_licence(db: Session, market: LicenseMarket, registration, domain, licensee=None, at=None) -> dict:
    """Whether someone holds a licence for `registration` covering `domain` at `at` (default: now),
    answered by the market's `is_licensed` for every licensee the indexed licences name."""
    if not registration or not domain:
        raise InvalidInput("give 'registration' (the registration id) and 'domain' (a host name or URL)")
    reg_id = parse_registration_id(registration)
    try:
        host = normalise_domain(str(domain))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    hashed = domain_hash(host)
    when = market.w3.eth.get_block("latest")["timestamp"] if at in (None, "") else parse_uint("at", at, 64)
    if licensee:
        candidates = [parse_address("licensee", licensee)]
    else:
        licences = db.scalars(select(Licence).where(Licence.registration_id == reg_id)).all()
        candidates = sorted({lic.licensee for lic in licences if "0x" + hashed.hex() in lic.domains})
    holders = [who for who in candidates if market.is_licensed(int(reg_id, 16), who, hashed, when)]
    return {"registration_id": reg_id, "domain": host, "at": str(when), "licensed": bool(holders),
            "licensees": holders}


# -- transactions to send ---------------------------------------------------------------------
def _transaction(contract, sender: str, to: str, data: str, value: int = 0) -> dict:
    return {"from": sender, "to": to, "data": data, "value": str(value), "chainId": contract.w3.eth.chain_id}


def _simulate(call, sender: str, value: int = 0) -> None:
    """Run the call as `sender` would send it: a refusal is reported before anyone pays gas."""
    try:
        call.call({"from": sender, "value": value})
    except (ContractLogicError, ContractCustomError) as exc:
        raise ChainRejected(f"the market would refuse this: {_plain(revert_reason(exc))}") from None


def _plain(reason: str) -> str:
    return reason.removeprefix("market: ")


def buy_transactions(db: Session, market: LicenseMarket, offer: Offer, buyer, domains, now: int) -> dict:
    """The transactions a buyer sends to buy from `offer`: an ERC-20 `approve` first for a CPY offer
    whose allowance is short, then `buy` (ETH offers send the price as value)."""
    buyer = parse_address("buyer", buyer)
    if not is_live(db, offer, now):
        raise InvalidInput(f"offer {offer.hash} is no longer in the book (expired, cancelled, sold out, "
                           "or the registration changed hands)")
    domains = domains or []
    if not isinstance(domains, list) or len(domains) > MAX_DOMAINS:
        raise InvalidInput(f"'domains' must be a list of at most {MAX_DOMAINS} domain names")
    if offer.message["domains"] and domains:
        raise InvalidInput("this offer names its domains already; buy it without 'domains'")
    if not offer.message["domains"] and not domains:
        raise InvalidInput("this offer leaves the domains to the buyer: name at least one in 'domains'")
    try:
        hashes = [domain_hash(str(d)) for d in domains]
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    message = signable({"message": offer.message})["message"]
    offer_tuple = as_tuple(OFFER_FIELDS, message)
    signature = bytes.fromhex(offer.signature[2:])
    buy = market.contract.functions.buy(offer_tuple, signature, hashes)
    price = int(offer.price)
    transactions = []
    if offer.currency == ETH:
        balance = market.w3.eth.get_balance(buyer)
        if balance < price:
            raise InvalidInput(f"{buyer} holds {Web3.from_wei(balance, 'ether')} ETH, less than the price of "
                               f"{Web3.from_wei(price, 'ether')} ETH")
        _simulate(buy, buyer, price)
        value = price
    else:
        token = market.w3.eth.contract(address=offer.currency, abi=artifacts.abi("CPYToken"))
        value = 0
        if token.functions.balanceOf(buyer).call() < price:
            raise InvalidInput(f"{buyer} holds less CPY than the price ({price} base units)")
        if token.functions.allowance(buyer, market.address).call() < price:
            approve = token.encode_abi("approve", args=[market.address, price])
            transactions.append({"step": "approve", **_transaction(market, buyer, offer.currency, approve)})
        else:
            _simulate(buy, buyer)
    transactions.append({"step": "buy", **_transaction(market, buyer, market.address,
                                                         market.contract.encode_abi("buy", args=[offer_tuple, signature, hashes]), value)})
    return {"offer_hash": offer.hash, "transactions": transactions}


def dispute_transaction(market: LicenseMarket, licence: Licence, buyer, reason) -> dict:
    buyer = parse_address("buyer", buyer)
    if buyer != licence.licensee:
        raise Forbidden(f"only the licensee {licence.licensee} can dispute licence {licence.id}")
    if not isinstance(reason, str) or not reason.strip() or len(reason.encode()) > MAX_REASON_CHARS:
        raise InvalidInput(f"give a 'reason' for the arbiter (1 to {MAX_REASON_CHARS} bytes)")
    args = [licence.id, escrow_terms(market, licence), reason]
    _simulate(market.contract.functions.dispute(*args), buyer)
    return {"transactions": [{"step": "dispute", **_transaction(
        market, buyer, market.address, market.contract.encode_abi("dispute", args=args))}]}


def release_transaction(market: LicenseMarket, licence: Licence, sender) -> dict:
    sender = parse_address("sender", sender)
    args = [licence.id, escrow_terms(market, licence)]
    _simulate(market.contract.functions.release(*args), sender)
    return {"transactions": [{"step": "release", **_transaction(
        market, sender, market.address, market.contract.encode_abi("release", args=args))}]}


def escrow_terms(market: LicenseMarket, licence: Licence) -> tuple:
    """The `Terms` the market checks before an escrow moves (it keeps only their hash): licensee,
    seller, currency, price and the hash of the block before the purchase's, all from the indexed
    purchase event. A licence indexed before that hash was in the event (migration 0020) takes
    its block's `parentHash`, the same on Ethereum and OP chains (not on Arbitrum or Scroll)."""
    if licence.previous_block_hash:
        previous = bytes.fromhex(licence.previous_block_hash.removeprefix("0x"))
    else:
        previous = bytes(market.w3.eth.get_block(licence.block_number)["parentHash"])
    return (licence.licensee, licence.seller, licence.currency, int(licence.price), previous)


def withdraw_transaction(contract, account, asset) -> dict:
    """The `withdraw` transaction of everything `contract` (the licence market or the settlement
    escrow: both credit, and both pay out only to whom they credited) owes `account` in `asset`."""
    account = parse_address("account", account)
    asset_address = ETH if asset in (None, "", "ETH") else (
        contract.contract.functions.CPY().call() if asset == "CPY" else parse_address("asset", asset))
    credit = contract.credit(account, asset_address)
    where = "the market" if isinstance(contract, LicenseMarket) else "the settlement escrow"
    if credit == 0:
        raise InvalidInput(f"{account} has nothing to withdraw in {asset or 'ETH'} from {where}")
    return {"credit": str(credit), "transactions": [{"step": "withdraw", **_transaction(
        contract, account, contract.address, contract.contract.encode_abi("withdraw", args=[asset_address]))}]}


def credits(market: LicenseMarket, escrow, account) -> dict:
    """What `account` can withdraw now, per contract and asset, in the asset's smallest unit as
    decimal strings: the market (sales released, refunds) and the settlement escrow (shares of
    case payments, overpayments returned)."""
    account = parse_address("account", account)
    cpy = market.contract.functions.CPY().call()
    return {"account": account, **{
        name: {"ETH": str(contract.credit(account, ETH)), "CPY": str(contract.credit(account, cpy))}
        for name, contract in (("market", market), ("settlement", escrow))}}


def cancel_transaction(market: LicenseMarket, offer: Offer, seller) -> dict:
    seller = parse_address("seller", seller)
    if seller != offer.seller:
        raise Forbidden(f"only the seller {offer.seller} can cancel offer {offer.hash}")
    message = signable({"message": offer.message})["message"]
    data = market.contract.encode_abi("cancel_offer", args=[as_tuple(OFFER_FIELDS, message)])
    return {"transactions": [{"step": "cancel_offer", **_transaction(market, seller, market.address, data)}]}
