"""The investor's sale page in a real browser against the whole stack on anvil: an investor on
the operator's Merkle allow-list contributes (signed for real), is told plainly when a
contribution is above the maximum, and claims CPY after the sale is finalized; the vesting
schedules are drawn."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from backend.chain import artifacts
from backend.chain.client import connect
from tests.web.conftest import check_page
from tests.web.test_webapp import dev_account

INVESTOR, LATE_SWITCHER = dev_account(7), dev_account(6)
RATE = 1554  # CPY per ETH in the first tranche of `copytrack run`'s sale


def connect_wallet(page) -> None:
    page.get_by_role("button", name="Connect Test Wallet").click()


@pytest.fixture(scope="module")
def allow_list(stack, tmp_path_factory):
    """The operator's Merkle allow-list of both investors, published as `copytrack sale admin allowlist` does."""
    investors = tmp_path_factory.mktemp("sale") / "investors.csv"
    investors.write_text(f"address\n{INVESTOR.address}\n{LATE_SWITCHER.address}\n")
    allow_listed = stack.cli("sale", "admin", "allowlist", str(investors))
    assert allow_listed.returncode == 0, allow_listed.stderr


def test_investor_on_another_network__is_told_to_switch__then_contributes(open_page, allow_list):
    page = open_page("/sale", account=LATE_SWITCHER.address, chain_id=1)
    connect_wallet(page)
    page.get_by_label("Amount in ETH").fill("0.2")
    page.get_by_role("button", name="Contribute").click()
    expect(page.get_by_role("alert").filter(has_text="but this transaction is for chain 31337")).to_contain_text(
        "Switch the network with the button at the top, then try again.")
    page.get_by_role("button", name="Switch to Copytrack local chain").click()
    page.get_by_role("button", name="Contribute").click()
    expect(page.get_by_role("status").filter(has_text="Contributed 0.2 ETH")).to_be_visible()
    expect(page.get_by_test_id("contributed")).to_have_text("0.2 ETH")


def test_investor__contributes__above_maximum_refused__claims_after_finalization(open_page, stack, allow_list):
    page = open_page("/sale", account=INVESTOR.address)
    expect(page.get_by_text("Connect your wallet to see your allow-list status")).to_be_visible()
    # The vesting schedules are public: drawn before any wallet is connected, nothing releasable yet.
    expect(page.get_by_test_id("vesting-chart")).to_be_visible()
    expect(page.get_by_test_id("releasable-FoundersVesting")).to_have_text("0 CPY")
    assert page.get_by_test_id("vesting-chart").locator("path.series").count() == 2
    connect_wallet(page)
    expect(page.get_by_test_id("allow-list")).to_have_text(
        "you are on the allow-list (the operator's Merkle list; the API adds your proof where it is needed)")
    expect(page.get_by_test_id("allowance")).to_have_text("2,500 ETH (at least 0.1 ETH per purchase)")

    amount = page.get_by_label("Amount in ETH")
    amount.fill("2500.5")
    page.get_by_role("button", name="Contribute").click()
    expect(page.get_by_role("alert")).to_contain_text("2500.5 ETH is above")
    expect(page.get_by_role("alert")).to_contain_text("remaining allowance of 2500 ETH")

    amount.fill("1.5")
    page.evaluate("window.__wallet.reject.add('eth_sendTransaction')")
    page.get_by_role("button", name="Contribute").click()
    expect(page.get_by_role("alert")).to_contain_text("You rejected the request in your wallet")
    page.get_by_role("button", name="Contribute").click()
    expect(page.get_by_role("status").filter(has_text="Contributed 1.5 ETH")).to_be_visible()
    expect(page.get_by_test_id("contributed")).to_have_text("1.5 ETH")
    expect(page.get_by_test_id("allowance")).to_have_text("2,498.5 ETH (at least 0.1 ETH per purchase)")
    expect(page.get_by_test_id("owed")).to_have_text(f"{RATE * 3 // 2:,} CPY (claimable after the sale is finalized)")
    expect(page.get_by_test_id("allow-list")).to_contain_text("you are on the allow-list")
    check_page(page, "sale-investor")

    # The sale ends and is finalized (anyone may finalize after the closing time).
    assert stack.cli("dev", "advance", "31d").returncode == 0
    finalized = stack.cli("sale", "finalize")
    assert finalized.returncode == 0, finalized.stderr
    page.reload()
    expect(page.get_by_test_id("phase")).to_have_text("finalized")
    expect(page.get_by_test_id("contribute-blocked")).to_have_text("The sale is finalized; no more contributions.")
    page.get_by_role("button", name=f"Claim {RATE * 3 // 2:,} CPY").click()
    expect(page.get_by_role("status").filter(has_text=f"Claimed {RATE * 3 // 2:,} CPY")).to_be_visible()
    expect(page.get_by_test_id("owed")).to_have_text("0 CPY")
    expect(page.get_by_role("button", name="Claim")).to_have_count(0)

    status = httpx.get(stack.url + "/api/v1/status").json()
    w3 = connect(status["chain"]["rpc_url"])
    token = w3.eth.contract(address=status["contracts"]["CPYToken"], abi=artifacts.abi("CPYToken"))
    assert token.functions.balanceOf(INVESTOR.address).call() == RATE * 3 // 2 * 10**18
    check_page(page, "sale-claimed")


def test_sale_page__dark_colour_scheme__passes_axe(open_page):
    page = open_page("/sale", dark=True)
    expect(page.get_by_test_id("vesting-chart")).to_be_visible()
    check_page(page, "sale-dark")
