"""URL normalisation (one spelling per resource, so the frontier de-duplicates) and the trap rules."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

import idna

from backend.errors import InvalidInput

# Query parameters that name a visitor or a campaign, not a resource: dropped, so that a site
# that puts a session id in every link does not become an endless frontier.
SESSION_PARAMS = re.compile(
    r"^(utm_[a-z]+|fbclid|gclid|msclkid|mc_eid|sessionid|session_id|sid|phpsessid|jsessionid|aspsessionid\w*|"
    r"cfid|cftoken|s)$",
    re.IGNORECASE,
)
PATH_SESSION = re.compile(r";(jsessionid|phpsessid|sid)=[^/?#]*", re.IGNORECASE)
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2048
DIGITS = re.compile(r"\d+")


class BadUrl(InvalidInput):
    """Not a URL the crawler can fetch (scheme, host, length)."""


def normalise(url: str, base: str | None = None) -> str:
    """The canonical form of `url` (resolved against `base`): http(s) only, lower-case host in
    IDNA form, no default port, no fragment, no session parameters, sorted query, `/` for an
    empty path, percent-encoding made uniform."""
    try:
        raw = urljoin(base, url.strip()) if base else url.strip()
        parts = urlsplit(raw)
    except ValueError as exc:
        raise BadUrl(f"{url!r} is not a URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise BadUrl(f"{url!r}: only http and https URLs can be crawled (write it as https://…)")
    if not parts.hostname:
        raise BadUrl(f"{url!r} names no host")
    try:
        host = idna.encode(parts.hostname, uts46=True).decode() if not _is_ip(parts.hostname) else parts.hostname
        port = parts.port
    except (idna.IDNAError, ValueError) as exc:
        raise BadUrl(f"{url!r}: the host or port is not valid ({exc})") from None
    netloc = f"[{host}]" if ":" in host else host
    if port and port != DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    path = PATH_SESSION.sub("", parts.path) or "/"
    if "/." in path:  # RFC 3986 dot segments, removed as urljoin does when resolving
        path = urlsplit(urljoin("http://host/", path)).path
    path = quote(unquote(path), safe="/%:@!$&'()*+,;=~-._")
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not SESSION_PARAMS.match(k)))
    result = urlunsplit((scheme, netloc, path, query, ""))
    if len(result) > MAX_URL_LENGTH:
        raise BadUrl(f"URL longer than {MAX_URL_LENGTH} characters: {result[:80]}…")
    return result


def _is_ip(host: str) -> bool:
    return bool(re.fullmatch(r"[\d.]+", host)) or ":" in host


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def domain(url: str) -> str:
    return urlsplit(url).hostname or ""


def on_domain(host: str, own: str) -> bool:
    """`host` is `own` or one of its subdomains."""
    return host == own or host.endswith("." + own)


def shape(url: str) -> str:
    """The URL with every number replaced: /calendar/2031/05 and /calendar/2099/12 share a shape,
    which is how an endless calendar (or paging without end) is recognised."""
    parts = urlsplit(url)
    return DIGITS.sub("#", parts.path) + "?" + "&".join(sorted(k for k, _ in parse_qsl(parts.query)))
