"""The letter recipient's page and the operator's page in a real browser against the whole stack:
a case is opened with the enforcement tests' helpers on the stack's own chain and database; the
recipient reads it with the secret and no wallet, pays an instalment signed for real, uploads a
licence and disputes; an operator sees the paused case and records the owner's verification level
with their own wallet."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from backend.config import load_settings
from backend.services import Services
from tests.backend.conftest import Chain
from tests.e2e.test_stack import Stack
from tests.enforcement.ladder import open_test_case, register_with_mandate
from tests.web.conftest import check_page
from tests.web.test_webapp import anvil_rpc, dev_account, stack_rpc

OPERATOR = dev_account(0)  # `copytrack run`'s deployer: the register's first attestor
PAYER = dev_account(9)
STRANGER = dev_account(8)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("respond-stack"))
    stack.env["COPYTRACK_ENFORCEMENT_OPERATORS"] = OPERATOR.address
    stack.start()
    yield stack
    stack.stop()


class StackIndexer:
    """The stack indexes the chain itself; seeding waits for it rather than indexing beside it."""

    def __init__(self, services: Services):
        self.services = services
        self.indexer = services.indexer()  # read for its cursor only, never polled

    def poll(self) -> None:
        head = self.services.w3.eth.block_number
        deadline = time.monotonic() + 30
        while True:
            with self.services.db.session() as db:
                if self.indexer.cursor(db) >= head:
                    return
            assert time.monotonic() < deadline, "the stack did not index the registration"
            time.sleep(0.3)


def seeded_case(stack, seed: int, owner=None):
    """A registered image of `owner` (default: a fresh account) with a mandate and an open case
    (0.15 ETH claimed), in the stack's own chain and database: (setup, opened case)."""
    settings = load_settings({"data_dir": stack.env["COPYTRACK_DATA_DIR"], "rpc_url": stack_rpc(stack)}, environ={})
    services = Services(settings)
    waiting = StackIndexer(services)
    services.indexer = lambda: waiting
    try:
        setup = register_with_mandate(services, Chain(stack_rpc(stack)), seed=seed, owner=owner)
        return setup, open_test_case(setup)
    finally:
        services.close()


@pytest.fixture(scope="module")
def case(stack):
    return seeded_case(stack, seed=131)


