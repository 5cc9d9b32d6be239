"""Registering uploads on a real anvil chain: the owner's own transaction, the gasless relay,
the indexer that waits for final blocks and survives reorgs, and the public lookup."""

import io
import time

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from backend.chain.register import RegisterContract
from backend.models import Image
from backend.registry.relay import complete_reveals, item_for
from tests.backend.test_images_api import upload
from tests.images import encode, jpeg, picture


def send_own_transaction(chain, account, tx: dict) -> str:
    chain.fund(account.address)
    prepared = {
        "to": tx["to"], "data": tx["data"], "value": 0, "chainId": tx["chainId"],
        "nonce": chain.w3.eth.get_transaction_count(account.address),
        "gas": 300_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9,
    }
    tx_hash = chain.w3.eth.send_raw_transaction(account.sign_transaction(prepared).raw_transaction)
    assert chain.w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
    return tx_hash.to_0x_hex()


def sign_typed(account, typed: dict) -> str:
    return account.sign_message(encode_typed_data(full_message=typed)).signature.to_0x_hex()


def relay(client, headers, image_id: int, typed: dict, account, **overrides):
    body = {
        "signature": sign_typed(account, typed),
        "deadline": typed["message"]["deadline"],
        "salt": typed["message"]["salt"],
        **overrides,
    }
    return client.post(f"/api/v1/images/{image_id}/relay", json=body, headers=headers)


def reveal(services, chain) -> int:
    """What the backend's chain job does a block after a gasless commit."""
    chain.mine(1)
    return complete_reveals(services.db, services.register(), services.settings.relayer_key)


def register_with_wallet(client, auth, chain, account, data: bytes) -> dict:
    headers = auth.headers(account)
    body = upload(client, headers, data).get_json()
    tx_hash = send_own_transaction(chain, account, body["registration_request"]["transaction"])
    client.post(f"/api/v1/images/{body['image']['id']}/submitted", json={"tx_hash": tx_hash}, headers=headers)
    return {**body["image"], "tx_hash": tx_hash}


def image_status(client, auth, account, image_id: int) -> dict:
    return client.get(f"/api/v1/images/{image_id}", headers=auth.headers(account)).get_json()


def test_upload__offers_the_transaction_and_the_gasless_message(client, auth, wallet, chain, services):
    body = upload(client, auth.headers(wallet), jpeg(20)).get_json()
    request_ = body["registration_request"]
    assert request_["transaction"]["to"] == services.deployment().address("CopyrightRegister")
    assert request_["transaction"]["chainId"] == 31337
    typed = request_["typed_data"]
    assert typed["primaryType"] == "Reveal"
    assert len(typed["message"]["salt"]) == 66
    assert typed["message"]["owner"] == wallet.address
    assert typed["message"]["content_hash"] == body["image"]["sha256"]
    assert int(typed["message"]["deadline"]) > time.time()


def test_register_with_own_wallet__indexer_marks_it_registered(client, auth, wallet, chain, services):
    image = register_with_wallet(client, auth, chain, wallet, jpeg(21))
    assert image_status(client, auth, wallet, image["id"])["status"] == "submitted"
    services.indexer().poll()
    final = image_status(client, auth, wallet, image["id"])
    assert final["status"] == "registered"
    assert final["registration"]["id"] == image["sha256"]
    assert final["registration"]["tx_hash"] == image["tx_hash"]
    assert final["registration"]["block_number"] > 0 and final["registration"]["registered_at"] > 0


def test_gasless_registration__belongs_to_the_signer_not_the_relayer(client, auth, wallet, chain, services):
    headers = auth.headers(wallet)
    body = upload(client, headers, jpeg(22)).get_json()
    relayed = relay(client, headers, body["image"]["id"], body["registration_request"]["typed_data"], wallet)
    assert relayed.status_code == 202, relayed.get_json()
    assert relayed.get_json()["status"] == "committed"
    assert reveal(services, chain) == 1
    services.indexer().poll()
    assert image_status(client, auth, wallet, body["image"]["id"])["status"] == "registered"
    on_chain = services.register().registration(int(body["image"]["sha256"], 16))
    assert on_chain["owner"] == wallet.address
    assert chain.w3.eth.get_balance(wallet.address) == 0  # the owner paid nothing


