"""`otc-bridge serve --workers N`: N uvicorn processes, each listening on a socket of its
own bound to the same address with SO_REUSEPORT, under a small supervisor.

Why not uvicorn's own `--workers`: its processes share one listening socket, and an idle
event loop accepts every connection that is waiting when it wakes, so the keep-alive
connections a client pool opens at once all land on one process (measured: 8 of 8, every
time, with two workers): one process did the work of both while the other idled. With a
socket per process the kernel spreads new connections over the processes by a hash of
the client's address and port.

The supervisor starts the workers, restarts one that dies (and stops everything if one
fails before serving: a bad setting or a taken port would fail again), and on SIGINT or
SIGTERM asks each to finish its requests and exit, killing those that have not within
30 seconds. A worker whose supervisor is killed stops too (Linux's parent-death signal).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
from multiprocessing.process import BaseProcess
from typing import Any

from otc_bridge.process_tree import die_with_parent

log = logging.getLogger(__name__)

STARTUP_FAILURE = 3  # uvicorn's exit code for "failed before serving"
BACKLOG = 2048  # uvicorn's default


def reuse_port_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


def _worker(host: str, port: int, config: dict[str, Any], parent: int) -> None:
    die_with_parent(parent)  # never serve on alone after the supervisor is gone
    import uvicorn

    settings = uvicorn.Config(**config)
    # The app first (imports, migrations: seconds on a busy machine), then the socket:
    # the kernel hands connections to every socket of the port at once, so one bound
    # before its process can answer would hold its share of new clients waiting.
    settings.load()
    try:
        sock = reuse_port_socket(host, port)
    except OSError as exc:
        print(f"otc-bridge serve: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    server = uvicorn.Server(settings)
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def run_workers(
    count: int,
    *,
    host: str,
    port: int,
    config: dict[str, Any],
    shutdown_seconds: float = 30.0,
) -> int:
    """Serve with `count` worker processes until SIGINT/SIGTERM; the exit status."""
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()
    status = 0

    def start() -> BaseProcess:
        arguments = (host, port, config, os.getpid())
        process = context.Process(target=_worker, args=arguments, name="otc-bridge-api")
        process.start()
        log.info("api worker %s started", process.pid)
        return process

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    workers = [start() for _ in range(count)]
    while not stop.wait(0.5):
        for index, process in enumerate(workers):
            if process.is_alive():
                continue
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                log.error("api worker %s failed to start: stopping", process.pid)
                status = STARTUP_FAILURE
                stop.set()
                break
            log.warning("api worker %s died (exit %s): restarting", process.pid, process.exitcode)
            workers[index] = start()
    for process in workers:
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGTERM)  # uvicorn finishes its requests, then exits
    for process in workers:
        process.join(timeout=shutdown_seconds)
        if process.is_alive():
            log.warning("api worker %s did not stop in time: killed", process.pid)
            process.kill()
            process.join()
    return status
