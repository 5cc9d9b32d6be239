"""CPY sale: every rule and revert reason, with the events decoded."""

import ape
import pytest

from backend.chain.allow_list import MerkleAllowList
from backend.chain.sale_deployment import CPY, DAY, ETHER, SALE_ALLOCATION
from cpy_sale_model import ceil_div, price

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"




@pytest.fixture(scope="module")
def token(project, sale):
    """The CPY token of `sale`."""
    return project.CPYToken.at(sale.token())


@pytest.fixture(scope="module")
def token_of(project):
    return lambda sale: project.CPYToken.at(sale.token())


@pytest.fixture(scope="module")
def flat_sale(deploy_sale):
    """740 CPY/ETH throughout, no tranches, cap 100 CPY, limits 0.1 to 1 ETH."""
    return deploy_sale(
        tranche_limits=(),
        tranche_rates=(),
        hard_cap=100 * CPY,
        max_contribution=ETHER,
    )


def close(chain, sale):
    chain.pending_timestamp = sale.closing_time() + 1
    chain.mine()


# --- purchases -------------------------------------------------------------------------------


def test_buy__allow_listed_investor__owes_tokens_at_first_tranche_rate(sale, investor):
    receipt = sale.buy_tokens(value=ETHER // 10, sender=investor)

    assert sale.tokens_owed(investor) == 155_4 * CPY // 10
    assert sale.contribution_of(investor) == ETHER // 10
    assert sale.tokens_sold() == 155_4 * CPY // 10
    assert sale.wei_raised() == ETHER // 10
    assert receipt.events == [
        sale.TokensDeliveryConfirmed(token_amount=SALE_ALLOCATION),
        sale.TokensPurchased(investor=investor, wei_amount=ETHER // 10, token_amount=155_4 * CPY // 10),
    ]


def test_buy__second_purchase__delivery_not_checked_again(sale, investor):
    sale.buy_tokens(value=ETHER // 10, sender=investor)

    receipt = sale.buy_tokens(value=ETHER // 10, sender=investor)

    assert receipt.events == [
        sale.TokensPurchased(investor=investor, wei_amount=ETHER // 10, token_amount=155_4 * CPY // 10)
    ]


@pytest.fixture(scope="module")
def undelivered_sale_for(project, owner, kyc_operator, investor, chain):
    """A sale deployed on its own for `token` (the token deployment step never happened)."""

    def deploy(token):
        now = chain.pending_timestamp
        sale = project.CPYSale.deploy(
            token, owner, now, now + DAY, 740, [], [], 100 * CPY, 0, ETHER // 10, ETHER, sender=owner
        )
        sale.grantRole(sale.KYC_OPERATOR_ROLE(), kyc_operator, sender=owner)
        sale.add_to_allow_list([investor], sender=kyc_operator)
        return sale

    return deploy


def test_buy__token_never_deployed__reverts(undelivered_sale_for, investor):
    sale = undelivered_sale_for("0x000000000000000000000000000000000000c0De")

    with ape.reverts("sale: tokens not delivered yet"):
        sale.buy_tokens(value=ETHER // 10, sender=investor)
    assert sale.tokens_sold() == 0
    assert sale.balance == 0


def test_buy__sale_holds_fewer_tokens_than_the_hard_cap__reverts(undelivered_sale_for, cpy_mock, owner, investor):
    sale = undelivered_sale_for(cpy_mock)
    cpy_mock.mint(sale, 100 * CPY - 1, sender=owner)

    with ape.reverts("sale: tokens not delivered yet"):
        sale.buy_tokens(value=ETHER // 10, sender=investor)


def test_buy__tokens_delivered_late__then_sells(undelivered_sale_for, cpy_mock, owner, investor):
    sale = undelivered_sale_for(cpy_mock)
    cpy_mock.mint(sale, 100 * CPY, sender=owner)

    receipt = sale.buy_tokens(value=ETHER // 10, sender=investor)

    assert sale.TokensDeliveryConfirmed.from_receipt(receipt) == [sale.TokensDeliveryConfirmed(token_amount=100 * CPY)]
    assert sale.tokens_owed(investor) == 74 * CPY


def test_buy__tokens_stay_in_sale_until_claimed(sale, token, investor):
    sale.buy_tokens(value=ETHER, sender=investor)

    assert token.balanceOf(investor) == 0
    assert token.balanceOf(sale) == SALE_ALLOCATION


def test_default__sending_eth__buys_like_buy_tokens(sale, investor):
    receipt = investor.transfer(sale, ETHER // 5)

    assert sale.tokens_owed(investor) == 1_554 * CPY // 5
    assert sale.TokensPurchased.from_receipt(receipt)[0].investor == investor.address


def test_default__unknown_function_with_eth__reverts(sale, investor):
    with ape.reverts("sale: unknown function, send plain ETH or call buy_tokens()"):
        investor.transfer(sale, ETHER, data=b"\x12\x34\x56\x78")


def test_buy__below_minimum_contribution__reverts(sale, investor):
    with ape.reverts("sale: below minimum contribution"):
        sale.buy_tokens(value=ETHER // 10 - 1, sender=investor)


def test_buy__exactly_minimum_contribution__succeeds(sale, investor):
    sale.buy_tokens(value=sale.min_contribution(), sender=investor)

    assert sale.contribution_of(investor) == ETHER // 10


def test_buy__above_max_contribution__reverts(deploy_sale, investor):
    sale = deploy_sale(max_contribution=ETHER)

    with ape.reverts("sale: above maximum contribution"):
        sale.buy_tokens(value=ETHER + 1, sender=investor)


def test_buy__above_max_contribution_over_several_purchases__reverts(deploy_sale, investor):
    sale = deploy_sale(max_contribution=ETHER)
    sale.buy_tokens(value=ETHER // 2, sender=investor)
    sale.buy_tokens(value=ETHER // 2, sender=investor)

    with ape.reverts("sale: above maximum contribution"):
        sale.buy_tokens(value=ETHER // 10, sender=investor)
    assert sale.contribution_of(investor) == ETHER


def test_buy__production_limit_is_2500_ether_per_investor(sale, investor):
    sale.buy_tokens(value=2_500 * ETHER, sender=investor)

    with ape.reverts("sale: above maximum contribution"):
        sale.buy_tokens(value=ETHER // 10, sender=investor)
    assert sale.max_contribution() == 2_500 * ETHER


def test_buy__not_allow_listed__reverts(sale, stranger):
    with ape.reverts("sale: investor not on allow-list"):
        sale.buy_tokens(value=ETHER, sender=stranger)


def test_buy__before_opening__reverts(deploy_sale, investor, now):
    sale = deploy_sale(opening_time=now + DAY, closing_time=now + 2 * DAY)

    with ape.reverts("sale: not open yet"):
        sale.buy_tokens(value=ETHER, sender=investor)
    assert sale.is_open() is False


def test_buy__at_opening_and_closing_second__succeeds(deploy_sale, investor, chain, now):
    sale = deploy_sale(opening_time=now + 100, closing_time=now + 200)
    chain.pending_timestamp = now + 100
    sale.buy_tokens(value=ETHER, sender=investor)
    chain.pending_timestamp = now + 200
    sale.buy_tokens(value=ETHER, sender=investor)

    assert sale.contribution_of(investor) == 2 * ETHER


def test_buy__after_closing__reverts(sale, investor, chain):
    close(chain, sale)

    with ape.reverts("sale: closed"):
        sale.buy_tokens(value=ETHER, sender=investor)
    assert sale.is_open() is False


def test_buy__while_paused__reverts(sale, owner, investor):
    sale.pause(sender=owner)

    with ape.reverts("sale: purchases are paused"):
        sale.buy_tokens(value=ETHER, sender=investor)
    assert sale.is_open() is False


def test_buy__after_unpause__succeeds(sale, owner, investor):
    sale.pause(sender=owner)
    receipt = sale.unpause(sender=owner)

    sale.buy_tokens(value=ETHER, sender=investor)
    assert receipt.events == [sale.Unpaused(account=owner)]
    assert sale.is_open() is True


# --- tranches --------------------------------------------------------------------------------


def test_buy__crossing_tranche_boundary__priced_piecewise(deploy_sale, investor):
    sale = deploy_sale(tranche_limits=(100 * CPY,), tranche_rates=(2_000,), base_rate=1_000)

    sale.buy_tokens(value=ETHER // 10, sender=investor)

    # 0.05 ETH buys the 100 CPY of the tranche at 2,000, the other 0.05 ETH buys 50 CPY at 1,000,
    # not 200 CPY at the cheaper price.
    assert sale.tokens_owed(investor) == 150 * CPY
    assert sale.rate() == 1_000


def test_buy__crossing_every_tranche__priced_piecewise(deploy_sale, investor):
    # The production tranche rates over limits of 5, 10 and 20 CPY, crossed in one purchase.
    rules = dict(
        tranche_limits=(5 * CPY, 10 * CPY, 20 * CPY), tranche_rates=(1_554, 1_178, 1_000), base_rate=740
    )
    sale = deploy_sale(**rules)
    spend_on_tranches = ceil_div(5 * CPY, 1_554) + ceil_div(5 * CPY, 1_178) + ceil_div(10 * CPY, 1_000)

    sale.buy_tokens(value=spend_on_tranches + ETHER // 10, sender=investor)

    assert sale.tokens_owed(investor) == 20 * CPY + 74 * CPY
    expected, _ = price(spend_on_tranches + ETHER // 10, 0, hard_cap=SALE_ALLOCATION, **rules)
    assert sale.tokens_owed(investor) == expected
    assert sale.rate() == 740


def test_quote__tranche_limit_not_multiple_of_rate__rounds_for_sale(deploy_sale, investor):
    sale = deploy_sale(tranche_limits=(1_000 * CPY + 1,), tranche_rates=(3,), base_rate=1)
    cost_of_tranche = ceil_div(1_000 * CPY + 1, 3)

    tokens, used = sale.quote(cost_of_tranche + 10)

    assert tokens == 1_000 * CPY + 1 + 10
    assert used == cost_of_tranche + 10


def test_rate__follows_tokens_sold(deploy_sale, investor):
    sale = deploy_sale(tranche_limits=(100 * CPY, 200 * CPY), tranche_rates=(2_000, 1_500), base_rate=740)
    assert sale.rate() == 2_000
    sale.buy_tokens(value=ETHER // 10, sender=investor)  # 100 CPY exactly at 2,000 would be 0.05 ETH
    assert sale.rate() == 1_500
    sale.buy_tokens(value=ETHER // 10, sender=investor)
    assert sale.rate() == 740
    assert sale.tranche_count() == 2


# --- hard cap --------------------------------------------------------------------------------


def test_buy__reaching_hard_cap__fills_partially_and_credits_excess(flat_sale, investor):
    sale = flat_sale
    used = ceil_div(100 * CPY, 740)

    receipt = sale.buy_tokens(value=ETHER, sender=investor)

    assert sale.tokens_sold() == 100 * CPY
    assert sale.tokens_owed(investor) == 100 * CPY
    assert sale.contribution_of(investor) == used
    assert sale.excess_of(investor) == ETHER - used
    assert sale.refundable(investor) == ETHER - used
    assert sale.balance == ETHER
    assert receipt.events == [
        sale.TokensDeliveryConfirmed(token_amount=SALE_ALLOCATION),
        sale.TokensPurchased(investor=investor, wei_amount=used, token_amount=100 * CPY),
        sale.ExcessCredited(investor=investor, wei_amount=ETHER - used),
    ]
    assert sale.is_open() is False


def test_buy__after_hard_cap__reverts(flat_sale, investor, investors):
    flat_sale.buy_tokens(value=ETHER, sender=investor)

    with ape.reverts("sale: hard cap reached"):
        flat_sale.buy_tokens(value=ETHER, sender=investors[0])


def test_withdraw_refund__excess__pays_it_back_before_finalization(flat_sale, investor):
    flat_sale.buy_tokens(value=ETHER, sender=investor)
    excess = flat_sale.excess_of(investor)
    before = investor.balance

    receipt = flat_sale.withdraw_refund(sender=investor)

    assert investor.balance == before + excess - receipt.total_fees_paid
    assert flat_sale.excess_of(investor) == 0
    assert flat_sale.balance == flat_sale.wei_raised()
    assert receipt.events == [flat_sale.RefundWithdrawn(investor=investor, wei_amount=excess)]


def test_withdraw_refund__nothing_owed__reverts(sale, investor):
    sale.buy_tokens(value=ETHER, sender=investor)

    with ape.reverts("sale: nothing to refund"):
        sale.withdraw_refund(sender=investor)


def test_withdraw_refund__twice__reverts(flat_sale, investor):
    flat_sale.buy_tokens(value=ETHER, sender=investor)
    flat_sale.withdraw_refund(sender=investor)

    with ape.reverts("sale: nothing to refund"):
        flat_sale.withdraw_refund(sender=investor)


# --- finalization ----------------------------------------------------------------------------


def test_finalize__while_open_below_cap__reverts(sale, stranger):
    with ape.reverts("sale: still open and below the hard cap"):
        sale.finalize(sender=stranger)


def test_finalize__after_close__burns_unsold_tokens(sale, token, investor, stranger, chain):
    sale.buy_tokens(value=ETHER, sender=investor)
    sold = sale.tokens_sold()
    close(chain, sale)

    receipt = sale.finalize(sender=stranger)

    unsold = SALE_ALLOCATION - sold
    assert sale.finalized() is True
    assert token.balanceOf(sale) == sold
    assert token.totalSupply() == 100_000_000 * CPY - unsold
    assert sale.SaleFinalized.from_receipt(receipt) == [
        sale.SaleFinalized(caller=stranger, tokens_sold=sold, wei_raised=ETHER, soft_cap_reached=True)
    ]
    assert sale.UnsoldTokensBurned.from_receipt(receipt) == [sale.UnsoldTokensBurned(token_amount=unsold)]
    assert token.Transfer.from_receipt(receipt) == [token.Transfer(sender=sale, receiver=ZERO_ADDRESS, value=unsold)]


def test_finalize__hard_cap_reached_before_close__allowed(flat_sale, token_of, investor, stranger):
    flat_sale.buy_tokens(value=ETHER, sender=investor)

    flat_sale.finalize(sender=stranger)

    assert flat_sale.finalized() is True
    assert token_of(flat_sale).balanceOf(flat_sale) == 100 * CPY


def test_finalize__twice__reverts(sale, stranger, chain):
    close(chain, sale)
    sale.finalize(sender=stranger)

    with ape.reverts("sale: already finalized"):
        sale.finalize(sender=stranger)


def test_finalize__nothing_sold__burns_whole_allocation(sale, token, stranger, chain):
    close(chain, sale)
    sale.finalize(sender=stranger)

    assert token.balanceOf(sale) == 0
    assert token.totalSupply() == 40_000_000 * CPY


def test_buy__after_finalization__reverts(flat_sale, investor, investors):
    flat_sale.buy_tokens(value=ETHER // 10, sender=investor)
    flat_sale.buy_tokens(value=ETHER, sender=investors[0])
    flat_sale.finalize(sender=investor)

    with ape.reverts("sale: already finalized"):
        flat_sale.buy_tokens(value=ETHER, sender=investors[1])


# --- claims ----------------------------------------------------------------------------------


def test_claim__before_finalization__reverts(sale, investor):
    sale.buy_tokens(value=ETHER, sender=investor)

    with ape.reverts("sale: not finalized yet"):
        sale.claim(sender=investor)


def test_claim__after_finalization__transfers_tokens(sale, token, investor, chain):
    sale.buy_tokens(value=ETHER, sender=investor)
    owed = sale.tokens_owed(investor)
    close(chain, sale)
    sale.finalize(sender=investor)

    receipt = sale.claim(sender=investor)

    assert token.balanceOf(investor) == owed
    assert sale.tokens_owed(investor) == 0
    assert sale.tokens_claimed() == owed
    assert sale.TokensClaimed.from_receipt(receipt) == [sale.TokensClaimed(investor=investor, token_amount=owed)]
    assert token.Transfer.from_receipt(receipt) == [token.Transfer(sender=sale, receiver=investor, value=owed)]


def test_claim__twice__reverts(sale, investor, chain):
    sale.buy_tokens(value=ETHER, sender=investor)
    close(chain, sale)
    sale.finalize(sender=investor)
    sale.claim(sender=investor)

    with ape.reverts("sale: nothing to claim"):
        sale.claim(sender=investor)


def test_claim__never_bought__reverts(sale, stranger, chain):
    close(chain, sale)
    sale.finalize(sender=stranger)

    with ape.reverts("sale: nothing to claim"):
        sale.claim(sender=stranger)


def test_claim__while_paused__still_works(sale, token, owner, investor, chain):
    sale.buy_tokens(value=ETHER, sender=investor)
    close(chain, sale)
    sale.finalize(sender=investor)
    sale.pause(sender=owner)

    sale.claim(sender=investor)

    assert token.balanceOf(investor) > 0


# --- soft cap --------------------------------------------------------------------------------


@pytest.fixture
def failed_sale(deploy_sale, investor, investors, chain):
    """A sale whose 10 ETH soft cap was missed (3 ETH raised), finalized."""
    sale = deploy_sale(soft_cap=10 * ETHER)
    sale.buy_tokens(value=2 * ETHER, sender=investor)
    sale.buy_tokens(value=ETHER, sender=investors[0])
    close(chain, sale)
    sale.finalize(sender=investor)
    return sale


def test_finalize__soft_cap_missed__burns_every_token(failed_sale, token_of):
    token = token_of(failed_sale)

    assert failed_sale.soft_cap_reached() is False
    assert token.balanceOf(failed_sale) == 0
    assert token.totalSupply() == 40_000_000 * CPY


def test_withdraw_refund__soft_cap_missed__returns_whole_contribution(failed_sale, investor):
    before = investor.balance

    receipt = failed_sale.withdraw_refund(sender=investor)

    assert investor.balance == before + 2 * ETHER - receipt.total_fees_paid
    assert failed_sale.contribution_of(investor) == 0
    assert failed_sale.tokens_owed(investor) == 0
    assert failed_sale.wei_refunded() == 2 * ETHER
    assert failed_sale.balance == ETHER
    assert receipt.events == [failed_sale.RefundWithdrawn(investor=investor, wei_amount=2 * ETHER)]


def test_withdraw_refund__soft_cap_missed_twice__reverts(failed_sale, investor):
    failed_sale.withdraw_refund(sender=investor)

    with ape.reverts("sale: nothing to refund"):
        failed_sale.withdraw_refund(sender=investor)


def test_claim__soft_cap_missed__reverts(failed_sale, investor):
    with ape.reverts("sale: soft cap not reached, withdraw a refund instead"):
        failed_sale.claim(sender=investor)


def test_withdraw_funds__soft_cap_missed__reverts(failed_sale, sale_wallet):
    with ape.reverts("sale: soft cap not reached, raised funds are refundable"):
        failed_sale.withdraw_funds(sender=sale_wallet)


def test_withdraw_refund__soft_cap_missed_while_paused__still_works(failed_sale, owner, investor):
    failed_sale.pause(sender=owner)

    failed_sale.withdraw_refund(sender=investor)

    assert failed_sale.refundable(investor) == 0


def test_finalize__soft_cap_reached__investors_claim(deploy_sale, investor, chain):
    sale = deploy_sale(soft_cap=ETHER)
    sale.buy_tokens(value=ETHER, sender=investor)
    close(chain, sale)

    receipt = sale.finalize(sender=investor)

    assert sale.SaleFinalized.from_receipt(receipt)[0].soft_cap_reached
    sale.claim(sender=investor)
    with ape.reverts("sale: nothing to refund"):
        sale.withdraw_refund(sender=investor)


# --- raised funds ----------------------------------------------------------------------------


def test_withdraw_funds__by_sale_wallet__pulls_raised_eth(sale, investor, sale_wallet, chain):
    sale.buy_tokens(value=3 * ETHER, sender=investor)
    close(chain, sale)
    sale.finalize(sender=investor)
    before = sale_wallet.balance

    receipt = sale.withdraw_funds(sender=sale_wallet)

    assert sale_wallet.balance == before + 3 * ETHER - receipt.total_fees_paid
    assert sale.funds_withdrawn() == 3 * ETHER
    assert sale.balance == 0
    assert receipt.events == [sale.FundsWithdrawn(wallet=sale_wallet, wei_amount=3 * ETHER, caller=sale_wallet)]


def test_withdraw_funds__keeps_unwithdrawn_excess(flat_sale, investor, sale_wallet):
    flat_sale.buy_tokens(value=ETHER, sender=investor)
    flat_sale.finalize(sender=investor)

    flat_sale.withdraw_funds(sender=sale_wallet)

    assert flat_sale.balance == flat_sale.excess_of(investor)


def test_withdraw_funds__by_anyone__pays_the_sale_wallet(sale, investor, sale_wallet, stranger, chain):
    sale.buy_tokens(value=2 * ETHER, sender=investor)
    close(chain, sale)
    sale.finalize(sender=investor)
    wallet_before, stranger_before = sale_wallet.balance, stranger.balance

    receipt = sale.withdraw_funds(sender=stranger)

    assert sale_wallet.balance == wallet_before + 2 * ETHER
    assert stranger.balance == stranger_before - receipt.total_fees_paid
    assert sale.funds_withdrawn() == 2 * ETHER
    assert receipt.events == [sale.FundsWithdrawn(wallet=sale_wallet, wei_amount=2 * ETHER, caller=stranger)]


def test_withdraw_funds__before_finalization__reverts(sale, investor, sale_wallet):
    sale.buy_tokens(value=ETHER, sender=investor)

    with ape.reverts("sale: not finalized yet"):
        sale.withdraw_funds(sender=sale_wallet)


def test_withdraw_funds__twice__reverts(sale, investor, sale_wallet, chain):
    sale.buy_tokens(value=ETHER, sender=investor)
    close(chain, sale)
    sale.finalize(sender=investor)
    sale.withdraw_funds(sender=sale_wallet)

    with ape.reverts("sale: nothing to withdraw"):
        sale.withdraw_funds(sender=sale_wallet)


# --- pause -----------------------------------------------------------------------------------


def test_pause__by_admin__emits_paused(sale, owner):
    receipt = sale.pause(sender=owner)

    assert sale.paused() is True
    assert receipt.events == [sale.Paused(account=owner)]


def test_pause__not_admin__reverts(sale, kyc_operator):
    with ape.reverts("sale: caller is not the admin"):
        sale.pause(sender=kyc_operator)


def test_pause__twice__reverts(sale, owner):
    sale.pause(sender=owner)

    with ape.reverts("sale: purchases are already paused"):
        sale.pause(sender=owner)


def test_unpause__not_paused__reverts(sale, owner):
    with ape.reverts("sale: purchases are not paused"):
        sale.unpause(sender=owner)


def test_unpause__not_admin__reverts(sale, owner, stranger):
    sale.pause(sender=owner)

    with ape.reverts("sale: caller is not the admin"):
        sale.unpause(sender=stranger)


def test_finalize__while_paused__still_works(sale, owner, stranger, chain):
    sale.pause(sender=owner)
    close(chain, sale)

    sale.finalize(sender=stranger)

    assert sale.finalized() is True


# --- allow-list ------------------------------------------------------------------------------


def test_add_to_allow_list__batch__emits_one_event_per_new_investor(deploy_sale, kyc_operator, investor, stranger):
    sale = deploy_sale(allow_list=False)
    sale.add_to_allow_list([investor], sender=kyc_operator)

    receipt = sale.add_to_allow_list([investor, stranger], sender=kyc_operator)

    assert sale.is_allow_listed(investor) is True
    assert sale.is_allow_listed(stranger) is True
    assert receipt.events == [sale.InvestorAllowListed(investor=stranger, operator=kyc_operator)]


def test_add_to_allow_list__not_kyc_operator__reverts(sale, owner, stranger):
    with ape.reverts("sale: caller is not a KYC operator"):
        sale.add_to_allow_list([stranger], sender=owner)


def test_add_to_allow_list__zero_address__reverts(sale, kyc_operator, stranger):
    with ape.reverts("sale: zero address in allow-list batch"):
        sale.add_to_allow_list([stranger, ZERO_ADDRESS], sender=kyc_operator)


def test_remove_from_allow_list__blocks_further_purchases_keeps_owed_tokens(sale, kyc_operator, investor):
    sale.buy_tokens(value=ETHER, sender=investor)
    owed = sale.tokens_owed(investor)

    receipt = sale.remove_from_allow_list([investor], sender=kyc_operator)

    assert receipt.events == [sale.InvestorRemovedFromAllowList(investor=investor, operator=kyc_operator)]
    with ape.reverts("sale: investor was removed from the allow-list"):
        sale.buy_tokens(value=ETHER, sender=investor)
    assert sale.tokens_owed(investor) == owed
    assert sale.is_revoked(investor) is True


def test_remove_from_allow_list__twice__one_event(sale, kyc_operator, investor):
    sale.remove_from_allow_list([investor], sender=kyc_operator)

    receipt = sale.remove_from_allow_list([investor], sender=kyc_operator)

    assert receipt.events == []


def test_add_to_allow_list__after_removal__lifts_revocation(sale, kyc_operator, investor):
    sale.remove_from_allow_list([investor], sender=kyc_operator)

    receipt = sale.add_to_allow_list([investor], sender=kyc_operator)

    assert receipt.events == [sale.InvestorAllowListed(investor=investor, operator=kyc_operator)]
    assert sale.is_revoked(investor) is False
    sale.buy_tokens(value=ETHER, sender=investor)


def test_remove_from_allow_list__not_kyc_operator__reverts(sale, investor):
    with ape.reverts("sale: caller is not a KYC operator"):
        sale.remove_from_allow_list([investor], sender=investor)


def test_grant_kyc_role__not_admin__reverts(sale, kyc_operator, stranger):
    with ape.reverts("access_control: account is missing role"):
        sale.grantRole(sale.KYC_OPERATOR_ROLE(), stranger, sender=kyc_operator)


@pytest.fixture(scope="module")
def merkle_sale(deploy_sale, kyc_operator, stranger, accounts):
    sale = deploy_sale(allow_list=False)
    tree = MerkleAllowList.build([stranger.address, accounts[7].address, accounts[8].address])
    sale.set_allow_list_root(tree.root, sender=kyc_operator)
    return sale, tree


def test_set_allow_list_root__emits_event(deploy_sale, kyc_operator):
    sale = deploy_sale(allow_list=False)
    root = b"\x11" * 32

    receipt = sale.set_allow_list_root(root, sender=kyc_operator)

    assert sale.allow_list_root() == root
    assert receipt.events == [sale.AllowListRootSet(root=root, operator=kyc_operator)]


def test_set_allow_list_root__not_kyc_operator__reverts(sale, stranger):
    with ape.reverts("sale: caller is not a KYC operator"):
        sale.set_allow_list_root(b"\x11" * 32, sender=stranger)


def test_buy_tokens_with_proof__valid_proof__allow_lists_and_buys(merkle_sale, stranger):
    sale, tree = merkle_sale

    receipt = sale.buy_tokens_with_proof(tree.proof(stranger.address), value=ETHER, sender=stranger)

    assert sale.is_allow_listed(stranger) is True
    assert sale.InvestorAllowListed.from_receipt(receipt) == [
        sale.InvestorAllowListed(investor=stranger, operator=sale)
    ]
    sale.buy_tokens(value=ETHER, sender=stranger)
    assert sale.contribution_of(stranger) == 2 * ETHER


def test_buy_tokens_with_proof__someone_elses_proof__reverts(merkle_sale, stranger, investor):
    sale, tree = merkle_sale

    with ape.reverts("sale: invalid allow-list proof"):
        sale.buy_tokens_with_proof(tree.proof(stranger.address), value=ETHER, sender=investor)


def test_buy_tokens_with_proof__removed_after_proving__cannot_prove_again(merkle_sale, kyc_operator, stranger):
    sale, tree = merkle_sale
    sale.buy_tokens_with_proof(tree.proof(stranger.address), value=ETHER, sender=stranger)

    receipt = sale.remove_from_allow_list([stranger], sender=kyc_operator)

    assert receipt.events == [sale.InvestorRemovedFromAllowList(investor=stranger, operator=kyc_operator)]
    with ape.reverts("sale: investor was removed from the allow-list"):
        sale.buy_tokens_with_proof(tree.proof(stranger.address), value=ETHER, sender=stranger)
    with ape.reverts("sale: investor was removed from the allow-list"):
        sale.buy_tokens(value=ETHER, sender=stranger)


def test_buy_tokens_with_proof__removed_before_proving__reverts(merkle_sale, kyc_operator, stranger):
    sale, tree = merkle_sale

    receipt = sale.remove_from_allow_list([stranger], sender=kyc_operator)

    assert receipt.events == [sale.InvestorRemovedFromAllowList(investor=stranger, operator=kyc_operator)]
    with ape.reverts("sale: investor was removed from the allow-list"):
        sale.buy_tokens_with_proof(tree.proof(stranger.address), value=ETHER, sender=stranger)


def test_buy_tokens_with_proof__no_root__reverts(deploy_sale, stranger):
    sale = deploy_sale(allow_list=False)

    with ape.reverts("sale: no Merkle allow-list has been set"):
        sale.buy_tokens_with_proof([], value=ETHER, sender=stranger)


# --- construction ----------------------------------------------------------------------------

VALID = dict(
    token="0x000000000000000000000000000000000000c0De",
    sale_wallet="0x000000000000000000000000000000000000beef",
    opening_time=1_000,
    closing_time=2_000,
    base_rate=740,
    tranche_limits=[100],
    tranche_rates=[1_000],
    hard_cap=1_000,
    soft_cap=0,
    min_contribution=1,
    max_contribution=10,
)


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"token": ZERO_ADDRESS}, "sale: token is the zero address"),
        ({"sale_wallet": ZERO_ADDRESS}, "sale: sale wallet is the zero address"),
        ({"closing_time": 1_000}, "sale: opening time must precede closing time"),
        ({"base_rate": 0}, "sale: rate must be positive"),
        ({"hard_cap": 0, "tranche_limits": [], "tranche_rates": []}, "sale: hard cap must be positive"),
        ({"min_contribution": 0}, "sale: minimum contribution must be positive"),
        ({"min_contribution": 11}, "sale: minimum contribution above maximum"),
        ({"tranche_rates": []}, "sale: tranche limits and rates differ in length"),
        ({"tranche_limits": [100, 100], "tranche_rates": [2, 1]}, "sale: tranche limits must increase strictly"),
        ({"tranche_rates": [0]}, "sale: tranche rate must be positive"),
        ({"tranche_limits": [1_001]}, "sale: tranche limit above hard cap"),
        # 100 units at 1,000 per wei raise 0 wei (rounded down), 900 at 740 raise 1 wei.
        ({"soft_cap": 2}, "sale: soft cap above what the hard cap can raise"),
    ],
)
def test_deploy__invalid_parameters__reverts(project, constructor_revert_reason, override, reason):
    arguments = {**VALID, **override}

    assert constructor_revert_reason(project.CPYSale, *arguments.values()) == reason


def test_deploy__soft_cap_exactly_what_the_hard_cap_raises__accepted(project, owner):
    project.CPYSale.deploy(*{**VALID, "soft_cap": 1}.values(), sender=owner)


def test_deploy__production_soft_cap_reachable_up_to_the_rounded_total(project, owner, constructor_revert_reason):
    # 5M/1,554 + 5M/1,178 + 10M/1,000 + 40M/740 ETH, each rounded down to the wei.
    raisable = sum(units // rate for units, rate in [
        (5_000_000 * CPY, 1_554), (5_000_000 * CPY, 1_178), (10_000_000 * CPY, 1_000), (40_000_000 * CPY, 740)
    ])
    production = {**VALID, "tranche_limits": [5_000_000 * CPY, 10_000_000 * CPY, 20_000_000 * CPY],
                  "tranche_rates": [1_554, 1_178, 1_000], "hard_cap": SALE_ALLOCATION}

    project.CPYSale.deploy(*{**production, "soft_cap": raisable}.values(), sender=owner)
    reason = constructor_revert_reason(project.CPYSale, *{**production, "soft_cap": raisable + 1}.values())

    assert reason == "sale: soft cap above what the hard cap can raise"


def test_views__expose_the_sale_rules(sale, sale_wallet, token):
    assert sale.rate() == 1_554
    assert sale.base_rate() == 740
    assert sale.hard_cap() == SALE_ALLOCATION
    assert sale.min_contribution() == ETHER // 10
    assert sale.max_contribution() == 2_500 * ETHER
    assert sale.closing_time() - sale.opening_time() == 30 * DAY
    assert sale.sale_wallet() == sale_wallet.address
    assert sale.token() == token.address
    assert sale.is_open() is True
    assert sale.finalized() is False
    assert [sale.tranche_limits(i) for i in range(3)] == [5_000_000 * CPY, 10_000_000 * CPY, 20_000_000 * CPY]
    assert [sale.tranche_rates(i) for i in range(3)] == [1_554, 1_178, 1_000]
