"""Reading the bridge's event streams (server-sent events) from Python.

    with client.order_stream(order_id, last_event_id="3") as stream:
        for item in stream:              # ServerEvent or Comment (a keep-alive)
            if isinstance(item, ServerEvent) and item.event == "order_event":
                print(item.id, item.json()["to"])

`EventParser` is the line-by-line parser (WHATWG HTML's rules for the fields the bridge
sends), usable with any HTTP client that yields lines, sync or async.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class ServerEvent:
    event: str  # "message" when the server named none
    data: str
    id: str | None  # None: the event carried no id (the last one seen stays current)

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass(frozen=True, slots=True)
class Comment:
    text: str


@dataclass(slots=True)
class EventParser:
    retry_ms: int | None = None
    last_event_id: str | None = None  # what to send as Last-Event-ID on reconnecting
    _event: str = ""
    _data: list[str] = field(default_factory=list)
    _id: str | None = None

    def feed(self, line: str) -> ServerEvent | Comment | None:
        """One line (without its line break); an event when a blank line ends one."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return Comment(line[1:].removeprefix(" "))
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> ServerEvent | None:
        if self._id is not None:
            self.last_event_id = self._id
        event = None
        if self._data:
            event = ServerEvent(self._event or "message", "\n".join(self._data), self._id)
        self._event, self._data, self._id = "", [], None
        return event


class EventStream:
    """One open stream over an httpx streaming response."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.parser = EventParser()
        self._lines: Iterator[str] | None = None  # one pass over the body, however read

    @property
    def status_code(self) -> int:
        return self.response.status_code

    def __iter__(self) -> Iterator[ServerEvent | Comment]:
        if self._lines is None:
            self._lines = self.response.iter_lines()
        for line in self._lines:
            item = self.parser.feed(line)
            if item is not None:
                yield item

    def events(self) -> Iterator[ServerEvent]:
        """The events only (keep-alive comments skipped)."""
        for item in self:
            if isinstance(item, ServerEvent):
                yield item
