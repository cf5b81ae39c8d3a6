"""What a trader's machine must remember between commands, in 0600 files.

`SecretBook` (secrets.json): each preimage the RTC seller made, under its hashlock, with
the order it backs once known. Losing it before the reveal loses the trade's quote leg
(the buyer refunds after the timelock), so it is written before the hashlock is sent
anywhere and replaced atomically, never truncated.

`LockBook` (locks.json): each quote lock the RTC buyer made, under its order, so a refund
works even when the bridge never counted the lock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from otc_bridge.clientlib.keyfile import read_private_json, write_private_json
from otc_bridge.clientlib.wallet import Secret


def _load(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    found = read_private_json(path)
    return found if isinstance(found, dict) else {}


@dataclass(frozen=True, slots=True)
class KeptSecret:
    hashlock: str
    preimage: str
    created_at: int
    order_id: str | None


class SecretBook:
    def __init__(self, path: Path) -> None:
        self.path = path

    def new(self) -> KeptSecret:
        """A fresh preimage, on disk before its hashlock is shown to anyone."""
        secret = Secret()
        kept = KeptSecret(secret.hash, secret.hex, int(time.time()), None)
        entries = _load(self.path)
        entries[kept.hashlock] = {
            "preimage": kept.preimage,
            "created_at": kept.created_at,
            "order_id": None,
        }
        write_private_json(self.path, entries, exclusive=False)
        return kept

    def attach(self, hashlock: str, order_id: str) -> None:
        entries = _load(self.path)
        if hashlock.lower() in entries:
            entries[hashlock.lower()]["order_id"] = order_id
            write_private_json(self.path, entries, exclusive=False)

    def find(self, hashlock: str) -> KeptSecret | None:
        entry = _load(self.path).get(hashlock.lower().removeprefix("0x"))
        if not isinstance(entry, dict):
            return None
        return KeptSecret(
            hashlock.lower().removeprefix("0x"),
            str(entry["preimage"]),
            int(entry.get("created_at", 0)),
            entry.get("order_id"),
        )

    def all(self) -> list[KeptSecret]:
        return [
            KeptSecret(h, str(e["preimage"]), int(e.get("created_at", 0)), e.get("order_id"))
            for h, e in sorted(_load(self.path).items(), key=lambda kv: kv[1].get("created_at", 0))
        ]


class LockBook:
    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, order_id: str, lock: dict[str, Any]) -> None:
        entries = _load(self.path)
        entries[order_id] = lock
        write_private_json(self.path, entries, exclusive=False)

    def find(self, order_id: str) -> dict[str, Any] | None:
        found = _load(self.path).get(order_id)
        return found if isinstance(found, dict) else None
