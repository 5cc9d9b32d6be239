"""The deployment plan of the CPY token, its sale and the two vesting contracts.

The token creates its whole supply in its constructor and sends it to the sale and the two
vesting contracts, so those three must exist first and must know the token's address before it
exists. The plan therefore fixes the order of the four deployments from one deployer and computes
every address from the deployer's nonce; the token's constructor checks that each recipient
reports it as `token()` and refuses to deploy otherwise.

This module only computes: it knows nothing of ape or web3, so the ape script, the tests, the
benchmark and the backend's own deployment all deploy the same plan with their own client.
Send the four transactions in order, from `deployer`, starting at `nonce`, with nothing in between.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import rlp
from eth_utils import keccak, to_canonical_address, to_checksum_address

CPY = 10**18
ETHER = 10**18
DAY = 24 * 60 * 60

SALE_ALLOCATION = 60_000_000 * CPY
BUSINESS_DEVELOPMENT_ALLOCATION = 20_000_000 * CPY
FOUNDERS_ALLOCATION = 20_000_000 * CPY

# The original sale's early-bird tranches: CPY per ETH up to a number of CPY sold, then 740.
ORIGINAL_TRANCHE_LIMITS = (5_000_000 * CPY, 10_000_000 * CPY, 20_000_000 * CPY)
ORIGINAL_TRANCHE_RATES = (1_554, 1_178, 1_000)
ORIGINAL_CLOSING_TIME = int(datetime(2018, 2, 9, 23, 59, tzinfo=timezone.utc).timestamp())
# Only the closing time is on record for this project; the preset opens a month before it.
ORIGINAL_OPENING_TIME = int(datetime(2018, 1, 10, tzinfo=timezone.utc).timestamp())

PRESETS = ("original", "local")


@dataclass(frozen=True)
class SaleParameters:
    """The constructor arguments of `CPYSale` other than the token and the sale wallet."""

    opening_time: int
    closing_time: int
    base_rate: int = 740
    tranche_limits: tuple[int, ...] = ORIGINAL_TRANCHE_LIMITS
    tranche_rates: tuple[int, ...] = ORIGINAL_TRANCHE_RATES
    hard_cap: int = SALE_ALLOCATION
    soft_cap: int = 0
    min_contribution: int = ETHER // 10
    max_contribution: int = 2_500 * ETHER


@dataclass(frozen=True)
class VestingSchedule:
    """Cliff, then linear release, both measured from `start` (Unix time, seconds)."""

    start: int
    cliff_duration: int = 180 * DAY
    duration: int = 730 * DAY


@dataclass(frozen=True)
class PlannedDeployment:
    """One contract of the plan: its name in the build, its constructor arguments, its address."""

    contract: str
    args: tuple
    address: str


@dataclass(frozen=True)
class SaleSuitePlan:
    """The four deployments, in the order they must be sent."""

    business_development_vesting: PlannedDeployment
    founders_vesting: PlannedDeployment
    sale: PlannedDeployment
    token: PlannedDeployment
    steps: tuple[PlannedDeployment, ...] = field(init=False)

    def __post_init__(self) -> None:
        ordered = (self.business_development_vesting, self.founders_vesting, self.sale, self.token)
        object.__setattr__(self, "steps", ordered)


def contract_address(deployer: str, nonce: int) -> str:
    """The address a CREATE from `deployer` at `nonce` produces."""
    if nonce < 0:
        raise ValueError(f"nonce must not be negative, got {nonce}")
    encoded = rlp.encode([to_canonical_address(deployer), nonce])
    return to_checksum_address(keccak(encoded)[12:])


def preset_parameters(preset: str, now: int) -> SaleParameters:
    """The sale rules of a named preset.

    `original` is the historic schedule (opening 10 January 2018, closing 9 February 2018, 23:59 UTC,
    with the early-bird tranches); `local` has the same prices and limits, opens at
    `now` and closes 30 days later.
    """
    if preset == "original":
        return SaleParameters(opening_time=ORIGINAL_OPENING_TIME, closing_time=ORIGINAL_CLOSING_TIME)
    if preset == "local":
        return SaleParameters(opening_time=now, closing_time=now + 30 * DAY)
    raise ValueError(f"unknown sale preset {preset!r}; choose one of {', '.join(PRESETS)}")


def plan_sale_suite(
    *,
    deployer: str,
    nonce: int,
    sale: SaleParameters,
    sale_wallet: str,
    business_development_beneficiary: str,
    founders_beneficiary: str,
    vesting: VestingSchedule | None = None,
) -> SaleSuitePlan:
    """Constructor arguments and addresses of the vesting contracts, the sale and the token.

    `vesting` defaults to a schedule starting when the sale closes (180-day cliff, 2 years in all).
    """
    if sale.closing_time <= sale.opening_time:
        raise ValueError(
            f"closing time {sale.closing_time} must be after opening time {sale.opening_time}"
        )
    schedule = vesting or VestingSchedule(start=sale.closing_time)
    token_address = contract_address(deployer, nonce + 3)

    def vesting_step(offset: int, beneficiary: str) -> PlannedDeployment:
        args = (token_address, beneficiary, schedule.start, schedule.cliff_duration, schedule.duration)
        return PlannedDeployment("TokenVesting", args, contract_address(deployer, nonce + offset))

    business_development = vesting_step(0, business_development_beneficiary)
    founders = vesting_step(1, founders_beneficiary)
    sale_step = PlannedDeployment(
        "CPYSale",
        (
            token_address,
            sale_wallet,
            sale.opening_time,
            sale.closing_time,
            sale.base_rate,
            list(sale.tranche_limits),
            list(sale.tranche_rates),
            sale.hard_cap,
            sale.soft_cap,
            sale.min_contribution,
            sale.max_contribution,
        ),
        contract_address(deployer, nonce + 2),
    )
    token = PlannedDeployment(
        "CPYToken",
        (sale_step.address, business_development.address, founders.address),
        token_address,
    )
    return SaleSuitePlan(business_development, founders, sale_step, token)


@dataclass(frozen=True)
class SwapPlan:
    """The three deployments of the token swap, in the order they must be sent."""

    reserve_vesting: PlannedDeployment
    swap: PlannedDeployment
    new_token: PlannedDeployment
    steps: tuple[PlannedDeployment, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", (self.reserve_vesting, self.swap, self.new_token))


def plan_token_swap(
    *,
    deployer: str,
    nonce: int,
    old_token: str,
    reserve_beneficiary: str,
    reserve_vesting: VestingSchedule,
) -> SwapPlan:
    """Constructor arguments and addresses of the reserve vesting, the swap and the 130M token.

    The new token mints its 30M reserve into the vesting contract and makes the swap its only
    minter, so both must exist first and report the new token's address.
    """
    new_token_address = contract_address(deployer, nonce + 2)
    vesting = PlannedDeployment(
        "TokenVesting",
        (
            new_token_address,
            reserve_beneficiary,
            reserve_vesting.start,
            reserve_vesting.cliff_duration,
            reserve_vesting.duration,
        ),
        contract_address(deployer, nonce),
    )
    swap = PlannedDeployment("TokenSwap", (old_token, new_token_address), contract_address(deployer, nonce + 1))
    new_token = PlannedDeployment("CPYToken2", (swap.address, vesting.address), new_token_address)
    return SwapPlan(vesting, swap, new_token)
