"""Uploading images and everything short of the chain: storage, validation, ownership, groups."""

import hashlib
import io

import pytest

from ipfs import compute_cid
from tests.images import encode, jpeg, picture


def upload(client, headers, data: bytes, name: str = "photo.jpg", **form):
    return client.post(
        "/api/v1/images",
        data={"file": (io.BytesIO(data), name), **form},
        headers=headers,
        content_type="multipart/form-data",
    )


def test_upload__stores_the_file_and_answers_with_hashes_and_cid(client, auth, wallet, services):
    data = jpeg(1)
    answer = upload(client, auth.headers(wallet), data, title="Sunset")
    assert answer.status_code == 201, answer.get_json()
    image = answer.get_json()["image"]
    assert image["sha256"] == "0x" + hashlib.sha256(data).hexdigest()
    assert image["cid"] == compute_cid(data)
    assert image["status"] == "uploaded" and image["title"] == "Sunset"
    assert services.store.cat(image["cid"]) == data
    assert image["cid"] in services.store.pins()


def test_upload__chain_down__keeps_the_upload_and_says_to_retry(client, auth, wallet):
    answer = upload(client, auth.headers(wallet), jpeg(2))
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["registration_request"] is None
    assert body["warning"]["code"] == "chain_unavailable"
    assert f"/api/v1/images/{body['image']['id']}/registration" in body["warning"]["message"]
    listed = client.get("/api/v1/images", headers=auth.headers(wallet)).get_json()["images"]
    assert [i["id"] for i in listed] == [body["image"]["id"]]


def test_upload__same_bytes_twice__returns_the_first_upload(client, auth, wallet):
    headers = auth.headers(wallet)
    first = upload(client, headers, jpeg(3)).get_json()["image"]
    again = upload(client, headers, jpeg(3))
    assert again.status_code == 200
    assert again.get_json()["image"]["id"] == first["id"] and again.get_json()["created"] is False


@pytest.mark.parametrize(
    "data,status,code",
    [
        (b"", 400, "invalid_input"),
        (b"GIF89a but then nothing sensible", 415, "unsupported_media_type"),
        (jpeg(4)[:3000], 400, "invalid_input"),
    ],
    ids=["empty", "mislabelled", "truncated"],
)
def test_upload__bad_file__clear_error_and_nothing_stored(client, auth, wallet, services, data, status, code):
    answer = upload(client, auth.headers(wallet), data)
    assert answer.status_code == status
    assert answer.get_json()["error"]["code"] == code
    assert client.get("/api/v1/images", headers=auth.headers(wallet)).get_json()["images"] == []
    assert services.store.pins() == set()


@pytest.mark.parametrize("settings", [{"max_upload_bytes": 5000}], indirect=True)
def test_upload__over_the_size_limit__is_413(client, auth, wallet):
    answer = upload(client, auth.headers(wallet), jpeg(5, size=(800, 600)))
    assert answer.status_code == 413
    assert "limit" in answer.get_json()["error"]["message"]


@pytest.mark.parametrize("settings", [{"max_image_pixels": 10_000}], indirect=True)
def test_upload__over_the_pixel_limit__is_413(client, auth, wallet):
    answer = upload(client, auth.headers(wallet), jpeg(6))
    assert answer.status_code == 413
    assert "pixels" in answer.get_json()["error"]["message"]


def test_upload__without_file_field__is_400(client, auth, wallet):
    answer = client.post("/api/v1/images", data={"title": "x"}, headers=auth.headers(wallet))
    assert answer.status_code == 400
    assert "'file'" in answer.get_json()["error"]["message"]


def test_upload__unknown_collection__is_404_and_nothing_stored(client, auth, wallet, services):
    answer = upload(client, auth.headers(wallet), jpeg(7), collection="Holidays")
    assert answer.status_code == 404
    assert "Holidays" in answer.get_json()["error"]["message"]
    assert services.store.pins() == set()


