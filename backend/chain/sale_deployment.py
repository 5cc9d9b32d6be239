"""The deployment plan of the CPY token, its sale and the two vesting contracts.

The token creates its whole supply in its constructor and sends it to the sale and the two
vesting contracts, so those three must exist first and must know the token's address before it
exists. The plan therefore fixes the order of the four deployments from one deployer and computes
every address from the deployer's nonce; the token's constructor checks that each recipient
reports it as `token()` and refuses to deploy otherwise.

This module only computes: it knows nothing of ape or web3, so the ape script, the tests, the
benchmark and the backend's own deployment all deploy the same plan with their own client.
Send the four transactions in order, from `deployer`, starting at `nonce` (the deployer's
*pending* nonce), with nothing in between.

The planners check every rule the constructors check before any transaction is sent and raise
`ValueError` naming the value: a constructor that reverts half-way through the plan would leave
contracts deployed at addresses the rest of the plan can no longer reach. The three recipients of
the token (two vesting contracts and the sale) are distinct by construction: each is created at
its own nonce.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import rlp
from eth_utils import is_address, keccak, to_canonical_address, to_checksum_address

CPY = 10**18
ETHER = 10**18
DAY = 24 * 60 * 60

SALE_ALLOCATION = 60_000_000 * CPY
BUSINESS_DEVELOPMENT_ALLOCATION = 20_000_000 * CPY
FOUNDERS_ALLOCATION = 20_000_000 * CPY

# The original sale's early-bird tranches: CPY per ETH up to a number of CPY sold, then 740.
ORIGINAL_TRANCHE_LIMITS = (5_000_000 * CPY, 10_000_000 * CPY, 20_000_000 * CPY)
ORIGINAL_TRANCHE_RATES = (1_554, 1_178, 1_000)
# The record says the sale closed at 23:59 on 9 February 2018; the window includes its closing
# second, so the sale closes at the end of that minute, not at its start.
ORIGINAL_CLOSING_TIME = int(datetime(2018, 2, 9, 23, 59, 59, tzinfo=timezone.utc).timestamp())
# Only the closing time is on record for this project; the preset opens a month before it.
ORIGINAL_OPENING_TIME = int(datetime(2018, 1, 10, tzinfo=timezone.utc).timestamp())

PRESETS = ("original", "local")

# The most early-bird tranches `CPYSale` accepts (its MAX_TRANCHES).
MAX_TRANCHES = 4
UINT256_MAX = 2**256 - 1


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

    `original` is the historic schedule (opening 10 January 2018, closing at the end of the minute
    9 February 2018, 23:59 UTC, i.e. 23:59:59, with the early-bird tranches); `local` has the same
    prices and limits, opens at `now` and closes 30 days later.
    """
    if preset == "original":
        return SaleParameters(opening_time=ORIGINAL_OPENING_TIME, closing_time=ORIGINAL_CLOSING_TIME)
    if preset == "local":
        return SaleParameters(opening_time=now, closing_time=now + 30 * DAY)
    raise ValueError(f"unknown sale preset {preset!r}; choose one of {', '.join(PRESETS)}")


def max_raise(sale: SaleParameters) -> int:
    """The wei raised when the whole hard cap is sold, each tranche rounded down (as the sale computes it)."""
    raised, position = 0, 0
    for limit, rate in zip(sale.tranche_limits, sale.tranche_rates):
        raised += (limit - position) // rate
        position = limit
    return raised + (sale.hard_cap - position) // sale.base_rate


