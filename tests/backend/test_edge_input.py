"""Malformed input at the HTTP edge: a clear 4xx naming what is wrong, never a 500, nothing stored."""

import threading

import pytest
from sqlalchemy import func, select

from backend.models import Image
from tests.backend.test_images_api import upload
from tests.images import jpeg

HUGE_ID = str(2**63 + 5)


def _json(client, method, path, raw: str, headers=None):
    return client.open(path, method=method, data=raw.encode("utf-8", "surrogatepass"),
                       content_type="application/json", headers=headers or {})


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/images/{id}"),
    ("PATCH", "/api/v1/images/{id}"),
    ("GET", "/api/v1/images/{id}/registration"),
    ("POST", "/api/v1/images/{id}/submitted"),
    ("POST", "/api/v1/images/{id}/relay"),
    ("PATCH", "/api/v1/collections/{id}"),
    ("PATCH", "/api/v1/categories/{id}"),
    ("DELETE", "/api/v1/api-keys/{id}"),
])
@pytest.mark.parametrize("bad_id", [HUGE_ID, str(2**31), "0", "1e3", "٣"])
def test_ids_out_of_range_or_not_decimal__400_naming_the_range(client, auth, wallet, method, path, bad_id):
    answer = _json(client, method, path.format(id=bad_id), '{"name": "x"}', auth.headers(wallet))
    assert answer.status_code == 400, answer.get_json()
    assert "whole number from 1 to 2147483647" in answer.get_json()["error"]["message"]


def test_api_key_name_not_a_string__400(client, auth, wallet):
    for name in (42, ["a"], {"a": 1}, None, True):
        answer = client.post("/api/v1/api-keys", json={"name": name}, headers=auth.headers(wallet))
        assert answer.status_code == 400, (name, answer.get_json())
        assert "'name'" in answer.get_json()["error"]["message"]


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/collections", "/api/v1/api-keys"])
def test_lone_surrogate_in_a_json_string__400(client, auth, wallet, path):
    for raw in ('{"name": "a\\ud800b", "message": "x"}', '{"\\udfff": 1}', '{"name": ["\\ud800"]}'):
        answer = _json(client, "POST", path, raw, auth.headers(wallet))
        assert answer.status_code == 400, answer.get_json()
        assert "not valid Unicode" in answer.get_json()["error"]["message"]


def test_invalid_utf8_bytes__400(client):
    answer = client.post("/api/v1/auth/login", data=b'{"message": "\xff\xfe"}', content_type="application/json")
    assert answer.status_code == 400
    assert "UTF-8" in answer.get_json()["error"]["message"]


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/collections"])
def test_json_nested_100000_deep__400_without_parsing_it(client, auth, wallet, path):
    for raw in ("[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000):
        answer = _json(client, "POST", path, raw, auth.headers(wallet))
        assert answer.status_code in (400, 413), answer.get_json()
        assert "nested deeper" in answer.get_json()["error"]["message"] or answer.status_code == 413
    deep = '{"message": ' + "[" * 40 + "]" * 40 + "}"
    answer = _json(client, "POST", path, deep, auth.headers(wallet))
    assert answer.status_code == 400 and "nested deeper than 32" in answer.get_json()["error"]["message"]


def test_brackets_inside_strings_do_not_count_as_nesting(client, auth, wallet):
    answer = client.post("/api/v1/collections", json={"name": "[[[{{{" * 20}, headers=auth.headers(wallet))
    assert answer.status_code == 201, answer.get_json()


def test_json_body_over_64_kib__413(client, auth, wallet):
    answer = _json(client, "POST", "/api/v1/collections", '{"name": "' + "a" * 70_000 + '"}', auth.headers(wallet))
    assert answer.status_code == 413


def test_nan_and_huge_numbers__400(client, auth, wallet):
    for raw in ('{"name": NaN}', '{"name": ' + "9" * 5000 + "}"):
        answer = _json(client, "POST", "/api/v1/collections", raw, auth.headers(wallet))
        assert answer.status_code == 400, answer.get_json()


@pytest.mark.parametrize("bad", ["bad\u202eevil", "tab\there", "nul\x00", "bell\x07", "c1\x9bx", "iso\u2066late"])
def test_control_and_bidi_characters_in_names_and_titles__400(client, auth, wallet, bad):
    headers = auth.headers(wallet)
    created = client.post("/api/v1/collections", json={"name": bad}, headers=headers)
    assert created.status_code == 400 and "U+" in created.get_json()["error"]["message"]
    assert client.post("/api/v1/categories", json={"name": bad}, headers=headers).status_code == 400
    assert client.post("/api/v1/api-keys", json={"name": bad}, headers=headers).status_code == 400
    assert upload(client, headers, jpeg(70), title=bad).status_code == 400
    image = upload(client, headers, jpeg(71)).get_json()["image"]
    assert client.patch(f"/api/v1/images/{image['id']}", json={"title": bad}, headers=headers).status_code == 400
    assert client.get("/api/v1/collections", headers=headers).get_json()["collections"] == []


def test_ordinary_unicode_names_are_kept(client, auth, wallet):
    name = "Ägäis – 日本の写真 👩‍🎨"  # the zero-width joiner of an emoji sequence is fine
    answer = client.post("/api/v1/collections", json={"name": name}, headers=auth.headers(wallet))
    assert answer.status_code == 201 and answer.get_json()["name"] == name


@pytest.mark.postgres
def test_same_file_uploaded_ten_times_at_once__one_image_and_no_500(app, auth, wallet, services):
    headers = auth.headers(wallet)
    data = jpeg(72)
    answers, barrier = [], threading.Barrier(10)

    def send():
        client = app.test_client()
        barrier.wait()
        answers.append(upload(client, headers, data))

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) == 1 and statuses.count(200) == 9, [a.get_json() for a in answers]
    assert len({a.get_json()["image"]["id"] for a in answers}) == 1
    with services.db.session() as db:
        assert db.scalar(select(func.count()).select_from(Image)) == 1
