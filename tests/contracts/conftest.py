"""Shared fixtures for the contract tests (ape + pytest, run on anvil).

Generic role fixtures come first (every contract's tests may use them), then the fixtures of
each contract, in its own clearly named section. Plain helpers live in `<contract>_support.py`
modules beside this file (importing from `conftest` would clash with other test folders).
The role fixtures are function-scoped (they only pick an account) so that ape's per-test chain
isolation never has to rebase a late session fixture; `deployer` is session-scoped because the
module-scoped contract fixtures need it.
"""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from register_support import (
    REGISTER_DOMAIN_NAME,
    REGISTER_DOMAIN_VERSION,
    REGISTER_MESSAGE_TYPES,
    REVEAL_MESSAGE_TYPES,
)

# ---------------------------------------------------------------------------------------------
# Roles (ape's funded dev accounts; each role is a different account)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def deployer(accounts):
    """Deploys the contracts; holds their admin roles (and the register's ATTESTOR_ROLE)."""
    return accounts[0]


@pytest.fixture
def attestor(deployer):
    """Records verification levels in the register; the deployer holds ATTESTOR_ROLE."""
    return deployer


@pytest.fixture
def creator(accounts):
    """A rights-holder who registers images."""
    return accounts[1]


@pytest.fixture
def other(accounts):
    """An unrelated account with no rights."""
    return accounts[2]


@pytest.fixture
def relayer(accounts):
    """Submits signed (gasless) transactions on someone else's behalf and pays the gas."""
    return accounts[3]


@pytest.fixture
def frontrunner(accounts):
    """Watches the mempool and copies other people's pending transactions."""
    return accounts[4]


# ---------------------------------------------------------------------------------------------
# CopyrightRegister
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def deploy_register(project, deployer):
    """Factory: deploys a fresh CopyrightRegister (`sender` overrides the deployer)."""

    def deploy(sender=None):
        return project.CopyrightRegister.deploy(sender=sender or deployer)

    return deploy


@pytest.fixture(scope="module")
def copyright_register(deploy_register):
    """A CopyrightRegister deployed by `deployer` (state is reset between tests by ape)."""
    return deploy_register()


@pytest.fixture(scope="module")
def naive_register(project, deployer):
    """The naive baseline register (every field in its own slot), for gas comparisons."""
    return project.NaiveRegister.deploy(sender=deployer)


@pytest.fixture
def sign_register(chain, copyright_register):
    """Factory: the owner's EIP-712 `Register` signature over `item` (a `Reveal` when `salt` is given).

    `sign_register(signer, item, deadline, nonce=None, owner=None, contract=None, salt=None)` -> bytes.
    `nonce` defaults to the owner's current nonce, `owner` to the signer's address (pass another
    to forge a message for someone else).
    """

    def sign(signer, item, deadline, *, nonce=None, owner=None, contract=None, salt=None):
        contract = contract or copyright_register
        owner = owner or signer.address
        message = {
            "owner": owner,
            "content_hash": item["content_hash"],
            "phash": item["phash"],
            "cid_codec": item["cid_codec"],
            "cid_digest": item["cid_digest"],
            "parent": item["parent"],
            "nonce": contract.nonces(owner) if nonce is None else nonce,
            "deadline": deadline,
        }
        domain = {
            "name": REGISTER_DOMAIN_NAME,
            "version": REGISTER_DOMAIN_VERSION,
            "chainId": chain.chain_id,
            "verifyingContract": contract.address,
        }
        types = REGISTER_MESSAGE_TYPES
        if salt is not None:
            message["salt"] = salt
            types = REVEAL_MESSAGE_TYPES
        signable = encode_typed_data(domain, types, message)
        return bytes(Account.sign_message(signable, signer.private_key).signature)

    return sign


@pytest.fixture
def deadline(chain):
    """A signature deadline one hour after the next block."""
    return chain.pending_timestamp + 3600
