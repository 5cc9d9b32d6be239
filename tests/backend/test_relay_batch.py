"""Gasless registration of many images under ONE signature, on a real anvil chain: the API drafts
the `RevealBatch` message, the relayer commits once, the chain job reveals the batch a block later,
and every image ends registered or says why. Batches signed at the same time never spoil each
other (the defect of sequential nonces: 32 images gave 4 registrations)."""

import pytest
from eth_account import Account

from backend.registry.relay import advance_batches
from tests.backend.test_images_api import upload
from tests.backend.test_registration import sign_typed
from tests.images import jpeg


def uploaded_ids(client, headers, seeds) -> list[int]:
    return [upload(client, headers, jpeg(seed, size=(64, 48))).get_json()["image"]["id"] for seed in seeds]


def draft(client, headers, image_ids):
    answer = client.post("/api/v1/images/relay-batch/draft", json={"image_ids": image_ids}, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def submit(client, headers, drafted, account, **overrides):
    body = {
        "image_ids": drafted["image_ids"],
        "signature": sign_typed(account, drafted["typed_data"]),
        "salt": drafted["salt"],
        "nonce": drafted["nonce"],
        "deadline": drafted["deadline"],
        **overrides,
    }
    return client.post("/api/v1/images/relay-batch", json=body, headers=headers)


def chain_job(services, chain) -> int:
    """What the backend's chain job does a block after the commit: reveal, then index."""
    chain.mine(1)
    revealed = advance_batches(services.db, services.register(), services.settings.relayer_key)
    services.indexer().poll()
    return revealed


def statuses(client, headers, image_ids) -> list[str]:
    return [client.get(f"/api/v1/images/{i}", headers=headers).get_json()["status"] for i in image_ids]


def test_relay_batch__one_signature__registers_every_image_for_the_signer(client, auth, wallet, chain, services):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, range(300, 306))
    drafted = draft(client, headers, ids)
    assert drafted["typed_data"]["primaryType"] == "RevealBatch"
    assert len(drafted["typed_data"]["message"]["items"]) == 6

    answer = submit(client, headers, drafted, wallet)

    assert answer.status_code == 202, answer.get_json()
    batch = answer.get_json()
    assert batch["status"] == "committed"
    assert [i["status"] for i in batch["images"]] == ["committed"] * 6
    assert chain_job(services, chain) == 1
    assert statuses(client, headers, ids) == ["registered"] * 6
    shown = client.get(f"/api/v1/images/relay-batch/{batch['id']}", headers=headers).get_json()
    assert shown["status"] == "revealed" and shown["reveal_tx_hash"]
    owners = {services.register().registration(int(i["sha256"], 16))["owner"] for i in batch["images"]}
    assert owners == {wallet.address}
    assert chain.w3.eth.get_balance(wallet.address) == 0  # the owner paid nothing


def test_relay_batch__batches_signed_at_the_same_time__all_complete_in_any_order(
    client, auth, wallet, chain, services
):
    headers = auth.headers(wallet)
    groups = [uploaded_ids(client, headers, range(seed, seed + 3)) for seed in (310, 320, 330)]
    drafts = [draft(client, headers, ids) for ids in groups]
    signed = [(d, sign_typed(wallet, d["typed_data"])) for d in drafts]

    for drafted, signature in reversed(signed):
        assert submit(client, headers, drafted, wallet, signature=signature).status_code == 202

    assert chain_job(services, chain) == 3
    assert statuses(client, headers, sum(groups, [])) == ["registered"] * 9


@pytest.mark.parametrize("tamper", ["reordered", "image left out", "nonce", "deadline", "other signer"])
def test_relay_batch__message_that_was_not_signed__is_refused_and_costs_nothing(
    client, auth, wallet, other_wallet, chain, services, tamper
):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, (340, 341, 342))
    drafted = draft(client, headers, ids)
    relayer = services.register().w3.eth.account.from_key(services.settings.relayer_key).address
    sent_before = chain.w3.eth.get_transaction_count(relayer)
    overrides = {
        "reordered": {"image_ids": [ids[1], ids[0], ids[2]]},
        "image left out": {"image_ids": ids[:2]},
        "nonce": {"nonce": str(int(drafted["nonce"]) + 1)},
        "deadline": {"deadline": str(int(drafted["deadline"]) - 1)},
        "other signer": {"signature": sign_typed(other_wallet, drafted["typed_data"])},
    }[tamper]

    answer = submit(client, headers, drafted, wallet, **overrides)

    assert answer.status_code == 403
    assert "not the owner's for this batch" in answer.get_json()["error"]["message"]
    assert statuses(client, headers, ids) == ["uploaded"] * 3
    assert chain.w3.eth.get_transaction_count(relayer) == sent_before


