"""`BridgeProcess`: the bridge (`otc-bridge serve` or `otc-bridge worker`) as a real
subprocess, for crash, race and multi-process tests and for benchmarks.

    with BridgeProcess(tmp_path / "api", env=env) as api:
        httpx.get(f"{api.url}/healthz")

`kill()` is SIGKILL (a crash: nothing runs), `pause()`/`resume()` are SIGSTOP/SIGCONT, and
`restart()` keeps the port and the environment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import httpx

from otc_bridge.devnet.process import free_port

READY_POLL_SECONDS = 0.05


class BridgeProcessError(RuntimeError):
    pass


class BridgeProcess:
    def __init__(
        self,
        state_dir: Path,
        *,
        env: Mapping[str, str],
        command: str = "serve",
        port: int | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.command = command
        self.port = port if port is not None else free_port()
        self.startup_timeout = startup_timeout
        self._env = dict(env)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.state_dir / f"bridge-{self.command}.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self._env)
        env.update({"OTC_PORT": str(self.port), "PYTHONUNBUFFERED": "1"})
        env.update(extra or {})
        return env

    def start(self, extra_env: Mapping[str, str] | None = None) -> BridgeProcess:
        """Start; for `serve`, wait until /healthz answers (or the process dies)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "otc_bridge", self.command]
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, env=self.environment(extra_env)
            )
        if self.command == "serve":
            self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client(base_url=self.url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                assert self._proc is not None
                if self._proc.poll() is not None:
                    raise BridgeProcessError(f"bridge exited; log tail:\n{self.log_tail()}")
                try:
                    if client.get("/api/pairs").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(READY_POLL_SECONDS)  # waiting for the port to open
        self.kill()
        raise BridgeProcessError(f"bridge not ready in {self.startup_timeout}s:\n{self.log_tail()}")

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

    def stop(self, timeout: float = 15.0) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGCONT)
            self._proc.terminate()
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def pause(self) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGCONT)

    def restart(self, extra_env: Mapping[str, str] | None = None) -> BridgeProcess:
        self.kill()
        return self.start(extra_env)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def __enter__(self) -> BridgeProcess:
        return self if self.running else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
