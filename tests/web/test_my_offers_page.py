"""A rights-holder's licence offers in a real browser against the whole stack: the owner registers
a photograph with the CLI, publishes an offer for it from the page (signed for real in the wallet,
no gas), sees it in their list and in the public book, cancels it with a transaction, and is told
plainly when there is nothing to withdraw."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from playwright.sync_api import expect

from tests.images import jpeg
from tests.web.conftest import check_page
from tests.web.test_buyer_pages import DAY, FINAL, advance, cli
from tests.web.test_webapp import dev_account

OWNER = dev_account(7)


@pytest.fixture(scope="module")
def registration(stack, tmp_path_factory):
    """OWNER's photograph, registered with the CLI and out of its claim window."""
    path = tmp_path_factory.mktemp("owner-photos") / "glacier.jpg"
    path.write_bytes(jpeg(401, size=(640, 480)))
    cli(stack, OWNER, "register", str(path), "--collection", "Glaciers")
    advance(stack, 2 * DAY)
    return "0x" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_owner__publishes_an_offer__sees_it_in_the_book__cancels_it(open_page, stack, registration):
    page = open_page("/offers/mine", account=OWNER.address)
    page.get_by_role("button", name="Connect Test Wallet").click()
    page.get_by_role("button", name="Sign in with Ethereum").click()
    expect(page.get_by_text("No live offer.")).to_be_visible()

    page.get_by_label("Image").select_option(registration)
    page.get_by_label("Price").fill("0.02")
    page.get_by_label("Licence type").select_option("editorial")
    page.get_by_label("Countries (ISO codes separated by commas; empty: worldwide)").fill("de, at")
    page.get_by_label("How many licences to sell").fill("3")
    page.evaluate("window.__wallet.reject.add('eth_signTypedData_v4')")
    page.get_by_role("button", name="Sign and publish").click()
    expect(page.get_by_role("alert")).to_contain_text("You rejected the request in your wallet")
    page.get_by_role("button", name="Sign and publish").click()
    expect(page.get_by_role("status").filter(has_text="Published")).to_have_text(
        "Published: buyers find the offer in the marketplace now.")
    row = page.get_by_role("row").filter(has_text="0.02 ETH")
    expect(row).to_contain_text("0 of 3")
    book = httpx.get(stack.url + "/api/v1/offers", params={"owner": OWNER.address}).json()["offers"]
    assert [(o["registration_id"], o["price"], o["licence_type"], o["max_sales"]) for o in book] == [
        (registration, str(2 * 10**16), "editorial", 3)]
    check_page(page, "my-offers")

    row.get_by_role("button").click()
    expect(page.get_by_text("Cancelled: the offer left the marketplace.")).to_be_visible(timeout=FINAL)
    expect(page.get_by_text("No live offer.")).to_be_visible(timeout=FINAL)
    assert httpx.get(stack.url + "/api/v1/offers", params={"owner": OWNER.address}).json()["offers"] == []

    expect(page.get_by_test_id("credit-market-ETH")).to_have_text("0 ETH")
    expect(page.get_by_role("button", name="Nothing to withdraw in ETH")).to_be_disabled()
