"""The node transport's own promises, against real sockets (no mock in between).

Production sends through a small keep-alive pool of its own HTTP/1.1 connections
(http_pool.py, http11.py) instead of httpx.Client (see transport.py). What an operator
would notice if it did not keep httpx's behaviour: the bytes the node receives, a node
that never answers, a refused or closed connection, TLS with a pinned CA bundle,
redirects, and many settlement threads at once; and, since the reply is parsed here,
what the node may send: a reply in many small pieces, interim 1xx replies, chunked
bodies, a body cut short, a connection the reply says to close.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from otc_bridge.adapters.node import transport as transport_module
from otc_bridge.adapters.node.transport import Lost, NodeTransport, Reply
from tests.support.waiting import wait_for

Serve = Callable[[socket.socket, "RawServer"], None]


class RawServer:
    """A TCP (or TLS) server running `serve(connection)` in a thread per connection."""

    def __init__(self, serve: Serve, tls: ssl.SSLContext | None = None) -> None:
        self._serve, self._tls = serve, tls
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.stopped = threading.Event()
        self.connections = 0
        self.open_now = 0
        self.most_open = 0
        self.requests: list[bytes] = []
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._sockets.append(conn)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        with self._lock:
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
        try:
            if self._tls is not None:
                conn = self._tls.wrap_socket(conn, server_side=True)
            self._serve(conn, self)
        except OSError:
            pass
        finally:
            with self._lock:
                self.open_now -= 1
            conn.close()

    def read_request(self, conn: socket.socket) -> bytes | None:
        """One request's bytes (head and body), None once the client closed."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            body += conn.recv(65536)
        with self._lock:
            self.requests.append(head + b"\r\n\r\n" + body)
        return head + b"\r\n\r\n" + body

    def stop(self) -> None:
        self.stopped.set()
        self._listener.close()
        with self._lock:
            for conn in self._sockets:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def url(self, scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}"


def answer(
    conn: socket.socket,
    request: bytes,
    status: int = 200,
    body: dict[str, Any] | None = None,
    headers: tuple[str, ...] = (),
) -> None:
    """A JSON reply echoing the request's id, so a reply is tied to its request."""
    request_id = ""
    for line in request.split(b"\r\n"):
        if line.lower().startswith(b"x-request-id:"):
            request_id = line.split(b":", 1)[1].strip().decode()
    payload = json.dumps(body if body is not None else {"ok": True, "echo": request_id}).encode()
    head = [
        f"HTTP/1.1 {status} X",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        f"X-Request-Id: {request_id}",
        *headers,
    ]
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + payload)


def keep_answering(conn: socket.socket, server: RawServer) -> None:
    while (request := server.read_request(conn)) is not None:
        answer(conn, request)


@pytest.fixture
def servers() -> Iterator[Callable[..., RawServer]]:
    started: list[RawServer] = []

    def start(serve: Serve, tls: ssl.SSLContext | None = None) -> RawServer:
        server = RawServer(serve, tls)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def node(url: str, *, timeout: float = 5.0, connect: float = 5.0, **kwargs: Any) -> NodeTransport:
    kwargs.setdefault("verify", True)
    return NodeTransport(url, timeout_seconds=timeout, connect_timeout_seconds=connect, **kwargs)


def echoed(reply: Reply | Lost) -> str:
    assert isinstance(reply, Reply), reply
    assert reply.body is not None
    return str(reply.body["echo"])


def assert_each_reply_retires_its_connection(server: RawServer) -> None:
    """Two calls, each answered with its own reply, on a connection of its own."""
    transport = node(server.url())
    first = transport.call("GET", "/a", route="r")
    second = transport.call("GET", "/b", route="r")
    assert echoed(first) == first.request_id
    assert echoed(second) == second.request_id
    assert server.connections == 2


# ----------------------------------------------------------------------- the wire


