# pragma version ~=0.4.3
"""
@title COPYTRACK Token, second generation (CPY, 130M maximum)
@custom:contract-name CPYToken2
@license GNU Affero General Public License v3.0 only
@notice The successor of the 100M CPY token, built from snekmate's
        `erc20` module (burnable, EIP-2612 `permit`). At most
        130,000,000 CPY can ever exist. The constructor creates the
        30,000,000 CPY reserve in its vesting contract; the rest comes
        into existence only through the swap contract, the one and only
        minter, which mints one new token for every old token it burns.
        Ownership is renounced in the constructor and neither `set_minter`
        nor ownership transfers are exported, so the minter can never
        change and the cap (checked in `mint` on top of the old supply
        being bounded) can never be exceeded.
        The swap and the reserve vesting contract are deployed first and
        must report this token as their `new_token()` / `token()`; the
        swap must also burn the expected old token (`old_token()`), so a
        swap wired to another token can never become the minter.
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed

from snekmate.auth import ownable
from snekmate.tokens import erc20

from interfaces import ITokenHolder

implements: IERC20
implements: IERC20Detailed

initializes: ownable
initializes: erc20[ownable := ownable]

exports: (
    erc20.totalSupply,
    erc20.balanceOf,
    erc20.allowance,
    erc20.transfer,
    erc20.transferFrom,
    erc20.approve,
    erc20.name,
    erc20.symbol,
    erc20.decimals,
    erc20.burn,
    erc20.burn_from,
    erc20.permit,
    erc20.nonces,
    erc20.DOMAIN_SEPARATOR,
    erc20.eip712Domain,
    erc20.is_minter,
    erc20.owner,
)


interface ISwap:
    def new_token() -> address: view
    def old_token() -> address: view


# @dev One whole CPY in base units (18 decimals).
_CPY: constant(uint256) = 10**18

# @dev The most CPY that can ever exist.
MAX_SUPPLY: public(constant(uint256)) = 130_000_000 * _CPY

# @dev The reserve created at deployment, beyond the old 100M supply.
RESERVE_ALLOCATION: public(constant(uint256)) = 30_000_000 * _CPY

# @dev The swap contract, the only minter.
swap: public(immutable(address))

# @dev The 100M CPY token the swap burns.
old_token: public(immutable(address))

# @dev The vesting contract holding the reserve.
reserve_vesting: public(immutable(address))


@deploy
def __init__(swap_: address, reserve_vesting_: address, old_token_: address):
    """
    @dev Mints the reserve into its vesting contract, makes the swap the
         only minter and leaves no owner.
    @param swap_ The swap contract; must report this token as `new_token()`.
    @param reserve_vesting_ The vesting contract of the 30M reserve; must
           report this token as `token()`.
    @param old_token_ The 100M CPY token; the swap must report it as
           `old_token()`.
    """
    assert old_token_ != empty(address), "token2: old token is the zero address"
    assert swap_.is_contract, "token2: swap is not wired to this token"
    assert staticcall ISwap(swap_).new_token() == self, "token2: swap is not wired to this token"
    assert staticcall ISwap(swap_).old_token() == old_token_, "token2: swap does not burn the expected old token"
    assert reserve_vesting_.is_contract, "token2: reserve vesting is not wired to this token"
    assert staticcall ITokenHolder(reserve_vesting_).token() == self, "token2: reserve vesting is not wired to this token"

    ownable.__init__()
    erc20.__init__("COPYTRACK Token", "CPY", 18, "COPYTRACK Token", "2")
    swap = swap_
    old_token = old_token_
    reserve_vesting = reserve_vesting_

    erc20._mint(reserve_vesting_, RESERVE_ALLOCATION)

    erc20.is_minter[msg.sender] = False
    log erc20.RoleMinterChanged(minter=msg.sender, status=False)
    erc20.is_minter[swap_] = True
    log erc20.RoleMinterChanged(minter=swap_, status=True)
    ownable._transfer_ownership(empty(address))


@external
def mint(owner: address, amount: uint256):
    """
    @dev Creates `amount` tokens for `owner`. Swap contract only, and
         never beyond `MAX_SUPPLY`.
    @param owner The receiver of the new tokens.
    @param amount The token units to create.
    """
    assert msg.sender == swap, "token2: caller is not the swap"
    assert erc20.totalSupply + amount <= MAX_SUPPLY, "token2: mint would exceed the maximum supply"
    erc20._mint(owner, amount)
