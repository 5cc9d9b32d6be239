"""Fixtures for the contract tests (ape + anvil).

Generic roles (`owner`, `seller`, `buyer`, ...) are accounts; fixtures specific to the marketplace
and the settlement escrow carry their prefix (`market`, `settlement`, `mock_register`, `cpy_mock`).
"""

import secrets

import pytest
from market_signing import mandate_args, registration_id_of, sign_typed

from backend.marketplace.typed_data import ETH, domain_hash, mandate_typed_data, offer_typed_data

MARKET_FEE_BPS = 500


@pytest.fixture
def fast_reverts(monkeypatch):
    """Skips ape's Vyper source traceback on reverts (about 2 s per revert on this machine).

    Revert reasons are still decoded and asserted; only the pretty source lines ape would attach
    to an unexpected failure are left out. Used by the marketplace and settlement modules, which
    assert dozens of reverts.
    """
    import ape.exceptions

    no_traceback = property(lambda self: None, lambda self, value: None)
    monkeypatch.setattr(ape.exceptions.TransactionError, "source_traceback", no_traceback)
DAY = 86_400


@pytest.fixture(scope="session")
def owner(accounts):
    """Deploys the contracts; holds the admin, arbiter and case-manager roles."""
    return accounts[0]


@pytest.fixture(scope="session")
def seller(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def buyer(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def treasury(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def arbiter(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def infringer(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def stranger(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def case_manager(accounts):
    return accounts[7]


@pytest.fixture(scope="session")
def platform_agent(accounts):
    """The platform address that mandates name as agent."""
    return accounts[8]


@pytest.fixture(scope="module")
def market_registration_id(mock_register, seller):
    """A registration owned by `seller`."""
    rid = registration_id_of("sunset.jpg")
    mock_register.set_owner(rid, seller, sender=seller)
    return rid


@pytest.fixture(scope="module")
def mock_register(project, owner):
    return owner.deploy(project.MockRegister)


@pytest.fixture(scope="module")
def cpy_mock(project, owner, buyer, infringer):
    """The CPY stand-in (snekmate ERC-20); buyer and infringer hold 1,000 CPY each."""
    token = owner.deploy(project.TestToken)
    for holder in (buyer, infringer):
        token.mint(holder, 1_000 * 10**18, sender=owner)
    return token


@pytest.fixture(scope="module")
def no_return_token(project, owner, buyer, infringer):
    """An ERC-20 look-alike whose transfers return nothing; buyer and infringer hold 1,000 each."""
    token = owner.deploy(project.NoReturnToken)
    for holder in (buyer, infringer):
        token.mint(holder, 1_000 * 10**18, sender=owner)
    return token


@pytest.fixture(scope="module")
def market_factory(project, owner, mock_register, cpy_mock, treasury, arbiter):
    """Deploys a licence market; keyword overrides for the constructor arguments."""

    def deploy(**overrides):
        args = dict(register=mock_register, cpy_token=cpy_mock, treasury=treasury, fee_bps=MARKET_FEE_BPS)
        args.update(overrides)
        market = owner.deploy(project.LicenseMarket, args["register"], args["cpy_token"], args["treasury"], args["fee_bps"])
        market.grantRole(market.ARBITER_ROLE(), arbiter, sender=owner)
        return market

    return deploy


@pytest.fixture(scope="module")
def market(market_factory):
    return market_factory()


@pytest.fixture
def market_offer(chain, seller, market_registration_id):
    """Factory: (typed data, signature) of an offer for `market`; keyword overrides for any field.

    `signer` signs instead of the seller (a forgery); `sign=False` leaves the signature empty.
    """

    def make(market, signer=None, sign=True, **fields):
        offer = {
            "seller": seller.address,
            "registration_id": market_registration_id,
            "licence_type": 0,
            "territory": b"\0" * 32,
            "duration": 365 * DAY,
            "seats": 1,
            "domains": [],
            "currency": ETH,
            "price": 10**18,
            "max_sales": 1,
            "expiry": chain.pending_timestamp + DAY,
            "counter": 0,
            "salt": secrets.randbits(256),
        }
        offer.update(fields)
        offer["seller"] = str(offer["seller"])
        offer["currency"] = str(offer["currency"])
        typed = offer_typed_data(chain.chain_id, market.address, offer)
        if not sign:
            return typed, b""
        key = (signer or seller).private_key
        return typed, sign_typed(typed, key)

    return make


@pytest.fixture(scope="session")
def market_domain():
    return domain_hash("example.com")


@pytest.fixture(scope="module")
def settlement_factory(project, owner, mock_register, cpy_mock, treasury, platform_agent, case_manager):
    """Deploys a settlement escrow; keyword overrides for the constructor arguments."""

    def deploy(**overrides):
        args = dict(register=mock_register, cpy_token=cpy_mock, treasury=treasury, agent=platform_agent)
        args.update(overrides)
        escrow = owner.deploy(project.SettlementEscrow, args["register"], args["cpy_token"], args["treasury"], args["agent"])
        escrow.grantRole(escrow.CASE_MANAGER_ROLE(), case_manager, sender=owner)
        return escrow

    return deploy


@pytest.fixture(scope="module")
def settlement(settlement_factory):
    return settlement_factory()


@pytest.fixture
def settlement_mandate(chain, seller, platform_agent):
    """Factory: (typed data, signature) of a mandate for `settlement`; keyword overrides for any field."""

    def make(settlement, signer=None, **fields):
        mandate = {
            "owner": seller.address,
            "agent": platform_agent.address,
            "registration_id": 0,
            "expiry": chain.pending_timestamp + 365 * DAY,
            "nonce": 0,
        }
        mandate.update(fields)
        mandate["owner"] = str(mandate["owner"])
        mandate["agent"] = str(mandate["agent"])
        typed = mandate_typed_data(chain.chain_id, settlement.address, mandate)
        return typed, sign_typed(typed, (signer or seller).private_key)

    return make


@pytest.fixture
def mandated_settlement(settlement, settlement_mandate, seller, market_registration_id):
    """A settlement escrow where `seller` has mandated the platform for all their registrations."""
    typed, signature = settlement_mandate(settlement)
    settlement.submit_mandate(mandate_args(typed), signature, sender=seller)
    return settlement
