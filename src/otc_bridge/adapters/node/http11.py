"""One HTTP/1.1 exchange on a socket we own: the request written in one `sendall`, the
reply parsed by llhttp (`httptools`, C) as it is received.

Why not `http.client`: per node request it cost more CPU than everything else the
client does (a `putheader` call per header, a buffered file object per reply, and the
reply's headers parsed by the pure-Python `email` package). The behaviour kept from it,
pinned by tests/adapters/test_node_transport.py:

* the request's bytes: the request line, `Name: value` lines and the body, in order,
  with nothing added (the transport builds every header itself);
* when a connection may serve another exchange (`will_close`): an HTTP/1.1 reply unless
  its `Connection` says close; an HTTP/1.0 reply only with a keep-alive sign; never
  after a body read to the end of the connection (no Content-Length, not chunked);
* a `100 Continue` before the reply is skipped;
* the reasons an exchange is lost, in httpx's names: `timeout: ReadTimeout`, a
  short body as `IncompleteRead(... bytes read, ... more expected)`, a connection
  closed before any reply as "Server disconnected without sending a response.".

Stricter than `http.client`, where it could read a wrong reply: any interim 1xx is
skipped (http.client took a 103 for the answer, leaving the real one to be read as the
next request's); a reply whose head was cut short is lost rather than read as complete;
bytes after the reply (which http.client dropped unseen) retire the connection; an
upgrade (101), a folded header line, or both Content-Length and Transfer-Encoding
(llhttp's refusals) are lost rather than read.
"""

from __future__ import annotations

import errno
import re
import select
import socket
import ssl
import struct
import sys

from httptools import HttpParserError, HttpParserUpgrade, HttpResponseParser

from otc_bridge.adapters.node.wire import NoReply, RawReply, WireRequest

_RECEIVE_BYTES = 65536
_ONE_SEND_BYTES = 16384  # fits an empty socket's send buffer (Linux's default)
# A head is a few hundred bytes; http.client capped it near 100 lines of 64 KiB.
_MAX_HEAD_BYTES = 1 << 20
_DISCONNECTED = "transport: RemoteProtocolError: Server disconnected without sending a response."
# What http.client refused in a request line (it validates before sending).
_BAD_REQUEST_LINE = re.compile(r"[^\x21-\x7e]")


def connect(
    scheme: str,
    host: str,
    port: int,
    context: ssl.SSLContext,
    connect_timeout: float,
    read_timeout: float,
) -> Connection:
    """A connection to the node, TLS for https; the connect timeout covers the TCP
    connect and the TLS handshake, the read timeout every socket call after them."""
    if host[:1] == "[" and host[-1:] == "]":  # an IPv6 literal, as http.client took it
        host = host[1:-1]
    try:
        sock = socket.create_connection((host, port), connect_timeout)
    except TimeoutError as exc:
        raise NoReply("timeout: ConnectTimeout") from exc
    except OSError as exc:  # refused, unreachable, no such host
        raise NoReply(f"transport: ConnectError: {exc}") from exc
    try:
        try:  # small requests leave at once instead of waiting for an ACK (Nagle)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            if exc.errno != errno.ENOPROTOOPT:
                raise
        if scheme == "https":
            sock = context.wrap_socket(sock, server_hostname=host)
            sock.settimeout(read_timeout)
        elif _kernel_timeouts(sock, read_timeout):
            return Connection(sock, long_write_timeout=read_timeout)
        else:
            sock.settimeout(read_timeout)
    except TimeoutError as exc:
        sock.close()
        raise NoReply("timeout: ConnectTimeout") from exc
    except OSError as exc:  # the TLS handshake failed: certificate, protocol
        sock.close()
        raise NoReply(f"transport: ConnectError: {exc}") from exc
    return Connection(sock)


def _kernel_timeouts(sock: socket.socket, seconds: float) -> bool:
    """The read timeout kept by the kernel (SO_RCVTIMEO, SO_SNDTIMEO) on a blocking
    socket: each recv or send is then one system call, where Python's own timeout polls
    before each (about 5% of the CPU per request, measured on the bench's devnode). A timed-out
    call fails with EAGAIN (BlockingIOError). Linux's struct timeval only: elsewhere,
    as for TLS (read through OpenSSL), Python's timeout."""
    if sys.platform != "linux":
        return False
    timeval = struct.pack("@ll", *divmod(max(1, round(seconds * 1_000_000)), 1_000_000))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
    sock.settimeout(None)
    return True


