"""Server-sent events on the wire (WHATWG HTML, "Server-sent events").

Each event is `id:`, `event:` and one `data:` line of compact JSON (JSON never holds a
raw newline), then a blank line; a line starting with `:` is a comment (the keep-alive);
`retry:` tells an EventSource how long to wait before it reconnects.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from typing import Any

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

MEDIA_TYPE = "text/event-stream"


def event(data: dict[str, Any], *, name: str, event_id: str | None = None) -> bytes:
    lines = [] if event_id is None else [f"id: {event_id}"]
    lines += [f"event: {name}", "data: " + json.dumps(data, separators=(",", ":"))]
    return ("\n".join(lines) + "\n\n").encode()


def comment(text: str) -> bytes:
    return f": {text}\n\n".encode()


def retry(milliseconds: int) -> bytes:
    return f"retry: {milliseconds}\n\n".encode()


class EventStreamResponse(StreamingResponse):
    """A stream of events that tells proxies not to cache or buffer it, and runs
    `on_close` however it ends (the stream's end, the client gone, the server stopping),
    so the stream's slot and subscription are given back at once."""

    media_type = MEDIA_TYPE

    def __init__(
        self, frames: AsyncGenerator[bytes, None], *, on_close: Callable[[], None]
    ) -> None:
        super().__init__(frames, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._frames = frames
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_close()
            with anyio.CancelScope(shield=True):
                await self._frames.aclose()
