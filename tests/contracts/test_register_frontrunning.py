"""CopyrightRegister: front-running protection by commit–reveal with priority.

A plain `register` puts the content hash in the mempool, where anyone can copy it and register
the same bytes first. With `commit` + `reveal`, the commitment hides the content hash, and the
reveal (which does expose it) registers with the commit time and takes over any registration
made after the commitment.
"""

import secrets
from contextlib import contextmanager

import ape

from register_support import make_register_item, register_id

MAX_COMMITMENT_AGE = 86400


def commit_for(contract, owner, item, *, sender=None):
    """Commit `item` for `owner`; returns (salt, commit time)."""
    salt = secrets.token_bytes(32)
    commitment = contract.commitment_of(owner, item["content_hash"], salt)
    tx = contract.commit(commitment, sender=sender or owner)
    return salt, tx.timestamp


@contextmanager
def manual_mining(chain):
    """Transactions wait in anvil's mempool until `chain.mine()` (ordered by priority fee)."""
    chain.provider.auto_mine = False
    try:
        yield
    finally:
        chain.provider.auto_mine = True


def submit_without_waiting(chain, account, txn):
    """Sign `txn` and put it in the mempool; returns the transaction hash."""
    signed = account.sign_transaction(txn)
    return chain.provider.web3.eth.send_raw_transaction(signed.serialize_transaction())


# --- the attack -------------------------------------------------------------------------------


def test_reveal__frontrunner_copies_the_pending_reveal__owner_keeps_ownership_and_priority(
    copyright_register, creator, frontrunner, chain
):
    item = make_register_item(b"a photo the frontrunner wants")
    salt, commit_time = commit_for(copyright_register, creator, item)
    chain.mine(deltatime=12)

    with manual_mining(chain):
        reveal = copyright_register.reveal.as_transaction(
            item, salt, sender=creator, gas_limit=400_000, max_priority_fee=1_000_000_000, max_fee=100_000_000_000
        )
        reveal_hash = submit_without_waiting(chain, creator, reveal)

        # The frontrunner reads the pending reveal, copies the item and outbids the reveal.
        pending = chain.provider.web3.eth.get_transaction(reveal_hash)
        _, arguments = copyright_register.decode_input(pending["input"])
        copied = arguments["item"]
        steal = copyright_register.register.as_transaction(
            copied, sender=frontrunner, gas_limit=400_000, max_priority_fee=50_000_000_000, max_fee=200_000_000_000
        )
        # anvil orders its mempool by max fee per gas, like a block builder ordering by bids
        steal_hash = submit_without_waiting(chain, frontrunner, steal)
        chain.mine()

    stolen = chain.provider.get_receipt(steal_hash.hex())
    revealed = chain.provider.get_receipt(reveal_hash.hex())
    assert stolen.block_number == revealed.block_number
    position = {name: chain.provider.web3.eth.get_transaction_receipt(tx_hash)["transactionIndex"]
                for name, tx_hash in (("steal", steal_hash), ("reveal", reveal_hash))}
    assert position["steal"] < position["reveal"], "the frontrunner's copy must be mined first"
    [frontrun_event] = stolen.events.filter(copyright_register.Registered)
    assert frontrun_event.owner == frontrunner.address

    record = copyright_register.registration(register_id(item))
    assert record.owner == creator.address
    assert record.registered_at == commit_time < frontrun_event.registered_at
    [claim] = revealed.events.filter(copyright_register.PriorityClaimed)
    assert (claim.id, claim.previous_owner, claim.new_owner, claim.commit_time) == (
        register_id(item), frontrunner.address, creator.address, commit_time
    )
    [registered] = revealed.events.filter(copyright_register.Registered)
    assert (registered.owner, registered.registered_at) == (creator.address, commit_time)
    assert copyright_register.registration_count() == 1


def test_reveal__after_a_plain_frontrun_registration__claims_it(copyright_register, creator, frontrunner, chain):
    item = make_register_item()
    salt, commit_time = commit_for(copyright_register, creator, item)
    chain.mine(deltatime=12)
    copyright_register.register(item, sender=frontrunner)

    tx = copyright_register.reveal(item, salt, sender=creator)

    assert copyright_register.owner_of(register_id(item)) == creator.address
    assert tx.events.filter(copyright_register.PriorityClaimed)[0].previous_owner == frontrunner.address
    assert copyright_register.registration_count() == 1


def test_reveal__claim__relinks_the_work_to_the_revealed_parent(copyright_register, creator, frontrunner, chain):
    frontrunner_original = make_register_item(b"frontrunner's own original")
    copyright_register.register(frontrunner_original, sender=frontrunner)
    sibling = make_register_item(b"sibling", parent=register_id(frontrunner_original))
    item = make_register_item(b"creator's original work")
    salt, commit_time = commit_for(copyright_register, creator, item)
    chain.mine(deltatime=12)
    copied = {**item, "parent": register_id(frontrunner_original)}
    copyright_register.register_batch([copied, sibling], sender=frontrunner)

    copyright_register.reveal(item, salt, sender=creator)

    assert copyright_register.registration(register_id(item)).parent == 0
    assert copyright_register.children(register_id(frontrunner_original), 0, 10) == [register_id(sibling)]
    assert copyright_register.child_count(register_id(frontrunner_original)) == 1


