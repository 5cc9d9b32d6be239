# pragma version ~=0.4.3
"""
@title COPYTRACK Token (CPY)
@custom:contract-name CPYToken
@license GNU Affero General Public License v3.0 only
@notice The ERC-20 payment unit of the Copytrack platform, built from
        snekmate's `erc20` module: 18 decimals, burnable (`burn`,
        `burn_from`) and EIP-2612 `permit`.
        Exactly 100,000,000 CPY are created in the constructor and never
        more: 60,000,000 to the sale, 20,000,000 to the business-development
        vesting contract and 20,000,000 to the founders' vesting contract.
        The deployer receives nothing. The constructor removes the
        deployer's minter role and renounces ownership, so no minter and
        no owner remain and `mint` / `set_minter` are not even exported.
        The three recipients are deployed first (they know this token's
        address in advance, computed from the deployer's nonce); the
        constructor asks each of them for `token()` and refuses to deploy
        if any of them points elsewhere, so a wrongly wired deployment
        fails instead of stranding tokens.
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed

from snekmate.auth import ownable
from snekmate.tokens import erc20

from interfaces import ITokenHolder

implements: IERC20
implements: IERC20Detailed


interface ISaleCap:
    def hard_cap() -> uint256: view

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


# @dev One whole CPY in base units (18 decimals).
_CPY: constant(uint256) = 10**18

# @dev The supply created at deployment; nothing can ever be added.
INITIAL_SUPPLY: public(constant(uint256)) = 100_000_000 * _CPY

# @dev The allocation sent to the crowdsale contract.
SALE_ALLOCATION: public(constant(uint256)) = 60_000_000 * _CPY

# @dev The allocation sent to the business-development vesting contract.
BUSINESS_DEVELOPMENT_ALLOCATION: public(constant(uint256)) = 20_000_000 * _CPY

# @dev The allocation sent to the founders' and advisors' vesting contract.
FOUNDERS_ALLOCATION: public(constant(uint256)) = 20_000_000 * _CPY


# @dev Emitted once, in the constructor, with the three recipients.
event AllocationsDistributed:
    sale: indexed(address)
    business_development_vesting: indexed(address)
    founders_vesting: indexed(address)


@deploy
def __init__(sale: address, business_development_vesting: address, founders_vesting: address):
    """
    @dev Creates the whole supply, distributes it and leaves no minter
         and no owner behind.
    @param sale The crowdsale contract; receives 60,000,000 CPY.
    @param business_development_vesting The vesting contract of the
           business-development allocation; receives 20,000,000 CPY.
    @param founders_vesting The vesting contract of the founders' and
           advisors' allocation; receives 20,000,000 CPY.
    """
    assert self._is_wired(sale), "token: sale is not wired to this token"
    assert self._is_wired(business_development_vesting), "token: business development vesting is not wired to this token"
    assert self._is_wired(founders_vesting), "token: founders vesting is not wired to this token"
    assert staticcall ISaleCap(sale).hard_cap() <= SALE_ALLOCATION, "token: sale hard cap above the sale allocation"
    assert sale != business_development_vesting and sale != founders_vesting, "token: recipients must be distinct"
    assert business_development_vesting != founders_vesting, "token: recipients must be distinct"

    ownable.__init__()
    erc20.__init__("COPYTRACK Token", "CPY", 18, "COPYTRACK Token", "1")

    erc20._mint(sale, SALE_ALLOCATION)
    erc20._mint(business_development_vesting, BUSINESS_DEVELOPMENT_ALLOCATION)
    erc20._mint(founders_vesting, FOUNDERS_ALLOCATION)
    log AllocationsDistributed(
        sale=sale,
        business_development_vesting=business_development_vesting,
        founders_vesting=founders_vesting,
    )

    erc20.is_minter[msg.sender] = False
    log erc20.RoleMinterChanged(minter=msg.sender, status=False)
    ownable._transfer_ownership(empty(address))


@internal
@view
def _is_wired(recipient: address) -> bool:
    """
    @dev Whether `recipient` is a contract whose `token()` is this
         contract.
    @param recipient The allocation recipient to check.
    @return bool True if the recipient reports this token.
    """
    if not recipient.is_contract:
        return False
    return staticcall ITokenHolder(recipient).token() == self
