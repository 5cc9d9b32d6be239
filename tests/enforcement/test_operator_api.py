"""The operator's endpoints: only the addresses in `enforcement_operators` see the review queue,
the partners per country and the verification levels; a level is set by the transaction the API
hands to the operator's own wallet (an attestor's)."""

from __future__ import annotations

import pytest
from eth_account import Account

from backend.app import create_app
from backend.config import ANVIL_DEPLOYER_KEY
from backend.enforcement.cases import hold
from tests.backend.conftest import Auth
from tests.enforcement.ladder import open_test_case, register_with_mandate

ATTESTOR = Account.from_key(ANVIL_DEPLOYER_KEY)  # the deployer is the register's first attestor
NOT_ATTESTOR = Account.create()
STRANGER = Account.create()
OPERATORS = {"enforcement_operators": f"{ATTESTOR.address}, {NOT_ATTESTOR.address.lower()}"}


@pytest.mark.parametrize("settings", [OPERATORS], indirect=True)
def test_operator__sees_review_queue_partners_and_levels__sets_a_level_with_own_wallet(services, chain):
    setup = register_with_mandate(services, chain, seed=71)
    opened = open_test_case(setup)
    operators = services.settings.operator_addresses
    hold(setup.env, opened.case_id, ATTESTOR.address, "the owner asked us to check the licence", operators)
    client = create_app(services=services).test_client()
    auth = Auth(client)
    headers = auth.headers(ATTESTOR)

    page = client.get("/api/v1/operator", headers=headers).get_json()
    [waiting] = page["review"]
    assert (waiting["reference"], waiting["status"]) == (opened.public_code, "held")
    assert waiting["why"]["event"] == "held" and waiting["why"]["detail"]["reason"] == "the owner asked us to check the licence"
    germany = next(c for c in page["partners"] if c["country"] == "DE")
    assert germany["name"] == "Germany" and germany["partners"] and "@" in germany["partners"][0]["email"]
    assert all(c["partners"] for c in page["partners"])
    assert {"address": setup.owner.address, "level": 0, "registrations": 1} in page["verifications"]

    answer = client.post("/api/v1/operator/verifications", json={"account": setup.owner.address, "level": 2}, headers=headers)
    [tx] = answer.get_json()["transactions"]
    assert (tx["step"], tx["from"], tx["value"]) == ("set_verification", ATTESTOR.address, "0")
    sent = chain.w3.eth.send_transaction({"from": tx["from"], "to": tx["to"], "data": tx["data"]})
    assert chain.w3.eth.wait_for_transaction_receipt(sent)["status"] == 1
    chain.mine(3)
    services.indexer().poll()
    levels = client.get("/api/v1/operator", headers=headers).get_json()["verifications"]
    assert {"address": setup.owner.address, "level": 2, "registrations": 1} in levels

    too_high = client.post("/api/v1/operator/verifications", json={"account": setup.owner.address, "level": 3}, headers=headers)
    assert too_high.status_code == 400 and "verified creator" in too_high.get_json()["error"]["message"]
    no_role = client.post("/api/v1/operator/verifications", json={"account": setup.owner.address, "level": 1},
                          headers=auth.headers(NOT_ATTESTOR))
    assert no_role.status_code == 422 and "ATTESTOR_ROLE" in no_role.get_json()["error"]["message"]


@pytest.mark.parametrize("settings", [OPERATORS], indirect=True)
def test_operator_page__is_not_found_for_anyone_else(services, chain):
    client = create_app(services=services).test_client()
    assert client.get("/api/v1/operator").status_code == 401
    headers = Auth(client).headers(STRANGER)
    for answer in (client.get("/api/v1/operator", headers=headers),
                   client.post("/api/v1/operator/verifications", json={"account": STRANGER.address, "level": 1},
                               headers=headers)):
        assert answer.status_code == 404 and "enforcement_operators" in answer.get_json()["error"]["message"]
