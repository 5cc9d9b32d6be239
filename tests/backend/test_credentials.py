"""Credentials (issue 14): who may make keys, what signing out does, SIWE's clock and nonces,
strangers learn nothing from ids, and a reported transaction must be the real registration."""

from datetime import datetime, timedelta, timezone

from tests.backend.test_auth import _nonce, _signed
from tests.backend.conftest import siwe_message
from tests.backend.test_images_api import upload
from tests.backend.test_registration import send_own_transaction
from tests.images import jpeg


def _create_key(client, headers, name="ci") -> dict:
    answer = client.post("/api/v1/api-keys", json={"name": name}, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_api_key__cannot_create_api_keys(client, auth, wallet):
    key = _create_key(client, auth.headers(wallet))["key"]
    answer = client.post("/api/v1/api-keys", json={"name": "child"}, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 403
    assert "sign in with your wallet" in answer.get_json()["error"]["message"]
    listed = client.get("/api/v1/api-keys", headers=auth.headers(wallet)).get_json()["api_keys"]
    assert [k["name"] for k in listed] == ["ci"]


def test_logout_with_an_api_key__revokes_it_and_says_so(client, auth, wallet):
    key = _create_key(client, auth.headers(wallet))
    headers = {"Authorization": f"Bearer {key['key']}"}
    answer = client.post("/api/v1/auth/logout", headers=headers)
    assert answer.status_code == 200
    assert answer.get_json() == {"signed_out": True, "ended": "api_key_revoked"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    listed = client.get("/api/v1/api-keys", headers=auth.headers(wallet)).get_json()["api_keys"]
    assert listed[0]["revoked"] is True


def test_logout_with_a_session__says_the_session_ended(client, auth, wallet):
    answer = client.post("/api/v1/auth/logout", headers=auth.headers(wallet))
    assert answer.get_json() == {"signed_out": True, "ended": "session_ended"}


def _issued(delta: timedelta) -> str:
    return (datetime.now(timezone.utc) + delta).isoformat().replace("+00:00", "Z")


def test_sign_in__issued_in_the_future__is_refused(client, wallet):
    message = siwe_message(wallet, nonce=_nonce(client), issued_at=_issued(timedelta(minutes=10)))
    answer = client.post("/api/v1/auth/login", json={"message": message, "signature": _signed(wallet, message)})
    assert answer.status_code == 401
    assert "in the future" in answer.get_json()["error"]["message"]


def test_sign_in__issued_within_the_clock_skew__is_accepted(client, wallet):
    message = siwe_message(wallet, nonce=_nonce(client), issued_at=_issued(timedelta(seconds=20)))
    answer = client.post("/api/v1/auth/login", json={"message": message, "signature": _signed(wallet, message)})
    assert answer.status_code == 200, answer.get_json()


def test_sign_in__a_refused_attempt_consumes_the_nonce(client, wallet, other_wallet):
    nonce = _nonce(client)
    message = siwe_message(wallet, nonce=nonce)
    refused = client.post("/api/v1/auth/login", json={"message": message, "signature": _signed(other_wallet, message)})
    assert refused.status_code == 401
    retry = client.post("/api/v1/auth/login", json={"message": message, "signature": _signed(wallet, message)})
    assert retry.status_code == 401
    assert "already used" in retry.get_json()["error"]["message"]
    wrong_domain = siwe_message(wallet, nonce=_nonce(client), domain="evil.example")
    client.post("/api/v1/auth/login", json={"message": wrong_domain, "signature": _signed(wallet, wrong_domain)})
    fixed = wrong_domain.replace("evil.example", "copytrack.test")
    assert client.post("/api/v1/auth/login", json={"message": fixed, "signature": _signed(wallet, fixed)}).status_code == 401


def test_someone_elses_things__are_404_like_missing_ones(client, auth, wallet, other_wallet):
    mine = auth.headers(wallet)
    theirs = auth.headers(other_wallet)
    key = _create_key(client, mine)
    collection = client.post("/api/v1/collections", json={"name": "c"}, headers=mine).get_json()
    category = client.post("/api/v1/categories", json={"name": "c"}, headers=mine).get_json()
    image = upload(client, mine, jpeg(80)).get_json()["image"]
    for method, path, body in [
        ("DELETE", f"/api/v1/api-keys/{key['id']}", None),
        ("PATCH", f"/api/v1/collections/{collection['id']}", {"name": "x"}),
        ("PATCH", f"/api/v1/categories/{category['id']}", {"name": "x"}),
        ("GET", f"/api/v1/images/{image['id']}", None),
        ("PATCH", f"/api/v1/images/{image['id']}", {"title": "x"}),
        ("GET", f"/api/v1/images/{image['id']}/registration", None),
    ]:
        answer = client.open(path, method=method, json=body, headers=theirs)
        assert answer.status_code == 404, (method, path, answer.get_json())
        assert "of yours" in answer.get_json()["error"]["message"]


def test_submitted__refuses_a_malformed_hash(client, auth, wallet, chain):
    headers = auth.headers(wallet)
    image = upload(client, headers, jpeg(81)).get_json()["image"]
    for bad in ["0x" + "zz" * 32, "ab" * 33, "0x" + "ab" * 31, 12]:
        answer = client.post(f"/api/v1/images/{image['id']}/submitted", json={"tx_hash": bad}, headers=headers)
        assert answer.status_code == 400, bad
    assert client.get(f"/api/v1/images/{image['id']}", headers=headers).get_json()["status"] == "uploaded"


def test_submitted__refuses_a_transaction_the_chain_does_not_know(client, auth, wallet, chain):
    headers = auth.headers(wallet)
    image = upload(client, headers, jpeg(82)).get_json()["image"]
    answer = client.post(f"/api/v1/images/{image['id']}/submitted", json={"tx_hash": "0x" + "ab" * 32}, headers=headers)
    assert answer.status_code == 400
    assert "knows no transaction" in answer.get_json()["error"]["message"]
    assert client.get(f"/api/v1/images/{image['id']}", headers=headers).get_json()["status"] == "uploaded"


def test_submitted__refuses_a_transaction_for_another_image_or_sender(client, auth, wallet, other_wallet, chain):
    headers = auth.headers(wallet)
    first = upload(client, headers, jpeg(83)).get_json()
    second = upload(client, headers, jpeg(84)).get_json()
    tx_hash = send_own_transaction(chain, wallet, first["registration_request"]["transaction"])
    wrong_image = client.post(f"/api/v1/images/{second['image']['id']}/submitted", json={"tx_hash": tx_hash},
                              headers=headers)
    assert wrong_image.status_code == 400
    assert "does not register this image" in wrong_image.get_json()["error"]["message"]
    others = auth.headers(other_wallet)
    copy = upload(client, others, jpeg(83)).get_json()
    by_someone_else = client.post(f"/api/v1/images/{copy['image']['id']}/submitted", json={"tx_hash": tx_hash},
                                  headers=others)
    assert by_someone_else.status_code == 400
    assert "not by this image's owner" in by_someone_else.get_json()["error"]["message"]
    chain.fund(wallet.address)
    plain = chain.w3.eth.send_transaction({"from": chain.w3.eth.accounts[0], "to": wallet.address, "value": 1})
    not_a_call = client.post(f"/api/v1/images/{second['image']['id']}/submitted",
                             json={"tx_hash": plain.to_0x_hex()}, headers=headers)
    assert not_a_call.status_code == 400
    right = client.post(f"/api/v1/images/{first['image']['id']}/submitted", json={"tx_hash": tx_hash}, headers=headers)
    assert right.status_code == 200 and right.get_json()["status"] == "submitted"
    assert client.get(f"/api/v1/images/{second['image']['id']}", headers=headers).get_json()["status"] == "uploaded"
