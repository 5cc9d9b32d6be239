"""`copytrack images` and `copytrack api-key` against a live backend (a real HTTP server on
127.0.0.1 serving the app), signed in with the user's own key as `register` does."""

import json
import threading

import pytest
from click.testing import CliRunner
from eth_account import Account
from werkzeug.serving import make_server

from backend.cli import main
from tests.backend.conftest import free_port
from tests.backend.test_images_api import upload
from tests.images import jpeg


@pytest.fixture
def live(app):
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def user():
    return Account.create()


def cli(live, user, *args):
    result = CliRunner().invoke(main, [*args, "--api", live],
                                env={"COPYTRACK_PRIVATE_KEY": user.key.to_0x_hex(), "COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def uploaded(client, auth, user):
    headers = auth.headers(user)
    client.post("/api/v1/collections", json={"name": "Holidays in the mountains of Switzerland"}, headers=headers)
    return [
        upload(client, headers, jpeg(100 + i), title=f"A rather long title for picture number {i} of the set",
               collection="Holidays in the mountains of Switzerland" if i % 2 else "").get_json()["image"]
        for i in range(3)
    ]


def test_images__fit_80_columns_one_line_per_image_with_short_hashes_and_utc(live, user, uploaded):
    output = cli(live, user, "images")
    lines = output.rstrip("\n").splitlines()
    assert max(len(line) for line in lines) <= 80, output
    for image in uploaded:
        rows = [line for line in lines if image["sha256"][:6] in line]
        assert len(rows) == 1, output  # one line each: nothing wrapped
        assert f"{image['sha256'][:6]}…{image['sha256'][-4:]}" in rows[0] and image["sha256"] not in output
        assert " UTC" in rows[0]


def test_images__filters_by_collection_and_status(live, user, uploaded):
    in_collection = json.loads(cli(live, user, "images", "--collection",
                                   "Holidays in the mountains of Switzerland", "--json"))
    assert [i["id"] for i in in_collection] == [uploaded[1]["id"]]
    assert json.loads(cli(live, user, "images", "--status", "registered", "--json")) == []
    assert len(json.loads(cli(live, user, "images", "--status", "uploaded", "--json"))) == 3


def test_images__wide_shows_full_hashes_and_cids(live, user, uploaded):
    output = cli(live, user, "images", "--wide")
    for image in uploaded:
        assert image["sha256"] in output and image["cid"] in output


def test_images__json_times_carry_their_zone(live, user, uploaded):
    for image in json.loads(cli(live, user, "images", "--json")):
        assert image["created_at"].endswith("+00:00")


def test_images__unknown_collection__clear_error(live, user, uploaded):
    result = CliRunner().invoke(main, ["images", "--collection", "Nope", "--api", live],
                                env={"COPYTRACK_PRIVATE_KEY": user.key.to_0x_hex()})
    assert result.exit_code == 1 and "no collection named 'Nope'" in result.output


def test_api_key__create_list_revoke(live, user):
    created = cli(live, user, "api-key", "create", "nightly uploader")
    key = next(line for line in created.splitlines() if line.startswith("ctk_"))
    assert "never shown again" in created and " UTC" in created
    listed = cli(live, user, "api-key", "list")
    assert "nightly uploader" in listed and "active" in listed and key not in listed
    assert max(len(line) for line in listed.splitlines()) <= 80
    key_id = json.loads(cli(live, user, "api-key", "list", "--json"))[0]["id"]
    assert "is revoked" in cli(live, user, "api-key", "revoke", str(key_id))
    assert json.loads(cli(live, user, "api-key", "list", "--json"))[0]["revoked"] is True
    result = CliRunner().invoke(main, ["api-key", "revoke", "999", "--api", live],
                                env={"COPYTRACK_PRIVATE_KEY": user.key.to_0x_hex()})
    assert result.exit_code == 1 and "no API key 999" in result.output


def test_account__sets_confirms_and_turns_off_the_mail_of_new_hits(live, user, services):
    from sqlalchemy import select

    from backend.enforcement.models import OutboxMessage

    assert "no e-mail address" in cli(live, user, "account", "show")
    assert "anna@example.org (not confirmed yet" in cli(live, user, "account", "email", "anna@example.org")
    with services.db.session() as db:
        body = db.scalar(select(OutboxMessage.body))
    token = body.split("confirm=", 1)[1].split()[0]
    result = CliRunner().invoke(main, ["account", "confirm", token, "--api", live])
    assert result.exit_code == 0 and "e-mail: anna@example.org (confirmed)\nmail of new hits: on" in result.output
    assert "mail of new hits: off" in cli(live, user, "account", "digest", "off")
    refused = CliRunner().invoke(main, ["account", "email", "not an address", "--api", live],
                                 env={"COPYTRACK_PRIVATE_KEY": user.key.to_0x_hex()})
    assert refused.exit_code != 0 and "is not an e-mail address Copytrack can write to" in refused.output
    assert "no e-mail address" in cli(live, user, "account", "forget-email")
