import os

import click
import pytest
from click.testing import CliRunner

from ipfs import LocalStore, compute_cid
from ipfs.cli import ipfs
from ipfs.importer import CHUNK_SIZE


@pytest.fixture
def runner():
    return CliRunner(mix_stderr=False)


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(os.urandom(CHUNK_SIZE * 2 + 17))
    return path


def test_add_then_cat__data_dir__round_trips(runner, tmp_path, photo):
    data_dir = tmp_path / "data"
    added = runner.invoke(ipfs, ["--data-dir", str(data_dir), "add", str(photo)])
    assert added.exit_code == 0, added.stderr
    cid = added.stdout.strip()
    assert cid == compute_cid(photo.read_bytes())
    assert (data_dir / "ipfs" / "pins" / cid).exists()
    shown = runner.invoke(ipfs, ["--data-dir", str(data_dir), "cat", cid])
    assert shown.exit_code == 0
    assert shown.stdout_bytes == photo.read_bytes()


def test_export_then_import__moves_content_between_stores(runner, tmp_path, photo):
    source, target, car = tmp_path / "a", tmp_path / "b", tmp_path / "photo.car"
    cid = runner.invoke(ipfs, ["--data-dir", str(source), "add", str(photo)]).stdout.strip()
    exported = runner.invoke(ipfs, ["--data-dir", str(source), "export", cid, str(car)])
    assert exported.exit_code == 0 and f"wrote {car}" in exported.stdout
    imported = runner.invoke(ipfs, ["--data-dir", str(target), "import", str(car)])
    assert imported.exit_code == 0
    assert imported.stdout.split() == [cid]
    assert LocalStore(target / "ipfs").cat(cid) == photo.read_bytes()


def test_gc__reports_removed_block_count(runner, tmp_path, photo):
    store = LocalStore(tmp_path / "data" / "ipfs")
    store.unpin(store.add(photo.read_bytes()))
    result = runner.invoke(ipfs, ["--data-dir", str(tmp_path / "data"), "gc"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "removed 4 blocks"


def test_store_from_parent_context__used_without_data_dir(runner, tmp_path):
    store = LocalStore(tmp_path / "shared")

    @click.group()
    @click.pass_context
    def copytrack(ctx):
        ctx.obj = store

    copytrack.add_command(ipfs)
    cid = store.add(b"from the app")
    result = runner.invoke(copytrack, ["ipfs", "cat", cid])
    assert result.exit_code == 0 and result.stdout_bytes == b"from the app"


def test_cat__invalid_cid__exit_1_with_reason(runner, tmp_path):
    result = runner.invoke(ipfs, ["--data-dir", str(tmp_path), "cat", "nonsense"])
    assert result.exit_code == 1
    assert "invalid CID 'nonsense'" in result.stderr


def test_export__unknown_cid__leaves_no_file(runner, tmp_path):
    out = tmp_path / "x.car"
    result = runner.invoke(ipfs, ["--data-dir", str(tmp_path), "export", compute_cid(b"?"), str(out)])
    assert result.exit_code == 1 and "is not in the local store" in result.stderr
    assert not out.exists() and not out.with_name("x.car.part").exists()


def test_import__tampered_car__exit_1(runner, tmp_path):
    car = tmp_path / "bad.car"
    car.write_bytes(b"\x01")
    result = runner.invoke(ipfs, ["--data-dir", str(tmp_path), "import", str(car)])
    assert result.exit_code == 1 and "truncated" in result.stderr


def test_no_store__usage_error(runner, monkeypatch):
    monkeypatch.delenv("COPYTRACK_DATA_DIR", raising=False)
    result = runner.invoke(ipfs, ["gc"])
    assert result.exit_code == 2 and "pass --data-dir" in result.stderr


def test_add__kubo_store_from_context__uploads_with_progress(runner, kubo, kubo_store, photo):
    @click.group()
    @click.pass_context
    def copytrack(ctx):
        ctx.obj = kubo_store

    copytrack.add_command(ipfs)
    result = runner.invoke(copytrack, ["ipfs", "add", str(photo)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == compute_cid(photo.read_bytes())
    assert kubo.repo.cat(result.stdout.strip()) == photo.read_bytes()
