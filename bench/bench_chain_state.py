"""How large the embedded chain's state file grows with the time the chain runs.

Starts anvil the way `copytrack run` does (`AnvilNode`, state in a temporary file), mines blocks
with `anvil_mine` (10,000 by default, a few minutes; `--blocks 86400` mines a whole day of 1 s
blocks, which takes most of an hour on a loaded 2-core machine), stops it (anvil dumps its state
on SIGINT) and prints the state file's size, per block, and for a day of 1 s blocks (measured
with `--blocks 86400`, else extrapolated from the size per block). Loopback only.

    .venv/bin/python bench/bench_chain_state.py [--blocks 10000]
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import time
from pathlib import Path

import httpx

from backend.chain.node import AnvilNode

DAY = 86_400


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=2_000, help="blocks per anvil_mine call")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "chain-state.json"
        # No periodic dump while mining: the figure is the size at the end, not the dumps' cost.
        node = AnvilNode(free_port(), state_file=state, state_interval=3600)
        node.start()
        started = time.monotonic()
        try:
            mined = 0
            while mined < args.blocks:
                step = min(args.chunk, args.blocks - mined)
                httpx.post(node.url, json={"jsonrpc": "2.0", "id": 1, "method": "anvil_mine",
                                           "params": [hex(step)]}, timeout=600).raise_for_status()
                mined += step
        finally:
            node.stop(timeout=600)
        print("| blocks | state file | per block | a day of 1 s blocks | mined in |")
        print("|---:|---:|---:|---:|---:|")
        size = state.stat().st_size
        day = f"{size / 1e6:.0f} MB" if args.blocks == DAY else f"~{size / args.blocks * DAY / 1e6:.0f} MB (extrapolated)"
        print(f"| {args.blocks:,} | {size / 1e6:.1f} MB | {size / args.blocks:,.0f} B | {day} | "
              f"{time.monotonic() - started:.0f} s |")


if __name__ == "__main__":
    main()
