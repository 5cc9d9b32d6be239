# pragma version ~=0.4.3
"""
@title Naive Copyright Register (gas baseline, test only)
@custom:contract-name NaiveRegister
@license GNU Affero General Public License v3.0 or later
@notice The straightforward layout that `CopyrightRegister` is measured
        against in `bench/gas_register.py`: sequential ids, every field of a
        registration in its own storage slot (owner, content hash, phash, CID
        codec, CID digest, parent, timestamp) plus a content-hash-to-id
        mapping. Same rules for `register` and `register_batch` (no duplicate
        content, known parent, supported CID codec, same event). Not deployed
        by the project.
"""


# @dev A registration request (same as `CopyrightRegister.Item`).
struct Item:
    content_hash: bytes32
    phash: uint64
    cid_codec: uint16
    cid_digest: bytes32
    parent: uint256


# @dev A stored registration; Vyper gives every member its own slot.
struct Record:
    owner: address
    content_hash: bytes32
    phash: uint64
    cid_codec: uint16
    cid_digest: bytes32
    parent: uint256
    registered_at: uint256


# @dev The registrations by sequential id (1, 2, ...).
records: public(HashMap[uint256, Record])

# @dev The id of each registered content hash (0: not registered).
id_of: public(HashMap[bytes32, uint256])

# @dev The number of registrations (also the last id).
registration_count: public(uint256)


# @dev Emitted when an image is registered (same fields as in
# `CopyrightRegister`).
event Registered:
    id: indexed(uint256)
    owner: indexed(address)
    parent: indexed(uint256)
    phash: uint64
    cid_codec: uint16
    cid_digest: bytes32
    registered_at: uint256


@external
def register(item: Item) -> uint256:
    """
    @dev Registers an image for the caller.
    @param item The image data.
    @return uint256 The new sequential id.
    """
    return self._register(item)


@external
def register_batch(items: DynArray[Item, 100]) -> DynArray[uint256, 100]:
    """
    @dev Registers up to 100 images for the caller.
    @param items The images.
    @return DynArray The new ids, in the order of `items`.
    """
    assert len(items) > 0, "register: empty batch"
    ids: DynArray[uint256, 100] = []
    for item: Item in items:
        ids.append(self._register(item))
    return ids


@internal
def _register(item: Item) -> uint256:
    """
    @dev Validates and stores one registration, field by field.
    @param item The image data.
    @return uint256 The new id.
    """
    assert item.content_hash != empty(bytes32), "register: empty content hash"
    assert item.cid_codec == 85 or item.cid_codec == 112, "register: unsupported CID codec"
    assert self.id_of[item.content_hash] == 0, "register: already registered"
    assert item.parent <= self.registration_count, "register: unknown parent"
    id: uint256 = self.registration_count + 1
    self.registration_count = id
    self.id_of[item.content_hash] = id
    self.records[id] = Record(
        owner=msg.sender,
        content_hash=item.content_hash,
        phash=item.phash,
        cid_codec=item.cid_codec,
        cid_digest=item.cid_digest,
        parent=item.parent,
        registered_at=block.timestamp,
    )
    log Registered(
        id=id,
        owner=msg.sender,
        parent=item.parent,
        phash=item.phash,
        cid_codec=item.cid_codec,
        cid_digest=item.cid_digest,
        registered_at=block.timestamp,
    )
    return id
