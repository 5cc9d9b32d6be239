"""Throughput of ipfs.compute_cid against plain hashlib.sha256 over the same 100 MiB, same run.

sha256 is the physical limit (every byte must be hashed once); compute_cid adds chunking, the
dag-pb nodes and their hashes. Prints a Markdown table. Run: .venv/bin/python bench/bench_cid.py
"""

import hashlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ipfs import LocalStore, compute_cid  # noqa: E402

SIZE = 100 * 1024 * 1024
ROUNDS = 5


def best_seconds(work) -> float:
    """Fastest of several rounds: the least disturbed by other processes on a shared machine."""
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    data = os.urandom(SIZE)
    mib = SIZE / 2**20
    rows = [
        ("hashlib.sha256 (bytes)", best_seconds(lambda: hashlib.sha256(data).digest())),
        ("compute_cid (bytes)", best_seconds(lambda: compute_cid(data))),
        ("compute_cid (file object)", best_seconds(lambda: compute_cid(io.BytesIO(data)))),
    ]
    baseline = rows[0][1]
    print(f"compute_cid vs sha256, {mib:.0f} MiB of random data, best of {ROUNDS}\n")
    print("| what | seconds | MiB/s | ratio to sha256 |")
    print("|---|---:|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.3f} | {mib / seconds:.0f} | {baseline / seconds:.2f} |")

    with tempfile.TemporaryDirectory() as root:
        store = LocalStore(root)
        start = time.perf_counter()
        cid = store.add(data)
        add_seconds = time.perf_counter() - start
        start = time.perf_counter()
        for _ in store.open(cid):
            pass
        read_seconds = time.perf_counter() - start
    print(f"\nLocalStore on this disk, same {mib:.0f} MiB, one round (every block fsynced, then its directory)\n")
    print("| what | seconds | MiB/s |")
    print("|---|---:|---:|")
    print(f"| LocalStore.add | {add_seconds:.3f} | {mib / add_seconds:.0f} |")
    print(f"| LocalStore.open, every block verified | {read_seconds:.3f} | {mib / read_seconds:.0f} |")


if __name__ == "__main__":
    main()
