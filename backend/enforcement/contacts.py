"""Who to write to about a copy: pure functions over fetched pages.

The fetching is behind `Fetch`, a callable from URL to page (or None when the page cannot be
had), so that the crawler's polite, SSRF-safe fetcher plugs in and tests serve real local sites.

A site's operator is found on its imprint or contact page (a legal notice in many countries), in
`mailto:` links, and in its RFC 9116 `/.well-known/security.txt`; a hosting provider's abuse desk
in its security.txt and at the RFC 2142 `abuse@` mailbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Callable
from urllib.parse import unquote, urljoin, urlsplit

from backend.marketplace.typed_data import normalise_domain


@dataclass(frozen=True)
class FetchedPage:
    url: str  # after redirects
    text: str


Fetch = Callable[[str], "FetchedPage | None"]

# Link words that lead to the legal notice or a contact form, in the letter languages and the
# neighbours' (German Impressum, French mentions légales, Japanese 特定商取引法 / 会社概要 / お問い合わせ).
IMPRINT_WORDS = re.compile(
    r"impressum|imprint|legal[ -_]?notice|mentions[ -_]l[ée]gales|aviso[ -_]legal|colofon|"
    r"特定商取引|会社概要|運営者|お問い合わせ|contact|kontakt|about[ -_]?us|über[ -_]uns",
    re.IGNORECASE,
)
# Addresses as imprints write them, also half-hidden from harvesters: `name [at] host [dot] de`.
EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]+\s*(?:@|\[at\]|\(at\)|\s+at\s+)\s*[A-Za-z0-9-]+(?:\s*(?:\.|\[dot\]|\(dot\))\s*[A-Za-z0-9-]+)*"
    r"\s*(?:\.|\[dot\]|\(dot\))\s*[A-Za-z]{2,24}",
)
MAX_IMPRINT_PAGES = 3
SECURITY_TXT_PATHS = ("/.well-known/security.txt", "/security.txt")


@dataclass(frozen=True)
class Contact:
    address: str  # an e-mail address, or a URL for web forms
    source: str  # imprint, contact_page, mailto, security_txt, abuse_mailbox
    found_at: str  # the URL it was read from

    @property
    def is_email(self) -> bool:
        return "@" in self.address and "://" not in self.address


@dataclass
class ContactDiscovery:
    site: str
    contacts: list[Contact] = field(default_factory=list)
    imprint_url: str | None = None
    imprint_text: str | None = None

    @property
    def best_email(self) -> str | None:
        return next((c.address for c in self.contacts if c.is_email), None)

    def add(self, contact: Contact) -> None:
        if all(c.address.lower() != contact.address.lower() for c in self.contacts):
            self.contacts.append(contact)


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.chunks: list[str] = []
        self._href: str | None = None
        self._link_text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "a":
            self._href = dict(attrs).get("href")
            self._link_text = []
        elif tag in ("br", "p", "div", "li", "tr", "address"):
            self.chunks.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join(self._link_text).strip()))
            self._href = None

    def handle_data(self, data):
        if self._skip:
            return
        self.chunks.append(data)
        if self._href is not None:
            self._link_text.append(data.strip())


@dataclass(frozen=True)
class ParsedPage:
    url: str
    links: list[tuple[str, str]]  # (absolute URL, link text)
    text: str


def parse_page(page: FetchedPage) -> ParsedPage:
    parser = _PageParser()
    parser.feed(page.text)
    parser.close()
    links = [(urljoin(page.url, href.strip()), text) for href, text in parser.links]
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parser.chunks))
    return ParsedPage(page.url, links, re.sub(r"\n\s*\n+", "\n", text).strip())


def normalise_email(raw: str) -> str | None:
    """`name [at] example [dot] de` → `name@example.de`; None if it is no address after all."""
    text = re.sub(r"\s*(?:\[at\]|\(at\)|\s+at\s+)\s*", "@", raw.strip(), flags=re.IGNORECASE)
    text = re.sub(r"\s*(?:\[dot\]|\(dot\))\s*", ".", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*([@.])\s*", r"\1", text)
    local, _, domain = text.partition("@")
    if not local or not domain or "." not in domain:
        return None
    try:
        return f"{local}@{normalise_domain(domain)}"
    except ValueError:
        return None


def emails_in(text: str) -> list[str]:
    found = []
    for match in EMAIL.finditer(text):
        email = normalise_email(match.group(0))
        if email and email not in found:
            found.append(email)
    return found


def mailtos(page: ParsedPage) -> list[str]:
    found = []
    for href, _ in page.links:
        if href.lower().startswith("mailto:"):
            email = normalise_email(unquote(href[7:].split("?", 1)[0]))
            if email and email not in found:
                found.append(email)
    return found


def imprint_links(page: ParsedPage) -> list[str]:
    """Links on the same site whose text or path reads like the imprint or contact page, imprint first."""
    host = urlsplit(page.url).hostname
    scored = []
    for href, text in page.links:
        parts = urlsplit(href)
        if parts.scheme not in ("http", "https") or parts.hostname != host:
            continue
        words = f"{text} {unquote(parts.path)}"
        match = IMPRINT_WORDS.search(words)
        if match:
            is_contact_only = match.group(0).lower() in ("contact", "kontakt", "お問い合わせ")
            url = href.split("#", 1)[0]
            if url not in (u for _, u in scored):
                scored.append((1 if is_contact_only else 0, url))
    return [url for _, url in sorted(scored, key=lambda item: item[0])]


@dataclass(frozen=True)
class SecurityTxt:
    contacts: list[str]  # as written: mailto:, https:, tel:
    expires: datetime | None

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires is not None and self.expires <= (now or datetime.now(timezone.utc))


def parse_security_txt(text: str) -> SecurityTxt:
    """RFC 9116 fields that matter here (Contact, Expires); an OpenPGP-signed file reads the same."""
    contacts: list[str] = []
    expires = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("- "):  # dash-escaped lines of a cleartext signature
            line = line[2:]
        name, sep, value = line.partition(":")
        if not sep or line.startswith("#"):
            continue
        name, value = name.strip().lower(), value.strip()
        if name == "contact" and value:
            contacts.append(value)
        elif name == "expires":
            try:
                expires = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                expires = None
    return SecurityTxt(contacts, expires)


def _security_txt_contacts(origin: str, fetch: Fetch, discovery: ContactDiscovery) -> None:
    for path in SECURITY_TXT_PATHS:
        page = fetch(origin + path)
        if page is None:
            continue
        parsed = parse_security_txt(page.text)
        if not parsed.contacts or parsed.expired():
            continue
        for value in parsed.contacts:
            if value.lower().startswith("mailto:"):
                email = normalise_email(unquote(value[7:]))
                if email:
                    discovery.add(Contact(email, "security_txt", page.url))
            elif value.lower().startswith("https://"):
                discovery.add(Contact(value, "security_txt", page.url))
        return


def _origin(site_url: str) -> str:
    parts = urlsplit(site_url if "://" in site_url else f"https://{site_url}")
    return f"{parts.scheme}://{parts.netloc}"


def discover_contacts(site_url: str, fetch: Fetch) -> ContactDiscovery:
    """The operator's contacts: imprint and contact pages, mailto links, then security.txt."""
    origin = _origin(site_url)
    discovery = ContactDiscovery(origin)
    home = fetch(origin + "/")
    if home is not None:
        parsed_home = parse_page(home)
        for url in imprint_links(parsed_home)[:MAX_IMPRINT_PAGES]:
            page = fetch(url)
            if page is None:
                continue
            parsed = parse_page(page)
            is_imprint = discovery.imprint_text is None and not re.search(r"contact|kontakt|お問い合わせ", url, re.IGNORECASE)
            if is_imprint:
                discovery.imprint_url, discovery.imprint_text = page.url, parsed.text
            source = "imprint" if is_imprint else "contact_page"
            for email in mailtos(parsed) + emails_in(parsed.text):
                discovery.add(Contact(email, source, page.url))
        for email in mailtos(parsed_home) + emails_in(parsed_home.text):
            discovery.add(Contact(email, "mailto", home.url))
    _security_txt_contacts(origin, fetch, discovery)
    return discovery


def abuse_contacts(provider: str, fetch: Fetch) -> ContactDiscovery:
    """Where a hosting provider or platform takes takedown notices: its security.txt, the addresses
    on its pages that name abuse, and the RFC 2142 `abuse@` mailbox as the last resort."""
    origin = _origin(provider)
    discovery = ContactDiscovery(origin)
    _security_txt_contacts(origin, fetch, discovery)
    home = fetch(origin + "/")
    if home is not None:
        parsed = parse_page(home)
        for email in mailtos(parsed) + emails_in(parsed.text):
            if re.search(r"abuse|dmca|copyright|legal", email, re.IGNORECASE):
                discovery.add(Contact(email, "mailto", home.url))
    discovery.add(Contact(f"abuse@{normalise_domain(origin)}", "abuse_mailbox", origin))
    return discovery
