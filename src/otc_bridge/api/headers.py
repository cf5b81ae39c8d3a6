"""Headers every answer carries: the server's time and the security headers.

`X-Server-Time` (Unix seconds, from the bridge's own clock: on a devnet, the clock that
`POST /devnet/clock` moves) lets a client sign with the server's time after learning its
offset from any answer. The security headers are set on every answer, errors included:
a strict Content-Security-Policy unless the route chose its own (the trading page and
`/docs` allow their own scripts and styles, nothing else), `nosniff`, no framing, no
referrer. They are added by the front layer (`api/middleware.py`), through `finisher`;
the same set is given to the one answer that bypasses middleware (an unhandled error's
500), through `standard_headers`.
"""

from __future__ import annotations

from collections.abc import Callable

from otc_bridge.domain.clock import Clock

SERVER_TIME = "X-Server-Time"
# For answers that are data, not documents: nothing may load, run or frame them.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SECURITY = {
    "Content-Security-Policy": API_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


# The same, as ASGI writes them (lower-case bytes), made once.
_SECURITY_RAW = [(name.lower().encode(), value.encode()) for name, value in SECURITY.items()]
_SERVER_TIME_RAW = SERVER_TIME.lower().encode()


def standard_headers(clock: Clock) -> dict[str, str]:
    return {**SECURITY, SERVER_TIME: str(clock.now())}


def finisher(clock: Clock) -> Callable[[list[tuple[bytes, bytes]]], None]:
    """What completes an answer's headers (ASGI's raw list, in place): the security
    headers the route did not set itself, then the server's time unless set."""

    def finish(headers: list[tuple[bytes, bytes]]) -> None:
        present = {name.lower() for name, _ in headers}
        headers.extend(h for h in _SECURITY_RAW if h[0] not in present)
        if _SERVER_TIME_RAW not in present:
            headers.append((_SERVER_TIME_RAW, str(clock.now()).encode()))

    return finish
