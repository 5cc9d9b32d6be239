"""`copytrack run`: the whole stack on one machine, stopped cleanly by Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading

from werkzeug.serving import make_server

from backend.app import create_app
from backend.chain.client import connect, require_connection
from backend.chain.deploy import ensure_deployed
from backend.chain.node import AnvilNode, rpc_reachable
from backend.config import ANVIL_DEPLOYER_KEY, ANVIL_RELAYER_KEY, ConfigError, Settings
from backend.jobs import save_matcher_snapshot, start_scheduler
from backend.services import Services

log = logging.getLogger("copytrack")


def check_keys(settings: Settings, chain_id: int) -> None:
    """The well-known anvil keys are only acceptable on a local development chain."""
    if chain_id != 31337 and {settings.deployer_key, settings.relayer_key} & {ANVIL_DEPLOYER_KEY, ANVIL_RELAYER_KEY}:
        raise ConfigError(
            f"chain {chain_id} is not a local dev chain: set COPYTRACK_DEPLOYER_KEY and COPYTRACK_RELAYER_KEY "
            "to your own operator keys (the anvil defaults are public)"
        )


def run(settings: Settings, echo=print) -> None:
    node = None
    if settings.runs_local_chain and not rpc_reachable(settings.resolved_rpc_url):
        node = AnvilNode(
            settings.anvil_port,
            state_file=(settings.data_dir / "chain-state.json").resolve(),
            block_time=settings.anvil_block_time,
            chain_id=settings.chain_id,
            log_file=(settings.data_dir / "anvil.log").resolve(),
        )
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        node.start()
        echo(f"chain     anvil on {node.url} (state in {node.state_file})")
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
        deployment = ensure_deployed(w3, settings.deployer_key, settings.resolved_deployment_file)
        for name, address in deployment.addresses.items():
            echo(f"contract  {name} at {address}")
        echo(f"data      {settings.data_dir.resolve()} ({services.db.engine.url.render_as_string(hide_password=True)})")
        app = create_app(services=services)
        matcher = services.matcher  # opens the matching index's snapshot before the first request
        echo(f"matcher   {len(matcher.index) + len(matcher.by_phash)} registered images up to chain event "
             f"{matcher.synced_event} (snapshot in {settings.resolved_matcher_snapshot_dir})")
        partners = len(services.jurisdictions.partners)  # a bad operator file stops the start here
        echo(f"enforce   {len(services.jurisdictions)} jurisdictions, {partners} partner firm(s)")
        scheduler = start_scheduler(services)
        server = make_server(settings.host, settings.port, app, threaded=True)
        echo(f"backend   http://{settings.host}:{settings.port}/api/v1/status  (Ctrl-C stops everything)")
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        stop.wait()
        echo("stopping…")
    finally:
        services.stopping.set()
        if server is not None:
            server.shutdown()
        try:
            if scheduler is not None:
                scheduler.shutdown(wait=True)
                save_matcher_snapshot(services)
        finally:  # whatever the snapshot did, the database and the chain node are closed
            services.close()
            if node is not None:
                node.stop()
                echo("chain state saved")
