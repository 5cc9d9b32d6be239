"""CopyrightRegister: gasless registration (the owner signs EIP-712, a relayer submits)."""

import ape
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from register_support import REGISTER_MESSAGE_TYPES, make_register_item, register_id

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

# The exact type string the backend and wallets must sign (also checked against the contract).
REGISTER_TYPE = (
    "Register(address owner,bytes32 content_hash,uint64 phash,uint16 cid_codec,bytes32 cid_digest,"
    "uint256 parent,uint256 nonce,uint256 deadline)"
)


def test_register_typehash__matches_the_published_type_string(copyright_register):
    from eth_utils import keccak

    assert copyright_register.REGISTER_TYPEHASH() == keccak(text=REGISTER_TYPE)
    fields = ",".join(f"{field['type']} {field['name']}" for field in REGISTER_MESSAGE_TYPES["Register"])
    assert f"Register({fields})" == REGISTER_TYPE


def test_domain__is_copytrack_register_version_1(copyright_register, chain):
    domain = copyright_register.eip712Domain()
    assert domain[1:5] == ("Copytrack Register", "1", chain.chain_id, copyright_register.address)


def test_register_by_sig__relayed__belongs_to_the_signer(copyright_register, creator, relayer, sign_register, deadline):
    item = make_register_item(b"gasless image")
    signature = sign_register(creator, item, deadline)

    tx = copyright_register.register_by_sig(creator, item, deadline, signature, sender=relayer)

    assert tx.sender == relayer.address
    assert copyright_register.owner_of(register_id(item)) == creator.address
    assert copyright_register.nonces(creator) == 1
    assert copyright_register.nonces(relayer) == 0
    assert copyright_register.registration_count() == 1
    [event] = tx.events.filter(copyright_register.Registered)
    assert (event.id, event.owner) == (register_id(item), creator.address)
    assert tx.return_value == register_id(item)


def test_register_by_sig__several_in_a_row__use_consecutive_nonces(
    copyright_register, creator, relayer, sign_register, deadline
):
    for expected_nonce in range(3):
        item = make_register_item()
        signature = sign_register(creator, item, deadline, nonce=expected_nonce)
        copyright_register.register_by_sig(creator, item, deadline, signature, sender=relayer)
    assert copyright_register.nonces(creator) == 3


def test_register_by_sig__compact_eip2098_signature__is_accepted(
    copyright_register, creator, relayer, sign_register, deadline
):
    item = make_register_item()
    signature = sign_register(creator, item, deadline)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    compact = r + ((v - 27) << 255 | s).to_bytes(32, "big")

    copyright_register.register_by_sig(creator, item, deadline, compact, sender=relayer)

    assert copyright_register.owner_of(register_id(item)) == creator.address


def test_register_by_sig__expired__reverts(copyright_register, creator, relayer, sign_register, chain):
    deadline = chain.pending_timestamp + 60
    item = make_register_item()
    signature = sign_register(creator, item, deadline)
    chain.pending_timestamp = deadline + 1

    with ape.reverts("register: signature expired"):
        copyright_register.register_by_sig(creator, item, deadline, signature, sender=relayer)


def test_register_by_sig__at_the_deadline__is_accepted(copyright_register, creator, relayer, sign_register, chain):
    deadline = chain.pending_timestamp + 60
    item = make_register_item()
    signature = sign_register(creator, item, deadline)
    chain.pending_timestamp = deadline

    copyright_register.register_by_sig(creator, item, deadline, signature, sender=relayer)

    assert copyright_register.owner_of(register_id(item)) == creator.address


def test_register_by_sig__replayed__reverts(copyright_register, creator, relayer, other, sign_register, deadline):
    item = make_register_item()
    signature = sign_register(creator, item, deadline)
    copyright_register.register_by_sig(creator, item, deadline, signature, sender=relayer)

    with ape.reverts("register: invalid signature"):
        copyright_register.register_by_sig(creator, item, deadline, signature, sender=other)
    assert copyright_register.nonces(creator) == 1


def test_register_by_sig__future_nonce__reverts(copyright_register, creator, relayer, sign_register, deadline):
    item = make_register_item()
    signature = sign_register(creator, item, deadline, nonce=1)

    with ape.reverts("register: invalid signature"):
        copyright_register.register_by_sig(creator, item, deadline, signature, sender=relayer)


def test_register_by_sig__signed_by_someone_else__reverts(
    copyright_register, creator, relayer, other, sign_register, deadline
):
    item = make_register_item()
    forged = sign_register(other, item, deadline, owner=creator.address)

    with ape.reverts("register: invalid signature"):
        copyright_register.register_by_sig(creator, item, deadline, forged, sender=relayer)


