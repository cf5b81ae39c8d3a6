"""How a use case refuses a request: an HTTP status and the reference's JSON body."""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    def __init__(self, http_status: int, error: str, /, **extra: Any) -> None:
        super().__init__(error)
        self.status = http_status
        self.body: dict[str, Any] = {"error": error, **extra}
