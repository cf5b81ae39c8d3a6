"""`otc-bridge` subprocesses forked from a pre-imported template process (a zygote).

A cold `python -m otc_bridge serve` spends about 1.5 s of its ~1.9 s of CPU importing
FastAPI, SQLAlchemy, Alembic, uvicorn and the bridge itself before it reads a setting;
the crash matrix starts two per case, and the operator-command suites start one per
command. `ForkedBridgeProcess` is a `BridgeProcess` (`serve` or `worker`), and
`run_otc_bridge` a `subprocess.run` of an `otc-bridge` command, whose process is forked
from one process per test process that imported all of that once (as a pre-loading
application server forks its workers), and then runs the same `otc_bridge` entry point
with the same argv, environment and working folder a cold start would get: settings,
the database, the migrations check, the app and the server are all built in the forked
process, after the fork. Only the import work is shared.

The forked process is a real child of the test process (the zygote double-forks, and
the test process is the child subreaper), so the test waits for it, sees it die with
-9, signals it and reaps it exactly as it does a `subprocess.Popen` child.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import cast

from otc_bridge.devnet import service_process
from otc_bridge.devnet.bridge_process import BridgeProcess

PR_SET_CHILD_SUBREAPER = 36

# The zygote: imports, then forks on request. A `serve` zygote imports what `otc-bridge
# serve` imports before it serves; a plain one what every command imports (the CLI and
# the object graph), which is what a worker or an operator command starts with. The
# metrics' values take their class at import, from PROMETHEUS_MULTIPROC_DIR: `serve`
# sets it before it imports them, the other commands leave it unset. The serve zygote
# imports them with a scratch folder there, and each forked process writes its own
# values to the folder its environment names (prometheus_client resets them on a
# changed pid, as it does for any pre-forking server); the plain one without it.
ZYGOTE = r"""
import os, sys
if sys.argv[2]:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = sys.argv[2]
import atexit, json, runpy, socket, traceback
import alembic.command, alembic.runtime.migration, alembic.script
import sqlalchemy.dialects.sqlite
import otc_bridge.cli, otc_bridge.bootstrap
if sys.argv[2]:
    import uvicorn, uvicorn.config, uvicorn.server, uvicorn.main
    import uvicorn.loops.auto, uvicorn.protocols.http.auto, uvicorn.protocols.websockets.auto
    import uvicorn.lifespan.on
    import otc_bridge.api.asgi, otc_bridge.api.app


