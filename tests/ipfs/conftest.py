import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ipfs import LocalStore

PROJECT = Path(__file__).resolve().parents[2]
REFERENCE_SCRIPT = Path(__file__).with_name("reference_cid.mjs")


def _reference_cids(paths: list[Path], chunk_size: int | None = None) -> list[str]:
    env = dict(os.environ, REFERENCE_CHUNK_SIZE=str(chunk_size)) if chunk_size else None
    node = shutil.which("node")
    assert node, "node is needed for the reference importer (npm ci installs ipfs-unixfs-importer)"
    result = subprocess.run(
        [node, str(REFERENCE_SCRIPT), *map(str, paths)],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


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
