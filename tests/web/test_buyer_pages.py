"""The buyer's pages in a real browser against the whole stack on anvil: a seller publishes offers
with their own key (the CLI and the API), buyers find them by words and by dropping an edited copy of
the picture, buy with ETH and with CPY (approve, then buy), follow their licences' escrow, dispute and
release, and anyone opens a licence's verification page without a wallet. Every signature is real."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

import httpx
import pytest
from click.testing import CliRunner
from eth_account.messages import encode_typed_data
from playwright.sync_api import expect

from backend.chain import artifacts
from backend.chain.client import connect, operator, transact
from backend.cli import main
from backend.config import ANVIL_DEPLOYER_KEY
from backend.marketplace.offers import signable
from tests.images import encode, jpeg, picture
from tests.web.conftest import check_page
from tests.web.test_webapp import anvil_rpc, dev_account, stack_rpc

SELLER, BUYER, CPY_BUYER = dev_account(7), dev_account(8), dev_account(9)
DAY = 86_400
FINAL = 40_000  # ms: a transaction is final two blocks (1 s each) after it, then the indexer sees it
MATTERHORN, LAKE = 301, 302  # picture seeds
SIZE = (640, 480)


def advance(stack, seconds: int) -> None:
    anvil_rpc(stack, "evm_increaseTime", seconds)
    anvil_rpc(stack, "evm_mine")


def give_cpy(stack, account) -> None:
    """CPY the way anyone gets it: allow-listed (the deployer holds the KYC role), bought in the
    sale, claimed after the sale closed and was finalized."""
    w3 = connect(stack_rpc(stack))
    contracts = httpx.get(stack.url + "/api/v1/status").json()["contracts"]
    sale = w3.eth.contract(address=contracts["CPYSale"], abi=artifacts.abi("CPYSale"))
    transact(w3, operator(ANVIL_DEPLOYER_KEY), sale.functions.add_to_allow_list([account.address]))
    transact(w3, account, sale.functions.buy_tokens(), value=10**18)
    advance(stack, 31 * DAY)
    transact(w3, account, sale.functions.finalize())
    transact(w3, account, sale.functions.claim())


def cli(stack, account, *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--api", stack.url], env={"COPYTRACK_PRIVATE_KEY": account.key.to_0x_hex()})
    assert result.exit_code == 0, result.output
    return result.output


def publish_reserved(stack, registration: str, buyer: str) -> str:
    """An offer only `buyer` may buy, drafted through the API and signed with the seller's key."""
    now = connect(stack_rpc(stack)).eth.get_block("latest")["timestamp"]
    draft = httpx.post(stack.url + "/api/v1/offers/draft", json={
        "seller": SELLER.address, "registration_id": registration, "price": str(2 * 10**16), "buyer": buyer,
        "licence_type": "extended", "expiry": now + 30 * DAY}).json()
    signature = SELLER.sign_message(encode_typed_data(full_message=signable(draft["typed_data"]))).signature.to_0x_hex()
    answer = httpx.post(stack.url + "/api/v1/offers", json={"typed_data": draft["typed_data"], "signature": signature})
    assert answer.status_code == 201, answer.text
    return answer.json()["offer_hash"]


@pytest.fixture(scope="module")
def market(stack, tmp_path_factory):
    """A buyer holding CPY; two photographs registered by the seller with the CLI, out of their
    claim window; an ETH offer for one, a CPY offer and one reserved for the CPY buyer for the other."""
    give_cpy(stack, CPY_BUYER)
    folder = tmp_path_factory.mktemp("seller-photos")
    ids = {}
    for seed, collection in ((MATTERHORN, "Matterhorn"), (LAKE, "Lakes")):
        path = folder / f"photo{seed}.jpg"
        path.write_bytes(jpeg(seed, size=SIZE))
        cli(stack, SELLER, "register", str(path), "--collection", collection)
        ids[seed] = "0x" + hashlib.sha256(path.read_bytes()).hexdigest()
    advance(stack, 2 * DAY)  # past the register's claim window
    cli(stack, SELLER, "offers", "publish", ids[MATTERHORN], "--price", "0.05ETH", "--territory", "DE,AT",
        "--duration", "365d")
    # It outlasts the month the ETH buyer's test moves the chain's clock on.
    cli(stack, SELLER, "offers", "publish", ids[LAKE], "--price", "10CPY", "--expires", "90d")
    reserved = publish_reserved(stack, ids[LAKE], CPY_BUYER.address)
    return {"registrations": ids, "reserved": reserved}


