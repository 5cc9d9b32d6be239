"""Gasless registration of many images under ONE signature, on a real anvil chain: the API drafts
the `RevealBatch` message, the relayer commits once, the chain job reveals the batch a block later,
and every image ends registered or says why. Batches signed at the same time never spoil each
other (the defect of sequential nonces: 32 images gave 4 registrations)."""

import threading
import time

import pytest
from eth_account import Account

from backend.chain.register import RegisterContract
from backend.cli import CliError, check_draft
from backend.jobs import poll_chain
from backend.models import Image
from backend.registry.relay import MAX_COMMITMENT_AGE, RECEIPT_TIMEOUT, REVEAL_MARGIN, advance_batches, item_for
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


def relayer_sent(services, chain) -> int:
    """How many transactions the relayer has sent (its account nonce)."""
    return chain.w3.eth.get_transaction_count(Account.from_key(services.settings.relayer_key).address)


def register_elsewhere(services, chain, image_id) -> Account:
    """A third party registers the image's bytes with its own transaction (not yet indexed)."""
    third = Account.create()
    chain.fund(third.address)
    with services.db.session() as db:
        item = item_for(db.get(Image, image_id))
    services.register().register_with_key(third.key.to_0x_hex(), [item])
    return third


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


def test_relay_batch__replayed_over_images_uploaded_again__refused_by_its_nonce_and_costs_nothing(
    client, auth, wallet, chain, services
):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, (350,))
    drafted = draft(client, headers, ids)
    signature = sign_typed(wallet, drafted["typed_data"])
    assert submit(client, headers, drafted, wallet, signature=signature).status_code == 202
    chain_job(services, chain)
    with services.db.session() as db:  # only the nonce stands between the replay and the relayer's gas
        db.get(Image, ids[0]).status = "uploaded"
    sent_before = relayer_sent(services, chain)

    again = submit(client, headers, drafted, wallet, signature=signature)

    assert again.status_code == 409
    assert "nonce was already used" in again.get_json()["error"]["message"]
    assert relayer_sent(services, chain) == sent_before


def test_relay_batch__same_images_relayed_by_requests_at_once__the_relayer_commits_only_once(
    app, auth, wallet, chain, services, monkeypatch
):
    headers = auth.headers(wallet)
    client = app.test_client()
    ids = uploaded_ids(client, headers, (352, 353))
    drafts = [draft(client, headers, ids) for _ in range(3)]  # three signed batches over the same images
    bodies = [{"image_ids": d["image_ids"], "signature": sign_typed(wallet, d["typed_data"]), "salt": d["salt"],
               "nonce": d["nonce"], "deadline": d["deadline"]} for d in drafts]
    # Every request has passed the status check before any goes on: the window of the race, made certain.
    all_checked = threading.Barrier(len(bodies), timeout=20)
    signer_of = RegisterContract.signer_of
    monkeypatch.setattr(RegisterContract, "signer_of",
                        staticmethod(lambda typed, sig: (all_checked.wait(), signer_of(typed, sig))[1]))
    sent_before = relayer_sent(services, chain)
    answers = [None] * len(bodies)

    def relay(n):
        answers[n] = app.test_client().post("/api/v1/images/relay-batch", json=bodies[n], headers=headers)

    threads = [threading.Thread(target=relay, args=(n,)) for n in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(a.status_code for a in answers) == [202, 409, 409]
    assert all("another request is registering" in a.get_json()["error"]["message"]
               for a in answers if a.status_code == 409)
    assert relayer_sent(services, chain) == sent_before + 1  # one commit
    assert chain_job(services, chain) == 1
    assert statuses(client, headers, ids) == ["registered"] * 2


def test_relay_batch__registered_elsewhere_before_the_commit_but_not_yet_indexed__fails_as_a_conflict_without_a_reveal(
    client, auth, wallet, chain, services
):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, (354, 355))
    third = register_elsewhere(services, chain, ids[0])
    sent_before = relayer_sent(services, chain)
    batch = submit(client, headers, draft(client, headers, ids), wallet).get_json()  # no content hash asked

    assert chain_job(services, chain) == 0

    shown = client.get(f"/api/v1/images/relay-batch/{batch['id']}", headers=headers).get_json()
    assert shown["status"] == "failed" and "register: " in shown["last_error"]
    conflict = client.get(f"/api/v1/images/{ids[0]}", headers=headers).get_json()
    assert conflict["status"] == "conflict" and third.address in conflict["last_error"]
    assert client.get(f"/api/v1/images/{ids[1]}", headers=headers).get_json()["status"] == "uploaded"
    assert relayer_sent(services, chain) == sent_before + 1  # the commit; the reveal was never sent