def test_register_by_sig__relayer_claims_the_owners_signature__reverts(
    copyright_register, creator, relayer, sign_register, deadline
):
    item = make_register_item()
    signature = sign_register(creator, item, deadline)

    with ape.reverts("register: invalid signature"):
        copyright_register.register_by_sig(relayer, item, deadline, signature, sender=relayer)


@pytest.mark.parametrize(
    "field, value",
    [("phash", 1), ("cid_codec", 0x70), ("cid_digest", b"\x01" * 32), ("content_hash", b"\x02" * 32)],
)
def test_register_by_sig__item_altered_after_signing__reverts(
    copyright_register, creator, relayer, sign_register, deadline, field, value
):
    item = make_register_item()
    signature = sign_register(creator, item, deadline)
    altered = {**item, field: value}

    with ape.reverts("register: invalid signature"):
        copyright_register.register_by_sig(creator, altered, deadline, signature, sender=relayer)


def test_register_by_sig__deadline_extended_after_signing__reverts(
    copyright_register, creator, relayer, sign_register, deadline
):
    item = make_register_item()
    signature = sign_register(creator, item, deadline)

    with ape.reverts("register: invalid signature"):
        copyright_register.register_by_sig(creator, item, deadline + 1, signature, sender=relayer)


def test_register_by_sig__signed_for_another_register__reverts(
    copyright_register, deploy_register, creator, relayer, sign_register, deadline
):
    elsewhere = deploy_register()
    item = make_register_item()
    signature = sign_register(creator, item, deadline, contract=elsewhere)

    with ape.reverts("register: invalid signature"):
        copyright_register.register_by_sig(creator, item, deadline, signature, sender=relayer)


def test_register_by_sig__personal_sign_instead_of_typed_data__reverts(
    copyright_register, creator, relayer, deadline
):
    from eth_account.messages import encode_defunct

    item = make_register_item()
    signature = bytes(Account.sign_message(encode_defunct(item["content_hash"]), creator.private_key).signature)

    with ape.reverts("register: invalid signature"):
        copyright_register.register_by_sig(creator, item, deadline, signature, sender=relayer)


def test_register_by_sig__malformed_signature__reverts_with_the_ecdsa_reason(
    copyright_register, creator, relayer, sign_register, deadline
):
    item = make_register_item()
    signature = sign_register(creator, item, deadline)
    bad_v = signature[:64] + bytes([29])
    high_s = signature[:32] + (2**256 - 1).to_bytes(32, "big") + signature[64:]

    with ape.reverts("ecdsa: invalid signature"):
        copyright_register.register_by_sig(creator, item, deadline, bad_v, sender=relayer)
    with ape.reverts("ecdsa: invalid signature `s` value"):
        copyright_register.register_by_sig(creator, item, deadline, high_s, sender=relayer)
    with ape.reverts("register: invalid signature"):
        copyright_register.register_by_sig(creator, item, deadline, b"", sender=relayer)


def test_register_by_sig__zero_address_owner_with_empty_signature__reverts(copyright_register, relayer, deadline):
    """An empty signature "recovers" to the zero address; it must not register content to nobody."""
    item = make_register_item()

    with ape.reverts("register: owner is the zero address"):
        copyright_register.register_by_sig(ZERO_ADDRESS, item, deadline, b"", sender=relayer)
    with ape.reverts("register: owner is the zero address"):
        copyright_register.reveal_by_sig(ZERO_ADDRESS, item, b"\x01" * 32, deadline, b"", sender=relayer)
    assert copyright_register.registration_count() == 0


def test_register_by_sig__content_already_registered__reverts_and_keeps_the_nonce(
    copyright_register, creator, relayer, other, sign_register, deadline
):
    item = make_register_item()
    copyright_register.register(item, sender=other)
    signature = sign_register(creator, item, deadline)

    with ape.reverts("register: already registered"):
        copyright_register.register_by_sig(creator, item, deadline, signature, sender=relayer)
    assert copyright_register.nonces(creator) == 0


def test_domain_separator__matches_the_typed_data_header_wallets_sign(copyright_register, chain, creator):
    """`eth_signTypedData_v4` (here: eth-account) hashes the same domain the contract checks."""
    item = make_register_item()
    domain = {"name": "Copytrack Register", "version": "1", "chainId": chain.chain_id,
              "verifyingContract": copyright_register.address}
    message = {"owner": creator.address, **item, "nonce": 0, "deadline": 2**40}
    signable = encode_typed_data(domain, REGISTER_MESSAGE_TYPES, message)
    assert signable.header == copyright_register.DOMAIN_SEPARATOR()
