"""A real website on 127.0.0.1 for the enforcement tests, and a plain fetcher for it (the
crawler's polite fetcher takes its place in production)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from backend.enforcement.contacts import FetchedPage


class Site:
    """Serves `pages` (path -> (content type, bytes)); anything else is a 404."""

    def __init__(self, pages: dict[str, tuple[str, bytes | str]]):
        self.pages = pages
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                entry = site.pages.get(self.path)
                if entry is None:
                    self.send_error(404)
                    return
                content_type, body = entry
                body = body.encode() if isinstance(body, str) else body
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # a short poll interval: `shutdown` waits for the serving loop to look up
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def fetch(url: str) -> FetchedPage | None:
    answer = httpx.get(url, follow_redirects=True, timeout=5)
    return FetchedPage(str(answer.url), answer.text) if answer.status_code == 200 else None
