from datetime import datetime, timedelta, timezone

from eth_account.messages import encode_defunct

from tests.backend.conftest import siwe_message


def _nonce(client) -> str:
    return client.post("/api/v1/auth/nonce").get_json()["nonce"]


def _signed(account, message: str) -> str:
    return account.sign_message(encode_defunct(text=message)).signature.to_0x_hex()


def test_sign_in__returns_a_token_that_identifies_the_wallet(client, auth, wallet):
    token = auth.login(wallet)
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json()["address"] == wallet.address


def test_sign_in__replayed_message__is_rejected(client, wallet):
    message = siwe_message(wallet, nonce=_nonce(client))
    body = {"message": message, "signature": _signed(wallet, message)}
    assert client.post("/api/v1/auth/login", json=body).status_code == 200
    replay = client.post("/api/v1/auth/login", json=body)
    assert replay.status_code == 401
    assert "already used" in replay.get_json()["error"]["message"]


def test_sign_in__altered_message__is_rejected(client, wallet):
    message = siwe_message(wallet, nonce=_nonce(client))
    signature = _signed(wallet, message)
    altered = message.replace("Sign in to Copytrack", "Sign in to Copytrack as admin")
    answer = client.post("/api/v1/auth/login", json={"message": altered, "signature": signature})
    assert answer.status_code == 401
    assert "does not verify" in answer.get_json()["error"]["message"]


def test_sign_in__someone_elses_signature__is_rejected(client, wallet, other_wallet):
    message = siwe_message(wallet, nonce=_nonce(client))
    answer = client.post("/api/v1/auth/login", json={"message": message, "signature": _signed(other_wallet, message)})
    assert answer.status_code == 401


def test_sign_in__wrong_domain__is_rejected(client, wallet):
    message = siwe_message(wallet, domain="evil.example", nonce=_nonce(client))
    answer = client.post("/api/v1/auth/login", json={"message": message, "signature": _signed(wallet, message)})
    assert answer.status_code == 401
    assert "evil.example" in answer.get_json()["error"]["message"]


def test_sign_in__wrong_chain__is_rejected(client, wallet):
    message = siwe_message(wallet, chain_id=1, nonce=_nonce(client))
    answer = client.post("/api/v1/auth/login", json={"message": message, "signature": _signed(wallet, message)})
    assert answer.status_code == 401
    assert "chain 1" in answer.get_json()["error"]["message"]


def test_sign_in__unknown_nonce__is_rejected(client, wallet):
    message = siwe_message(wallet, nonce="a1b2c3d4e5f6a7b8")
    answer = client.post("/api/v1/auth/login", json={"message": message, "signature": _signed(wallet, message)})
    assert answer.status_code == 401
    assert "unknown sign-in nonce" in answer.get_json()["error"]["message"]


def test_sign_in__expired_nonce__is_rejected(client, wallet, services):
    from backend.models import LoginNonce

    nonce = _nonce(client)
    with services.db.session() as db:
        db.get(LoginNonce, nonce).expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    message = siwe_message(wallet, nonce=nonce)
    answer = client.post("/api/v1/auth/login", json={"message": message, "signature": _signed(wallet, message)})
    assert answer.status_code == 401
    assert "expired" in answer.get_json()["error"]["message"]


def test_sign_in__expired_message__is_rejected(client, wallet):
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    message = siwe_message(wallet, nonce=_nonce(client), expiration_time=past)
    answer = client.post("/api/v1/auth/login", json={"message": message, "signature": _signed(wallet, message)})
    assert answer.status_code == 401


def test_sign_in__garbage__is_a_clear_400(client):
    answer = client.post("/api/v1/auth/login", json={"message": "hello", "signature": "0x00"})
    assert answer.status_code == 400
    assert "EIP-4361" in answer.get_json()["error"]["message"]
    assert client.post("/api/v1/auth/login", data="not json").status_code == 400


def test_protected_endpoint__without_token__is_401(client):
    answer = client.get("/api/v1/images")
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "unauthenticated"


def test_logout__ends_the_session(client, auth, wallet):
    headers = {"Authorization": f"Bearer {auth.login(wallet)}"}
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 200
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_api_key__is_shown_once_stored_hashed_and_revocable(client, auth, wallet, services):
    from backend.models import ApiKey

    headers = auth.headers(wallet)
    created = client.post("/api/v1/api-keys", json={"name": "ci uploader"}, headers=headers)
    assert created.status_code == 201
    key = created.get_json()["key"]
    assert key.startswith("ctk_")
    with services.db.session() as db:
        stored = db.query(ApiKey).one()
        assert key not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
    listed = client.get("/api/v1/api-keys", headers=headers).get_json()["api_keys"]
    assert "key" not in listed[0]
    key_headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/auth/me", headers=key_headers).get_json()["address"] == wallet.address
    assert client.delete(f"/api/v1/api-keys/{listed[0]['id']}", headers=headers).status_code == 200
    assert client.get("/api/v1/auth/me", headers=key_headers).status_code == 401


def test_api_key__of_another_account__cannot_be_revoked(client, auth, wallet, other_wallet):
    created = client.post("/api/v1/api-keys", json={"name": "mine"}, headers=auth.headers(wallet)).get_json()
    answer = client.delete(f"/api/v1/api-keys/{created['id']}", headers=auth.headers(other_wallet))
    assert answer.status_code == 404


def test_api_key__needs_a_name(client, auth, wallet):
    answer = client.post("/api/v1/api-keys", json={"name": " "}, headers=auth.headers(wallet))
    assert answer.status_code == 400


def test_session__never_outlives_the_signed_expiration(client, wallet, services):
    from backend.models import AuthSession

    soon = (datetime.now(timezone.utc) + timedelta(minutes=5)).replace(microsecond=0)
    message = siwe_message(wallet, nonce=_nonce(client), expiration_time=soon.isoformat().replace("+00:00", "Z"))
    answer = client.post("/api/v1/auth/login", json={"message": message, "signature": _signed(wallet, message)})
    assert answer.status_code == 200
    assert datetime.fromisoformat(answer.get_json()["expires_at"]) == soon


def test_expired_nonces_and_sessions__are_purged(client, auth, wallet, services):
    from backend import accounts
    from backend.models import AuthSession, LoginNonce

    auth.login(wallet)
    _nonce(client)
    with services.db.session() as db:
        for row in [*db.query(LoginNonce), *db.query(AuthSession)]:
            row.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    with services.db.session() as db:
        assert accounts.purge_expired(db) == 3
    with services.db.session() as db:
        assert db.query(LoginNonce).count() == 0 and db.query(AuthSession).count() == 0