def encode(request: WireRequest) -> bytes:
    """The request's bytes as http.client's putrequest/putheader/endheaders sent them;
    ValueError (nothing sent) for a request line or header value it refused."""
    method, target, headers = request.method, request.target, request.headers
    fields = "".join([f"{name}: {value}\r\n" for name, value in headers])
    head = f"{method} {target} HTTP/1.1\r\n{fields}\r\n"
    lines = len(headers) + 2
    # A CR or LF inside a header would forge another header; a space or a control
    # character in the request line, another request line.
    if head.count("\n") != lines or head.count("\r") != lines:
        raise ValueError("a CR or LF inside a header")  # not shown: it may be a key
    if _BAD_REQUEST_LINE.search(method + target):
        raise ValueError(f"not a valid request line: {method!r} {target!r}")
    data = head.encode("latin-1")
    return data + request.body if request.body else data


class Connection:
    """One keep-alive connection; serves one exchange at a time. Its parser lives as
    long as it does: llhttp reads reply after reply on one connection."""

    __slots__ = (
        "_buffer",
        "_long_write_timeout",
        "_parser",
        "_poller",
        "_reply",
        "_view",
        "idle_since",
        "sock",
    )

    def __init__(self, sock: socket.socket, long_write_timeout: float | None = None) -> None:
        self.sock = sock
        self._long_write_timeout = long_write_timeout  # see _send_long
        self.idle_since = 0.0  # set by the pool
        self._poller = select.poll()
        self._poller.register(sock, select.POLLIN)
        self._buffer = bytearray(_RECEIVE_BYTES)
        self._view = memoryview(self._buffer)
        self._reply = _Reply()
        self._parser = self._reply.new_parser()

    def written_to(self) -> bool:
        """Whether the server wrote (or closed: EOF reads as readable) since the last
        reply ended: an idle connection in that state must not carry a request."""
        return bool(self._poller.poll(0))

    def exchange(self, data: bytes, head_only: bool) -> tuple[RawReply, bool]:
        """The reply to `data` (an encoded request; `head_only` for HEAD), and whether
        the connection may serve another exchange; raises `NoReply` (the connection
        must then be dropped)."""
        stage = "Write"
        try:
            if len(data) > _ONE_SEND_BYTES and self._long_write_timeout is not None:
                self._send_long(data, self._long_write_timeout)
            else:
                self.sock.sendall(data)
            stage = "Read"
            return self._receive(head_only)
        except (TimeoutError, BlockingIOError) as exc:
            raise NoReply(f"timeout: {stage}Timeout") from exc
        except OSError as exc:  # reset, broken pipe, a TLS error
            raise NoReply(f"transport: {stage}Error: {exc}") from exc

    def close(self) -> None:
        self.sock.close()

    def _send_long(self, data: bytes, timeout: float) -> None:
        """A request too long for one send, under Python's timeout, which bounds the
        whole `sendall`: the kernel's would bound each of its sends."""
        self.sock.settimeout(timeout)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.settimeout(None)

    def _receive(self, head_only: bool) -> tuple[RawReply, bool]:
        reply, parser = self._reply, self._parser
        reply.start(head_only)
        recv_into, buffer, view = self.sock.recv_into, self._buffer, self._view
        head_bytes = 0
        while True:
            count = recv_into(buffer)
            if not count:
                return reply.at_end()
            try:
                parser.feed_data(view[:count])
            except HttpParserError as exc:
                reply.refused(f"{type(exc).__name__}: {exc}", exc)
            except HttpParserUpgrade as exc:  # 101 Switching Protocols: never asked for
                reply.refused("an upgrade to another protocol", exc)
            if reply.done:
                result = reply.result()
                if head_only or reply.version != "1.1":
                    # llhttp read a body after a HEAD reply, or, for HTTP/1.0, may
                    # expect none after a reply http.client's rules let us reuse.
                    self._parser = reply.new_parser()
                return result
            if not reply.head_done:
                head_bytes += count
                if head_bytes > _MAX_HEAD_BYTES:
                    detail = f"the reply's head is longer than {_MAX_HEAD_BYTES} bytes"
                    raise NoReply(f"transport: RemoteProtocolError: {detail}")


