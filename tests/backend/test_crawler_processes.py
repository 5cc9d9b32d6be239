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
from sqlalchemy import func, select, text

from backend.app import create_app
from backend.config import load_settings
from backend.models import Base
from backend.services import Services
from tests.backend.conftest import PG_URL, free_port

from backend.crawler.models import CrawlUrl, Hit
from tests.backend.crawl_site import Site
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


def test_worker_killed_with_sigkill__restart_resumes__nothing_lost__no_hit_twice(app, services, settings, site):
    reg = add_registration(services, 1)
    pages = 12
    chain_site(site, ["127.0.0.2", "127.0.0.3"], pages, encode(photo(1).resize((320, 240)), "PNG"))
    env = environment(settings, crawler_seeds=f"{site.url('127.0.0.2')} {site.url('127.0.0.3')}",
                      crawler_lease_seconds=2, crawler_threads=2)
    first = subprocess.Popen([COPYTRACK, "crawler"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: len([p for p in site.fetched() if p.startswith("/p")]) >= pages // 2, 120,
                 "the first worker to crawl half the pages")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    killed_at = len(site.fetched())
    second = subprocess.Popen([COPYTRACK, "crawler"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: frontier_done(services), 120, "the restarted worker to finish the frontier")
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
    assert len(site.fetched()) > killed_at  # the second worker did the rest
    for host in ("127.0.0.2", "127.0.0.3"):
        fetched = set(site.fetched(host))
        assert {f"/p{i}" for i in range(1, pages + 1)} <= fetched, host
    with services.db.session() as db:
        urls = db.scalar(select(func.count()).select_from(CrawlUrl).where(CrawlUrl.kind == "page"))
        hits = db.execute(select(Hit.registration_id, Hit.page_url)).all()
    assert urls == 2 * (pages + 1)
    expected = {(reg, site.url(host, f"/p{i}")) for host in ("127.0.0.2", "127.0.0.3")
                for i in range(3, pages + 1, 3)}
    assert sorted(hits) == sorted(expected)  # each once


def test_worker_alone__new_registration_found_among_crawled_images__without_a_recrawl(app, services, settings,
                                                                                    site):
    copy = encode(photo(5).resize((320, 240)), "PNG")
    site.host("127.0.0.2", "127.0.0.2", {"/": html('<img src="/later.png">'), "/later.png": image(copy)})
    site.start()
    env = environment(settings, crawler_seeds=site.url("127.0.0.2"), indexer_interval=1)
    worker = subprocess.Popen([COPYTRACK, "crawler"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: frontier_done(services), 120, "the worker to crawl the page")
        reg = add_registration(services, 5)  # registered after the page was crawled; no recrawl is due

        def evidenced_hit():
            with services.db.session() as db:
                return db.execute(select(Hit.registration_id, Hit.page_url, Hit.evidence_cid)).all()

        wait_for(lambda: [(r, p) for r, p, cid in evidenced_hit() if cid] == [(reg, site.url("127.0.0.2"))], 60,
                 "the worker to search the new registration among what it crawled and fetch the evidence")
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(30)
    assert code == 0, worker.stderr.read().decode()
    assert site.fetched("127.0.0.2").count("/") == 2  # once crawled, once again for the hit's evidence


@pytest.fixture
def pg_services(postgres_url, tmp_path):
    """Services on the session's PostgreSQL database (emptied afterwards, as `database_url` does)."""
    settings = load_settings({"data_dir": tmp_path / "data", "database_url": postgres_url,
                              "rpc_url": f"http://127.0.0.1:{free_port()}"}, environ={})
    services = Services(settings)
    create_app(services=services)
    yield services
    with services.db.engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
                          + " RESTART IDENTITY CASCADE"))
    services.close()


if PG_URL:  # like the `database_kind` fixture: PostgreSQL tests run where CI provides one
    def test_two_workers_on_postgresql__no_url_fetched_twice__one_request_at_a_time_per_host(pg_services, site):
        services, settings = pg_services, pg_services.settings
        add_registration(services, 1)
        hosts = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
        chain_site(site, hosts, 8, encode(photo(1).resize((320, 240)), "PNG"))
        env = environment(settings, crawler_seeds=" ".join(site.url(h) for h in hosts), crawler_threads=2,
                          crawler_delay=0.2)
        workers = [subprocess.Popen([COPYTRACK, "crawler"], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE) for _ in range(2)]
        try:
            wait_for(lambda: frontier_done(services), 120, "two workers to finish the frontier")
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            codes = [worker.wait(30) for worker in workers]
        assert codes == [0, 0]
        for host in hosts:
            paths = [p for p in site.fetched(host) if p != "/robots.txt"]
            assert sorted(paths) == sorted(["/", "/copy.png", *(f"/p{i}" for i in range(1, 9))]), host
            requests = sorted((r for r in site.log if r.host == host), key=lambda r: r.started)
            for before, after in zip(requests, requests[1:]):
                assert after.started >= before.ended + 0.19, (host, before.path, after.path)
