"""dag-pb nodes and the UnixFS ``Data`` message inside them, encoded by hand.

Only the handful of fields a UnixFS file needs are written, in the canonical order the dag-pb spec
fixes (links before data; in a link: hash, name, tsize). Python has no small, maintained dag-pb
library (``ipld-dag-pb`` is a single 0.0.1 release; ``libipld`` covers dag-cbor only), and the
protobuf subset is a few dozen lines, so a protobuf runtime would add more than it saves.
"""

from dataclasses import dataclass, field

UNIXFS_RAW = 0
UNIXFS_FILE = 2
_FILE_TYPES = (UNIXFS_RAW, UNIXFS_FILE)

_VARINT = 0
_LEN = 2


class DecodeError(ValueError):
    """Bytes that are not a valid dag-pb node or UnixFS Data message."""


@dataclass(frozen=True)
class Link:
    cid: bytes  # binary CID
    tsize: int  # size of the linked block plus everything below it
    name: str = ""


@dataclass(frozen=True)
class Node:
    links: list[Link]
    data: bytes | None


@dataclass(frozen=True)
class UnixFsData:
    type: int
    data: bytes = b""
    filesize: int | None = None
    blocksizes: list[int] = field(default_factory=list)


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(number: int, wire_type: int) -> bytes:
    return encode_varint(number << 3 | wire_type)


def _len_field(number: int, payload: bytes) -> bytes:
    return _key(number, _LEN) + encode_varint(len(payload)) + payload


def encode_node(links: list[Link], data: bytes | None) -> bytes:
    out = bytearray()
    for link in links:
        body = _len_field(1, link.cid) + _len_field(2, link.name.encode()) + _key(3, _VARINT)
        out += _len_field(2, body + encode_varint(link.tsize))
    if data is not None:
        out += _len_field(1, data)
    return bytes(out)


def encode_file_data(blocksizes: list[int]) -> bytes:
    """UnixFS Data of a file node whose bytes all live in its children (what importers write)."""
    out = bytearray(_key(1, _VARINT) + encode_varint(UNIXFS_FILE))
    out += _key(3, _VARINT) + encode_varint(sum(blocksizes))
    for size in blocksizes:
        out += _key(4, _VARINT) + encode_varint(size)
    return bytes(out)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise DecodeError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise DecodeError("varint longer than 64 bits")


def _fields(buf: bytes):
    """Yield (number, wire_type, value) for each protobuf field; value is int or bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            value, pos = _read_varint(buf, pos)
        elif wire_type == _LEN:
            length, pos = _read_varint(buf, pos)
            if pos + length > len(buf):
                raise DecodeError(f"field {number} runs past the end of the block")
            value, pos = buf[pos : pos + length], pos + length
        else:
            raise DecodeError(f"unexpected protobuf wire type {wire_type} in field {number}")
        yield number, wire_type, value


def decode_node(buf: bytes) -> Node:
    links: list[Link] = []
    data = None
    for number, wire_type, value in _fields(buf):
        if number == 2 and wire_type == _LEN:
            if data is not None:
                raise DecodeError("dag-pb links must come before data")
            links.append(_decode_link(value))
        elif number == 1 and wire_type == _LEN and data is None:
            data = bytes(value)
        else:
            raise DecodeError(f"unexpected field {number} in a dag-pb node")
    return Node(links, data)


def _decode_link(buf: bytes) -> Link:
    cid, name, tsize = None, "", 0
    for number, wire_type, value in _fields(buf):
        if number == 1 and wire_type == _LEN:
            cid = bytes(value)
        elif number == 2 and wire_type == _LEN:
            name = bytes(value).decode("utf-8", errors="strict")
        elif number == 3 and wire_type == _VARINT:
            tsize = value
        else:
            raise DecodeError(f"unexpected field {number} in a dag-pb link")
    if cid is None:
        raise DecodeError("dag-pb link without a hash")
    return Link(cid, tsize, name)


def decode_unixfs(buf: bytes | None) -> UnixFsData:
    if buf is None:
        raise DecodeError("dag-pb node has no UnixFS data")
    kind, data, filesize, blocksizes = None, b"", None, []
    for number, wire_type, value in _fields(buf):
        if number == 1 and wire_type == _VARINT:
            kind = value
        elif number == 2 and wire_type == _LEN:
            data = bytes(value)
        elif number == 3 and wire_type == _VARINT:
            filesize = value
        elif number == 4 and wire_type == _VARINT:
            blocksizes.append(value)
        # mode, mtime, hash type and fanout do not change a file's bytes
    if kind is None:
        raise DecodeError("UnixFS data without a type")
    return UnixFsData(kind, data, filesize, blocksizes)


def is_file_type(kind: int) -> bool:
    return kind in _FILE_TYPES
