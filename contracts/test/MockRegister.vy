# pragma version ~=0.4.3
"""
@title Mock register (test only)
@license GNU Affero General Public License v3.0 or later
@notice Stands in for `CopyrightRegister.vy` in the marketplace tests: only
        `owner_of`, plus `set_owner` so a test can register or transfer.
"""

# @dev Owner of each registration id.
_owners: HashMap[uint256, address]


# @dev Emitted when a test sets an owner.
event OwnerSet:
    id: indexed(uint256)
    owner: indexed(address)


@external
def set_owner(id: uint256, owner: address):
    """
    @dev Sets the owner of `id` (anyone may; test only).
    @param id The registration id.
    @param owner The new owner (empty to unregister).
    """
    self._owners[id] = owner
    log OwnerSet(id=id, owner=owner)


@external
@view
def owner_of(id: uint256) -> address:
    """
    @dev The owner of `id`, empty when unknown.
    @param id The registration id.
    @return address The owner.
    """
    return self._owners[id]
