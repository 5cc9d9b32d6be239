"""A test website on several loopback addresses (one per "host"), with a log of every request.

Host names are resolved by the test's own resolver (`SiteResolver`), never by DNS: a name maps to
127.0.0.x where a server listens, or to a private address (10.0.0.1, 169.254.169.254) where the
crawler must refuse to connect.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Response:
    body: bytes = b""
    status: int = 200
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow host)
    chunks: int = 0  # stream the body in this many chunks (a huge body, cut off by the crawler)


@dataclass
class Request:
    host: str
    path: str
    started: float
    ended: float = 0.0
    user_agent: str = ""


class Site:
    """Routes per host name; `log` lists every request each server received."""

    def __init__(self) -> None:
        self.routes: dict[str, dict[str, Response | callable]] = {}
        self.addresses: dict[str, str] = {}
        self.log: list[Request] = []
        self.lock = threading.Lock()
        self.servers: list[ThreadingHTTPServer] = []
        self.port = _free_port()  # the same port on every address

    def host(self, name: str, address: str, routes: dict) -> None:
        self.addresses[name] = address
        self.routes[name] = routes

    def url(self, name: str, path: str = "/") -> str:
        return f"http://{name}:{self.port}{path}"

    def start(self) -> None:
        for name, address in self.addresses.items():
            if address.startswith("127."):
                self.servers.append(self._serve(name, address))

    def _serve(self, name: str, address: str) -> ThreadingHTTPServer:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                entry = Request(name, self.path, time.monotonic(), user_agent=self.headers.get("User-Agent", ""))
                with site.lock:
                    site.log.append(entry)
                route = site.routes[name].get(self.path) or site.routes[name].get(self.path.split("?")[0])
                if callable(route):
                    route = route(self)
                if route is None:
                    route = Response(b"not found", 404)
                time.sleep(route.delay)
                try:
                    self.send_response(route.status)
                    for key, value in route.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    if route.chunks:
                        step = len(route.body) // route.chunks
                        for i in range(route.chunks):
                            self.wfile.write(route.body[i * step:(i + 1) * step])
                    else:
                        self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the crawler stopped reading (body cap)
                finally:
                    entry.ended = time.monotonic()

        server = ThreadingHTTPServer((address, self.port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
        self.servers = []

    def fetched(self, name: str | None = None) -> list[str]:
        with self.lock:
            return [r.path for r in self.log if name is None or r.host == name]

    def resolver(self, host: str) -> list[str]:
        return [self.addresses[host]] if host in self.addresses else []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
