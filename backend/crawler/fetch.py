"""Polite, SSRF-safe HTTP fetching: the one way the project reads other people's websites.

    fetcher = Fetcher(FetchPolicy(user_agent=..., allow_networks=["127.0.0.0/8"]))
    result = fetcher.fetch("https://example.org/page")   # FetchResult, or a FetchRefused error

What it guarantees, whoever calls it (the crawler, and enforcement for manual reports):
- the address is decided by the crawler itself: the host name is resolved here, every address
  is checked (private, loopback, link-local, multicast, reserved refused unless allowed), and the
  connection goes to the checked address (the TLS name and Host header stay the host's); every
  redirect hop goes through the same check;
- robots.txt is obeyed (protego, cached per origin, `Crawl-delay` honoured);
- one request at a time per origin with a delay between them, and a global concurrency limit;
- retries with backoff on 429, 5xx and network errors, honouring `Retry-After`;
- timeouts, a streamed body cap, a redirect limit and redirect-loop detection.
"""

from __future__ import annotations

import email.utils
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import httpx
from protego import Protego

from backend.crawler.urls import BadUrl, normalise, origin
from backend.errors import InvalidInput

Resolver = Callable[[str], list[str]]
REDIRECTS = {301, 302, 303, 307, 308}
RETRYABLE = {429, 500, 502, 503, 504}
ROBOTS_MAX_BYTES = 512 * 1024  # what Google reads of a robots.txt


class FetchRefused(InvalidInput):
    """The crawler will not fetch this URL (address, robots.txt, scheme, redirects); `reason` says why."""

    def __init__(self, message: str, *, reason: str, url: str):
        super().__init__(message, reason=reason, url=url)
        self.reason = reason
        self.url = url


class FetchFailed(InvalidInput):
    """The site did not answer usefully after the retries; `retry_after` (seconds) when it said so."""

    def __init__(self, message: str, *, url: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message, url=url, status=status)
        self.url = url
        self.status = status
        self.retry_after = retry_after


