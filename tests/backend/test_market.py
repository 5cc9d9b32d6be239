"""The offer book and licences on a real anvil chain: rights-holders publish signed offers, buyers
find them (also by picture), buy with the transactions the API hands out, and the indexer keeps
licences and the book in line with the chain, across reorgs. Hostile input changes nothing."""

from __future__ import annotations

import base64
import re
import zlib

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from eth_utils import keccak

from backend.chain.artifacts import contract_type
from backend.chain.client import operator, transact
from backend.marketplace import domain_hash
from backend.marketplace.license_market import MarketError
from backend.marketplace.models import Licence, Offer
from backend.marketplace.offers import SECP256K1_N, signable
from tests.backend.conftest import rpc
from tests.backend.test_images_api import upload
from tests.backend.test_registration import register_with_wallet
from tests.images import jpeg

DAY = 86_400
PRICE = 5 * 10**16  # 0.05 ETH


def advance(chain, seconds: int) -> None:
    rpc(chain.url, "evm_increaseTime", seconds)
    rpc(chain.url, "evm_mine")


def send(chain, account, tx: dict) -> dict:
    """Sign and send a transaction the API handed out, as a wallet would."""
    chain.fund(account.address, 100)
    prepared = {
        "to": tx["to"], "data": tx["data"], "value": int(tx["value"]), "chainId": tx["chainId"],
        "nonce": chain.w3.eth.get_transaction_count(account.address),
        "gas": 1_000_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9,
    }
    tx_hash = chain.w3.eth.send_raw_transaction(account.sign_transaction(prepared).raw_transaction)
    receipt = chain.w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    return receipt


def sign(account, typed: dict) -> str:
    return account.sign_message(encode_typed_data(full_message=signable(typed))).signature.to_0x_hex()


@pytest.fixture
def seller():
    return Account.create()


@pytest.fixture
def buyer():
    return Account.create()


@pytest.fixture
def registration(client, auth, chain, services, seller):
    """A registration of `seller`'s, titled and in a collection, final and out of its claim window."""
    headers = auth.headers(seller)
    client.post("/api/v1/collections", json={"name": "Alps"}, headers=headers)
    body = upload(client, headers, jpeg(71), title="Matterhorn at dawn", collection="Alps").get_json()
    assert body["image"]["collection"] == "Alps", body
    image = register_with_wallet(client, auth, chain, seller, jpeg(71))
    advance(chain, DAY + 1)
    services.indexer().poll()
    return image["sha256"]


def terms(seller, registration, chain, **overrides) -> dict:
    now = chain.w3.eth.get_block("latest")["timestamp"]
    return {"seller": seller.address, "registration_id": registration, "price": str(PRICE),
            "licence_type": "standard", "countries": ["DE", "AT"], "duration": 365 * DAY,
            "expiry": now + 30 * DAY, "max_sales": 2, **overrides}


def publish(client, chain, seller, registration, **overrides) -> str:
    draft = client.post("/api/v1/offers/draft", json=terms(seller, registration, chain, **overrides))
    assert draft.status_code == 200, draft.get_json()
    typed = draft.get_json()["typed_data"]
    answer = client.post("/api/v1/offers", json={"typed_data": typed, "signature": sign(seller, typed)})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["offer_hash"] == draft.get_json()["offer_hash"]
    return answer.get_json()["offer_hash"]


def buy(client, chain, services, buyer, offer_hash: str, domains=("shop.example",)) -> int:
    chain.fund(buyer.address, 100)
    answer = client.post(f"/api/v1/offers/{offer_hash}/buy", json={"buyer": buyer.address, "domains": list(domains)})
    assert answer.status_code == 200, answer.get_json()
    (step,) = answer.get_json()["transactions"]
    assert step["step"] == "buy" and step["value"] == str(PRICE)
    send(chain, buyer, step)
    services.indexer().poll()
    with services.db.session() as db:
        return max(lic.id for lic in db.query(Licence))


