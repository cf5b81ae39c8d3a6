"""A service of ours as a real subprocess: the lifecycle the devnode and the bridge share.

`kill()` is SIGKILL (a crash: no shutdown code runs), `stop()` SIGTERM and a wait (with
SIGKILL if no clean exit comes), `pause()`/`resume()` SIGSTOP/SIGCONT. Output goes to a
log file in the state folder. Processes still running when the interpreter exits are
killed, so a test run never leaves services behind.
"""

from __future__ import annotations

import atexit
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from otc_bridge.process_tree import dies_with_this_process

READY_POLL_SECONDS = 0.05
_running: set[ServiceProcess] = set()


@atexit.register
def _kill_leftovers() -> None:
    for process in list(_running):
        process.kill()


class ServiceError(RuntimeError):
    """The service did not start, or died while starting."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class ServiceProcess:
    log_name = "service.log"
    # Stop when the process that started it dies, even by SIGKILL (`make run`'s runner
    # sets it for its devnode and chain, which it starts from its main thread).
    die_with_parent = False

    def __init__(self, state_dir: Path, *, port: int | None, startup_timeout: float) -> None:
        self.state_dir = Path(state_dir)
        self.startup_timeout = startup_timeout
        self._fixed_port = port is not None
        self.port = port if port is not None else free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    # what a subclass says about itself
    def argv(self) -> list[str]:
        raise NotImplementedError

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        raise NotImplementedError

    @property
    def ready_path(self) -> str | None:
        """A GET that answers 200 once the service is up (None: do not wait)."""
        return None

    # --------------------------------------------------------------------- properties

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.state_dir / self.log_name

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # --------------------------------------------------------------------- lifecycle

    def _spawn(self, extra: Mapping[str, str] | None = None) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "otc_bridge", *self.argv()],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment(extra),
                preexec_fn=dies_with_this_process() if self.die_with_parent else None,
            )
        _running.add(self)

    def _wait_ready(self) -> bool:
        """Poll the ready path; False if the child exited first (e.g. its port was taken)."""
        path = self.ready_path
        if path is None:
            return True
        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client(base_url=self.url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                assert self._proc is not None
                if self._proc.poll() is not None:
                    return False
                try:
                    if client.get(path).status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(READY_POLL_SECONDS)  # the only wait: the port opening
        self.kill()
        raise ServiceError(f"no answer within {self.startup_timeout}s:\n{self.log_tail()}")

    def start(self, extra_env: Mapping[str, str] | None = None) -> Self:
        if self.running:
            raise ServiceError(f"{type(self).__name__} is already running")
        for attempt in range(1 if self._fixed_port else 3):
            if attempt:
                self.port = free_port()  # another process took the port we picked
            self._spawn(extra_env)
            if self._wait_ready():
                return self
        raise ServiceError(f"{type(self).__name__} did not start:\n{self.log_tail()}")

    def wait(self, timeout: float) -> int | None:
        """Wait for the process to exit by itself (e.g. at a crash point)."""
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait()
        self._proc = None
        _running.discard(self)

    def stop(self, timeout: float = 15.0) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGCONT)  # a paused process cannot exit
            self._proc.terminate()
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        _running.discard(self)

    def pause(self) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGCONT)

    def restart(self, extra_env: Mapping[str, str] | None = None, *, hard: bool = True) -> Self:
        """Same port, same state folder; `hard` kills instead of stopping."""
        if hard:
            self.kill()
        else:
            self.stop()
        self._fixed_port = True
        return self.start(extra_env)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def __enter__(self) -> Self:
        return self if self.running else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
