"""`copytrack crawler` (a worker on its own) and `copytrack crawl` (one pass from the command line)."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import uuid
from dataclasses import replace
from datetime import datetime, timezone

import click
from rich.table import Table
from sqlalchemy import select

from backend.errors import DomainError

# backend.cli registers these commands, so its helpers are imported when a command runs: at
# import time `python -m backend.cli` would find this module half-initialised.


def _worker_name(role: str) -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{role}-{uuid.uuid4().hex[:6]}"


def _services():
    from backend.cli import _settings
    from backend.services import Services

    services = Services(_settings())
    services.db.migrate()
    return services


@click.command()
@click.option("--threads", type=int, help="Hosts crawled at once (default: the setting crawler_threads).")
def crawler(threads: int | None) -> None:
    """Run one crawler worker until Ctrl-C or SIGTERM; start as many as you like, on any machine
    sharing the database (PostgreSQL) and the IPFS store. Like `copytrack run`'s, it also searches
    new registrations among the images crawled so far."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from backend.cli import err_console
    from backend.jobs import add_crawler_jobs

    services = _services()
    if threads:
        services.settings = replace(services.settings, crawler_threads=threads)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: services.stopping.set())
    err_console.print(f"crawler worker {os.getpid()}: {services.settings.crawler_threads} thread(s); Ctrl-C stops it")
    scheduler = BackgroundScheduler(daemon=True)
    add_crawler_jobs(scheduler, services)
    scheduler.start()
    try:
        while not services.stopping.wait(1.0):
            pass
    finally:
        services.stopping.set()
        scheduler.shutdown(wait=True)  # the crawling threads finish the URL in hand
        services.close()


@click.command()
@click.argument("seeds", nargs=-1, required=True)
@click.option("--max-pages", type=int, default=0, help="Stop after this many pages (0: until the pass completes).")
@click.option("--allow-private", is_flag=True, help="Also fetch private and loopback addresses (your own network).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit on stdout.")
def crawl(seeds: tuple[str, ...], max_pages: int, allow_private: bool, as_json: bool) -> None:
    """Crawl from SEEDS once and print the copies of registered images found."""
    from backend.cli import CliError, err_console
    from backend.crawler.models import Hit

    services = _services()
    started = datetime.now(timezone.utc)
    crawler = services.crawler(_worker_name("crawl"), allow_private=allow_private)
    try:
        crawler.seed(seeds)
    except DomainError as exc:
        raise CliError(exc.message) from None
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    runner = threading.Thread(target=crawler.run, args=(stop,), daemon=True,
                              kwargs={"threads": services.settings.crawler_threads, "until_done": True,
                                      "idle_wait": min(services.settings.crawler_idle_wait, 0.5)})
    runner.start()
    with err_console.status("crawling…") as status:
        while runner.is_alive():
            runner.join(0.5)
            stats = crawler.stats
            status.update(f"crawling… pages {stats.pages}  images {stats.images}  fingerprinted "
                          f"{stats.fingerprinted}  hits {stats.hits}  skipped {stats.skipped}  failed {stats.failed}")
            if max_pages and stats.pages >= max_pages:
                stop.set()
    stats = crawler.stats
    err_console.print(f"pages {stats.pages}  images {stats.images}  fingerprinted {stats.fingerprinted}  "
                      f"hits {stats.hits}  skipped {stats.skipped}  failed {stats.failed}", highlight=False)
    completed = not stop.is_set() or (max_pages and crawler.stats.pages >= max_pages)
    with services.db.session() as db:
        hits = db.scalars(select(Hit).where(Hit.last_seen_at >= started).order_by(Hit.id)).all()
    services.close()
    if as_json:
        for hit in hits:
            click.echo(json.dumps(hit_line(hit)))
    else:
        _print_hits(hits)
    if not completed:
        raise SystemExit(130)


def hit_line(hit) -> dict:
    return {"page_url": hit.page_url, "image_url": hit.image_url, "registration_id": hit.registration_id,
            "owner": hit.owner, "kind": hit.kind, "match": hit.match, "score": hit.score,
            "evidence_cid": hit.evidence_cid, "status": hit.status}


def _print_hits(hits) -> None:
    from backend.cli import console

    if not hits:
        console.print("no copies of registered images found")
        return
    table = Table(title=f"{len(hits)} hit(s)")
    for column in ("page", "image", "registration", "owner", "kind", "score", "evidence CID"):
        table.add_column(column, overflow="fold")
    for hit in hits:
        table.add_row(hit.page_url, hit.image_url, hit.registration_id[:18] + "…", hit.owner, hit.kind,
                      f"{hit.score:.2f}", hit.evidence_cid or "")
    console.print(table)

