"""How a use case refuses a request, by what is wrong with it (never by HTTP status).

`error` is the stable code or the reference bridge's message, exactly as clients match on
it; `fields` are the other members of the error body. The HTTP layer maps each kind to its
status in one table (`otc_bridge.api.errors`); the CLI prints the error. A refused request
changed nothing.
"""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    def __init__(self, error: str, /, **fields: Any) -> None:
        super().__init__(error)
        self.error = error
        self.fields = fields


class InvalidRequest(Refused):
    """The request itself is wrong: a missing or malformed field, terms out of bounds."""


class Unauthenticated(Refused):
    """No valid signature (or admin key) for the request."""


class Forbidden(Refused):
    """Authenticated, but not the party who may do this."""


class NotFound(Refused):
    """No such order."""


class Unprocessable(Refused):
    """Well-formed, but what it points at fails a check (a quote lock that does not back
    the order: `observed` and `expected` say which)."""


class Conflict(Refused):
    """The order is not in a state that allows this, or changed while it was done."""


class Gone(Refused):
    """The order is past its lifetime."""


class TooManyRequests(Refused):
    """A rate limit or the node's cap on active escrows. Always says when to retry
    (`retry_after_seconds`, sent as the Retry-After header too) and why, in `message`."""

    def __init__(self, error: str, /, *, retry_after_seconds: int, message: str, **fields: Any):
        super().__init__(
            error, retry_after_seconds=max(1, retry_after_seconds), message=message, **fields
        )


class Unavailable(Refused):
    """A dependency cannot serve this now (the node's admin transport, the quote leg's
    verification, an escrow lock of unknown outcome); nothing was lost."""
