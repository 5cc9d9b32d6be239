# pragma version ~=0.4.3
"""
@title Re-entering account (test only)
@license GNU Affero General Public License v3.0 or later
@notice Plays a buyer or a seller: it forwards any call (`execute`),
        accepts offers and mandates by ERC-1271 for hashes its controller
        approved, and whenever it receives ETH it tries to call back into
        `reentry_target` with `reentry_data` (a second `withdraw`, say). It
        records whether that re-entry succeeded instead of reverting, so a
        test can see both that the payment arrived and that re-entry failed.
"""

# @dev The account that controls this contract.
controller: public(address)
# @dev Hashes this contract accepts as signed (ERC-1271).
approved_hash: public(HashMap[bytes32, bool])
# @dev Where and what to call back when ETH arrives.
reentry_target: public(address)
reentry_data: public(Bytes[1024])
# @dev Re-entries tried and re-entries that succeeded.
reentries_tried: public(uint256)
reentries_succeeded: public(uint256)


# @dev Emitted when ETH arrives and re-entry was tried.
event ReentryTried:
    succeeded: bool
    value_received: uint256


@deploy
def __init__():
    """
    @dev The deployer controls the account.
    """
    self.controller = msg.sender


@external
def approve_hash(digest: bytes32):
    """
    @dev Accepts `digest` as signed by this contract.
    @param digest The EIP-712 digest.
    """
    assert msg.sender == self.controller, "attacker: not the controller"
    self.approved_hash[digest] = True


@external
def set_reentry(target: address, data: Bytes[1024]):
    """
    @dev Sets the call to try when ETH arrives (empty target: none).
    @param target The contract to re-enter.
    @param data The calldata.
    """
    assert msg.sender == self.controller, "attacker: not the controller"
    self.reentry_target = target
    self.reentry_data = data


@external
@payable
def execute(target: address, data: Bytes[4096], amount: uint256) -> Bytes[256]:
    """
    @dev Calls `target` with `data` and `amount` wei, bubbling reverts.
    @param target The contract.
    @param data The calldata.
    @param amount Wei to send along (from msg.value or this contract's balance).
    @return Bytes The return data.
    """
    assert msg.sender == self.controller, "attacker: not the controller"
    return raw_call(target, data, value=amount, max_outsize=256)


@external
@view
def isValidSignature(digest: bytes32, signature: Bytes[65]) -> bytes4:
    """
    @dev ERC-1271: the magic value for approved hashes.
    @param digest The digest.
    @param signature Ignored.
    @return bytes4 0x1626BA7E when approved, else zero.
    """
    if self.approved_hash[digest]:
        return 0x1626BA7E
    return 0x00000000


@external
@payable
def __default__():
    """
    @dev Receives ETH and tries to re-enter.
    """
    if self.reentry_target == empty(address):
        return
    self.reentries_tried += 1
    ok: bool = raw_call(self.reentry_target, self.reentry_data, revert_on_failure=False)
    if ok:
        self.reentries_succeeded += 1
    log ReentryTried(succeeded=ok, value_received=msg.value)