def test_gasless__replayed_signature__is_rejected(client, auth, wallet, chain, services):
    headers = auth.headers(wallet)
    body = upload(client, headers, jpeg(23)).get_json()
    typed = body["registration_request"]["typed_data"]
    payload = {"signature": sign_typed(wallet, typed), "deadline": typed["message"]["deadline"],
               "salt": typed["message"]["salt"]}
    assert client.post(f"/api/v1/images/{body['image']['id']}/relay", json=payload, headers=headers).status_code == 202
    again = client.post(f"/api/v1/images/{body['image']['id']}/relay", json=payload, headers=headers)
    assert again.status_code == 409
    second = upload(client, headers, jpeg(24)).get_json()
    replay = client.post(f"/api/v1/images/{second['image']['id']}/relay", json=payload, headers=headers)
    assert replay.status_code == 403
    assert "not the owner's" in replay.get_json()["error"]["message"]


def test_gasless__several_in_a_row__each_signature_gets_its_own_nonce(client, auth, wallet, chain, services):
    headers = auth.headers(wallet)
    ids = []
    for seed in (40, 41, 42):
        image_id = upload(client, headers, jpeg(seed)).get_json()["image"]["id"]
        typed = client.get(f"/api/v1/images/{image_id}/registration", headers=headers).get_json()["typed_data"]
        assert relay(client, headers, image_id, typed, wallet).status_code == 202
        ids.append(image_id)
    assert reveal(services, chain) == 3
    services.indexer().poll()
    assert [image_status(client, auth, wallet, i)["status"] for i in ids] == ["registered"] * 3


def test_gasless__copycat_between_commit_and_reveal__loses_priority(client, auth, wallet, chain, services):
    """A front-runner who registers the same bytes before the reveal does not keep them."""
    data = jpeg(43)
    headers = auth.headers(wallet)
    body = upload(client, headers, data).get_json()
    assert relay(client, headers, body["image"]["id"], body["registration_request"]["typed_data"], wallet).status_code == 202
    chain.mine(1)  # the copycat can only act after the commit is mined, in a later block
    copycat = Account.create()
    chain.fund(copycat.address)
    register = services.register()
    with services.db.session() as db:
        item = item_for(db.get(Image, body["image"]["id"]))
    register.register_with_key(copycat.key.to_0x_hex(), [item])
    assert register.registration(int(body["image"]["sha256"], 16))["owner"] == copycat.address
    assert reveal(services, chain) == 1
    services.indexer().poll()
    assert register.registration(int(body["image"]["sha256"], 16))["owner"] == wallet.address
    assert image_status(client, auth, wallet, body["image"]["id"])["status"] == "registered"


def test_gasless__expired_deadline__is_rejected(client, auth, wallet, chain):
    headers = auth.headers(wallet)
    body = upload(client, headers, jpeg(25)).get_json()
    typed = body["registration_request"]["typed_data"]
    typed["message"]["deadline"] = int(time.time()) - 10
    answer = relay(client, headers, body["image"]["id"], typed, wallet)
    assert answer.status_code == 400
    assert "deadline has passed" in answer.get_json()["error"]["message"]


def _relayer_balance(services, chain) -> int:
    from eth_account import Account as _Account

    return chain.w3.eth.get_balance(_Account.from_key(services.settings.relayer_key).address)


def _malleable(signature: str) -> str:
    """The same signature in high-s form: eth_account accepts it, the contract does not."""
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    raw = bytes.fromhex(signature[2:])
    s_value = n - int.from_bytes(raw[32:64], "big")
    v = 27 if raw[64] == 28 else 28
    return "0x" + (raw[:32] + s_value.to_bytes(32, "big") + bytes([v])).hex()


@pytest.mark.parametrize("tamper", ["v_zero_one", "high_s", "far_deadline", "bad_salt"])
def test_gasless__inputs_the_contract_would_refuse__cost_the_relayer_nothing(client, auth, wallet, chain, services, tamper):
    headers = auth.headers(wallet)
    body = upload(client, headers, jpeg(44)).get_json()
    typed = body["registration_request"]["typed_data"]
    signature = sign_typed(wallet, typed)
    overrides = {
        "v_zero_one": {"signature": signature[:-2] + f"{int(signature[-2:], 16) - 27:02x}"},
        "high_s": {"signature": _malleable(signature)},
        "far_deadline": {"deadline": 2**64},
        "bad_salt": {"salt": "0x1234"},
    }[tamper]
    before = _relayer_balance(services, chain)
    answer = relay(client, headers, body["image"]["id"], typed, wallet, **overrides)
    assert answer.status_code == 400, answer.get_json()
    assert _relayer_balance(services, chain) == before


