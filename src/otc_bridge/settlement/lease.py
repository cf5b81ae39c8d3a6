"""A fenced lease for singleton workers (the reconciler; a chain watcher): one holder at
a time, across processes and hosts.

The lease is a row with a fencing token that grows with each new holder; every write a
holder makes under it checks the token (pass `tenure.fence` to the store), so a holder
paused past its lease cannot act on stale leadership. While a holder works, a heartbeat
renews the lease every third of its length, so the lease may be short (a dead holder
keeps it only briefly) and the work still long. A paused process renews nothing: its
lease runs out, another process takes it, and the paused one's writes fail on the fence
when it resumes. A lease whose holder was a process of this host that no longer runs (a
crash, a SIGKILL) is taken over at once instead of being waited out.

    lease = Lease(store, "reconciler", ttl_seconds=30)
    with lease.hold() as tenure:
        if tenure is None: ...              # someone else holds it
        ... writes with fence=tenure.fence, stopping when tenure.lost.is_set() ...
    tenure.kept                             # False: it was lost or taken over meanwhile
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from otc_bridge.adapters.store.store import Fence, Store

log = logging.getLogger(__name__)


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in ticks) from Linux /proc; None when there is no such pid."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    except OSError:
        return ("?", "?")
    return (fields[0], fields[19]) if len(fields) > 19 else ("?", "?")


def process_identity() -> str:
    """host:pid:start-ticks, so a reused pid is not mistaken for the same process."""
    pid = os.getpid()
    started = (_proc_stat(pid) or ("?", "?"))[1]
    return f"{socket.gethostname()}:{pid}:{started}"


def holder_is_dead(holder: str) -> bool:
    """True only for a holder of this host whose process is gone (or whose pid now
    belongs to another process). Holders on other hosts are never judged dead here:
    their lease runs out instead."""
    parts = holder.split(":")
    if len(parts) < 4 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid, started = int(parts[1]), parts[2]
    stat = _proc_stat(pid)
    if stat is None:
        return True
    state, now_started = stat
    if state == "Z":  # killed, not yet reaped
        return True
    return "?" not in {started, now_started} and now_started != started  # pid reused


@dataclass(frozen=True, slots=True)
class Holding:
    """A lease as someone else holds it."""

    holder: str  # host:pid:start-ticks:tag
    host: str
    pid: str
    until: float  # Unix seconds (wall clock): when it runs out unless renewed


@dataclass(slots=True)
class Tenure:
    """One holding of the lease, from acquire to release."""

    fence: Fence
    lost: threading.Event = field(default_factory=threading.Event)  # a renewal failed
    released: bool = False  # given up cleanly at the end (not taken over meanwhile)

    @property
    def kept(self) -> bool:
        """Held to the end: never lost, and still this tenure's when given up."""
        return self.released and not self.lost.is_set()


class _Heartbeat(threading.Thread):
    def __init__(self, name: str, renew: Callable[[], bool], every: float, lost: threading.Event):
        super().__init__(name=f"otc-lease-{name}", daemon=True)
        self._lease = name
        self._renew = renew
        self._every = every
        self._done = threading.Event()
        self._lost = lost

    def run(self) -> None:
        while not self._done.wait(self._every):
            try:
                renewed = self._renew()
            except Exception:
                log.exception("renewing the %s lease failed", self._lease)
                renewed = False
            if not renewed:
                self._lost.set()
                return

    def stop(self) -> None:
        self._done.set()
        self.join()


class Lease:
    def __init__(
        self, store: Store, name: str, *, ttl_seconds: float, identity: str | None = None
    ) -> None:
        self.store = store
        self.name = name
        self.ttl = ttl_seconds
        self.identity = identity or process_identity()

    def acquire(self) -> Fence | None:
        """Take the lease, as a new holder (a holding is never inherited by a later one),
        or None while someone alive holds it."""
        holder = f"{self.identity}:{uuid.uuid4().hex[:8]}"
        with self.store.write() as uow:
            fence = uow.leases.acquire(self.name, holder, ttl=self.ttl, now=time.time())
            if fence is not None:
                return fence
            current, token = uow.leases.holder(self.name)
            if current is None or not holder_is_dead(current):
                return None
            log.warning("taking over the %s lease of dead holder %s", self.name, current)
            return uow.leases.take_over(
                self.name, dead=current, token=token, holder=holder, ttl=self.ttl, now=time.time()
            )

    def holding(self) -> Holding | None:
        """Who holds the lease now and until when (None when it is free): what an
        operator is told when a pass could not take it."""
        with self.store.read() as uow:
            held = uow.leases.held(self.name, now=time.time())
        if held is None:
            return None
        holder, until = held
        host, pid = [*holder.split(":"), "?", "?"][:2]
        return Holding(holder=holder, host=host, pid=pid, until=until)

    def renew(self, fence: Fence) -> bool:
        with self.store.write() as uow:
            return uow.leases.renew(fence, ttl=self.ttl, now=time.time())

    def release(self, fence: Fence) -> bool:
        """Give the lease up; False when it had been taken over meanwhile."""
        with self.store.write() as uow:
            return uow.leases.release(fence)

    @contextmanager
    def hold(self) -> Iterator[Tenure | None]:
        """Acquire, renew on a heartbeat while the block runs, release at its end."""
        fence = self.acquire()
        if fence is None:
            yield None
            return
        tenure = Tenure(fence)
        heartbeat = _Heartbeat(self.name, lambda: self.renew(fence), self.ttl / 3, tenure.lost)
        heartbeat.start()
        try:
            yield tenure
        finally:
            heartbeat.stop()
            tenure.released = self.release(fence)
