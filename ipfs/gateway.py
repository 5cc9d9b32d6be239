"""``GET /ipfs/{cid}`` as the IPFS Trustless Gateway specification describes, free of any framework.

https://specs.ipfs.tech/http-gateways/trustless-gateway/ : a client asks for the file, for the
single block (``?format=raw`` or ``Accept: application/vnd.ipld.raw``) or for a CAR of the DAG
(``?format=car`` or ``Accept: application/vnd.ipld.car``), and can verify every byte it receives.
The web layer passes the request's pieces in and turns the returned triple into a response.
"""

import itertools
from collections.abc import Iterable, Iterator

from ipfs.car import encode_header, iter_car_bytes
from ipfs.cids import cid_text, parse_cid
from ipfs.errors import BlockNotFound, CorruptBlock, InvalidCid, IpfsError, NodeMismatch
from ipfs.store import Store

RAW_TYPE = "application/vnd.ipld.raw"
CAR_TYPE = "application/vnd.ipld.car"
# What the CARs here are: CAR v1, blocks in depth-first order, each block once (IPIP-412).
CAR_RESPONSE_TYPE = f"{CAR_TYPE}; version=1; order=dfs; dups=n"
# The empty identity CID that clients request to probe for a trustless gateway.
PROBE_CID = "bafkqaaa"
_FORMATS = {"raw": RAW_TYPE, "car": CAR_TYPE}
IMMUTABLE = "public, max-age=29030400, immutable"

# Magic numbers of the image types Copytrack registers; anything else is served as opaque bytes.
_SIGNATURES = [
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
]

Response = tuple[int, dict[str, str], Iterable[bytes]]


def respond(store: Store, cid_path: str, format: str | None, accept: str | None) -> Response:
    """Answer ``GET /ipfs/{cid_path}``; ``format`` is the ``?format=`` value, ``accept`` the header.

    Returns (status, headers, body). 400 for a malformed CID, path or format, 404 for content the
    store does not have, 502 when the stored bytes fail verification (never served) or the
    Kubo node cannot be reached.
    """
    cid_part, _, subpath = cid_path.removeprefix("/").removeprefix("ipfs/").partition("/")
    try:
        media_type = _negotiate(format, accept)
    except ValueError as exc:
        return _error(400, f"{exc}\n")
    if subpath.strip("/"):
        return _error(400, f"paths inside a CID are not supported: {cid_path!r}; Copytrack serves single files\n")
    if cid_part == PROBE_CID and media_type is not None:
        return _probe(media_type)
    try:
        cid = parse_cid(cid_part)
    except InvalidCid as exc:
        return _error(400, f"{exc}\n")
    text = cid_text(cid)
    common = {
        "Cache-Control": IMMUTABLE,
        "X-Content-Type-Options": "nosniff",
        "X-Ipfs-Path": f"/ipfs/{text}",
        "X-Ipfs-Roots": text,
        "Vary": "Accept",
    }
    if media_type is not None and not format:
        # the response was chosen by Accept: name the URL that always gives this representation
        common["Content-Location"] = f"/ipfs/{text}?format={'raw' if media_type == RAW_TYPE else 'car'}"
    try:
        if media_type == RAW_TYPE:
            block = store.get_block(cid)
            return 200, common | {
                "Content-Type": RAW_TYPE,
                "Content-Length": str(len(block)),
                "ETag": f'"{text}.raw"',
                "Content-Disposition": f'attachment; filename="{text}.bin"',
            }, [block]
        if media_type == CAR_TYPE:
            blocks = store.iter_blocks(cid)
            first = next(blocks)  # a missing or corrupt root answers 404/502, not a broken 200
            return 200, common | {
                "Content-Type": CAR_RESPONSE_TYPE,
                "ETag": f'"{text}.car"',
                "Content-Disposition": f'attachment; filename="{text}.car"',
            }, iter_car_bytes([cid], itertools.chain([first], blocks))
        chunks = store.open(cid)
        first_chunk = next(chunks, b"")
        return 200, common | {
            "Content-Type": _sniff(first_chunk),
            "ETag": f'"{text}"',
        }, _chain(first_chunk, chunks)
    # Messages name the CID only: the store's own messages carry server paths and node URLs.
    except BlockNotFound:
        return _error(404, f"{text} is not stored on this gateway\n")
    except (CorruptBlock, NodeMismatch):
        return _error(502, f"the stored copy of {text} failed verification and is not served\n")
    except InvalidCid:
        return _error(400, f"{text} is not a single file (UnixFS file); Copytrack serves files only\n")
    except IpfsError:
        return _error(502, f"the IPFS store could not be reached for {text}; try again later\n")


def _negotiate(format: str | None, accept: str | None) -> str | None:
    """The requested response type: ``?format=`` wins over ``Accept``; None means the file itself."""
    if format:
        if format not in _FORMATS:
            raise ValueError(f"unsupported format {format!r}: use format=raw or format=car, or omit it")
        return _FORMATS[format]
    for entry in (accept or "").split(","):
        media_type, _, params = entry.strip().partition(";")
        media_type = media_type.strip().lower()
        if media_type not in (CAR_TYPE, RAW_TYPE) or _param(params, "q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if media_type == CAR_TYPE:
            _check_car_params(params)
        return media_type
    return None


def _check_car_params(params: str) -> None:
    """Only CAR v1 in depth-first order without duplicates is produced; refuse other variants."""
    wanted = {"version": ("1",), "order": ("dfs", "unk"), "dups": ("n",)}
    for name, served in wanted.items():
        value = _param(params, name)
        if value is not None and value.lower() not in served:
            raise ValueError(
                f"CAR {name}={value} is not served; this gateway returns {CAR_RESPONSE_TYPE}"
            )


def _param(params: str, name: str) -> str | None:
    for item in params.split(";"):
        key, _, value = item.strip().partition("=")
        if key.strip().lower() == name:
            return value.strip().strip('"')
    return None


def _probe(media_type: str) -> Response:
    """The answers the spec fixes for the probe CID: an empty block, or a CAR with no blocks."""
    headers = {"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"}
    if media_type == RAW_TYPE:
        return 200, headers | {"Content-Type": RAW_TYPE, "Content-Length": "0", "ETag": f'"{PROBE_CID}.raw"'}, []
    identity_empty = b"\x01\x55\x00\x00"  # CIDv1, raw, identity multihash of zero bytes
    return 200, headers | {"Content-Type": CAR_RESPONSE_TYPE, "ETag": f'"{PROBE_CID}.car"'}, [encode_header([identity_empty])]


def _sniff(head: bytes) -> str:
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _error(status: int, message: str) -> Response:
    return status, {
        "Content-Type": "text/plain; charset=utf-8",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }, [message.encode()]
