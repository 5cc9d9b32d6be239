# pragma version ~=0.4.3
"""
@title Copytrack Copyright Register
@custom:contract-name CopyrightRegister
@license GNU Affero General Public License v3.0 or later
@notice A public register that binds an owner address to an image and a
        priority time. A registration is identified by the SHA-256 of the
        image file (`id = convert(content_hash, uint256)`), so the same bytes
        can be registered once only.

        Storage design: the owner (160 bits), the priority time (32 bits,
        seconds since the epoch, good until the year 2106) and the 64-bit
        perceptual hash share ONE storage slot, so an original work costs a
        single fresh slot. The IPFS CID (codec and sha2-256 digest) is a
        function of the file's bytes and is only emitted in `Registered`;
        the parent link of a derivative work lives in separate slots that
        originals never touch.

        Ways to register:
        - `register` / `register_batch`: the owner sends the transaction.
        - `register_by_sig`: the owner signs an EIP-712 `Register` message
          and anyone (a relayer) submits it; the owner pays no gas.
        - `commit` then `reveal` / `reveal_by_sig`: front-running protection.
          The commitment hides the content hash; the reveal registers with
          the commit time as priority time and takes over a registration
          that someone made later than the commitment (a front-runner who
          copied the content hash out of the pending reveal).
        - `commit` then `reveal_batch_by_sig`: the gasless path for many
          images. The owner signs ONE EIP-712 `RevealBatch` message over up
          to 100 items, with an unordered nonce (a bit in `nonce_bitmap`, as
          Permit2 does), so any number of signed batches can be outstanding
          and be revealed in any order. The relayer commits once to the
          whole batch (`batch_commitment_of`) and reveals it in one
          transaction a block later; every item gets the commit time as its
          priority time and its own `Registered` event. An owner cancels
          signed batches not yet revealed with `invalidate_nonces`.

        Rights-holders can be graded by holders of `ATTESTOR_ROLE`
        (none / identity checked / verified creator).
"""


# @dev Role-based access control for the attestors (snekmate).
from ethereum.ercs import IERC165
implements: IERC165

from snekmate.auth.interfaces import IAccessControl
implements: IAccessControl

from snekmate.auth import access_control
initializes: access_control

# @dev EIP-712 domain "Copytrack Register", version "1" (snekmate).
from snekmate.utils.interfaces import IERC5267
implements: IERC5267

from snekmate.utils import eip712_domain_separator
initializes: eip712_domain_separator

# @dev Signature recovery (stateless, needs no `uses`).
from snekmate.utils import ecdsa


# @dev The role functions (`grantRole`, `hasRole`, ...) and the
# EIP-5267 domain description are part of the public interface.
exports: (
    access_control.__interface__,
    eip712_domain_separator.eip712Domain,
)


# @dev A registration request: what the owner submits or signs.
struct Item:
    content_hash: bytes32
    phash: uint64
    cid_codec: uint16
    cid_digest: bytes32
    parent: uint256


# @dev A registration as the views return it.
struct Registration:
    owner: address
    registered_at: uint256
    phash: uint64
    parent: uint256


# @dev The role that may record verification levels.
ATTESTOR_ROLE: public(constant(bytes32)) = keccak256("ATTESTOR_ROLE")

# @dev The EIP-712 type hash of the `Register` message (used by
# `register_by_sig` and `reveal_by_sig`).
REGISTER_TYPEHASH: public(constant(bytes32)) = keccak256(
    "Register(address owner,bytes32 content_hash,uint64 phash,uint16 cid_codec,bytes32 cid_digest,uint256 parent,uint256 nonce,uint256 deadline)"
)


# @dev The EIP-712 type of a gasless reveal. It names the salt, so a signed
# reveal cannot be replayed through `register_by_sig` by someone who copies
# it out of the mempool (that would use up the nonce and lose the commit time).
REVEAL_TYPEHASH: public(constant(bytes32)) = keccak256(
    "Reveal(address owner,bytes32 content_hash,uint64 phash,uint16 cid_codec,bytes32 cid_digest,uint256 parent,bytes32 salt,uint256 nonce,uint256 deadline)"
)

