"""Token swap: old 100M CPY for the 130M CPY token, one for one, with a vesting 30M reserve."""

import ape
import pytest

from backend.chain.sale_deployment import CPY, DAY, VestingSchedule, contract_address, plan_token_swap
from cpy_signatures import permit_signature

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
IMPOSTOR_OLD_TOKEN = "0x000000000000000000000000000000000000bEEF"


@pytest.fixture(scope="module")
def holder(old_token, beneficiary):
    """The beneficiary, once the business-development allocation (20M CPY) has fully vested."""
    return beneficiary


@pytest.fixture(scope="module")
def old_token(deploy_cpy_suite, beneficiary, chain):
    suite = deploy_cpy_suite()
    vesting = suite["business_development_vesting"]
    chain.pending_timestamp = vesting.start() + vesting.duration()
    vesting.release(sender=beneficiary)
    return suite["token"]


@pytest.fixture(scope="module")
def swap_suite(deploy_swap, old_token, chain):
    start = chain.pending_timestamp
    return deploy_swap(old_token, VestingSchedule(start=start, cliff_duration=30 * DAY, duration=365 * DAY))


@pytest.fixture
def swap(swap_suite, owner):
    swap = swap_suite["swap"]
    swap.open_swap(sender=owner)
    return swap


@pytest.fixture(scope="module")
def new_token(swap_suite):
    return swap_suite["new_token"]


def test_deploy__reserve_in_vesting__swap_only_minter__no_owner(swap_suite, owner):
    new_token = swap_suite["new_token"]

    assert new_token.totalSupply() == 30_000_000 * CPY
    assert new_token.balanceOf(swap_suite["reserve_vesting"]) == 30_000_000 * CPY
    assert new_token.MAX_SUPPLY() == 130_000_000 * CPY
    assert new_token.is_minter(swap_suite["swap"]) is True
    assert new_token.is_minter(owner) is False
    assert new_token.owner() == ZERO_ADDRESS
    assert swap_suite["swap"].is_open() is False


def test_swap__approved_holder__burns_old_mints_new(swap, old_token, new_token, holder):
    old_token.approve(swap, 1_000 * CPY, sender=holder)
    old_supply = old_token.totalSupply()

    receipt = swap.swap(1_000 * CPY, sender=holder)

    assert old_token.balanceOf(holder) == 20_000_000 * CPY - 1_000 * CPY
    assert new_token.balanceOf(holder) == 1_000 * CPY
    assert old_token.totalSupply() == old_supply - 1_000 * CPY
    assert new_token.totalSupply() == 30_000_000 * CPY + 1_000 * CPY
    assert swap.total_swapped() == 1_000 * CPY
    assert swap.TokensSwapped.from_receipt(receipt) == [swap.TokensSwapped(holder=holder, amount=1_000 * CPY)]
    assert old_token.Transfer.from_receipt(receipt)[-1] == old_token.Transfer(sender=holder, receiver=ZERO_ADDRESS, value=1_000 * CPY)
    assert new_token.Transfer.from_receipt(receipt)[-1] == new_token.Transfer(sender=ZERO_ADDRESS, receiver=holder, value=1_000 * CPY)


def test_swap__whole_supply_reaches_max_supply_exactly(swap, old_token, new_token, holder):
    # Every old token that can exist swapped: new supply is 30M + what was burned, never more.
    old_token.approve(swap, 20_000_000 * CPY, sender=holder)
    swap.swap(20_000_000 * CPY, sender=holder)

    assert new_token.totalSupply() + old_token.totalSupply() <= new_token.MAX_SUPPLY()


def test_swap__without_allowance__reverts(swap, holder):
    with ape.reverts("erc20: insufficient allowance"):
        swap.swap(CPY, sender=holder)


def test_swap__more_than_balance__reverts(swap, old_token, holder):
    old_token.approve(swap, 30_000_000 * CPY, sender=holder)

    with ape.reverts("erc20: burn amount exceeds balance"):
        swap.swap(20_000_000 * CPY + 1, sender=holder)


def test_swap__zero_amount__reverts(swap, holder):
    with ape.reverts("swap: amount must be positive"):
        swap.swap(0, sender=holder)


def test_swap__closed__reverts(swap_suite, old_token, holder):
    swap = swap_suite["swap"]
    old_token.approve(swap, CPY, sender=holder)

    with ape.reverts("swap: swap is closed"):
        swap.swap(CPY, sender=holder)


