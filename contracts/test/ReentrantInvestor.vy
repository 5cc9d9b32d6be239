# pragma version ~=0.4.3
"""
@title Test-only investor that re-enters the sale when paid
@custom:contract-name ReentrantInvestor
@license GNU Affero General Public License v3.0 only
@notice Buys from the sale, then withdraws a refund; when the refund
        arrives it calls back into the sale (`withdraw_refund`, `claim`
        and `finalize`, chosen by `reentry_target`) and records whether
        the nested call succeeded, without reverting itself, so a test
        can tell that the guard, not the attacker, stopped the attack.
"""

interface ISale:
    def buy_tokens(): payable
    def withdraw_refund(): nonpayable


# @dev The attacked sale.
sale: public(immutable(address))

# @dev The calldata of the nested call made on receipt.
reentry_target: public(Bytes[4])

# @dev How many nested calls were attempted.
reentry_attempts: public(uint256)

# @dev How many nested calls succeeded.
reentry_successes: public(uint256)

# @dev The wei received in all.
wei_received: public(uint256)


@deploy
def __init__(sale_: address):
    """
    @dev Targets one sale; the first attack re-enters `withdraw_refund`.
    @param sale_ The sale contract.
    """
    sale = sale_
    self.reentry_target = method_id("withdraw_refund()")


@external
def set_reentry_target(selector: Bytes[4]):
    """
    @dev Chooses the function called back on receipt.
    @param selector The 4-byte selector to call.
    """
    self.reentry_target = selector


@external
@payable
def buy():
    """
    @dev Buys with `msg.value`.
    """
    extcall ISale(sale).buy_tokens(value=msg.value)


@external
def attack():
    """
    @dev Withdraws the refund, which triggers the nested call.
    """
    extcall ISale(sale).withdraw_refund()


@external
@payable
def __default__():
    """
    @dev On every receipt, calls back into the sale once per receipt and
         swallows a failure.
    """
    self.wei_received += msg.value
    self.reentry_attempts += 1
    if raw_call(sale, self.reentry_target, revert_on_failure=False):
        self.reentry_successes += 1
