"""The pending-pool scheduler: the node's external `POST /pending/confirm` caller, in-process.

It runs the very same confirm pass as the endpoint (`pending.run_confirm`) every
`interval_seconds`, `batch_limit` rows at a time, when enabled. Stalling it, slowing it or
shrinking its batches reproduces the node spec's "scheduler stalled / late / small batches".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

ConfirmPass = Callable[[int], dict[str, Any]]


class Scheduler:
    def __init__(
        self, confirm_pass: ConfirmPass, *, enabled: bool, interval_seconds: float, batch_limit: int
    ) -> None:
        self._confirm_pass = confirm_pass
        self.enabled = enabled
        self.interval_seconds = interval_seconds
        self.batch_limit = batch_limit
        self.runs = 0
        self.last_result: dict[str, Any] | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def configure(
        self,
        *,
        enabled: bool | None = None,
        interval_seconds: float | None = None,
        batch_limit: int | None = None,
    ) -> None:
        if enabled is not None:
            self.enabled = enabled
        if interval_seconds is not None:
            self.interval_seconds = interval_seconds
        if batch_limit is not None:
            self.batch_limit = batch_limit
        self._wake.set()  # restart the wait with the new interval

    def reset(self, *, enabled: bool, interval_seconds: float, batch_limit: int) -> None:
        self.runs = 0
        self.last_result = None
        self.configure(enabled=enabled, interval_seconds=interval_seconds, batch_limit=batch_limit)

    def status(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "interval_seconds": self.interval_seconds,
            "batch_limit": self.batch_limit,
            "runs": self.runs,
            "last_result": self.last_result,
        }

    def note_run(self, result: dict[str, Any]) -> None:
        self.runs += 1
        self.last_result = result

    def run_once(self) -> dict[str, Any]:
        result = self._confirm_pass(self.batch_limit)
        self.note_run(result)
        return result

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval_seconds)
                continue  # reconfigured: wait again with the new settings
            except TimeoutError:
                pass
            if not self.enabled:
                continue
            try:
                self.run_once()
            except Exception:
                log.exception("scheduled confirm pass failed")
