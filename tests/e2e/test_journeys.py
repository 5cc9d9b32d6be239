"""The buyer's and the investor's journeys of the README, for real: `copytrack run`, then only the
`copytrack` CLI with anvil's development keys (a rights-holder, a buyer, an investor).

Both journeys share one stack (starting it deploys everything, the slow part). The investor's runs
first: the buyer's moves the chain's clock past the sale's close, which the investor's needs open."""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.test_stack import USER_KEY, Stack
from tests.images import encode, jpeg, picture

# anvil's fourth and fifth development accounts (public test keys).
BUYER_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"
BUYER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
INVESTOR_KEY = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"
INVESTOR = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("journeys"))
    stack.start()
    yield stack
    try:
        stack.stop()  # Ctrl-C: the stack stops its anvil too
    finally:
        if stack.process.poll() is None:
            stack.process.kill()


def ok(result) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def as_user(stack: Stack, key: str, *args: str):
    stack.env["COPYTRACK_PRIVATE_KEY"] = key
    return stack.cli(*args)


def test_investors_journey__allow_list_proof_contribute_limit_finalize_claim(stack, tmp_path):
    investors = tmp_path / "investors.csv"
    investors.write_text(f"address\n{INVESTOR}\n0x976EA74026E726554dB657fA54763abd0C3a0aa9\n")
    assert "allow-list root" in ok(stack.cli("sale", "admin", "allowlist", str(investors)))
    standing = json.loads(ok(as_user(stack, INVESTOR_KEY, "sale", "investor")))
    assert standing["allow_listed_by"] == "merkle" and standing["merkle_proof"]
    assert "contributed 1.5 ETH" in ok(as_user(stack, INVESTOR_KEY, "sale", "contribute", "1.5"))
    too_much = as_user(stack, INVESTOR_KEY, "sale", "contribute", "2500")
    assert too_much.returncode != 0 and "remaining allowance" in too_much.stderr
    assert "open" in ok(stack.cli("sale", "status"))
    ok(stack.cli("dev", "advance", "31d"))
    ok(as_user(stack, INVESTOR_KEY, "sale", "finalize"))
    claimed = ok(as_user(stack, INVESTOR_KEY, "sale", "claim"))
    assert re.search(r"claimed [1-9][0-9.]* CPY", claimed), claimed


def test_buyers_journey__publish_find_buy_check_dispute_release(stack, tmp_path):
    photo = tmp_path / "matterhorn.jpg"
    photo.write_bytes(jpeg(11, size=(640, 480)))
    registered = ok(as_user(stack, USER_KEY, "register", str(photo)))
    registration = re.search(r"0x[0-9a-f]{64}", registered).group(0)
    ok(stack.cli("dev", "advance", "2d"))  # past the register's claim window
    published = ok(as_user(stack, USER_KEY, "offers", "publish", registration, "--price", "0.05ETH",
                           "--type", "standard", "--territory", "DE,AT", "--duration", "365d"))
    offer_hash = re.search(r"offer (0x[0-9a-f]{64}) published", published).group(1)

    edited = tmp_path / "edited.png"
    edited.write_bytes(encode(picture(11, (640, 480)).resize((400, 300)), "PNG"))
    found = json.loads(ok(as_user(stack, BUYER_KEY, "offers", "search", str(edited), "--json")))
    assert [o["hash"] for m in found["matches"] for o in m["offers"]] == [offer_hash]

    bought = ok(as_user(stack, BUYER_KEY, "licence", "buy", offer_hash, "--domain", "shop.example"))
    licence_id = re.search(r"bought licence (\d+)", bought).group(1)
    shown = ok(stack.cli("licence", "show", licence_id))
    assert BUYER in shown and "held" in shown
    assert "is licensed" in ok(stack.cli("licence", "check", registration, "https://shop.example/about"))
    assert "holds no licence" in ok(stack.cli("licence", "check", registration, "other.example"))

    refused = as_user(stack, BUYER_KEY, "licence", "release", licence_id)
    assert refused.returncode != 0 and "dispute window still open" in refused.stderr
    ok(as_user(stack, BUYER_KEY, "licence", "dispute", licence_id, "--reason", "the seller is not the author"))
    ok(stack.cli("dev", "advance", "31d"))  # the arbiter did not decide within the arbitration period
    ok(as_user(stack, BUYER_KEY, "licence", "release", licence_id))
    assert "withdrew 0.0475 ETH" in ok(as_user(stack, USER_KEY, "withdraw"))