class _Trailing(Exception):
    """Stops the parser at bytes that follow the reply."""


class _Reply:
    """httptools' callbacks for the reply being read; interim (1xx) replies skipped."""

    __slots__ = (
        "body",
        "chunks_done",
        "done",
        "head",
        "head_done",
        "head_only",
        "lines",
        "parser",
        "status",
        "trailing",
        "version",
    )
    parser: HttpResponseParser
    lines: list[tuple[bytes, bytes]]  # header lines, then a chunked body's trailer
    head: list[tuple[bytes, bytes]]  # the final reply's header lines
    body: list[bytes]

    def __init__(self) -> None:
        self.start(head_only=False)

    def new_parser(self) -> HttpResponseParser:
        self.parser = HttpResponseParser(self)
        self.parser.set_dangerous_leniencies(lenient_optional_cr_before_lf=True)  # as http.client
        return self.parser

    def start(self, head_only: bool) -> None:
        self.head_only = head_only
        self.lines, self.head, self.body = [], [], []
        self.chunks_done = 0  # how many `body` pieces belong to whole chunks
        self.status = 0
        self.version = ""
        self.head_done = self.done = self.trailing = False

    def on_message_begin(self) -> None:
        if self.done:
            raise _Trailing

    def on_header(self, name: bytes, value: bytes) -> None:
        self.lines.append((name, value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status >= 200:
            self.status, self.head_done = status, True
            # A trailer is dropped, as http.client dropped it.
            self.head, self.lines = self.lines, []
            self.done = self.head_only  # a HEAD reply has no body, whatever it says

    def on_body(self, data: bytes) -> None:
        self.body.append(data)

    def on_chunk_complete(self) -> None:
        self.chunks_done = len(self.body)

    def on_message_complete(self) -> None:
        if self.head_done:
            self.done = True
        else:  # an interim reply: the final one follows on the same connection
            self.lines = []

    def refused(self, detail: str, exc: Exception) -> None:
        """The parser refused the reply, or bytes after it (which then retire the
        connection: see the module docstring)."""
        if not self.done:
            raise NoReply(f"transport: RemoteProtocolError: {detail}") from exc
        self.trailing = True

    def at_end(self) -> tuple[RawReply, bool]:
        """The connection ended before the reply did: complete only when the body
        runs to the end of the connection (no length, not chunked)."""
        if not self.head_done:
            raise NoReply(_DISCONNECTED)
        reply, _ = self.result()
        headers = reply.headers
        encoding = _first(headers, "transfer-encoding")
        if encoding is not None and encoding.strip().lower().endswith("chunked"):
            received = sum(len(piece) for piece in self.body[: self.chunks_done])
            raise NoReply(_incomplete(f"IncompleteRead({received} bytes read)"))
        length = _length(_first(headers, "content-length"))
        if length is not None:
            received = len(reply.content)
            missing = f"{received} bytes read, {length - received} more expected"
            raise NoReply(_incomplete(f"IncompleteRead({missing})"))
        return reply, False

    def result(self) -> tuple[RawReply, bool]:
        """The reply, and whether its connection may carry another exchange."""
        version = self.version = self.parser.get_http_version()
        if version != "1.1" and version != "1.0":
            detail = f"UnknownProtocol: HTTP/{version}"
            raise NoReply(f"transport: RemoteProtocolError: {detail}")
        headers = [
            (name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in self.head
        ]
        body = self.body
        content = b"" if self.head_only else body[0] if len(body) == 1 else b"".join(body)
        reusable = not self.trailing and not _will_close(version, headers)
        return RawReply(self.status, headers, content), reusable


def _will_close(version: str, headers: list[tuple[str, str]]) -> bool:
    """http.client's HTTPResponse._check_close."""
    connection = (_first(headers, "connection") or "").lower()
    if version == "1.1":
        return "close" in connection
    if _first(headers, "keep-alive") or "keep-alive" in connection:
        return False
    return "keep-alive" not in (_first(headers, "proxy-connection") or "").lower()


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _length(value: str | None) -> int | None:
    try:
        length = int(value) if value is not None else None
    except ValueError:
        return None
    return length if length is not None and length >= 0 else None


def _incomplete(detail: str) -> str:
    return f"transport: RemoteProtocolError: IncompleteRead: {detail}"
