"""The local node and the deployment record."""

import json

import pytest

from backend.chain.client import connect
from backend.chain.deploy import ensure_deployed, read_deployment
from backend.chain.node import AnvilNode, NodeError
from backend.config import ANVIL_DEPLOYER_KEY
from tests.backend.conftest import free_port


def test_deployment_is_reused_while_the_chain_has_it(anvil, tmp_path, chain):
    path = tmp_path / "deployment.json"
    first = ensure_deployed(connect(anvil.url), ANVIL_DEPLOYER_KEY, path)
    again = ensure_deployed(connect(anvil.url), ANVIL_DEPLOYER_KEY, path)
    assert again == first
    assert read_deployment(path) == first


def test_deployment_on_a_fresh_chain__is_redone(tmp_path):
    path = tmp_path / "deployment.json"
    with AnvilNode(free_port()) as node:
        first = ensure_deployed(connect(node.url), ANVIL_DEPLOYER_KEY, path)
    with AnvilNode(free_port()) as node:  # a new chain: nothing at the recorded address
        path.write_text(json.dumps({**first.to_json(), "contracts": {
            "CopyrightRegister": {"address": "0x" + "11" * 20, "block": 1}}}))
        second = ensure_deployed(connect(node.url), ANVIL_DEPLOYER_KEY, path)
        assert len(connect(node.url).eth.get_code(second.address("CopyrightRegister"))) > 0
    assert second.address("CopyrightRegister") != "0x" + "11" * 20


def test_unreadable_deployment_file__says_how_to_recover(tmp_path):
    path = tmp_path / "deployment.json"
    path.write_text("{not json")
    with pytest.raises(RuntimeError, match="delete it to redeploy"):
        read_deployment(path)


def test_anvil_on_a_busy_port__clear_error(anvil):
    with pytest.raises(NodeError, match="already in use"):
        AnvilNode(anvil.port).start()


def test_chain_state_survives_a_restart(tmp_path):
    state = tmp_path / "chain-state.json"
    port = free_port()
    with AnvilNode(port, state_file=state) as node:
        deployment = ensure_deployed(connect(node.url), ANVIL_DEPLOYER_KEY, tmp_path / "d.json")
    with AnvilNode(port, state_file=state) as node:
        w3 = connect(node.url)
        assert len(w3.eth.get_code(deployment.address("CopyrightRegister"))) > 0
