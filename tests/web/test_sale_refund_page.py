"""A missed soft cap in a real browser: the stack's sale is deployed with a soft cap (the setting
`local_sale_soft_cap`), an allow-listed investor contributes below it, the sale closes and is
finalized without reaching it, and the investor withdraws their refund from the sale page."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from backend.chain.client import connect
from tests.e2e.test_stack import Stack
from tests.web.conftest import check_page
from tests.web.test_webapp import dev_account

INVESTOR = dev_account(5)
FINAL = 40_000  # ms: a transaction is final two blocks (1 s each) after it


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("refund-stack"))
    stack.env.update(COPYTRACK_LOCAL_SALE_SOFT_CAP="100", COPYTRACK_CRAWLER_ENABLED="false")
    stack.start()
    investors = tmp_path_factory.mktemp("sale") / "investors.csv"
    investors.write_text(f"address\n{INVESTOR.address}\n")
    allow_listed = stack.cli("sale", "admin", "allowlist", str(investors))
    assert allow_listed.returncode == 0, allow_listed.stderr
    yield stack
    stack.stop()


def test_investor__soft_cap_missed__withdraws_the_refund(open_page, stack):
    page = open_page("/sale", account=INVESTOR.address)
    page.get_by_role("button", name="Connect Test Wallet").click()
    page.get_by_label("Amount in ETH").fill("0.5")
    page.get_by_role("button", name="Contribute").click()
    expect(page.get_by_role("status").filter(has_text="Contributed 0.5 ETH")).to_be_visible(timeout=FINAL)
    assert stack.cli("dev", "advance", "31d").returncode == 0
    finalized = stack.cli("sale", "finalize")
    assert finalized.returncode == 0, finalized.stderr
    sale = httpx.get(stack.url + "/api/v1/sale").json()
    assert sale["soft_cap"] == str(100 * 10**18) and sale["finalized"] is True

    page.reload()
    expect(page.get_by_test_id("phase")).to_have_text("finalized")
    expect(page.get_by_test_id("owed")).to_contain_text("the soft cap was missed: withdraw your ETH instead")
    expect(page.get_by_role("button", name="Claim")).to_have_count(0)
    w3 = connect(httpx.get(stack.url + "/api/v1/status").json()["chain"]["rpc_url"])
    before = w3.eth.get_balance(INVESTOR.address)
    page.get_by_role("button", name="Withdraw refund of 0.5 ETH").click()
    expect(page.get_by_role("status").filter(has_text="Refunded 0.5 ETH to your wallet.")).to_be_visible(timeout=FINAL)
    expect(page.get_by_role("button", name="Withdraw refund of 0.5 ETH")).to_have_count(0)
    assert w3.eth.get_balance(INVESTOR.address) > before + 49 * 10**16  # 0.5 ETH back, less the gas
    check_page(page, "sale-refunded")
