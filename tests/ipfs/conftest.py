import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ipfs import LocalStore

PROJECT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def run_node(script: str, *args, env: dict | None = None) -> list[str]:
    """Run one of the reference scripts beside this file; its output split into words."""
    node = shutil.which("node")
    assert node, "node is needed for the npm reference implementations (npm ci installs them)"
    result = subprocess.run(
        [node, str(HERE / script), *map(str, args)],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def _reference_cids(paths: list[Path], chunk_size: int | None = None) -> list[str]:
    env = dict(os.environ, REFERENCE_CHUNK_SIZE=str(chunk_size)) if chunk_size else None
    return run_node("reference_cid.mjs", *paths, env=env)


@pytest.fixture
def store(tmp_path) -> LocalStore:
    return LocalStore(tmp_path / "store")


@pytest.fixture(scope="session")
def reference_cids():
    """CIDs from the npm reference importer (ipfs-unixfs-importer) with Kubo's settings."""
    return _reference_cids


@pytest.fixture
def kubo(tmp_path):
    from fake_kubo import FakeKubo

    return FakeKubo(tmp_path / "kubo-repo")


@pytest.fixture
def kubo_store(kubo):
    from ipfs import KuboStore

    return KuboStore("http://127.0.0.1:5001", client=kubo.client())


@pytest.fixture(scope="session")
def reference_car():
    """Run the reference CAR implementation (@ipld/car): ``reference_car("read", path)``."""
    return lambda *args: run_node("reference_car.mjs", *args)
