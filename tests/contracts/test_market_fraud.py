"""LicenseMarket and SettlementEscrow against the real CopyrightRegister: no licences and no
cases during the register's claim window, and the arbiter's fraud revocation.

A copier who registers someone else's image first owns the registration until the author reveals
an earlier commitment (at most `MAX_COMMITMENT_AGE` after the copier's priority time). Licences sold
in that window would outlive the author's claim, so the market refuses them.
"""

import secrets

import ape
import pytest
from eth_utils import keccak
from market_signing import mandate_args, offer_args, terms_of
from register_support import make_register_item, register_id

from backend.marketplace.typed_data import ETH, domain_hash

pytestmark = pytest.mark.usefixtures("fast_reverts")

DAY = 86_400
PRICE = 10**18
EXCLUSIVE = 3


@pytest.fixture(scope="module")
def real_register(deploy_register):
    return deploy_register()


@pytest.fixture(scope="module")
def real_market(market_factory, real_register):
    return market_factory(register=real_register)


def buy(market, typed, signature, sender):
    return market.buy(offer_args(typed), signature, [domain_hash("example.com")], sender=sender, value=typed["message"]["price"])


def commit(register, author, item):
    salt = secrets.token_bytes(32)
    register.commit(register.commitment_of(author, item["content_hash"], salt), sender=author)
    return salt


def test_constructor__reads_the_claim_window_from_the_register(real_market, real_register):
    assert real_market.CLAIM_WINDOW() == real_register.MAX_COMMITMENT_AGE() == DAY


def test_buy__copier_sells_during_claim_window__reverts_and_author_takes_over(chain, real_register, real_market, market_offer, seller, infringer, buyer):
    author, copier = seller, infringer
    item = make_register_item()
    salt = commit(real_register, author, item)
    chain.mine(deltatime=12)
    real_register.register(item, sender=copier)
    rid = register_id(item)
    assert real_register.owner_of(rid) == copier

    # The copier tries a perpetual exclusive licence to themselves, and a plain one to a buyer.
    for licensee, fields in ((copier, dict(licence_type=EXCLUSIVE, duration=0)), (buyer, {})):
        typed, signature = market_offer(real_market, seller=copier.address, signer=copier, registration_id=rid, **fields)
        with ape.reverts("market: registration still in its claim window"):
            buy(real_market, typed, signature, licensee)
    assert real_market.licence_count() == 0

    real_register.reveal(item, salt, sender=author)
    chain.pending_timestamp += DAY
    stale, stale_signature = market_offer(real_market, seller=copier.address, signer=copier, registration_id=rid)
    with ape.reverts("market: seller does not own the registration"):
        buy(real_market, stale, stale_signature, buyer)
    typed, signature = market_offer(real_market, seller=author.address, signer=author, registration_id=rid)
    licence_id = buy(real_market, typed, signature, buyer).return_value
    assert terms_of(real_market, licence_id)[1] == author


def test_buy__claim_window_boundary__opens_exactly_max_commitment_age_after_priority(chain, real_register, real_market, market_offer, seller, buyer):
    item = make_register_item()
    registered_at = real_register.register(item, sender=seller).timestamp
    rid = register_id(item)
    typed, signature = market_offer(real_market, registration_id=rid, max_sales=2, expiry=registered_at + 2 * DAY)

    chain.pending_timestamp = registered_at + DAY - 1
    with ape.reverts("market: registration still in its claim window"):
        buy(real_market, typed, signature, buyer)
    chain.pending_timestamp = registered_at + DAY
    buy(real_market, typed, signature, buyer)


def test_revoke__fraudulent_licence_without_dispute__refunds_the_buyer(chain, real_register, real_market, market_offer, infringer, buyer, arbiter):
    copier = infringer
    item = make_register_item()
    real_register.register(item, sender=copier)
    rid = register_id(item)
    chain.pending_timestamp += DAY
    typed, signature = market_offer(real_market, seller=copier.address, signer=copier, registration_id=rid, duration=0)
    licence_id = buy(real_market, typed, signature, buyer).return_value
    starts_at = real_market.licence(licence_id).starts_at

    tx = real_market.revoke(licence_id, terms_of(real_market, licence_id), "the seller copied the image", sender=arbiter)

    revoked = tx.decode_logs(real_market.LicenceRevoked)[0]
    assert (revoked.licence_id, revoked.licensee, revoked.refunded, revoked.reason, revoked.arbiter) == (
        licence_id, buyer, PRICE, "the seller copied the image", arbiter
    )
    refunded = tx.decode_logs(real_market.Refunded)[0]
    assert (refunded.buyer, refunded.amount, refunded.refunded_by) == (buyer, PRICE, arbiter)
    assert real_market.licence(licence_id).revoked
    assert real_market.escrow(licence_id).status == real_market.REFUNDED()
    assert real_market.credit(buyer, ETH) == PRICE and real_market.credit(copier, ETH) == 0
    assert not real_market.is_licensed(rid, buyer, domain_hash("example.com"), starts_at)
    assert real_market.perpetual_licence_count(rid) == 0


def test_open_case__copier_in_claim_window__reverts_and_author_takes_over(chain, real_register, settlement_factory, settlement_mandate, seller, infringer, case_manager):
    author, copier = seller, infringer
    settlement = settlement_factory(register=real_register)
    assert settlement.CLAIM_WINDOW() == DAY
    for who in (author, copier):
        typed, signature = settlement_mandate(settlement, owner=who.address, signer=who)
        settlement.submit_mandate(mandate_args(typed), signature, sender=who)
    item = make_register_item()
    salt = commit(real_register, author, item)
    chain.mine(deltatime=12)
    real_register.register(item, sender=copier)
    rid = register_id(item)

    with ape.reverts("settlement: registration still in its claim window"):
        settlement.open_case(keccak(text="CT-1"), rid, copier, 10**18, ETH, sender=case_manager)

    real_register.reveal(item, salt, sender=author)
    chain.pending_timestamp += DAY
    with ape.reverts("settlement: rights-holder is not the registration owner"):
        settlement.open_case(keccak(text="CT-1"), rid, copier, 10**18, ETH, sender=case_manager)
    tx = settlement.open_case(keccak(text="CT-1"), rid, author, 10**18, ETH, sender=case_manager)
    assert tx.decode_logs(settlement.CaseOpened)[0].rights_holder == author
