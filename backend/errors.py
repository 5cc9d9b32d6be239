"""Domain errors: they carry a stable code, a message a person can act on, and optional details.

Domain code raises these; only `backend.api.errors` knows which HTTP status each one becomes.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(DomainError):
    code = "invalid_input"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Unprocessable(DomainError):
    """The request is well-formed but what it asks cannot be done (now): a case that is not viable,
    a reported image that is no copy of the caller's registrations; `details` say every reason."""

    code = "unprocessable"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"


class UnsupportedMedia(DomainError):
    code = "unsupported_media_type"


class ChainUnavailable(DomainError):
    """The chain node cannot be reached or refused the transaction; nothing was lost, retry later."""

    code = "chain_unavailable"


class ChainRejected(DomainError):
    """The chain (or the contract) refused what was asked, e.g. a revert with a reason."""

    code = "chain_rejected"


class Overloaded(DomainError):
    """Too much work at once; nothing was done. `retry_after` (seconds) says when to try again."""

    code = "overloaded"
