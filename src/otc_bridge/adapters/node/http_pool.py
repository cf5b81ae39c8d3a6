"""A small keep-alive pool of HTTP/1.1 connections to the node (http11.py): the
production path of `NodeTransport` (why this and not httpx: its docstring)."""

from __future__ import annotations

import ssl
import threading
import time

from otc_bridge.adapters.node.http11 import Connection, connect, encode
from otc_bridge.adapters.node.wire import NoReply, RawReply, WireRequest


class KeepAlivePool:
    """Keep-alive connections to one origin, shared by threads."""

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
        # The hot paths take the plain lock (no Python-level Condition.__enter__);
        # only a thread that must wait for a connection uses the condition.
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._idle: list[Connection] = []  # the most recently used last
        self._open = 0  # idle and in use
        self._waiting = 0  # threads waiting for a connection (notify only then)
        self._closed = False

    def send(self, request: WireRequest) -> RawReply:
        data = encode(request)  # a request it refuses takes no connection
        connection = self._acquire()
        try:
            reply, reusable = connection.exchange(data, request.method == "HEAD")
        except BaseException:
            self._release(connection, reusable=False)
            raise
        self._release(connection, reusable=reusable)
        return reply

    def _acquire(self) -> Connection:
        deadline = None
        with self._lock:
            while True:
                if self._closed:
                    raise NoReply("transport: ConnectError: the node client is closed")
                while self._idle:
                    connection = self._idle.pop()
                    # Not idle too long, not closed (nor written to) by the server since.
                    fresh = time.monotonic() - connection.idle_since <= self._idle_expiry
                    if fresh and not connection.written_to():
                        return connection
                    self._discard(connection)
                if self._open < self._max_connections:
                    self._open += 1
                    break
                now = time.monotonic()
                deadline = now + self._read_timeout if deadline is None else deadline
                if deadline <= now:
                    raise NoReply("timeout: PoolTimeout")
                self._waiting += 1
                try:
                    self._ready.wait(deadline - now)
                finally:
                    self._waiting -= 1
        try:
            return self._connect()
        except BaseException:
            with self._lock:
                self._open -= 1
                if self._waiting:
                    self._ready.notify()
            raise

    def _connect(self) -> Connection:
        return connect(
            self._scheme,
            self._host,
            self._port,
            self._context,
            self._connect_timeout,
            self._read_timeout,
        )

    def _release(self, connection: Connection, *, reusable: bool) -> None:
        with self._lock:
            if reusable and not self._closed and len(self._idle) < self._max_idle:
                connection.idle_since = time.monotonic()
                self._idle.append(connection)
            else:
                self._discard(connection)
            if self._waiting:
                self._ready.notify()

    def _discard(self, connection: Connection) -> None:
        connection.close()
        self._open -= 1

    def close(self) -> None:
        with self._lock:
            self._closed = True
            while self._idle:
                self._discard(self._idle.pop())
            self._ready.notify_all()
