"""Attacks on the sale: re-entrancy, contract wallets, tranche gaming, cap dodging, double spends."""

import ape
import pytest
from eth_utils import function_signature_to_4byte_selector

from backend.chain.sale_deployment import CPY, ETHER
from cpy_sale_model import ceil_div


@pytest.fixture(scope="module")
def capped_sale(deploy_sale):
    """740 CPY/ETH, no tranches, cap 100 CPY (≈0.135 ETH), limits 0.1 to 1 ETH."""
    return deploy_sale(tranche_limits=(), tranche_rates=(), hard_cap=100 * CPY, max_contribution=ETHER)


@pytest.fixture(scope="module")
def reentrant_investor(project, capped_sale, kyc_operator, stranger):
    attacker = project.ReentrantInvestor.deploy(capped_sale, sender=stranger)
    capped_sale.add_to_allow_list([attacker], sender=kyc_operator)
    return attacker


@pytest.fixture(scope="module")
def wallet_investor(project, capped_sale, kyc_operator, investor):
    wallet = project.WalletInvestor.deploy(capped_sale, sender=investor)
    capped_sale.add_to_allow_list([wallet], sender=kyc_operator)
    return wallet


def test_withdraw_refund__reentered_from_receive__nested_call_fails(capped_sale, reentrant_investor, stranger):
    reentrant_investor.buy(value=ETHER, sender=stranger)
    excess = capped_sale.excess_of(reentrant_investor)

    reentrant_investor.attack(sender=stranger)

    assert reentrant_investor.reentry_attempts() == 1
    assert reentrant_investor.reentry_successes() == 0
    assert reentrant_investor.wei_received() == excess
    assert capped_sale.balance == capped_sale.wei_raised()


def test_withdraw_refund__reentering_finalize__nested_call_fails(capped_sale, reentrant_investor, stranger):
    reentrant_investor.buy(value=ETHER, sender=stranger)
    reentrant_investor.set_reentry_target(function_signature_to_4byte_selector("finalize()"), sender=stranger)

    reentrant_investor.attack(sender=stranger)

    # The cap is reached, so finalize itself is allowed: only the re-entrancy lock stopped it.
    assert reentrant_investor.reentry_attempts() == 1
    assert reentrant_investor.reentry_successes() == 0
    assert capped_sale.finalized() is False
    capped_sale.finalize(sender=stranger)
    assert capped_sale.finalized() is True


def test_withdraw_refund__soft_cap_refund_reentered__pays_once(
    project, deploy_sale, kyc_operator, stranger, chain
):
    sale = deploy_sale(soft_cap=100 * ETHER)
    attacker = project.ReentrantInvestor.deploy(sale, sender=stranger)
    sale.add_to_allow_list([attacker], sender=kyc_operator)
    attacker.buy(value=2 * ETHER, sender=stranger)
    chain.pending_timestamp = sale.closing_time() + 1
    sale.finalize(sender=stranger)

    attacker.attack(sender=stranger)

    assert attacker.wei_received() == 2 * ETHER
    assert attacker.reentry_successes() == 0
    assert sale.balance == 0


def test_buy__from_contract_wallet_via_call_and_fallback__accepted(capped_sale, wallet_investor, investor):
    wallet_investor.buy(value=ETHER // 10, sender=investor)
    wallet_investor.send_to_sale(value=ETHER // 10, sender=investor)

    assert capped_sale.contribution_of(wallet_investor) > ETHER // 10
    assert capped_sale.contribution_of(investor) == 0


def test_withdraw_refund__contract_wallet_needing_more_than_stipend__receives_it(
    capped_sale, wallet_investor, investor
):
    wallet_investor.buy(value=ETHER, sender=investor)
    excess = capped_sale.excess_of(wallet_investor)

    receipt = wallet_investor.withdraw_refund(sender=investor)

    assert wallet_investor.wei_received() == excess
    assert wallet_investor.payments_received() == 1
    assert wallet_investor.balance == excess
    # Two cold SSTOREs and a log: far beyond a 2,300-gas stipend.
    assert receipt.gas_used > 21_000 + 2 * 20_000


def test_claim__contract_wallet__receives_tokens(capped_sale, wallet_investor, investor, project):
    wallet_investor.buy(value=ETHER, sender=investor)
    capped_sale.finalize(sender=investor)

    wallet_investor.claim(sender=investor)

    assert project.CPYToken.at(capped_sale.token()).balanceOf(wallet_investor) == 100 * CPY


def test_buy__one_purchase_from_cheap_tranche__pays_the_later_rate_beyond_the_boundary(deploy_sale, investor):
    sale = deploy_sale(tranche_limits=(10 * CPY,), tranche_rates=(2_000,), base_rate=740)

    sale.buy_tokens(value=ETHER, sender=investor)

    tranche_cost = ceil_div(10 * CPY, 2_000)
    assert sale.tokens_owed(investor) == 10 * CPY + (ETHER - tranche_cost) * 740
    assert sale.tokens_owed(investor) < ETHER * 2_000


def test_buy__splitting_purchases_across_boundary__gains_nothing(deploy_sale, investor, investors):
    rules = dict(tranche_limits=(10 * CPY,), tranche_rates=(2_000,), base_rate=740)
    whole = deploy_sale(**rules)
    split = deploy_sale(**rules)

    whole.buy_tokens(value=ETHER, sender=investor)
    for buyer in [investor, *investors, investor, *investors]:
        split.buy_tokens(value=ETHER // 10, sender=buyer)

    assert split.wei_raised() == whole.wei_raised() == ETHER
    assert split.tokens_sold() == whole.tokens_sold()


def test_buy__proxy_contract_for_capped_investor__reverts(project, deploy_sale, investor):
    sale = deploy_sale(max_contribution=ETHER)
    sale.buy_tokens(value=ETHER, sender=investor)
    proxy = project.WalletInvestor.deploy(sale, sender=investor)

    with ape.reverts("sale: investor not on allow-list"):
        proxy.buy(value=ETHER, sender=investor)
    assert sale.contribution_of(investor) == ETHER


def test_buy__purchases_count_against_sender_only(sale, investor):
    # There is no beneficiary argument: nobody can buy on another investor's account.
    names = {abi.name for abi in sale.contract_type.abi if getattr(abi, "name", None)}
    assert not any("buy" in name and name not in {"buy_tokens", "buy_tokens_with_proof"} for name in names)
    assert [len(abi.inputs) for abi in sale.contract_type.abi if getattr(abi, "name", None) == "buy_tokens"] == [0]


def test_finalize__twice_after_cap__reverts(capped_sale, investor, stranger):
    capped_sale.buy_tokens(value=ETHER, sender=investor)
    capped_sale.finalize(sender=stranger)

    with ape.reverts("sale: already finalized"):
        capped_sale.finalize(sender=investor)


def test_claim__twice__pays_once(capped_sale, investor, project):
    capped_sale.buy_tokens(value=ETHER, sender=investor)
    capped_sale.finalize(sender=investor)
    capped_sale.claim(sender=investor)

    with ape.reverts("sale: nothing to claim"):
        capped_sale.claim(sender=investor)
    assert project.CPYToken.at(capped_sale.token()).balanceOf(investor) == 100 * CPY
