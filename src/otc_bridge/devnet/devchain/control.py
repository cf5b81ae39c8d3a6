"""`ChainControl`: the dev chain's JSON-RPC test controls (anvil's `evm_*`/`anvil_*`).

    control = ChainControl(rpc_url)
    control.mine(3)                    # three blocks now
    control.advance_time(3600)         # evm_increaseTime + one block at the new time
    control.set_next_timestamp(ts)     # the next block's exact timestamp
    snap = control.snapshot(); ...; control.revert(snap)
    control.reorg(2)                   # replace the last 2 blocks with empty ones

Plain httpx, no web3: the devnode uses it too (its clock route moves the chain's time).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx


class ChainRpcError(RuntimeError):
    """The dev chain answered with a JSON-RPC error, or not at all."""


@dataclass(frozen=True, slots=True)
class Head:
    number: int
    hash: str
    timestamp: int


class ChainControl:
    def __init__(self, rpc_url: str, *, timeout: float = 10.0) -> None:
        self.rpc_url = rpc_url
        self._client = httpx.Client(timeout=timeout)
        self._id = 0

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ChainControl:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def call(self, method: str, *params: Any) -> Any:
        self._id += 1
        body = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)}
        try:
            response = self._client.post(self.rpc_url, json=body)
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ChainRpcError(f"{method}: no answer from {self.rpc_url}: {exc}") from exc
        if not isinstance(data, dict):
            raise ChainRpcError(f"{method}: unexpected answer {data!r}")
        if data.get("error"):
            raise ChainRpcError(f"{method}: {data['error']}")
        return data.get("result")

    # ------------------------------------------------------------------ reads

    def chain_id(self) -> int:
        return int(self.call("eth_chainId"), 16)

    def head(self) -> Head:
        block = self.call("eth_getBlockByNumber", "latest", False)
        return Head(int(block["number"], 16), block["hash"], int(block["timestamp"], 16))

    def accounts(self) -> list[str]:
        return list(self.call("eth_accounts"))

    # ------------------------------------------------------------------ blocks and time

    def mine(self, blocks: int = 1) -> Head:
        """Mine `blocks` blocks now (each one second after the previous)."""
        self.call("anvil_mine", hex(blocks))
        return self.head()

    def increase_time(self, seconds: int) -> int:
        """Move the chain's clock forward (takes effect from the next block)."""
        return int(self.call("evm_increaseTime", seconds))

    def advance_time(self, seconds: int) -> Head:
        """Move the clock and mine one block at the new time, so `latest` shows it."""
        self.increase_time(seconds)
        return self.mine(1)

    def set_next_timestamp(self, timestamp: int) -> None:
        self.call("evm_setNextBlockTimestamp", timestamp)

    def set_time(self, timestamp: int) -> None:
        """Set the chain's notion of now (the next block is at or after it)."""
        self.call("anvil_setTime", timestamp)

    def catch_up(self, now: int) -> Head:
        """Bring the chain's clock up to `now` (another clock's time) if it is behind,
        with one block at that time; a chain already ahead cannot go back and is left."""
        head = self.head()
        if head.timestamp >= now:
            return head
        self.set_time(now)
        return self.mine(1)

    def set_interval_mining(self, seconds: int) -> None:
        """0 turns interval mining off (then only `mine` and automine make blocks)."""
        self.call("evm_setIntervalMining", seconds)

    def set_automine(self, enabled: bool) -> None:
        self.call("evm_setAutomine", enabled)

    # ------------------------------------------------------------------ state

    def snapshot(self) -> str:
        return str(self.call("evm_snapshot"))

    def revert(self, snapshot_id: str) -> bool:
        return bool(self.call("evm_revert", snapshot_id))

    def reorg(self, depth: int, transactions: list[tuple[str, int]] | None = None) -> Head:
        """Replace the last `depth` blocks with new ones holding only `transactions`
        (signed raw transactions, each with its index in the new blocks): what a
        competing fork does to the transactions of the replaced blocks."""
        pairs = [[raw, index] for raw, index in (transactions or [])]
        self.call("anvil_reorg", depth, pairs)
        return self.head()


def move_chain_clock(rpc_url: str, seconds: int, *, timeout: float = 5.0) -> Head:
    """One-shot `advance_time` (the devnode's clock route calls this)."""
    with ChainControl(rpc_url, timeout=timeout) as control:
        return control.advance_time(seconds)