def pdf_text(data: bytes) -> str:
    """The page streams of a reportlab PDF (ASCII85, then Flate), decoded."""
    pages = re.findall(rb"/Filter \[ /ASCII85Decode /FlateDecode \] /Length \d+\s*>>\s*stream\r?\n(.*?)endstream",
                       data, re.S)
    return "".join(zlib.decompress(base64.a85decode(p.strip(), adobe=True)).decode("latin-1") for p in pages)


def book(client, **filters) -> list[str]:
    answer = client.get("/api/v1/offers", query_string=filters)
    assert answer.status_code == 200, answer.get_json()
    return [o["hash"] for o in answer.get_json()["offers"]]


def test_offer__published_found_by_filters_text_and_picture(client, chain, services, seller, registration):
    offer_hash = publish(client, chain, seller, registration)
    assert book(client) == [offer_hash]
    assert book(client, q="matterhorn") == [offer_hash]
    assert book(client, collection="Alps", territory="AT", currency="ETH", licence_type="standard") == [offer_hash]
    assert book(client, min_price=str(PRICE), max_price=str(PRICE)) == [offer_hash]
    assert book(client, q="eiffel") == []
    assert book(client, territory="FR") == []
    assert book(client, max_price=str(PRICE - 1)) == []
    assert book(client, currency="CPY") == []
    per_image = client.get(f"/api/v1/images/{registration}/offers").get_json()
    assert [o["hash"] for o in per_image["offers"]] == [offer_hash]
    offer = per_image["offers"][0]
    assert offer["price"] == str(PRICE) and offer["countries"] == ["DE", "AT"] and offer["title"] == "Matterhorn at dawn"
    # Each offer names the image's CID, so a page can show the picture it licenses without another request.
    cid = client.get(f"/api/v1/registrations/{registration}").get_json()["cid"]
    assert offer["cid"] == cid and client.get(f"/api/v1/offers/{offer_hash}").get_json()["cid"] == cid
    # Searching by picture: a re-encoded copy finds the registration and its offers in one request.
    copy = jpeg(71, quality=60)
    found = client.post("/api/v1/lookup", data={"file": (__import__("io").BytesIO(copy), "copy.jpg")},
                        content_type="multipart/form-data").get_json()
    assert [(o["hash"], o["cid"]) for o in found["matches"][0]["offers"]] == [(offer_hash, cid)]