def _check_uint(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= UINT256_MAX:
        raise ValueError(f"{name} must be a whole number from 0 to 2**256-1, got {value!r}")


def _check_address(name: str, value) -> None:
    if not isinstance(value, str) or not is_address(value):
        raise ValueError(f"{name} must be an Ethereum address, got {value!r}")
    if int(value, 16) == 0:
        raise ValueError(f"{name} must not be the zero address")


def validate_sale(sale: SaleParameters) -> None:
    """Raises ValueError for any rule `CPYSale`'s and `CPYToken`'s constructors would refuse."""
    for name in ("opening_time", "closing_time", "base_rate", "hard_cap", "soft_cap", "min_contribution",
                 "max_contribution"):
        _check_uint(name, getattr(sale, name))
    for index, value in enumerate(sale.tranche_limits):
        _check_uint(f"tranche_limits[{index}]", value)
    for index, value in enumerate(sale.tranche_rates):
        _check_uint(f"tranche_rates[{index}]", value)
    if sale.closing_time <= sale.opening_time:
        raise ValueError(f"closing time {sale.closing_time} must be after opening time {sale.opening_time}")
    if sale.base_rate == 0:
        raise ValueError("base rate must be positive (CPY per ETH)")
    if sale.hard_cap == 0:
        raise ValueError("hard cap must be positive")
    if sale.hard_cap > SALE_ALLOCATION:
        raise ValueError(f"hard cap {sale.hard_cap} is above the sale allocation {SALE_ALLOCATION} (60M CPY)")
    if sale.min_contribution == 0:
        raise ValueError("minimum contribution must be positive")
    if sale.min_contribution > sale.max_contribution:
        raise ValueError(
            f"minimum contribution {sale.min_contribution} is above maximum contribution {sale.max_contribution}"
        )
    if len(sale.tranche_limits) != len(sale.tranche_rates):
        raise ValueError(
            f"{len(sale.tranche_limits)} tranche limits but {len(sale.tranche_rates)} tranche rates; give one rate per limit"
        )
    if len(sale.tranche_limits) > MAX_TRANCHES:
        raise ValueError(f"{len(sale.tranche_limits)} tranches; the sale takes at most {MAX_TRANCHES}")
    previous = 0
    for index, (limit, rate) in enumerate(zip(sale.tranche_limits, sale.tranche_rates)):
        if limit <= previous:
            raise ValueError(f"tranche limit {index} ({limit}) must be above the previous one ({previous})")
        if rate == 0:
            raise ValueError(f"tranche rate {index} must be positive")
        previous = limit
    if previous > sale.hard_cap:
        raise ValueError(f"last tranche limit {previous} is above the hard cap {sale.hard_cap}")
    reachable = max_raise(sale)
    if sale.soft_cap > reachable:
        raise ValueError(
            f"soft cap {sale.soft_cap} wei is above the {reachable} wei the whole hard cap raises; "
            "lower the soft cap or raise the hard cap"
        )


def validate_vesting(name: str, schedule: VestingSchedule) -> None:
    """Raises ValueError for any schedule `TokenVesting`'s constructor would refuse."""
    for field_name in ("start", "cliff_duration", "duration"):
        _check_uint(f"{name}.{field_name}", getattr(schedule, field_name))
    if schedule.duration == 0:
        raise ValueError(f"{name}: duration must be positive")
    if schedule.cliff_duration > schedule.duration:
        raise ValueError(f"{name}: cliff {schedule.cliff_duration} s is longer than the duration {schedule.duration} s")


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
    Raises ValueError, before anything is sent, for anything a constructor would refuse.
    """
    _check_address("deployer", deployer)
    _check_address("sale wallet", sale_wallet)
    _check_address("business development beneficiary", business_development_beneficiary)
    _check_address("founders beneficiary", founders_beneficiary)
    validate_sale(sale)
    schedule = vesting or VestingSchedule(start=sale.closing_time)
    validate_vesting("vesting", schedule)
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
    minter, so both must exist first and report the new token's address; it also checks that the
    swap burns `old_token`.
    """
    _check_address("deployer", deployer)
    _check_address("old token", old_token)
    _check_address("reserve beneficiary", reserve_beneficiary)
    validate_vesting("reserve vesting", reserve_vesting)
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
    new_token = PlannedDeployment("CPYToken2", (swap.address, vesting.address, old_token), new_token_address)
    return SwapPlan(vesting, swap, new_token)