def test_relay_batch__registered_elsewhere_and_indexed__refused_before_anything_is_sent(
    client, auth, wallet, chain, services
):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, (356,))
    drafted = draft(client, headers, ids)
    register_elsewhere(services, chain, ids[0])
    services.indexer().poll()
    sent_before = relayer_sent(services, chain)

    answer = submit(client, headers, drafted, wallet)

    assert answer.status_code == 409
    assert f"not: {ids[0]} (conflict)" in answer.get_json()["error"]["message"]
    assert relayer_sent(services, chain) == sent_before


@pytest.mark.parametrize("nonce", ["\u00b2", "1" * 5000, "-1", str(2**256)],
                         ids=["superscript two", "5000 digits", "negative", "2**256"])
def test_relay_batch__nonce_that_is_no_uint256__clear_error(client, auth, wallet, chain, services, nonce):
    headers = auth.headers(wallet)
    drafted = draft(client, headers, uploaded_ids(client, headers, (357,)))

    answer = submit(client, headers, drafted, wallet, nonce=nonce)

    assert answer.status_code == 400
    assert "'nonce' must be the nonce from the signed message" in answer.get_json()["error"]["message"]


def test_relay_batch__reveal_pending_then_dropped__chain_job_neither_waits_nor_signs_again(
    client, auth, wallet, chain, services
):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, (358,))
    batch = submit(client, headers, draft(client, headers, ids), wallet).get_json()
    chain.mine(1)
    chain.w3.provider.make_request("evm_setAutomine", [False])
    try:
        started = time.monotonic()
        advance_batches(services.db, services.register(), services.settings.relayer_key)
        waited = time.monotonic() - started
        pending = client.get(f"/api/v1/images/relay-batch/{batch['id']}", headers=headers).get_json()
        chain.w3.provider.make_request("anvil_dropTransaction", [pending["reveal_tx_hash"]])
    finally:
        chain.w3.provider.make_request("evm_setAutomine", [True])
    assert pending["status"] == "revealing"
    assert waited < RECEIPT_TIMEOUT / 3  # a pending reveal is looked at again next round, not waited for
    sent_before = relayer_sent(services, chain)

    assert chain_job(services, chain) + chain_job(services, chain) == 1

    shown = client.get(f"/api/v1/images/relay-batch/{batch['id']}", headers=headers).get_json()
    assert shown["status"] == "revealed"
    assert shown["reveal_tx_hash"] == pending["reveal_tx_hash"]  # the recorded reveal, sent again as signed
    assert relayer_sent(services, chain) == sent_before + 1
    assert statuses(client, headers, ids) == ["registered"]