def test_buy__licence_indexed_checked_on_chain_and_certified(client, chain, services, seller, buyer, registration):
    offer_hash = publish(client, chain, seller, registration)
    licence_id = buy(client, chain, services, buyer, offer_hash)
    licence = client.get(f"/api/v1/licences/{licence_id}").get_json()
    assert licence["licensee"] == buyer.address and licence["seller"] == seller.address
    assert licence["escrow"]["status"] == "held" and licence["price"] == str(PRICE)
    assert [lic["id"] for lic in client.get("/api/v1/licences", query_string={"licensee": buyer.address})
            .get_json()["licences"]] == [licence_id]
    check = client.get("/api/v1/licences/check", query_string={"registration": registration,
                                                                 "domain": "https://Shop.Example/page"}).get_json()
    assert check["licensed"] is True and check["licensees"] == [buyer.address] and check["domain"] == "shop.example"
    other = client.get("/api/v1/licences/check", query_string={"registration": registration, "domain": "other.example"})
    assert other.get_json()["licensed"] is False
    certificate = client.get(f"/api/v1/licences/{licence_id}/certificate").get_json()
    assert certificate["image"]["title"] == "Matterhorn at dawn" and certificate["valid"] is True
    assert certificate["verify_url"].endswith(f"/verify/licence/{licence_id}")
    pdf = client.get(f"/api/v1/licences/{licence_id}/certificate?format=pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert b"/Subtype /Image" in pdf.data  # the registered picture, from the IPFS store
    text = pdf_text(pdf.data)
    assert buyer.address in text and f"/verify/licence/{licence_id}" in text and "Matterhorn at dawn" in text
    # max_sales 2: one sold, still in the book; the second sale takes it out.
    assert book(client) == [offer_hash]
    buy(client, chain, services, Account.create(), offer_hash)
    assert book(client) == []


def test_dispute_within_the_window__then_release_after_arbitration(client, chain, services, seller, buyer, registration):
    licence_id = buy(client, chain, services, buyer, publish(client, chain, seller, registration))
    early = client.post(f"/api/v1/licences/{licence_id}/release", json={"sender": seller.address})
    assert early.status_code == 422 and "dispute window still open" in early.get_json()["error"]["message"]
    stranger = client.post(f"/api/v1/licences/{licence_id}/dispute", json={"buyer": seller.address, "reason": "x"})
    assert stranger.status_code == 403
    answer = client.post(f"/api/v1/licences/{licence_id}/dispute",
                         json={"buyer": buyer.address, "reason": "the seller is not the author"})
    assert answer.status_code == 200, answer.get_json()
    send(chain, buyer, answer.get_json()["transactions"][0])
    services.indexer().poll()
    licence = client.get(f"/api/v1/licences/{licence_id}").get_json()
    assert licence["escrow"]["status"] == "disputed"
    assert licence["escrow"]["dispute_reason"] == "the seller is not the author"
    advance(chain, 31 * DAY)
    release = client.post(f"/api/v1/licences/{licence_id}/release", json={"sender": buyer.address})
    assert release.status_code == 200, release.get_json()
    send(chain, buyer, release.get_json()["transactions"][0])
    services.indexer().poll()
    assert client.get(f"/api/v1/licences/{licence_id}").get_json()["escrow"]["status"] == "released"
    withdraw = client.post("/api/v1/market/withdraw", json={"account": seller.address})
    assert withdraw.status_code == 200 and int(withdraw.get_json()["credit"]) > 0
    send(chain, seller, withdraw.get_json()["transactions"][0])
    assert client.post("/api/v1/market/withdraw", json={"account": seller.address}).status_code == 400


def test_escrow_terms__take_the_block_hash_from_the_purchase_event(client, chain, services, seller, buyer, registration):
    """On Arbitrum or Scroll `blockhash(block.number - 1)` is not the block's parentHash: the
    escrow's terms must take the hash the purchase event carried, not the header's."""
    licence_id = buy(client, chain, services, buyer, publish(client, chain, seller, registration))
    with services.db.session() as db:
        licence = db.get(Licence, licence_id)
        purchase_block = chain.w3.eth.get_block(licence.block_number)
        assert licence.previous_block_hash == purchase_block["parentHash"].to_0x_hex()  # anvil: the two agree
        licence.previous_block_hash = "0x" + "11" * 32  # a hash the contract did not use
    dispute = {"buyer": buyer.address, "reason": "not the author"}
    refused = client.post(f"/api/v1/licences/{licence_id}/dispute", json=dispute)
    assert refused.status_code == 422
    assert "terms differ from the licence's purchase" in refused.get_json()["error"]["message"]
    with services.db.session() as db:  # indexed before migration 0020: the header's parentHash
        db.get(Licence, licence_id).previous_block_hash = None
    answer = client.post(f"/api/v1/licences/{licence_id}/dispute", json=dispute)
    assert answer.status_code == 200, answer.get_json()
    send(chain, buyer, answer.get_json()["transactions"][0])
    services.indexer().poll()
    assert client.get(f"/api/v1/licences/{licence_id}").get_json()["escrow"]["status"] == "disputed"


def test_arbiter_freeze__indexed_as_frozen_with_its_reason_and_deadline(client, chain, services, seller, buyer, registration):
    licence_id = buy(client, chain, services, buyer, publish(client, chain, seller, registration))
    market = services.market()
    receipt = transact(chain.w3, operator(services.settings.deployer_key),
                       market.contract.functions.freeze(licence_id, "a report: the seller copied it"))
    services.indexer().poll()
    escrow = client.get(f"/api/v1/licences/{licence_id}").get_json()["escrow"]
    deadline = chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"] + 30 * DAY
    assert (escrow["status"], escrow["dispute_reason"], escrow["release_at"]) == (
        "frozen", "a report: the seller copied it", str(deadline))
    # the buyer may no longer dispute: the API says so before anyone pays gas
    late = client.post(f"/api/v1/licences/{licence_id}/dispute", json={"buyer": buyer.address, "reason": "me too"})
    assert late.status_code == 422 and "escrow is not held" in late.get_json()["error"]["message"]


def test_offers_leave_the_book_on_cancel_counter_and_transfer(client, chain, services, seller, registration):
    cancelled = publish(client, chain, seller, registration, price="1")
    kept = publish(client, chain, seller, registration, price="2")
    stranger = client.post(f"/api/v1/offers/{cancelled}/cancel", json={"seller": Account.create().address})
    assert stranger.status_code == 403
    send(chain, seller, client.post(f"/api/v1/offers/{cancelled}/cancel", json={"seller": seller.address})
         .get_json()["transactions"][0])
    services.indexer().poll()
    assert book(client) == [kept]
    market = services.market()
    send(chain, seller, {"to": market.address, "data": market.contract.encode_abi("increment_counter"),
                         "value": "0", "chainId": 31337})
    services.indexer().poll()
    assert book(client) == []
    # A new offer with the new counter is in the book until the registration changes hands.
    publish(client, chain, seller, registration, price="3")
    assert len(book(client)) == 1
    register = services.register()
    data = register.contract.encode_abi("transfer", args=[int(registration, 16), Account.create().address])
    send(chain, seller, {"to": register.address, "data": data, "value": "0", "chainId": 31337})
    services.indexer().poll()
    assert book(client) == []


def test_expired_offer__leaves_the_book(client, chain, services, seller, registration):
    now = chain.w3.eth.get_block("latest")["timestamp"]
    publish(client, chain, seller, registration, expiry=now + 100)
    assert len(book(client)) == 1
    advance(chain, 200)
    assert book(client) == []


def test_reorg__licence_disappears_and_the_offer_returns(client, chain, services, seller, buyer, registration):
    offer_hash = publish(client, chain, seller, registration, max_sales=1)
    before = chain.snapshot()
    licence_id = buy(client, chain, services, buyer, offer_hash)
    assert book(client) == []
    chain.revert(before)
    chain.mine(3)
    result = services.indexer().poll()
    assert result.rolled_back_to is not None
    assert client.get(f"/api/v1/licences/{licence_id}").status_code == 404
    assert book(client) == [offer_hash]
    # Bought again on the new branch: indexed once, not twice.
    again = buy(client, chain, services, buyer, offer_hash)
    with services.db.session() as db:
        assert db.query(Licence).count() == 1 and again == licence_id


# -- hostile input: a clear 4xx, and nothing stored -----------------------------------------------
def offers_stored(services) -> int:
    with services.db.session() as db:
        return db.query(Offer).count()


def test_submit__someone_elses_registration__403(client, chain, services, seller, registration):
    thief = Account.create()
    draft = client.post("/api/v1/offers/draft", json=terms(thief, registration, chain))
    assert draft.status_code == 403 and "does not own" in draft.get_json()["error"]["message"]
    typed = client.post("/api/v1/offers/draft", json=terms(seller, registration, chain)).get_json()["typed_data"]
    typed["message"]["seller"] = thief.address
    answer = client.post("/api/v1/offers", json={"typed_data": typed, "signature": sign(thief, typed)})
    assert answer.status_code == 403
    assert offers_stored(services) == 0


TAMPERED = [
    (lambda t, s: (t, "0x" + "00" * 65), 400, "signature"),
    (lambda t, s: (t, "0x1234"), 400, "65 bytes, or 64 in the compact form"),
    (lambda t, s: (t, "0x12345"), 400, "65 bytes, or 64 compact"),
    (lambda t, s: ({**t, "message": {**t["message"], "price": "1"}}, s), 403, "not by the offer's seller"),
    (lambda t, s: ({**t, "message": {**t["message"], "territory": "0x" + "de".encode().hex() + "00" * 30}}, s),
     400, "territory"),
    (lambda t, s: ({**t, "message": {**t["message"], "counter": "7"}}, s), 403, "not by the offer's seller"),
    (lambda t, s: ({**t, "domain": {**t["domain"], "chainId": 1}}, s), 400, "not for this market"),
    (lambda t, s: ({**t, "message": {**t["message"], "price": -1}}, s), 400, "non-negative"),
    (lambda t, s: ({**t, "message": {**t["message"], "max_fee_bps": 2001}}, s), 400, "max_fee_bps"),
    (lambda t, s: ({"message": "x"}, s), 400, "typed_data"),
    (lambda t, s: ({**t, "message": {k: v for k, v in t["message"].items() if k != "salt"}}, s), 400, "lacks"),
]


def test_submit__tampered_offers__clear_4xx_and_nothing_stored(client, chain, services, seller, registration):
    typed = client.post("/api/v1/offers/draft", json=terms(seller, registration, chain)).get_json()["typed_data"]
    for tamper, status, words in TAMPERED:
        bad_typed, signature = tamper(typed, sign(seller, typed))
        answer = client.post("/api/v1/offers", json={"typed_data": bad_typed, "signature": signature})
        assert answer.status_code == status, (words, answer.get_json())
        assert words in answer.get_json()["error"]["message"], (words, answer.get_json())
    assert offers_stored(services) == 0


def _variant(signature: str, kind: str) -> str:
    """Another encoding of a 65-byte signature: v as 0/1 or as EIP-155 (v + 8 + 2 * chain id),
    the malleable high-s twin, or the 64-byte compact form (EIP-2098)."""
    raw = bytes.fromhex(signature[2:])
    r, s, v = raw[:32], int.from_bytes(raw[32:64], "big"), raw[64]
    if kind == "v01":
        return "0x" + (raw[:64] + bytes([v - 27])).hex()
    if kind == "v155":
        return "0x" + (raw[:64] + bytes([(v - 27 + 35 + 2 * 31337) % 256])).hex()
    if kind == "high_s":
        return "0x" + (r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])).hex()
    assert kind == "compact"
    return "0x" + (r + ((v - 27) << 255 | s).to_bytes(32, "big")).hex()


