"""My sites in a real browser against a real stack: a rights-holder watches sites and stops, sees
the images the crawler catalogued on their own site (registered ones marked), chooses one to add
to My images (the site is fetched by the crawler, whose refusal is shown), gives a site up,
allows a domain and stops; another wallet sees none of it; accessible and readable at 360 px.

Every address here is a literal 127.x IP: the stack's crawler refuses loopback addresses by
default, before any connection or DNS look-up, so nothing leaves the machine."""

from __future__ import annotations

import hashlib

import pytest
from playwright.sync_api import expect

from backend.config import load_settings
from backend.crawler.frontier import now, shape_key
from backend.crawler.models import CrawlEmbed, CrawlHost, CrawlImage, CrawlPrint, CrawlUrl, OwnDomain
from backend.crawler.urls import url_hash
from backend.matching import fingerprint
from backend.models import Registration
from backend.services import Services
from tests.images import jpeg
from tests.web.conftest import check_page
from tests.web.test_hits_page import sign_in
from tests.web.test_webapp import dev_account

OWNER = dev_account(7)
SITE = "http://127.0.0.9"


@pytest.fixture(scope="module")
def catalogued(stack):
    """OWNER's own site 127.0.0.9 as the crawler left it: one page with a registered image of
    OWNER's and one not registered; its page is not due for years."""
    services = Services(load_settings(environ=stack.env))
    registered, other = jpeg(21), jpeg(22)
    with services.db.session() as db:
        db.add(Registration(id="0x" + hashlib.sha256(registered).hexdigest(), owner=OWNER.address, phash="0" * 16,
                            cid=services.store.add(registered), registered_at=1, tx_hash="0x" + "ab" * 32,
                            block_number=1))
        host = CrawlHost(origin=SITE, next_fetch_at=now(), page_urls=1)
        db.add(host)
        db.flush()
        page = CrawlUrl(url_hash=url_hash(f"{SITE}/"), url=f"{SITE}/", host_id=host.id, kind="page", depth=0,
                        shape=shape_key(f"{SITE}/"), status="done", next_crawl_at=now().replace(year=now().year + 5))
        db.add(page)
        db.flush()
        for name, data in (("sunrise.jpg", registered), ("unregistered.jpg", other)):
            sha = "0x" + hashlib.sha256(data).hexdigest()
            image = CrawlImage(url_hash=url_hash(f"{SITE}/{name}"), url=f"{SITE}/{name}", sha256=sha)
            db.add(image)
            db.add(CrawlPrint(sha256=sha, fingerprint=fingerprint(data).to_bytes(), width=320, height=240))
            db.flush()
            db.add(CrawlEmbed(page_url_id=page.id, image_id=image.id))
        db.add(OwnDomain(owner=OWNER.address, domain="127.0.0.9", portfolio_url=f"{SITE}/"))
    services.close()


def test_sites_page__watch__own_sites_catalogue__allowed_domains(open_page, catalogued):
    page = open_page("/sites", account=OWNER.address)
    expect(page.get_by_text("Connect your wallet with the button at the top of the page")).to_be_visible()
    sign_in(page)
    expect(page.get_by_role("heading", name="My sites", level=1)).to_be_visible()
    expect(page.get_by_text("You watch no site yet.")).to_be_visible()

    # Watch two places, then stop watching one.
    watch = page.get_by_role("region", name="Sites you watch")
    for url, scope in (("http://127.0.0.7/gallery", "the whole site"), ("http://127.0.0.8/one", "this page only")):
        watch.get_by_label("Page or site to watch").fill(url)
        watch.get_by_role("combobox").select_option(label=scope)
        watch.get_by_role("button", name="Watch", exact=True).click()
        expect(watch.get_by_role("button", name=f"Stop watching {url}")).to_be_visible()
    expect(watch.get_by_text("(this page only since")).to_be_visible()
    watch.get_by_label("Page or site to watch").fill("ftp://127.0.0.7/")
    watch.get_by_role("button", name="Watch", exact=True).click()
    expect(watch.get_by_role("alert")).to_contain_text("http")
    watch.get_by_role("button", name="Stop watching http://127.0.0.7/gallery").click()
    expect(watch.get_by_role("status")).to_have_text("You no longer watch http://127.0.0.7/gallery.")
    expect(watch.get_by_role("button", name="Stop watching http://127.0.0.7/gallery")).to_have_count(0)
    expect(watch.get_by_role("button", name="Stop watching http://127.0.0.8/one")).to_be_visible()

    # The own site's catalogue: the registered image marked, the other waiting for registration.
    own = page.get_by_role("region", name="Your own sites")
    own.get_by_role("button", name="Images found on 127.0.0.9").click()
    catalogue = own.get_by_label("Images found on 127.0.0.9")
    expect(catalogue).to_contain_text("2 images found; of those shown, 1 not registered yet")
    expect(catalogue.get_by_role("listitem").filter(has_text="sunrise.jpg")).to_contain_text("registered (0x")
    expect(catalogue.get_by_role("listitem").filter(has_text="unregistered.jpg")).to_contain_text("not registered")
    add = catalogue.get_by_role("button", name="Add 0 chosen to My images")
    expect(add).to_be_disabled()
    catalogue.get_by_label("Add unregistered.jpg to My images").check()
    check_page(page, "sites")
    # The stack's crawler refuses loopback addresses: the image is fetched by it, so it says why.
    catalogue.get_by_role("button", name="Add 1 chosen to My images").click()
    expect(catalogue.get_by_role("alert")).to_contain_text(
        "0 images added to My images, ready to register. Not added: http://127.0.0.9/unregistered.jpg: ")

    # Another site of one's own, then give the first one up: copies there become hits.
    own.get_by_label("Your site").fill("http://127.0.0.10/")
    own.get_by_role("button", name="Add my site").click()
    expect(own.get_by_role("button", name="Not my site: 127.0.0.10")).to_be_visible()
    own.get_by_role("button", name="Not my site: 127.0.0.9").click()
    expect(own.get_by_role("status")).to_contain_text("127.0.0.9 is no longer your own site")
    expect(own.get_by_role("button", name="Not my site: 127.0.0.9")).to_have_count(0)

    # Allow a partner's domain, then stop.
    allowed = page.get_by_role("region", name="Domains you allow")
    allowed.get_by_label("Domain to allow").fill("partner.example")
    allowed.get_by_role("button", name="Allow", exact=True).click()
    expect(allowed.get_by_role("button", name="Stop allowing partner.example")).to_be_visible()
    allowed.get_by_role("button", name="Stop allowing partner.example").click()
    expect(allowed.get_by_text("You allow no domain.")).to_be_visible()

    # Another wallet sees none of it.
    other = open_page("/sites", account=dev_account(8).address)
    sign_in(other)
    expect(other.get_by_text("You watch no site yet.")).to_be_visible()
    expect(other.get_by_text("You have recorded no site of your own.")).to_be_visible()