def test_relay_batch__reveal_would_land_close_to_the_deadline__not_sent_and_every_image_says_why(
    client, auth, wallet, chain, services
):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, (359,))
    drafted = draft(client, headers, ids)
    batch = submit(client, headers, drafted, wallet).get_json()
    latest = chain.w3.eth.get_block("latest")["timestamp"]
    chain.w3.provider.make_request("evm_increaseTime", [int(drafted["deadline"]) - latest - REVEAL_MARGIN // 2])
    sent_before = relayer_sent(services, chain)

    assert chain_job(services, chain) == 0

    assert client.get(f"/api/v1/images/relay-batch/{batch['id']}", headers=headers).get_json()["status"] == "failed"
    image = client.get(f"/api/v1/images/{ids[0]}", headers=headers).get_json()
    assert image["status"] == "uploaded" and "too close to its deadline" in image["last_error"]
    assert relayer_sent(services, chain) == sent_before  # no content hash was published


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


def test_relay_batch__reveal_dropped_by_a_reorg_after_it_was_mined__sent_again_and_completes(
    client, auth, wallet, chain, services
):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, (409,))
    batch = submit(client, headers, draft(client, headers, ids), wallet).get_json()
    chain.mine(1)
    before_reveal = chain.snapshot()
    assert advance_batches(services.db, services.register(), services.settings.relayer_key) == 1
    revealed = client.get(f"/api/v1/images/relay-batch/{batch['id']}", headers=headers).get_json()
    chain.revert(before_reveal)  # the block with the reveal is gone, before the indexer saw it final

    advance_batches(services.db, services.register(), services.settings.relayer_key)
    chain_job(services, chain)

    shown = client.get(f"/api/v1/images/relay-batch/{batch['id']}", headers=headers).get_json()
    assert shown["status"] == "revealed" and shown["reveal_tx_hash"] == revealed["reveal_tx_hash"]
    assert statuses(client, headers, ids) == ["registered"]
    assert chain.w3.eth.get_transaction_receipt(revealed["reveal_tx_hash"])["status"] == 1


def test_relay_batch__signature_expires_before_the_reveal__every_image_says_why(
    client, auth, wallet, chain, services
):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, (390, 391))
    drafted = draft(client, headers, ids)
    batch = submit(client, headers, drafted, wallet).get_json()
    # Past the deadline by the chain's clock, which earlier tests moved away from the wall clock
    # the deadline was drafted from.
    latest = chain.w3.eth.get_block("latest")["timestamp"]
    chain.w3.provider.make_request("evm_increaseTime", [max(0, int(drafted["deadline"]) - latest) + 120])

    assert chain_job(services, chain) == 0

    images = [client.get(f"/api/v1/images/{i}", headers=headers).get_json() for i in ids]
    assert [i["status"] for i in images] == ["uploaded"] * 2
    assert all(f"gasless batch {batch['id']} failed" in i["last_error"] and "expired" in i["last_error"]
               for i in images)
    assert client.get(f"/api/v1/images/relay-batch/{batch['id']}", headers=headers).get_json()["status"] == "failed"


def test_relay_batch__relayer_can_pay_the_commit_but_not_the_reveal__refused_before_committing(
    client, auth, wallet, chain, services
):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, (402, 403))
    drafted = draft(client, headers, ids)
    relayer = Account.from_key(services.settings.relayer_key).address
    fee = 2 * chain.w3.eth.get_block("latest")["baseFeePerGas"] + chain.w3.eth.max_priority_fee
    chain.w3.provider.make_request("anvil_setBalance", [relayer, hex(80_000 * fee)])  # a commit, no reveal
    sent_before = relayer_sent(services, chain)

    answer = submit(client, headers, drafted, wallet)

    assert answer.status_code == 503
    assert "fund it and retry" in answer.get_json()["error"]["message"]
    assert statuses(client, headers, ids) == ["uploaded"] * 2
    assert relayer_sent(services, chain) == sent_before


def test_chain_job__relayer_out_of_funds_for_a_reveal__the_indexer_still_runs_and_the_batch_waits(
    client, auth, wallet, chain, services
):
    headers = auth.headers(wallet)
    relayed = uploaded_ids(client, headers, (404,))
    batch = submit(client, headers, draft(client, headers, relayed), wallet).get_json()
    [own] = uploaded_ids(client, headers, (405,))
    chain.fund(wallet.address)
    with services.db.session() as db:
        services.register().register_with_key(wallet.key.to_0x_hex(), [item_for(db.get(Image, own))])
    relayer = Account.from_key(services.settings.relayer_key).address
    chain.w3.provider.make_request("anvil_setBalance", [relayer, "0x0"])
    chain.mine(1)

    poll_chain(services)

    assert statuses(client, headers, [own]) == ["registered"]
    shown = client.get(f"/api/v1/images/relay-batch/{batch['id']}", headers=headers).get_json()
    assert shown["status"] == "committed" and "fund it and retry" in shown["last_error"]
    chain.fund(relayer)
    poll_chain(services)
    assert statuses(client, headers, relayed) == ["registered"]