def test_reveal__frontrunner_commits_after_seeing_the_content__reverts(copyright_register, creator, frontrunner, chain):
    item = make_register_item()
    salt, _ = commit_for(copyright_register, creator, item)
    chain.mine(deltatime=12)
    copyright_register.reveal(item, salt, sender=creator)
    late_salt, _ = commit_for(copyright_register, frontrunner, item)
    chain.mine(deltatime=12)

    with ape.reverts("register: already registered"):
        copyright_register.reveal(item, late_salt, sender=frontrunner)


def test_reveal__frontrunner_reuses_the_owners_salt__finds_no_commitment(
    copyright_register, creator, frontrunner, chain
):
    item = make_register_item()
    salt, _ = commit_for(copyright_register, creator, item)
    chain.mine(deltatime=12)

    with ape.reverts("register: commitment not found"):
        copyright_register.reveal(item, salt, sender=frontrunner)


def test_commit__same_commitment_again__reverts(copyright_register, creator, frontrunner, chain):
    """Nobody can restart the clock of a commitment (for example after seeing it revealed)."""
    item = make_register_item()
    salt = secrets.token_bytes(32)
    commitment = copyright_register.commitment_of(creator, item["content_hash"], salt)
    copyright_register.commit(commitment, sender=creator)

    with ape.reverts("register: already committed"):
        copyright_register.commit(commitment, sender=frontrunner)


# --- the rules of commit and reveal -----------------------------------------------------------


def test_commit__records_the_time_and_emits_committed(copyright_register, relayer, creator):
    commitment = copyright_register.commitment_of(creator, b"\x11" * 32, b"\x22" * 32)

    tx = copyright_register.commit(commitment, sender=relayer)

    assert copyright_register.commitment_time(commitment) == tx.timestamp
    [event] = tx.events.filter(copyright_register.Committed)
    assert (event.commitment, event.committer) == (commitment, relayer.address)


def test_commitment_of__is_keccak_of_the_abi_encoded_owner_hash_and_salt(copyright_register, creator):
    from eth_abi import encode
    from eth_utils import keccak

    content_hash, salt = b"\x11" * 32, b"\x22" * 32
    expected = keccak(encode(["address", "bytes32", "bytes32"], [creator.address, content_hash, salt]))
    assert copyright_register.commitment_of(creator, content_hash, salt) == expected


def test_commit__empty_commitment__reverts(copyright_register, creator):
    with ape.reverts("register: empty commitment"):
        copyright_register.commit(b"\x00" * 32, sender=creator)


def test_reveal__registers_with_the_commit_time(copyright_register, creator, chain):
    item = make_register_item()
    salt, commit_time = commit_for(copyright_register, creator, item)
    chain.mine(deltatime=600)

    tx = copyright_register.reveal(item, salt, sender=creator)

    assert tx.timestamp > commit_time
    record = copyright_register.registration(register_id(item))
    assert (record.owner, record.registered_at) == (creator.address, commit_time)
    [event] = tx.events.filter(copyright_register.Registered)
    assert event.registered_at == commit_time
    assert not tx.events.filter(copyright_register.PriorityClaimed)
    assert copyright_register.registration_count() == 1
    assert tx.return_value == register_id(item)


def test_reveal__in_the_commit_block_time__is_too_young(copyright_register, creator, chain):
    item = make_register_item()
    salt, commit_time = commit_for(copyright_register, creator, item)
    chain.pending_timestamp = commit_time

    with ape.reverts("register: commitment too young"):
        copyright_register.reveal(item, salt, sender=creator)


def test_reveal__a_day_after_the_commitment__has_expired(copyright_register, creator, chain):
    item = make_register_item()
    salt, commit_time = commit_for(copyright_register, creator, item)
    chain.pending_timestamp = commit_time + MAX_COMMITMENT_AGE

    with ape.reverts("register: commitment expired"):
        copyright_register.reveal(item, salt, sender=creator)


def test_reveal__one_second_before_expiry__is_accepted(copyright_register, creator, chain):
    item = make_register_item()
    salt, commit_time = commit_for(copyright_register, creator, item)
    chain.pending_timestamp = commit_time + MAX_COMMITMENT_AGE - 1

    copyright_register.reveal(item, salt, sender=creator)

    assert copyright_register.owner_of(register_id(item)) == creator.address


def test_reveal__without_a_commitment__reverts(copyright_register, creator, chain):
    item = make_register_item()
    commit_for(copyright_register, creator, item)
    chain.mine(deltatime=12)

    with ape.reverts("register: commitment not found"):
        copyright_register.reveal(item, secrets.token_bytes(32), sender=creator)


