"""The crawler's small rules: one spelling per URL, trap shapes, srcset, address checks, Retry-After."""

from __future__ import annotations

import pytest

from backend.crawler.fetch import AddressPolicy, _retry_after
from backend.crawler.html import extract, largest_candidate
from backend.crawler.urls import BadUrl, normalise, shape


@pytest.mark.parametrize("raw, expected", [
    ("HTTP://Example.ORG:80/a/../b/?b=2&a=1#frag", "http://example.org/b/?a=1&b=2"),
    ("https://example.org:443", "https://example.org/"),
    ("https://example.org/p?utm_source=x&PHPSESSID=abc&id=7", "https://example.org/p?id=7"),
    ("https://example.org/p;jsessionid=ABC123?x=1", "https://example.org/p?x=1"),
    ("https://bücher.example/ä", "https://xn--bcher-kva.example/%C3%A4"),
    ("https://example.org/%7euser", "https://example.org/~user"),
])
def test_normalise__one_spelling_per_resource(raw, expected):
    assert normalise(raw) == expected


@pytest.mark.parametrize("raw", ["ftp://example.org/", "javascript:alert(1)", "http:///nohost", "http://[::1"])
def test_normalise__what_cannot_be_crawled__is_refused_with_a_reason(raw):
    with pytest.raises(BadUrl):
        normalise(raw)


def test_shape__calendar_pages_share_one():
    assert shape("http://a/cal/2031/05?day=3") == shape("http://a/cal/1999/12?day=28") != shape("http://a/blog/x")


def test_largest_candidate__widths_and_densities():
    assert largest_candidate("a.jpg 300w, b.jpg 1200w, c.jpg 800w") == "b.jpg"
    assert largest_candidate("a.jpg, b.jpg 2x") == "b.jpg"
    assert largest_candidate("") is None


def test_extract__nofollow_page__images_but_no_links():
    page = extract(b'<meta name="robots" content="noindex, nofollow"><a href="/x">x</a><img src="/i.png">',
                   "http://a.test/")
    assert page.links == [] and page.images == ["http://a.test/i.png"]


@pytest.mark.parametrize("address, refused", [
    ("8.8.8.8", None), ("2001:4860:4860::8888", None), ("127.0.0.1", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("192.168.0.1", "private"), ("fc00::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("224.0.0.1", "multicast"),
    ("0.0.0.0", "private"), ("100.64.0.1", "not-global"),
])
def test_address_policy__refuses_all_but_public_addresses(address, refused):
    assert AddressPolicy().refusal(address) == refused


def test_address_policy__allowed_networks_and_allow_private():
    assert AddressPolicy(["127.0.0.0/8"]).refusal("127.0.0.5") is None
    assert AddressPolicy(["127.0.0.0/8"]).refusal("10.0.0.1") == "private"
    assert AddressPolicy(allow_private=True).refusal("10.0.0.1") is None


def test_retry_after__seconds_or_http_date():
    assert _retry_after("120") == 120.0
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: now
    assert _retry_after("soon") is None and _retry_after(None) is None
