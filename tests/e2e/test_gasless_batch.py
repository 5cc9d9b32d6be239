"""Gasless registration of a folder, run for real: `copytrack run` (the backend with its chain job)
and `copytrack register --gasless` as separate processes. One wallet signature per 100 images,
every image ends registered; and a relay killed with SIGKILL between its steps finishes after
the restart without the user doing anything."""

from __future__ import annotations

import signal
import time

import pytest
from eth_account import Account

from backend.chain.node import AnvilNode
from backend.cli import ApiClient
from tests.e2e.test_stack import USER_KEY, Stack, free_port
from tests.images import jpeg


def photos(tmp_path, seeds) -> list[str]:
    paths = []
    for seed in seeds:
        path = tmp_path / f"photo{seed}.jpg"
        path.write_bytes(jpeg(seed, size=(64, 48)))
        paths.append(str(path))
    return paths


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path)
    yield stack
    if stack.process and stack.process.poll() is None:
        stack.process.kill()
        stack.process.wait()


@pytest.fixture
def external_chain(tmp_path, stack):
    """An anvil of the test's own, so that killing the backend leaves the chain as it was."""
    node = AnvilNode(free_port(), block_time=1, log_file=tmp_path / "anvil.log")
    node.start()
    stack.env["COPYTRACK_RPC_URL"] = node.url
    yield node
    node.stop()


def test_register_gasless__a_hundred_images__one_signature_and_all_registered(stack, tmp_path):
    files = photos(tmp_path, range(1000, 1100))
    stack.start()

    result = stack.cli("register", *files, "--gasless", "--timeout", "90")

    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if "photo1" in line]
    assert len(rows) == 100 and all("registered" in row for row in rows), result.stdout
    client = ApiClient(stack.url)
    client.sign_in(Account.from_key(USER_KEY))
    images = client.call("GET", "/api/v1/images", params={"limit": 1000})["images"]
    assert [i["status"] for i in images] == ["registered"] * 100
    assert len({i["tx_hash"] for i in images}) == 1  # one reveal transaction for the whole batch
    stack.stop()


def test_register_gasless__an_image_refused__is_reported_and_exits_non_zero(stack, tmp_path):
    [good] = photos(tmp_path, (1200,))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    stack.start()

    result = stack.cli("register", good, str(broken), "--gasless")

    assert result.returncode == 1
    assert "failed: " in result.stderr and "broken.jpg" in result.stderr
    assert "1 of 2 file(s) not registered" in result.stderr
    assert "photo1200.jpg" in result.stdout and "registered" in result.stdout
    stack.stop()


def wait_for_statuses(client: ApiClient, expected: str, count: int, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        images = client.call("GET", "/api/v1/images", params={"limit": 1000})["images"]
        if len(images) == count and all(i["status"] == expected for i in images) or time.monotonic() > deadline:
            return images
        time.sleep(0.5)


@pytest.mark.parametrize("kill_at", ["relay-commit-recorded", "relay-commit-sent", "relay-reveal-sent"])
def test_relay__killed_between_its_steps__registration_completes_after_the_restart(
    stack, external_chain, tmp_path, kill_at
):
    files = photos(tmp_path, range(1300, 1303))
    stack.env["COPYTRACK_TEST_KILL_AT"] = kill_at
    stack.start()

    stack.cli("register", *files, "--gasless", "--no-wait")
    stack.process.wait(timeout=60)

    assert stack.process.returncode == -signal.SIGKILL, stack.log.read_text()
    del stack.env["COPYTRACK_TEST_KILL_AT"]
    stack.start()
    client = ApiClient(stack.url)
    client.sign_in(Account.from_key(USER_KEY))
    images = wait_for_statuses(client, "registered", 3)
    assert [i["status"] for i in images] == ["registered"] * 3, images
    user = Account.from_key(USER_KEY).address
    assert all(i["owner"] == user for i in images)
    stack.stop()
