"""Contact discovery over a real local site: imprint, contact page, mailto, security.txt."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backend.enforcement.contacts import (
    FetchedPage,
    abuse_contacts,
    discover_contacts,
    emails_in,
    imprint_links,
    parse_page,
    parse_security_txt,
)
from backend.enforcement.country import country_from_address
from tests.enforcement.sites import Site, fetch

HTML = "text/html; charset=utf-8"


def test_discover_contacts__reads_imprint_contact_page_mailto_and_security_txt():
    pages = {
        "/": (HTML, '<a href="/kontakt">Kontakt</a> <a href="/impressum">Impressum</a>'
                    '<a href="mailto:shop@beispiel.test?subject=Hi">Mail</a>'),
        "/impressum": (HTML, "<h1>Impressum</h1><p>Beispiel GmbH</p><p>Musterstraße 1, 10115 Berlin, Deutschland</p>"
                             "<p>E-Mail: recht [at] beispiel [dot] test</p><script>var x='js@nowhere.test'</script>"),
        "/kontakt": (HTML, "<p>Schreiben Sie an service@beispiel.test</p>"),
        "/.well-known/security.txt": ("text/plain", "Contact: mailto:security@beispiel.test\nExpires: 2999-01-01T00:00:00Z\n"),
    }
    with Site(pages) as site:
        found = discover_contacts(site.origin + "/some/page.html", fetch)
    assert [(c.address, c.source) for c in found.contacts] == [
        ("recht@beispiel.test", "imprint"),
        ("service@beispiel.test", "contact_page"),
        ("shop@beispiel.test", "mailto"),
        ("security@beispiel.test", "security_txt"),
    ]
    assert found.best_email == "recht@beispiel.test"
    assert found.imprint_url.endswith("/impressum")
    assert country_from_address(found.imprint_text).country == "DE"


def test_discover_contacts__on_a_site_without_any__finds_nothing():
    with Site({"/": (HTML, "<p>just pictures</p>")}) as site:
        found = discover_contacts(site.origin, fetch)
    assert found.contacts == [] and found.best_email is None and found.imprint_text is None


def test_imprint_links__stay_on_the_site_and_put_the_imprint_first():
    page = parse_page(FetchedPage("https://shop.test/", '<a href="/contact">Contact us</a>'
                                  '<a href="https://other.test/impressum">Impressum</a>'
                                  '<a href="/legal-notice#top">Legal notice</a><a href="/会社概要">会社概要</a>'))
    assert imprint_links(page) == ["https://shop.test/legal-notice", "https://shop.test/会社概要", "https://shop.test/contact"]


@pytest.mark.parametrize(
    ("text", "emails"),
    [
        ("write to info@shop.example.de or sales(at)shop(dot)example(dot)de", ["info@shop.example.de", "sales@shop.example.de"]),
        ("Mail: kontakt [at] beispiel [dot] de.", ["kontakt@beispiel.de"]),
        ("no address @ all here", []),
    ],
)
def test_emails_in__reads_plain_and_obfuscated_addresses(text, emails):
    assert emails_in(text) == emails


def test_parse_security_txt__reads_contacts_and_expiry_of_a_signed_file():
    signed = ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n# our policy\nContact: mailto:abuse@host.test\n"
              "Contact: https://host.test/report\nExpires: 2020-01-01T00:00:00.000Z\n-----BEGIN PGP SIGNATURE-----\nxyz\n")
    parsed = parse_security_txt(signed)
    assert parsed.contacts == ["mailto:abuse@host.test", "https://host.test/report"]
    assert parsed.expired(datetime(2026, 1, 1, tzinfo=timezone.utc))


def test_abuse_contacts__prefer_security_txt_then_abuse_addresses_then_the_abuse_mailbox():
    pages = {
        "/": (HTML, '<a href="mailto:sales@hoster.test">Sales</a> Copyright complaints: dmca@hoster.test'),
        "/.well-known/security.txt": ("text/plain", "Contact: mailto:cert@hoster.test\n"),
    }
    with Site(pages) as site:
        found = abuse_contacts(site.origin, fetch)
    assert [(c.address, c.source) for c in found.contacts] == [
        ("cert@hoster.test", "security_txt"),
        ("dmca@hoster.test", "mailto"),
        ("abuse@127.0.0.1", "abuse_mailbox"),
    ]


def test_abuse_contacts__skip_an_expired_security_txt():
    pages = {"/.well-known/security.txt": ("text/plain", "Contact: mailto:old@hoster.test\nExpires: 2001-01-01T00:00:00Z\n")}
    with Site(pages) as site:
        found = abuse_contacts(site.origin, fetch)
    assert [c.source for c in found.contacts] == ["abuse_mailbox"]
