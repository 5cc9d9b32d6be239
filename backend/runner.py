"""`copytrack run`: the whole stack on one machine, stopped cleanly by Ctrl-C.

Requests are served by gunicorn (`workers` processes of `threads` threads), started as a child
process; the jobs (chain indexer and gasless reveals, the matcher's follower and snapshot
writer) run here, in the `run` process alone, so no request competes with them for a GIL and
only one process writes snapshots. The chain node and gunicorn die with this process, even when
it is killed (`backend.processes.die_with_parent`).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import fields

import httpx

from backend.chain.client import connect, require_connection
from backend.chain.deploy import ensure_deployed
from backend.chain.node import AnvilNode, port_in_use, rpc_reachable, wait_for_previous_node
from backend.config import ANVIL_DEPLOYER_KEY, ANVIL_RELAYER_KEY, ENV_PREFIX, ConfigError, Settings
from backend.jobs import save_matcher_snapshot, start_scheduler
from backend.processes import die_with_parent
from backend.services import Services

log = logging.getLogger("copytrack")


def check_keys(settings: Settings, chain_id: int) -> None:
    """The well-known anvil keys are only acceptable on a local development chain."""
    if chain_id != 31337 and {settings.deployer_key, settings.relayer_key} & {ANVIL_DEPLOYER_KEY, ANVIL_RELAYER_KEY}:
        raise ConfigError(
            f"chain {chain_id} is not a local dev chain: set COPYTRACK_DEPLOYER_KEY and COPYTRACK_RELAYER_KEY "
            "to your own operator keys (the anvil defaults are public)"
        )


# glibc returns a freed block of this size or more to the system at once. Its default threshold
# rises to 32 MiB as large blocks are freed, after which a decoded image freed by one request
# thread stays in that thread's arena: the worker's memory then grows with its thread count, not
# with the fingerprinting slots.
MALLOC_MMAP_THRESHOLD = 1024 * 1024
# gunicorn runs this much nicer than `run`: when requests saturate the CPUs, the kernel still gives
# the jobs (the chain indexer above all) their time, so load delays answers, not the chain.
SERVER_NICENESS = 5


def settings_environment(settings: Settings) -> dict[str, str]:
    """The environment that makes `load_settings()` in a child process give back `settings`."""
    environ = dict(os.environ)
    environ.setdefault("MALLOC_MMAP_THRESHOLD_", str(MALLOC_MMAP_THRESHOLD))
    for f in fields(Settings):
        value = getattr(settings, f.name)
        environ[ENV_PREFIX + f.name.upper()] = str(value.resolve() if f.name == "data_dir" else value)
    return environ


GRACEFUL_TIMEOUT = 10  # seconds gunicorn gives the requests in flight when it is stopped


def start_server(settings: Settings, timeout: float = 60.0) -> subprocess.Popen:
    """gunicorn serving `backend.app:create_app()` on host:port, once it answers."""
    # A run that was killed leaves its gunicorn finishing the requests in flight (SIGTERM, up to
    # its graceful timeout) before the port is free: a restart right away waits for that.
    deadline = time.monotonic() + GRACEFUL_TIMEOUT + 5
    while port_in_use(settings.host, settings.port):
        if time.monotonic() > deadline:
            raise ConfigError(f"port {settings.port} is already in use; stop what runs there or set COPYTRACK_PORT")
        time.sleep(0.2)
    args = [
        sys.executable, "-m", "gunicorn",
        "--bind", f"{settings.host}:{settings.port}",
        "--workers", str(settings.workers),
        "--threads", str(settings.threads),
        "--worker-class", "gthread",
        "--graceful-timeout", str(GRACEFUL_TIMEOUT),
        "--log-level", "warning",
        "backend.app:create_app()",
    ]
    # Its own session: Ctrl-C reaches `run`, which stops gunicorn gracefully (SIGTERM), after the
    # requests in flight; SIGTERM too if `run` dies.
    die = die_with_parent(signal.SIGTERM)

    def preexec() -> None:
        die()
        os.nice(SERVER_NICENESS)

    environ = {**settings_environment(settings), ENV_PREFIX + "STACK_PID": str(os.getpid())}
    server = subprocess.Popen(args, env=environ, start_new_session=True, preexec_fn=preexec)
    url = f"http://{settings.host}:{settings.port}/api/v1/openapi.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ConfigError(f"the web server exited with code {server.returncode} at start; see its output above")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise ConfigError(f"the web server did not answer on {url} within {timeout:.0f}s")


def stop_server(server: subprocess.Popen, timeout: float = 15.0) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def run(settings: Settings, echo=print) -> None:
    node = None
    pid_file = (settings.data_dir / "anvil.pid").resolve()
    if settings.runs_local_chain and wait_for_previous_node(pid_file):
        echo("chain     the chain of a previous run of this stack has saved its state and stopped")
    if settings.runs_local_chain and not rpc_reachable(settings.resolved_rpc_url):
        node = AnvilNode(
            settings.anvil_port,
            state_file=(settings.data_dir / "chain-state.json").resolve(),
            block_time=settings.anvil_block_time,
            chain_id=settings.chain_id,
            log_file=(settings.data_dir / "anvil.log").resolve(),
            state_interval=settings.anvil_state_interval,
            pid_file=pid_file,
        )
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        node.start()
        echo(f"chain     anvil on {node.url} (state in {node.state_file}; stops with this stack)")
    elif settings.runs_local_chain:
        echo(f"chain     a node already answers on {settings.resolved_rpc_url}: using it; it was not started "
             "by this stack, so it keeps running when the stack stops")
    else:
        echo(f"chain     {settings.resolved_rpc_url}")
    services = Services(settings)
    scheduler = server = None
    try:
        w3 = connect(settings.resolved_rpc_url)
        require_connection(w3)
        if w3.eth.chain_id != settings.chain_id:
            raise ConfigError(
                f"the node at {settings.resolved_rpc_url} is chain {w3.eth.chain_id}, "
                f"but COPYTRACK_CHAIN_ID is {settings.chain_id}"
            )
        check_keys(settings, w3.eth.chain_id)
        deployment = ensure_deployed(w3, settings.deployer_key, settings.resolved_deployment_file,
                                     sale_soft_cap=settings.local_sale_soft_cap_wei)
        for name, address in deployment.addresses.items():
            echo(f"contract  {name} at {address}")
        echo(f"data      {settings.data_dir.resolve()} ({services.db.engine.url.render_as_string(hide_password=True)})")
        services.db.migrate()  # once, before gunicorn's workers each build their app
        matcher = services.matcher  # opens the matching index's snapshot before the first request
        echo(f"matcher   {len(matcher.index) + len(matcher.by_phash)} registered images up to chain event "
             f"{matcher.synced_event} (snapshot in {settings.resolved_matcher_snapshot_dir})")
        partners = len(services.jurisdictions.partners)  # a bad operator file stops the start here
        echo(f"enforce   {len(services.jurisdictions)} jurisdictions, {partners} partner firm(s)")
        scheduler = start_scheduler(services)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        server = start_server(settings)
        echo(f"backend   http://{settings.host}:{settings.port}/api/v1/status  (gunicorn, {settings.workers} "
             f"worker(s) x {settings.threads} threads; Ctrl-C stops everything)")
        echo(f"web app   http://{settings.host}:{settings.port}/")
        while not stop.wait(1.0):
            if server.poll() is not None:
                echo(f"the web server exited with code {server.returncode}; stopping")
                break
        echo("stopping…")
    finally:
        services.stopping.set()
        if server is not None:
            stop_server(server)
        try:
            if scheduler is not None:
                scheduler.shutdown(wait=True)
                save_matcher_snapshot(services)
        finally:  # whatever the snapshot did, the database and the chain node are closed
            services.close()
            if node is not None:
                node.stop()
                echo("chain state saved")