# @dev The EIP-712 type of one image in a `RevealBatch`.
ITEM_TYPEHASH: public(constant(bytes32)) = keccak256(
    "Item(bytes32 content_hash,uint64 phash,uint16 cid_codec,bytes32 cid_digest,uint256 parent)"
)

# @dev The EIP-712 type of a gasless batch reveal (`reveal_batch_by_sig`).
# Its nonce is unordered: any unused number, spent in `nonce_bitmap`.
REVEAL_BATCH_TYPEHASH: public(constant(bytes32)) = keccak256(
    "RevealBatch(address owner,Item[] items,bytes32 salt,uint256 nonce,uint256 deadline)Item(bytes32 content_hash,uint64 phash,uint16 cid_codec,bytes32 cid_digest,uint256 parent)"
)

# @dev A commitment must be revealed within this many seconds.
MAX_COMMITMENT_AGE: public(constant(uint256)) = 86400

# @dev The most items one batch (and one page of `children`) may hold.
MAX_BATCH: public(constant(uint256)) = 100

# @dev CIDv1 codec of a single-block file ("raw").
CODEC_RAW: public(constant(uint16)) = 85  # 0x55

# @dev CIDv1 codec of a chunked UnixFS file ("dag-pb").
CODEC_DAG_PB: public(constant(uint16)) = 112  # 0x70

# @dev The highest verification level ("verified creator").
MAX_VERIFICATION_LEVEL: public(constant(uint8)) = 2

# Bit layout of a packed registration: owner in bits 0..159,
# priority time in bits 160..191, phash in bits 192..255.

# @dev Selects the owner (bits 0..159) of a packed registration.
_OWNER_MASK: constant(uint256) = 2**160 - 1

# @dev Position of the priority time (bits 160..191).
_TIME_SHIFT: constant(uint256) = 160

# @dev Priority times must be below 2**32 (February 2106).
_TIME_LIMIT: constant(uint256) = 2**32

# @dev Selects the priority time after shifting it down.
_TIME_MASK: constant(uint256) = 2**32 - 1

# @dev Position of the perceptual hash (bits 192..255).
_PHASH_SHIFT: constant(uint256) = 192


# @dev The packed registration (owner | priority time | phash) by id.
_packed: HashMap[uint256, uint256]

# @dev The parent of a derivative work (absent for originals).
_parent_of: HashMap[uint256, uint256]

# @dev The children of a registration, by position.
_children: HashMap[uint256, HashMap[uint256, uint256]]

# @dev The position of a derivative work in its parent's children.
_child_position: HashMap[uint256, uint256]

# @dev The number of children of each registration.
child_count: public(HashMap[uint256, uint256])

# @dev The number of registrations.
registration_count: public(uint256)

# @dev The next EIP-712 nonce of each owner.
nonces: public(HashMap[address, uint256])

# @dev The unordered nonces each owner has spent on `RevealBatch`
# messages: bit `nonce % 256` of word `nonce / 256` (Permit2's layout).
nonce_bitmap: public(HashMap[address, HashMap[uint256, uint256]])

# @dev The block time at which each commitment was made (0: none).
commitment_time: public(HashMap[bytes32, uint256])

# @dev The verification level of each account (0 none,
# 1 identity checked, 2 verified creator).
verification_level: public(HashMap[address, uint8])


# @dev Emitted when an image is registered, and again (with the
# revealer's data) when a reveal claims priority over a later registration.
event Registered:
    id: indexed(uint256)
    owner: indexed(address)
    parent: indexed(uint256)
    phash: uint64
    cid_codec: uint16
    cid_digest: bytes32
    registered_at: uint256


# @dev Emitted when the owner assigns a registration to a new owner.
event Transferred:
    id: indexed(uint256)
    previous_owner: indexed(address)
    new_owner: indexed(address)


# @dev Emitted when a reveal takes over a registration made after
# its commitment.
event PriorityClaimed:
    id: indexed(uint256)
    previous_owner: indexed(address)
    new_owner: indexed(address)
    commit_time: uint256


# @dev Emitted when a commitment is recorded.
event Committed:
    commitment: indexed(bytes32)
    committer: indexed(address)


# @dev Emitted when an unordered `RevealBatch` nonce is spent.
event NonceUsed:
    owner: indexed(address)
    nonce: uint256


