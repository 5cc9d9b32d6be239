"""Fixtures for the backend: a real database (SQLite, and PostgreSQL when configured), a real
anvil chain with the contracts deployed, the Flask app and client, and wallets that sign in."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timezone

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from siwe import SiweMessage
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from backend.app import create_app
from backend.chain.client import connect
from backend.chain.deploy import ensure_deployed
from backend.chain.node import AnvilNode
from backend.config import ANVIL_DEPLOYER_KEY, load_settings
from backend.models import Base
from backend.services import Services

PG_URL = os.environ.get("COPYTRACK_TEST_DATABASE_URL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pytest_generate_tests(metafunc):
    if "database_kind" in metafunc.fixturenames:
        metafunc.parametrize("database_kind", ["sqlite", "postgresql"] if PG_URL else ["sqlite"], scope="session")


@pytest.fixture(scope="session")
def postgres_url():
    """A database of its own for this test session, dropped at the end."""
    admin_url = make_url(PG_URL)
    name = f"copytrack_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(database_kind, tmp_path, request):
    if database_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def anvil(tmp_path_factory):
    """One automining anvil for the session; each test runs inside a snapshot (see `chain`)."""
    node = AnvilNode(free_port(), log_file=tmp_path_factory.mktemp("anvil") / "anvil.log")
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def deployment_file(anvil, tmp_path_factory):
    path = tmp_path_factory.mktemp("deployment") / "deployment.json"
    ensure_deployed(connect(anvil.url), ANVIL_DEPLOYER_KEY, path)
    return path


def rpc(url: str, method: str, *params):
    answer = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).json()
    if "error" in answer:
        raise RuntimeError(answer["error"])
    return answer["result"]


class Chain:
    """Direct control of the test chain: mining, snapshots, reorgs."""

    def __init__(self, url: str):
        self.url = url
        self.w3 = connect(url)

    def mine(self, blocks: int = 1) -> None:
        """Mine blocks one second apart (anvil would otherwise reuse the last timestamp)."""
        for _ in range(blocks):
            rpc(self.url, "evm_increaseTime", 1)
            rpc(self.url, "evm_mine")

    def snapshot(self) -> str:
        return rpc(self.url, "evm_snapshot")

    def revert(self, snapshot: str) -> None:
        rpc(self.url, "evm_revert", snapshot)

    def fund(self, address: str, ether: int = 10) -> None:
        rpc(self.url, "anvil_setBalance", address, hex(ether * 10**18))

    @property
    def head(self) -> int:
        return self.w3.eth.block_number


@pytest.fixture
def chain(anvil, deployment_file):
    chain = Chain(anvil.url)
    snapshot = chain.snapshot()
    yield chain
    chain.revert(snapshot)


@pytest.fixture
def settings(tmp_path, database_url, request):
    overrides = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "confirmations": 0,
        "siwe_domain": "copytrack.test",
        # fingerprints in the crawling threads: no pool process to start in every test that crawls
        # (the pool has tests of its own; the end-to-end stacks run the default)
        "crawler_fingerprint_processes": 0,
    }
    if "chain" in request.fixturenames:
        anvil = request.getfixturevalue("anvil")
        overrides.update(rpc_url=anvil.url, deployment_file=str(request.getfixturevalue("deployment_file")))
    else:
        # No chain in this test: point at a port where nothing listens.
        overrides.update(rpc_url=f"http://127.0.0.1:{free_port()}")
    overrides.update(getattr(request, "param", {}))
    return load_settings(overrides, environ={})


@pytest.fixture
def services(settings):
    services = Services(settings)
    yield services
    services.close()


@pytest.fixture
def app(services):
    return create_app(services=services)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def wallet():
    return Account.create()


@pytest.fixture
def other_wallet():
    return Account.create()


def siwe_message(account, *, domain="copytrack.test", chain_id=31337, nonce: str, **fields) -> str:
    values = dict(
        domain=domain,
        address=account.address,
        statement="Sign in to Copytrack",
        uri=f"https://{domain}",
        version="1",
        chain_id=chain_id,
        nonce=nonce,
        issued_at=datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
    )
    values.update(fields)
    return SiweMessage(**values).prepare_message()


class Auth:
    """The sign-in action, as a browser wallet does it."""

    def __init__(self, client):
        self.client = client

    def login(self, account, **message_fields) -> str:
        nonce = self.client.post("/api/v1/auth/nonce").get_json()["nonce"]
        message = siwe_message(account, nonce=nonce, **message_fields)
        signature = account.sign_message(encode_defunct(text=message)).signature.to_0x_hex()
        answer = self.client.post("/api/v1/auth/login", json={"message": message, "signature": signature})
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()["token"]

    def headers(self, account) -> dict:
        return {"Authorization": f"Bearer {self.login(account)}"}


@pytest.fixture
def auth(client):
    return Auth(client)