def test_gasless__bytes_registered_elsewhere_not_yet_indexed__node_not_asked_before_the_commit_and_reveal_refused(
    client, auth, wallet, chain, services, monkeypatch
):
    headers = auth.headers(wallet)
    body = upload(client, headers, jpeg(45)).get_json()
    copycat = Account.create()
    chain.fund(copycat.address)
    with services.db.session() as db:
        item = item_for(db.get(Image, body["image"]["id"]))
    services.register().register_with_key(copycat.key.to_0x_hex(), [item])  # not yet indexed
    relayer = Account.from_key(services.settings.relayer_key).address
    sent_before = chain.w3.eth.get_transaction_count(relayer)
    asked = []  # registration ids the backend looked up on the node
    registration = RegisterContract.registration
    monkeypatch.setattr(RegisterContract, "registration",
                        lambda self, reg_id: (asked.append(reg_id), registration(self, reg_id))[1])
    answer = relay(client, headers, body["image"]["id"], body["registration_request"]["typed_data"], wallet)
    assert answer.status_code == 202, answer.get_json()
    assert asked == []  # the content hash did not go to the node before the commitment
    monkeypatch.undo()

    assert reveal(services, chain) == 0

    image = image_status(client, auth, wallet, body["image"]["id"])
    assert image["status"] == "uploaded" and "already registered" in image["last_error"]
    assert chain.w3.eth.get_transaction_count(relayer) == sent_before + 1  # the commit; no reveal


def test_gasless__commitment_copied_into_the_chain_first__still_works(client, auth, wallet, chain, services):
    """A watcher who copies the relayer's pending commit only records the same commitment earlier."""
    from backend.chain.register import RegisterContract

    headers = auth.headers(wallet)
    body = upload(client, headers, jpeg(46)).get_json()
    typed = body["registration_request"]["typed_data"]
    copier = Account.create()
    chain.fund(copier.address)
    commitment = RegisterContract.commitment(wallet.address, body["image"]["sha256"], typed["message"]["salt"])
    services.register().commit(copier.key.to_0x_hex(), commitment)
    assert relay(client, headers, body["image"]["id"], typed, wallet).status_code == 202
    assert reveal(services, chain) == 1
    services.indexer().poll()
    assert image_status(client, auth, wallet, body["image"]["id"])["status"] == "registered"


def test_gasless__commit_lost_in_a_reorg__is_sent_again(client, auth, wallet, chain, services):
    headers = auth.headers(wallet)
    body = upload(client, headers, jpeg(47)).get_json()
    before_commit = chain.snapshot()
    assert relay(client, headers, body["image"]["id"], body["registration_request"]["typed_data"], wallet).status_code == 202
    chain.revert(before_commit)  # the chain forgets the commit
    chain.mine(25)
    assert complete_reveals(services.db, services.register(), services.settings.relayer_key, lost_after_blocks=20) == 0
    assert reveal(services, chain) == 1  # committed again with the same salt, revealed a block later
    services.indexer().poll()
    assert image_status(client, auth, wallet, body["image"]["id"])["status"] == "registered"


def test_gasless__signature_by_another_key__is_rejected(client, auth, wallet, other_wallet, chain):
    headers = auth.headers(wallet)
    body = upload(client, headers, jpeg(26)).get_json()
    answer = relay(client, headers, body["image"]["id"], body["registration_request"]["typed_data"], other_wallet)
    assert answer.status_code == 403


@pytest.mark.parametrize("settings", [{"relayer_key": Account.create().key.to_0x_hex()}], indirect=True)
def test_gasless__relayer_without_funds__clear_error_and_upload_kept(client, auth, wallet, chain):
    headers = auth.headers(wallet)
    body = upload(client, headers, jpeg(27)).get_json()
    answer = relay(client, headers, body["image"]["id"], body["registration_request"]["typed_data"], wallet)
    assert answer.status_code == 503
    assert "fund it and retry" in answer.get_json()["error"]["message"]
    assert image_status(client, auth, wallet, body["image"]["id"])["status"] == "uploaded"


def test_registration_request__can_be_fetched_again_after_the_chain_was_down(client, auth, wallet, chain):
    headers = auth.headers(wallet)
    body = upload(client, headers, jpeg(28)).get_json()
    again = client.get(f"/api/v1/images/{body['image']['id']}/registration", headers=headers)
    assert again.status_code == 200
    assert again.get_json()["typed_data"]["message"]["content_hash"] == body["image"]["sha256"]


def test_same_bytes_registered_by_someone_else__prior_art_and_conflict(client, auth, wallet, other_wallet, chain, services):
    data = jpeg(29)
    register_with_wallet(client, auth, chain, wallet, data)
    services.indexer().poll()
    body = upload(client, auth.headers(other_wallet), data).get_json()
    assert body["image"]["status"] == "conflict"
    assert body["registration_request"] is None
    assert [(p["owner"], p["match"]) for p in body["prior_registrations"]] == [(wallet.address, "exact")]