# @dev Emitted when an owner spends unordered nonces without a batch
# (`mask`: the bits spent in word `word` of `nonce_bitmap`).
event NoncesInvalidated:
    owner: indexed(address)
    word: uint256
    mask: uint256


# @dev Emitted when an attestor records a verification level.
event VerificationSet:
    account: indexed(address)
    level: uint8
    attestor: indexed(address)


@deploy
def __init__():
    """
    @dev The deployer holds `DEFAULT_ADMIN_ROLE` (it can grant and revoke
         `ATTESTOR_ROLE`) and `ATTESTOR_ROLE`.
    """
    access_control.__init__()
    eip712_domain_separator.__init__("Copytrack Register", "1")
    access_control._grant_role(ATTESTOR_ROLE, msg.sender)


@external
def register(item: Item) -> uint256:
    """
    @dev Registers an image for the caller with the current block time.
    @notice Anyone watching the mempool can copy the content hash and
            register it first; use `commit` + `reveal` when that matters.
    @param item The image: content hash, perceptual hash, CID, parent.
    @return uint256 The registration id (the content hash as a number).
    """
    id: uint256 = self._register(msg.sender, item, block.timestamp)
    self.registration_count += 1
    return id


@external
def register_batch(items: DynArray[Item, MAX_BATCH]) -> DynArray[uint256, MAX_BATCH]:
    """
    @dev Registers up to 100 images for the caller in one transaction.
         The batch is all or nothing: one bad item reverts the whole batch.
         An item may name an earlier item of the same batch as its parent.
    @param items The images.
    @return DynArray The registration ids, in the order of `items`.
    """
    assert len(items) > 0, "register: empty batch"
    ids: DynArray[uint256, MAX_BATCH] = []
    for item: Item in items:
        ids.append(self._register(msg.sender, item, block.timestamp))
    self.registration_count += len(items)
    return ids


@external
def register_by_sig(owner: address, item: Item, deadline: uint256, signature: Bytes[65]) -> uint256:
    """
    @dev Registers an image for `owner`, who signed an EIP-712 `Register`
         message; the caller (a relayer) pays the gas and gains nothing.
    @param owner The signer, who becomes the owner.
    @param item The signed image data.
    @param deadline The last block time at which the signature is valid.
    @param signature The 65-byte (or 64-byte EIP-2098) signature.
    @return uint256 The registration id.
    """
    self._use_signature(owner, item, empty(bytes32), False, deadline, signature)
    id: uint256 = self._register(owner, item, block.timestamp)
    self.registration_count += 1
    return id


@external
def commit(commitment: bytes32):
    """
    @dev Records the block time of a commitment, the first step of a
         front-running-safe registration. Anyone may commit for anyone.
    @notice `commitment = keccak256(abi_encode(owner, content_hash, salt))`
            (see `commitment_of`); keep the salt secret until the reveal.
            A commitment can be recorded once, so nobody can restart its clock.
    @param commitment The commitment hash.
    """
    assert commitment != empty(bytes32), "register: empty commitment"
    assert self.commitment_time[commitment] == 0, "register: already committed"
    self.commitment_time[commitment] = block.timestamp
    log Committed(commitment=commitment, committer=msg.sender)


@external
def reveal(item: Item, salt: bytes32) -> uint256:
    """
    @dev Registers an image for the caller with the time of its commitment
         as priority time. If someone registered the same content after the
         commitment was made, the registration passes to the caller
         (`PriorityClaimed`).
    @param item The image data.
    @param salt The secret salt of the commitment.
    @return uint256 The registration id.
    """
    return self._reveal(msg.sender, item, salt)


@external
def reveal_by_sig(owner: address, item: Item, salt: bytes32, deadline: uint256, signature: Bytes[65]) -> uint256:
    """
    @dev `reveal` on behalf of `owner`, who signed an EIP-712 `Reveal`
         message (the `Register` fields plus the salt).
    @param owner The signer, who becomes the owner.
    @param item The signed image data.
    @param salt The secret salt of the commitment.
    @param deadline The last block time at which the signature is valid.
    @param signature The 65-byte (or 64-byte EIP-2098) signature.
    @return uint256 The registration id.
    """
    self._use_signature(owner, item, salt, True, deadline, signature)
    return self._reveal(owner, item, salt)