CALLS: list[dict[str, Any]] = [
    {"method": "GET", "path": "/wallet/balance", "params": {"miner_id": "RTCabc"}},
    {
        "method": "GET",
        "path": "/agent/jobs",
        "params": {"status": "open", "limit": 100, "offset": 0, "min_reward": "2.01"},
    },
    {"method": "GET", "path": "/pending/list", "params": {"miner_id": "a b&c=d/é+%"}},
    {"method": "GET", "path": "/agent/jobs/job 1%2F/ü?x"},
    {"method": "GET", "path": "/wallet/tx/" + "ab" * 32},
    {
        "method": "POST",
        "path": "/agent/jobs",
        "json": {
            "poster_wallet": "RTCposter",
            "title": 'OTC Bridge Escrow: ö \u2603 "quoted" \\',
            "reward_rtc": 2.01,
            "ttl_seconds": 7200,
            "tags": ["otc_bridge", "escrow"],
            "nested": {"none": None, "flag": True, "big": 10**20},
        },
        "headers": {"X-Admin-Key": "k" * 40},
    },
    {"method": "POST", "path": "/pending/confirm", "json": {}},
    {"method": "POST", "path": "/agent/jobs/j1/claim"},
]


def _parts(raw: bytes) -> tuple[bytes, dict[bytes, bytes], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, body


@pytest.mark.parametrize(
    "base",
    [
        "http://127.0.0.1:{port}",
        "http://127.0.0.1:{port}/rustchain",
        "http://localhost:{port}/rustchain/",
        "http://node:s3cr%40t@127.0.0.1:{port}/",  # credentials in the URL: Basic auth
    ],
)
def test_the_node_receives_what_httpx_sent(servers: Callable[..., RawServer], base: str) -> None:
    """Same request line (path and query encoded as httpx encoded them), same body
    bytes, same headers but the client's name and the compression it offers."""
    server = servers(keep_answering)
    url = base.format(port=server.port)
    ours = node(url)
    theirs = httpx.Client(base_url=url.rstrip("/"), timeout=5.0)
    for call in CALLS:
        headers = {"X-Request-Id": "fixed", **call.get("headers", {})}
        theirs.request(
            call["method"],
            call["path"],
            json=call.get("json"),
            params=call.get("params"),
            headers=headers,
        )
        reply = ours._send(
            call["method"],
            call["path"],
            route="r",
            json=call.get("json"),
            params=call.get("params"),
            headers=call.get("headers"),
        )
        assert isinstance(reply, Reply)
    theirs.close()
    ours.close()
    sent = server.requests
    assert len(sent) == 2 * len(CALLS)
    for httpx_raw, our_raw in zip(sent[0::2], sent[1::2], strict=True):
        httpx_line, httpx_headers, httpx_body = _parts(httpx_raw)
        our_line, our_headers, our_body = _parts(our_raw)
        assert our_line == httpx_line
        assert our_body == httpx_body
        for differs in (b"user-agent", b"accept-encoding", b"connection", b"x-request-id"):
            httpx_headers.pop(differs, None)
            our_headers.pop(differs, None)
        assert our_headers == httpx_headers


def test_each_reply_is_read_once_and_tied_to_its_request(
    servers: Callable[..., RawServer],
) -> None:
    """Threads share the pool: every reply is its own request's, over few connections."""
    server = servers(keep_answering)
    transport = node(server.url())
    mismatched: list[str] = []

    def worker() -> None:
        for _ in range(25):
            reply = transport._send(
                "GET", "/wallet/balance", route="r", json=None, params=None, headers=None
            )
            if not isinstance(reply, Reply) or echoed(reply) != reply.request_id:
                mismatched.append(repr(reply))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    transport.close()
    assert mismatched == []
    assert len(server.requests) == 200
    assert server.connections <= 16  # kept alive and reused, not one per request (200)


def test_the_pool_never_opens_more_connections_than_its_bound(
    servers: Callable[..., RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Semaphore(0), threading.Event()

    def slow(conn: socket.socket, server: RawServer) -> None:
        while (request := server.read_request(conn)) is not None:
            entered.release()
            release.wait(10)
            answer(conn, request)

    monkeypatch.setattr(transport_module, "MAX_CONNECTIONS", 2)
    server = servers(slow)
    transport = node(server.url())
    replies: list[Reply | Lost] = []
    threads = [
        threading.Thread(target=lambda: replies.append(transport.call("GET", "/x", route="r")))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    assert entered.acquire(timeout=10)
    assert entered.acquire(timeout=10)
    assert server.connections == 2  # the other four wait for one of the two
    release.set()
    for thread in threads:
        thread.join()
    transport.close()
    assert [isinstance(r, Reply) and r.status == 200 for r in replies] == [True] * 6
    assert server.connections == 2


# ---------------------------------------------------------------- lost exchanges


def test_a_node_that_never_answers_is_lost_after_the_read_timeout(
    servers: Callable[..., RawServer],
) -> None:
    def silent(conn: socket.socket, server: RawServer) -> None:
        server.read_request(conn)
        server.stopped.wait(30)

    server = servers(silent)
    transport = node(server.url(), timeout=0.5)
    started = time.monotonic()
    reply = transport.call("POST", "/agent/jobs", json={"a": 1}, route="r")
    waited = time.monotonic() - started
    assert isinstance(reply, Lost)
    assert reply.reason == "timeout: ReadTimeout"
    assert waited >= 0.5  # it waited the read timeout out, no less
    assert len(server.requests) == 1  # the request did leave: the node may have applied it


def test_a_refused_connection_is_lost() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reply = node(f"http://127.0.0.1:{port}").call("GET", "/wallet/balance", route="r")
    assert isinstance(reply, Lost)
    assert reply.reason.startswith("transport: ConnectError:")


def test_the_connect_timeout_covers_the_tls_handshake(
    servers: Callable[..., RawServer],
) -> None:
    """A node that accepts the TCP connection but never starts TLS: lost after the
    connect timeout, not the (much longer) read timeout."""
    server = servers(lambda conn, srv: srv.stopped.wait(30) and None)
    transport = node(server.url("https"), timeout=30.0, connect=0.3)
    started = time.monotonic()
    reply = transport.call("GET", "/wallet/balance", route="r")
    assert isinstance(reply, Lost)
    assert reply.reason == "timeout: ConnectTimeout"
    assert time.monotonic() - started < 30.0


def test_a_kept_alive_connection_the_node_closed_is_not_reused(
    servers: Callable[..., RawServer],
) -> None:
    def one_per_connection(conn: socket.socket, server: RawServer) -> None:
        request = server.read_request(conn)
        if request is not None:
            answer(conn, request)  # says keep-alive, then closes anyway

    server = servers(one_per_connection)
    transport = node(server.url())
    first = transport.call("GET", "/a", route="r")
    assert echoed(first) == first.request_id
    assert wait_for(lambda: server.open_now == 0, timeout=10)  # the node closed it
    second = transport.call("GET", "/b", route="r")
    assert echoed(second) == second.request_id
    assert server.connections == 2


def test_a_connection_closed_with_the_request_in_flight_is_lost_never_a_wrong_reply(
    servers: Callable[..., RawServer],
) -> None:
    def drop_second(conn: socket.socket, server: RawServer) -> None:
        first = server.read_request(conn)
        if first is not None:
            answer(conn, first)
            server.read_request(conn)  # the second request arrives, then the node drops

    server = servers(drop_second)
    transport = node(server.url())
    assert isinstance(transport.call("GET", "/a", route="r"), Reply)
    second = transport.call("POST", "/agent/jobs/j/claim", json={}, route="r")
    assert isinstance(second, Lost)
    assert second.reason.startswith("transport: ")
    third = transport.call("GET", "/c", route="r")  # a fresh connection
    assert echoed(third) == third.request_id


def test_idle_connections_expire(
    servers: Callable[..., RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = servers(keep_answering)
    kept = node(server.url())
    kept.call("GET", "/a", route="r")
    kept.call("GET", "/b", route="r")
    assert server.connections == 1
    monkeypatch.setattr(transport_module, "IDLE_EXPIRY_SECONDS", 0.0)
    expiring = node(server.url())
    expiring.call("GET", "/a", route="r")
    expiring.call("GET", "/b", route="r")
    assert server.connections == 3  # every idle connection already too old to reuse


# ------------------------------------------------------------------ redirects, TLS


def test_a_redirect_is_a_reply_not_followed(servers: Callable[..., RawServer]) -> None:
    def redirect(conn: socket.socket, server: RawServer) -> None:
        while (request := server.read_request(conn)) is not None:
            answer(conn, request, 302, {"error": "moved"}, ("Location: /elsewhere",))

    server = servers(redirect)
    reply = node(server.url()).call("POST", "/wallet/transfer", json={"a": 1}, route="r")
    assert isinstance(reply, Reply)
    assert reply.status == 302
    assert len(server.requests) == 1


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test node")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "node.pem", directory / "node.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_node(servers: Callable[..., RawServer], tmp_path: Path) -> tuple[RawServer, Path]:
    cert_path, key_path = _certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return servers(keep_answering, tls=context), cert_path


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_https_with_a_pinned_ca_bundle(tls_node: tuple[RawServer, Path], host: str) -> None:
    server, bundle = tls_node
    transport = node(server.url("https", host), verify=str(bundle))
    first = transport.call("GET", "/wallet/balance", route="r")
    second = transport.call("POST", "/wallet/transfer", json={"a": 1}, route="r")
    assert echoed(first) == first.request_id
    assert echoed(second) == second.request_id
    assert server.connections == 1  # kept alive over TLS too


def test_https_refuses_a_certificate_the_bundle_does_not_vouch_for(
    tls_node: tuple[RawServer, Path], tmp_path: Path
) -> None:
    server, _ = tls_node
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other, _ = _certificate(other_dir)
    for verify in (True, str(other)):
        reply = node(server.url("https", "localhost"), verify=verify).call("GET", "/", route="r")
        assert isinstance(reply, Lost)
        assert reply.reason.startswith("transport: ConnectError:")
        assert "CERTIFICATE_VERIFY_FAILED" in reply.reason
    assert server.requests == []  # nothing was sent to an unverified node


def test_https_without_verification_when_asked(tls_node: tuple[RawServer, Path]) -> None:
    server, _ = tls_node
    reply = node(server.url("https", "localhost"), verify=False).call("GET", "/", route="r")
    assert isinstance(reply, Reply)
    assert reply.status == 200


def test_a_missing_ca_bundle_fails_at_start() -> None:
    with pytest.raises(FileNotFoundError):
        node("https://127.0.0.1:1", verify="/nonexistent/bundle.pem")


# ---------------------------------------------------------------- environment proxy


@pytest.mark.parametrize("bypassed", [False, True])
def test_an_environment_proxy_is_used_as_httpx_used_it(
    servers: Callable[..., RawServer], monkeypatch: pytest.MonkeyPatch, bypassed: bool
) -> None:
    """HTTP_PROXY routes node calls through the proxy (the request line names the node),
    unless NO_PROXY names the node's host."""
    proxy, direct = servers(keep_answering), servers(keep_answering)
    monkeypatch.setenv("HTTP_PROXY", proxy.url())
    if bypassed:
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    transport = node(direct.url())
    reply = transport.call("GET", "/wallet/balance", params={"miner_id": "RTCa"}, route="r")
    assert echoed(reply) == reply.request_id
    transport.close()
    used, unused = (direct, proxy) if bypassed else (proxy, direct)
    assert unused.requests == []
    line = used.requests[0].split(b"\r\n")[0].decode()
    target = "/wallet/balance?miner_id=RTCa"
    assert line == f"GET {target if bypassed else direct.url() + target} HTTP/1.1"


# ------------------------------------------------------- what the node may send back


def _request_id(request: bytes) -> str:
    for line in request.split(b"\r\n"):
        if line.lower().startswith(b"x-request-id:"):
            return line.split(b":", 1)[1].strip().decode()
    return ""


def _echo(request: bytes, **extra: Any) -> bytes:
    return json.dumps({"ok": True, "echo": _request_id(request), **extra}).encode()


def replying(reply: Callable[[bytes], bytes], *, piece: int = 0) -> Serve:
    """A server answering each request with `reply(request)`'s bytes, in `piece`-byte
    segments when asked (each sent on its own: TCP_NODELAY, and a short pause so the
    client reads them apart, which the test does not depend on)."""

    def serve(conn: socket.socket, server: RawServer) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while (request := server.read_request(conn)) is not None:
            data = reply(request)
            if not piece:
                conn.sendall(data)
                continue
            for start in range(0, len(data), piece):
                conn.sendall(data[start : start + piece])
                time.sleep(0.0005)

    return serve


def _head(status: str, *headers: str) -> bytes:
    return ("\r\n".join([status, *headers]) + "\r\n\r\n").encode()


def _json_reply(request: bytes) -> bytes:
    body = _echo(request)
    return (
        _head("HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}")
        + body
    )


def test_a_reply_in_many_small_segments_is_read_whole(servers: Callable[..., RawServer]) -> None:
    """Status line, header names and values and the body cut at every byte."""
    server = servers(replying(_json_reply, piece=1))
    transport = node(server.url())
    first = transport.call("GET", "/a", route="r")
    second = transport.call("POST", "/b", json={"a": 1}, route="r")
    assert echoed(first) == first.request_id
    assert echoed(second) == second.request_id
    assert server.connections == 1  # and the connection is still good for the next


def test_interim_replies_before_the_answer_are_skipped(servers: Callable[..., RawServer]) -> None:
    """A 100 Continue or 103 Early Hints is not the answer; the final reply is, and the
    next request's reply is its own (http.client took a 103 for the answer and left the
    real one to be read as the next request's)."""
    interim = _head("HTTP/1.1 100 Continue") + _head("HTTP/1.1 103 Early Hints", "Link: </s>")
    server = servers(replying(lambda request: interim + _json_reply(request), piece=7))
    transport = node(server.url())
    for path in ("/a", "/b", "/c"):
        reply = transport.call("GET", path, route="r")
        assert isinstance(reply, Reply)
        assert reply.status == 200
        assert echoed(reply) == reply.request_id
    assert server.connections == 1


def test_a_reply_larger_than_the_receive_buffer(servers: Callable[..., RawServer]) -> None:
    def large(request: bytes) -> bytes:
        body = _echo(request, pad="x" * 3_000_000)
        return (
            _head(
                "HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}"
            )
            + body
        )

    server = servers(replying(large))
    transport = node(server.url())
    for path in ("/a", "/b"):
        reply = transport.call("GET", path, route="r")
        assert isinstance(reply, Reply)
        assert echoed(reply) == reply.request_id
        assert reply.body is not None
        assert len(reply.body["pad"]) == 3_000_000
    assert server.connections == 1


def test_a_chunked_reply_with_extensions_and_a_trailer(servers: Callable[..., RawServer]) -> None:
    """The chunks make the body; a trailer is not a header (it cannot replace the
    reply's request id), and the connection serves the next request."""

    def chunked(request: bytes) -> bytes:
        body = _echo(request)
        chunks = b"".join(
            b"%x;ext=1\r\n%s\r\n" % (len(body[at : at + 5]), body[at : at + 5])
            for at in range(0, len(body), 5)
        )
        head = _head(
            "HTTP/1.1 200 OK",
            "Content-Type: application/json",
            "Transfer-Encoding: chunked",
            f"X-Request-Id: {_request_id(request)}",
        )
        return head + chunks + b"0\r\nX-Request-Id: forged\r\nRetry-After: 9\r\n\r\n"

    server = servers(replying(chunked, piece=3))
    transport = node(server.url())
    for path in ("/a", "/b"):
        reply = transport.call("GET", path, route="r")
        assert echoed(reply) == reply.request_id  # not "forged"
        assert isinstance(reply, Reply)
        assert reply.retry_after is None
    assert server.connections == 1


def test_a_body_without_a_length_is_read_to_the_end(servers: Callable[..., RawServer]) -> None:
    """No Content-Length, not chunked: the body ends with the connection, which then
    serves nothing more."""

    def to_the_end(conn: socket.socket, server: RawServer) -> None:
        request = server.read_request(conn)
        if request is not None:
            conn.sendall(_head("HTTP/1.1 200 OK", "Content-Type: application/json"))
            conn.sendall(_echo(request))

    assert_each_reply_retires_its_connection(servers(to_the_end))


@pytest.mark.parametrize(
    ("status", "headers", "kept"),
    [
        ("HTTP/1.1 200 OK", (), True),
        ("HTTP/1.1 200 OK", ("Connection: close",), False),
        ("HTTP/1.1 200 OK", ("Connection: keep-alive, close",), False),
        ("HTTP/1.0 200 OK", (), False),
        ("HTTP/1.0 200 OK", ("Connection: keep-alive",), True),
        ("HTTP/1.0 200 OK", ("Keep-Alive: timeout=5",), True),
    ],
)
def test_the_reply_says_whether_its_connection_serves_again(
    servers: Callable[..., RawServer], status: str, headers: tuple[str, ...], kept: bool
) -> None:
    def reply(request: bytes) -> bytes:
        body = _echo(request)
        head = _head(
            status, "Content-Type: application/json", f"Content-Length: {len(body)}", *headers
        )
        return head + body

    server = servers(replying(reply))
    transport = node(server.url())
    replies = [transport.call("GET", path, route="r") for path in ("/a", "/b", "/c")]
    assert [echoed(reply) == reply.request_id for reply in replies] == [True] * 3
    assert server.connections == (1 if kept else 3)


def test_bytes_after_a_reply_retire_the_connection(servers: Callable[..., RawServer]) -> None:
    """An unasked-for second reply behind the first is never read as the next
    request's reply."""
    stale = _head("HTTP/1.1 200 OK", "Content-Type: application/json", "Content-Length: 24")
    stale += b'{"ok":true,"echo":"old"}'
    assert_each_reply_retires_its_connection(
        servers(replying(lambda request: _json_reply(request) + stale))
    )


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        (
            _head("HTTP/1.1 200 OK", "Content-Length: 100") + b"0123456789",
            "transport: RemoteProtocolError: IncompleteRead: "
            "IncompleteRead(10 bytes read, 90 more expected)",
        ),
        (
            _head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + b"5\r\nhello\r\n10\r\nabc",
            "transport: RemoteProtocolError: IncompleteRead: IncompleteRead(5 bytes read)",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Le",
            "transport: RemoteProtocolError: Server disconnected without sending a response.",
        ),
        (b"", "transport: RemoteProtocolError: Server disconnected without sending a response."),
    ],
    ids=["short body", "short chunked body", "cut head", "nothing"],
)
def test_a_reply_cut_short_is_lost(
    servers: Callable[..., RawServer], sent: bytes, reason: str
) -> None:
    def cut(conn: socket.socket, server: RawServer) -> None:
        if server.read_request(conn) is not None:
            conn.sendall(sent)

    server = servers(cut)
    reply = node(server.url()).call("POST", "/wallet/transfer", json={"a": 1}, route="r")
    assert isinstance(reply, Lost)
    assert reply.reason == reason


@pytest.mark.parametrize(
    "sent",
    [
        b"garbage\r\n\r\n",
        _head("HTTP/2.0 200 OK", "Content-Length: 2") + b"{}",
        _head("HTTP/1.1 101 Switching Protocols", "Upgrade: h2c", "Connection: Upgrade"),
        _head("HTTP/1.1 200 OK", "Content-Length: x") + b"{}",
    ],
    ids=["not HTTP", "HTTP/2.0", "an upgrade", "a bad length"],
)
def test_a_reply_that_is_not_http_1_is_lost(servers: Callable[..., RawServer], sent: bytes) -> None:
    server = servers(replying(lambda request: sent))
    transport = node(server.url())
    reply = transport.call("GET", "/a", route="r")
    assert isinstance(reply, Lost)
    assert reply.reason.startswith("transport: RemoteProtocolError: ")


def test_a_node_that_never_reads_a_long_request_is_lost_after_the_write_timeout(
    servers: Callable[..., RawServer],
) -> None:
    server = servers(lambda conn, srv: srv.stopped.wait(30) and None)
    transport = node(server.url(), timeout=0.3)
    started = time.monotonic()
    reply = transport.call("POST", "/agent/jobs", json={"pad": "x" * 32_000_000}, route="r")
    assert isinstance(reply, Lost)
    assert reply.reason == "timeout: WriteTimeout"
    assert time.monotonic() - started >= 0.3


def test_a_header_holding_a_line_break_is_refused_before_anything_is_sent(
    servers: Callable[..., RawServer],
) -> None:
    """A key with a line break would forge a header: refused, as http.client refused it."""
    server = servers(keep_answering)
    transport = node(server.url())
    with pytest.raises(ValueError, match="CR or LF"):
        transport.call("GET", "/a", headers={"X-Admin-Key": "k\r\nX-Forged: 1"}, route="r")
    assert server.connections == 0
    assert echoed(reply := transport.call("GET", "/b", route="r")) == reply.request_id
