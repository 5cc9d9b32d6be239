"""CPY token: fixed 100M supply distributed 60/20/20 at deployment, no minter, burn, permit."""

import ape
import pytest
from eth_account import Account

from backend.chain.sale_deployment import (
    BUSINESS_DEVELOPMENT_ALLOCATION,
    CPY,
    FOUNDERS_ALLOCATION,
    SALE_ALLOCATION,
    contract_address,
)
from cpy_signatures import permit_signature

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


@pytest.fixture(scope="module")
def suite(deploy_cpy_suite):
    return deploy_cpy_suite()


def test_deploy__distributes_whole_supply__deployer_keeps_nothing(suite, owner):
    token = suite["token"]

    assert token.name() == "COPYTRACK Token"
    assert token.symbol() == "CPY"
    assert token.decimals() == 18
    assert token.totalSupply() == 100_000_000 * CPY
    assert token.balanceOf(suite["sale"]) == SALE_ALLOCATION
    assert token.balanceOf(suite["business_development_vesting"]) == BUSINESS_DEVELOPMENT_ALLOCATION
    assert token.balanceOf(suite["founders_vesting"]) == FOUNDERS_ALLOCATION
    assert token.balanceOf(owner) == 0


def test_deploy__leaves_no_minter_and_no_owner(suite, owner):
    token = suite["token"]

    assert token.is_minter(owner) is False
    assert token.owner() == ZERO_ADDRESS
    assert not hasattr(token, "mint")
    assert not hasattr(token, "set_minter")


def test_deploy__emits_allocation_and_minter_removal(suite, owner):
    token = suite["token"]
    receipt = token.creation_metadata.receipt

    [distributed] = token.AllocationsDistributed.from_receipt(receipt)
    assert distributed.sale == suite["sale"].address
    assert distributed.business_development_vesting == suite["business_development_vesting"].address
    assert distributed.founders_vesting == suite["founders_vesting"].address
    minter_changes = [(log.minter, log.status) for log in token.RoleMinterChanged.from_receipt(receipt)]
    assert minter_changes[-1] == (owner.address, False)


def test_deploy__recipient_not_wired_to_token__reverts(project, deploy_cpy_suite, constructor_revert_reason):
    suite = deploy_cpy_suite()
    # These recipients report the first token as `token()`, not the one being deployed.
    args = (suite["sale"], suite["business_development_vesting"], suite["founders_vesting"])

    assert constructor_revert_reason(project.CPYToken, *args) == "token: sale is not wired to this token"


def test_deploy__recipient_is_not_a_contract__reverts(project, stranger, constructor_revert_reason):
    reason = constructor_revert_reason(project.CPYToken, stranger, stranger, stranger)

    assert reason == "token: sale is not wired to this token"


def test_deploy__sale_hard_cap_above_allocation__reverts(
    project, owner, sale_wallet, beneficiary, chain, constructor_revert_reason
):
    nonce = owner.nonce
    token_address = contract_address(owner.address, nonce + 3)
    now = chain.pending_timestamp
    vesting_args = (token_address, beneficiary, now, 0, 1)
    business = project.TokenVesting.deploy(*vesting_args, sender=owner)
    founders = project.TokenVesting.deploy(*vesting_args, sender=owner)
    sale = project.CPYSale.deploy(
        token_address, sale_wallet, now, now + 100, 740, [], [], SALE_ALLOCATION + 1, 0, 1, 1, sender=owner
    )
    reason = constructor_revert_reason(project.CPYToken, sale, business, founders)

    assert reason == "token: sale hard cap above the sale allocation"


def test_burn__reduces_balance_and_supply(suite, project, owner, beneficiary, chain):
    token = suite["token"]
    vesting = suite["business_development_vesting"]
    chain.pending_timestamp = vesting.start() + vesting.duration()
    vesting.release(sender=beneficiary)

    receipt = token.burn(5 * CPY, sender=beneficiary)

    assert token.balanceOf(beneficiary) == BUSINESS_DEVELOPMENT_ALLOCATION - 5 * CPY
    assert token.totalSupply() == 100_000_000 * CPY - 5 * CPY
    assert receipt.events == [token.Transfer(sender=beneficiary, receiver=ZERO_ADDRESS, value=5 * CPY)]


def test_burn_from__without_allowance__reverts(suite, beneficiary, stranger, chain):
    token = suite["token"]
    vesting = suite["business_development_vesting"]
    chain.pending_timestamp = vesting.start() + vesting.duration()
    vesting.release(sender=beneficiary)

    with ape.reverts("erc20: insufficient allowance"):
        token.burn_from(beneficiary, CPY, sender=stranger)


def test_permit__valid_signature__sets_allowance(suite, stranger, chain):
    token = suite["token"]
    holder = Account.create()
    deadline = chain.pending_timestamp + 3600
    signed = permit_signature(token, holder.key, holder.address, stranger.address, 7 * CPY, 0, deadline, chain.chain_id)

    receipt = token.permit(holder.address, stranger, 7 * CPY, deadline, signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"), sender=stranger)

    assert token.allowance(holder.address, stranger) == 7 * CPY
    assert token.nonces(holder.address) == 1
    assert receipt.events == [token.Approval(owner=holder.address, spender=stranger, value=7 * CPY)]


def test_permit__replayed_signature__reverts(suite, stranger, chain):
    token = suite["token"]
    holder = Account.create()
    deadline = chain.pending_timestamp + 3600
    signed = permit_signature(token, holder.key, holder.address, stranger.address, CPY, 0, deadline, chain.chain_id)
    args = (holder.address, stranger, CPY, deadline, signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"))
    token.permit(*args, sender=stranger)

    with ape.reverts("erc20: invalid signature"):
        token.permit(*args, sender=stranger)
