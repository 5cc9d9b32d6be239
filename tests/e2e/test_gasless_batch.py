"""Gasless registration of a folder, run for real: `copytrack run` (the backend with its chain job)
and `copytrack register --gasless` as separate processes. One wallet signature per 100 images,
every image ends registered; and a relay killed with SIGKILL between its steps finishes after
the restart without the user doing anything."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from backend.chain.node import AnvilNode
from backend.cli import ApiClient, CliError
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


@pytest.mark.parametrize("first_kill", ["relay-commit-recorded", "relay-commit-sent"])
def test_relay__killed_between_its_steps__registration_completes_after_the_restarts(
    stack, external_chain, tmp_path, first_kill
):
    """Killed after recording the commit (not sent, or sent), then — in the next run's chain job —
    after sending the reveal: each restart finishes from the chain, and nobody signs again."""
    files = photos(tmp_path, range(1300, 1303))
    stack.env["COPYTRACK_TEST_KILL_AT"] = first_kill
    stack.start()
    stack.cli("register", *files, "--gasless", "--no-wait")
    assert stack.process.wait(timeout=60) == -signal.SIGKILL, stack.log.read_text()

    stack.env["COPYTRACK_TEST_KILL_AT"] = "relay-reveal-sent"
    # The start-up round sends the commit again if it never made it, then reveals: it may die
    # before the backend ever answers, so the process is only started here.
    stack.process = subprocess.Popen([sys.executable, "-m", "backend.cli", "run"], env=stack.env,
                                     stdout=stack.log.open("ab"), stderr=subprocess.STDOUT)
    assert stack.process.wait(timeout=90) == -signal.SIGKILL, stack.log.read_text()

    del stack.env["COPYTRACK_TEST_KILL_AT"]
    stack.start()
    client = ApiClient(stack.url)
    client.sign_in(Account.from_key(USER_KEY))
    images = wait_for_statuses(client, "registered", 3)
    assert [i["status"] for i in images] == ["registered"] * 3, images
    assert {i["owner"] for i in images} == {Account.from_key(USER_KEY).address}
    assert len({i["tx_hash"] for i in images}) == 1
    stack.stop()


def test_single_image_relay__killed_after_sending_the_commit__revealed_after_the_restart(
    stack, external_chain, tmp_path
):
    """The issue's case: the commit on-chain, the process gone before the database recorded it."""
    stack.env["COPYTRACK_TEST_KILL_AT"] = "relay-single-commit-sent"
    stack.start()
    client = ApiClient(stack.url)
    account = Account.from_key(USER_KEY)
    client.sign_in(account)
    [path] = photos(tmp_path, (1400,))
    with open(path, "rb") as handle:
        uploaded = client.call("POST", "/api/v1/images", files={"file": ("photo.jpg", handle)})
    typed = uploaded["registration_request"]["typed_data"]
    signature = account.sign_message(encode_typed_data(full_message=typed)).signature.to_0x_hex()
    with pytest.raises(CliError, match="cannot reach the backend"):
        client.call("POST", f"/api/v1/images/{uploaded['image']['id']}/relay",
                    json={"signature": signature, "deadline": typed["message"]["deadline"],
                          "salt": typed["message"]["salt"]})
    assert stack.process.wait(timeout=60) == -signal.SIGKILL, stack.log.read_text()

    del stack.env["COPYTRACK_TEST_KILL_AT"]
    stack.start()
    client.sign_in(account)
    [image] = wait_for_statuses(client, "registered", 1)
    assert (image["status"], image["owner"]) == ("registered", account.address)
    stack.stop()