def test_close_swap__by_owner__stops_swaps(swap, old_token, owner, holder):
    receipt = swap.close_swap(sender=owner)
    old_token.approve(swap, CPY, sender=holder)

    assert receipt.events == [swap.SwapClosed(operator=owner)]
    with ape.reverts("swap: swap is closed"):
        swap.swap(CPY, sender=holder)


def test_open_swap__not_owner__reverts(swap_suite, holder):
    with ape.reverts("ownable: caller is not the owner"):
        swap_suite["swap"].open_swap(sender=holder)


def test_open_swap__twice__reverts(swap, owner):
    with ape.reverts("swap: already open"):
        swap.open_swap(sender=owner)


def test_mint__not_swap__reverts(new_token, holder):
    with ape.reverts("token2: caller is not the swap"):
        new_token.mint(holder, CPY, sender=holder)


def test_swap_with_permit__one_transaction_without_approval(swap, old_token, new_token, holder, chain):
    deadline = chain.pending_timestamp + 3600
    signed = permit_signature(
        old_token, holder.private_key, holder.address, swap.address, 5 * CPY, old_token.nonces(holder), deadline, chain.chain_id
    )

    swap.swap_with_permit(
        5 * CPY, deadline, signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"), sender=holder
    )

    assert new_token.balanceOf(holder) == 5 * CPY
    assert old_token.allowance(holder, swap) == 0


def test_swap_with_permit__signature_front_run__still_swaps(swap, old_token, new_token, holder, stranger, chain):
    deadline = chain.pending_timestamp + 3600
    signed = permit_signature(
        old_token, holder.private_key, holder.address, swap.address, 5 * CPY, old_token.nonces(holder), deadline, chain.chain_id
    )
    v, r, s = signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")
    old_token.permit(holder, swap, 5 * CPY, deadline, v, r, s, sender=stranger)

    swap.swap_with_permit(5 * CPY, deadline, v, r, s, sender=holder)

    assert new_token.balanceOf(holder) == 5 * CPY


def test_swap_with_permit__invalid_signature_without_allowance__reverts(swap, holder, chain):
    deadline = chain.pending_timestamp + 3600

    with ape.reverts("swap: permit failed and allowance is too low"):
        swap.swap_with_permit(CPY, deadline, 27, b"\x01" * 32, b"\x02" * 32, sender=holder)


def test_reserve__vests_new_tokens_to_beneficiary(swap_suite, new_token, beneficiary, chain):
    reserve = swap_suite["reserve_vesting"]
    chain.pending_timestamp = reserve.start() + reserve.duration()

    reserve.release(sender=beneficiary)

    assert new_token.balanceOf(beneficiary) == 30_000_000 * CPY


def test_deploy__swap_not_wired__reverts(project, swap_suite, old_token, constructor_revert_reason):
    reason = constructor_revert_reason(project.CPYToken2, swap_suite["swap"], swap_suite["reserve_vesting"], old_token)

    assert reason == "token2: swap is not wired to this token"


def test_deploy__swap_burns_another_old_token__reverts(project, owner, swap_suite, old_token, constructor_revert_reason):
    new_token_address = contract_address(owner.address, owner.nonce + 1)
    impostor_swap = project.TokenSwap.deploy(IMPOSTOR_OLD_TOKEN, new_token_address, sender=owner)

    reason = constructor_revert_reason(project.CPYToken2, impostor_swap, swap_suite["reserve_vesting"], old_token)

    assert reason == "token2: swap does not burn the expected old token"


def test_deploy__wired_swap__records_the_old_token(swap_suite, old_token):
    assert swap_suite["new_token"].old_token() == old_token.address


def test_plan_token_swap__no_old_token__raises(owner, beneficiary):
    with pytest.raises(ValueError, match="old token must be an Ethereum address, got ''"):
        plan_token_swap(
            deployer=owner.address,
            nonce=0,
            old_token="",
            reserve_beneficiary=beneficiary.address,
            reserve_vesting=VestingSchedule(start=0),
        )


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ((ZERO_ADDRESS, "0x000000000000000000000000000000000000beef"), "swap: old token is the zero address"),
        (("0x000000000000000000000000000000000000beef", ZERO_ADDRESS), "swap: new token is the zero address"),
        (("0x000000000000000000000000000000000000beef",) * 2, "swap: old and new token are the same"),
    ],
)
def test_deploy_swap__invalid_tokens__reverts(project, constructor_revert_reason, args, reason):
    assert constructor_revert_reason(project.TokenSwap, *args) == reason
