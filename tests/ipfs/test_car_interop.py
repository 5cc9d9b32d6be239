"""CAR files exchanged with the reference JavaScript implementation (@ipld/car)."""

import os

from ipfs.importer import CHUNK_SIZE, iter_blocks


def test_export_car__read_and_verified_by_reference_reader(store, tmp_path, reference_car):
    data = os.urandom(5 * CHUNK_SIZE + 1) + bytes(2 * CHUNK_SIZE)  # two identical zero leaves
    cid = store.add(data)
    car = tmp_path / "export.car"
    with open(car, "wb") as out:
        store.export_car(cid, out)
    unique_blocks = len({block.cid for block in iter_blocks(data)})
    assert reference_car("read", car) == [cid, "blocks", str(unique_blocks), "verified"]


def test_import_car__written_by_reference_writer__gives_the_file_back(store, tmp_path, reference_car):
    data = os.urandom(3 * CHUNK_SIZE + 11)
    source = tmp_path / "photo.bin"
    source.write_bytes(data)
    car = tmp_path / "reference.car"
    (root,) = reference_car("write", source, car)
    with open(car, "rb") as inp:
        assert store.import_car(inp) == [root]
    assert store.cat(root) == data
    assert store.pins() == {root}
