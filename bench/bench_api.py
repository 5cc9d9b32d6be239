"""Requests/s and latency of /api/v1/lookup and /api/v1/status: gunicorn (as `copytrack run`
serves) beside Werkzeug's threaded development server (what it served with before), same run.

Both serve a real anvil chain with the contracts deployed, on
127.0.0.1 only. Each cell sends a bounded number of requests from `concurrency` client threads
(a small JPEG for lookups) and prints requests/s, p50 and p99. Rate limits are lifted for the
run. On a shared 2-core machine the client competes with the servers: compare the columns of
one run, not runs.

The jobs run as `copytrack run` ran them with each server: beside Werkzeug, in its process (as
before); beside gunicorn, in a process of their own (as now). The last table counts the chain
job's runs APScheduler skipped during the load ("maximum number of running instances reached").

    .venv/bin/python bench/bench_api.py [--requests 400] [--workers 2] [--threads 8]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.chain.client import connect  # noqa: E402
from backend.chain.deploy import ensure_deployed  # noqa: E402
from backend.chain.node import AnvilNode  # noqa: E402
from backend.config import ANVIL_DEPLOYER_KEY, load_settings  # noqa: E402
from backend.runner import settings_environment, start_server, stop_server  # noqa: E402
from backend.services import Services  # noqa: E402
from tests.images import jpeg  # noqa: E402

JOBS = """
import logging
from backend.config import load_settings
from backend.jobs import start_scheduler
from backend.services import Services
logging.basicConfig(level=logging.WARNING)
services = Services(load_settings())
start_scheduler(services)
"""
WERKZEUG = JOBS + """
from werkzeug.serving import make_server
from backend.app import create_app
make_server(services.settings.host, services.settings.port, create_app(services=services), threaded=True).serve_forever()
"""
JOBS_ALONE = JOBS + """
import threading
threading.Event().wait()
"""
SKIPPED = "maximum number of running instances reached"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_python(script: str, settings, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script], env=settings_environment(settings),
                            cwd=Path(__file__).resolve().parents[1], stderr=log.open("w"))


def start_werkzeug(settings, log: Path) -> subprocess.Popen:
    process = start_python(WERKZEUG, settings, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://{settings.host}:{settings.port}/api/v1/openapi.json", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the Werkzeug server did not start")


def measure(base: str, path: str, concurrency: int, requests: int, image: bytes) -> tuple[float, float, float, int]:
    """(requests/s, p50 ms, p99 ms, non-200 answers) over `requests` requests."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    counter = iter(range(requests))

    def client() -> None:
        nonlocal failures
        with httpx.Client(base_url=base, timeout=60) as http:
            while True:
                with lock:
                    if next(counter, None) is None:
                        return
                started = time.perf_counter()
                if path == "/api/v1/lookup":
                    answer = http.post(path, files={"file": ("q.jpg", image)})
                else:
                    answer = http.get(path)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    failures += answer.status_code != 200

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return len(latencies) / wall, cuts[49] * 1000, cuts[98] * 1000, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per cell (lookups: a quarter)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    os.environ["PATH"] = f"{Path(__file__).resolve().parents[1] / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"
    with tempfile.TemporaryDirectory() as tmp, AnvilNode(free_port(), block_time=1) as node:
        data_dir = Path(tmp) / "data"
        common = {
            "data_dir": data_dir, "rpc_url": node.url, "rate_limit_public": "1000000/minute",
            "workers": args.workers, "threads": args.threads,
        }
        settings = load_settings({**common, "port": free_port()}, environ={})
        ensure_deployed(connect(node.url), ANVIL_DEPLOYER_KEY, settings.resolved_deployment_file)
        Services(settings).db.migrate()
        # Its own database and matcher: two sets of jobs must not index into one database.
        werkzeug_settings = load_settings({**common, "port": free_port(), "data_dir": Path(tmp) / "werkzeug",
                                           "deployment_file": str(settings.resolved_deployment_file)}, environ={})
        Services(werkzeug_settings).db.migrate()
        logs = {"gunicorn": Path(tmp) / "jobs.log", "werkzeug": Path(tmp) / "werkzeug.log"}
        jobs = start_python(JOBS_ALONE, settings, logs["gunicorn"])
        servers = {"gunicorn": start_server(settings), "werkzeug": start_werkzeug(werkzeug_settings, logs["werkzeug"])}
        bases = {"gunicorn": f"http://127.0.0.1:{settings.port}", "werkzeug": f"http://127.0.0.1:{werkzeug_settings.port}"}
        image = jpeg(7)
        try:
            print(f"gunicorn: {args.workers} workers x {args.threads} threads (gthread); Werkzeug: threaded, one process\n")
            print("| endpoint | concurrency | server | requests/s | p50 ms | p99 ms | non-200 |")
            print("|---|---:|---|---:|---:|---:|---:|")
            for path, count in (("/api/v1/status", args.requests), ("/api/v1/lookup", max(8, args.requests // 4))):
                for concurrency in (8, 32):
                    for name, base in bases.items():
                        measure(base, path, concurrency, min(count, 16), image)  # warm-up
                        rate, p50, p99, failures = measure(base, path, concurrency, count, image)
                        print(f"| `{path.rsplit('/', 1)[1]}` | {concurrency} | {name} | {rate:,.0f} | "
                              f"{p50:,.0f} | {p99:,.0f} | {failures} |", flush=True)
            print("\n| server | chain job runs skipped during the load |")
            print("|---|---:|")
            for name, log in logs.items():
                print(f"| {name} | {log.read_text().count(SKIPPED)} |")
        finally:
            stop_server(servers["gunicorn"])
            for process in (servers["werkzeug"], jobs):
                process.terminate()
                process.wait()


if __name__ == "__main__":
    main()
