"""`copytrack run` as a real process: its chain node and web server stop with it, whether it is
killed (SIGKILL) or stops cleanly (Ctrl-C), and a start right after a kill runs its own chain
rather than adopting the killed stack's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.backend.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found |= {child} | descendants(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return "zombie" not in state


def wait_gone(pids: set[int], timeout: float = 30.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.2)
    return {p for p in pids if alive(p)}


def command_of(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


@pytest.fixture
def start_stack(tmp_path):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COPYTRACK_")}
    environ.update(
        COPYTRACK_DATA_DIR=str(tmp_path / "data"),
        COPYTRACK_PORT=str(free_port()),
        COPYTRACK_ANVIL_PORT=str(free_port()),
        COPYTRACK_THREADS="2",
        PYTHONUNBUFFERED="1",
        PATH=f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{environ.get('PATH', '')}",
    )
    started: list[subprocess.Popen] = []

    def start() -> tuple[subprocess.Popen, set[int]]:
        """The `copytrack run` process, once it serves, and the processes it started."""
        stack = subprocess.Popen([sys.executable, "-m", "backend.cli", "run"], cwd=ROOT, env=environ,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started.append(stack)
        status = f"http://127.0.0.1:{environ['COPYTRACK_PORT']}/api/v1/status"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert stack.poll() is None, stack.stdout.read()
            try:
                if httpx.get(status, timeout=2).status_code == 200:
                    return stack, descendants(stack.pid)
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError("the stack did not serve within 120 s")

    yield start
    for stack in started:
        if stack.poll() is None:
            stack.kill()
            stack.wait()


def test_sigkill_and_clean_stop__leave_no_chain_or_server_behind(start_stack):
    stack, children = start_stack()
    commands = [command_of(p) for p in children]
    assert any("anvil" in c for c in commands) and any("gunicorn" in c for c in commands), commands
    stack.kill()
    stack.wait()

    stack, restarted = start_stack()  # at once, on the same data directory and ports
    assert wait_gone(children) == set(), [command_of(p) for p in children if alive(p)]
    assert any("anvil" in command_of(p) for p in restarted)  # its own chain, not the dying one
    stack.send_signal(signal.SIGINT)  # Ctrl-C
    output, _ = stack.communicate(timeout=60)
    assert stack.returncode == 0, output
    assert "stops with this stack" in output
    assert "chain state saved" in output
    assert wait_gone(restarted, timeout=5) == set()
