"""The local anvil node of the embedded stack: started and stopped by the project.

The binary ships inside the npm package `@foundry-rs/anvil-linux-amd64`, installed by `make
setup`; the chain state lives in one file under the data directory (`--state`), dumped
periodically and on shutdown, so a registration made yesterday is still there today. Only the
latest state is dumped, not one per block (the stack never reads a past block's state), so the
file grows with what is on the chain rather than with the time the chain has run.

anvil dies with the process that started it: the kernel sends it SIGINT (on which it dumps its
state) when that process ends, even by SIGKILL (`PR_SET_PDEATHSIG`), so no chain outlives a
crashed `copytrack run`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from backend.chain.artifacts import PROJECT_ROOT
from backend.processes import die_with_parent

ANVIL_BIN = PROJECT_ROOT / "node_modules" / ".bin" / "anvil"




class NodeError(RuntimeError):
    pass


def anvil_binary() -> Path:
    if ANVIL_BIN.exists():
        return ANVIL_BIN
    found = shutil.which("anvil")
    if found:
        return Path(found)
    raise NodeError(f"anvil is not installed at {ANVIL_BIN}; run `make setup` (it installs it from npm)")


def rpc_reachable(url: str, timeout: float = 1.0) -> bool:
    try:
        response = httpx.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=timeout
        )
        return response.status_code == 200 and "result" in response.json()
    except (httpx.HTTPError, ValueError):
        return False


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_for_previous_node(pid_file: Path, timeout: float = 60.0) -> bool:
    """Wait until the anvil a previous stack started (its pid in `pid_file`) has exited.

    A stack that was killed leaves its anvil saving its state on the way out; a start in that
    moment must not take it for a chain someone else runs. Returns whether there was one."""
    try:
        pid = int(pid_file.read_text())
        if b"anvil" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return False
    except (OSError, ValueError):
        return False
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if Path(f"/proc/{pid}").exists():
        raise NodeError(f"the chain node of a previous run (pid {pid}) is still running after {timeout:.0f}s; "
                        "stop it, then start again")
    return True


class AnvilNode:
    """One anvil process on 127.0.0.1:port, optionally persisting its state to `state_file`."""

    def __init__(
        self,
        port: int,
        *,
        state_file: Path | None = None,
        block_time: int | None = None,
        chain_id: int = 31337,
        log_file: Path | None = None,
        state_interval: int = 60,
        pid_file: Path | None = None,
    ):
        self.port = port
        self.state_file = state_file
        self.block_time = block_time
        self.chain_id = chain_id
        self.log_file = log_file
        self.state_interval = state_interval
        self.pid_file = pid_file
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "AnvilNode":
        if port_in_use("127.0.0.1", self.port):
            raise NodeError(
                f"port {self.port} is already in use; stop what runs there or set COPYTRACK_ANVIL_PORT"
            )
        args = [
            str(anvil_binary()),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
        ]
        if self.block_time:
            args += ["--block-time", str(self.block_time)]
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            args += ["--state", str(self.state_file), "--state-interval", str(self.state_interval)]
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        # Its own process group: Ctrl-C in a terminal reaches us, and we stop anvil in order.
        self.process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent(signal.SIGINT)
        )
        if self.pid_file is not None:
            self.pid_file.write_text(str(self.process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NodeError(f"anvil exited with code {self.process.returncode}; see {self.log_file or 'its output'}")
            if rpc_reachable(self.url, timeout=0.5):
                return self
            time.sleep(0.1)
        self.stop()
        raise NodeError(f"anvil did not answer on {self.url} within {timeout:.0f}s")

    def stop(self, timeout: float = 20.0) -> None:
        """SIGINT first: anvil writes its state file on a clean shutdown."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.pid_file is not None:
            self.pid_file.unlink(missing_ok=True)

    def __enter__(self) -> "AnvilNode":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
