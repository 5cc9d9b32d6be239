"""Content addressing for Copytrack: the CIDs Kubo computes, a local block store, a Kubo client.

    >>> import ipfs
    >>> ipfs.compute_cid(b"hello world")
    'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'

The backend depends only on ``Store``; ``open_store`` picks the implementation.
"""

import os

from ipfs.errors import BlockNotFound, CorruptBlock, InvalidCar, InvalidCid, IpfsError, NodeMismatch, NotPinned
from ipfs.importer import compute_cid
from ipfs.kubo import KuboStore
from ipfs.local import LocalStore
from ipfs.store import Store


def open_store(local_root: str | os.PathLike, kubo_api: str | None = None) -> Store:
    """A KuboStore when ``kubo_api`` (e.g. ``COPYTRACK_IPFS_API``) is set, else a LocalStore."""
    if kubo_api:
        return KuboStore(kubo_api)
    return LocalStore(local_root)


__all__ = [
    "BlockNotFound",
    "CorruptBlock",
    "InvalidCar",
    "InvalidCid",
    "IpfsError",
    "KuboStore",
    "LocalStore",
    "NodeMismatch",
    "NotPinned",
    "Store",
    "compute_cid",
    "open_store",
]
