# pragma version ~=0.4.3
"""
@title Token vesting: cliff, then linear release
@custom:contract-name TokenVesting
@license GNU Affero General Public License v3.0 only
@notice Holds an allocation of one ERC-20 token for one beneficiary and
        releases it as it vests: nothing before `start + cliff_duration`,
        then `total * (now - start) / duration`, everything from
        `start + duration` on. `total` is what the contract holds plus
        what it has released, so tokens arriving later vest on the same
        schedule. Anyone may call `release`; the tokens always go to the
        beneficiary, so a keeper can pay the gas. There is no owner and no
        revocation: the schedule fixed at deployment is the only rule.
"""

from ethereum.ercs import IERC20


# @dev The vested token.
token: public(immutable(address))

# @dev The only address that ever receives released tokens.
beneficiary: public(immutable(address))

# @dev The Unix time vesting is measured from.
start: public(immutable(uint256))

# @dev Seconds after `start` before which nothing vests.
cliff_duration: public(immutable(uint256))

# @dev Seconds after `start` at which everything has vested.
duration: public(immutable(uint256))

# @dev The amount released to the beneficiary so far.
released: public(uint256)


# @dev Emitted whenever vested tokens are sent to the beneficiary.
event TokensReleased:
    beneficiary: indexed(address)
    amount: uint256


@deploy
def __init__(token_: address, beneficiary_: address, start_: uint256, cliff_duration_: uint256, duration_: uint256):
    """
    @dev Fixes the schedule. The token address may be one that is not
         deployed yet (the CPY token is created after its recipients).
    @param token_ The vested ERC-20 token.
    @param beneficiary_ The receiver of released tokens.
    @param start_ The Unix time vesting starts.
    @param cliff_duration_ Seconds after `start_` before anything vests.
    @param duration_ Seconds after `start_` until everything has vested;
           must be positive and at least `cliff_duration_`.
    """
    assert token_ != empty(address), "vesting: token is the zero address"
    assert beneficiary_ != empty(address), "vesting: beneficiary is the zero address"
    assert duration_ > 0, "vesting: duration must be positive"
    assert cliff_duration_ <= duration_, "vesting: cliff longer than duration"
    token = token_
    beneficiary = beneficiary_
    start = start_
    cliff_duration = cliff_duration_
    duration = duration_


@external
@view
def vested_amount(timestamp: uint256) -> uint256:
    """
    @dev The amount vested (released or not) at `timestamp`.
    @param timestamp The Unix time to evaluate the schedule at.
    @return uint256 The vested amount in token base units.
    """
    return self._vested_amount(timestamp)


@external
@view
def releasable() -> uint256:
    """
    @dev The amount `release` would send now.
    @return uint256 The vested but unreleased amount.
    """
    return self._vested_amount(block.timestamp) - self.released


@external
def release() -> uint256:
    """
    @dev Sends everything vested and not yet released to the
         beneficiary. Callable by anyone.
    @return uint256 The amount released.
    """
    amount: uint256 = self._vested_amount(block.timestamp) - self.released
    assert amount > 0, "vesting: nothing to release yet"
    self.released += amount
    log TokensReleased(beneficiary=beneficiary, amount=amount)
    assert extcall IERC20(token).transfer(beneficiary, amount, default_return_value=True), "vesting: token transfer failed"
    return amount


@internal
@view
def _vested_amount(timestamp: uint256) -> uint256:
    """
    @dev The cliff-then-linear schedule.
    @param timestamp The Unix time to evaluate the schedule at.
    @return uint256 The vested amount in token base units.
    """
    if timestamp < start + cliff_duration:
        return 0
    total: uint256 = staticcall IERC20(token).balanceOf(self) + self.released
    if timestamp >= start + duration:
        return total
    return total * (timestamp - start) // duration
