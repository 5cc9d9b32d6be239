"""The deployment plan and presets of the sale."""

import pytest

from backend.chain.sale_deployment import (
    DAY,
    ORIGINAL_TRANCHE_LIMITS,
    contract_address,
    plan_sale_suite,
    preset_parameters,
)

DEPLOYER = "0x6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0"


def test_contract_address__known_create_address():
    # The well-known first contract address of this deployer (nonce 0).
    assert contract_address(DEPLOYER, 0) == "0xcd234A471b72ba2F1Ccf0A70FCABA648a5eeCD8d"


def test_preset_original__closes_9_february_2018_2359_utc():
    rules = preset_parameters("original", now=1_800_000_000)

    assert rules.closing_time == 1_518_220_740
    assert rules.tranche_rates == (1_554, 1_178, 1_000)
    assert rules.tranche_limits == ORIGINAL_TRANCHE_LIMITS
    assert rules.base_rate == 740


def test_preset_local__opens_now_closes_in_30_days():
    rules = preset_parameters("local", now=1_800_000_000)

    assert (rules.opening_time, rules.closing_time) == (1_800_000_000, 1_800_000_000 + 30 * DAY)


def test_preset__unknown__names_the_choices():
    with pytest.raises(ValueError, match="unknown sale preset 'mainnet'; choose one of original, local"):
        preset_parameters("mainnet", now=0)


def test_plan__token_last_and_every_recipient_points_to_it():
    plan = plan_sale_suite(
        deployer=DEPLOYER,
        nonce=5,
        sale=preset_parameters("local", now=1_800_000_000),
        sale_wallet=DEPLOYER,
        business_development_beneficiary=DEPLOYER,
        founders_beneficiary=DEPLOYER,
    )

    assert [step.contract for step in plan.steps] == ["TokenVesting", "TokenVesting", "CPYSale", "CPYToken"]
    assert [step.address for step in plan.steps] == [contract_address(DEPLOYER, n) for n in range(5, 9)]
    assert plan.token.args == (plan.sale.address, plan.business_development_vesting.address, plan.founders_vesting.address)
    assert plan.sale.args[0] == plan.business_development_vesting.args[0] == plan.founders_vesting.args[0] == plan.token.address
