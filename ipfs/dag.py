"""Walking a stored UnixFS file DAG: its bytes in order, or every block once (for CARs, pins, gc)."""

from collections.abc import Callable, Iterator

from ipfs.cids import DAG_PB, RAW, cid_text, codec_of, from_binary
from ipfs.dagpb import DecodeError, Node, decode_node, decode_unixfs, is_file_type
from ipfs.errors import CorruptBlock, InvalidCid

# Returns the verified bytes of a block or raises BlockNotFound / CorruptBlock.
GetBlock = Callable[[bytes], bytes]


def decode_dag_pb(cid: bytes, data: bytes) -> Node:
    try:
        return decode_node(data)
    except (DecodeError, UnicodeDecodeError) as exc:
        text = cid_text(cid)
        raise CorruptBlock(text, f"block {text} is not a valid dag-pb node: {exc}") from None


def child_cids(cid: bytes, data: bytes) -> list[bytes]:
    """The CIDs a block links to (none for a raw block)."""
    if codec_of(cid) == RAW:
        return []
    children = []
    for link in decode_dag_pb(cid, data).links:
        try:
            children.append(from_binary(link.cid))
        except InvalidCid as exc:
            text = cid_text(cid)
            raise CorruptBlock(text, f"block {text} links to an unreadable CID: {exc}") from None
    return children


def iter_file(get_block: GetBlock, cid: bytes) -> Iterator[bytes]:
    """Yield the bytes of the UnixFS file rooted at ``cid``, each block verified before use."""
    data = get_block(cid)
    if codec_of(cid) == RAW:
        yield data
        return
    node = decode_dag_pb(cid, data)
    try:
        unixfs = decode_unixfs(node.data)
    except DecodeError as exc:
        text = cid_text(cid)
        raise CorruptBlock(text, f"block {text} has no valid UnixFS data: {exc}") from None
    if not is_file_type(unixfs.type):
        raise InvalidCid(
            f"{cid_text(cid)} is a UnixFS {'directory' if unixfs.type in (1, 5) else 'non-file'} "
            "node; Copytrack serves single files only"
        )
    if unixfs.data:
        yield unixfs.data
    for child in child_cids(cid, data):
        yield from iter_file(get_block, child)


def iter_dag(get_block: GetBlock, cid: bytes, seen: set[bytes] | None = None) -> Iterator[tuple[bytes, bytes]]:
    """Yield (cid, bytes) for every block of the DAG once, depth-first, parents before children.

    This is the order of ``ipfs dag export``; repeated blocks (a file of zeros) appear once.
    """
    seen = set() if seen is None else seen
    if cid in seen:
        return
    seen.add(cid)
    data = get_block(cid)
    yield cid, data
    for child in child_cids(cid, data):
        yield from iter_dag(get_block, child, seen)


def mark_reachable(get_block: GetBlock, cid: bytes, seen: set[bytes]) -> None:
    """Add to ``seen`` the binary CIDs of every block under ``cid``, reading only dag-pb nodes.

    Raw leaves have no links, so marking them needs no read; this keeps gc's mark phase cheap.
    """
    stack = [cid]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        if codec_of(current) == DAG_PB:
            stack.extend(child_cids(current, get_block(current)))
