"""A webhook receiver on loopback for the tests: records every POST (headers and the raw
body, as a receiver must verify it) and answers each with the next scripted status
(204 once the script runs out)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    answered: int

    @property
    def accepted(self) -> bool:
        return 200 <= self.answered < 300

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(
        self,
        *,
        statuses: tuple[int, ...] = (),
        always: int | None = None,
        hold_first: threading.Event | None = None,
    ) -> None:
        self.posts: list[Received] = []
        self.arrived = threading.Event()  # set when the first POST has come in
        self._script = list(statuses)
        self._always = always
        self._hold_first = hold_first  # the first POST is answered only once it is set
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    status = receiver._next_status()
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.posts.append(Received(self.path, headers, body, status))
                    first = len(receiver.posts) == 1
                receiver.arrived.set()
                if first and receiver._hold_first is not None:
                    receiver._hold_first.wait(timeout=30)
                reply = b"receiver unavailable" if status >= 300 else b""
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _next_status(self) -> int:
        if self._script:
            return self._script.pop(0)
        return self._always if self._always is not None else 204

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/otc"

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.posts)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
