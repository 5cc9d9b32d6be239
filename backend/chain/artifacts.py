"""Contract artifacts produced by `ape compile` (`.build/<Name>.json`, ethPM contract types).

The backend reads ABIs and bytecode from here instead of importing ape at run time: ape is a
development tool, web3 is enough to talk to a deployed contract.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = PROJECT_ROOT / ".build"


class ArtifactMissing(RuntimeError):
    """The contracts were not compiled (run `make setup` or `ape compile`)."""


@lru_cache(maxsize=None)
def contract_type(name: str) -> dict:
    """The compiled contract type for `name` (keys `abi`, `deploymentBytecode`, ...)."""
    path = BUILD_DIR / f"{name}.json"
    if not path.exists():
        raise ArtifactMissing(
            f"no build artifact for contract {name!r} at {path}; run `make setup` (or `ape compile`)"
        )
    return json.loads(path.read_text())


def abi(name: str) -> list[dict]:
    return contract_type(name)["abi"]


def bytecode(name: str) -> str:
    code = contract_type(name).get("deploymentBytecode", {}).get("bytecode")
    if not code:
        raise ArtifactMissing(f"artifact for {name!r} has no deployment bytecode")
    return code
