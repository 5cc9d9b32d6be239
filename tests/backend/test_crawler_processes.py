"""Crawler workers as real processes: `copytrack crawl --json`, a worker killed with SIGKILL and
restarted, and two workers sharing a PostgreSQL frontier."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.crawler.models import CrawlUrl, Hit
from tests.backend.crawl_site import Response, Site
from tests.backend.test_crawler import add_registration, html, image, photo
from tests.images import encode

COPYTRACK = str(Path(sys.executable).with_name("copytrack"))


def environment(settings, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYTRACK_")}
    env.update({
        "COPYTRACK_DATA_DIR": str(settings.data_dir),
        "COPYTRACK_DATABASE_URL": settings.database_url,
        "COPYTRACK_RPC_URL": settings.rpc_url,
        "COPYTRACK_CRAWLER_ALLOW_NETWORKS": "127.0.0.0/8",
        "COPYTRACK_CRAWLER_DELAY": "0.05",
        "COPYTRACK_CRAWLER_SCREENSHOTS": "off",
        "COPYTRACK_CRAWLER_IDLE_WAIT": "0.2",
    })
    env.update({f"COPYTRACK_{k.upper()}": str(v) for k, v in extra.items()})
    return env


def chain_site(site: Site, hosts: list[str], pages: int, copy: bytes) -> None:
    """Each host: / links to /p1 … /pN; every third page shows a copy of registration 1."""
    for address in hosts:
        routes = {"/": html("".join(f'<a href="/p{i}">{i}</a>' for i in range(1, pages + 1))),
                  "/copy.png": image(copy)}
        for i in range(1, pages + 1):
            routes[f"/p{i}"] = html('<img src="/copy.png">' if i % 3 == 0 else f"<p>page {i}</p>")
        site.host(address, address, routes)
    site.start()


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def frontier_done(services) -> bool:
    with services.db.session() as db:
        open_ = db.scalar(select(func.count()).select_from(CrawlUrl).where(CrawlUrl.status != "done"))
        total = db.scalar(select(func.count()).select_from(CrawlUrl))
    return total > 0 and open_ == 0


@pytest.fixture
def site():
    site = Site()
    yield site
    site.stop()


def test_cli_crawl__prints_one_json_line_per_hit_and_exits_0(app, services, settings, site):
    reg = add_registration(services, 1)
    chain_site(site, ["127.0.0.2"], 3, encode(photo(1).resize((320, 240)), "PNG"))
    done = subprocess.run([COPYTRACK, "crawl", site.url("127.0.0.2"), "--json"], env=environment(settings),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(line["page_url"], line["image_url"], line["registration_id"], line["owner"], line["kind"])
            for line in lines] == [(site.url("127.0.0.2", "/p3"), site.url("127.0.0.2", "/copy.png"), reg,
                                    "0x" + "11" * 20, "whole")]
    assert lines[0]["score"] > 0.9 and lines[0]["evidence_cid"]
    assert "pages 4 " in done.stderr  # /, /p1, /p2, /p3: the progress line ends with the totals
