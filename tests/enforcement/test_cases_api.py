"""The owner's enforcement endpoints: sign the mandate the API hands out, see and act on cases."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from backend.app import create_app
from backend.enforcement.owner import _from_json
from tests.backend.conftest import Auth
from tests.enforcement.ladder import open_test_case, register_with_mandate


def test_owner__signs_a_mandate_and_acts_on_their_case_only(services, chain):
    setup = register_with_mandate(services, chain, seed=97)
    client = create_app(services=services).test_client()
    auth = Auth(client)
    owner_headers, stranger = auth.headers(setup.owner), Account.create()
    stranger_headers = auth.headers(stranger)

    asked = client.get("/api/v1/mandates/typed-data", query_string={"registration_id": setup.registration_id, "days": 1000},
                       headers=owner_headers)
    assert asked.status_code == 200, asked.get_json()
    typed = asked.get_json()["typed_data"]
    assert isinstance(typed["message"]["expiry"], str) and isinstance(typed["message"]["registration_id"], str)
    assert client.get("/api/v1/mandates/typed-data", query_string={"registration_id": setup.registration_id},
                      headers=stranger_headers).status_code == 403
    forged = Account.sign_message(encode_typed_data(full_message=_from_json(typed)), stranger.key).signature.to_0x_hex()
    assert client.post("/api/v1/mandates", json={"typed_data": typed, "signature": forged}, headers=owner_headers).status_code == 403
    signature = Account.sign_message(encode_typed_data(full_message=_from_json(typed)), setup.owner.key).signature.to_0x_hex()
    recorded = client.post("/api/v1/mandates", json={"typed_data": typed, "signature": signature}, headers=owner_headers)
    assert recorded.status_code == 201, recorded.get_json()
    assert recorded.get_json()["mandate"]["signature"] == signature

    opened = open_test_case(setup)
    [listed] = client.get("/api/v1/cases", headers=owner_headers).get_json()["cases"]
    assert listed["reference"] == opened.public_code and listed["claim"]["total"] == str(15 * 10**16)
    assert client.get("/api/v1/cases", headers=stranger_headers).get_json()["cases"] == []
    assert client.get(f"/api/v1/cases/{opened.case_id}", headers=stranger_headers).status_code == 404
    assert client.post(f"/api/v1/cases/{opened.case_id}/hold", json={"reason": "x"}, headers=stranger_headers).status_code == 403

    services.indexer().poll()  # the escrow's state as the chain indexer recorded it
    held = client.post(f"/api/v1/cases/{opened.case_id}/hold", json={"reason": "in talks"}, headers=owner_headers).get_json()
    assert held["status"] == "held" and held["escrow"]["step"] == "post_licensing_letter"
    talk = client.post(f"/api/v1/cases/{opened.case_id}/messages", json={"body": "they called"}, headers=owner_headers)
    assert talk.status_code == 201 and talk.get_json()["messages"][0]["role"] == "rights_holder"
    closed = client.post(f"/api/v1/cases/{opened.case_id}/close", json={"reason": "settled by phone"}, headers=owner_headers)
    assert closed.get_json()["status"] == "closed"
    services.indexer().poll()
    escrow = client.get(f"/api/v1/cases/{opened.case_id}", headers=owner_headers).get_json()["escrow"]
    assert escrow["step"] == "closed" and escrow["payments"] == []
    again = client.post(f"/api/v1/cases/{opened.case_id}/close", json={"reason": "again"}, headers=owner_headers)
    assert again.status_code == 409


OPERATOR = Account.from_key("0x" + "0e" * 32)


@pytest.mark.parametrize("settings", [{"enforcement_operators": f"0x{'1' * 40}, {OPERATOR.address}"}], indirect=True)
def test_operator__sees_and_acts_on_every_case(services, chain):
    setup = register_with_mandate(services, chain, seed=98)
    opened = open_test_case(setup)
    operator = OPERATOR
    client = create_app(services=services).test_client()
    headers = Auth(client).headers(operator)
    assert [c["id"] for c in client.get("/api/v1/cases", headers=headers).get_json()["cases"]] == [opened.case_id]
    held = client.post(f"/api/v1/cases/{opened.case_id}/hold", json={"reason": "checking the licence"}, headers=headers)
    assert held.status_code == 200 and held.get_json()["timeline"][-1]["actor"] == operator.address