@external
def reveal_batch_by_sig(
    owner: address,
    items: DynArray[Item, MAX_BATCH],
    salt: bytes32,
    nonce: uint256,
    deadline: uint256,
    signature: Bytes[65],
) -> DynArray[uint256, MAX_BATCH]:
    """
    @dev Registers up to 100 images for `owner`, who signed ONE EIP-712
         `RevealBatch` message over all of them, with the time of the
         batch's commitment (`batch_commitment_of`) as priority time. Like
         `reveal`, an item takes over a registration made after the
         commitment. All or nothing: one refused item reverts the batch.
    @notice The nonce is unordered: the owner may pick any number not yet
            spent (`nonce_used`), so batches signed at the same time never
            invalidate each other, whatever order they are revealed in.
    @param owner The signer, who becomes the owner of every item.
    @param items The signed images, in the signed order.
    @param salt The secret salt of the batch's commitment.
    @param nonce The message's unordered nonce.
    @param deadline The last block time at which the signature is valid.
    @param signature The 65-byte (or 64-byte EIP-2098) signature.
    @return DynArray The registration ids, in the order of `items`.
    """
    assert len(items) > 0, "register: empty batch"
    assert owner != empty(address), "register: owner is the zero address"
    assert block.timestamp <= deadline, "register: signature expired"
    items_hash: bytes32 = self._items_hash(items)
    digest: bytes32 = eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(REVEAL_BATCH_TYPEHASH, owner, items_hash, salt, nonce, deadline))
    )
    assert ecdsa._recover_sig(digest, signature) == owner, "register: invalid signature"
    self._use_unordered_nonce(owner, nonce)
    commit_time: uint256 = self._check_commitment(self._batch_commitment(owner, items_hash, salt))
    ids: DynArray[uint256, MAX_BATCH] = []
    for item: Item in items:
        ids.append(self._claim(owner, item, commit_time))
    return ids


@external
def transfer(id: uint256, to: address):
    """
    @dev Assigns a registration to a new owner (the priority time stays).
    @notice Only after the claim window: for `MAX_COMMITMENT_AGE` after its
            priority time a registration can still pass to the revealer of
            an earlier commitment, and a buyer of rights must not be exposed
            to that.
    @param id The registration id.
    @param to The new owner.
    """
    packed: uint256 = self._packed[id]
    owner: address = self._owner(packed)
    assert owner == msg.sender, "register: not the owner"
    assert to != empty(address), "register: transfer to the zero address"
    assert block.timestamp >= self._time(packed) + MAX_COMMITMENT_AGE, "register: still in the claim window"
    self._packed[id] = (packed & ~_OWNER_MASK) | convert(to, uint256)
    log Transferred(id=id, previous_owner=owner, new_owner=to)


@external
def set_verification(account: address, level: uint8):
    """
    @dev Records the verification level of a rights-holder.
    @notice Only holders of `ATTESTOR_ROLE`.
    @param account The rights-holder's address.
    @param level 0 none, 1 identity checked, 2 verified creator.
    """
    access_control._check_role(ATTESTOR_ROLE, msg.sender)
    assert account != empty(address), "register: verification of the zero address"
    assert level <= MAX_VERIFICATION_LEVEL, "register: invalid verification level"
    self.verification_level[account] = level
    log VerificationSet(account=account, level=level, attestor=msg.sender)


@external
@view
def registration(id: uint256) -> Registration:
    """
    @dev Returns a registration by id; all fields are empty when unknown.
    @param id The registration id.
    @return Registration Owner, priority time, perceptual hash, parent.
    """
    return self._registration(id)


@external
@view
def registration_of(content_hash: bytes32) -> Registration:
    """
    @dev Returns the registration of a file by its SHA-256.
    @param content_hash The SHA-256 of the file's bytes.
    @return Registration Owner, priority time, perceptual hash, parent.
    """
    return self._registration(convert(content_hash, uint256))


@external
@view
def ownership(id: uint256) -> (address, uint256):
    """
    @dev Returns the owner and priority time of a registration from one
         storage word (what the licence market checks on every purchase,
         without the parent's slot that `registration` also reads).
    @param id The registration id.
    @return address The owner; the zero address when not registered.
    @return uint256 The priority time; 0 when not registered.
    """
    packed: uint256 = self._packed[id]
    return self._owner(packed), self._time(packed)


