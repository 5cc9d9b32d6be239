# pragma version ~=0.4.3
"""
@title Mock register (test only)
@license GNU Affero General Public License v3.0 or later
@notice Stands in for `CopyrightRegister.vy` in the marketplace tests:
        `owner_of`, `registration` and `MAX_COMMITMENT_AGE`, plus setters
        so a test can register, transfer or move a registration's
        priority time. A registration set here has priority time 0 (long
        past its claim window) until `set_registered_at` says otherwise.
"""

# @dev A registration as the real register's `registration` returns it.
struct Registration:
    owner: address
    registered_at: uint256
    phash: uint64
    parent: uint256


# @dev The claim window of the real register, in seconds.
MAX_COMMITMENT_AGE: public(constant(uint256)) = 86400

# @dev Owner of each registration id.
_owners: HashMap[uint256, address]
# @dev Priority time of each registration id.
_registered_at: HashMap[uint256, uint256]


# @dev Emitted when a test sets an owner.
event OwnerSet:
    id: indexed(uint256)
    owner: indexed(address)

# @dev Emitted when a test sets a priority time.
event RegisteredAtSet:
    id: indexed(uint256)
    registered_at: uint256


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
def set_registered_at(id: uint256, registered_at: uint256):
    """
    @dev Sets the priority time of `id` (anyone may; test only).
    @param id The registration id.
    @param registered_at The priority time.
    """
    self._registered_at[id] = registered_at
    log RegisteredAtSet(id=id, registered_at=registered_at)


@external
@view
def owner_of(id: uint256) -> address:
    """
    @dev The owner of `id`, empty when unknown.
    @param id The registration id.
    @return address The owner.
    """
    return self._owners[id]


@external
@view
def registration(id: uint256) -> Registration:
    """
    @dev Owner and priority time of `id` (phash and parent are zero).
    @param id The registration id.
    @return Registration The registration.
    """
    return Registration(owner=self._owners[id], registered_at=self._registered_at[id], phash=0, parent=0)