def system_resolver(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchFailed(f"cannot resolve {host}: {exc}", url=host) from None
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass
class FetchPolicy:
    user_agent: str = "CopytrackBot/0.1"
    allow_networks: Iterable[str] = ()  # e.g. 127.0.0.0/8 in tests; otherwise only public addresses
    allow_private: bool = False  # every address allowed (`copytrack crawl --allow-private`)
    delay: float = 1.0  # seconds between two requests to one origin (robots.txt may ask for more)
    max_delay: float = 60.0  # a Crawl-delay above this is capped (and the host crawled slowly)
    concurrency: int = 8  # requests in flight at once, all origins together
    timeout: float = 20.0
    max_bytes: int = 25 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 2
    backoff: float = 1.0
    max_retry_wait: float = 30.0  # a longer Retry-After gives up now and says when to come back
    robots_ttl: float = 24 * 3600


@dataclass
class FetchResult:
    url: str  # after redirects
    requested_url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    truncated: bool
    redirects: list[str] = field(default_factory=list)
    http_version: str = "HTTP/1.1"
    fetched_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


class AddressPolicy:
    def __init__(self, allow_networks: Iterable[str] = (), allow_private: bool = False):
        self.allowed = [ipaddress.ip_network(n) for n in allow_networks]
        self.allow_private = allow_private

    def refusal(self, address: str) -> str | None:
        """Why `address` may not be connected to, or None."""
        ip = ipaddress.ip_address(address)
        if self.allow_private or any(ip in net for net in self.allowed):
            return None
        for flag in ("is_loopback", "is_link_local", "is_multicast", "is_private", "is_reserved", "is_unspecified"):
            if getattr(ip, flag):
                return flag[3:].replace("_", "-")
        if not ip.is_global:
            return "not-global"
        return None


class CheckedTransport(httpx.BaseTransport):
    """Resolves the host itself, refuses addresses the policy forbids, and connects to the checked
    address: no second DNS lookup can send the connection elsewhere (DNS rebinding)."""

    def __init__(self, resolver: Resolver, addresses: AddressPolicy, **transport_options):
        self.resolver = resolver
        self.addresses = addresses
        self.inner = httpx.HTTPTransport(**transport_options)

    def checked_address(self, host: str, url: str) -> str:
        candidates = [host] if _literal_ip(host) else self.resolver(host)
        if not candidates:
            raise FetchFailed(f"{host} has no address", url=url)
        for address in candidates:
            reason = self.addresses.refusal(address)
            if reason is not None:
                raise FetchRefused(
                    f"{url}: {host} resolves to {address}, a {reason} address; the crawler only fetches "
                    "public addresses (allow networks with the setting crawler_allow_networks)",
                    reason="address", url=url,
                )
        return candidates[0]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        address = self.checked_address(host, str(request.url))
        request.extensions = {**request.extensions, "sni_hostname": host}
        request.url = request.url.copy_with(host=address)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def _literal_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


class _Origin:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_at = 0.0
        self.robots: Protego | None = None
        self.robots_at = 0.0


class Fetcher:
    def __init__(self, policy: FetchPolicy, *, resolver: Resolver = system_resolver,
                 sleep: Callable[[float], None] = time.sleep):
        self.policy = policy
        self.sleep = sleep
        self.transport = CheckedTransport(resolver, AddressPolicy(policy.allow_networks, policy.allow_private))
        self.client = httpx.Client(
            transport=self.transport,
            headers={"User-Agent": policy.user_agent},
            timeout=policy.timeout,
            follow_redirects=False,
        )
        self.slots = threading.BoundedSemaphore(policy.concurrency)
        self.origins: dict[str, _Origin] = {}
        self.origins_lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    # -- public ---------------------------------------------------------------------------
    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              max_bytes: int | None = None) -> FetchResult:
        """GET `url` politely, following redirects; 304 comes back as such (not modified)."""
        requested = self._normal(url)
        current, seen, hops = requested, {requested}, []
        for _ in range(self.policy.max_redirects + 1):
            self.check_robots(current)
            headers = {}
            if etag and current == requested:
                headers["If-None-Match"] = etag
            if last_modified and current == requested:
                headers["If-Modified-Since"] = last_modified
            result = self._with_retries(current, headers, max_bytes or self.policy.max_bytes)
            location = result.header("location")
            if result.status not in REDIRECTS or not location:
                result.requested_url, result.redirects = requested, hops
                return result
            target = self._normal(location, base=current)
            if target in seen:
                raise FetchRefused(f"{requested}: redirect loop at {target}", reason="redirect-loop", url=requested)
            seen.add(target)
            hops.append(current)
            current = target
        raise FetchRefused(f"{requested}: more than {self.policy.max_redirects} redirects",
                           reason="redirects", url=requested)

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets this crawler fetch `url`."""
        try:
            self.check_robots(url)
        except FetchRefused:
            return False
        return True

    def sitemaps(self, url: str) -> list[str]:
        """The `Sitemap:` lines of the robots.txt of `url`'s origin."""
        robots = self._robots(origin(url))
        return list(robots.sitemaps) if robots is not None else []

    def delay_for(self, url: str) -> float:
        """Seconds between two requests to `url`'s origin: the setting, or robots.txt's Crawl-delay."""
        try:
            robots = self._robots(origin(url))
        except FetchRefused:  # an origin we may not contact at all: the plain delay
            return self.policy.delay
        asked = robots.crawl_delay(self.policy.user_agent) if robots is not None else None
        return min(max(self.policy.delay, float(asked or 0)), self.policy.max_delay)

    def check_robots(self, url: str) -> None:
        robots = self._robots(origin(url))
        if robots is not None and not robots.can_fetch(url, self.policy.user_agent):
            raise FetchRefused(f"{url}: robots.txt disallows it", reason="robots", url=url)

    # -- inside ---------------------------------------------------------------------------
    def _normal(self, url: str, base: str | None = None) -> str:
        try:
            return normalise(url, base)
        except BadUrl as exc:
            raise FetchRefused(str(exc), reason="url", url=url) from None

    def _origin(self, key: str) -> _Origin:
        with self.origins_lock:
            return self.origins.setdefault(key, _Origin())

    def _robots(self, key: str) -> Protego | None:
        state = self._origin(key)
        if state.robots is not None and time.monotonic() - state.robots_at < self.policy.robots_ttl:
            return state.robots
        try:
            result = self._with_retries(key + "/robots.txt", {}, ROBOTS_MAX_BYTES, delay=self.policy.delay)
        except FetchFailed:
            # RFC 9309: an unreachable robots.txt means "assume complete disallow" for now.
            robots = Protego.parse("User-agent: *\nDisallow: /")
        else:
            if 200 <= result.status < 300:
                robots = Protego.parse(result.body.decode("utf-8", "replace"))
            elif 400 <= result.status < 500:
                robots = Protego.parse("")  # no robots.txt: everything allowed
            else:
                robots = Protego.parse("User-agent: *\nDisallow: /")
        state.robots, state.robots_at = robots, time.monotonic()
        return robots

    def _with_retries(self, url: str, headers: dict, max_bytes: int, delay: float | None = None) -> FetchResult:
        attempt = 0
        while True:
            try:
                result = self._polite_get(url, headers, max_bytes, delay)
            except httpx.TransportError as exc:
                if attempt >= self.policy.retries:
                    raise FetchFailed(f"{url}: {type(exc).__name__} after {attempt + 1} attempt(s)", url=url) from None
                wait = self.policy.backoff * 2 ** attempt
            else:
                if result.status not in RETRYABLE:
                    return result
                asked = _retry_after(result.header("retry-after"))
                wait = max(asked or 0.0, self.policy.backoff * 2 ** attempt)
                if attempt >= self.policy.retries or wait > self.policy.max_retry_wait:
                    if asked:  # the whole origin waits as asked, not only this URL
                        self._defer(origin(url), asked)
                    raise FetchFailed(f"{url}: HTTP {result.status} after {attempt + 1} attempt(s)",
                                      url=url, status=result.status, retry_after=asked)
            attempt += 1
            self._defer(origin(url), wait)

    def _defer(self, key: str, seconds: float) -> None:
        """The origin's next request waits at least `seconds` (its lock is not held meanwhile)."""
        state = self._origin(key)
        state.next_at = max(state.next_at, time.monotonic() + seconds)

    def _polite_get(self, url: str, headers: dict, max_bytes: int, delay: float | None) -> FetchResult:
        key = origin(url)
        state = self._origin(key)
        with state.lock:
            wait = state.next_at - time.monotonic()
            if wait > 0:
                self.sleep(wait)
            try:
                with self.slots:
                    return self._get(url, headers, max_bytes)
            finally:
                state.next_at = time.monotonic() + (delay if delay is not None else self.delay_for(url))

    def _get(self, url: str, headers: dict, max_bytes: int) -> FetchResult:
        with self.client.stream("GET", url, headers=headers) as response:
            chunks, size, truncated = [], 0, False
            for chunk in response.iter_bytes():  # decoded: the cap also stops a compression bomb
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    truncated = True
                    break
            body = b"".join(chunks)
            return FetchResult(
                url=url, requested_url=url, status=response.status_code,
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw],
                body=body[:max_bytes] if truncated else body, truncated=truncated,
                http_version=response.http_version,
            )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