def test_recipient__reads_with_the_secret__pays_an_instalment__uploads_a_licence__disputes(open_page, stack, case):
    setup, opened = case
    wrong = open_page("/respond")
    wrong.get_by_label("Case reference").fill(opened.public_code.lower())
    wrong.get_by_label("Secret").fill("not-the-secret")
    wrong.get_by_role("button", name="Open the case").click()
    expect(wrong.get_by_role("alert")).to_have_text(
        "the case reference or the secret is wrong (both are printed on the first letter)")
    wrong.get_by_label("Secret").fill(opened.secret)
    wrong.get_by_role("button", name="Open the case").click()
    expect(wrong.get_by_role("heading", name=f"Case {opened.public_code}")).to_be_visible()

    # The letter's link: no wallet needed to read; the secret leaves the address bar.
    page = open_page(f"/respond/{opened.public_code}?secret={opened.secret}", account=PAYER.address)
    expect(page.get_by_role("heading", name=f"Case {opened.public_code}")).to_be_visible()
    assert "secret" not in page.url
    expect(page.get_by_test_id("stage")).to_have_text("first letter: asking for a licence")
    expect(page.get_by_test_id("outstanding")).to_have_text("0.15 ETH")
    expect(page.get_by_role("link", name="https://shop.beispiel.de/blog/post")).to_be_visible()
    expect(page.get_by_text(setup.owner.address).first).to_be_visible()
    expect(page.get_by_role("link", name="Verification page of the registration")).to_have_attribute(
        "href", f"/verify/{setup.registration_id}")
    expect(page.get_by_role("button", name="Pay from my wallet")).to_be_disabled()
    check_page(page, "respond")

    page.get_by_role("button", name="Connect Test Wallet").click()
    page.get_by_label("Amount in ETH (empty: everything outstanding)").fill("0.05")
    # Mining paused: the payment stays pending across a reload (the secret kept for the tab), then lands.
    anvil_rpc(stack, "evm_setIntervalMining", 0)
    try:
        page.get_by_role("button", name="Pay from my wallet").click()
        pending = page.locator("section.card", has=page.get_by_role("heading", name="Pending transactions"))
        expect(pending).to_contain_text(f"pay 0.05 ETH towards case {opened.public_code}, sent, waiting for a block")
        page.reload()
        expect(pending).to_contain_text(f"pay 0.05 ETH towards case {opened.public_code}, sent, waiting for a block")
        expect(page.get_by_test_id("paid")).to_have_text("0 ETH")
    finally:
        anvil_rpc(stack, "evm_setIntervalMining", 1)
    expect(pending).to_have_count(0)
    expect(page.get_by_test_id("paid")).to_have_text("0.05 ETH")
    expect(page.get_by_test_id("outstanding")).to_have_text("0.1 ETH")

    page.get_by_label("Licence file").set_input_files(
        files=[{"name": "licence.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 licence from the agency"}])
    page.get_by_label("Note (optional)").fill("bought from the agency in 2024")
    page.get_by_role("button", name="Send the licence").click()
    expect(page.get_by_role("status").filter(has_text="We received licence.pdf")).to_be_visible()
    expect(page.get_by_test_id("case-status")).to_have_text("paused: your answer is being reviewed, no deadline runs")

    page.get_by_label("Why do you dispute it?").fill("We bought the picture from a stock agency.")
    page.get_by_role("button", name="Send the dispute").click()
    expect(page.get_by_role("status").filter(has_text="Your dispute was sent")).to_be_visible()
    check_page(page, "respond-answered")


def test_operator__sees_the_paused_case_and_partners__records_a_verification_level(open_page, stack, case):
    setup, opened = case
    stranger = open_page("/operator", account=STRANGER.address)
    stranger.get_by_role("button", name="Connect Test Wallet").click()
    stranger.get_by_role("button", name="Sign in with Ethereum").click()
    expect(stranger.get_by_role("heading", name="Not an operator")).to_be_visible()
    expect(stranger.get_by_role("link", name="Operator")).to_have_count(0)

    page = open_page("/operator", account=OPERATOR.address)
    expect(page.get_by_text("Connect your wallet with the button at the top of the page")).to_be_visible()
    page.get_by_role("button", name="Connect Test Wallet").click()
    page.get_by_role("button", name="Sign in with Ethereum").click()
    expect(page.get_by_role("link", name="Operator")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=opened.public_code)
    expect(row).to_contain_text("paused")
    expect(row).to_contain_text("the recipient disputes the claim")
    expect(page.get_by_role("row").filter(has_text="Germany (DE)")).to_contain_text("@")
    level = page.get_by_test_id(f"level-{setup.owner.address}")
    expect(level).to_have_text("not verified")
    check_page(page, "operator")

    page.get_by_role("combobox", name=f"New level for {setup.owner.address}").select_option(label="verified creator")
    page.get_by_role("button", name=f"Record the new level for {setup.owner.address}").click()
    expect(page.get_by_role("status").filter(has_text="verified creator")).to_be_visible()
    expect(level).to_have_text("verified creator", timeout=30_000)

    page.get_by_role("button", name=f"Resume case {opened.public_code}").click()
    expect(page.get_by_role("status").filter(has_text=f"Case {opened.public_code} resumed")).to_be_visible()
    expect(row).to_have_count(0)
    expect(page.get_by_text("No case is waiting.")).to_be_visible()


def test_respond_form__dark_colour_scheme__passes_axe(open_page):
    page = open_page("/respond", dark=True)
    expect(page.get_by_label("Case reference")).to_be_visible()
    expect(page.get_by_text("You need no account and no wallet to read the case")).to_be_visible()
    check_page(page, "respond-form-dark")
