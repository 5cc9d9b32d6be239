"""The crawler beside Scrapy on the same local multi-host site, at the same politeness.

    python bench/bench_crawler.py [--pages 10000] [--images 20000] [--hosts 20] [--delay 0.05] [--threads 20]
                                  [--equal-work]

The site runs in a process of its own on 127.0.0.10, 127.0.0.11, … (one address per host, the
same port). Both crawlers start from every host's front page, obey robots.txt, send one request
at a time per host with `--delay` seconds between them, follow every link and fetch every image.
Copytrack also fingerprints every image (its real work); Scrapy only downloads and hashes it.
With `--equal-work`, a third run has Scrapy also fingerprint every image in a process pool of the
same size as Copytrack's (it still stores nothing, matches nothing and keeps no evidence).
Each crawler runs in a process of its own, which reports its wall time and peak memory (max RSS).
Fingerprints per second per core are measured separately, in one thread.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# -- the site ---------------------------------------------------------------------------------
def host_address(i: int) -> str:
    return f"127.0.0.{10 + i}"


@lru_cache(maxsize=4096)
def image_bytes(number: int) -> bytes:
    """A distinct 240×180 JPEG per number: a gradient with a few random shapes."""
    from PIL import Image, ImageDraw

    rng = random.Random(number)
    image = Image.new("RGB", (240, 180), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(200), rng.randrange(140)
        draw.rectangle([x, y, x + rng.randrange(20, 120), y + rng.randrange(20, 100)],
                       fill=tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def page_html(host: int, page: int, pages_per_host: int, images_per_page: int) -> bytes:
    links = "".join(f'<a href="/p/{(page + step) % pages_per_host}">next</a>' for step in (1, 2, 7))
    first = (host * pages_per_host + page) * images_per_page
    images = "".join(f'<img src="/img/{first + k}.jpg" alt="">' for k in range(images_per_page))
    return f"<!doctype html><html><body><h1>page {page}</h1>{links}{images}</body></html>".encode()


def serve_site(port: int, hosts: int, pages_per_host: int, images_per_page: int, ready) -> None:
    def handler_for(host: int):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in one write, as real servers send them (nginx, Apache): the
            # default unbuffered writes send the body as a second small segment, which Nagle's
            # algorithm holds until the client's delayed ACK (40 ms), on every response of a
            # reused connection.
            wbufsize = 1 << 20

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path
                if path == "/robots.txt":
                    body, kind = b"User-agent: *\nDisallow: /private/\n", "text/plain"
                elif path == "/":
                    body, kind = page_html(host, 0, pages_per_host, images_per_page), "text/html"
                elif path.startswith("/p/"):
                    body, kind = page_html(host, int(path[3:]), pages_per_host, images_per_page), "text/html"
                elif path.startswith("/img/"):
                    body, kind = image_bytes(int(path[5:].split(".")[0])), "image/jpeg"
                else:
                    body, kind = b"not found", "text/plain"
                self.send_response(200 if kind != "text/plain" or path == "/robots.txt" else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    servers = []
    for host in range(hosts):
        server = ThreadingHTTPServer((host_address(host), port), handler_for(host))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    ready.set()
    threading.Event().wait()


# -- the crawlers -----------------------------------------------------------------------------
def run_copytrack(args) -> dict:
    from backend.app import create_app
    from backend.config import load_settings
    from backend.services import Services

    data = Path(tempfile.mkdtemp(prefix="bench-crawler-"))
    settings = load_settings({
        "data_dir": data, "rpc_url": "http://127.0.0.1:9", "database_url": args.database_url or "",
        "crawler_allow_networks": "127.0.0.0/8", "crawler_delay": args.delay, "crawler_screenshots": "off",
        "crawler_threads": args.threads, "crawler_concurrency": args.threads, "crawler_max_depth": 10_000,
        "crawler_max_urls_per_host": 10**9, "crawler_max_urls_per_shape": 10**9, "crawler_min_image_side": 64,
        "crawler_fingerprint_processes": args.fingerprint_processes,
    }, environ={})
    services = Services(settings)
    create_app(services=services)
    crawler = services.crawler("bench")
    statements = count_statements()
    crawler.seed([f"http://{host_address(h)}:{args.port}/" for h in range(args.hosts)])
    started = time.perf_counter()
    crawler.run(threading.Event(), threads=args.threads, until_done=True, idle_wait=0.05)
    seconds = time.perf_counter() - started
    services.close()  # the fingerprint processes end: their peak memory is counted below
    return {"pages": crawler.stats.pages, "images": crawler.stats.images,
            "fingerprinted": crawler.stats.fingerprinted, "seconds": seconds,
            "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "pool_max_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "statements": sum(statements.values()), "statement_kinds": statements.most_common(12),
            "cpu_seconds": cpu_seconds(), "fingerprint_cpu_seconds": sum(
                getattr(resource.getrusage(resource.RUSAGE_CHILDREN), name) for name in ("ru_utime", "ru_stime"))}


def count_statements():
    """A counter of the SQL statements every engine of this process sends, by their first words."""
    from collections import Counter

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    counts: Counter = Counter()

    @event.listens_for(Engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        counts[" ".join(statement.split()[:4])] += 1

    return counts


def run_scrapy(args, *, fingerprints: bool = False) -> dict:
    """Scrapy downloading the site; with `fingerprints`, also fingerprinting every image in a
    process pool of Copytrack's size (at least one; equal work but for the database and matching)."""
    import asyncio
    import hashlib

    import scrapy
    from scrapy.crawler import CrawlerProcess

    counts = {"pages": 0, "images": 0, "fingerprinted": 0}
    pool = None
    if fingerprints:
        from backend.matching import fingerprint_bytes
        from backend.matching.pool import fingerprint_pool, pool_size

        pool = fingerprint_pool(max(1, pool_size(args.fingerprint_processes)))

    class Site(scrapy.Spider):
        name = "site"
        start_urls = [f"http://{host_address(h)}:{args.port}/" for h in range(args.hosts)]

        def parse(self, response):
            counts["pages"] += 1
            for src in response.css("img::attr(src)").getall():
                yield response.follow(src, callback=self.image)
            for href in response.css("a::attr(href)").getall():
                yield response.follow(href, callback=self.parse)

        async def image(self, response):
            counts["images"] += 1
            hashlib.sha256(response.body).hexdigest()
            if pool is not None:  # awaited: Scrapy goes on downloading meanwhile
                if isinstance(await asyncio.wrap_future(pool.submit(fingerprint_bytes, response.body)), bytes):
                    counts["fingerprinted"] += 1

    process = CrawlerProcess(settings={
        "ROBOTSTXT_OBEY": True, "DOWNLOAD_DELAY": args.delay, "RANDOMIZE_DOWNLOAD_DELAY": False,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "CONCURRENT_REQUESTS": args.hosts, "LOG_LEVEL": "ERROR",
        "TELNETCONSOLE_ENABLED": False, "COOKIES_ENABLED": False, "DEPTH_LIMIT": 0,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    })
    process.crawl(Site)
    started = time.perf_counter()
    process.start()
    seconds = time.perf_counter() - started
    if pool is not None:
        pool.shutdown()  # its processes end: their CPU is counted below
    return {**counts, "seconds": seconds, "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "cpu_seconds": cpu_seconds()}


def cpu_seconds() -> float:
    """CPU time of this process and of its ended children (the fingerprint pool), user and system."""
    return sum(usage.ru_utime + usage.ru_stime
               for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


def fingerprints_per_second(samples: int = 200) -> float:
    from backend.matching import fingerprint

    data = [image_bytes(10**7 + i) for i in range(samples)]
    started = time.process_time()
    for item in data:
        fingerprint(item)
    return samples / (time.process_time() - started)


def in_process(role: str, args) -> dict:
    command = [sys.executable, __file__, "--role", role, "--port", str(args.port), "--hosts", str(args.hosts),
               "--delay", str(args.delay), "--threads", str(args.threads), "--fingerprint-processes", str(args.fingerprint_processes)] + (
                  ["--database-url", args.database_url] if args.database_url else [])
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{role} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process (Linux: /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port(hosts: int) -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            for host in range(hosts):
                with socket.socket() as sock:
                    sock.bind((host_address(host), port))
            return port
        except OSError:
            continue
    raise SystemExit("no port free on every loopback address")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--threads", type=int, default=20,
                        help="Copytrack's crawling threads (the setting crawler_threads; Scrapy has one)")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--fingerprint-processes", type=int, default=-1,
                        help="the setting crawler_fingerprint_processes (default -1: one fewer than the cores)")
    parser.add_argument("--equal-work", action="store_true",
                        help="also run Scrapy fingerprinting every image in a process pool, as Copytrack does")
    parser.add_argument("--role", choices=["copytrack", "scrapy", "scrapy-fingerprints"])
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.role:
        result = (run_copytrack(args) if args.role == "copytrack"
                  else run_scrapy(args, fingerprints=args.role == "scrapy-fingerprints"))
        print(json.dumps(result))
        return
    pages_per_host = max(1, args.pages // args.hosts)
    images_per_page = max(1, args.images // (pages_per_host * args.hosts))
    args.port = free_port(args.hosts)
    ready = multiprocessing.Event()
    site = multiprocessing.Process(target=serve_site, daemon=True,
                                   args=(args.port, args.hosts, pages_per_host, images_per_page, ready))
    site.start()
    ready.wait(30)
    try:
        before = process_cpu_seconds(site.pid)
        ours = in_process("copytrack", args)
        middle = process_cpu_seconds(site.pid)
        theirs = in_process("scrapy", args)
        after = process_cpu_seconds(site.pid)
        ours["site_cpu_seconds"], theirs["site_cpu_seconds"] = middle - before, after - middle
        equal = in_process("scrapy-fingerprints", args) if args.equal_work else None
        if equal is not None:
            equal["site_cpu_seconds"] = process_cpu_seconds(site.pid) - after
    finally:
        site.terminate()
    per_core = fingerprints_per_second()
    print(f"site: {args.hosts} hosts × {pages_per_host} pages × {images_per_page} images, delay {args.delay} s, "
          "one request at a time per host, robots.txt obeyed")
    print(f"{'':28}{'pages':>8}{'images':>8}{'seconds':>9}{'pages/s':>9}{'images/s':>9}{'max RSS MiB':>12}"
          f"{'CPU s':>8}{'CPU ms/request':>15}")
    rows = [("Copytrack (fingerprints)", ours), ("Scrapy (downloads only)", theirs)]
    if equal is not None:
        rows.append(("Scrapy + fingerprints", equal))
    for name, r in rows:
        requests = r["pages"] + r["images"] + args.hosts  # and one robots.txt a host
        print(f"{name:28}{r['pages']:>8}{r['images']:>8}{r['seconds']:>9.1f}{r['pages'] / r['seconds']:>9.1f}"
              f"{r['images'] / r['seconds']:>9.1f}{r['max_rss_mib']:>12.0f}{r['cpu_seconds']:>8.1f}"
              f"{1000 * r['cpu_seconds'] / requests:>15.2f}")
    if ours.get("pool_max_rss_mib"):
        print(f"Copytrack's fingerprint process(es) (setting {args.fingerprint_processes}): max RSS {ours['pool_max_rss_mib']:.0f} MiB each")
    print(f"Copytrack's SQL statements: {ours['statements'] / ours['pages']:.1f} a page; the most frequent, a page: "
          + ", ".join(f"{kind} {count / ours['pages']:.2f}" for kind, count in ours["statement_kinds"]))
    print(f"pages/s ratio Copytrack/Scrapy: {ours['pages'] / ours['seconds'] / (theirs['pages'] / theirs['seconds']):.2f}")
    cores = os.cpu_count() or 1
    fingerprinting = ours["fingerprinted"] / per_core
    cpu_floor = (theirs["cpu_seconds"] + fingerprinting + theirs["site_cpu_seconds"]) / cores
    delay_floor = (args.pages // args.hosts * (1 + max(1, args.images // args.pages)) + 1) * args.delay
    print(f"the site's CPU: {ours['site_cpu_seconds']:.1f} s serving Copytrack, {theirs['site_cpu_seconds']:.1f} s serving "
          f"Scrapy; Copytrack's fingerprint processes: {ours['fingerprint_cpu_seconds']:.1f} CPU s (start-up included)")
    print(f"the best any crawler can do here: as lean as Scrapy and fingerprinting at the one-thread rate, "
          f"(Scrapy {theirs['cpu_seconds']:.1f} + fingerprints {fingerprinting:.1f} + site {theirs['site_cpu_seconds']:.1f} "
          f"CPU s) / {cores} cores = {cpu_floor:.1f} s, and the per-host delay alone {delay_floor:.1f} s: "
          f"at best {theirs['seconds'] / max(cpu_floor, delay_floor):.2f}× Scrapy ({theirs['seconds']:.1f} s)")
    if equal is not None:
        print(f"pages/s ratio Copytrack/(Scrapy + fingerprints): "
              f"{ours['pages'] / ours['seconds'] / (equal['pages'] / equal['seconds']):.2f} "
              f"(Scrapy fingerprinted {equal['fingerprinted']} images; it records nothing and matches nothing)")
    print(f"images fingerprinted by Copytrack: {ours['fingerprinted']}; "
          f"fingerprints/s per core (one thread, these images): {per_core:.1f}")


if __name__ == "__main__":
    main()
