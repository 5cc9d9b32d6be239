"""What one request may cost: a real gunicorn server (as `copytrack run` starts it) is sent the
1 x 49,000,000-pixel PNG and a handful of large images at once, and its worker's peak memory
(the kernel's VmHWM) stays within the bound the fingerprinting slots set."""

from __future__ import annotations

import io
import struct
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from backend.config import load_settings
from backend.runner import start_server, stop_server
from tests.backend.conftest import free_port
from tests.images import jpeg

MIB = 1024 * 1024


def skinny_png(length: int = 49_000_000) -> bytes:
    """A real greyscale PNG of 1 x `length` pixels: about 95 KB for 49 million pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, length, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00\x80" * length, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def large_png(seed: int, side: int = 3000) -> bytes:
    """A PNG that must be decoded whole (no reduced decoding for PNG): side x side RGB pixels."""
    ramp = np.linspace(0, 255, side, dtype=np.uint8)
    pixels = np.stack([np.add.outer(ramp, ramp * seed) % 256] * 3, axis=-1).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG", compress_level=1)
    return out.getvalue()


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM for process {pid}")


@pytest.fixture
def server(tmp_path):
    settings = load_settings({
        "data_dir": tmp_path / "data",
        "port": free_port(),
        "rpc_url": f"http://127.0.0.1:{free_port()}",  # no chain: a lookup does not need one
        "workers": 1,
        "threads": 8,
        "fingerprint_concurrency": 2,
        "fingerprint_wait": 60,
        "rate_limit_public": "1000/minute",
    }, environ={})
    process = start_server(settings)
    try:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert len(children) == 1, children
        yield f"http://{settings.host}:{settings.port}", int(children[0])
    finally:
        stop_server(process)


def lookup(base: str, data: bytes) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/lookup", files={"file": ("x.png", data)}, timeout=120)


def test_skinny_image_and_concurrent_large_ones__keep_the_worker_within_its_memory_bound(server):
    base, worker = server
    assert lookup(base, jpeg(1)).status_code == 200  # imports and warms up the fingerprinting
    baseline = peak_rss(worker)

    strip = skinny_png()
    assert len(strip) < 120_000
    refused = lookup(base, strip)
    assert refused.status_code == 413, refused.text
    assert "no side may be longer than 20,000 pixels" in refused.json()["error"]["message"]
    assert peak_rss(worker) - baseline < 20 * MIB  # refused from its header: nothing decoded

    images = [large_png(seed) for seed in range(1, 6)]
    assert lookup(base, images[0]).status_code == 200
    one = peak_rss(worker) - baseline  # what one large image costs at most
    barrier = threading.Barrier(len(images))

    def send(data: bytes) -> int:
        barrier.wait()
        return lookup(base, data).status_code

    with ThreadPoolExecutor(len(images)) as pool:
        statuses = list(pool.map(send, images))
    assert statuses == [200] * len(images)
    grown = peak_rss(worker) - baseline
    # Two slots: at most two decoded images at once (and some allocator slack), not five.
    assert grown < 2 * one + 64 * MIB, f"one image {one / MIB:.0f} MiB, five at once {grown / MIB:.0f} MiB"
