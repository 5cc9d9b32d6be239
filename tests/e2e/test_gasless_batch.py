"""Gasless registration of a folder, run for real: `copytrack run` (the backend with its chain job)
and `copytrack register --gasless` as separate processes. One wallet signature per 100 images,
every image ends registered; and a relay killed with SIGKILL between its steps finishes after
the restart without the user doing anything."""

from __future__ import annotations

import signal
import time
from collections import Counter

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from web3 import HTTPProvider, Web3

from backend.chain.node import AnvilNode
from backend.cli import ApiClient, CliError
from backend.config import ANVIL_RELAYER_KEY
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


def test_register_gasless__a_hundred_images__one_signature_all_registered_and_a_bad_file_reported(
    stack, tmp_path
):
    files = photos(tmp_path, range(1000, 1100))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    stack.start()

    result = stack.cli("register", *files, str(broken), "--gasless", "--timeout", "90")

    assert result.returncode == 1, result.stderr
    assert "failed: " in result.stderr and "broken.jpg" in result.stderr
    assert "1 of 101 file(s) not registered" in result.stderr
    rows = [line for line in result.stdout.splitlines() if "photo1" in line]
    assert len(rows) == 100 and all("registered" in row for row in rows), result.stdout
    client = ApiClient(stack.url)
    client.sign_in(Account.from_key(USER_KEY))
    images = client.call("GET", "/api/v1/images", params={"limit": 1000})["images"]
    assert [i["status"] for i in images] == ["registered"] * 100
    assert len({i["tx_hash"] for i in images}) == 1  # one reveal transaction for the whole batch
    stack.stop()


def wait_for_statuses(client: ApiClient, expected: str, count: int, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        images = client.call("GET", "/api/v1/images", params={"limit": 1000})["images"]
        if len(images) == count and all(i["status"] == expected for i in images) or time.monotonic() > deadline:
            return images
        time.sleep(0.5)


def launch(stack: Stack, kill_at: str | None) -> None:
    """Start `copytrack run`, to be killed at `kill_at`, without waiting for it to answer (a kill
    in the start-up round may come first)."""
    stack.env.pop("COPYTRACK_TEST_KILL_AT", None)
    if kill_at:
        stack.env["COPYTRACK_TEST_KILL_AT"] = kill_at
    stack.launch()


def wait_up(stack: Stack) -> None:
    stack.wait_up(seconds=90)


def assert_killed(stack: Stack) -> None:
    assert stack.process.wait(timeout=90) == -signal.SIGKILL, stack.log.read_text()


ITEM = "(bytes32,uint64,uint16,bytes32,uint256)"
REGISTER_CALLS = {
    Web3.keccak(text=signature)[:4]: name for name, signature in (
        ("commit", "commit(bytes32)"),
        ("reveal_batch_by_sig", f"reveal_batch_by_sig(address,{ITEM}[],bytes32,uint256,uint256,bytes)"),
        ("reveal_by_sig", f"reveal_by_sig(address,{ITEM},bytes32,uint256,bytes)"),
    )
}


def relayer_calls(rpc_url: str) -> Counter:
    """How often the relayer's mined transactions called each register function."""
    w3 = Web3(HTTPProvider(rpc_url))
    relayer = Account.from_key(ANVIL_RELAYER_KEY).address
    return Counter(REGISTER_CALLS.get(bytes(tx["input"][:4]), "other")
                   for number in range(w3.eth.block_number + 1)
                   for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]
                   if tx["from"] == relayer)


def relay_one_image(client: ApiClient, account, path: str) -> None:
    """The single-image gasless path, as a browser wallet uses it."""
    with open(path, "rb") as handle:
        uploaded = client.call("POST", "/api/v1/images", files={"file": ("photo.jpg", handle)})
    typed = uploaded["registration_request"]["typed_data"]
    signature = account.sign_message(encode_typed_data(full_message=typed)).signature.to_0x_hex()
    client.call("POST", f"/api/v1/images/{uploaded['image']['id']}/relay",
                json={"signature": signature, "deadline": typed["message"]["deadline"],
                      "salt": typed["message"]["salt"]})


def test_relay__killed_between_its_steps__every_registration_completes_after_the_restarts(
    stack, external_chain, tmp_path
):
    """SIGKILL after a batch's commit is recorded but not sent, after one is sent, after a
    reveal is sent (in the start-up round), and after a single image's commit is sent (the
    issue's case: on-chain, but the database never heard of it). Each restart finishes from the
    chain; nobody signs anything again."""
    account = Account.from_key(USER_KEY)
    client = ApiClient(stack.url)

    launch(stack, "relay-commit-recorded")
    wait_up(stack)
    stack.cli("register", *photos(tmp_path, range(1300, 1303)), "--gasless", "--no-wait")
    assert_killed(stack)

    launch(stack, "relay-commit-sent")  # the start-up round sends the first batch's commit again
    wait_up(stack)
    stack.cli("register", *photos(tmp_path, range(1310, 1313)), "--gasless", "--no-wait")
    assert_killed(stack)

    launch(stack, "relay-reveal-sent")  # the start-up round reveals the second batch
    assert_killed(stack)

    launch(stack, "relay-single-commit-sent")
    wait_up(stack)
    client.sign_in(account)
    with pytest.raises(CliError, match="cannot reach the backend"):
        relay_one_image(client, account, photos(tmp_path, (1320,))[0])
    assert_killed(stack)

    launch(stack, None)
    wait_up(stack)
    client.sign_in(account)
    images = wait_for_statuses(client, "registered", 7)
    assert [i["status"] for i in images] == ["registered"] * 7, images
    assert {i["owner"] for i in images} == {account.address}
    # Nothing paid twice across the kills: one commit and one reveal per batch and for the single image.
    assert relayer_calls(external_chain.url) == {"commit": 3, "reveal_batch_by_sig": 2, "reveal_by_sig": 1}
    stack.stop()
