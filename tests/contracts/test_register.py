"""CopyrightRegister: registering by the owner, batches, parents and children, views, transfer,
verification levels, and the gas aims."""

import ape
import pytest

from register_support import CODEC_DAG_PB, make_register_item, register_id

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def registered_events(tx, contract):
    return list(tx.events.filter(contract.Registered))


# --- register ---------------------------------------------------------------------------------


def test_register__original_work__stores_owner_time_phash(copyright_register, creator, chain):
    item = make_register_item(b"sunset.jpg bytes", phash=0xFEDC_BA98_7654_3210)

    tx = copyright_register.register(item, sender=creator)

    block_time = chain.blocks[tx.block_number].timestamp
    record = copyright_register.registration(register_id(item))
    assert record.owner == creator.address
    assert record.registered_at == block_time
    assert record.phash == 0xFEDC_BA98_7654_3210
    assert record.parent == 0
    assert copyright_register.registration_of(item["content_hash"]) == record
    assert copyright_register.owner_of(register_id(item)) == creator.address
    assert copyright_register.ownership(register_id(item)) == (creator.address, block_time)
    assert copyright_register.registration_count() == 1
    assert tx.return_value == register_id(item)


def test_register__emits_registered_with_the_cid(copyright_register, creator, chain):
    item = make_register_item(b"a chunked file", cid_codec=CODEC_DAG_PB)
    item["cid_digest"] = b"\x42" * 32

    tx = copyright_register.register(item, sender=creator)

    [event] = registered_events(tx, copyright_register)
    assert event.id == register_id(item)
    assert event.owner == creator.address
    assert event.parent == 0
    assert event.phash == item["phash"]
    assert event.cid_codec == CODEC_DAG_PB
    assert event.cid_digest == b"\x42" * 32
    assert event.registered_at == chain.blocks[tx.block_number].timestamp


def test_register__same_bytes_again__reverts(copyright_register, creator, other):
    item = make_register_item(b"the same file")
    copyright_register.register(item, sender=creator)

    with ape.reverts("register: already registered"):
        copyright_register.register(item, sender=other)
    with ape.reverts("register: already registered"):
        copyright_register.register(item, sender=creator)
    assert copyright_register.owner_of(register_id(item)) == creator.address


def test_register__empty_content_hash__reverts(copyright_register, creator):
    item = make_register_item()
    item["content_hash"] = b"\x00" * 32

    with ape.reverts("register: empty content hash"):
        copyright_register.register(item, sender=creator)


@pytest.mark.parametrize("codec", [0x00, 0x71, 0x0129, 0xFFFF])
def test_register__unsupported_cid_codec__reverts(copyright_register, creator, codec):
    with ape.reverts("register: unsupported CID codec"):
        copyright_register.register(make_register_item(cid_codec=codec), sender=creator)


def test_views__unknown_id__are_empty(copyright_register):
    record = copyright_register.registration(12345)
    assert record.owner == ZERO_ADDRESS
    assert record.registered_at == 0
    assert record.phash == 0
    assert record.parent == 0
    assert copyright_register.owner_of(12345) == ZERO_ADDRESS
    assert copyright_register.ownership(12345) == (ZERO_ADDRESS, 0)
    assert copyright_register.registration_count() == 0


# --- parents and children ---------------------------------------------------------------------


def test_register__derivative_work__links_parent_and_child(copyright_register, creator, other):
    original = make_register_item(b"original")
    copyright_register.register(original, sender=creator)
    derivative = make_register_item(b"cropped copy", parent=register_id(original))

    tx = copyright_register.register(derivative, sender=other)

    assert copyright_register.registration(register_id(derivative)).parent == register_id(original)
    assert copyright_register.child_count(register_id(original)) == 1
    assert copyright_register.children(register_id(original), 0, 10) == [register_id(derivative)]
    [event] = registered_events(tx, copyright_register)
    assert event.parent == register_id(original)


def test_register__unknown_parent__reverts(copyright_register, creator):
    with ape.reverts("register: unknown parent"):
        copyright_register.register(make_register_item(parent=987654321), sender=creator)


def test_register__own_content_as_parent__reverts(copyright_register, creator):
    item = make_register_item(b"self-referencing")
    item["parent"] = register_id(item)

    with ape.reverts("register: a work cannot be its own parent"):
        copyright_register.register(item, sender=creator)