def test_near_duplicate_by_someone_else__is_reported_before_signing(client, auth, wallet, other_wallet, chain, services):
    register_with_wallet(client, auth, chain, wallet, jpeg(30))
    services.indexer().poll()
    resized = encode(picture(30).resize((200, 150)), "PNG")
    body = upload(client, auth.headers(other_wallet), resized).get_json()
    assert body["image"]["status"] == "uploaded"
    prior = body["prior_registrations"]
    assert len(prior) == 1 and prior[0]["match"] == "perceptual" and prior[0]["owner"] == wallet.address


def test_lookup__public__finds_exact_and_perceptual_copies(client, auth, wallet, chain, services):
    data = jpeg(31)
    image = register_with_wallet(client, auth, chain, wallet, data)
    services.indexer().poll()
    exact = client.post("/api/v1/lookup", data={"file": (io.BytesIO(data), "x.jpg")}).get_json()
    assert exact["matches"][0]["match"] == "exact"
    assert exact["matches"][0]["owner"] == wallet.address
    assert exact["matches"][0]["tx_hash"] == image["tx_hash"]
    assert exact["matches"][0]["cid"] == image["cid"]
    copy = encode(picture(31), "JPEG", quality=40)
    found = client.post("/api/v1/lookup", data={"file": (io.BytesIO(copy), "y.jpg")}).get_json()
    assert [m["match"] for m in found["matches"]] == ["perceptual"]
    unrelated = client.post("/api/v1/lookup", data={"file": (io.BytesIO(jpeg(99)), "z.jpg")}).get_json()
    assert unrelated["matches"] == []


def test_lookup__bad_input__clear_errors(client):
    assert client.post("/api/v1/lookup").status_code == 400
    answer = client.post("/api/v1/lookup", data={"file": (io.BytesIO(b"nope"), "x.jpg")})
    assert answer.status_code == 415


def test_registration_endpoint__public_view_and_errors(client, auth, wallet, chain, services):
    image = register_with_wallet(client, auth, chain, wallet, jpeg(32))
    services.indexer().poll()
    view = client.get(f"/api/v1/registrations/{image['sha256']}").get_json()
    assert view["owner"] == wallet.address and view["verification_level"] == 0
    assert client.get("/api/v1/registrations/0x1234").status_code == 400
    assert client.get("/api/v1/registrations/0x" + "ab" * 32).status_code == 404


@pytest.mark.parametrize("settings", [{"confirmations": 3}], indirect=True)
def test_indexer__waits_for_confirmations(client, auth, wallet, chain, services):
    image = register_with_wallet(client, auth, chain, wallet, jpeg(33))
    services.indexer().poll()
    assert image_status(client, auth, wallet, image["id"])["status"] == "submitted"
    chain.mine(2)
    services.indexer().poll()
    assert image_status(client, auth, wallet, image["id"])["status"] == "submitted"
    chain.mine(1)
    services.indexer().poll()
    assert image_status(client, auth, wallet, image["id"])["status"] == "registered"


def test_indexer__survives_a_reorg_that_drops_the_registration(client, auth, wallet, chain, services):
    before = chain.snapshot()
    image = register_with_wallet(client, auth, chain, wallet, jpeg(34))
    chain.mine(2)
    indexer = services.indexer()
    indexer.poll()
    assert image_status(client, auth, wallet, image["id"])["status"] == "registered"
    # The chain forgets those blocks and grows a longer branch without the registration.
    chain.revert(before)
    chain.mine(6)
    result = indexer.poll()
    assert result.rolled_back_to is not None
    assert image_status(client, auth, wallet, image["id"])["status"] == "submitted"
    assert client.get(f"/api/v1/registrations/{image['sha256']}").status_code == 404
    # Registering again on the new branch makes it final again.
    again = client.get(f"/api/v1/images/{image['id']}/registration", headers=auth.headers(wallet)).get_json()
    send_own_transaction(chain, wallet, again["transaction"])
    indexer.poll()
    assert image_status(client, auth, wallet, image["id"])["status"] == "registered"


def test_indexer__cursor_persists_and_events_are_not_applied_twice(client, auth, wallet, chain, services):
    register_with_wallet(client, auth, chain, wallet, jpeg(35))
    first = services.indexer().poll()
    assert first.events == 1
    second = services.indexer().poll()
    assert second.events == 0 and second.cursor == first.cursor


