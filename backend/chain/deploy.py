"""Deploying the contracts the backend needs, once per chain, recorded in a deployment file.

The file (`<data_dir>/deployment.json` by default) names the chain id and, per contract, its
address and deployment block; the backend, the CLI and the web app read it. A deployment is
reused only if the chain still has code at the recorded address.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from web3 import Web3

from backend.chain import artifacts
from backend.chain.client import operator, transact
from backend.chain.sale_deployment import plan_sale_suite, preset_parameters

SALE_SUITE = ("BusinessDevelopmentVesting", "FoundersVesting", "CPYSale", "CPYToken")
CONTRACTS = ("CopyrightRegister", *SALE_SUITE, "LicenseMarket", "SettlementEscrow")


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    addresses: dict[str, str]
    blocks: dict[str, int]

    def address(self, name: str) -> str:
        try:
            return self.addresses[name]
        except KeyError:
            raise KeyError(f"contract {name} is not in the deployment; redeploy") from None

    def to_json(self) -> dict:
        return {
            "chain_id": self.chain_id,
            "contracts": {n: {"address": a, "block": self.blocks[n]} for n, a in self.addresses.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> "Deployment":
        contracts = data["contracts"]
        return cls(
            chain_id=int(data["chain_id"]),
            addresses={n: Web3.to_checksum_address(c["address"]) for n, c in contracts.items()},
            blocks={n: int(c["block"]) for n, c in contracts.items()},
        )


def read_deployment(path: Path) -> Deployment | None:
    try:
        return Deployment.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise RuntimeError(f"deployment file {path} is unreadable ({exc}); delete it to redeploy") from None


def write_deployment(path: Path, deployment: Deployment) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".deployment-")
    with os.fdopen(fd, "w") as out:
        json.dump(deployment.to_json(), out, indent=2)
    os.replace(tmp, path)


def deploy_contract(w3: Web3, deployer_key: str, name: str, *args) -> tuple[str, int]:
    contract = w3.eth.contract(abi=artifacts.abi(name), bytecode=artifacts.bytecode(name))
    receipt = transact(w3, operator(deployer_key), contract.constructor(*args))
    return Web3.to_checksum_address(receipt["contractAddress"]), receipt["blockNumber"]


@dataclass(frozen=True)
class Platform:
    """Who the platform is on-chain: the accounts that receive fees and act as agent."""

    treasury: str
    agent: str
    market_fee_bps: int


def _deploy_sale_suite(w3: Web3, deployer_key: str, addresses: dict, blocks: dict, soft_cap: int = 0) -> None:
    """Vesting ×2, sale, token at consecutive nonces: the token's constructor checks the others."""
    deployer = operator(deployer_key).address
    now = w3.eth.get_block("latest")["timestamp"]
    plan = plan_sale_suite(
        deployer=deployer,
        nonce=w3.eth.get_transaction_count(deployer, "pending"),
        sale=replace(preset_parameters("local", now), soft_cap=soft_cap),
        sale_wallet=deployer,
        business_development_beneficiary=deployer,
        founders_beneficiary=deployer,
    )
    for name, step in zip(SALE_SUITE, plan.steps):
        address, block = deploy_contract(w3, deployer_key, step.contract, *step.args)
        if address != step.address:
            raise RuntimeError(f"{name} landed at {address}, not the planned {step.address}; another "
                               "transaction from the deployer interfered; delete the deployment file and retry")
        addresses[name], blocks[name] = address, block
    # The operator allow-lists investors (`copytrack sale admin allowlist`): without the KYC
    # operator role nobody could buy on the local stack.
    sale = w3.eth.contract(address=addresses["CPYSale"], abi=artifacts.abi("CPYSale"))
    transact(w3, operator(deployer_key), sale.functions.grantRole(sale.functions.KYC_OPERATOR_ROLE().call(), deployer))


def ensure_deployed(w3: Web3, deployer_key: str, path: Path, platform: Platform | None = None,
                    sale_soft_cap: int = 0) -> Deployment:
    """The recorded deployment where the chain still has it; whatever is missing is deployed.

    A live register is never replaced (its registrations are the point); the CPY suite is
    deployed as a whole; the marketplace and the settlement escrow are bound to the register and
    the token they were deployed with, so they are redeployed when either is new.
    """
    platform = platform or Platform(treasury=operator(deployer_key).address,
                                    agent=operator(deployer_key).address, market_fee_bps=500)
    existing = read_deployment(path)
    live: dict[str, str] = {}
    blocks: dict[str, int] = {}
    if existing is not None and existing.chain_id == w3.eth.chain_id:
        for name, address in existing.addresses.items():
            if name in CONTRACTS and len(w3.eth.get_code(address)) > 0:
                live[name], blocks[name] = address, existing.blocks[name]
    fresh: set[str] = set()
    if "CopyrightRegister" not in live:
        live["CopyrightRegister"], blocks["CopyrightRegister"] = deploy_contract(w3, deployer_key, "CopyrightRegister")
        fresh.add("CopyrightRegister")
    if not all(name in live for name in SALE_SUITE):
        _deploy_sale_suite(w3, deployer_key, live, blocks, sale_soft_cap)
        fresh.add("CPYToken")
    dependents = {
        "LicenseMarket": (platform.treasury, platform.market_fee_bps),
        "SettlementEscrow": (platform.treasury, platform.agent),
    }
    for name, extra in dependents.items():
        if name not in live or fresh:
            live[name], blocks[name] = deploy_contract(
                w3, deployer_key, name, live["CopyrightRegister"], live["CPYToken"], *extra
            )
    deployment = Deployment(chain_id=w3.eth.chain_id, addresses=live, blocks=blocks)
    if deployment != existing:
        write_deployment(path, deployment)
    return deployment
