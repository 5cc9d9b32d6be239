"""The market CLI's guards that need no running backend."""

import re

import click
import pytest
from click.testing import CliRunner

from backend.chain.node import AnvilNode
from backend.cli import main
from backend.cli_market import parse_amount, parse_duration
from tests.backend.conftest import free_port


def test_dev_advance__refused_on_any_chain_but_the_local_one(tmp_path):
    node = AnvilNode(free_port(), chain_id=5, log_file=tmp_path / "anvil.log")
    node.start()
    try:
        before = node_time(node)
        result = CliRunner().invoke(main, ["dev", "advance", "31d"],
                                    env={"COPYTRACK_RPC_URL": node.url, "COPYTRACK_DATA_DIR": str(tmp_path)})
        assert result.exit_code != 0
        assert "chain 5 is not the local development chain" in result.output
        assert node_time(node) - before < 86_400
    finally:
        node.stop()


def node_time(node) -> int:
    from backend.chain.client import connect

    return connect(node.url).eth.get_block("latest")["timestamp"]


def test_amounts_and_durations__parsed_exactly_or_refused():
    assert parse_amount("0.05ETH") == (5 * 10**16, "ETH")
    assert parse_amount("100 cpy") == (100 * 10**18, "CPY")
    assert parse_duration("365d") == 365 * 86_400 and parse_duration("90m") == 5_400
    for bad in ("-1ETH", "0", "1.0000000000000000001", "five"):
        with pytest.raises(click.BadParameter, match=re.escape(bad)):
            parse_amount(bad)
    with pytest.raises(click.BadParameter, match="not a duration"):
        parse_duration("a year")
