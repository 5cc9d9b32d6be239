"""Fixtures of the contract tests: role-named accounts and factories of deployed contracts.

Roles are generic (`owner`, `investor`, ...); factories are named after their contracts
(`deploy_cpy_suite`, `deploy_sale`, `deploy_swap`) and deploy a variant with keyword overrides.
"""

from __future__ import annotations

import pytest
from web3.exceptions import ContractLogicError

from backend.chain.sale_deployment import (
    DAY,
    SaleParameters,
    VestingSchedule,
    plan_sale_suite,
    plan_token_swap,
)


@pytest.fixture(scope="session")
def owner(accounts):
    """Deploys the contracts and holds the sale's admin role."""
    return accounts[0]


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


@pytest.fixture(scope="session")
def stranger(accounts):
    """An account that is on no list and holds no role."""
    return accounts[9]


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
