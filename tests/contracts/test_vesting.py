"""Vesting of the business-development and founders' allocations: cliff, then linear."""

import ape
import pytest

from backend.chain.sale_deployment import BUSINESS_DEVELOPMENT_ALLOCATION, CPY, DAY, VestingSchedule

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
CLIFF = 180 * DAY
DURATION = 720 * DAY


@pytest.fixture(scope="module")
def schedule_start(chain):
    return chain.pending_timestamp + DAY


@pytest.fixture(scope="module")
def suite(deploy_cpy_suite, schedule_start):
    return deploy_cpy_suite(vesting=VestingSchedule(start=schedule_start, cliff_duration=CLIFF, duration=DURATION))


@pytest.fixture(scope="module")
def vesting(suite):
    return suite["business_development_vesting"]


@pytest.fixture(scope="module")
def token(suite):
    return suite["token"]


def at(chain, timestamp):
    chain.pending_timestamp = timestamp


def test_vested_amount__before_cliff__is_zero(vesting, schedule_start):
    assert vesting.vested_amount(schedule_start + CLIFF - 1) == 0


def test_vested_amount__at_cliff__jumps_to_linear_share(vesting, schedule_start):
    assert vesting.vested_amount(schedule_start + CLIFF) == BUSINESS_DEVELOPMENT_ALLOCATION * CLIFF // DURATION


def test_vested_amount__after_duration__is_everything(vesting, schedule_start):
    assert vesting.vested_amount(schedule_start + DURATION) == BUSINESS_DEVELOPMENT_ALLOCATION
    assert vesting.vested_amount(schedule_start + 10 * DURATION) == BUSINESS_DEVELOPMENT_ALLOCATION


def test_release__before_cliff__reverts(vesting, chain, schedule_start, stranger):
    at(chain, schedule_start + CLIFF - 10)

    with ape.reverts("vesting: nothing to release yet"):
        vesting.release(sender=stranger)


def test_release__halfway__sends_half_to_beneficiary(vesting, token, chain, schedule_start, beneficiary, stranger):
    at(chain, schedule_start + DURATION // 2)

    receipt = vesting.release(sender=stranger)

    half = BUSINESS_DEVELOPMENT_ALLOCATION // 2
    assert token.balanceOf(beneficiary) == half
    assert token.balanceOf(stranger) == 0
    assert vesting.released() == half
    assert vesting.TokensReleased.from_receipt(receipt) == [vesting.TokensReleased(beneficiary=beneficiary, amount=half)]
    assert token.Transfer.from_receipt(receipt) == [token.Transfer(sender=vesting, receiver=beneficiary, value=half)]


def test_release__twice_with_nothing_newly_vested__second_reverts(vesting, chain, schedule_start, beneficiary):
    # After the end of vesting nothing more vests with time, so the second release has nothing
    # (mid-schedule, anvil's clock may move a second between the two and vest a few wei).
    at(chain, schedule_start + DURATION + DAY)
    vesting.release(sender=beneficiary)

    with ape.reverts("vesting: nothing to release yet"):
        vesting.release(sender=beneficiary)


def test_release__in_steps__adds_up_to_allocation(vesting, token, chain, schedule_start, beneficiary):
    for fraction in (4, 2, 1):
        at(chain, schedule_start + DURATION // fraction)
        vesting.release(sender=beneficiary)

    assert token.balanceOf(beneficiary) == BUSINESS_DEVELOPMENT_ALLOCATION
    assert token.balanceOf(vesting) == 0
    assert vesting.releasable() == 0


def test_founders_vesting__same_schedule__holds_its_own_allocation(suite, token, chain, schedule_start, beneficiary):
    founders = suite["founders_vesting"]
    at(chain, schedule_start + DURATION)

    founders.release(sender=beneficiary)

    assert token.balanceOf(beneficiary) == 20_000_000 * CPY


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ((ZERO_ADDRESS, "0x000000000000000000000000000000000000beef", 0, 0, 1), "vesting: token is the zero address"),
        (("0x000000000000000000000000000000000000c0De", ZERO_ADDRESS, 0, 0, 1), "vesting: beneficiary is the zero address"),
        (("0x000000000000000000000000000000000000c0De", "0x000000000000000000000000000000000000beef", 0, 0, 0), "vesting: duration must be positive"),
        (("0x000000000000000000000000000000000000c0De", "0x000000000000000000000000000000000000beef", 0, 2, 1), "vesting: cliff longer than duration"),
    ],
)
def test_deploy__invalid_schedule__reverts(project, constructor_revert_reason, args, reason):
    assert constructor_revert_reason(project.TokenVesting, *args) == reason