@pytest.mark.parametrize("kind, words", [
    ("v01", "v (its last byte) must be 27 or 28"),
    ("v155", "v (its last byte) must be 27 or 28"),
    ("high_s", "the signature is malleable"),
])
def test_submit__signatures_the_contract_refuses__400_with_the_reason(client, chain, services, seller, registration, kind, words):
    typed = client.post("/api/v1/offers/draft", json=terms(seller, registration, chain)).get_json()["typed_data"]
    variant = _variant(sign(seller, typed), kind)
    answer = client.post("/api/v1/offers", json={"typed_data": typed, "signature": variant})
    assert answer.status_code == 400 and words in answer.get_json()["error"]["message"], answer.get_json()
    assert offers_stored(services) == 0
    # and the contract refuses it too: the book and `buy` agree
    market = services.market()
    chain.fund(seller.address)
    with pytest.raises(MarketError, match="invalid offer signature"):
        market.buy(signable(typed), bytes.fromhex(variant[2:]), seller.address, [domain_hash("shop.example")])


def test_submit__compact_signature__kept_in_the_65_byte_form_and_bought_on_chain(client, chain, services, seller, buyer, registration):
    typed = client.post("/api/v1/offers/draft", json=terms(seller, registration, chain)).get_json()["typed_data"]
    signature = sign(seller, typed)
    answer = client.post("/api/v1/offers", json={"typed_data": typed, "signature": _variant(signature, "compact")})
    assert answer.status_code == 201, answer.get_json()
    with services.db.session() as db:
        assert db.get(Offer, answer.get_json()["offer_hash"]).signature == signature.lower()
    assert buy(client, chain, services, buyer, answer.get_json()["offer_hash"]) >= 1


