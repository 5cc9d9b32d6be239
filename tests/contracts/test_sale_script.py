"""The sale script's input checks (`ape run sale ...`), without sending transactions."""

import importlib.util
from pathlib import Path

import click
import pytest

from backend.chain.sale_deployment import ETHER

ALICE = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
BOB = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"
DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.fixture(scope="module")
def sale_script():
    path = Path(__file__).resolve().parents[2] / "scripts" / "sale.py"
    spec = importlib.util.spec_from_file_location("sale_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("text", "wei"),
    [("0", 0), ("500", 500 * ETHER), ("0.1", ETHER // 10), ("0.000000000000000001", 1), (" 2.5 ", 5 * ETHER // 2)],
)
def test_parse_ether__decimal__exact_wei(sale_script, text, wei):
    assert sale_script.parse_ether(text) == wei


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.0000000000000000001", "more than 18 decimals"),
        ("-1", "must be a non-negative number of ETH"),
        ("NaN", "must be a non-negative number of ETH"),
        ("ten", "is not a number of ETH"),
    ],
)
def test_parse_ether__invalid__explains(sale_script, text, message):
    with pytest.raises(click.BadParameter, match=message):
        sale_script.parse_ether(text)


def test_resolve_recipients__original_preset_without_recipients__refuses(sale_script):
    given = {"--sale-wallet": ALICE, "--business-development-beneficiary": None, "--founders-beneficiary": None}

    with pytest.raises(click.UsageError, match="--preset original needs --business-development-beneficiary, --founders-beneficiary"):
        sale_script.resolve_recipients("original", given, DEPLOYER)


def test_resolve_recipients__local_preset__deployer_stands_in(sale_script):
    given = {"--sale-wallet": ALICE.lower(), "--founders-beneficiary": None}

    assert sale_script.resolve_recipients("local", given, DEPLOYER) == {
        "--sale-wallet": ALICE,
        "--founders-beneficiary": DEPLOYER,
    }


def test_resolve_recipients__zero_address__refused(sale_script):
    with pytest.raises(click.BadParameter, match="is not a non-zero Ethereum address"):
        sale_script.resolve_recipients("original", {"--sale-wallet": "0x" + "0" * 40}, DEPLOYER)


def test_investors_from_targets__addresses_and_csv_deduplicated(sale_script, tmp_path):
    csv_file = tmp_path / "revoked.csv"
    csv_file.write_text(f"address\n{BOB}\n{ALICE}\n")

    assert sale_script.investors_from_targets((ALICE.lower(), str(csv_file))) == [ALICE, BOB]


def test_investors_from_targets__neither_address_nor_file__refused(sale_script):
    with pytest.raises(click.BadParameter, match="'0x1234' is neither an Ethereum address nor a CSV file"):
        sale_script.investors_from_targets(("0x1234",))
