"""CopyrightRegister: gasless registration of many images with ONE signature.

The owner signs an EIP-712 `RevealBatch` over up to 100 items with an unordered nonce; the
relayer commits once to the batch and reveals it in one transaction a block later. Batches signed
at the same time must not invalidate each other (the defect of sequential nonces), and nothing a
relayer or a stranger does with a signature may register anything the owner did not sign.
"""

import secrets

import ape
import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from register_support import (
    ITEM_FIELDS,
    REGISTER_DOMAIN_NAME,
    REGISTER_DOMAIN_VERSION,
    REVEAL_BATCH_MESSAGE_TYPES,
    make_register_item,
    register_id,
)

pytestmark = pytest.mark.usefixtures("fast_reverts")

ITEM_TYPE = "Item(bytes32 content_hash,uint64 phash,uint16 cid_codec,bytes32 cid_digest,uint256 parent)"
REVEAL_BATCH_TYPE = "RevealBatch(address owner,Item[] items,bytes32 salt,uint256 nonce,uint256 deadline)" + ITEM_TYPE


@pytest.fixture
def sign_batch(chain, copyright_register):
    """Factory: the owner's EIP-712 `RevealBatch` signature (`owner` overrides the signed owner)."""

    def sign(signer, items, salt, nonce, deadline, *, owner=None):
        message = {"owner": owner or signer.address, "items": items, "salt": salt, "nonce": nonce,
                   "deadline": deadline}
        domain = {"name": REGISTER_DOMAIN_NAME, "version": REGISTER_DOMAIN_VERSION, "chainId": chain.chain_id,
                  "verifyingContract": copyright_register.address}
        signable = encode_typed_data(domain, REVEAL_BATCH_MESSAGE_TYPES, message)
        return bytes(Account.sign_message(signable, signer.private_key).signature)

    return sign


@pytest.fixture
def commit_batch(copyright_register, relayer, chain):
    """Factory: the relayer commits to a batch; the next block is a second later. Returns (salt, time)."""

    def commit(owner, items, salt=None):
        salt = salt or secrets.token_bytes(32)
        tx = copyright_register.commit(copyright_register.batch_commitment_of(owner, items, salt), sender=relayer)
        chain.pending_timestamp = tx.timestamp + 1
        return salt, tx.timestamp

    return commit


def off_chain_commitment(owner: str, items: list[dict], salt: bytes) -> bytes:
    item_hashes = b"".join(
        keccak(encode(["bytes32"] + [f["type"] for f in ITEM_FIELDS],
                      [keccak(text=ITEM_TYPE)] + [item[f["name"]] for f in ITEM_FIELDS]))
        for item in items
    )
    return keccak(encode(["bytes32", "address", "bytes32", "bytes32"],
                         [keccak(text=REVEAL_BATCH_TYPE), owner, keccak(item_hashes), salt]))


def test_batch_typehashes__match_the_published_type_strings(copyright_register):
    assert copyright_register.ITEM_TYPEHASH() == keccak(text=ITEM_TYPE)
    assert copyright_register.REVEAL_BATCH_TYPEHASH() == keccak(text=REVEAL_BATCH_TYPE)


def test_batch_commitment__computed_off_chain__matches_the_contract(copyright_register, creator):
    items = [make_register_item() for _ in range(3)]
    salt = secrets.token_bytes(32)

    assert copyright_register.batch_commitment_of(creator, items, salt) == off_chain_commitment(
        creator.address, items, salt)


def test_reveal_batch_by_sig__a_hundred_items__all_belong_to_the_signer_with_the_commit_time(
    copyright_register, creator, relayer, sign_batch, commit_batch, deadline
):
    items = [make_register_item() for _ in range(100)]
    salt, commit_time = commit_batch(creator, items)
    signature = sign_batch(creator, items, salt, 7, deadline)

    tx = copyright_register.reveal_batch_by_sig(creator, items, salt, 7, deadline, signature, sender=relayer)

    events = tx.events.filter(copyright_register.Registered)
    assert [(e.id, e.owner, e.registered_at) for e in events] == [
        (register_id(item), creator.address, commit_time) for item in items]
    assert tx.return_value == [register_id(item) for item in items]
    assert copyright_register.registration_count() == 100
    assert copyright_register.nonce_used(creator, 7)
    [used] = tx.events.filter(copyright_register.NonceUsed)
    assert (used.owner, used.nonce) == (creator.address, 7)
    assert copyright_register.nonces(creator) == 0  # the sequential nonce of the single-image path is untouched


def test_reveal_batch_by_sig__batches_signed_together__reveal_in_any_order(
    copyright_register, creator, relayer, sign_batch, commit_batch, deadline
):
    batches = []
    for nonce in (2**255, 5, 300):
        items = [make_register_item() for _ in range(2)]
        salt, _ = commit_batch(creator, items)
        batches.append((items, salt, nonce, sign_batch(creator, items, salt, nonce, deadline)))

    for items, salt, nonce, signature in reversed(batches):
        copyright_register.reveal_batch_by_sig(creator, items, salt, nonce, deadline, signature, sender=relayer)

    assert copyright_register.registration_count() == 6
    assert all(copyright_register.nonce_used(creator, nonce) for _, _, nonce, _ in batches)
    assert not copyright_register.nonce_used(creator, 6)