def test_submit__a_stored_signature_the_contract_refuses__replaced_by_a_good_one(client, chain, services, seller, buyer, registration):
    typed = client.post("/api/v1/offers/draft", json=terms(seller, registration, chain)).get_json()["typed_data"]
    signature = sign(seller, typed)
    offer_hash = client.post("/api/v1/offers", json={"typed_data": typed, "signature": signature}).get_json()["offer_hash"]
    with services.db.session() as db:  # as a version without these rules could have stored it
        db.get(Offer, offer_hash).signature = _variant(signature, "high_s")
    again = client.post("/api/v1/offers", json={"typed_data": typed, "signature": signature})
    assert again.status_code == 200 and again.get_json()["offer_hash"] == offer_hash
    with services.db.session() as db:
        assert db.get(Offer, offer_hash).signature == signature.lower()
    assert buy(client, chain, services, buyer, offer_hash) >= 1


def test_submit__seller_with_code__the_book_asks_its_erc1271_as_the_contract_does(client, chain, services, seller, buyer, registration):
    """A seller account with code (an EIP-7702 delegation, here set with anvil): a signature that
    is not by its key is accepted when its `isValidSignature` approves the offer's digest, as
    `buy` accepts it; one it does not approve is refused by both."""
    runtime = contract_type("EthRejectingSeller")["runtimeBytecode"]["bytecode"]
    rpc(chain.url, "anvil_setCode", seller.address, runtime)
    typed = client.post("/api/v1/offers/draft", json=terms(seller, registration, chain)).get_json()["typed_data"]
    not_the_key = sign(Account.create(), typed)
    refused = client.post("/api/v1/offers", json={"typed_data": typed, "signature": not_the_key})
    assert refused.status_code == 403 and "isValidSignature (ERC-1271) does not approve" in refused.get_json()["error"]["message"]
    digest = services.market().offer_hash(signable(typed))
    # approved_hash[digest] = True, in the contract's storage (Vyper: slot 1, keyed by keccak256(slot . key))
    slot = int.from_bytes(keccak((1).to_bytes(32, "big") + digest), "big")
    rpc(chain.url, "anvil_setStorageAt", seller.address, hex(slot), "0x" + "00" * 31 + "01")
    accepted = client.post("/api/v1/offers", json={"typed_data": typed, "signature": not_the_key})
    assert accepted.status_code == 201, accepted.get_json()
    assert buy(client, chain, services, buyer, accepted.get_json()["offer_hash"]) >= 1


