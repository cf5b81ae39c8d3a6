"""`DevnetControl`: a small typed client for the devnode's `/devnet/*` extras.

control = DevnetControl(node.url)
control.faucet("alice", "10")
control.add_fault("POST /wallet/transfer", "drop")
control.advance_clock(86400)
control.tick()
control.assert_conserved()
"""

from __future__ import annotations

from decimal import Decimal
from types import TracebackType
from typing import Any, Literal

import httpx

FaultKind = Literal[
    "drop", "delay", "gateway_error", "html_500", "json_500", "rate_limit", "state_race", "void"
]
HistoryStatus = Literal["pending", "confirmed", "voided"]


class DevnetError(RuntimeError):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"devnet call failed with {status}: {body}")
        self.status = status
        self.body = body


class DevnetControl:
    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url
        # Idle connections are dropped before uvicorn's 5 s keep-alive closes them: a
        # request on one it has just closed fails with no answer.
        limits = httpx.Limits(keepalive_expiry=2.0)
        self._client = httpx.Client(base_url=base_url, timeout=timeout, limits=limits)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> DevnetControl:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._client.request(method, path, json=body)
        if response.status_code >= 400:
            raise DevnetError(response.status_code, response.text)
        data: dict[str, Any] = response.json()
        return data

    # --- money ------------------------------------------------------------------------------

    def faucet(self, wallet: str, amount_rtc: str | int | float | Decimal) -> dict[str, Any]:
        """Credit `floor(amount × 10^6)` µRTC, settled at once."""
        amount = str(amount_rtc) if isinstance(amount_rtc, Decimal) else amount_rtc
        return self._call("POST", "/devnet/faucet", {"wallet": wallet, "amount_rtc": amount})

    def ledger(self) -> dict[str, Any]:
        return self._call("GET", "/devnet/ledger")

    def balance_i64(self, wallet: str) -> int:
        balances: dict[str, int] = self.ledger()["balances"]
        return balances.get(wallet, 0)

    def assert_conserved(self) -> dict[str, Any]:
        """The ledger view, after checking every conservation check holds."""
        view = self.ledger()
        if not view["conserved"]:
            raise AssertionError(f"devnet ledger not conserved: {view['checks']}")
        return view

    # --- clock ------------------------------------------------------------------------------

    def clock(self) -> dict[str, Any]:
        return self._call("GET", "/devnet/clock")

    def now(self) -> int:
        now: int = self.clock()["now"]
        return now

    def advance_clock(self, seconds: int) -> dict[str, Any]:
        return self._call("POST", "/devnet/clock", {"advance_seconds": seconds})

    # --- faults -----------------------------------------------------------------------------

    def add_fault(
        self, endpoint: str, kind: FaultKind, *, times: int = 1, skip: int = 0, **params: Any
    ) -> dict[str, Any]:
        body = {"endpoint": endpoint, "kind": kind, "times": times, "skip": skip, **params}
        fault: dict[str, Any] = self._call("POST", "/devnet/faults", body)["fault"]
        return fault

    def faults(self) -> list[dict[str, Any]]:
        faults: list[dict[str, Any]] = self._call("GET", "/devnet/faults")["faults"]
        return faults

    def clear_faults(self) -> int:
        cleared: int = self._call("DELETE", "/devnet/faults")["cleared"]
        return cleared

    def remove_fault(self, fault_id: int) -> None:
        self._call("DELETE", f"/devnet/faults/{fault_id}")

    # --- scheduler and pending pool ---------------------------------------------------------

    def scheduler(self) -> dict[str, Any]:
        return self._call("GET", "/devnet/scheduler")

    def configure_scheduler(
        self,
        *,
        enabled: bool | None = None,
        interval_seconds: float | None = None,
        batch_limit: int | None = None,
        confirmation_delay_seconds: int | None = None,
    ) -> dict[str, Any]:
        body = {
            "enabled": enabled,
            "interval_seconds": interval_seconds,
            "batch_limit": batch_limit,
            "confirmation_delay_seconds": confirmation_delay_seconds,
        }
        return self._call(
            "POST", "/devnet/scheduler", {k: v for k, v in body.items() if v is not None}
        )

    def tick(self, limit: int | None = None) -> dict[str, Any]:
        """One confirm pass now: the same code as `POST /pending/confirm`, not rate limited."""
        return self._call(
            "POST", "/devnet/scheduler/tick", {} if limit is None else {"limit": limit}
        )

    def fill_pending(
        self,
        count: int,
        status: HistoryStatus = "confirmed",
        *,
        from_miner: str | None = None,
        to_miner: str | None = None,
        amount_i64: int | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"count": count, "status": status}
        for key, value in (
            ("from_miner", from_miner),
            ("to_miner", to_miner),
            ("amount_i64", amount_i64),
        ):
            if value is not None:
                body[key] = value
        return self._call("POST", "/devnet/pending/fill", body)

    def reset(self) -> None:
        """Wipe every balance, job, pending row, fault and rate bucket; clock offset back to 0."""
        self._call("POST", "/devnet/reset")
