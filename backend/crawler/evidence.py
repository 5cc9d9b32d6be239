"""Evidence of a hit: the page and image responses as a WARC file (ISO 28500), and a screenshot.

The screenshot is rendered by headless Chromium from the responses the crawler already holds:
every request the browser makes is answered from them or refused, so the browser never opens a
connection of its own (no request the crawler's politeness and address rules did not allow).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from dataclasses import dataclass

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from backend.crawler.fetch import FetchResult

log = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
# The body is stored decoded, so the headers that described the wire encoding no longer apply.
WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


@dataclass(frozen=True)
class Evidence:
    cid: str
    sha256: str
    screenshot_cid: str | None


def warc(responses: list[FetchResult], software: str) -> bytes:
    """A gzipped WARC: a warcinfo record, then one response record per fetch, in order."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    writer.write_record(writer.create_warcinfo_record("copytrack-evidence.warc.gz", {"software": software}))
    for response in responses:
        reason = _reason(response.status)
        headers = StatusAndHeaders(
            f"{response.status} {reason}",
            [(k, v) for k, v in response.headers if k.lower() not in WIRE_HEADERS],
            protocol=response.http_version,
        )
        record = writer.create_warc_record(
            response.url, "response", payload=io.BytesIO(response.body), http_headers=headers,
            warc_headers_dict={"WARC-Date": response.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
        writer.write_record(record)
    return out.getvalue()


def read_response(data: bytes) -> FetchResult | None:
    """The first response record of a WARC written by `warc`, as a FetchResult again."""
    from datetime import datetime, timezone

    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_type != "response":
            continue
        url = record.rec_headers.get_header("WARC-Target-URI")
        when = datetime.strptime(record.rec_headers.get_header("WARC-Date"), "%Y-%m-%dT%H:%M:%SZ")
        return FetchResult(
            url=url, requested_url=url, status=int(record.http_headers.get_statuscode()),
            headers=list(record.http_headers.headers), body=record.content_stream().read(), truncated=False,
            http_version=record.http_headers.protocol, fetched_at=when.replace(tzinfo=timezone.utc),
        )
    return None


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def chromium_available() -> bool:
    return os.access(CHROMIUM, os.X_OK)


def screenshot(page: FetchResult, held: list[FetchResult], timeout: float = 20.0) -> bytes | None:
    """A full-page PNG of `page` rendered from `held` responses only; None (logged) on failure."""
    from playwright.sync_api import Error, sync_playwright

    answers = {r.url: r for r in [page, *held]}
    answers.update({r.requested_url: r for r in [page, *held]})

    def route(handle):
        response = answers.get(handle.request.url)
        if response is None:
            handle.abort()
            return
        headers = {k: v for k, v in response.headers if k.lower() not in WIRE_HEADERS}
        handle.fulfill(status=response.status, headers=headers, body=response.body)

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                context = browser.new_page(java_script_enabled=False)
                context.route("**/*", route)
                context.goto(page.url, timeout=timeout * 1000, wait_until="load")
                return context.screenshot(full_page=True, timeout=timeout * 1000)
            finally:
                browser.close()
    except Error as exc:
        log.warning("screenshot of %s failed: %s", page.url, exc)
        return None


def store_evidence(store, page: FetchResult, image: FetchResult, *, software: str,
                   with_screenshot: bool) -> Evidence:
    data = warc([page, image], software)
    cid = store.add(data)
    shot = screenshot(page, [image]) if with_screenshot else None
    return Evidence(cid=cid, sha256=hashlib.sha256(data).hexdigest(),
                    screenshot_cid=store.add(shot) if shot else None)
