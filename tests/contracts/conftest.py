"""Shared fixtures for the contract tests (ape + pytest, run on anvil).

Generic role fixtures come first (every contract's tests may use them), then the fixtures of
each contract, in its own clearly named section. Plain helpers live in `<contract>_support.py`
modules beside this file (importing from `conftest` would clash with other test folders).
The role fixtures are function-scoped (they only pick an account) so that ape's per-test chain
isolation never has to rebase a late session fixture; `deployer` is session-scoped because the
module-scoped contract fixtures need it.
"""

from __future__ import annotations

import secrets

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from market_signing import mandate_args, registration_id_of, sign_typed
from register_support import (
    REGISTER_DOMAIN_NAME,
    REGISTER_DOMAIN_VERSION,
    REGISTER_MESSAGE_TYPES,
    REVEAL_MESSAGE_TYPES,
)

from web3.exceptions import ContractLogicError

from backend.chain.sale_deployment import (
    SaleParameters,
    VestingSchedule,
    plan_sale_suite,
    plan_token_swap,
)
from backend.marketplace.typed_data import ETH, domain_hash, mandate_typed_data, offer_typed_data

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


# ---------------------------------------------------------------------------------------------
# LicenseMarket and SettlementEscrow (generic roles: owner, seller, buyer, treasury, arbiter,
# infringer, stranger, case_manager, platform_agent; the rest carry the contract's prefix)
# ---------------------------------------------------------------------------------------------

MARKET_FEE_BPS = 500
MARKET_MAX_FEE_BPS = 2_000  # offers accept any fee the market allows unless a test says otherwise


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
    """An account with no role in any contract."""
    return accounts[9]


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
            "buyer": ETH,
            "registration_id": market_registration_id,
            "licence_type": 0,
            "territory": b"\0" * 32,
            "duration": 365 * DAY,
            "seats": 1,
            "domains": [],
            "currency": ETH,
            "price": 10**18,
            "max_fee_bps": MARKET_MAX_FEE_BPS,
            "max_sales": 1,
            "expiry": chain.pending_timestamp + DAY,
            "counter": 0,
            "salt": secrets.randbits(256),
        }
        offer.update(fields)
        offer["seller"] = str(offer["seller"])
        offer["currency"] = str(offer["currency"])
        offer["buyer"] = str(offer["buyer"])
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


# ---------------------------------------------------------------------------------------------
# CPY token, sale, vesting and swap (generic roles: owner, kyc_operator, sale_wallet,
# beneficiary, investor, investors, stranger; factories deploy_cpy_suite, deploy_sale, deploy_swap)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kyc_operator(accounts):
    """Maintains the sale's allow-list."""
    return accounts[1]


@pytest.fixture(scope="session")
def sale_wallet(accounts):
    """Withdraws the raised ETH."""
    return accounts[2]


@pytest.fixture(scope="session")
def beneficiary(accounts):
    """Receives vested tokens."""
    return accounts[3]


@pytest.fixture(scope="session")
def investor(accounts):
    """An allow-listed investor (allow-listed by `deploy_sale`)."""
    return accounts[4]


@pytest.fixture(scope="session")
def investors(accounts):
    """Further allow-listed investors."""
    return list(accounts[5:9])


@pytest.fixture(scope="session", autouse=True)
def _role_accounts(owner, kyc_operator, sale_wallet, beneficiary, investor, investors, stranger):
    """Resolves the session-wide roles before any test's chain snapshot (ape isolation)."""


@pytest.fixture
def now(chain):
    """The timestamp of the next block."""
    return chain.pending_timestamp


def _deploy_steps(project, sender, names, steps):
    """Deploys a plan's steps in order and checks each lands at its planned address."""
    deployed = {}
    for name, step in zip(names, steps):
        contract = getattr(project, step.contract).deploy(*step.args, sender=sender)
        assert contract.address == step.address, f"{name} deployed off-plan"
        deployed[name] = contract
    return deployed


@pytest.fixture(scope="module")
def deploy_cpy_suite(project, owner, sale_wallet, beneficiary):
    """Deploys vesting ×2, sale and token from `owner` following the deployment plan.

    Returns the plan's contracts as a dict: `token`, `sale`, `business_development_vesting`,
    `founders_vesting`. Keyword overrides go to `SaleParameters`; `vesting=` takes a
    `VestingSchedule`.
    """

    def deploy(vesting: VestingSchedule | None = None, **sale_overrides):
        now = owner.provider.chain_manager.pending_timestamp
        parameters = {"opening_time": now, "closing_time": now + 30 * DAY, **sale_overrides}
        plan = plan_sale_suite(
            deployer=owner.address,
            nonce=owner.nonce,
            sale=SaleParameters(**parameters),
            sale_wallet=sale_wallet.address,
            business_development_beneficiary=beneficiary.address,
            founders_beneficiary=beneficiary.address,
            vesting=vesting,
        )
        names = ("business_development_vesting", "founders_vesting", "sale", "token")
        return _deploy_steps(project, owner, names, plan.steps)

    return deploy


@pytest.fixture(scope="module")
def deploy_sale(deploy_cpy_suite, owner, kyc_operator, investor, investors):
    """A sale (with its token and vesting contracts) whose KYC operator allow-listed the investors.

    Keyword overrides go to `SaleParameters` (e.g. `hard_cap=`, `tranche_limits=()`);
    `allow_list=False` leaves the allow-list empty. Returns the sale; its token is
    `project.CPYToken.at(sale.token())`.
    """

    def deploy(allow_list: bool = True, **overrides):
        suite = deploy_cpy_suite(**overrides)
        sale = suite["sale"]
        role = sale.KYC_OPERATOR_ROLE()
        sale.grantRole(role, kyc_operator, sender=owner)
        if allow_list:
            sale.add_to_allow_list([investor, *investors], sender=kyc_operator)
        return sale

    return deploy


@pytest.fixture(scope="module")
def sale(deploy_sale):
    """The production rules (tranches, 740 CPY/ETH, 60M cap, 0.1–2,500 ETH), open now."""
    return deploy_sale()


@pytest.fixture(scope="module")
def constructor_revert_reason(chain, owner):
    """The revert reason of deploying `container` with `args`, read straight from the node.

    ape-vyper maps a failing constructor to the wrong source line (and so the wrong reason) when
    the constructor has several asserts, so constructor tests ask the node via `eth_call`.
    """

    def reason(container, *args) -> str:
        data = container.constructor.encode_input(*args)
        deployment = container.contract_type.deployment_bytecode.bytecode
        try:
            chain.provider.web3.eth.call({"from": owner.address, "data": deployment + data.hex().removeprefix("0x")})
        except ContractLogicError as error:
            return error.message.removeprefix("execution reverted: ")
        raise AssertionError(f"deploying {container.contract_type.name} did not revert")

    return reason


@pytest.fixture(scope="module")
def deploy_swap(project, owner, beneficiary):
    """Deploys reserve vesting, swap and the 130M token for `old_token`, following the plan.

    Returns a dict with `reserve_vesting`, `swap`, `new_token`.
    """

    def deploy(old_token, reserve_vesting: VestingSchedule | None = None):
        schedule = reserve_vesting or VestingSchedule(start=owner.provider.chain_manager.pending_timestamp)
        plan = plan_token_swap(
            deployer=owner.address,
            nonce=owner.nonce,
            old_token=old_token.address,
            reserve_beneficiary=beneficiary.address,
            reserve_vesting=schedule,
        )
        return _deploy_steps(project, owner, ("reserve_vesting", "swap", "new_token"), plan.steps)

    return deploy
