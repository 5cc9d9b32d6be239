"""The rights-holder's cases in a real browser against the whole stack: a case opened on the
stack's own chain and database with the enforcement tests' helpers, for an owner whose wallet is
one of anvil's dev accounts; the owner signs in, finds the case, reads its claim and timeline,
writes in the conversation, holds and resumes it. Another wallet never sees it."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.test_stack import Stack
from tests.enforcement.sites import Site
from tests.images import jpeg
from tests.web.conftest import check_page
from tests.web.test_buyer_pages import cli
from tests.web.test_respond_page import seeded_case
from tests.web.test_webapp import dev_account

OWNER = dev_account(7)
STRANGER = dev_account(8)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("cases-stack"))
    # the infringing site of the last test is a real server on 127.0.0.1, fetched by the stack itself
    stack.env.update(COPYTRACK_CRAWLER_ALLOW_NETWORKS="127.0.0.0/8", COPYTRACK_CRAWLER_DELAY="0.05",
                     COPYTRACK_CRAWLER_ENABLED="false")
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def case(stack):
    """OWNER's registered image with a mandate and an open case (0.15 ETH claimed), in the stack's database."""
    return seeded_case(stack, seed=151, owner=OWNER)


def sign_in(page) -> None:
    page.get_by_role("button", name="Connect Test Wallet").click()
    page.get_by_role("button", name="Sign in with Ethereum").click()


def test_owner__finds_the_case__reads_it__writes__holds_and_resumes(open_page, case):
    setup, opened = case
    page = open_page("/cases", account=OWNER.address)
    expect(page.get_by_role("heading", name="Cases")).to_be_visible()
    sign_in(page)
    row = page.get_by_role("row").filter(has_text=opened.public_code)
    expect(row).to_contain_text("shop.beispiel.de (DE)")
    expect(row).to_contain_text("1 · post-licensing letter")
    expect(row).to_contain_text("0.15 ETH")
    check_page(page, "cases")

    page.get_by_role("link", name=opened.public_code).click()
    expect(page.get_by_role("heading", name=f"Case {opened.public_code}")).to_be_visible()
    expect(page.get_by_test_id("stage")).to_have_text("1 · post-licensing letter")
    expect(page.get_by_test_id("status")).to_have_text("active")
    expect(page.get_by_role("link", name="https://shop.beispiel.de/blog/post")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="least you accept")).to_be_visible()
    letter = page.get_by_role("listitem").filter(has_text="SHA-256")
    expect(letter).to_contain_text("post licensing letter (de), SHA-256 ")  # in the recipient's language
    expect(page.get_by_role("button", name="Hold")).to_be_disabled()  # a hold needs its reason

    page.get_by_label("Your message").fill("Please check the imprint address before the invoice.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_have_text("Sent; the operator and the partner lawyer are told by mail.")
    expect(page.get_by_role("listitem").filter(has_text="Please check the imprint address")).to_contain_text("you")

    page.get_by_label("Reason (for hold and close)").fill("talking to the site owner directly")
    page.get_by_role("button", name="Hold").click()
    expect(page.get_by_test_id("status")).to_have_text("held")
    expect(page.get_by_role("listitem").filter(has_text="talking to the site owner directly")).to_be_visible()
    check_page(page, "case")

    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_test_id("status")).to_have_text("active")
    expect(page.get_by_role("button", name="Hold")).to_be_visible()


def test_another_wallet__sees_no_case__and_an_empty_state(open_page, case):
    _, opened = case
    page = open_page(f"/cases/{opened.case_id}", account=STRANGER.address, dark=True)
    sign_in(page)
    expect(page.get_by_role("alert")).to_have_text(f"There is no case {opened.case_id} of yours.")
    page.get_by_role("link", name="All your cases").click()
    expect(page.get_by_role("heading", name="No case yet")).to_be_visible()
    check_page(page, "cases-empty-dark")


def test_mandate__waits_for_the_server_to_name_its_chain(open_page):
    """Signed in, but /api/v1/status has not answered (a busy server): the wallet cannot sign for
    the app yet, so the button waits instead of failing with "connect your wallet"."""
    held = []
    page = open_page("/cases?registration=0x" + "ab" * 32 + "&domain=shop.example", account=OWNER.address,
                     prepare=lambda context: context.route("**/api/v1/status", lambda route: held.append(route)))
    sign_in(page)
    mandate = page.get_by_role("button", name="Sign the enforcement mandate")
    expect(page.get_by_text("Waiting for the server to name its chain…")).to_be_visible()
    expect(mandate).to_be_disabled()
    assert len(held) == 1
    held[0].continue_()
    expect(mandate).to_be_enabled()
    expect(page.get_by_text("Waiting for the server to name its chain…")).to_have_count(0)


def test_owner__signs_the_mandate_in_the_wallet__is_told_what_stops_a_case(open_page, stack, tmp_path):
    path = tmp_path / "fjord.jpg"
    path.write_bytes(jpeg(152, size=(640, 480)))
    cli(stack, OWNER, "register", str(path))
    registration = "0x" + hashlib.sha256(path.read_bytes()).hexdigest()
    page = open_page(f"/cases?registration={registration}&domain=shop.example", account=OWNER.address)
    sign_in(page)
    expect(page.get_by_label("Registration id of the image")).to_have_value(registration)  # as the Hits page links
    expect(page.get_by_label("Site (domain)")).to_have_value("shop.example")

    page.get_by_role("button", name="Sign the enforcement mandate").click()
    expect(page.get_by_role("status").filter(has_text="mandate")).to_have_text(
        "The mandate is signed and recorded on the settlement escrow: Copytrack may now claim for this image on your behalf.")
    page.get_by_role("button", name="Check and open the case").click()
    expect(page.get_by_role("alert")).to_contain_text("no hit marked illegal")
    check_page(page, "cases-open")


def test_owner__opens_a_case_past_every_check__the_first_letter_goes_out(open_page, stack, tmp_path):
    """The whole way in the app: an image registered and out of its claim window on the chain's
    clock (moved forward as `copytrack dev advance` does), offered at a price, a copy reported on a
    German site and marked illegal; the owner signs the mandate in the wallet, checks and opens."""
    path = tmp_path / "glacier.jpg"
    photo = jpeg(154, size=(640, 480))
    path.write_bytes(photo)
    cli(stack, OWNER, "register", str(path))
    registration = "0x" + hashlib.sha256(photo).hexdigest()
    assert stack.cli("dev", "advance", "2d").returncode == 0  # the chain now runs ahead of the wall clock
    cli(stack, OWNER, "offers", "publish", registration, "--price", "0.05ETH", "--type", "standard")
    copy = Image.open(io.BytesIO(photo)).resize((400, 300))
    buffer = io.BytesIO()
    copy.save(buffer, "JPEG", quality=85)
    pages = {
        "/blog/post": ("text/html", '<h1>Gletscher</h1><img src="/img/glacier.jpg"><a href="/impressum">Impressum</a>'),
        "/": ("text/html", '<a href="/blog/post">Blog</a> <a href="/impressum">Impressum</a>'),
        "/impressum": ("text/html", "<p>Beispiel GmbH</p><p>Musterstraße 1, 10115 Berlin, Deutschland</p>"
                                    "<p>recht@beispiel.test</p>"),
        "/img/glacier.jpg": ("image/jpeg", buffer.getvalue()),
    }
    with Site(pages) as site:
        reported = cli(stack, OWNER, "hits", "report", f"{site.origin}/blog/post", f"{site.origin}/img/glacier.jpg")
        hit_id = reported.split()[1]
        cli(stack, OWNER, "hits", "triage", "illegal", hit_id)
        page = open_page(f"/cases?registration={registration}&domain=127.0.0.1", account=OWNER.address)
        sign_in(page)
        page.get_by_role("button", name="Sign the enforcement mandate").click()
        expect(page.get_by_role("status").filter(has_text="mandate")).to_contain_text("recorded on the settlement escrow")
        opened = page.get_by_role("heading", name=re.compile(r"^Case CT-"))
        for _ in range(20):  # as a person would: the indexer records the new mandate a few blocks later
            page.get_by_role("button", name="Check and open the case").click()
            expect(page.get_by_role("button", name="Working…")).to_have_count(0, timeout=60_000)
            # opened (the case page, a render after the answer) or refused (the alert)
            expect(opened.or_(page.get_by_role("alert")).first).to_be_visible()
            if opened.is_visible():
                break
            expect(page.get_by_role("alert")).to_contain_text("the chain indexer has not recorded it yet")
            page.wait_for_timeout(1_000)
        expect(opened).to_be_visible()
    expect(page.get_by_test_id("stage")).to_have_text("1 · post-licensing letter")
    expect(page.get_by_test_id("status")).to_have_text("active")
    expect(page.get_by_text("recht@beispiel.test").first).to_be_visible()
    check_page(page, "case-opened")
