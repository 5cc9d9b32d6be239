"""The web app in a real browser against the whole stack on anvil: every signature is real
(anvil's dev accounts sign through the injected wallet), every page passes axe-core and is
photographed at desktop and phone width."""

from __future__ import annotations

import hashlib
import re
import time

import httpx
import pytest
from click.testing import CliRunner
from eth_account import Account
from playwright.sync_api import expect

from backend.chain import artifacts
from backend.chain.client import connect, operator, transact
from backend.chain.register import Item, RegisterContract
from backend.cli import main
from backend.config import ANVIL_DEPLOYER_KEY
from tests.images import encode, jpeg, picture
from tests.web.conftest import check_page

Account.enable_unaudited_hdwallet_features()
MNEMONIC = "test test test test test test test test test test test junk"  # anvil's public dev mnemonic


def dev_account(index: int):
    return Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


HOLDER, SECOND, COPYCAT, CLI_USER = dev_account(3), dev_account(4), dev_account(5), dev_account(6)
FINAL = 40_000  # ms: a registration is final two blocks (1 s each) after its transaction


def stack_rpc(stack) -> str:
    return f"http://127.0.0.1:{stack.env['COPYTRACK_ANVIL_PORT']}"


def anvil_rpc(stack, method: str, *params):
    return httpx.post(stack_rpc(stack), json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).json()


def files(*named: tuple[str, bytes]) -> list[dict]:
    return [{"name": name, "mimeType": "image/jpeg", "buffer": data} for name, data in named]


def sign_in(page, *, reject_first: bool = False) -> None:
    page.get_by_role("button", name="Connect Test Wallet").click()
    if reject_first:
        page.evaluate("window.__wallet.reject.add('personal_sign')")
        page.get_by_role("button", name="Sign in with Ethereum").click()
        expect(page.get_by_role("alert").filter(has_text="You rejected")).to_contain_text(
        "You rejected the request in your wallet, so nothing was signed or sent.")
    page.get_by_role("button", name="Sign in with Ethereum").click()
    expect(page.get_by_role("heading", name="Upload")).to_be_visible()


def own_image(stack, token: str, filename: str) -> dict:
    images = httpx.get(stack.url + "/api/v1/images", headers={"Authorization": f"Bearer {token}"}).json()["images"]
    return next(i for i in images if i["filename"] == filename)


