"""LicenseMarket against hostile contracts: re-entering buyer and seller, a seller that rejects ETH."""

import ape
import pytest
from market_signing import offer_args, terms_of

from backend.marketplace.typed_data import ETH, domain_hash

pytestmark = pytest.mark.usefixtures("fast_reverts")

DAY = 86_400
PRICE = 10**18
FEE = PRICE * 500 // 10_000
# An undisputed escrow may be released after the dispute window and the arbiter's grace period.
RELEASABLE = 7 * DAY + 3 * DAY


def contract_offer(market, market_offer, seller_contract, **fields):
    """An offer whose seller is a contract; it 'signs' by approving the digest (ERC-1271)."""
    typed, _ = market_offer(market, seller=seller_contract.address, sign=False, **fields)
    return typed


@pytest.fixture
def honest_sale(chain, market, market_offer, stranger, seller):
    """Another seller's released sale, so the market holds money that is not the attacker's."""
    typed, signature = market_offer(market)
    licence_id = market.buy(offer_args(typed), signature, [domain_hash("x.org")], sender=stranger, value=PRICE).return_value
    chain.pending_timestamp += RELEASABLE
    market.release(licence_id, terms_of(market, licence_id), sender=stranger)
    return market.credit(seller, ETH)


def test_reentrant_buyer__refund_withdrawal__pays_once_and_reentry_fails(chain, project, market, market_offer, buyer, arbiter, honest_sale):
    attacker = buyer.deploy(project.ReentrantAccount)
    typed, signature = market_offer(market)
    buy_data = market.buy.encode_input(offer_args(typed), signature, [domain_hash("evil.example")])
    attacker.execute(market, buy_data, PRICE, sender=buyer, value=PRICE)
    licence_id = market.licence_count()
    assert terms_of(market, licence_id)[0] == attacker
    attacker.execute(market, market.dispute.encode_input(licence_id, terms_of(market, licence_id), "refund me"), 0, sender=buyer)
    market.resolve(licence_id, terms_of(market, licence_id), True, sender=arbiter)

    withdraw_data = market.withdraw.encode_input(ETH)
    attacker.set_reentry(market, withdraw_data, sender=buyer)
    attacker.execute(market, withdraw_data, 0, sender=buyer)

    assert attacker.reentries_tried() == 1
    assert attacker.reentries_succeeded() == 0
    assert chain.provider.get_balance(attacker.address) == PRICE
    assert market.credit(attacker, ETH) == 0
    assert chain.provider.get_balance(market.address) == honest_sale + FEE


def test_reentrant_buyer__reentering_buy_during_withdrawal__fails(chain, project, market, market_offer, buyer, arbiter):
    attacker = buyer.deploy(project.ReentrantAccount)
    typed, signature = market_offer(market, max_sales=5)
    buy_data = market.buy.encode_input(offer_args(typed), signature, [domain_hash("evil.example")])
    attacker.execute(market, buy_data, PRICE, sender=buyer, value=PRICE)
    attacker.execute(market, market.dispute.encode_input(1, terms_of(market, 1), "refund me"), 0, sender=buyer)
    market.resolve(1, terms_of(market, 1), True, sender=arbiter)
    attacker.set_reentry(market, buy_data, sender=buyer)
    attacker.execute(market, market.withdraw.encode_input(ETH), 0, sender=buyer)
    assert attacker.reentries_succeeded() == 0
    assert market.licence_count() == 1


def test_reentrant_seller__withdrawal__pays_once_and_reentry_fails(chain, project, market, market_offer, mock_register, market_registration_id, seller, buyer, treasury):
    seller_contract = seller.deploy(project.ReentrantAccount)
    mock_register.set_owner(market_registration_id, seller_contract, sender=seller)
    typed = contract_offer(market, market_offer, seller_contract)
    seller_contract.approve_hash(market.offer_hash(offer_args(typed)), sender=seller)
    market.buy(offer_args(typed), b"", [domain_hash("a.com")], sender=buyer, value=PRICE)
    chain.pending_timestamp += RELEASABLE
    market.release(1, terms_of(market, 1), sender=buyer)

    withdraw_data = market.withdraw.encode_input(ETH)
    seller_contract.set_reentry(market, withdraw_data, sender=seller)
    seller_contract.execute(market, withdraw_data, 0, sender=seller)

    assert seller_contract.reentries_tried() == 1 and seller_contract.reentries_succeeded() == 0
    assert chain.provider.get_balance(seller_contract.address) == PRICE - FEE
    market.withdraw(ETH, sender=treasury)
    assert chain.provider.get_balance(market.address) == 0


def test_contract_seller__digest_not_approved__reverts(project, market, market_offer, mock_register, market_registration_id, seller, buyer):
    seller_contract = seller.deploy(project.ReentrantAccount)
    mock_register.set_owner(market_registration_id, seller_contract, sender=seller)
    typed = contract_offer(market, market_offer, seller_contract)
    with ape.reverts("market: invalid offer signature"):
        market.buy(offer_args(typed), b"", [domain_hash("a.com")], sender=buyer, value=PRICE)


def test_eth_rejecting_seller__its_funds_stay_withdrawable_and_nobody_else_is_stuck(chain, project, market, market_offer, mock_register, market_registration_id, seller, buyer, treasury, honest_sale):
    rejecter = seller.deploy(project.EthRejectingSeller)
    mock_register.set_owner(market_registration_id, rejecter, sender=seller)
    typed = contract_offer(market, market_offer, rejecter, expiry=chain.pending_timestamp + DAY)
    rejecter.approve_hash(market.offer_hash(offer_args(typed)), sender=seller)
    market.buy(offer_args(typed), b"", [domain_hash("a.com")], sender=buyer, value=PRICE)
    licence_id = market.licence_count()
    chain.pending_timestamp += RELEASABLE
    market.release(licence_id, terms_of(market, licence_id), sender=buyer)

    with ape.reverts("market: ETH transfer failed"):
        rejecter.execute(market, market.withdraw.encode_input(ETH), sender=seller)
    assert market.credit(rejecter, ETH) == PRICE - FEE

    market.withdraw(ETH, sender=treasury)
    market.withdraw(ETH, sender=seller)
    assert market.credit(treasury, ETH) == 0 and market.credit(seller, ETH) == 0
    assert chain.provider.get_balance(market.address) == PRICE - FEE
