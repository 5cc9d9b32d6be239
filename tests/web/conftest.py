"""Browser tests of the web app: Debian's Chromium driven by Playwright against a real
`copytrack run` (anvil, the contracts, the backend serving the built app). The wallet is an
EIP-1193 provider announced through EIP-6963 (`wallet.js`) that forwards to anvil's dev accounts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from backend.api.webapp import SOURCE_DIST
from tests.e2e.test_stack import Stack

PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]
WALLET_JS = (Path(__file__).parent / "wallet.js").read_text()
AXE_JS = (PROJECT / "node_modules" / "axe-core" / "axe.min.js").read_text()
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 360, "height": 780}
# Screenshots of every page at both widths; `make screenshots` points this at docs/screenshots.
# Signing, uploads and chain reads take a few seconds on a loaded 2-core machine.
expect.set_options(timeout=15_000)
ARTIFACTS = Path(os.environ.get("COPYTRACK_WEB_ARTIFACTS", PROJECT / "test-artifacts" / "web"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    assert (SOURCE_DIST / "index.html").is_file(), "the web app is not built: run `make setup` (npm run build:web)"
    stack = Stack(tmp_path_factory.mktemp("web-stack"))
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, stack):
    """A new browser profile, with a wallet for `account` (several names announced) or none."""
    contexts = []

    def _open(path: str = "/", *, account: str | None = None, chain_id: int = 31337,
              wallets: tuple[str, ...] = ("Test Wallet",), dark: bool = False, prepare=None) -> Page:
        context = browser.new_context(base_url=stack.url, viewport=DESKTOP, color_scheme="dark" if dark else "light")
        contexts.append(context)
        if account:
            anvil = f"http://127.0.0.1:{stack.env['COPYTRACK_ANVIL_PORT']}"
            config = {"rpcUrl": anvil, "account": account, "chainId": hex(chain_id), "names": list(wallets)}
            context.add_init_script(script=f"{WALLET_JS}({json.dumps(config)});")
        if prepare:  # e.g. routes that hold an API answer back
            prepare(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(path)
        return page

    yield _open
    for context in contexts:
        context.close()


def check_page(page: Page, name: str) -> None:
    """No serious or critical accessibility violation (axe-core); screenshots at desktop and phone width."""
    page.evaluate(AXE_JS)
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
             .filter((v) => v.impact === "serious" || v.impact === "critical")
             .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)"""
    )
    assert violations == [], f"{name}: accessibility violations:\n" + "\n".join(violations)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    too_wide = page.evaluate(
        """(limit) => [...document.querySelectorAll("body *")]
             .filter((e) => e.getBoundingClientRect().right > limit + 0.5)
             .map((e) => `${e.tagName.toLowerCase()}.${e.className}: ${e.textContent.slice(0, 40)}`)""",
        PHONE["width"],
    )
    assert too_wide == [], f"{name}: wider than the phone's {PHONE['width']} px:\n" + "\n".join(too_wide)
    page.screenshot(path=ARTIFACTS / f"{name}-phone.png", full_page=True)
    page.set_viewport_size(DESKTOP)
