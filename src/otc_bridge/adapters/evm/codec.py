"""The HTLC contract's wire format: event topics, log decoding, revert decoding, and the
`orderRef` label. Pure functions over hex and bytes (eth-abi and eth-utils only), so the
reader, the writer and the tests decode the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from otc_bridge.adapters.evm.compiled import HTLC, load_artifact

ORDER_REF_BYTES = 32


def event_signature(event: Mapping[str, Any]) -> str:
    types = ",".join(item["type"] for item in event["inputs"])
    return f"{event['name']}({types})"


def topic_of(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


LOCKED_TOPIC = topic_of("Locked(bytes32,address,address,address,uint256,bytes32,uint256,bytes32)")
CLAIMED_TOPIC = topic_of("Claimed(bytes32,bytes32)")
REFUNDED_TOPIC = topic_of("Refunded(bytes32)")
HTLC_TOPICS = (LOCKED_TOPIC, CLAIMED_TOPIC, REFUNDED_TOPIC)


def hex32(value: bytes | str) -> str:
    """A 32-byte value as 0x + 64 lower-case hex digits."""
    raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)
    if len(raw) != 32:
        raise ValueError(f"expected 32 bytes, got {len(raw)}")
    return "0x" + raw.hex()


def as_bytes32(value: bytes | str) -> bytes:
    return bytes.fromhex(hex32(value)[2:])


def topic_address(topic: bytes | str) -> str:
    return to_checksum_address(as_bytes32(topic)[12:])


def encode_order_ref(order_id: str) -> bytes:
    """The bridge's order id as ASCII, right-padded with zero bytes to 32 (a label only)."""
    raw = order_id.encode("ascii")
    if len(raw) > ORDER_REF_BYTES:
        raise ValueError(f"order id longer than {ORDER_REF_BYTES} bytes: {order_id!r}")
    return raw.ljust(ORDER_REF_BYTES, b"\0")


def decode_order_ref(value: bytes | str) -> str | None:
    """The ASCII label, or None if the bytes are not a zero-padded ASCII string."""
    raw = as_bytes32(value).rstrip(b"\0")
    if b"\0" in raw:
        return None
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True, slots=True)
class RawLog:
    """The fields of an `eth_getLogs` / receipt log this package uses."""

    address: str
    topics: tuple[str, ...]
    data: bytes
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int

    @classmethod
    def from_rpc(cls, log: Mapping[str, Any]) -> RawLog:
        return cls(
            address=to_checksum_address(log["address"]),
            topics=tuple(hex32(t) for t in log["topics"]),
            data=_to_bytes(log["data"]),
            block_number=int(log["blockNumber"]),
            block_hash=hex32(log["blockHash"]),
            tx_hash=hex32(log["transactionHash"]),
            log_index=int(log["logIndex"]),
        )


def _to_bytes(value: bytes | str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)


@dataclass(frozen=True, slots=True)
class LockedFields:
    id: str
    sender: str
    receiver: str
    token: str
    amount: int
    hashlock: str
    timelock: int
    order_ref: str


def decode_locked(log: RawLog) -> LockedFields:
    token, amount, hashlock, timelock, order_ref = abi_decode(
        ["address", "uint256", "bytes32", "uint256", "bytes32"], log.data
    )
    return LockedFields(
        id=log.topics[1],
        sender=topic_address(log.topics[2]),
        receiver=topic_address(log.topics[3]),
        token=to_checksum_address(token),
        amount=int(amount),
        hashlock=hex32(hashlock),
        timelock=int(timelock),
        order_ref=hex32(order_ref),
    )


def decode_claimed_preimage(log: RawLog) -> str:
    (preimage,) = abi_decode(["bytes32"], log.data)
    return hex32(preimage)


@dataclass(frozen=True, slots=True)
class DecodedRevert:
    name: str
    args: tuple[Any, ...]

    def __str__(self) -> str:
        shown = ", ".join("0x" + a.hex() if isinstance(a, bytes) else str(a) for a in self.args)
        return f"{self.name}({shown})"


@cache
def _error_table() -> dict[bytes, tuple[str, tuple[str, ...]]]:
    table: dict[bytes, tuple[str, tuple[str, ...]]] = {}
    for item in load_artifact(HTLC).abi:
        if item["type"] == "error":
            types = tuple(i["type"] for i in item["inputs"])
            selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
            table[selector] = (item["name"], types)
    # Solidity's built-in Error(string) and Panic(uint256).
    table[keccak(text="Error(string)")[:4]] = ("Error", ("string",))
    table[keccak(text="Panic(uint256)")[:4]] = ("Panic", ("uint256",))
    return table


def decode_revert(data: bytes | str | None) -> DecodedRevert | None:
    """A revert's custom error by name (HTLC's, OpenZeppelin's, Error, Panic), or None."""
    if data is None:
        return None
    raw = _to_bytes(data)
    entry = _error_table().get(raw[:4])
    if entry is None:
        return None
    name, types = entry
    try:
        args: Sequence[Any] = abi_decode(list(types), raw[4:])
    except Exception:  # a malformed payload is just "unknown"
        return None
    return DecodedRevert(name, tuple(args))


def lock_id_of(chain_id: int, htlc_contract: str, hashlock: str | bytes) -> str:
    """The id the HTLC gives the lock made with `hashlock` (0x + 64 hex digits):
    `keccak256(abi.encode(block.chainid, address(this), hashlock))`. A hashlock backs one
    lock ever, so this names the only lock an order's hashlock can have."""
    raw = hashlock if isinstance(hashlock, bytes) else bytes.fromhex(hashlock.removeprefix("0x"))
    encoded = abi_encode(
        ["uint256", "address", "bytes32"], [chain_id, to_checksum_address(htlc_contract), raw]
    )
    return "0x" + keccak(encoded).hex()