def wait_for_status(stack, token: str, filename: str, status: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while own_image(stack, token, filename)["status"] != status:
        assert time.monotonic() < deadline, f"{filename} did not become {status}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def registered(stack, tmp_path_factory):
    """Two photographs registered by another user with the CLI (their own key, one batch)."""
    folder = tmp_path_factory.mktemp("cli-photos")
    paths = []
    for seed in (101, 102):
        path = folder / f"photo{seed}.jpg"
        path.write_bytes(jpeg(seed, size=(640, 480)))
        paths.append(path)
    # In this process (the CLI's imports are already loaded), against the stack's backend.
    result = CliRunner().invoke(main, ["register", *map(str, paths), "--api", stack.url],
                                env={"COPYTRACK_PRIVATE_KEY": CLI_USER.key.to_0x_hex()})
    assert result.exit_code == 0, result.output
    return paths


def test_rights_holder__signs_in__uploads_many__registers_them_in_one_transaction(open_page, stack):
    page = open_page("/images", account=HOLDER.address, chain_id=1, wallets=("Test Wallet", "Other Wallet"))
    expect(page.get_by_role("heading", name="Connect your wallet to register images")).to_be_visible()
    expect(page.get_by_role("button", name="Connect Other Wallet")).to_be_visible()  # every announced wallet
    check_page(page, "images-connect")

    page.get_by_role("button", name="Connect Test Wallet").click()
    expect(page.get_by_role("alert").filter(has_text="Your wallet is on chain 1")).to_be_visible()
    page.get_by_role("button", name="Switch to Copytrack local chain").click()
    expect(page.get_by_text("Your wallet is on chain 1")).to_have_count(0)
    # The wallet did not know the chain: the app added it (with the RPC URL from /api/v1/status), then switched.
    added = page.evaluate("window.__wallet.added")
    assert [(c["chainId"], c["rpcUrls"]) for c in added] == [("0x7a69", [stack_rpc(stack)])]
    expect(page.get_by_role("heading", name="Sign in with your wallet")).to_be_visible()
    check_page(page, "images-sign-in")
    page.evaluate("window.__wallet.reject.add('personal_sign')")
    page.get_by_role("button", name="Sign in with Ethereum").click()
    expect(page.get_by_role("alert").filter(has_text="You rejected")).to_contain_text(
        "You rejected the request in your wallet, so nothing was signed or sent.")
    page.get_by_role("button", name="Sign in with Ethereum").click()
    expect(page.get_by_role("heading", name="Upload")).to_be_visible()
    expect(page.get_by_text("No images here yet. Drop pictures into the upload box")).to_be_visible()

    collections = page.locator("section.card", has=page.get_by_role("heading", name="Collections"))
    collections.get_by_label("New collection").fill("Holidays")
    collections.get_by_role("button", name="Create").click()
    expect(collections.get_by_role("listitem")).to_have_text(re.compile("Holidays"))
    page.get_by_label("Put new uploads in collection").select_option("Holidays")

    photos = [(f"beach{seed}.jpg", jpeg(seed, size=(480, 360))) for seed in (201, 202, 203)]
    page.get_by_label("Choose images to upload").set_input_files(files(*photos, ("notes.jpg", b"not a picture")))
    uploads = page.get_by_role("list", name="Uploads")
    expect(uploads.get_by_role("listitem").filter(has_text="uploaded")).to_have_count(3)
    expect(uploads.get_by_role("listitem").filter(has_text="notes.jpg")).to_contain_text("failed:")
    expect(page.get_by_role("button", name="Retry notes.jpg")).to_be_enabled()
    expect(page.get_by_text("3 image(s) uploaded and not registered yet.")).to_be_visible()
    check_page(page, "images-upload")

    # Mining paused: the transaction stays pending across a reload, then becomes final.
    anvil_rpc(stack, "evm_setIntervalMining", 0)
    try:
        page.get_by_role("button", name="Register 3 with my wallet (one transaction)").click()
        pending = page.locator("section.card", has=page.get_by_role("heading", name="Pending transactions"))
        expect(pending).to_contain_text("3 image(s), sent, waiting for a block")
        assert page.evaluate("window.__wallet.calls.filter((m) => m === 'eth_sendTransaction').length") == 1
        page.reload()
        expect(pending).to_contain_text("3 image(s), sent, waiting for a block")
    finally:
        anvil_rpc(stack, "evm_setIntervalMining", 1)
    expect(page.get_by_text("Your wallet is on chain 1")).to_have_count(0)  # the wallet stayed switched
    expect(page.locator("li.image[data-status=registered]")).to_have_count(3, timeout=FINAL)
    expect(pending).to_have_count(0)
    expect(page.locator("li.image").first).to_contain_text("Proof of registration")
    expect(page.locator("li.image").first.get_by_label("Collection")).to_have_value("Holidays")
    categories = page.locator("section.card", has=page.get_by_role("heading", name="Categories"))
    categories.get_by_label("New category").fill("Landscapes")
    categories.get_by_role("button", name="Create").click()
    page.locator("li.image").first.get_by_label(re.compile("^Category")).select_option("Landscapes")
    expect(page.locator("li.image").first.get_by_label(re.compile("^Category"))).to_have_value("Landscapes")
    category_filter = page.locator(".filters").get_by_label(re.compile("^Category"))
    category_filter.select_option("Landscapes")
    expect(page.locator("li.image")).to_have_count(1)
    category_filter.select_option("")
    expect(page.locator("li.image")).to_have_count(3)
    check_page(page, "images")

    # One register_batch carried all three: the chain's events name one transaction.
    token = page.evaluate("JSON.parse(localStorage['copytrack.session']).token")
    images = httpx.get(stack.url + "/api/v1/images", headers={"Authorization": f"Bearer {token}"}).json()["images"]
    assert {i["status"] for i in images} == {"registered"} and len({i["tx_hash"] for i in images}) == 1
    assert {i["sha256"] for i in images} == {"0x" + hashlib.sha256(data).hexdigest() for _, data in photos}


def test_second_holder__is_warned_of_prior_art__registers_gasless(open_page, stack, registered):
    page = open_page("/images", account=SECOND.address)
    sign_in(page)
    copy = encode(picture(101, (640, 480)).resize((480, 360)), "JPEG")
    page.get_by_label("Choose images to upload").set_input_files(files(("my-version.jpg", copy)))
    warning = page.get_by_role("alert").filter(has_text="Already registered by someone else?")
    expect(warning).to_contain_text("my-version.jpg resembles registration")
    own = page.get_by_role("button", name="Register 1 with my wallet (one transaction)")
    gasless = page.get_by_role("button", name="Register gasless (sign; the platform pays)")
    expect(own).to_be_disabled()
    expect(gasless).to_be_disabled()
    check_page(page, "images-prior-art")
    page.get_by_label("I hold the rights to these images and want to register them anyway.").check()
    expect(gasless).to_be_enabled()

    # The EIP-712 message carries a 64-bit pHash; the wallet must sign it exactly as the API built it.
    page.evaluate("window.__wallet.reject.add('eth_signTypedData_v4')")
    gasless.click()
    expect(page.get_by_role("alert").filter(has_text="You rejected")).to_contain_text(
        "You rejected the request in your wallet, so nothing was signed or sent.")
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_text("Signed 1 registration(s); the platform relays them and pays the gas.")).to_be_visible()
    expect(page.locator("li.image[data-status=registered]")).to_have_count(1, timeout=FINAL)

    # The session ends on the server (signed out elsewhere): the app asks to sign in again.
    token = page.evaluate("JSON.parse(localStorage['copytrack.session']).token")
    httpx.post(stack.url + "/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    page.locator(".filters").get_by_label(re.compile("^Status")).select_option("registered")
    expect(page.get_by_role("heading", name="Sign in with your wallet")).to_be_visible()


def test_reverted_registration__shows_the_contract_reason(open_page, stack):
    page = open_page("/images", account=SECOND.address)
    sign_in(page)
    data = jpeg(301, size=(400, 300))
    page.get_by_label("Choose images to upload").set_input_files(files(("sunset.jpg", data)))
    register = page.get_by_role("button", name="Register 1 with my wallet (one transaction)")
    expect(register).to_be_enabled()
    # Someone registers the same bytes straight on the chain before this wallet sends its transaction.
    token = page.evaluate("JSON.parse(localStorage['copytrack.session']).token")
    image = own_image(stack, token, "sunset.jpg")
    status = httpx.get(stack.url + "/api/v1/status").json()
    contract = RegisterContract(connect(status["chain"]["rpc_url"]), status["contracts"]["CopyrightRegister"])
    contract.register_with_key(COPYCAT.key.to_0x_hex(), [Item(image["sha256"], image["phash"], image["cid"])])
    register.click()
    expect(page.get_by_role("alert")).to_contain_text(
        "The contract refused this transaction: already registered. Nothing was changed on the chain.")
    assert "eth_sendTransaction" not in page.evaluate("window.__wallet.calls")

    # Sent, then reverted in its block: the copycat's transaction (paying more) comes first in it.
    wait_for_status(stack, token, "sunset.jpg", "conflict")
    page.get_by_label("Choose images to upload").set_input_files(files(("dawn.jpg", jpeg(302, size=(400, 300)))))
    expect(page.get_by_role("list", name="Uploads").get_by_role("listitem").filter(has_text="dawn.jpg")).to_contain_text("uploaded")
    expect(page.locator("li.image[data-status=conflict]")).to_contain_text("registered by someone else first")
    expect(register).to_be_enabled()
    image = own_image(stack, token, "dawn.jpg")
    copycat_tx = contract.register_transaction(COPYCAT.address, Item(image["sha256"], image["phash"], image["cid"]))
    copycat_tx = {k: v for k, v in copycat_tx.items() if k != "chainId"}
    pending = page.locator("section.card", has=page.get_by_role("heading", name="Pending transactions"))
    anvil_rpc(stack, "evm_setIntervalMining", 0)
    try:
        anvil_rpc(stack, "eth_sendTransaction", {**copycat_tx, "maxPriorityFeePerGas": hex(5 * 10**9),
                                                 "maxFeePerGas": hex(50 * 10**9)})
        register.click()
        expect(pending).to_contain_text("1 image(s), sent, waiting for a block")
    finally:
        anvil_rpc(stack, "evm_setIntervalMining", 1)
    expect(pending).to_contain_text(
        "the transaction was reverted; the contract refused it: already registered. Nothing was registered.")


def test_public_lookup_and_verification__need_no_wallet(open_page, registered):
    page = open_page("/")
    expect(page.get_by_text("No wallet found in this browser")).to_be_visible()
    check_page(page, "lookup")
    page.get_by_label("Choose an image to look up").set_input_files(
        files(("unknown.jpg", jpeg(999))))
    expect(page.get_by_role("heading", name="Not registered")).to_be_visible()
    page.get_by_label("Choose an image to look up").set_input_files(files(("found.jpg", registered[0].read_bytes())))
    expect(page.get_by_role("heading", name="Exactly this file")).to_be_visible()
    sha = "0x" + hashlib.sha256(registered[0].read_bytes()).hexdigest()
    proof = page.locator("article.proof").filter(has_text="Exactly this file")
    expect(proof).to_contain_text(CLI_USER.address)
    expect(proof).to_contain_text(re.compile(r"Registered at\s*20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC \(block \d+\)"))
    check_page(page, "lookup-found")

    proof.get_by_role("link", name="Verification page for this registration").click()
    expect(page).to_have_url(re.compile(f"/verify/{sha}$"))
    expect(page.get_by_role("heading", name="Registration")).to_be_visible()
    cid_link = page.locator("article.proof dd a[href^='/ipfs/']")
    gateway = page.request.get(cid_link.get_attribute("href"))
    assert gateway.ok and gateway.body() == registered[0].read_bytes()
    check_page(page, "verify")

    page.goto("/verify/0x" + "00" * 32)
    expect(page.get_by_role("heading", name="No final registration with this id")).to_be_visible()
    page.goto("/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()


def test_lookup__dark_colour_scheme__passes_axe(open_page):
    page = open_page("/", dark=True)
    expect(page.get_by_role("heading", name="Who registered this image?")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(13, 17, 23)"
    check_page(page, "lookup-dark")


def test_investor__sees_the_sale_state_read_from_the_chain(open_page, stack):
    status = httpx.get(stack.url + "/api/v1/status").json()
    w3 = connect(status["chain"]["rpc_url"])
    sale = w3.eth.contract(address=status["contracts"]["CPYSale"], abi=artifacts.abi("CPYSale"))
    admin = operator(ANVIL_DEPLOYER_KEY)  # the sale's admin, as `copytrack run` deploys it
    transact(w3, admin, sale.functions.grantRole(sale.functions.KYC_OPERATOR_ROLE().call(), admin.address))
    transact(w3, admin, sale.functions.add_to_allow_list([SECOND.address]))
    transact(w3, operator(SECOND.key.to_0x_hex()), sale.functions.buy_tokens(), value=123456789012345678)

    page = open_page("/sale", account=SECOND.address)
    # Every wei and token unit is shown: 0.123456789012345678 ETH at 1,554 CPY per ETH.
    expect(page.get_by_test_id("raised")).to_have_text("0.123456789012345678 ETH")
    expect(page.get_by_text("191.851850125185183612 CPY sold of 60,000,000 CPY (0%)")).to_be_visible()
    expect(page.get_by_test_id("rate")).to_have_text("1,554 CPY per ETH")
    expect(page.get_by_text("1,178 CPY per ETH once 5,000,000 CPY are sold")).to_be_visible()
    expect(page.get_by_test_id("time-left")).to_contain_text(re.compile(r"(29|30) d \d+ h \d+ min \(closes"))
    expect(page.get_by_role("progressbar", name="Tokens sold against the hard cap")).to_have_attribute("aria-valuenow", "0")
    expect(page.get_by_text("at least 0.1 ETH; at most 2,500 ETH per investor in total")).to_be_visible()
    expect(page.get_by_text("Connect your wallet to see your allow-list status")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.get_by_role("button", name="Connect Test Wallet").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("you are on the allow-list")).to_be_visible()
    expect(page.get_by_text("191.851850125185183612 CPY (claimable after the sale is finalized)")).to_be_visible()
    check_page(page, "sale")
