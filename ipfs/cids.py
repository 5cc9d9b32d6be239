"""Parsing and checking CIDs: the only codecs stored are raw and dag-pb, the only hash sha2-256."""

import hashlib

from multiformats import CID

from ipfs.errors import CorruptBlock, InvalidCid

RAW = 0x55
DAG_PB = 0x70
SHA2_256 = 0x12
SUPPORTED_CODECS = {RAW: "raw", DAG_PB: "dag-pb"}


def parse_cid(text: str) -> CID:
    """Parse a CID string (v0 ``Qm...`` or v1 in any multibase); reject what cannot be stored.

    Raises InvalidCid naming the offending value.
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
    return cid


def cid_text(cid: CID) -> str:
    """The canonical text form used everywhere in Copytrack: CIDv1, base32."""
    return str(cid.set(version=1, base="base32"))


def make_cid(codec: int, digest: bytes) -> CID:
    """The CIDv1 of a block with the given codec and sha2-256 digest."""
    return CID("base32", 1, SUPPORTED_CODECS[codec], ("sha2-256", digest))


def block_cid(codec: int, data: bytes | memoryview) -> CID:
    """The CIDv1 of ``data`` stored as ``codec``."""
    return make_cid(codec, hashlib.sha256(data).digest())


def verify_block(cid: CID, data: bytes, where: str) -> None:
    """Raise CorruptBlock unless ``data`` hashes to ``cid``; ``where`` says where the bytes came from."""
    actual = hashlib.sha256(data).digest()
    if actual != cid.raw_digest:
        text = cid_text(cid)
        raise CorruptBlock(
            text,
            f"block {text} from {where} is corrupted: its sha2-256 is {actual.hex()}, "
            f"the CID says {cid.raw_digest.hex()}; re-add the original file or re-import a CAR "
            "that holds this block",
        )


def to_cid(value: "str | CID") -> CID:
    """Accept a CID string or object; either way check it names something this package stores."""
    if isinstance(value, CID):
        return parse_cid(str(value))
    return parse_cid(value)