@external
@view
def owner_of(id: uint256) -> address:
    """
    @dev Returns the owner of a registration.
    @param id The registration id.
    @return address The owner; the zero address when not registered.
    """
    return self._owner(self._packed[id])


@external
@view
def children(id: uint256, offset: uint256, limit: uint256) -> DynArray[uint256, MAX_BATCH]:
    """
    @dev Returns a page of the derivative works that name `id` as parent,
         in registration order (except that a priority claim on a child
         moves it to the end of the list and the last child into its place).
    @param id The parent registration id.
    @param offset The position of the first child to return.
    @param limit The most children to return (at most 100).
    @return DynArray The children's ids; empty past the end.
    """
    assert limit <= MAX_BATCH, "register: page limit above 100"
    page: DynArray[uint256, MAX_BATCH] = []
    count: uint256 = self.child_count[id]
    if offset >= count:
        return page
    end: uint256 = min(count, offset + limit)
    for position: uint256 in range(offset, end, bound=MAX_BATCH):
        page.append(self._children[id][position])
    return page


@external
@pure
def commitment_of(owner: address, content_hash: bytes32, salt: bytes32) -> bytes32:
    """
    @dev Computes the commitment for `commit` (best done off-chain: a
         call to a public node reveals its arguments to the node).
    @param owner The future owner.
    @param content_hash The SHA-256 of the file's bytes.
    @param salt A secret random value.
    @return bytes32 `keccak256(abi_encode(owner, content_hash, salt))`.
    """
    return keccak256(abi_encode(owner, content_hash, salt))


@external
@pure
def batch_commitment_of(owner: address, items: DynArray[Item, MAX_BATCH], salt: bytes32) -> bytes32:
    """
    @dev Computes the commitment of a `RevealBatch` for `commit` (best done
         off-chain, for the same reason as `commitment_of`).
    @param owner The future owner.
    @param items The images of the batch, in the signed order.
    @param salt A secret random value.
    @return bytes32 `keccak256(abi_encode(REVEAL_BATCH_TYPEHASH, owner,
            items_hash, salt))`, where `items_hash` is the EIP-712 hash of
            the `Item[]` array; the type hash keeps it apart from a single
            image's commitment.
    """
    return self._batch_commitment(owner, self._items_hash(items), salt)


@external
@view
def nonce_used(owner: address, nonce: uint256) -> bool:
    """
    @dev Tells whether `owner` has spent an unordered `RevealBatch` nonce.
    @param owner The owner.
    @param nonce The nonce.
    @return bool True once a batch with this nonce was revealed.
    """
    return (self.nonce_bitmap[owner][nonce >> 8] >> (nonce & 255)) & 1 == 1


@external
def invalidate_nonces(word: uint256, mask: uint256):
    """
    @dev Spends the caller's unordered nonces `word * 256 + i` for every
         bit `i` set in `mask`, so that batches signed with them can never
         be revealed: how an owner cancels a signature given away (as
         Permit2's `invalidateUnorderedNonces`). Spending a spent nonce
         again changes nothing.
    @param word The word of `nonce_bitmap` (the nonce divided by 256).
    @param mask The bits of that word to spend.
    """
    self.nonce_bitmap[msg.sender][word] |= mask
    log NoncesInvalidated(owner=msg.sender, word=word, mask=mask)


@external
@view
def DOMAIN_SEPARATOR() -> bytes32:
    """
    @dev Returns the EIP-712 domain separator for the current chain.
    @return bytes32 The domain separator.
    """
    return eip712_domain_separator._domain_separator_v4()


@internal
def _register(owner: address, item: Item, registered_at: uint256) -> uint256:
    """
    @dev Validates `item` and stores a new registration; the caller counts
         it. Written out in one piece (no helper calls for an original work)
         because it runs once per image in a batch.
    @param owner The owner.
    @param item The image data.
    @param registered_at The priority time.
    @return uint256 The registration id.
    """
    assert item.content_hash != empty(bytes32), "register: empty content hash"
    assert item.cid_codec == CODEC_RAW or item.cid_codec == CODEC_DAG_PB, "register: unsupported CID codec"
    assert registered_at < _TIME_LIMIT, "register: block time beyond the year 2106"
    id: uint256 = convert(item.content_hash, uint256)
    assert self._packed[id] == 0, "register: already registered"
    self._packed[id] = convert(owner, uint256) | (registered_at << _TIME_SHIFT) | (convert(item.phash, uint256) << _PHASH_SHIFT)
    if item.parent != 0:
        self._check_parent(id, item.parent, registered_at)
        self._link(id, item.parent)
    log Registered(
        id=id,
        owner=owner,
        parent=item.parent,
        phash=item.phash,
        cid_codec=item.cid_codec,
        cid_digest=item.cid_digest,
        registered_at=registered_at,
    )
    return id


