# pragma version ~=0.4.3
"""
@title Token without return values (test only)
@license GNU Affero General Public License v3.0 or later
@notice An ERC-20 look-alike whose `transfer` and `transferFrom` return
        nothing (like USDT); the contracts must still work with it.
"""

# @dev Token balances.
balanceOf: public(HashMap[address, uint256])
# @dev Allowances: owner => spender => amount.
allowance: public(HashMap[address, HashMap[address, uint256]])


# @dev Emitted on every balance move.
event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    amount: uint256

# @dev Emitted on approval.
event Approval:
    owner: indexed(address)
    spender: indexed(address)
    amount: uint256


@external
def mint(owner: address, amount: uint256):
    """
    @dev Mints to anyone (test only).
    @param owner The receiver.
    @param amount The amount.
    """
    self.balanceOf[owner] += amount
    log Transfer(sender=empty(address), receiver=owner, amount=amount)


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @dev Sets an allowance.
    @param spender The spender.
    @param amount The allowance.
    @return bool Always True.
    """
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, amount=amount)
    return True


@external
def transfer(receiver: address, amount: uint256):
    """
    @dev Moves tokens; returns nothing on purpose.
    @param receiver The receiver.
    @param amount The amount.
    """
    self._move(msg.sender, receiver, amount)


@external
def transferFrom(sender: address, receiver: address, amount: uint256):
    """
    @dev Moves tokens through an allowance; returns nothing on purpose.
    @param sender The owner of the tokens.
    @param receiver The receiver.
    @param amount The amount.
    """
    assert self.allowance[sender][msg.sender] >= amount, "token: allowance too low"
    self.allowance[sender][msg.sender] -= amount
    self._move(sender, receiver, amount)


@internal
def _move(sender: address, receiver: address, amount: uint256):
    assert self.balanceOf[sender] >= amount, "token: balance too low"
    self.balanceOf[sender] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, amount=amount)