@pytest.mark.parametrize("low, high", [(0, 256), (255, 256), (7, 263), (511, 512), (255, 511)])
def test_reveal_batch_by_sig__nonces_in_different_words_or_bits__are_spent_independently(
    copyright_register, creator, relayer, sign_batch, commit_batch, deadline, low, high
):
    items = [make_register_item()]
    salt, _ = commit_batch(creator, items)
    signature = sign_batch(creator, items, salt, low, deadline)

    copyright_register.reveal_batch_by_sig(creator, items, salt, low, deadline, signature, sender=relayer)

    assert copyright_register.nonce_bitmap(creator, low >> 8) == 1 << (low & 255)
    assert copyright_register.nonce_bitmap(creator, high >> 8) == (1 << (low & 255) if high >> 8 == low >> 8 else 0)
    assert copyright_register.nonce_used(creator, low) and not copyright_register.nonce_used(creator, high)
    others = [make_register_item()]
    salt, _ = commit_batch(creator, others)
    signature = sign_batch(creator, others, salt, high, deadline)
    copyright_register.reveal_batch_by_sig(creator, others, salt, high, deadline, signature, sender=relayer)
    assert copyright_register.nonce_used(creator, high)
    assert copyright_register.registration_count() == 2


def test_invalidate_nonces__a_signed_batch_not_yet_revealed__can_never_be_revealed(
    copyright_register, creator, relayer, sign_batch, commit_batch, deadline
):
    items = [make_register_item()]
    salt, _ = commit_batch(creator, items)
    signature = sign_batch(creator, items, salt, 300, deadline)

    tx = copyright_register.invalidate_nonces(1, 1 << 44, sender=creator)

    [event] = tx.events.filter(copyright_register.NoncesInvalidated)
    assert (event.owner, event.word, event.mask) == (creator.address, 1, 1 << 44)
    assert copyright_register.nonce_used(creator, 300) and not copyright_register.nonce_used(creator, 44)
    with ape.reverts("register: nonce already used"):
        copyright_register.reveal_batch_by_sig(creator, items, salt, 300, deadline, signature, sender=relayer)
    assert copyright_register.registration_count() == 0


def test_invalidate_nonces__spends_only_the_callers_nonces(copyright_register, creator, relayer):
    copyright_register.invalidate_nonces(0, 0b101, sender=relayer)

    assert copyright_register.nonce_bitmap(relayer, 0) == 0b101
    assert copyright_register.nonce_bitmap(creator, 0) == 0


def test_reveal_batch_by_sig__item_may_name_an_earlier_item_as_parent(
    copyright_register, creator, relayer, sign_batch, commit_batch, deadline
):
    original = make_register_item()
    derivative = make_register_item(parent=register_id(original))
    salt, _ = commit_batch(creator, [original, derivative])
    signature = sign_batch(creator, [original, derivative], salt, 1, deadline)

    copyright_register.reveal_batch_by_sig(creator, [original, derivative], salt, 1, deadline, signature,
                                           sender=relayer)

    assert copyright_register.registration(register_id(derivative)).parent == register_id(original)


def test_reveal_batch_by_sig__takes_over_a_registration_made_after_the_commitment(
    copyright_register, creator, relayer, frontrunner, sign_batch, commit_batch, deadline
):
    items = [make_register_item(), make_register_item()]
    salt, commit_time = commit_batch(creator, items)
    copyright_register.register(items[1], sender=frontrunner)
    signature = sign_batch(creator, items, salt, 1, deadline)

    tx = copyright_register.reveal_batch_by_sig(creator, items, salt, 1, deadline, signature, sender=relayer)

    [claim] = tx.events.filter(copyright_register.PriorityClaimed)
    assert (claim.id, claim.previous_owner, claim.new_owner, claim.commit_time) == (
        register_id(items[1]), frontrunner.address, creator.address, commit_time)
    assert copyright_register.owner_of(register_id(items[1])) == creator.address
    assert copyright_register.registration_count() == 2


def test_reveal_batch_by_sig__replayed__reverts(
    copyright_register, creator, relayer, other, sign_batch, commit_batch, deadline
):
    items = [make_register_item()]
    salt, _ = commit_batch(creator, items)
    signature = sign_batch(creator, items, salt, 1, deadline)
    copyright_register.reveal_batch_by_sig(creator, items, salt, 1, deadline, signature, sender=relayer)

    with ape.reverts("register: nonce already used"):
        copyright_register.reveal_batch_by_sig(creator, items, salt, 1, deadline, signature, sender=other)


def test_reveal_batch_by_sig__signed_by_another_owner__reverts(
    copyright_register, creator, relayer, other, sign_batch, commit_batch, deadline
):
    items = [make_register_item()]
    salt, _ = commit_batch(creator, items)
    forged = sign_batch(other, items, salt, 1, deadline, owner=creator.address)

    with ape.reverts("register: invalid signature"):
        copyright_register.reveal_batch_by_sig(creator, items, salt, 1, deadline, forged, sender=relayer)