def offer_card(page, price: str):
    return page.locator("article.offer").filter(has=page.get_by_test_id("price").filter(has_text=re.compile(f"^{price}$")))


def test_market__search_by_words_and_by_an_edited_copy__without_a_wallet(open_page, market):
    page = open_page("/market")
    expect(page.get_by_role("heading", name="3 offers")).to_be_visible()
    expect(page.get_by_text("Connect your wallet (at the top) to buy this licence.").first).to_be_visible()
    check_page(page, "market")

    page.get_by_label("Words in the title or collection").fill("matterhorn")
    page.keyboard.press("Enter")  # the filters are a form: the keyboard searches too
    expect(page.get_by_role("heading", name="1 offer", exact=True)).to_be_visible()
    card = page.locator("article.offer")
    expect(card.get_by_test_id("price")).to_have_text("0.05 ETH")
    expect(card).to_contain_text("Standard, 365 days, 1 seat(s)")
    expect(card).to_contain_text("DE, AT")
    expect(card).to_contain_text(SELLER.address)

    page.get_by_label("Words in the title or collection").fill("")
    page.get_by_label("Currency").select_option("CPY")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("article.offer").get_by_test_id("price")).to_have_text("10 CPY")
    page.get_by_label("Highest price").fill("9.999999999999999999")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="No offers found")).to_be_visible()
    check_page(page, "market-empty")

    # A smaller PNG of the photograph finds its registration and the live offer for it.
    edited = encode(picture(MATTERHORN, SIZE).resize((400, 300)), "PNG")
    page.get_by_label("Choose a picture to find its licence offers").set_input_files(
        [{"name": "found.png", "mimeType": "image/png", "buffer": edited}])
    found = page.locator(".card", has=page.get_by_role("heading", name="Find offers by picture"))
    expect(found.get_by_role("heading", name=re.compile("A matching picture"))).to_be_visible()
    expect(found.locator("article.offer").get_by_test_id("price")).to_have_text("0.05 ETH")
    check_page(page, "market-by-picture")

    dark = open_page("/market", dark=True)
    expect(dark.get_by_role("heading", name="3 offers")).to_be_visible()
    check_page(dark, "market-dark")


