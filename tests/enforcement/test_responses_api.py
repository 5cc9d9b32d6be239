"""The recipient's side over HTTP: see the case with the secret, pay on-chain, upload a licence, dispute."""

from __future__ import annotations

import io

from sqlalchemy import select

from backend.app import create_app
from backend.enforcement.models import Case, CaseMessage
from tests.enforcement.ladder import open_test_case, register_with_mandate


def test_recipient__sees_the_case_and_pays_an_instalment_with_the_given_transaction(services, chain):
    setup = register_with_mandate(services, chain, seed=91)
    opened = open_test_case(setup)
    client = create_app(services=services).test_client()
    url = f"/api/v1/responses/{opened.public_code}"

    assert client.get(url).status_code == 401
    wrong = client.get(url, headers={"X-Case-Secret": "guess"})
    assert wrong.status_code == 401 and "printed on the first letter" in wrong.get_json()["error"]["message"]
    assert client.get("/api/v1/responses/CT-00000000", headers={"X-Case-Secret": "guess"}).status_code == 401

    headers = {"X-Case-Secret": opened.secret}
    body = client.get(url, query_string={"amount": str(5 * 10**16)}, headers=headers).get_json()
    assert body["reference"] == opened.public_code and body["stage"] == "post_licensing_letter"
    assert body["claim"]["total"] == str(15 * 10**16) and body["outstanding"] == str(15 * 10**16)
    assert body["registration"]["verify_url"].endswith(f"/verify/{setup.registration_id}")
    assert body["mandate"]["signature"] == setup.mandate["signature"]
    payment = body["payment"]
    assert payment["value"] == str(5 * 10**16) and payment["chainId"] == "31337"

    payer = chain.w3.eth.accounts[4]
    tx = chain.w3.eth.send_transaction({"from": payer, "to": payment["to"], "data": payment["data"], "value": int(payment["value"])})
    assert chain.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    services.indexer().poll()  # what is paid is what the chain indexer recorded
    after = client.get(url, headers=headers).get_json()
    assert (after["paid"], after["outstanding"]) == (str(5 * 10**16), str(10 * 10**16))
    too_much = client.get(url, query_string={"amount": str(10**18)}, headers=headers)
    assert too_much.status_code == 400 and "at most the" in too_much.get_json()["error"]["message"]


def test_recipient__licence_proof_and_dispute_pause_the_case(services, chain):
    setup = register_with_mandate(services, chain, seed=92)
    opened = open_test_case(setup)
    client = create_app(services=services).test_client()
    url = f"/api/v1/responses/{opened.public_code}"
    headers = {"X-Case-Secret": opened.secret}

    empty = client.post(f"{url}/dispute", json={"message": " "}, headers=headers)
    assert empty.status_code == 400
    proof = client.post(f"{url}/licence-proof", headers=headers,
                        data={"file": (io.BytesIO(b"%PDF licence"), "licence.pdf"), "note": "bought in 2024"})
    assert proof.status_code == 201
    assert client.post(f"{url}/dispute", json={"message": "we bought it from the agency"}, headers=headers).status_code == 201
    with services.db.session() as db:
        case = db.get(Case, opened.case_id)
        events = [e.event for e in case.timeline]
        messages = [m.body for m in db.scalars(select(CaseMessage))]
    assert case.status == "paused" and case.deadline is None
    assert events[-2:] == ["licence_proof", "disputed"]
    assert messages == ["bought in 2024", "we bought it from the agency"]
