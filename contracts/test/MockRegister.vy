# pragma version ~=0.4.3
"""
@title Mock register (test only)
@license GNU Affero General Public License v3.0 or later
@notice Stands in for `CopyrightRegister.vy` in the marketplace tests:
        `owner_of`, `registration`, `ownership` and `MAX_COMMITMENT_AGE`, plus setters
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

# @dev Owner (bits 0-159) and priority time (160-255) of each registration id: one word, as the
#      real register packs them, so that gas measured against this mock is what the register costs.
_packed: HashMap[uint256, uint256]
# @dev Never set: read by `registration` as the real register reads a parent, so its gas is the same.
_parent_of: HashMap[uint256, uint256]


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
    self._packed[id] = (self._packed[id] & ~convert(max_value(uint160), uint256)) | convert(owner, uint256)
    log OwnerSet(id=id, owner=owner)


@external
def set_registered_at(id: uint256, registered_at: uint256):
    """
    @dev Sets the priority time of `id` (anyone may; test only).
    @param id The registration id.
    @param registered_at The priority time.
    """
    self._packed[id] = (self._packed[id] & convert(max_value(uint160), uint256)) | (registered_at << 160)
    log RegisteredAtSet(id=id, registered_at=registered_at)


@external
@view
def owner_of(id: uint256) -> address:
    """
    @dev The owner of `id`, empty when unknown.
    @param id The registration id.
    @return address The owner.
    """
    return convert(convert(self._packed[id] & convert(max_value(uint160), uint256), uint160), address)


@external
@view
def registration(id: uint256) -> Registration:
    """
    @dev Owner and priority time of `id` (phash and parent are zero).
    @param id The registration id.
    @return Registration The registration.
    """
    packed: uint256 = self._packed[id]
    return Registration(owner=convert(convert(packed & convert(max_value(uint160), uint256), uint160), address),
                        registered_at=packed >> 160, phash=0, parent=self._parent_of[id])


@external
@view
def ownership(id: uint256) -> (address, uint256):
    """
    @dev Owner and priority time of `id`, from one word as the real register reads them.
    @param id The registration id.
    @return address The owner (empty when unknown).
    @return uint256 The priority time.
    """
    packed: uint256 = self._packed[id]
    return convert(convert(packed & convert(max_value(uint160), uint256), uint160), address), packed >> 160
