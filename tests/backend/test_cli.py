"""CLI input errors that need no running stack."""

import json

from click.testing import CliRunner
from eth_account import Account

from backend.cli import main


def test_register__bad_private_key__clear_error(tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"x")
    result = CliRunner().invoke(main, ["register", str(photo)], env={"COPYTRACK_PRIVATE_KEY": "0x1234"})
    assert result.exit_code != 0
    assert "not a valid private key" in result.output


def test_register__keystore_with_wrong_password__clear_error(tmp_path):
    keystore = tmp_path / "key.json"
    keystore.write_text(json.dumps(Account.encrypt(Account.create().key, "right")))
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"x")
    result = CliRunner().invoke(
        main, ["register", str(photo), "--keystore", str(keystore)], env={"COPYTRACK_KEYSTORE_PASSWORD": "wrong"}
    )
    assert result.exit_code != 0
    assert "wrong keystore password" in result.output


def test_register__missing_file__names_it(tmp_path):
    result = CliRunner().invoke(main, ["register", str(tmp_path / "nope.jpg")])
    assert result.exit_code == 2
    assert "nope.jpg" in result.output


def test_bad_configuration__clear_error():
    result = CliRunner().invoke(main, ["status"], env={"COPYTRACK_PORT": "eighty"})
    assert result.exit_code != 0
    assert "'port'" in result.output