def test_buyer__wrong_network__refusal__rejection__buys_with_eth__disputes__releases(open_page, stack, market):
    page = open_page("/market", account=BUYER.address, chain_id=1)
    page.get_by_role("button", name="Connect Test Wallet").click()
    eth_offer = offer_card(page, "0.05 ETH")
    expect(eth_offer.get_by_text("Your wallet is on another network")).to_be_visible()
    expect(eth_offer.get_by_role("button", name="Buy for 0.05 ETH")).to_be_disabled()
    page.get_by_role("button", name="Switch to Copytrack local chain").click()
    expect(eth_offer.get_by_role("button", name="Buy for 0.05 ETH")).to_be_enabled()

    # The offer reserved for someone else: the contract's refusal in words, before anything is signed.
    reserved = offer_card(page, "0.02 ETH")
    expect(reserved).to_contain_text(f"Reserved for{CPY_BUYER.address}")
    reserved.get_by_label("Domains the licence covers").fill("shop.example")
    reserved.get_by_role("button", name="Buy for 0.02 ETH").click()
    expect(reserved.get_by_role("alert")).to_contain_text("the market would refuse this: offer reserved for another buyer")
    assert page.evaluate("window.__wallet.calls.includes('eth_sendTransaction')") is False

    eth_offer.get_by_role("button", name="Buy for 0.05 ETH").click()
    expect(eth_offer.get_by_role("alert")).to_contain_text("Name the domain(s) the licence covers")
    eth_offer.get_by_label("Domains the licence covers").fill("shop.example")
    check_page(page, "market-buy")
    page.evaluate("window.__wallet.reject.add('eth_sendTransaction')")
    eth_offer.get_by_role("button", name="Buy for 0.05 ETH").click()
    expect(eth_offer.get_by_role("alert")).to_contain_text(
        "You rejected the request in your wallet, so nothing was signed or sent. Try again when you are ready. Press Buy to try again.")

    # Mining paused: the purchase stays pending across a reload, then becomes a licence.
    anvil_rpc(stack, "evm_setIntervalMining", 0)
    try:
        eth_offer.get_by_role("button", name="Buy for 0.05 ETH").click()
        pending = page.locator("section.card", has=page.get_by_role("heading", name="Pending transactions"))
        expect(pending).to_contain_text("buy the standard licence for")
        expect(pending).to_contain_text("sent, waiting for a block")
        page.reload()
        expect(pending).to_contain_text("sent, waiting for a block")
    finally:
        anvil_rpc(stack, "evm_setIntervalMining", 1)
    expect(pending).to_have_count(0, timeout=FINAL)
    expect(page.get_by_role("heading", name="2 offers")).to_be_visible()  # the single sale is gone from the book

    page.get_by_role("link", name="My licences").click()
    licence = page.locator("article.card", has=page.get_by_role("heading", name=re.compile(r"^Licence \d+")))
    expect(licence).to_have_count(1)
    licence_id = re.search(r"Licence (\d+)", licence.get_by_role("heading").first.inner_text()).group(1)
    expect(licence.get_by_test_id("escrow")).to_contain_text("You can dispute this purchase until")
    expect(licence).to_contain_text("0.05 ETH")
    expect(licence).to_contain_text("held in escrow")
    pdf = httpx.get(stack.url + licence.get_by_role("link", name="Certificate (PDF)").get_attribute("href"))
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    check_page(page, "licences")

    # The certificate's QR code opens this page: readable with no wallet at all.
    public = open_page(f"/verify/licence/{licence_id}")
    expect(public.get_by_test_id("verdict")).to_have_text("Valid now: this licence is recorded on the chain and in force.")
    expect(public.get_by_text(BUYER.address)).to_be_visible()
    public.get_by_label("Domain or web address").fill("https://Shop.Example/about")
    public.get_by_role("button", name="Check").click()
    expect(public.get_by_test_id("domain-verdict")).to_have_text("shop.example is covered by this licence now.")
    public.get_by_label("Domain or web address").fill("other.example")
    public.get_by_role("button", name="Check").click()
    expect(public.get_by_test_id("domain-verdict")).to_have_text("other.example is not covered by this licence now.")
    check_page(public, "licence-verify")
    public.goto("/verify/licence/999999")
    expect(public.get_by_role("heading", name="No licence with this number")).to_be_visible()

    licence.get_by_label("Why do you dispute it? (for the arbiter)").fill("the seller is not the author")
    licence.get_by_role("button", name="Dispute this purchase").click()
    expect(licence.get_by_test_id("escrow")).to_contain_text("You disputed it (“the seller is not the author”)", timeout=FINAL)
    expect(licence).to_contain_text("disputed")

    advance(stack, 31 * DAY)  # the arbiter did not decide within the arbitration period
    page.reload()
    licence.get_by_role("button", name="Release the escrow to the seller").click()
    expect(licence.get_by_test_id("escrow")).to_have_text("The escrow was released to the seller: the licence is final.",
                                                          timeout=FINAL)

    # the seller sees what the release credited them, withdraws it, and then has nothing left there
    credit = int(httpx.get(f"{stack.url}/api/v1/credits/{SELLER.address}").json()["market"]["ETH"])
    assert credit > 0
    seller = open_page("/offers/mine", account=SELLER.address)
    seller.get_by_role("button", name="Connect Test Wallet").click()
    seller.get_by_role("button", name="Sign in with Ethereum").click()
    shown = f"{Decimal(credit) / 10**18:f}".rstrip("0").rstrip(".") + " ETH"
    expect(seller.get_by_test_id("credit-market-ETH")).to_have_text(shown)
    expect(seller.get_by_role("button", name="Nothing to withdraw in CPY")).to_be_disabled()
    before = connect(stack_rpc(stack)).eth.get_balance(SELLER.address)
    seller.get_by_role("button", name="Withdraw ETH").click()
    expect(seller.get_by_role("status").filter(has_text="Withdrawn")).to_have_text("Withdrawn: the ETH is in your wallet.",
                                                                                 timeout=FINAL)
    expect(seller.get_by_test_id("credit-market-ETH")).to_have_text("0 ETH")
    expect(seller.get_by_role("button", name="Nothing to withdraw in ETH")).to_be_disabled()
    assert connect(stack_rpc(stack)).eth.get_balance(SELLER.address) > before + credit * 9 // 10  # less the gas


