"""What a page links to and which images it shows, from every place HTML can put an image."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.sax.saxutils import unescape

from selectolax.lexbor import LexborHTMLParser

from backend.crawler.urls import BadUrl, normalise

IMAGE_EXTENSIONS = re.compile(r"\.(jpe?g|png|gif|webp|avif|bmp|tiff?)$", re.IGNORECASE)
CSS_URL = re.compile(r"background(?:-image)?\s*:[^;]*?url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", re.IGNORECASE)
LAZY_SRC = ("data-src", "data-lazy-src", "data-original")
LAZY_SRCSET = ("data-srcset", "data-lazy-srcset")
META_IMAGE = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")


@dataclass
class PageLinks:
    links: list[str] = field(default_factory=list)  # pages to crawl
    images: list[str] = field(default_factory=list)  # image URLs, in page order, once each
    nofollow: bool = False  # <meta name="robots" content="nofollow">


def largest_candidate(srcset: str) -> str | None:
    """The srcset candidate with the largest width (`800w`) or density (`2x`); a srcset mixes
    the two only by mistake, and then a density wins."""
    best, best_size = None, -1.0
    for candidate in srcset.split(","):
        bits = candidate.strip().split()
        if not bits:
            continue
        size = 1.0
        if len(bits) > 1 and bits[1][:-1].replace(".", "", 1).isdigit():
            size = float(bits[1][:-1]) * (1 if bits[1].endswith("w") else 10_000)
        if size > best_size:
            best, best_size = bits[0], size
    return best


def extract(html: bytes | str, page_url: str) -> PageLinks:
    tree = LexborHTMLParser(html if isinstance(html, str) else html.decode("utf-8", "replace"))
    base = page_url
    for node in tree.css("base[href]"):
        base = _absolute(node.attributes.get("href") or "", page_url) or page_url
        break
    found = PageLinks()
    images: dict[str, None] = {}
    links: dict[str, None] = {}

    def image(raw: str | None) -> None:
        if raw and not raw.strip().startswith("data:"):
            url = _absolute(raw, base)
            if url:
                images.setdefault(url)

    for meta in tree.css("meta[name=robots]"):
        if "nofollow" in (meta.attributes.get("content") or "").lower():
            found.nofollow = True
    for node in tree.css("img, source"):
        attributes = node.attributes
        for name in ("srcset", *LAZY_SRCSET):
            if attributes.get(name):
                image(largest_candidate(attributes[name]))
        for name in ("src", *LAZY_SRC):
            if node.tag == "img" or name != "src":
                image(attributes.get(name))
    for node in tree.css("noscript"):
        # Parsers with scripting on keep <noscript> as text: parse it again to reach its images.
        inner = node.text(deep=True) or ""
        if "<" in inner:
            for url in extract(inner, base).images:
                images.setdefault(url)
    for meta in tree.css("meta[property], meta[name]"):
        key = (meta.attributes.get("property") or meta.attributes.get("name") or "").lower()
        if key in META_IMAGE:
            image(meta.attributes.get("content"))
    for node in tree.css("link[rel]"):
        if "image_src" in (node.attributes.get("rel") or "").lower().split():
            image(node.attributes.get("href"))
    for node in tree.css("[style]"):
        for raw in CSS_URL.findall(node.attributes.get("style") or ""):
            image(raw)
    for node in tree.css("style"):
        for raw in CSS_URL.findall(node.text() or ""):
            image(raw)
    for node in tree.css("a[href], area[href]"):
        rel = (node.attributes.get("rel") or "").lower().split()
        url = _absolute(node.attributes.get("href") or "", base)
        if not url:
            continue
        if IMAGE_EXTENSIONS.search(url.split("?", 1)[0]):
            images.setdefault(url)
        elif "nofollow" not in rel:
            links.setdefault(url)
    found.images = list(images)
    found.links = [] if found.nofollow else list(links)
    return found


def _absolute(raw: str, base: str) -> str | None:
    try:
        return normalise(raw, base)
    except BadUrl:
        return None


def sitemap_urls(xml: bytes) -> tuple[list[str], list[str]]:
    """(page URLs, nested sitemap URLs) of a sitemap or sitemap index; tolerant of bad XML."""
    text = xml.decode("utf-8", "replace")
    locs = [unescape(m.strip()) for m in re.findall(r"<loc>\s*(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?\s*</loc>", text, re.S)]
    if re.search(r"<sitemapindex[\s>]", text):
        return [], locs
    return locs, []