def run_child(request):
    os.chdir(request["cwd"])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        out = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(out, fd)
        os.close(out)
    os.environ.clear()
    os.environ.update(request["env"])
    code = 0
    try:
        if request["script"]:  # as the `otc-bridge` console script runs it
            sys.argv = [request["script"], *request["argv"]]
            sys.exit(otc_bridge.cli.main())
        sys.argv = ["otc_bridge", *request["argv"]]  # python -m otc_bridge
        runpy.run_module("otc_bridge", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if isinstance(exc.code, int):
            code = exc.code
        elif exc.code is not None:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


parent = int(sys.argv[3])
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(sys.argv[1])
server.listen(8)
server.settimeout(1.0)
print("ready", flush=True)
while True:
    try:
        conn, _ = server.accept()
    except TimeoutError:
        if os.getppid() != parent:  # the test process is gone: so is the zygote
            os._exit(0)
        continue
    conn.settimeout(None)
    with conn, conn.makefile("rb") as lines:
        request = json.loads(lines.readline())
        read, write = os.pipe()
        middle = os.fork()
        if middle == 0:  # the middle process: fork the child, say its pid, exit
            os.close(read)
            child = os.fork()
            if child == 0:
                os.close(write)
                conn.close()
                server.close()
                run_child(request)
            os.write(write, str(child).encode())
            os._exit(0)
        os.close(write)
        os.waitpid(middle, 0)  # the child is the test process's now (its subreaper)
        with os.fdopen(read, "rb") as said:
            conn.sendall(said.read() + b"\n")
"""


class ForkedChild:
    """The part of `subprocess.Popen` that `ServiceProcess` uses, for a child the test
    process did not start itself but was handed as its subreaper."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.args = f"forked otc-bridge [{pid}]"
        self.returncode: int | None = None
        self._pidfd: int | None = os.pidfd_open(pid)

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                if self._pidfd is not None:
                    os.close(self._pidfd)
                    self._pidfd = None
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None and self._pidfd is not None:
            ready, _, _ = select.select([self._pidfd], [], [], timeout)
            if not ready:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
        code = self.poll()
        assert code is not None
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:  # not reaped: the pid is still this process's
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Zygote:
    """A template process (one of each kind per test process, started on first use)."""

    def __init__(self, *, serve: bool) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
        self.folder = Path(tempfile.mkdtemp(prefix="otc-zygote-"))
        self.socket_path = self.folder / "fork.sock"
        metrics = self.folder / "metrics"
        metrics.mkdir()
        self._lock = threading.Lock()
        with (self.folder / "zygote.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-u",
                    "-c",
                    ZYGOTE,
                    str(self.socket_path),
                    str(metrics) if serve else "",
                    str(os.getpid()),
                ],
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
        atexit.register(self.close)
        assert self.process.stdout is not None
        said = self.process.stdout.readline()
        if said != b"ready\n":
            log_text = (self.folder / "zygote.log").read_text(errors="replace")
            raise RuntimeError(f"the bridge zygote did not start:\n{log_text}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def fork(
        self,
        argv: list[str],
        env: Mapping[str, str],
        stdout: Path,
        stderr: Path,
        cwd: Path,
        script: Path | None = None,
    ) -> ForkedChild:
        request = {
            "script": str(script) if script else None,
            "argv": argv,
            "env": dict(env),
            "stdout": str(stdout),
            "stderr": str(stderr),
            "cwd": str(cwd),
        }
        with self._lock, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(str(self.socket_path))
            conn.sendall(json.dumps(request).encode() + b"\n")
            with conn.makefile("rb") as answer:
                return ForkedChild(int(answer.readline()))


_zygotes: dict[bool, Zygote] = {}
_zygote_lock = threading.Lock()


def zygote(argv: list[str], env: Mapping[str, str]) -> Zygote:
    """The zygote whose imports a cold `python -m otc_bridge *argv` would make."""
    serve = argv[:1] == ["serve"] or "PROMETHEUS_MULTIPROC_DIR" in env
    with _zygote_lock:
        running = _zygotes.get(serve)
        if running is None or running.process.poll() is not None:
            running = _zygotes[serve] = Zygote(serve=serve)
        return running


class ForkedBridgeProcess(BridgeProcess):
    """A `BridgeProcess` (`serve` or `worker`) forked from a zygote, not started cold."""

    def _spawn(self, extra: Mapping[str, str] | None = None) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        argv, env = self.argv(), self.environment(extra)
        child = zygote(argv, env).fork(argv, env, self.log_path, self.log_path, Path.cwd())
        # Everything ServiceProcess calls on its child (poll, wait, send_signal,
        # terminate, kill, pid) ForkedChild does as Popen does.
        self._proc = cast("subprocess.Popen[bytes]", child)
        service_process._running.add(self)


def run_otc_bridge(
    args: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    script: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """`subprocess.run([sys.executable, "-m", "otc_bridge", *args], capture_output=True,
    text=True)` (or `[script, *args]`, the `otc-bridge` console script), forked from a
    zygote."""
    with tempfile.TemporaryDirectory(prefix="otc-run-") as folder:
        out, err = Path(folder) / "stdout", Path(folder) / "stderr"
        child = zygote(args, env).fork(args, env, out, err, cwd, script)
        try:
            code = child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            raise
        return subprocess.CompletedProcess(
            [str(script), *args] if script else [sys.executable, "-m", "otc_bridge", *args],
            code,
            out.read_text() if out.exists() else "",
            err.read_text() if err.exists() else "",
        )