@internal
def _reveal(owner: address, item: Item, salt: bytes32) -> uint256:
    """
    @dev Checks the commitment of `owner` for `item` and registers with
         its time (see `_claim`).
    @param owner The owner named in the commitment.
    @param item The image data.
    @param salt The secret salt of the commitment.
    @return uint256 The registration id.
    """
    commit_time: uint256 = self._check_commitment(keccak256(abi_encode(owner, item.content_hash, salt)))
    return self._claim(owner, item, commit_time)


@internal
@view
def _check_commitment(commitment: bytes32) -> uint256:
    """
    @dev A commitment can be revealed from the block after it was made
         until `MAX_COMMITMENT_AGE` has passed.
    @param commitment The commitment hash.
    @return uint256 The commitment's block time (the priority time).
    """
    commit_time: uint256 = self.commitment_time[commitment]
    assert commit_time != 0, "register: commitment not found"
    assert block.timestamp > commit_time, "register: commitment too young"
    assert block.timestamp - commit_time < MAX_COMMITMENT_AGE, "register: commitment expired"
    return commit_time


@internal
def _claim(owner: address, item: Item, commit_time: uint256) -> uint256:
    """
    @dev Registers `item` for `owner` with the priority time `commit_time`,
         taking over a registration made after it (the claimed work is
         re-linked to the parent named in `item`); counts a new one.
    @param owner The owner named in the commitment.
    @param item The image data.
    @param commit_time The commitment's block time.
    @return uint256 The registration id.
    """
    id: uint256 = convert(item.content_hash, uint256)
    existing: uint256 = self._packed[id]
    if existing == 0:
        self.registration_count += 1
    else:
        assert self._time(existing) > commit_time, "register: already registered"
        previous_parent: uint256 = self._parent_of[id]
        if previous_parent != 0:
            self._unlink(id, previous_parent)
        self._packed[id] = 0
        log PriorityClaimed(id=id, previous_owner=self._owner(existing), new_owner=owner, commit_time=commit_time)
    return self._register(owner, item, commit_time)


@internal
@pure
def _items_hash(items: DynArray[Item, MAX_BATCH]) -> bytes32:
    """
    @dev The EIP-712 hash of an `Item[]` array: the keccak256 of the
         concatenated struct hashes of its items.
    @param items The images.
    @return bytes32 The array's hash.
    """
    hashes: DynArray[bytes32, MAX_BATCH] = []
    for item: Item in items:
        hashes.append(
            keccak256(
                abi_encode(ITEM_TYPEHASH, item.content_hash, item.phash, item.cid_codec, item.cid_digest, item.parent)
            )
        )
    # `abi_encode` of a dynamic array is its offset and length, then the elements.
    return keccak256(slice(abi_encode(hashes), 64, 32 * len(hashes)))


@internal
@pure
def _batch_commitment(owner: address, items_hash: bytes32, salt: bytes32) -> bytes32:
    """
    @dev The commitment of a batch (see `batch_commitment_of`).
    @param owner The future owner.
    @param items_hash The EIP-712 hash of the items.
    @param salt The secret salt.
    @return bytes32 The commitment hash.
    """
    return keccak256(abi_encode(REVEAL_BATCH_TYPEHASH, owner, items_hash, salt))


@internal
def _use_unordered_nonce(owner: address, nonce: uint256):
    """
    @dev Spends an unordered nonce of `owner` (one bit of `nonce_bitmap`).
    @param owner The owner.
    @param nonce The nonce.
    """
    bit: uint256 = 1 << (nonce & 255)
    word: uint256 = self.nonce_bitmap[owner][nonce >> 8]
    assert word & bit == 0, "register: nonce already used"
    self.nonce_bitmap[owner][nonce >> 8] = word | bit
    log NonceUsed(owner=owner, nonce=nonce)


