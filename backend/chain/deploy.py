"""Deploying the contracts the backend needs, once per chain, recorded in a deployment file.

The file (`<data_dir>/deployment.json` by default) names the chain id and, per contract, its
address and deployment block; the backend, the CLI and the web app read it. A deployment is
reused only if the chain still has code at the recorded address.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

from backend.chain import artifacts
from backend.chain.client import operator, transact

CONTRACTS = ("CopyrightRegister",)


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


def is_live(w3: Web3, deployment: Deployment) -> bool:
    if deployment.chain_id != w3.eth.chain_id:
        return False
    return all(len(w3.eth.get_code(a)) > 0 for a in deployment.addresses.values())


def deploy_contract(w3: Web3, deployer_key: str, name: str, *args) -> tuple[str, int]:
    contract = w3.eth.contract(abi=artifacts.abi(name), bytecode=artifacts.bytecode(name))
    receipt = transact(w3, operator(deployer_key), contract.constructor(*args))
    return Web3.to_checksum_address(receipt["contractAddress"]), receipt["blockNumber"]


def ensure_deployed(w3: Web3, deployer_key: str, path: Path) -> Deployment:
    """The recorded deployment if the chain still has it, else a fresh one (recorded)."""
    existing = read_deployment(path)
    if existing is not None and set(CONTRACTS) <= set(existing.addresses) and is_live(w3, existing):
        return existing
    addresses, blocks = {}, {}
    for name in CONTRACTS:
        addresses[name], blocks[name] = deploy_contract(w3, deployer_key, name)
    deployment = Deployment(chain_id=w3.eth.chain_id, addresses=addresses, blocks=blocks)
    write_deployment(path, deployment)
    return deployment