def test_submit__rules_the_contract_enforces__checked_before_storing(client, chain, services, seller, registration):
    now = chain.w3.eth.get_block("latest")["timestamp"]
    expired = client.post("/api/v1/offers/draft", json=terms(seller, registration, chain, expiry=now - 1))
    assert expired.status_code == 400 and "expired" in expired.get_json()["error"]["message"]
    low_fee = client.post("/api/v1/offers/draft", json=terms(seller, registration, chain, max_fee_bps=1))
    assert low_fee.status_code == 400 and "platform fee" in low_fee.get_json()["error"]["message"]
    currency = client.post("/api/v1/offers/draft", json=terms(seller, registration, chain, currency=seller.address))
    assert currency.status_code == 400 and "is neither ETH" in currency.get_json()["error"]["message"]
    bad_country = client.post("/api/v1/offers/draft", json=terms(seller, registration, chain, countries=["Germany"]))
    assert bad_country.status_code == 400 and "alpha-2" in bad_country.get_json()["error"]["message"]
    assert offers_stored(services) == 0


def test_submit__registration_in_its_claim_window__refused(client, auth, chain, services):
    fresh = Account.create()
    image = register_with_wallet(client, auth, chain, fresh, jpeg(72))
    services.indexer().poll()
    answer = client.post("/api/v1/offers/draft", json=terms(fresh, image["sha256"], chain))
    assert answer.status_code == 400 and "claim window" in answer.get_json()["error"]["message"]