def test_children__pages_through_all_children_in_order(copyright_register, creator):
    original = make_register_item(b"original")
    copyright_register.register(original, sender=creator)
    parent = register_id(original)
    derivatives = [make_register_item(f"derivative {n}".encode(), parent=parent) for n in range(5)]
    copyright_register.register_batch(derivatives, sender=creator)
    ids = [register_id(item) for item in derivatives]

    assert copyright_register.child_count(parent) == 5
    assert copyright_register.children(parent, 0, 2) == ids[0:2]
    assert copyright_register.children(parent, 2, 2) == ids[2:4]
    assert copyright_register.children(parent, 4, 2) == ids[4:5]
    assert copyright_register.children(parent, 5, 2) == []
    assert copyright_register.children(parent, 0, 100) == ids
    assert copyright_register.children(parent, 0, 0) == []
    assert copyright_register.children(ids[0], 0, 10) == []


def test_children__limit_above_100__reverts(copyright_register):
    with ape.reverts("register: page limit above 100"):
        copyright_register.children(1, 0, 101)


# --- batches ----------------------------------------------------------------------------------


def test_register_batch__registers_every_item_in_order(copyright_register, creator, chain):
    items = [make_register_item(f"image {n}".encode(), phash=n) for n in range(7)]

    tx = copyright_register.register_batch(items, sender=creator)

    ids = [register_id(item) for item in items]
    assert tx.return_value == ids
    assert copyright_register.registration_count() == 7
    block_time = chain.blocks[tx.block_number].timestamp
    events = registered_events(tx, copyright_register)
    assert [event.id for event in events] == ids
    assert {event.owner for event in events} == {creator.address}
    for item in items:
        record = copyright_register.registration(register_id(item))
        assert (record.owner, record.registered_at, record.phash) == (creator.address, block_time, item["phash"])


def test_register_batch__duplicate_within_the_batch__reverts_the_whole_batch(copyright_register, creator):
    first, second = make_register_item(b"first"), make_register_item(b"second")

    with ape.reverts("register: already registered"):
        copyright_register.register_batch([first, second, first], sender=creator)

    assert copyright_register.registration_count() == 0
    assert copyright_register.owner_of(register_id(first)) == ZERO_ADDRESS


def test_register_batch__already_registered_item__reverts(copyright_register, creator, other):
    taken = make_register_item(b"taken")
    copyright_register.register(taken, sender=other)

    with ape.reverts("register: already registered"):
        copyright_register.register_batch([make_register_item(), taken], sender=creator)


def test_register_batch__empty__reverts(copyright_register, creator):
    with ape.reverts("register: empty batch"):
        copyright_register.register_batch([], sender=creator)


def test_register_batch__bad_item__names_the_rule(copyright_register, creator):
    with ape.reverts("register: unsupported CID codec"):
        copyright_register.register_batch([make_register_item(), make_register_item(cid_codec=0x71)], sender=creator)
    with ape.reverts("register: unknown parent"):
        copyright_register.register_batch([make_register_item(), make_register_item(parent=42)], sender=creator)


def test_register_batch__child_of_an_earlier_item__is_linked(copyright_register, creator):
    original = make_register_item(b"original")
    derivative = make_register_item(b"derivative", parent=register_id(original))

    copyright_register.register_batch([original, derivative], sender=creator)

    assert copyright_register.children(register_id(original), 0, 10) == [register_id(derivative)]


def test_register_batch__child_before_its_parent__reverts(copyright_register, creator):
    original = make_register_item(b"original")
    derivative = make_register_item(b"derivative", parent=register_id(original))

    with ape.reverts("register: unknown parent"):
        copyright_register.register_batch([derivative, original], sender=creator)


# --- transfer ---------------------------------------------------------------------------------


def test_transfer__by_the_owner__moves_ownership_and_keeps_the_time(copyright_register, creator, other, chain):
    item = make_register_item(b"assigned rights")
    copyright_register.register(item, sender=creator)
    before = copyright_register.registration(register_id(item))
    chain.pending_timestamp = before.registered_at + copyright_register.MAX_COMMITMENT_AGE()

    tx = copyright_register.transfer(register_id(item), other, sender=creator)

    after = copyright_register.registration(register_id(item))
    assert after.owner == other.address
    assert (after.registered_at, after.phash, after.parent) == (before.registered_at, before.phash, before.parent)
    [event] = tx.events.filter(copyright_register.Transferred)
    assert (event.id, event.previous_owner, event.new_owner) == (register_id(item), creator.address, other.address)
    copyright_register.transfer(register_id(item), creator, sender=other)
    assert copyright_register.owner_of(register_id(item)) == creator.address


