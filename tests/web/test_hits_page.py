"""The Hits page in a real browser against a real stack: hits seeded through the domain code
(the registered image and the copy in the stack's IPFS store), grouped, compared side by side and
as an overlay, triaged one by one and in bulk, a domain whitelisted; the empty state says what
to do next; accessible, readable at 360 px and in dark mode."""

from __future__ import annotations

import hashlib
import re

import pytest
from playwright.sync_api import expect

from backend.config import load_settings
from backend.crawler.frontier import now
from backend.crawler.models import Hit
from backend.models import Registration
from backend.services import Services
from tests.web.conftest import check_page
from tests.web.test_webapp import dev_account
from tests.images import jpeg

OWNER = dev_account(7)


@pytest.fixture(scope="module")
def seeded(stack):
    """Two hits on copier.de and one on friend.test of one registration of OWNER."""
    services = Services(load_settings(environ=stack.env))
    original = jpeg(7)
    reg_id = "0x" + hashlib.sha256(original).hexdigest()
    with services.db.session() as db:
        db.merge(Registration(id=reg_id, owner=OWNER.address, phash="0" * 16, cid=services.store.add(original),
                              registered_at=1, tx_hash="0x" + "ab" * 32, block_number=1))
        for i, host in enumerate(("copier.de", "copier.de", "friend.test")):
            copy = jpeg(7 + 100 * i)
            db.add(Hit(registration_id=reg_id, owner=OWNER.address, page_url=f"https://{host}/page{i}",
                       image_url=f"https://{host}/img{i}.jpg", domain=host,
                       image_sha256="0x" + hashlib.sha256(copy).hexdigest(), match="perceptual", kind="copy",
                       score=0.9, status="active", copy_cid=services.store.add(copy),
                       evidence_cid=services.store.add(b"WARC/1.1\r\n"), evidence_sha256="0" * 64,
                       found_at=now(), last_seen_at=now()))
    services.close()
    return reg_id


def sign_in(page) -> None:
    page.get_by_role("button", name="Connect Test Wallet").click()
    page.get_by_role("button", name="Sign in with Ethereum").click()


def test_hits_page__empty_state_says_what_to_do(open_page):
    page = open_page("/hits", account=dev_account(8).address)
    sign_in(page)
    expect(page.get_by_role("heading", name="No hits here")).to_be_visible()
    expect(page.get_by_text("Watch a site you suspect")).to_be_visible()
    check_page(page, "hits-empty")


def test_hits_page__compare_triage_bulk_and_whitelist(open_page, seeded):
    page = open_page("/hits", account=OWNER.address)
    expect(page.get_by_role("heading", name="Connect your wallet to see your hits")).to_be_visible()
    sign_in(page)
    group = page.get_by_role("button", name="— 3 hits, 3 new")
    group.click()
    expect(page.get_by_role("img", name="The copy found on copier.de")).to_have_count(2)
    expect(page.get_by_role("img", name="Your registered image").first).to_be_visible()
    slider = page.get_by_label("Overlay: registered ← → copy").first
    slider.focus()
    slider.press("ArrowRight")
    expect(slider).to_have_value("51")
    expect(page.get_by_role("link", name="WARC evidence of copier.de").first).to_be_visible()
    check_page(page, "hits")

    # One verdict: the hit leaves the "new" view.
    first = page.get_by_role("listitem", name="hit 1 on copier.de")
    first.get_by_role("button", name="Unsure").click()
    expect(page.get_by_role("status")).to_have_text("1 hit marked unsure.")
    expect(page.get_by_role("button", name="— 2 hits, 2 new")).to_be_visible()

    # Whitelist friend.test from its card, then mark every remaining new hit illegal in bulk.
    page.get_by_role("button", name="Whitelist friend.test").click()
    expect(page.get_by_role("status")).to_have_text("friend.test is whitelisted: 1 hit(s) are now legal.")
    expect(page.get_by_role("button", name="— 1 hit, 1 new")).to_have_attribute("aria-expanded", "true")
    page.get_by_label("All 1 matching the filter").check()
    page.get_by_role("button", name="Mark 1 illegal").click()
    expect(page.get_by_role("status")).to_have_text("1 hit marked illegal.")
    expect(page.get_by_role("heading", name="No hits here")).to_be_visible()

    page.get_by_role("combobox", name="Verdict").select_option("illegal")
    expect(page.get_by_role("button", name="— 1 hit, 0 new")).to_have_attribute("aria-expanded", "true")
    card = page.get_by_role("listitem", name="hit 2 on copier.de")
    expect(card.get_by_text("verdict: illegal")).to_be_visible()
    page.emulate_media(color_scheme="dark")
    check_page(page, "hits-dark")
    # An illegal hit leads to opening a case against its site, with the image and the domain filled in.
    card.get_by_role("link", name="Open a case against copier.de").click()
    expect(page.get_by_label("Site (domain)")).to_have_value("copier.de")
    expect(page.get_by_label("Registration id of the image")).to_have_value(re.compile(r"^0x[0-9a-f]{64}$"))


def test_hits_page__a_group_larger_than_a_page__shows_the_rest_on_request(open_page, stack):
    owner = dev_account(9)
    services = Services(load_settings(environ=stack.env))
    original, copy = jpeg(8), jpeg(108)
    reg_id = "0x" + hashlib.sha256(original).hexdigest()
    with services.db.session() as db:
        db.merge(Registration(id=reg_id, owner=owner.address, phash="0" * 16, cid=services.store.add(original),
                              registered_at=1, tx_hash="0x" + "cd" * 32, block_number=1))
        copy_cid = services.store.add(copy)
        db.add_all(Hit(registration_id=reg_id, owner=owner.address, page_url=f"https://mass.example/page{i}",
                       image_url=f"https://mass.example/img{i}.jpg", domain="mass.example",
                       image_sha256="0x" + hashlib.sha256(copy).hexdigest(), match="perceptual", kind="copy",
                       score=0.9, status="active", copy_cid=copy_cid, found_at=now(), last_seen_at=now())
                   for i in range(105))
    services.close()
    page = open_page("/hits", account=owner.address)
    sign_in(page)
    page.get_by_role("button", name="— 105 hits, 105 new").click()
    cards = page.locator("ul.hit-list > li")
    expect(cards).to_have_count(100)
    page.get_by_role("button", name="Show more (100 of 105 shown)").click()
    expect(cards).to_have_count(105)
    expect(page.get_by_role("button", name=re.compile("^Show more"))).to_have_count(0)