def test_reveal__registration_older_than_the_commitment__reverts(copyright_register, creator, other, chain):
    item = make_register_item()
    copyright_register.register(item, sender=other)
    chain.mine(deltatime=12)
    salt, _ = commit_for(copyright_register, creator, item)
    chain.mine(deltatime=12)

    with ape.reverts("register: already registered"):
        copyright_register.reveal(item, salt, sender=creator)
    assert copyright_register.owner_of(register_id(item)) == other.address


def test_reveal__twice__reverts(copyright_register, creator, chain):
    item = make_register_item()
    salt, _ = commit_for(copyright_register, creator, item)
    chain.mine(deltatime=12)
    copyright_register.reveal(item, salt, sender=creator)

    with ape.reverts("register: already registered"):
        copyright_register.reveal(item, salt, sender=creator)


def test_reveal__parent_registered_after_the_commitment__reverts(copyright_register, creator, chain):
    item = make_register_item(b"derivative")
    salt, _ = commit_for(copyright_register, creator, item)
    chain.mine(deltatime=12)
    late_original = make_register_item(b"original registered later")
    copyright_register.register(late_original, sender=creator)

    with ape.reverts("register: parent registered after the child's priority time"):
        copyright_register.reveal({**item, "parent": register_id(late_original)}, salt, sender=creator)


def test_reveal__claim_naming_the_work_as_its_own_parent__reverts(copyright_register, creator, frontrunner, chain):
    item = make_register_item()
    salt, _ = commit_for(copyright_register, creator, item)
    chain.mine(deltatime=12)
    copyright_register.register(item, sender=frontrunner)

    with ape.reverts("register: a work cannot be its own parent"):
        copyright_register.reveal({**item, "parent": register_id(item)}, salt, sender=creator)


def test_reveal__bad_item__names_the_rule(copyright_register, creator, chain):
    item = make_register_item(cid_codec=0x71)
    salt, _ = commit_for(copyright_register, creator, item)
    chain.mine(deltatime=12)

    with ape.reverts("register: unsupported CID codec"):
        copyright_register.reveal(item, salt, sender=creator)


# --- relayed commit–reveal --------------------------------------------------------------------


def test_reveal_by_sig__relayer_commits_and_reveals__signer_owns_it(
    copyright_register, creator, relayer, frontrunner, sign_register, deadline, chain
):
    item = make_register_item()
    salt, commit_time = commit_for(copyright_register, creator, item, sender=relayer)
    chain.mine(deltatime=12)
    copyright_register.register(item, sender=frontrunner)
    signature = sign_register(creator, item, deadline, salt=salt)

    tx = copyright_register.reveal_by_sig(creator, item, salt, deadline, signature, sender=relayer)

    record = copyright_register.registration(register_id(item))
    assert (record.owner, record.registered_at) == (creator.address, commit_time)
    assert copyright_register.nonces(creator) == 1
    [claim] = tx.events.filter(copyright_register.PriorityClaimed)
    assert (claim.previous_owner, claim.new_owner) == (frontrunner.address, creator.address)


def test_reveal_by_sig__forged_signature__reverts(copyright_register, creator, relayer, other, sign_register, deadline, chain):
    item = make_register_item()
    salt, _ = commit_for(copyright_register, creator, item, sender=relayer)
    chain.mine(deltatime=12)
    forged = sign_register(other, item, deadline, owner=creator.address, salt=salt)

    with ape.reverts("register: invalid signature"):
        copyright_register.reveal_by_sig(creator, item, salt, deadline, forged, sender=relayer)


def test_reveal_by_sig__signature_copied_into_register_by_sig__reverts(
    copyright_register, creator, relayer, frontrunner, sign_register, deadline, chain
):
    """A mempool watcher cannot replay a signed reveal as a plain registration (and burn the nonce)."""
    item = make_register_item()
    salt, commit_time = commit_for(copyright_register, creator, item, sender=relayer)
    chain.mine(deltatime=12)
    signature = sign_register(creator, item, deadline, salt=salt)

    with ape.reverts("register: invalid signature"):
        copyright_register.register_by_sig(creator, item, deadline, signature, sender=frontrunner)

    copyright_register.reveal_by_sig(creator, item, salt, deadline, signature, sender=relayer)
    assert copyright_register.registration(register_id(item)).registered_at == commit_time


def test_reveal_by_sig__register_signature__is_not_a_reveal_signature(
    copyright_register, creator, relayer, sign_register, deadline, chain
):
    item = make_register_item()
    salt, _ = commit_for(copyright_register, creator, item, sender=relayer)
    chain.mine(deltatime=12)

    with ape.reverts("register: invalid signature"):
        copyright_register.reveal_by_sig(creator, item, salt, deadline, sign_register(creator, item, deadline), sender=relayer)


def test_reveal_by_sig__expired__reverts(copyright_register, creator, relayer, sign_register, chain):
    item = make_register_item()
    salt, commit_time = commit_for(copyright_register, creator, item, sender=relayer)
    deadline = commit_time + 60
    signature = sign_register(creator, item, deadline, salt=salt)
    chain.pending_timestamp = deadline + 1

    with ape.reverts("register: signature expired"):
        copyright_register.reveal_by_sig(creator, item, salt, deadline, signature, sender=relayer)