def test_buyer__pays_in_cpy__approve_then_buy(open_page, market):
    page = open_page("/market", account=CPY_BUYER.address)
    page.get_by_role("button", name="Connect Test Wallet").click()
    page.get_by_label("Currency").select_option("CPY")
    page.get_by_role("button", name="Search").click()
    offer = offer_card(page, "10 CPY")
    offer.get_by_label("Domains the licence covers").fill("lake.example, www.lake.example")
    offer.get_by_role("button", name="Buy for 10 CPY").click()
    expect(offer.get_by_role("status").filter(has_text="Sent.")).to_be_visible(timeout=FINAL)
    sent = page.evaluate("window.__wallet.calls.filter((m) => m === 'eth_sendTransaction').length")
    assert sent == 2  # the approve, then the buy

    page.get_by_role("link", name="My licences").click()
    licence = page.locator("article.card", has=page.get_by_role("heading", name=re.compile(r"^Licence \d+")))
    expect(licence).to_contain_text("10 CPY", timeout=FINAL)
    expect(licence).to_contain_text("Domains2")
    check_page(page, "licences-cpy")


def test_buy__before_the_server_names_its_chain__waits_instead_of_doing_nothing(open_page, stack, market):
    """Until /api/v1/status answers there is no chain to send to: the button says so and is off
    (a click used to return without a word; CI met it on a busy machine). An offer of its own: the
    others may be sold out by the tests before."""
    cli(stack, SELLER, "offers", "publish", market["registrations"][LAKE], "--price", "7CPY", "--expires", "90d")
    held = []
    page = open_page("/market", account=CPY_BUYER.address,
                     prepare=lambda context: context.route("**/api/v1/status", lambda route: held.append(route)))
    page.get_by_role("button", name="Connect Test Wallet").click()
    offer = offer_card(page, "7 CPY")
    expect(offer.get_by_text("Waiting for the server to name its chain…")).to_be_visible()
    expect(offer.get_by_role("button", name="Buy for 7 CPY")).to_be_disabled()
    assert len(held) == 1
    held[0].continue_()
    expect(offer.get_by_role("button", name="Buy for 7 CPY")).to_be_enabled()
    expect(offer.get_by_text("Waiting for the server to name its chain…")).to_have_count(0)


def test_my_licences__without_a_wallet_and_without_licences__say_what_to_do(open_page):
    page = open_page("/licences")
    expect(page.get_by_role("heading", name="Connect your wallet to see your licences")).to_be_visible()
    check_page(page, "licences-connect")
    page = open_page("/licences", account=dev_account(6).address)
    page.get_by_role("button", name="Connect Test Wallet").click()
    expect(page.get_by_role("heading", name="No licences yet")).to_be_visible()