def test_transfer__within_the_claim_window__reverts(copyright_register, creator, other, chain):
    """An earlier commitment may still claim the registration for a day; no buyer should take that risk."""
    item = make_register_item()
    copyright_register.register(item, sender=creator)
    registered_at = copyright_register.registration(register_id(item)).registered_at
    chain.pending_timestamp = registered_at + copyright_register.MAX_COMMITMENT_AGE() - 1

    with ape.reverts("register: still in the claim window"):
        copyright_register.transfer(register_id(item), other, sender=creator)


def test_transfer__by_someone_else__reverts(copyright_register, creator, other):
    item = make_register_item()
    copyright_register.register(item, sender=creator)

    with ape.reverts("register: not the owner"):
        copyright_register.transfer(register_id(item), other, sender=other)


def test_transfer__unknown_id__reverts(copyright_register, creator):
    with ape.reverts("register: not the owner"):
        copyright_register.transfer(777, creator, sender=creator)


def test_transfer__to_the_zero_address__reverts(copyright_register, creator, chain):
    item = make_register_item()
    copyright_register.register(item, sender=creator)
    chain.pending_timestamp += copyright_register.MAX_COMMITMENT_AGE()

    with ape.reverts("register: transfer to the zero address"):
        copyright_register.transfer(register_id(item), ZERO_ADDRESS, sender=creator)


# --- verification levels ----------------------------------------------------------------------


def test_deploy__deployer_holds_admin_and_attestor_roles(copyright_register, deployer, other):
    assert copyright_register.hasRole(copyright_register.DEFAULT_ADMIN_ROLE(), deployer)
    assert copyright_register.hasRole(copyright_register.ATTESTOR_ROLE(), deployer)
    assert not copyright_register.hasRole(copyright_register.ATTESTOR_ROLE(), other)


@pytest.mark.parametrize("level", [0, 1, 2])
def test_set_verification__by_attestor__records_level(copyright_register, attestor, creator, level):
    tx = copyright_register.set_verification(creator, level, sender=attestor)

    assert copyright_register.verification_level(creator) == level
    [event] = tx.events.filter(copyright_register.VerificationSet)
    assert (event.account, event.level, event.attestor) == (creator.address, level, attestor.address)


def test_set_verification__without_attestor_role__reverts(copyright_register, creator, other):
    with ape.reverts("access_control: account is missing role"):
        copyright_register.set_verification(creator, 2, sender=other)
    with ape.reverts("access_control: account is missing role"):
        copyright_register.set_verification(creator, 2, sender=creator)


def test_set_verification__invalid_level__reverts(copyright_register, attestor, creator):
    with ape.reverts("register: invalid verification level"):
        copyright_register.set_verification(creator, 3, sender=attestor)


def test_set_verification__zero_address__reverts(copyright_register, attestor):
    with ape.reverts("register: verification of the zero address"):
        copyright_register.set_verification(ZERO_ADDRESS, 1, sender=attestor)


def test_set_verification__granted_attestor__can_grade_and_revoked_cannot(copyright_register, deployer, creator, other):
    role = copyright_register.ATTESTOR_ROLE()
    copyright_register.grantRole(role, other, sender=deployer)
    copyright_register.set_verification(creator, 1, sender=other)
    assert copyright_register.verification_level(creator) == 1

    copyright_register.revokeRole(role, other, sender=deployer)
    with ape.reverts("access_control: account is missing role"):
        copyright_register.set_verification(creator, 2, sender=other)


# --- gas aims (the reason for the packed layout) ----------------------------------------------


def test_register__one_image__costs_under_60k_gas_and_a_third_of_the_naive_layout(
    copyright_register, naive_register, creator, deployer
):
    copyright_register.register(make_register_item(), sender=deployer)
    naive_register.register(make_register_item(), sender=deployer)

    packed = copyright_register.register(make_register_item(), sender=creator).gas_used
    naive = naive_register.register(make_register_item(), sender=creator).gas_used

    assert packed < 60_000
    assert naive > 3 * packed


def test_register_batch__of_100__costs_under_30k_gas_per_image(copyright_register, creator, deployer):
    copyright_register.register(make_register_item(), sender=deployer)

    tx = copyright_register.register_batch([make_register_item() for _ in range(100)], sender=creator)

    assert tx.gas_used / 100 < 30_000