@internal
def _use_signature(owner: address, item: Item, salt: bytes32, is_reveal: bool, deadline: uint256, signature: Bytes[65]):
    """
    @dev Checks an EIP-712 `Register` (or, for a reveal, `Reveal`)
         signature of `owner` and uses up the owner's current nonce.
    @param owner The claimed signer.
    @param item The signed image data.
    @param salt The commitment's salt (signed in a `Reveal` only).
    @param is_reveal Whether the message is a `Reveal`.
    @param deadline The last block time at which the signature is valid.
    @param signature The signature.
    """
    # `ecdsa._recover_sig` answers the zero address for a signature of the
    # wrong length, which must never pass as the zero address's signature.
    assert owner != empty(address), "register: owner is the zero address"
    assert block.timestamp <= deadline, "register: signature expired"
    nonce: uint256 = self.nonces[owner]
    struct_hash: bytes32 = empty(bytes32)
    if is_reveal:
        struct_hash = keccak256(
            abi_encode(
                REVEAL_TYPEHASH,
                owner,
                item.content_hash,
                item.phash,
                item.cid_codec,
                item.cid_digest,
                item.parent,
                salt,
                nonce,
                deadline,
            )
        )
    else:
        struct_hash = keccak256(
            abi_encode(
                REGISTER_TYPEHASH,
                owner,
                item.content_hash,
                item.phash,
                item.cid_codec,
                item.cid_digest,
                item.parent,
                nonce,
                deadline,
            )
        )
    digest: bytes32 = eip712_domain_separator._hash_typed_data_v4(struct_hash)
    assert ecdsa._recover_sig(digest, signature) == owner, "register: invalid signature"
    self.nonces[owner] = nonce + 1


@internal
@view
def _check_parent(id: uint256, parent: uint256, registered_at: uint256):
    """
    @dev A parent must be registered, must not be the work itself and must
         not be younger than its child (which also rules out cycles).
    @param id The child.
    @param parent The named parent.
    @param registered_at The child's priority time.
    """
    assert parent != id, "register: a work cannot be its own parent"
    parent_packed: uint256 = self._packed[parent]
    assert parent_packed != 0, "register: unknown parent"
    assert self._time(parent_packed) <= registered_at, "register: parent registered after the child's priority time"


@internal
def _link(id: uint256, parent: uint256):
    """
    @dev Appends `id` to the children of `parent`.
    @param id The child.
    @param parent The parent.
    """
    position: uint256 = self.child_count[parent]
    self._children[parent][position] = id
    self._child_position[id] = position
    self._parent_of[id] = parent
    self.child_count[parent] = position + 1


@internal
def _unlink(id: uint256, parent: uint256):
    """
    @dev Removes `id` from the children of `parent` (the last child takes
         its position).
    @param id The child.
    @param parent The parent.
    """
    last: uint256 = self.child_count[parent] - 1
    position: uint256 = self._child_position[id]
    if position != last:
        moved: uint256 = self._children[parent][last]
        self._children[parent][position] = moved
        self._child_position[moved] = position
    self._children[parent][last] = 0
    self._child_position[id] = 0
    self._parent_of[id] = 0
    self.child_count[parent] = last


@internal
@view
def _registration(id: uint256) -> Registration:
    """
    @dev Unpacks a registration.
    @param id The registration id.
    @return Registration The registration (empty when unknown).
    """
    packed: uint256 = self._packed[id]
    return Registration(
        owner=self._owner(packed),
        registered_at=self._time(packed),
        phash=convert(packed >> _PHASH_SHIFT, uint64),
        parent=self._parent_of[id],
    )


@internal
@pure
def _owner(packed: uint256) -> address:
    """
    @dev The owner field of a packed word.
    @param packed The packed word.
    @return address The owner.
    """
    return convert(convert(packed & _OWNER_MASK, uint160), address)


@internal
@pure
def _time(packed: uint256) -> uint256:
    """
    @dev The priority-time field of a packed word.
    @param packed The packed word.
    @return uint256 The priority time.
    """
    return (packed >> _TIME_SHIFT) & _TIME_MASK
