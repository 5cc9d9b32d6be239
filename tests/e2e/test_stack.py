"""The promise of the README, run for real: `copytrack run` brings up anvil, the contracts and
the backend; `copytrack register` and `copytrack lookup` work against it; everything survives a
stop and a start."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.images import encode, jpeg, picture

# anvil's third development account: a user with their own key (public test key).
USER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
USER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    def __init__(self, tmp: Path):
        self.env = {
            **os.environ,
            "COPYTRACK_DATA_DIR": str(tmp / "var"),
            "COPYTRACK_PORT": str(free_port()),
            "COPYTRACK_ANVIL_PORT": str(free_port()),
            "COPYTRACK_PRIVATE_KEY": USER_KEY,
        }
        self.log = tmp / "stack.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['COPYTRACK_PORT']}"

    def start(self) -> None:
        self.launch()
        self.wait_up()

    def launch(self) -> None:
        """Start `copytrack run` without waiting for it to answer."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "run"], env=self.env,
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
        )

    def wait_up(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(self.url + "/api/v1/status", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError("the stack did not come up:\n" + self.log.read_text())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(timeout=30) == 0, self.log.read_text()

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "backend.cli", *args], env={**self.env, "COLUMNS": "250"},
            capture_output=True, text=True, timeout=120,
        )


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path)
    yield stack
    if stack.process and stack.process.poll() is None:
        stack.process.kill()


def test_register_and_lookup__survive_a_restart(stack, tmp_path):
    photos = []
    for seed in (1, 2):
        path = tmp_path / f"photo{seed}.jpg"
        path.write_bytes(jpeg(seed, size=(640, 480)))
        photos.append(path)
    stack.start()
    registered = stack.cli("register", *map(str, photos), "--collection", "Holidays")
    assert registered.returncode == 0, registered.stderr
    assert registered.stdout.count("registered") >= 2
    gasless_photo = tmp_path / "photo3.jpg"
    gasless_photo.write_bytes(jpeg(3, size=(640, 480)))
    gasless = stack.cli("register", str(gasless_photo), "--gasless")
    assert gasless.returncode == 0, gasless.stderr
    assert "registered" in gasless.stdout

    stack.stop()
    assert (tmp_path / "var" / "chain-state.json").exists()
    stack.start()

    for path in (*photos, gasless_photo):
        found = stack.cli("lookup", str(path))
        assert found.returncode == 0, found.stderr
        assert "exact" in found.stdout and USER in found.stdout
    copy = tmp_path / "copy.png"
    copy.write_bytes(encode(picture(1, (640, 480)).resize((320, 240)), "PNG"))
    resized = stack.cli("lookup", str(copy))
    assert "perceptual" in resized.stdout and USER in resized.stdout
    status = stack.cli("status")
    assert "registrations on chain" in status.stdout and "│ 3" in status.stdout.replace("  ", " ")
    stack.stop()


def test_register__backend_not_running__clear_error(stack, tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(jpeg(5))
    result = stack.cli("register", str(path))
    assert result.returncode != 0
    assert "cannot reach the backend" in result.stderr


def test_register__without_a_key__clear_error(stack, tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(jpeg(6))
    stack.env.pop("COPYTRACK_PRIVATE_KEY")
    result = stack.cli("register", str(path))
    assert result.returncode != 0
    assert "COPYTRACK_PRIVATE_KEY" in result.stderr
