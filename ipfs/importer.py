"""Turn bytes into UnixFS blocks exactly as ``ipfs add --cid-version=1`` does in Kubo.

Kubo's settings for CIDv1: fixed-size chunks of 256 KiB stored as raw blocks ("raw leaves"),
the balanced layout with at most 174 links per dag-pb node, sha2-256. A file that fits in one chunk
is that single raw block. Blocks are produced while reading, so a file of any size is held in
memory one chunk at a time (plus at most 174 links per tree level).
"""

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from ipfs.cids import DAG_PB, RAW, block_cid, cid_text
from ipfs.dagpb import Link, encode_file_data, encode_node

CHUNK_SIZE = 256 * 1024
MAX_LINKS = 174


@dataclass(frozen=True)
class Block:
    cid: bytes  # binary CIDv1
    data: bytes | memoryview


@dataclass(frozen=True)
class _Child:
    link: Link
    file_bytes: int  # how many bytes of the file lie below this child


Source = bytes | bytearray | memoryview | BinaryIO


def iter_chunks(source: Source) -> Iterator[bytes | memoryview]:
    """Cut ``source`` into CHUNK_SIZE pieces; an empty source gives one empty chunk, as Kubo does."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source).cast("B")
        yield view[:CHUNK_SIZE]
        for start in range(CHUNK_SIZE, len(view), CHUNK_SIZE):
            yield view[start : start + CHUNK_SIZE]
        return
    check_source(source)
    first = True
    while True:
        chunk = _read_full(source)
        if chunk or first:
            yield chunk
        if len(chunk) < CHUNK_SIZE:
            return
        first = False


def check_source(source: Source) -> None:
    """Raise TypeError unless ``source`` is bytes-like or a readable binary file object."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return
    if isinstance(source, str) or not hasattr(source, "read"):
        raise TypeError(
            f"expected bytes or a binary file object, got {type(source).__name__}; "
            "open a path with open(path, 'rb') first"
        )
    if isinstance(source, io.TextIOBase):
        raise TypeError("the file object is in text mode; open it with 'rb'")


def _read_full(stream: BinaryIO) -> bytes:
    """Read CHUNK_SIZE bytes, looping over short reads (pipes, sockets) until EOF."""
    chunk = stream.read(CHUNK_SIZE)
    if isinstance(chunk, str):
        raise TypeError("the file object returned text; open it with 'rb'")
    if chunk is None:
        raise TypeError("non-blocking file objects are not supported")
    if len(chunk) == CHUNK_SIZE or not chunk:
        return chunk
    parts = [chunk]
    missing = CHUNK_SIZE - len(chunk)
    while missing:
        more = stream.read(missing)
        if not more:
            break
        parts.append(more)
        missing -= len(more)
    return b"".join(parts)


def iter_blocks(source: Source) -> Iterator[Block]:
    """Yield every block of the UnixFS file for ``source``; the last block yielded is the root.

    Mirrors the balanced layout of Kubo (and of ipfs-unixfs-importer): leaves are grouped 174 at a
    time under a parent, parents again 174 at a time, until one node is left. A level is reduced
    eagerly as soon as it holds 174 children, so only one partial group per level is in memory.
    """
    levels: list[list[_Child]] = [[]]  # pending children, per level (0 = leaves)
    produced: list[int] = [0]  # how many nodes each level has produced in total
    for chunk in iter_chunks(source):
        leaf = Block(block_cid(RAW, chunk), chunk)
        yield leaf
        yield from _push(levels, produced, 0, _Child(Link(leaf.cid, len(chunk)), len(chunk)))
    level = 0
    while not (level == len(levels) - 1 and produced[level] == 1):
        # a lone node on the top level is the root (for a single chunk: Kubo's
        # reduceSingleLeafToSelf); otherwise the partial group is reduced into the level above
        pending, levels[level] = levels[level], []
        if pending:
            yield from _reduce(levels, produced, level, pending)
        level += 1


def _push(levels, produced, level: int, child: _Child) -> Iterator[Block]:
    if level == len(levels):
        levels.append([])
        produced.append(0)
    levels[level].append(child)
    produced[level] += 1
    if len(levels[level]) == MAX_LINKS:
        full, levels[level] = levels[level], []
        yield from _reduce(levels, produced, level, full)


def _reduce(levels, produced, level: int, children: list[_Child]) -> Iterator[Block]:
    blocksizes = [child.file_bytes for child in children]
    data = encode_node([child.link for child in children], encode_file_data(blocksizes))
    block = Block(block_cid(DAG_PB, data), data)
    yield block
    tsize = len(data) + sum(child.link.tsize for child in children)
    yield from _push(levels, produced, level + 1, _Child(Link(block.cid, tsize), sum(blocksizes)))


def compute_cid(data: Source) -> str:
    """The CID Kubo's ``ipfs add --cid-version=1`` gives for ``data`` (bytes or a binary file).

    A file object is read from its current position to EOF in 256 KiB chunks; nothing is stored.
    """
    root = None
    for root in iter_blocks(data):
        pass
    return cid_text(root.cid)