def test_search__huge_or_malformed_filters__clear_400(client, chain, services):
    too_many = [("owner", Account.create().address) for _ in range(51)]
    answer = client.get("/api/v1/offers?" + "&".join(f"{k}={v}" for k, v in too_many))
    assert answer.status_code == 400 and "at most 50" in answer.get_json()["error"]["message"]
    for query, words in ({"q": "x" * 201}, "200 characters"), ({"per_page": 1000}, "per_page"), \
            ({"territory": "Germany"}, "alpha-2"), ({"min_price": "-5"}, "non-negative"), \
            ({"sort": "random"}, "unknown sort"), ({"colour": "red"}, "unknown filters"), \
            ({"registration": "0x12"}, "registration_id"):
        answer = client.get("/api/v1/offers", query_string=query)
        assert answer.status_code == 400, (query, answer.get_json())
        assert words in answer.get_json()["error"]["message"], (query, answer.get_json())


def test_buy__refusals_reported_before_paying(client, chain, services, seller, buyer, registration):
    poor = client.post(f"/api/v1/offers/{publish(client, chain, seller, registration, price='9')}/buy",
                       json={"buyer": buyer.address, "domains": ["a.example"]})
    assert poor.status_code == 400 and "less than the price" in poor.get_json()["error"]["message"]
    chain.fund(buyer.address, 100)
    offer_hash = publish(client, chain, seller, registration, domains=["shop.example"])
    named = client.post(f"/api/v1/offers/{offer_hash}/buy", json={"buyer": buyer.address, "domains": ["x.example"]})
    assert named.status_code == 400 and "names its domains" in named.get_json()["error"]["message"]
    reserved = publish(client, chain, seller, registration, buyer=Account.create().address, price="3")
    answer = client.post(f"/api/v1/offers/{reserved}/buy", json={"buyer": buyer.address, "domains": ["a.example"]})
    assert answer.status_code == 422 and "reserved for another buyer" in answer.get_json()["error"]["message"]
    unknown = client.post("/api/v1/offers/0x" + "ab" * 32 + "/buy", json={"buyer": buyer.address})
    assert unknown.status_code == 404
    assert client.get("/api/v1/licences/99").status_code == 404
    assert client.get("/api/v1/licences/abc").status_code == 400
    assert client.get("/api/v1/licences/check", query_string={"registration": registration}).status_code == 400
    bad_domain = client.get("/api/v1/licences/check", query_string={"registration": registration, "domain": "a b"})
    assert bad_domain.status_code == 400 and "not a domain name" in bad_domain.get_json()["error"]["message"]
    assert client.get("/api/v1/licences", query_string={"licensee": "nobody"}).status_code == 400
    too_many = "&".join(f"seller={Account.create().address}" for _ in range(51))
    assert client.get("/api/v1/licences?" + too_many).status_code == 400
    assert client.get("/api/v1/licences/1/certificate").status_code == 404
    assert client.post("/api/v1/market/withdraw", json={"account": "0x12"}).status_code == 400
    assert client.post(f"/api/v1/offers/{offer_hash}/buy", data="not json").status_code == 400


