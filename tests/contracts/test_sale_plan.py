"""The deployment plan and presets of the sale."""

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from backend.chain.sale_deployment import (
    CPY,
    DAY,
    ETHER,
    ORIGINAL_TRANCHE_LIMITS,
    SALE_ALLOCATION,
    VestingSchedule,
    contract_address,
    max_raise,
    plan_sale_suite,
    preset_parameters,
)

DEPLOYER = "0x6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0"
ZERO_ADDRESS = "0x" + "0" * 40


def test_contract_address__known_create_address():
    # The well-known first contract address of this deployer (nonce 0).
    assert contract_address(DEPLOYER, 0) == "0xcd234A471b72ba2F1Ccf0A70FCABA648a5eeCD8d"


def test_preset_original__closes_at_the_end_of_9_february_2018_2359_utc():
    rules = preset_parameters("original", now=1_800_000_000)

    assert rules.closing_time == 1_518_220_799
    assert datetime.fromtimestamp(rules.closing_time, timezone.utc) == datetime(2018, 2, 9, 23, 59, 59, tzinfo=timezone.utc)
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


def plan_with(**overrides):
    """Plans the local preset with `SaleParameters` overrides (and `sale_wallet=` etc.)."""
    addresses = {
        "sale_wallet": DEPLOYER,
        "business_development_beneficiary": DEPLOYER,
        "founders_beneficiary": DEPLOYER,
    }
    addresses.update({key: overrides.pop(key) for key in list(overrides) if key in addresses})
    vesting = overrides.pop("vesting", None)
    rules = replace(preset_parameters("local", now=1_800_000_000), **overrides)
    return plan_sale_suite(deployer=DEPLOYER, nonce=0, sale=rules, vesting=vesting, **addresses)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hard_cap": SALE_ALLOCATION + 1}, "hard cap .* is above the sale allocation"),
        ({"hard_cap": 0, "tranche_limits": (), "tranche_rates": ()}, "hard cap must be positive"),
        ({"closing_time": 1_800_000_000}, "closing time 1800000000 must be after opening time 1800000000"),
        ({"base_rate": 0}, "base rate must be positive"),
        ({"min_contribution": 0}, "minimum contribution must be positive"),
        ({"min_contribution": 3 * ETHER, "max_contribution": 2 * ETHER}, "minimum contribution .* is above maximum"),
        ({"tranche_rates": (1_554, 1_178)}, "3 tranche limits but 2 tranche rates"),
        ({"tranche_limits": (1, 2, 3, 4, 5), "tranche_rates": (9, 8, 7, 6, 5)}, "5 tranches; the sale takes at most 4"),
        ({"tranche_limits": (2, 2), "tranche_rates": (9, 8)}, r"tranche limit 1 \(2\) must be above the previous one"),
        ({"tranche_rates": (1_554, 0, 1_000)}, "tranche rate 1 must be positive"),
        ({"tranche_limits": (1, 2, SALE_ALLOCATION + 1)}, "last tranche limit .* is above the hard cap"),
        ({"soft_cap": -1}, "soft_cap must be a whole number"),
        ({"soft_cap": 0.5}, "soft_cap must be a whole number"),
        ({"sale_wallet": ZERO_ADDRESS}, "sale wallet must not be the zero address"),
        ({"founders_beneficiary": "0x1234"}, "founders beneficiary must be an Ethereum address, got '0x1234'"),
        ({"vesting": VestingSchedule(start=0, cliff_duration=2, duration=1)}, "vesting: cliff 2 s is longer than"),
        ({"vesting": VestingSchedule(start=0, cliff_duration=0, duration=0)}, "vesting: duration must be positive"),
    ],
)
def test_plan__invalid_rules__raises_before_any_transaction(overrides, message):
    with pytest.raises(ValueError, match=message):
        plan_with(**overrides)


def test_plan__soft_cap_above_what_the_hard_cap_raises__raises():
    rules = preset_parameters("local", now=1_800_000_000)
    reachable = max_raise(rules)

    plan_with(soft_cap=reachable)
    with pytest.raises(ValueError, match=f"soft cap {reachable + 1} wei is above the {reachable} wei"):
        plan_with(soft_cap=reachable + 1)


def test_max_raise__production_rules__sum_of_rounded_down_tranches():
    rules = preset_parameters("original", now=0)

    assert max_raise(rules) == (
        5_000_000 * CPY // 1_554 + 5_000_000 * CPY // 1_178 + 10_000_000 * CPY // 1_000 + 40_000_000 * CPY // 740
    )
