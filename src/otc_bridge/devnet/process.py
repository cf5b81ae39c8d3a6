"""`DevnodeProcess`: the devnode as a real subprocess, for tests and benchmarks.

    with DevnodeProcess(tmp_path / "node") as node:
        httpx.get(f"{node.url}/wallet/balance", params={"miner_id": "alice"})

It runs `python -m otc_bridge devnode --port N` with its state in `state_dir`, writes the
child's output to `state_dir/devnode.log`, and is ready once `GET /devnet/clock` answers.
`kill()` is SIGKILL (a crash), `stop()` is SIGTERM plus wait, `restart()` keeps the port and
the state folder.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import httpx

DEFAULT_ADMIN_KEY = "devnet-admin-key-0123456789abcdef0123456789abcdef"
READY_POLL_SECONDS = 0.05
LOG_NAME = "devnode.log"
# Settings a devnode reads; never inherited from the caller's shell, so a process is
# configured by its constructor arguments alone.
NODE_ENV_PREFIXES = ("RC_", "DEVNODE_", "DEVNET_")

_running: set[DevnodeProcess] = set()


@atexit.register
def _kill_leftovers() -> None:
    """A test run that ends without stopping its devnodes must not leave them behind."""
    for process in list(_running):
        process.kill()


class DevnodeError(RuntimeError):
    """The devnode did not start, or died while starting."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class DevnodeProcess:
    def __init__(
        self,
        state_dir: Path | str | None = None,
        *,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        admin_key: str = DEFAULT_ADMIN_KEY,
        startup_timeout: float = 20.0,
    ) -> None:
        self.state_dir = (
            Path(state_dir) if state_dir is not None else Path(tempfile.mkdtemp(prefix="devnode-"))
        )
        self.admin_key = admin_key
        self.startup_timeout = startup_timeout
        self._fixed_port = port is not None
        self.port = port if port is not None else free_port()
        self._env_overrides = dict(env or {})
        self._proc: subprocess.Popen[bytes] | None = None

    # --- properties -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.state_dir / LOG_NAME

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(NODE_ENV_PREFIXES)}
        env.update(
            {
                "RC_ADMIN_KEY": self.admin_key,
                "DEVNET_DIR": str(self.state_dir),
                "DEVNODE_SCHEDULER": "off",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self._env_overrides)
        return env

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> DevnodeProcess:
        if self.running:
            raise DevnodeError("the devnode is already running")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        attempts = 1 if self._fixed_port else 3
        for attempt in range(attempts):
            if attempt:
                self.port = free_port()  # another process took the port we picked
            self._spawn()
            if self._wait_ready():
                return self
        raise DevnodeError(f"the devnode did not start; log tail:\n{self.log_tail()}")

    def _spawn(self) -> None:
        argv = [sys.executable, "-m", "otc_bridge", "devnode", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, env=self.environment()
            )
        _running.add(self)

    def _wait_ready(self) -> bool:
        """Poll `GET /devnet/clock`; False if the child exited (e.g. port taken)."""
        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client(base_url=self.url, timeout=1.0) as client:
            while time.monotonic() < deadline:
                assert self._proc is not None
                if self._proc.poll() is not None:
                    return False
                try:
                    if client.get("/devnet/clock").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(READY_POLL_SECONDS)  # the only sleep: waiting for the port to open
        self.kill()
        raise DevnodeError(
            f"no answer within {self.startup_timeout}s; log tail:\n{self.log_tail()}"
        )

    def kill(self) -> None:
        """SIGKILL: a crash, no shutdown code runs."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait()
        self._proc = None
        _running.discard(self)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM and wait for a clean exit (SIGKILL if it does not come)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        _running.discard(self)

    def restart(self, *, hard: bool = False) -> DevnodeProcess:
        """Same port, same state folder; `hard=True` kills instead of stopping."""
        if hard:
            self.kill()
        else:
            self.stop()
        self._fixed_port = True
        return self.start()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def __enter__(self) -> DevnodeProcess:
        return self if self.running else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
