"""Contract artifacts produced by `ape compile` (the ethPM manifest `.build/__local__.json`).

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


MANIFEST = BUILD_DIR / "__local__.json"


@lru_cache(maxsize=1)
def _manifest(mtime: float) -> dict:
    return json.loads(MANIFEST.read_text())


def contract_type(name: str) -> dict:
    """The compiled contract type for `name` (keys `abi`, `deploymentBytecode`, ...)."""
    if not MANIFEST.exists():
        raise ArtifactMissing(f"no build manifest at {MANIFEST}; run `make setup` (or `ape compile`)")
    types = _manifest(MANIFEST.stat().st_mtime).get("contractTypes", {})
    if name not in types:
        raise ArtifactMissing(f"contract {name!r} is not in {MANIFEST}; run `make setup` (or `ape compile`)")
    return types[name]


def abi(name: str) -> list[dict]:
    return contract_type(name)["abi"]


def bytecode(name: str) -> str:
    code = contract_type(name).get("deploymentBytecode", {}).get("bytecode")
    if not code:
        raise ArtifactMissing(f"artifact for {name!r} has no deployment bytecode")
    return code