def test_status__reports_chain_contracts_and_counts(client, chain, services):
    body = client.get("/api/v1/status").get_json()
    assert body["contracts"]["CopyrightRegister"] == services.deployment().address("CopyrightRegister")
    assert body["chain"]["head"] >= 1
    assert body["database_counts"] == {"images": 0, "registrations": 0}
    assert not {"data_dir", "database", "ipfs"} & set(body)  # nothing about the operator's setup


def _lookup(client, data: bytes) -> list[dict]:
    answer = client.post("/api/v1/lookup", data={"file": (io.BytesIO(data), "query.jpg")})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["matches"]


def test_lookup__finds_flipped_and_cropped_copies(client, auth, wallet, chain, services):
    from PIL import ImageOps

    original = picture(50, (640, 480))
    register_with_wallet(client, auth, chain, wallet, encode(original, "JPEG"))
    services.indexer().poll()
    flipped = _lookup(client, encode(ImageOps.mirror(original), "JPEG"))
    assert [(m["owner"], m["kind"]) for m in flipped] == [(wallet.address, "flip")]
    cropped = _lookup(client, encode(original.crop((64, 48, 576, 432)), "JPEG"))
    assert [m["owner"] for m in cropped] == [wallet.address]
    assert cropped[0]["match"] == "perceptual"


def test_lookup__crop_at_an_offset__found_by_its_keypoints(client, auth, wallet, chain, services):
    import skimage.data
    from PIL import Image

    photo = Image.fromarray(skimage.data.astronaut())
    register_with_wallet(client, auth, chain, wallet, encode(photo, "JPEG"))
    services.indexer().poll()

    # The lower right 60% of the area, off-centre: no global hash is near the original's.
    matches = _lookup(client, encode(photo.crop((115, 90, 512, 512)), "JPEG", quality=80))

    assert [(m["owner"], m["match"], m["kind"]) for m in matches] == [
        (wallet.address, "perceptual", "region")]


def test_lookup__registration_made_elsewhere__found_by_its_file_or_its_phash(client, chain, services):
    """Registrations sent straight to the contract (another front-end) are matched too."""
    from backend.chain.register import Item
    from backend.registry.images import inspect_image
    from ipfs import compute_cid

    artist = Account.create()
    chain.fund(artist.address)
    in_our_store, elsewhere = encode(picture(51, (640, 480)), "JPEG"), encode(picture(52, (640, 480)), "JPEG")
    items = []
    for data in (in_our_store, elsewhere):
        facts = inspect_image(data, services.image_limits)
        cid = services.store.add(data) if data is in_our_store else compute_cid(data)
        items.append(Item(facts.sha256, facts.phash, cid))
    services.register().register_with_key(artist.key.to_0x_hex(), items)
    services.indexer().poll()
    found = _lookup(client, encode(picture(51, (640, 480)).resize((320, 240)), "PNG"))
    assert [(m["owner"], m["kind"]) for m in found] == [(artist.address, "whole")]
    by_phash = _lookup(client, encode(picture(52, (640, 480)), "JPEG", quality=50))
    assert [(m["owner"], m["kind"]) for m in by_phash] == [(artist.address, "phash")]


def test_derivative_work__names_its_original(client, auth, wallet, other_wallet, chain, services):
    original = register_with_wallet(client, auth, chain, wallet, jpeg(60))
    services.indexer().poll()
    headers = auth.headers(other_wallet)
    body = upload(client, headers, jpeg(61), parent=original["sha256"]).get_json()
    assert body["image"]["parent"] == original["sha256"]
    assert body["registration_request"]["typed_data"]["message"]["parent"] == str(int(original["sha256"], 16))
    tx_hash = send_own_transaction(chain, other_wallet, body["registration_request"]["transaction"])
    client.post(f"/api/v1/images/{body['image']['id']}/submitted", json={"tx_hash": tx_hash}, headers=headers)
    services.indexer().poll()
    view = client.get(f"/api/v1/registrations/{body['image']['sha256']}").get_json()
    assert view["parent"] == original["sha256"] and view["owner"] == other_wallet.address


def test_derivative_work__unknown_parent__404_and_nothing_stored(client, auth, wallet, chain, services):
    answer = upload(client, auth.headers(wallet), jpeg(62), parent="0x" + "ab" * 32)
    assert answer.status_code == 404
    assert "no final registration" in answer.get_json()["error"]["message"]
    assert upload(client, auth.headers(wallet), jpeg(62), parent="not-an-id").status_code == 400
    assert services.store.pins() == set()