# -- the settlement escrow's events, for enforcement ----------------------------------------------
def test_settlement_events__mandates_cases_payments_steps_indexed_and_rolled_back(chain, services, seller, registration):
    from backend.marketplace import SettlementEscrow
    from backend.marketplace.models import CasePayment, CaseStep, EscrowCase, Mandate

    deployer = chain.w3.eth.accounts[0]  # anvil's unlocked account 0 deployed the escrow: case manager
    escrow = SettlementEscrow(chain.w3, services.deployment().address("SettlementEscrow"))
    now = chain.w3.eth.get_block("latest")["timestamp"]
    typed = escrow.mandate_typed_data(seller.address, now + 365 * DAY, int(registration, 16))
    escrow.submit_mandate(typed, bytes.fromhex(sign(seller, typed)[2:]), deployer)
    reference = b"\x01" * 32
    escrow.open_case(reference=reference, registration_id=int(registration, 16), rights_holder=seller.address,
                     amount_due=10**18, case_manager=deployer)
    before_payment = chain.snapshot()
    escrow.log_step(reference, "post_licensing_letter", deployer)
    escrow.pay(reference, 4 * 10**17, deployer)
    services.indexer().poll()
    with services.db.session() as db:
        assert [(m.owner, m.registration_id) for m in db.query(Mandate)] == [(seller.address, registration)]
        case = db.get(EscrowCase, "0x" + reference.hex())
        assert case.amount_due == str(10**18) and case.amount_paid == str(4 * 10**17)
        assert case.step == "post_licensing_letter" and case.rights_holder == seller.address
        assert [p.amount for p in db.query(CasePayment)] == [str(4 * 10**17)]
        assert [s.step for s in db.query(CaseStep)] == ["post_licensing_letter"]
    chain.revert(before_payment)
    chain.mine(3)
    assert services.indexer().poll().rolled_back_to is not None
    with services.db.session() as db:
        case = db.get(EscrowCase, "0x" + reference.hex())
        assert case.amount_paid == "0" and case.step == "opened"
        assert db.query(CasePayment).count() == 0 and db.query(CaseStep).count() == 0
        assert db.query(Mandate).count() == 1


def test_indexer__a_contract_added_later__everything_indexed_again_once(client, chain, services, seller, buyer,
                                                                        registration):
    from backend.chain.indexer import ChainIndexer

    licence_id = buy(client, chain, services, buyer, publish(client, chain, seller, registration))
    # An indexer that followed only the register (as before the market existed) ...
    full = services.indexer()
    register_only = ChainIndexer(services.db, services.w3, full.sources[:1], start_block=full.start_block,
                                 confirmations=0)
    assert register_only.poll().rolled_back_to is not None  # the followed set changed: indexed again
    # ... and then the one over every contract: the market's history is indexed, nothing twice.
    result = services.indexer().poll()
    assert result.rolled_back_to == full.start_block - 1
    assert client.get(f"/api/v1/licences/{licence_id}").status_code == 200
    assert client.get(f"/api/v1/registrations/{registration}").status_code == 200
    assert services.indexer().poll().rolled_back_to is None


def test_buy_in_cpy__approve_then_buy(client, chain, services, seller, buyer, registration):
    from tests.backend.test_sale_api import allow_list

    # The buyer gets CPY the way anyone does: from the sale, after it closed.
    allow_list(services, buyer.address)
    chain.fund(buyer.address, 100)
    send(chain, buyer, client.post("/api/v1/sale/contribute", json={"investor": buyer.address, "amount": "1"})
         .get_json()["transactions"][0])
    advance(chain, 31 * DAY)
    sale = services.sale()
    send(chain, buyer, {"to": sale.address, "data": sale.contract.encode_abi("finalize"), "value": "0", "chainId": 31337})
    send(chain, buyer, client.post("/api/v1/sale/claim", json={"investor": buyer.address}).get_json()["transactions"][0])
    offer_hash = publish(client, chain, seller, registration, price=str(10 * 10**18), currency="CPY")
    assert book(client, currency="CPY") == [offer_hash]
    answer = client.post(f"/api/v1/offers/{offer_hash}/buy", json={"buyer": buyer.address, "domains": ["shop.example"]})
    assert answer.status_code == 200, answer.get_json()
    approve, purchase = answer.get_json()["transactions"]
    assert approve["step"] == "approve" and approve["to"] == sale.token.address
    assert purchase["step"] == "buy" and purchase["value"] == "0"
    send(chain, buyer, approve)
    send(chain, buyer, purchase)
    services.indexer().poll()
    (licence,) = client.get("/api/v1/licences", query_string={"licensee": buyer.address}).get_json()["licences"]
    assert licence["currency"] == "CPY" and licence["price"] == str(10 * 10**18)
