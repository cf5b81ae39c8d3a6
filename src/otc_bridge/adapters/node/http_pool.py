"""A small keep-alive pool of the standard library's `http.client` connections to the
node: the production path of `NodeTransport` (why this and not httpx: its docstring)."""

from __future__ import annotations

import http.client
import select
import ssl
import threading
import time
from dataclasses import dataclass

from otc_bridge.adapters.node.wire import NoReply, RawReply, WireRequest


@dataclass(slots=True)
class _Idle:
    connection: http.client.HTTPConnection
    since: float


class KeepAlivePool:
    """Keep-alive `http.client` connections to one origin, shared by threads."""

    def __init__(
        self,
        *,
        scheme: str,
        host: str,
        port: int,
        context: ssl.SSLContext,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
        max_idle: int,
        idle_expiry: float,
    ) -> None:
        self._scheme, self._host, self._port = scheme, host, port
        self._context = context
        self._connect_timeout, self._read_timeout = connect_timeout, read_timeout
        self._max_connections, self._max_idle = max_connections, max_idle
        self._idle_expiry = idle_expiry
        self._ready = threading.Condition()
        self._idle: list[_Idle] = []  # the most recently used last
        self._open = 0  # idle and in use
        self._closed = False

    def send(self, request: WireRequest) -> RawReply:
        connection = self._acquire()
        stage = "Write"
        try:
            connection.putrequest(
                request.method, request.target, skip_host=True, skip_accept_encoding=True
            )
            for name, value in request.headers:
                connection.putheader(name, value)
            connection.endheaders(request.body)
            stage = "Read"
            response = connection.getresponse()
            content = response.read()
        except BaseException as exc:
            self._release(connection, reusable=False)
            if isinstance(exc, TimeoutError):
                raise NoReply(f"timeout: {stage}Timeout") from exc
            if isinstance(exc, http.client.RemoteDisconnected):  # no status line came
                detail = "Server disconnected without sending a response."
                raise NoReply(f"transport: RemoteProtocolError: {detail}") from exc
            if isinstance(exc, http.client.HTTPException):  # a bad reply, a short body
                detail = f"{type(exc).__name__}: {exc}"
                raise NoReply(f"transport: RemoteProtocolError: {detail}") from exc
            if isinstance(exc, OSError):
                raise NoReply(f"transport: {stage}Error: {exc}") from exc
            raise
        self._release(connection, reusable=not response.will_close)
        headers = [(name.lower(), value) for name, value in response.getheaders()]
        return RawReply(response.status, headers, content)

    def _acquire(self) -> http.client.HTTPConnection:
        deadline = time.monotonic() + self._read_timeout
        with self._ready:
            while True:
                if self._closed:
                    raise NoReply("transport: ConnectError: the node client is closed")
                while self._idle:
                    idle = self._idle.pop()
                    if self._usable(idle):
                        return idle.connection
                    self._discard(idle.connection)
                if self._open < self._max_connections:
                    self._open += 1
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise NoReply("timeout: PoolTimeout")
                self._ready.wait(left)
        try:
            return self._connect()
        except BaseException:
            with self._ready:
                self._open -= 1
                self._ready.notify()
            raise

    def _usable(self, idle: _Idle) -> bool:
        """Not idle too long, and not closed (nor written to) by the server meanwhile."""
        if time.monotonic() - idle.since > self._idle_expiry:
            return False
        sock = idle.connection.sock
        if sock is None:
            return False
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return not poller.poll(0)

    def _connect(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection
        if self._scheme == "https":
            connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._connect_timeout, context=self._context
            )
        else:
            connection = http.client.HTTPConnection(
                self._host, self._port, timeout=self._connect_timeout
            )
        try:
            connection.connect()
        except TimeoutError as exc:
            connection.close()
            raise NoReply("timeout: ConnectTimeout") from exc
        except OSError as exc:  # refused, unreachable, no such host, TLS refused
            connection.close()
            raise NoReply(f"transport: ConnectError: {exc}") from exc
        assert connection.sock is not None
        connection.sock.settimeout(self._read_timeout)  # connect() set TCP_NODELAY
        # A dropped connection must never be reopened behind the caller's back.
        connection.auto_open = 0
        return connection

    def _release(self, connection: http.client.HTTPConnection, *, reusable: bool) -> None:
        with self._ready:
            if reusable and not self._closed and len(self._idle) < self._max_idle:
                self._idle.append(_Idle(connection, time.monotonic()))
            else:
                self._discard(connection)
            self._ready.notify()

    def _discard(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        self._open -= 1

    def close(self) -> None:
        with self._ready:
            self._closed = True
            while self._idle:
                self._discard(self._idle.pop().connection)
            self._ready.notify_all()