@pytest.mark.parametrize("tamper", ["altered item", "dropped item", "added item", "reordered"])
def test_reveal_batch_by_sig__batch_tampered_after_signing__reverts(
    copyright_register, creator, relayer, sign_batch, commit_batch, deadline, tamper
):
    items = [make_register_item() for _ in range(3)]
    signed_salt = secrets.token_bytes(32)
    signature = sign_batch(creator, items, signed_salt, 1, deadline)
    tampered = {
        "altered item": [items[0], {**items[1], "phash": 1}, items[2]],
        "dropped item": items[:2],
        "added item": [*items, make_register_item()],
        "reordered": [items[1], items[0], items[2]],
    }[tamper]
    commit_batch(creator, tampered, signed_salt)  # committed as revealed: only the signature can refuse it

    with ape.reverts("register: invalid signature"):
        copyright_register.reveal_batch_by_sig(creator, tampered, signed_salt, 1, deadline, signature,
                                               sender=relayer)
    assert copyright_register.registration_count() == 0


def test_reveal_batch_by_sig__nonce_changed_after_signing__reverts(
    copyright_register, creator, relayer, sign_batch, commit_batch, deadline
):
    items = [make_register_item()]
    salt, _ = commit_batch(creator, items)
    signature = sign_batch(creator, items, salt, 1, deadline)

    with ape.reverts("register: invalid signature"):
        copyright_register.reveal_batch_by_sig(creator, items, salt, 2, deadline, signature, sender=relayer)


def test_reveal_batch_by_sig__expired_deadline__reverts(
    copyright_register, creator, relayer, sign_batch, commit_batch, chain
):
    items = [make_register_item()]
    salt, commit_time = commit_batch(creator, items)
    deadline = commit_time + 60
    signature = sign_batch(creator, items, salt, 1, deadline)
    chain.pending_timestamp = deadline + 1

    with ape.reverts("register: signature expired"):
        copyright_register.reveal_batch_by_sig(creator, items, salt, 1, deadline, signature, sender=relayer)


def test_reveal_batch_by_sig__without_a_commitment__reverts(
    copyright_register, creator, relayer, sign_batch, deadline
):
    items = [make_register_item()]
    salt = secrets.token_bytes(32)
    signature = sign_batch(creator, items, salt, 1, deadline)

    with ape.reverts("register: commitment not found"):
        copyright_register.reveal_batch_by_sig(creator, items, salt, 1, deadline, signature, sender=relayer)


def test_reveal_batch_by_sig__in_the_block_of_the_commitment__reverts(
    copyright_register, creator, relayer, sign_batch, commit_batch, deadline, chain
):
    items = [make_register_item()]
    salt, commit_time = commit_batch(creator, items)
    chain.pending_timestamp = commit_time
    signature = sign_batch(creator, items, salt, 1, deadline)

    with ape.reverts("register: commitment too young"):
        copyright_register.reveal_batch_by_sig(creator, items, salt, 1, deadline, signature, sender=relayer)


def test_reveal_batch_by_sig__one_item_registered_before_the_commitment__reverts_the_whole_batch(
    copyright_register, creator, relayer, other, sign_batch, commit_batch, deadline
):
    items = [make_register_item(), make_register_item()]
    copyright_register.register(items[0], sender=other)
    salt, _ = commit_batch(creator, items)
    signature = sign_batch(creator, items, salt, 1, deadline)

    with ape.reverts("register: already registered"):
        copyright_register.reveal_batch_by_sig(creator, items, salt, 1, deadline, signature, sender=relayer)
    assert copyright_register.owner_of(register_id(items[1])) == ape.utils.ZERO_ADDRESS
    assert not copyright_register.nonce_used(creator, 1)


def test_reveal_batch_by_sig__empty__reverts(copyright_register, creator, relayer, sign_batch, deadline):
    salt = secrets.token_bytes(32)
    signature = sign_batch(creator, [], salt, 1, deadline)

    with ape.reverts("register: empty batch"):
        copyright_register.reveal_batch_by_sig(creator, [], salt, 1, deadline, signature, sender=relayer)


def test_reveal_batch_by_sig__more_than_a_hundred_items__reverts(
    copyright_register, creator, relayer, sign_batch, deadline
):
    items = [make_register_item() for _ in range(101)]
    salt = secrets.token_bytes(32)
    signature = sign_batch(creator, items, salt, 1, deadline)

    # The ABI decoder refuses an array above the declared bound before any code runs.
    with ape.reverts():
        copyright_register.reveal_batch_by_sig(creator, items, salt, 1, deadline, signature, sender=relayer,
                                               gas_limit=10_000_000)
    assert copyright_register.registration_count() == 0


def test_reveal_batch_by_sig__zero_address_owner__reverts(
    copyright_register, relayer, sign_batch, commit_batch, deadline, creator
):
    items = [make_register_item()]
    salt = secrets.token_bytes(32)

    with ape.reverts("register: owner is the zero address"):
        copyright_register.reveal_batch_by_sig(ape.utils.ZERO_ADDRESS, items, salt, 1, deadline, b"\x00" * 65,
                                               sender=relayer)
