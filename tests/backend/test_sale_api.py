"""The CPY sale for investors on a real anvil chain: the operator's Merkle allow-list kept by the
backend, proofs served per investor, contribution limits, finalization and claiming."""

from __future__ import annotations

import pytest
from eth_account import Account

from backend.chain.allow_list import MerkleAllowList
from backend.chain.client import operator, transact
from backend.chain.sale import store_allow_list
from backend.config import ANVIL_DEPLOYER_KEY
from tests.backend.test_market import DAY, advance, send


@pytest.fixture
def investor():
    return Account.create()


def allow_list(services, *addresses: str) -> bytes:
    """What `copytrack sale admin allowlist` does: keep the proofs, publish the root."""
    tree = MerkleAllowList.build(list(addresses))
    with services.db.session() as db:
        store_allow_list(db, tree)
    sale = services.sale()
    transact(services.w3, operator(ANVIL_DEPLOYER_KEY), sale.contract.functions.set_allow_list_root(tree.root))
    return tree.root


def test_status__rate_caps_window_and_state(client, chain, services):
    answer = client.get("/api/v1/sale")
    assert answer.status_code == 200, answer.get_json()
    status = answer.get_json()
    assert status["open"] is True and status["finalized"] is False and status["paused"] is False
    assert int(status["hard_cap"]) > 0 and status["tokens_sold"] == "0" and status["burned"] == "0"
    assert int(status["max_contribution"]) == 2_500 * 10**18
    assert int(status["closing_time"]) - int(status["opening_time"]) == 30 * DAY
    assert status["tranches"] and status["rate"] == status["tranches"][0]["rate"]
    assert (status["token_symbol"], status["token_decimals"]) == ("CPY", 18)
    assert int(status["opening_time"]) <= int(status["chain_time"]) < int(status["closing_time"])
    # the vesting schedules are public: a page shows them before any wallet is connected
    assert [v["name"] for v in status["vesting"]] == ["BusinessDevelopmentVesting", "FoundersVesting"]
    assert all(int(v["total"]) > 0 and v["released"] == "0" for v in status["vesting"])


def test_investor_journey__proof_contribute_limit_finalize_claim(client, chain, services, investor):
    root = allow_list(services, investor.address, Account.create().address, Account.create().address)
    standing = client.get(f"/api/v1/sale/investors/{investor.address}").get_json()
    assert standing["allow_listed"] is True and standing["allow_listed_by"] == "merkle"
    assert standing["merkle_proof"] and standing["contributed"] == "0"
    assert client.get("/api/v1/sale").get_json()["allow_list_root"] == "0x" + root.hex()
    chain.fund(investor.address, 3_000)
    answer = client.post("/api/v1/sale/contribute", json={"investor": investor.address, "amount": "1.5"})
    assert answer.status_code == 200, answer.get_json()
    send(chain, investor, answer.get_json()["transactions"][0])
    standing = client.get(f"/api/v1/sale/investors/{investor.address}").get_json()
    assert standing["contributed"] == str(15 * 10**17) and int(standing["tokens_owed"]) > 0
    services.indexer().poll()
    assert client.get(f"/api/v1/sale/investors/{investor.address}").get_json()["allow_listed_by"] == "merkle"
    assert int(standing["remaining_allowance"]) == 2_500 * 10**18 - 15 * 10**17
    too_much = client.post("/api/v1/sale/contribute", json={"investor": investor.address, "amount": "2499"})
    assert too_much.status_code == 400 and "remaining allowance" in too_much.get_json()["error"]["message"]
    early = client.post("/api/v1/sale/claim", json={"investor": investor.address})
    assert early.status_code == 422 and "not finalized" in early.get_json()["error"]["message"]
    advance(chain, 31 * DAY)
    sale = services.sale()
    transact(services.w3, operator(ANVIL_DEPLOYER_KEY), sale.contract.functions.finalize())
    services.indexer().poll()
    status = client.get("/api/v1/sale").get_json()
    assert status["finalized"] is True and int(status["burned"]) > 0
    claimable = client.get(f"/api/v1/sale/investors/{investor.address}").get_json()["claimable"]
    claim = client.post("/api/v1/sale/claim", json={"investor": investor.address})
    assert claim.status_code == 200, claim.get_json()
    send(chain, investor, claim.get_json()["transactions"][0])
    assert sale.token.functions.balanceOf(investor.address).call() == int(claimable) > 0


def test_investor_not_listed__no_proof_and_contribution_refused(client, chain, services, investor):
    allow_list(services, Account.create().address)
    standing = client.get(f"/api/v1/sale/investors/{investor.address}").get_json()
    assert standing["allow_listed"] is False and standing["merkle_proof"] is None
    chain.fund(investor.address, 10)
    answer = client.post("/api/v1/sale/contribute", json={"investor": investor.address, "amount": "1"})
    assert answer.status_code == 422 and "allow" in answer.get_json()["error"]["message"]


def test_hostile_input__clear_4xx(client, chain, services, investor):
    assert client.get("/api/v1/sale/investors/0x1234").status_code == 400
    for amount in ("-1", "0", "abc", "1e400", "0.0000000000000000001"):
        answer = client.post("/api/v1/sale/contribute", json={"investor": investor.address, "amount": amount})
        assert answer.status_code == 400, (amount, answer.get_json())
    assert client.post("/api/v1/sale/claim", json={"investor": "me"}).status_code == 400
    assert client.post("/api/v1/sale/refund", json={}).status_code == 400


def test_sale_events__indexed_and_rolled_back_with_a_reorg(client, chain, services, investor):
    from backend.marketplace.models import SaleInvestor

    allow_list(services, investor.address)
    before = chain.snapshot()
    chain.fund(investor.address, 10)
    send(chain, investor, client.post("/api/v1/sale/contribute", json={"investor": investor.address, "amount": "1"})
         .get_json()["transactions"][0])
    services.indexer().poll()
    with services.db.session() as db:
        row = db.get(SaleInvestor, investor.address)
        assert row.allow_listed_by == "merkle" and row.contributed == str(10**18) and int(row.tokens_bought) > 0
    chain.revert(before)
    chain.mine(3)
    assert services.indexer().poll().rolled_back_to is not None
    with services.db.session() as db:
        assert db.get(SaleInvestor, investor.address) is None