def test_relay_batch__failed_near_its_deadline_then_drafted_again__keeps_its_commit_time_without_a_second_commit(
    client, auth, wallet, chain, services
):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, (407, 408))
    first = draft(client, headers, ids)
    first["deadline"] = first["typed_data"]["message"]["deadline"] = int(time.time()) + 70  # a short signature
    failed = submit(client, headers, first, wallet).get_json()
    commit_time = chain.w3.eth.get_block("latest")["timestamp"]
    chain.w3.provider.make_request("evm_increaseTime", [max(0, first["deadline"] - commit_time - REVEAL_MARGIN // 2)])
    chain_job(services, chain)
    assert client.get(f"/api/v1/images/relay-batch/{failed['id']}", headers=headers).get_json()["status"] == "failed"
    sent_before = relayer_sent(services, chain)

    again = draft(client, headers, ids)

    assert again["salt"] == first["salt"] and again["nonce"] != first["nonce"]
    relayed = submit(client, headers, again, wallet)  # the commitment is a block old: revealed at once
    assert relayed.status_code == 202 and relayed.get_json()["status"] == "revealed"
    chain_job(services, chain)
    assert relayer_sent(services, chain) == sent_before + 1  # the reveal only: the commitment served again
    assert statuses(client, headers, ids) == ["registered"] * 2
    register = services.register()
    with services.db.session() as db:
        hashes = [db.get(Image, i).sha256 for i in ids]
    assert {register.registration(int(h, 16))["registered_at"] for h in hashes} == {commit_time}


@pytest.mark.parametrize("settings", [{"registration_deadline": 3 * 86_400}], indirect=True)
def test_relay_batch__commitment_older_than_the_register_accepts__not_revealed_and_every_image_says_why(
    client, auth, wallet, chain, services
):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, (406,))
    batch = submit(client, headers, draft(client, headers, ids), wallet).get_json()
    chain.w3.provider.make_request("evm_increaseTime", [MAX_COMMITMENT_AGE])
    sent_before = relayer_sent(services, chain)

    assert chain_job(services, chain) == 0

    assert client.get(f"/api/v1/images/relay-batch/{batch['id']}", headers=headers).get_json()["status"] == "failed"
    image = client.get(f"/api/v1/images/{ids[0]}", headers=headers).get_json()
    assert image["status"] == "uploaded" and "commitment is too old" in image["last_error"]
    assert relayer_sent(services, chain) == sent_before


@pytest.mark.parametrize("settings", [{"relayer_key": Account.create().key.to_0x_hex()}], indirect=True)
def test_relay_batch__relayer_without_funds__clear_error_and_nothing_recorded(client, auth, wallet, chain, services):
    headers = auth.headers(wallet)
    ids = uploaded_ids(client, headers, (400, 401))

    answer = submit(client, headers, draft(client, headers, ids), wallet)

    assert answer.status_code == 503
    assert "fund it and retry" in answer.get_json()["error"]["message"]
    assert statuses(client, headers, ids) == ["uploaded"] * 2
    assert advance_batches(services.db, services.register(), services.settings.relayer_key) == 0


@pytest.mark.parametrize("tamper, message", [
    (lambda d: d["typed_data"]["message"].update(owner="0x" + "11" * 20), "another owner"),
    (lambda d: d["typed_data"]["message"]["items"].reverse(), "not your files'"),
    (lambda d: d["typed_data"]["domain"].update(chainId=1), "another chain or register contract"),
    (lambda d: d["typed_data"]["message"].update(nonce=1), "a salt, nonce or deadline other"),
    (lambda d: d.update(image_ids=d["image_ids"][:1]), "other images"),
])
def test_cli_check_draft__message_other_than_what_was_uploaded__nothing_signed(
    client, auth, wallet, chain, tamper, message
):
    headers = auth.headers(wallet)
    files = [jpeg(seed, size=(64, 48)) for seed in (410, 411)]
    ids = [upload(client, headers, data).get_json()["image"]["id"] for data in files]
    drafted = draft(client, headers, ids)
    status = client.get("/api/v1/status").get_json()
    check_draft(drafted, wallet.address, files, ids, status)  # the honest draft passes
    tamper(drafted)

    with pytest.raises(CliError, match=message):
        check_draft(drafted, wallet.address, files, ids, status)
