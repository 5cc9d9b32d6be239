"""The embedded block store: one file per block under a data directory.

Layout (see docs/ipfs.md)::

    <root>/blocks/<shard>/<key>.data   block bytes; <key> is the block's multihash in upper-case
                                       base32, <shard> the key's next-to-last two characters:
                                       the naming of Kubo's flatfs ("next-to-last/2")
    <root>/pins/<cid>             an empty file per recursive pin
    <root>/tmp/                   blocks being written; renamed into place when complete
    <root>/lock                   flock: writers share it, gc takes it exclusively

Blocks are keyed by multihash, as in Kubo, so the same bytes are stored once whichever codec a
CID names, and a CAR whose sections carry another codec than the links to them still imports.
A block is written to tmp/, flushed to disk, then renamed over its final name, so a crash never
leaves a partial block under a valid name; reads hash every block anyway.
"""

import base64
import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ipfs.car import CarReader
from ipfs.cids import RAW, cid_text, digest_of, make_cid, to_cid, verify_block
from ipfs.dag import mark_reachable
from ipfs.errors import BlockNotFound, CorruptBlock, InvalidCar, NotPinned
from ipfs.importer import Source, iter_blocks
from ipfs.store import Store


class LocalStore(Store):
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self._blocks = self.root / "blocks"
        self._pins = self.root / "pins"
        self._tmp = self.root / "tmp"
        try:
            for directory in (self._blocks, self._pins, self._tmp):
                directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OSError(f"cannot create the IPFS block store in {self.root}: {exc}") from exc

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    # -- blocks ---------------------------------------------------------------------------------

    def block_path(self, cid: str | bytes) -> Path:
        """The file that holds (or would hold) the block ``cid``."""
        key = _key(digest_of(to_cid(cid)))
        return self._blocks / key[-3:-1] / f"{key}.data"

    def get_block(self, cid: str | bytes) -> bytes:
        cid = to_cid(cid)
        path = self.block_path(cid)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            text = cid_text(cid)
            raise BlockNotFound(
                text,
                f"block {text} is not in the local store {self.root}; add the file again or "
                "import a CAR that contains it",
            ) from None
        verify_block(cid, data, str(path))
        return data

    def has(self, cid: str) -> bool:
        return self.block_path(to_cid(cid)).is_file()

    def _put(self, cid: bytes, data: bytes | memoryview) -> None:
        path = self.block_path(cid)
        if path.is_file():
            try:
                self.get_block(cid)
                return
            except CorruptBlock:
                pass  # overwrite the damaged copy with the good bytes we have in hand
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._tmp, prefix=path.name[-8:] + ".")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_directory(path.parent)  # the rename itself survives a power cut before a pin does

    # -- files ----------------------------------------------------------------------------------

    def add(self, data: Source) -> str:
        with self._lock(exclusive=False):
            root = None
            for block in iter_blocks(data):
                self._put(block.cid, block.data)
                root = block.cid
            self._write_pin(root)
            return cid_text(root)

    def import_car(self, inp: BinaryIO) -> list[str]:
        with self._lock(exclusive=False):
            reader = CarReader(inp)
            for cid, data in reader:
                self._put(cid, data)
            for root in reader.roots:
                try:
                    self._check_complete(root)
                except BlockNotFound as exc:
                    raise InvalidCar(
                        f"CAR file is incomplete: block {exc.cid} of root {cid_text(root)} is neither "
                        "in the file nor in the store; export the whole DAG (ipfs dag export ROOT)"
                    ) from None
            for root in reader.roots:
                self._write_pin(root)
            return [cid_text(root) for root in reader.roots]

    # -- pins and gc ----------------------------------------------------------------------------

    def pin(self, cid: str) -> None:
        cid = to_cid(cid)
        with self._lock(exclusive=False):
            self._check_complete(cid)
            self._write_pin(cid)

    def unpin(self, cid: str) -> None:
        text = cid_text(to_cid(cid))
        try:
            (self._pins / text).unlink()
        except FileNotFoundError:
            raise NotPinned(f"{text} is not pinned in {self.root}; nothing to unpin") from None

    def pins(self) -> set[str]:
        return {entry.name for entry in self._pins.iterdir()}

    def gc(self) -> list[str]:
        with self._lock(exclusive=True):
            reachable: set[bytes] = set()
            for pinned in self.pins():
                mark_reachable(self.get_block, to_cid(pinned), reachable)
            keep = {self.block_path(cid).name for cid in reachable}
            removed = []
            for path in self._iter_block_files():
                if path.name not in keep:
                    path.unlink()
                    removed.append(_raw_cid_text(path.stem))
            for leftover in self._tmp.iterdir():
                leftover.unlink()  # no writer holds the lock, so these are from a crashed write
            return sorted(removed)

    def _check_complete(self, root: bytes) -> None:
        """Raise BlockNotFound (or CorruptBlock) unless every block under ``root`` is stored."""
        reachable: set[bytes] = set()
        mark_reachable(self.get_block, root, reachable)
        for cid in reachable:
            if not self.block_path(cid).is_file():
                text = cid_text(cid)
                raise BlockNotFound(text, f"block {text} under {cid_text(root)} is not in the local store {self.root}")

    def _write_pin(self, cid: bytes) -> None:
        (self._pins / cid_text(cid)).touch()
        _fsync_directory(self._pins)  # a pin lost in a crash would let gc delete the file

    def _iter_block_files(self) -> Iterator[Path]:
        """Block files only: anything else an operator left under blocks/ is not gc's to delete."""
        for shard in self._blocks.iterdir():
            if shard.is_dir():
                yield from (path for path in shard.iterdir() if path.suffix == ".data")

    @contextlib.contextmanager
    def _lock(self, exclusive: bool) -> Iterator[None]:
        with open(self.root / "lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


_MULTIHASH_SHA2_256 = b"\x12\x20"


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _key(digest: bytes) -> str:
    return base64.b32encode(_MULTIHASH_SHA2_256 + digest).decode().rstrip("=")


def _raw_cid_text(key: str) -> str:
    """The CID a removed block is reported under: the store knows only its multihash, so, like
    Kubo's ``repo gc``, it names it as a raw block (CIDv1, codec raw)."""
    multihash = base64.b32decode(key + "=" * (-len(key) % 8))
    return cid_text(make_cid(RAW, multihash[2:]))
