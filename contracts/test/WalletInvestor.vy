# pragma version ~=0.4.3
"""
@title Test-only contract wallet investor
@custom:contract-name WalletInvestor
@license GNU Affero General Public License v3.0 only
@notice Stands for a smart-contract wallet (a multisig, an account
        abstraction wallet): it buys, claims and withdraws through calls
        from its owner, and its `__default__` writes to storage on every
        receipt, which costs far more than a 2,300-gas stipend. Also used
        as a proxy that tries to buy on someone else's behalf.
"""

interface ISale:
    def buy_tokens(): payable
    def claim(): nonpayable
    def withdraw_refund(): nonpayable


# @dev The sale this wallet talks to.
sale: public(immutable(address))

# @dev The externally owned account that controls this wallet.
controller: public(immutable(address))

# @dev The number of payments received (a storage write per receipt).
payments_received: public(uint256)

# @dev The wei received in all.
wei_received: public(uint256)


# @dev Emitted for every payment received.
event PaymentReceived:
    sender: indexed(address)
    amount: uint256


@deploy
def __init__(sale_: address):
    """
    @dev Binds the wallet to one sale; the deployer controls it.
    @param sale_ The sale contract.
    """
    sale = sale_
    controller = msg.sender


@external
@payable
def buy():
    """
    @dev Forwards `msg.value` to `buy_tokens`.
    """
    self._check_controller()
    extcall ISale(sale).buy_tokens(value=msg.value)


@external
@payable
def send_to_sale():
    """
    @dev Sends `msg.value` to the sale's fallback, forwarding all gas.
    """
    self._check_controller()
    raw_call(sale, b"", value=msg.value)


@external
def claim():
    """
    @dev Claims the wallet's tokens.
    """
    self._check_controller()
    extcall ISale(sale).claim()


@external
def withdraw_refund():
    """
    @dev Withdraws the wallet's refund into the wallet.
    """
    self._check_controller()
    extcall ISale(sale).withdraw_refund()


@external
@payable
def __default__():
    """
    @dev Records every payment in storage (two SSTOREs and a log).
    """
    self.payments_received += 1
    self.wei_received += msg.value
    log PaymentReceived(sender=msg.sender, amount=msg.value)


@internal
@view
def _check_controller():
    """
    @dev Reverts unless the controller calls.
    """
    assert msg.sender == controller, "wallet: caller is not the controller"
