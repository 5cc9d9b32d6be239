"""Domain names as licences record them: `normalise_domain` and `domain_hash`."""

import pytest
from eth_utils import keccak

from backend.marketplace.typed_data import domain_hash, normalise_domain


@pytest.mark.parametrize(
    "given, recorded",
    [
        ("example.com", "example.com"),
        ("  Example.COM.  ", "example.com"),
        ("https://Shop.Example/page?x=1#top", "shop.example"),
        ("http://user:secret@shop.example:8080/a", "shop.example"),
        ("shop.example:443", "shop.example"),
        ("//cdn.example/img.jpg", "cdn.example"),
        ("ftp://files.example", "files.example"),
        ("Bücher.Example", "xn--bcher-kva.example"),
        ("https://münchen.de./stadt", "xn--mnchen-3ya.de"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("my_site.example", "my_site.example"),
    ],
)
def test_normalise_domain__keeps_only_the_host_in_ascii_lower_case(given, recorded):
    assert normalise_domain(given) == recorded


def test_domain_hash__is_the_keccak_of_the_normalised_host():
    assert domain_hash("https://Bücher.example:443/x") == keccak(text="xn--bcher-kva.example")
    assert domain_hash("EXAMPLE.com.") == domain_hash("example.com")


@pytest.mark.parametrize(
    "given, message",
    [
        ("", "names no host"),
        ("https:///path", "names no host"),
        ("http://[::1", "is not a domain name or URL"),
        ("exa mple.com", "is not a domain name"),
        ("a..b", "is not a domain name"),
        ("-bad.example", "is not a domain name"),
        ("*.example.com", "is not a domain name"),
        ("bü\u200dcher.example", "not a valid internationalised domain name"),
    ],
)
def test_normalise_domain__malformed__raises_with_the_input(given, message):
    with pytest.raises(ValueError, match=message):
        normalise_domain(given)
