# pragma version ~=0.4.3
"""
@title ETH-rejecting seller (test only)
@license GNU Affero General Public License v3.0 or later
@notice A contract that owns registrations and signs offers by ERC-1271 but
        reverts on every incoming ETH transfer. Its own withdrawals fail;
        nobody else's must.
"""

# @dev The account that controls this contract.
controller: public(address)
# @dev Hashes this contract accepts as signed (ERC-1271).
approved_hash: public(HashMap[bytes32, bool])


@deploy
def __init__():
    """
    @dev The deployer controls the contract.
    """
    self.controller = msg.sender


@external
def approve_hash(digest: bytes32):
    """
    @dev Accepts `digest` as signed by this contract.
    @param digest The EIP-712 digest.
    """
    assert msg.sender == self.controller, "rejecter: not the controller"
    self.approved_hash[digest] = True


@external
def execute(target: address, data: Bytes[4096]) -> Bytes[256]:
    """
    @dev Calls `target` with `data`, bubbling reverts.
    @param target The contract.
    @param data The calldata.
    @return Bytes The return data.
    """
    assert msg.sender == self.controller, "rejecter: not the controller"
    return raw_call(target, data, max_outsize=256)


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
