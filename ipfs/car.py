"""CAR v1 files (https://ipld.io/specs/transport/car/carv1/): write a DAG, read one back verified.

A CAR is a varint-prefixed dag-cbor header ``{"roots": [CID...], "version": 1}`` followed by
sections ``varint(len) | binary CID | block bytes``. Reading checks every block against its CID,
so a truncated or tampered file is rejected with the offset of the problem.
"""

import hashlib
import io
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import cbor2
from ipfs.cids import cid_text, digest_of, from_binary
from ipfs.dagpb import encode_varint
from ipfs.errors import InvalidCar, InvalidCid

CID_TAG = 42
# Kubo refuses blocks over 2 MiB and UnixFS chunks are 256 KiB; anything bigger is not ours.
MAX_SECTION = 4 * 1024 * 1024
MAX_HEADER = 64 * 1024


def encode_header(roots: list[bytes]) -> bytes:
    header = {"roots": [cbor2.CBORTag(CID_TAG, b"\x00" + bytes(root)) for root in roots], "version": 1}
    body = cbor2.dumps(header, canonical=True)
    return encode_varint(len(body)) + body


def encode_section(cid: bytes, data: bytes | memoryview) -> bytes:
    return encode_varint(len(cid) + len(data)) + cid + bytes(data)


def iter_car_bytes(roots: list[bytes], blocks: Iterable[tuple[bytes, bytes]]) -> Iterator[bytes]:
    """The CAR file as a stream of byte strings (header, then one section per block)."""
    yield encode_header(roots)
    for cid, data in blocks:
        yield encode_section(cid, data)


def write_car(roots: list[bytes], blocks: Iterable[tuple[bytes, bytes]], out: BinaryIO) -> None:
    for piece in iter_car_bytes(roots, blocks):
        out.write(piece)


class CarReader:
    """Reads a CAR v1 stream: ``roots`` after construction, then iterate for verified blocks."""

    def __init__(self, inp: BinaryIO):
        self._inp = inp
        self._offset = 0
        length = self._read_varint("header length")
        if length is None:
            raise InvalidCar("empty file: a CAR starts with a header")
        if not 0 < length <= MAX_HEADER:
            raise InvalidCar(f"CAR header length {length} is out of range (1..{MAX_HEADER})")
        self.roots = self._parse_header(self._read_exact(length, "header"))

    def _parse_header(self, raw: bytes) -> list[bytes]:
        stream = io.BytesIO(raw)
        try:
            header = cbor2.CBORDecoder(stream).decode()
        except Exception as exc:  # cbor2 raises its own errors and ValueError/TypeError subclasses
            raise InvalidCar(f"CAR header is not valid CBOR: {exc}") from None
        if stream.tell() != len(raw):
            raise InvalidCar(f"CAR header has {len(raw) - stream.tell()} bytes after the CBOR value")
        if not isinstance(header, dict) or header.get("version") != 1:
            version = header.get("version") if isinstance(header, dict) else None
            raise InvalidCar(f"not a CAR v1 file (header version {version!r}); export it as CAR v1")
        roots = header.get("roots")
        if not isinstance(roots, list) or not roots:
            raise InvalidCar("CAR header has no roots; export the file with its root CID")
        parsed = []
        for root in roots:
            if not (isinstance(root, cbor2.CBORTag) and root.tag == CID_TAG and isinstance(root.value, bytes)
                    and root.value[:1] == b"\x00"):
                raise InvalidCar(f"CAR header root {root!r} is not a CID link")
            parsed.append(self._decode_cid(root.value[1:], "header root"))
        return parsed

    def _decode_cid(self, raw: bytes, what: str) -> bytes:
        try:
            return from_binary(raw)
        except InvalidCid as exc:
            raise InvalidCar(f"{what} before byte {self._offset} cannot be imported: {exc}") from None

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        index = 0
        while True:
            start = self._offset
            length = self._read_varint("section length")
            if length is None:
                return
            if not 0 < length <= MAX_SECTION:
                raise InvalidCar(f"CAR section {index} at byte {start} has length {length}, outside 1..{MAX_SECTION}")
            section = self._read_exact(length, f"section {index}")
            cid_length = _cid_length(section)
            if cid_length is None:
                raise InvalidCar(f"CAR section {index} at byte {start} does not start with a CID")
            cid = self._decode_cid(section[:cid_length], f"CID of section {index}")
            data = section[cid_length:]
            if hashlib.sha256(data).digest() != digest_of(cid):
                raise InvalidCar(
                    f"CAR section {index} at byte {start}: block {cid_text(cid)} does not match its "
                    "hash; the file was corrupted or tampered with, export it again from the source"
                )
            yield cid, data
            index += 1

    def _read_exact(self, length: int, what: str) -> bytes:
        data = self._inp.read(length)
        if len(data) != length:
            raise InvalidCar(
                f"CAR file is truncated: {what} at byte {self._offset} needs {length} bytes, "
                f"only {len(data)} left; copy or export the file again"
            )
        self._offset += length
        return data

    def _read_varint(self, what: str) -> int | None:
        """A varint, or None at a clean end of file."""
        value = shift = 0
        while True:
            byte = self._inp.read(1)
            if not byte:
                if shift == 0:
                    return None
                raise InvalidCar(f"CAR file is truncated inside the {what} at byte {self._offset}")
            self._offset += 1
            value |= (byte[0] & 0x7F) << shift
            if not byte[0] & 0x80:
                return value
            shift += 7
            if shift > 63:
                raise InvalidCar(f"CAR {what} at byte {self._offset} is not a valid varint")


def _cid_length(section: bytes) -> int | None:
    """Length of the CIDv1 (or v0) at the start of a section: version, codec, multihash."""
    if section[:2] == b"\x12\x20":
        return 34  # CIDv0: a bare sha2-256 multihash
    pos = 0
    values = []
    for _ in range(4):  # version, codec, hash code, digest length
        value = shift = 0
        while True:
            if pos >= len(section):
                return None
            byte = section[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
            shift += 7
        values.append(value)
    if values[0] != 1:
        return None
    end = pos + values[3]
    return end if end <= len(section) else None


def check_complete(roots: list[bytes], present: set[bytes], links: dict[bytes, list[bytes]]) -> None:
    """Raise InvalidCar if a block reachable from a root is not in ``present`` (binary CIDs);
    ``links`` maps each binary CID of a dag-pb block to its children."""
    for root in roots:
        stack = [root]
        visited = set()
        while stack:
            cid = stack.pop()
            if cid in visited:
                continue
            visited.add(cid)
            if cid not in present:
                raise InvalidCar(
                    f"CAR file is incomplete: block {cid_text(cid)} of root {cid_text(root)} is missing; "
                    "export the whole DAG (ipfs dag export ROOT > FILE.car)"
                )
            stack.extend(links.get(cid, []))
