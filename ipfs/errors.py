"""Exceptions raised by the ipfs package; every message says what was wrong and what to do."""


class IpfsError(Exception):
    """Base class of every error this package raises."""


class InvalidCid(IpfsError, ValueError):
    """A CID string that cannot be parsed, or names a codec or hash this package does not store."""


class BlockNotFound(IpfsError, LookupError):
    """A block the operation needs is not in the store."""

    def __init__(self, cid: str, message: str):
        super().__init__(message)
        self.cid = cid


class CorruptBlock(IpfsError):
    """A block's bytes do not hash to its CID (or do not decode as its codec says)."""

    def __init__(self, cid: str, message: str):
        super().__init__(message)
        self.cid = cid


class InvalidCar(IpfsError, ValueError):
    """A CAR file that is malformed, truncated, tampered with or missing blocks of its roots."""


class NodeMismatch(IpfsError):
    """An IPFS node answered with a CID (or content) other than the one computed locally."""

    def __init__(self, expected: str, actual: str, message: str):
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class NotPinned(IpfsError, LookupError):
    """unpin() of a CID that is not pinned."""