def test_relay_batch__replayed__is_refused(client, auth, wallet, chain, services):
    headers = auth.headers(wallet)
    drafted = draft(client, headers, uploaded_ids(client, headers, (350,)))
    signature = sign_typed(wallet, drafted["typed_data"])
    assert submit(client, headers, drafted, wallet, signature=signature).status_code == 202
    chain_job(services, chain)

    again = submit(client, headers, drafted, wallet, signature=signature)

    assert again.status_code == 409
    assert "registered" in again.get_json()["error"]["message"]


@pytest.mark.parametrize("image_ids, message", [
    ([], "non-empty list"),
    ("1,2", "non-empty list"),
    (list(range(1, 102)), "at most 100 images (101 given)"),
    ([1, 1], "names an image twice"),
    ([2**64], "non-empty list"),
])
def test_relay_batch_draft__bad_image_list__clear_error(client, auth, wallet, chain, image_ids, message):
    answer = client.post("/api/v1/images/relay-batch/draft", json={"image_ids": image_ids},
                         headers=auth.headers(wallet))
    assert answer.status_code == 400
    assert message in answer.get_json()["error"]["message"]


def test_relay_batch_draft__someone_elses_image__not_found(client, auth, wallet, other_wallet, chain):
    [theirs] = uploaded_ids(client, auth.headers(other_wallet), (360,))
    answer = client.post("/api/v1/images/relay-batch/draft", json={"image_ids": [theirs]},
                         headers=auth.headers(wallet))
    assert answer.status_code in (403, 404)


def test_relay_batch__unknown_batch_id__not_found_and_out_of_range__refused(client, auth, wallet):
    headers = auth.headers(wallet)
    assert client.get("/api/v1/images/relay-batch/1", headers=headers).status_code == 404
    assert client.get(f"/api/v1/images/relay-batch/{2**64}", headers=headers).status_code == 400


def test_relay_batch__image_already_in_a_batch__conflict(client, auth, wallet, chain, services):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, (370, 371))
    assert submit(client, headers, draft(client, headers, ids[:1]), wallet).status_code == 202

    answer = client.post("/api/v1/images/relay-batch/draft", json={"image_ids": ids}, headers=headers)

    assert answer.status_code == 409
    assert f"{ids[0]} (committed)" in answer.get_json()["error"]["message"]


def test_relay_batch__commit_lost_by_the_chain__is_sent_again_and_completes(client, auth, wallet, chain, services):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, (380, 381))
    drafted = draft(client, headers, ids)
    relayer = services.register().w3.eth.account.from_key(services.settings.relayer_key).address
    before_commit = chain.snapshot()
    sent_before = chain.w3.eth.get_transaction_count(relayer)
    batch = submit(client, headers, drafted, wallet).get_json()
    assert batch["status"] == "committed"
    chain.revert(before_commit)  # the node forgets the commit (a restarted node without its mempool)
    assert chain.w3.eth.get_transaction_count(relayer) == sent_before

    advance_batches(services.db, services.register(), services.settings.relayer_key)
    resent = client.get(f"/api/v1/images/relay-batch/{batch['id']}", headers=headers).get_json()

    assert resent["status"] == "committed"
    assert chain_job(services, chain) == 1
    assert statuses(client, headers, ids) == ["registered"] * 2


def test_relay_batch__signature_expires_before_the_reveal__every_image_says_why(
    client, auth, wallet, chain, services
):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, (390, 391))
    drafted = draft(client, headers, ids)
    batch = submit(client, headers, drafted, wallet).get_json()
    chain.w3.provider.make_request("evm_increaseTime", [services.settings.registration_deadline + 120])

    assert chain_job(services, chain) == 0

    images = [client.get(f"/api/v1/images/{i}", headers=headers).get_json() for i in ids]
    assert [i["status"] for i in images] == ["uploaded"] * 2
    assert all(f"gasless batch {batch['id']} failed" in i["last_error"] and "expired" in i["last_error"]
               for i in images)
    assert client.get(f"/api/v1/images/relay-batch/{batch['id']}", headers=headers).get_json()["status"] == "failed"


@pytest.mark.parametrize("settings", [{"relayer_key": Account.create().key.to_0x_hex()}], indirect=True)
def test_relay_batch__relayer_without_funds__clear_error_and_nothing_recorded(client, auth, wallet, chain, services):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, (400, 401))

    answer = submit(client, headers, draft(client, headers, ids), wallet)

    assert answer.status_code == 503
    assert "fund it and retry" in answer.get_json()["error"]["message"]
    assert statuses(client, headers, ids) == ["uploaded"] * 2
    assert advance_batches(services.db, services.register(), services.settings.relayer_key) == 0
