"""CIDs as this package handles them: raw or dag-pb blocks hashed with sha2-256.

Inside the package a CID is its binary CIDv1 form (36 bytes: version, codec, multihash). Parsing
and printing go through ``multiformats`` at the edges; the hot paths (one CID per 256 KiB block)
work on the bytes directly, because building a ``multiformats.CID`` costs about a millisecond.
"""

import base64
import hashlib

from multiformats import CID

from ipfs.errors import CorruptBlock, InvalidCid

RAW = 0x55
DAG_PB = 0x70
SHA2_256 = 0x12
SUPPORTED_CODECS = {RAW: "raw", DAG_PB: "dag-pb"}
_SHA2_256_PREFIX = b"\x12\x20"  # multihash: sha2-256, 32-byte digest
_V1_PREFIX = {RAW: b"\x01\x55" + _SHA2_256_PREFIX, DAG_PB: b"\x01\x70" + _SHA2_256_PREFIX}


def parse_cid(text: str) -> bytes:
    """Parse a CID string (v0 ``Qm...`` or v1 in any multibase) into binary CIDv1.

    Raises InvalidCid naming the offending value when it is malformed or names a codec or hash
    function a UnixFS file added by Kubo never uses.
    """
    if not isinstance(text, str):
        raise InvalidCid(f"a CID must be a string, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise InvalidCid("empty CID: pass a CID such as bafkrei... or bafybei...")
    try:
        cid = CID.decode(stripped)
    except Exception as exc:  # multiformats raises several unrelated types for bad input
        raise InvalidCid(f"invalid CID {text!r}: {exc}") from None
    if cid.codec.code not in SUPPORTED_CODECS:
        raise InvalidCid(
            f"unsupported codec {cid.codec.name!r} in CID {text!r}: "
            "Copytrack stores UnixFS files, whose blocks are raw or dag-pb"
        )
    if cid.hashfun.code != SHA2_256 or len(cid.raw_digest) != 32:
        raise InvalidCid(
            f"unsupported hash function {cid.hashfun.name!r} in CID {text!r}: "
            "only sha2-256 (what `ipfs add` uses) is supported"
        )
    return make_cid(cid.codec.code, cid.raw_digest)


def from_binary(raw: bytes) -> bytes:
    """Check a binary CID (from a dag-pb link or a CAR) and return it as binary CIDv1."""
    raw = bytes(raw)
    if len(raw) == 34 and raw.startswith(_SHA2_256_PREFIX):
        return _V1_PREFIX[DAG_PB] + raw[2:]  # CIDv0 is always dag-pb
    if len(raw) == 36 and raw[:1] == b"\x01" and raw[1] in SUPPORTED_CODECS and raw[2:4] == _SHA2_256_PREFIX:
        return raw
    try:
        described = str(CID.decode(raw))
    except Exception as exc:
        raise InvalidCid(f"invalid binary CID {raw.hex()}: {exc}") from None
    return parse_cid(described)  # a well-formed CID of another kind: raises the precise error


def to_cid(value: str | bytes) -> bytes:
    """Binary CIDv1 from a CID string, or a binary CID already produced by this package."""
    if isinstance(value, (bytes, bytearray)):
        return from_binary(value)
    return parse_cid(value)


def make_cid(codec: int, digest: bytes) -> bytes:
    return _V1_PREFIX[codec] + digest


def block_cid(codec: int, data: bytes | memoryview) -> bytes:
    """The binary CIDv1 of ``data`` stored as ``codec``."""
    return _V1_PREFIX[codec] + hashlib.sha256(data).digest()


def codec_of(cid: bytes) -> int:
    return cid[1]


def digest_of(cid: bytes) -> bytes:
    return cid[4:]


def cid_text(cid: bytes) -> str:
    """The canonical text form used everywhere in Copytrack: CIDv1, base32 (``bafy...``)."""
    return "b" + base64.b32encode(cid).decode().lower().rstrip("=")


def verify_block(cid: bytes, data: bytes, where: str) -> None:
    """Raise CorruptBlock unless ``data`` hashes to ``cid``; ``where`` says where the bytes came from."""
    actual = hashlib.sha256(data).digest()
    if actual != digest_of(cid):
        text = cid_text(cid)
        raise CorruptBlock(
            text,
            f"block {text} from {where} is corrupted: its sha2-256 is {actual.hex()}, "
            f"the CID says {digest_of(cid).hex()}; re-add the original file or re-import a CAR "
            "that holds this block",
        )
