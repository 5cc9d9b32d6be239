# pragma version ~=0.4.3
"""
@title CPY token swap (100M token to 130M token), one for one
@custom:contract-name TokenSwap
@license GNU Affero General Public License v3.0 only
@notice While the owner keeps the swap open, any holder of the old CPY
        token exchanges it one for one for the new token: the swap burns
        the old tokens (`burn_from`, so the holder approves first or uses
        `swap_with_permit`) and mints the same amount of new tokens to the
        holder. The new token caps its supply at 130M; the swap can only
        mint what it burned, and the old supply never exceeds 100M.
"""

from ethereum.ercs import IERC20

from snekmate.auth import ownable

initializes: ownable

exports: (
    ownable.owner,
    ownable.transfer_ownership,
    ownable.renounce_ownership,
)


interface IOldToken:
    def burn_from(owner: address, amount: uint256): nonpayable


interface INewToken:
    def mint(owner: address, amount: uint256): nonpayable


# @dev The token given up (burned).
old_token: public(immutable(address))

# @dev The token received (minted).
new_token: public(immutable(address))

# @dev Whether holders can swap now.
is_open: public(bool)

# @dev Old token units swapped so far.
total_swapped: public(uint256)


# @dev Emitted for every swap.
event TokensSwapped:
    holder: indexed(address)
    amount: uint256

# @dev Emitted when the owner opens the swap.
event SwapOpened:
    operator: indexed(address)

# @dev Emitted when the owner closes the swap.
event SwapClosed:
    operator: indexed(address)


@deploy
def __init__(old_token_: address, new_token_: address):
    """
    @dev The swap starts closed. The new token may not be deployed yet:
         it is created after the swap and checks `new_token()`.
    @param old_token_ The 100M CPY token.
    @param new_token_ The 130M CPY token.
    """
    assert old_token_ != empty(address), "swap: old token is the zero address"
    assert new_token_ != empty(address), "swap: new token is the zero address"
    assert old_token_ != new_token_, "swap: old and new token are the same"
    ownable.__init__()
    old_token = old_token_
    new_token = new_token_


@external
def open_swap():
    """
    @dev Lets holders swap. Owner only.
    """
    ownable._check_owner()
    assert not self.is_open, "swap: already open"
    self.is_open = True
    log SwapOpened(operator=msg.sender)


@external
def close_swap():
    """
    @dev Stops swaps. Owner only.
    """
    ownable._check_owner()
    assert self.is_open, "swap: already closed"
    self.is_open = False
    log SwapClosed(operator=msg.sender)


@external
def swap(amount: uint256):
    """
    @dev Burns `amount` old tokens of the caller (allowance needed) and
         mints `amount` new tokens to the caller.
    @param amount The token units to swap; positive.
    """
    self._swap(msg.sender, amount)


@external
def swap_with_permit(amount: uint256, deadline: uint256, v: uint8, r: bytes32, s: bytes32):
    """
    @dev Like `swap`, with the allowance given by an EIP-2612 signature
         of the caller, so one transaction suffices. If the permit was
         already used (someone submitted the signature first), the swap
         goes ahead on the allowance it set.
    @param amount The token units to swap; positive.
    @param deadline The permit's deadline.
    @param v The signature's `v`.
    @param r The signature's `r`.
    @param s The signature's `s`.
    """
    permitted: bool = raw_call(
        old_token,
        abi_encode(msg.sender, self, amount, deadline, v, r, s, method_id=method_id("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)")),
        revert_on_failure=False,
    )
    if not permitted:
        assert staticcall IERC20(old_token).allowance(msg.sender, self) >= amount, "swap: permit failed and allowance is too low"
    self._swap(msg.sender, amount)


@internal
def _swap(holder: address, amount: uint256):
    """
    @dev Burns the old tokens, then mints the new ones.
    @param holder The caller swapping.
    @param amount The token units to swap.
    """
    assert self.is_open, "swap: swap is closed"
    assert amount > 0, "swap: amount must be positive"
    self.total_swapped += amount
    log TokensSwapped(holder=holder, amount=amount)
    extcall IOldToken(old_token).burn_from(holder, amount)
    extcall INewToken(new_token).mint(holder, amount)
