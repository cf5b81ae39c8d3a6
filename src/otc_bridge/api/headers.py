"""Headers every answer carries: the server's time and the security headers.

`X-Server-Time` (Unix seconds, from the bridge's own clock: on a devnet, the clock that
`POST /devnet/clock` moves) lets a client sign with the server's time after learning its
offset from any answer. The security headers are set on every answer, errors included:
a strict Content-Security-Policy unless the route chose its own (the trading page and
`/docs` allow their own scripts and styles, nothing else), `nosniff`, no framing, no
referrer. The same set is given to the one answer that bypasses middleware (an
unhandled error's 500), through `standard_headers`.
"""

from __future__ import annotations

from otc_bridge.api.middleware import ASGIApp, Message, Receive, Scope, Send
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


class ResponseHeaders:
    def __init__(self, app: ASGIApp, *, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in _SECURITY_RAW if h[0] not in present)
                if _SERVER_TIME_RAW not in present:
                    headers.append((_SERVER_TIME_RAW, str(self.clock.now()).encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