def test_another_users_image__is_not_found_like_a_missing_one(client, auth, wallet, other_wallet):
    image = upload(client, auth.headers(wallet), jpeg(8)).get_json()["image"]
    other = auth.headers(other_wallet)
    theirs = client.get(f"/api/v1/images/{image['id']}", headers=other)
    missing = client.get(f"/api/v1/images/{image['id'] + 1000}", headers=other)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.get_json()["error"]["message"].replace(str(image["id"]), "N") == \
        missing.get_json()["error"]["message"].replace(str(image["id"] + 1000), "N")
    assert client.patch(f"/api/v1/images/{image['id']}", json={"title": "mine now"}, headers=other).status_code == 404
    assert client.post(f"/api/v1/images/{image['id']}/relay", json={"signature": "0x" + "00" * 65, "deadline": 1},
                       headers=other).status_code in (404, 503)
    assert client.post(f"/api/v1/images/{image['id']}/submitted", json={"tx_hash": "0x" + "00" * 32},
                       headers=other).status_code == 404
    assert client.get("/api/v1/images", headers=other).get_json()["images"] == []


def test_collections_and_categories__create_rename_list_and_move_images(client, auth, wallet):
    headers = auth.headers(wallet)
    holidays = client.post("/api/v1/collections", json={"name": "Holidays"}, headers=headers)
    assert holidays.status_code == 201
    work = client.post("/api/v1/collections", json={"name": "Work"}, headers=headers).get_json()
    client.post("/api/v1/categories", json={"name": "Landscape"}, headers=headers)
    assert client.post("/api/v1/collections", json={"name": "Work"}, headers=headers).status_code == 409
    renamed = client.patch(f"/api/v1/collections/{work['id']}", json={"name": "Clients"}, headers=headers)
    assert renamed.get_json()["name"] == "Clients"
    image = upload(client, headers, jpeg(9), collection="Holidays", category="Landscape").get_json()["image"]
    assert (image["collection"], image["category"]) == ("Holidays", "Landscape")
    moved = client.patch(f"/api/v1/images/{image['id']}", json={"collection": "Clients", "category": None},
                         headers=headers).get_json()
    assert (moved["collection"], moved["category"]) == ("Clients", None)
    in_clients = client.get("/api/v1/images?collection=Clients", headers=headers).get_json()["images"]
    assert [i["id"] for i in in_clients] == [image["id"]]
    names = [c["name"] for c in client.get("/api/v1/collections", headers=headers).get_json()["collections"]]
    assert names == ["Clients", "Holidays"]


def test_collections__are_private_to_their_owner(client, auth, wallet, other_wallet):
    created = client.post("/api/v1/collections", json={"name": "Mine"}, headers=auth.headers(wallet)).get_json()
    other = auth.headers(other_wallet)
    assert client.get("/api/v1/collections", headers=other).get_json()["collections"] == []
    assert client.patch(f"/api/v1/collections/{created['id']}", json={"name": "x"}, headers=other).status_code == 404
    assert upload(client, other, jpeg(10), collection="Mine").status_code == 404


def test_move_to_unknown_collection__is_404(client, auth, wallet):
    headers = auth.headers(wallet)
    image = upload(client, headers, jpeg(11)).get_json()["image"]
    answer = client.patch(f"/api/v1/images/{image['id']}", json={"collection": "Nope"}, headers=headers)
    assert answer.status_code == 404


def test_update__unknown_field__is_400(client, auth, wallet):
    headers = auth.headers(wallet)
    image = upload(client, headers, jpeg(12)).get_json()["image"]
    answer = client.patch(f"/api/v1/images/{image['id']}", json={"owner": "0x0"}, headers=headers)
    assert answer.status_code == 400
    assert "owner" in answer.get_json()["error"]["message"]


def test_list__bad_query_parameters__are_400(client, auth, wallet):
    headers = auth.headers(wallet)
    assert client.get("/api/v1/images?limit=abc", headers=headers).status_code == 400
    assert client.get("/api/v1/images?status=lost", headers=headers).status_code == 400


def test_gateway__serves_an_uploaded_file_and_its_car(client, auth, wallet):
    data = encode(picture(13), "PNG")
    image = upload(client, auth.headers(wallet), data, name="x.png").get_json()["image"]
    plain = client.get(f"/ipfs/{image['cid']}")
    assert plain.status_code == 200 and plain.data == data
    car = client.get(f"/ipfs/{image['cid']}?format=car")
    assert car.status_code == 200 and car.headers["Content-Type"].startswith("application/vnd.ipld.car")
    assert client.get("/ipfs/not-a-cid").status_code == 400
