"""The one interface the rest of Copytrack uses to keep files on IPFS."""

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import BinaryIO

from ipfs.car import write_car
from ipfs.cids import to_cid
from ipfs.dag import iter_dag, iter_file
from ipfs.importer import Source

class Store(ABC):
    """Content-addressed file storage with the CIDs Kubo computes (``ipfs add --cid-version=1``).

    Reads are trustless: every block is checked against its CID before its bytes are used, so a
    store never returns wrong content; it raises CorruptBlock or BlockNotFound instead.
    """

    @abstractmethod
    def add(self, data: Source) -> str:
        """Store a file (bytes, or a binary file object read to EOF), pin it, return its CID."""

    @abstractmethod
    def get_block(self, cid: str) -> bytes:
        """The verified bytes of one block (``?format=raw`` of the trustless gateway)."""

    @abstractmethod
    def has(self, cid: str) -> bool:
        """Whether the block ``cid`` is available without fetching it from elsewhere."""

    @abstractmethod
    def pin(self, cid: str) -> None:
        """Keep the whole DAG under ``cid`` through garbage collection (recursive pin)."""

    @abstractmethod
    def unpin(self, cid: str) -> None:
        """Remove the recursive pin of ``cid``; raises NotPinned if there is none."""

    @abstractmethod
    def pins(self) -> set[str]:
        """The CIDs pinned recursively."""

    @abstractmethod
    def gc(self) -> list[str]:
        """Delete every block not reachable from a pin; return the removed blocks' CIDs.

        Blocks are stored by multihash (as in Kubo), so removed blocks are reported as CIDv1 raw
        (``bafkrei...``) whatever codec they were added under, exactly as ``ipfs repo gc`` does.
        """

    @abstractmethod
    def import_car(self, inp: BinaryIO) -> list[str]:
        """Store every block of a CAR v1 (each verified), pin its roots, return the root CIDs."""

    def open(self, cid: str) -> Iterator[bytes]:
        """The file's bytes as a stream of chunks, each verified before it is yielded."""
        return iter_file(self.get_block, to_cid(cid))

    def cat(self, cid: str) -> bytes:
        """The whole file's bytes, verified."""
        return b"".join(self.open(cid))

    def iter_blocks(self, cid: str) -> Iterator[tuple[bytes, bytes]]:
        """Every block of the DAG under ``cid`` once, verified, parents first (CAR order)."""
        return iter_dag(self.get_block, to_cid(cid))

    def export_car(self, cid: str, out: BinaryIO) -> None:
        """Write the DAG under ``cid`` to ``out`` as a CAR v1 that ``ipfs dag import`` accepts."""
        root = to_cid(cid)
        write_car([root], self.iter_blocks(root), out)

