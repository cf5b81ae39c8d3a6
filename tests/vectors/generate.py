"""Write `tests/vectors/wallet_auth.json`: what the Python domain code computes, for the
page's JavaScript to reproduce byte for byte (`web/test/vectors.test.ts`).

    .venv/bin/python -m tests.vectors.generate

Everything is deterministic (fixed seeds and preimages; Ed25519 signatures are
deterministic), so the file only changes when the domain code does, and
`test_vectors_are_fresh` fails when it is stale.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.domain.deadlines import DeadlinePolicy
from otc_bridge.domain.hashing import hashlock
from otc_bridge.domain.money import MoneyError, parse_decimal, to_units
from otc_bridge.domain.pairs import PAIRS, total_quote_base, total_quote_nano
from otc_bridge.domain.rustchain import address_from_pubkey, job_escrow_i64, job_fee_i64
from otc_bridge.domain.wallet_auth import MESSAGES, canonical_wallet, signed_message

PATH = Path(__file__).with_name("wallet_auth.json")
RFC8032_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
HASH = "5" * 63 + "a"


def seed(n: int) -> str:
    return hashlib.sha256(f"otc-bridge test vector seed {n}".encode()).hexdigest()


SEEDS = [RFC8032_SEED, seed(1), seed(2), "00" * 32, "ff" * 32]


def key_vectors() -> list[dict[str, Any]]:
    out = []
    for hex_seed in SEEDS:
        wallet = Wallet.from_seed(bytes.fromhex(hex_seed))
        out.append(
            {
                "seed": hex_seed,
                "public_key": wallet.public_key.hex(),
                "address": address_from_pubkey(wallet.public_key),
            }
        )
    return out


def auth_cases() -> list[dict[str, Any]]:
    """(description, seed, action, order_id, timestamp, wallet or None for the key's own
    address, bound fields)."""
    upper = Wallet.from_seed(bytes.fromhex(SEEDS[1])).address
    upper = "RTC" + upper[3:].upper()
    create: dict[str, Any] = {
        "side": "sell",
        "pair": "RTC/USDC",
        "amount_micro_rtc": 2_010_000,
        "price_per_rtc_nano_quote": 100_000_000,
        "ttl_seconds": 604800,
        "eth_address": "0x" + "ab" * 20,
    }
    rows: list[tuple[str, str, str, str, int, str | None, dict[str, Any]]] = [
        ("create, sell, htlc_hash bound", SEEDS[1], "create_order", "create_order",
         1_700_000_000, None, {**create, "htlc_hash": HASH}),
        ("create, buy, htlc_hash absent", SEEDS[1], "create_order", "create_order",
         1_700_000_001, None, {**create, "side": "buy", "eth_address": ""}),
        ("create, largest terms", SEEDS[2], "create_order", "create_order", 2**31 + 5, None,
         {**create, "amount_micro_rtc": 10_000_000_000, "price_per_rtc_nano_quote": 10**12,
          "pair": "RTC/ETH"}),
        ("create, wallet spelled in upper case", SEEDS[1], "create_order", "create_order",
         1_700_000_002, upper, create),
        ("match, htlc_hash bound", SEEDS[2], "match_order", "otc_0123456789abcdef",
         1_700_000_003, None, {"eth_address": "0x" + "cd" * 20, "htlc_hash": HASH}),
        ("match, htlc_hash absent", SEEDS[0], "match_order", "otc_0123456789abcdef",
         1_700_000_004, None, {"eth_address": ""}),
        ("cancel, nothing bound", SEEDS[3], "cancel_order", "otc_fedcba9876543210", 0, None, {}),
        ("unicode wallet string (Latin, CJK, astral)", SEEDS[4], "create_order",
         "create_order", 1_700_000_005, "RTCé中😀", create),
        ("control characters, quote, backslash, DEL", SEEDS[4], "match_order",
         'otc_"\\\n\t\x00\x7f', 1_700_000_006, 'RTC"\\\x01\x1f\x7f', {"eth_address": "\u2028"}),
        ("non-ASCII in a bound field", SEEDS[1], "match_order", "otc_x", 1_700_000_007, None,
         {"eth_address": "0xÄÖÜ\U0001f4b0"}),
        ("bound keys never override action, order_id, timestamp, wallet", SEEDS[2],
         "cancel_order", "otc_y", 1_700_000_008, None,
         {"action": "create_order", "order_id": "x", "timestamp": 1, "wallet": "RTCx",
          "zzz": "last", "AAA": "first"}),
    ]  # fmt: skip
    out = []
    for what, hex_seed, action, order_id, ts, wallet_text, bound in rows:
        wallet = Wallet.from_seed(bytes.fromhex(hex_seed))
        text = wallet_text if wallet_text is not None else wallet.address
        message = signed_message(
            action=action, order_id=order_id, timestamp=ts, wallet=text, bound=bound
        )
        out.append(
            {
                "what": what,
                "seed": hex_seed,
                "action": action,
                "order_id": order_id,
                "timestamp": ts,
                "wallet": text,
                "canonical_wallet": canonical_wallet(text),
                "bound": bound,
                "message": message.decode("ascii"),
                "signature": wallet.key.sign(message).hex(),
            }
        )
    return out


def create_order_cases() -> list[dict[str, Any]]:
    """A create request as the page builds it from what a trader typed, and the bound
    fields the bridge reads from it (`Exchange.create_order`), signed."""
    policy = DeadlinePolicy()
    rows = [
        ("sell", "RTC/USDC", "10", "0.1", 604800, "0x" + "aa" * 20, HASH.upper()),
        ("buy", "RTC/ETH", "2.01", "0.00004", 3600, "  0x" + "bb" * 20 + " ", None),
        ("sell", "RTC/ERG", "1.0000005", "1.23456789", 86400, "9f" + "A" * 49, HASH),
        ("buy", "RTC/USDC", " 1e2 ", ".5", 100, "0x" + "cc" * 20, None),  # ttl clamped up
        ("sell", "RTC/USDC", "10000", "1000", 30 * 86400 + 1, "0x" + "dd" * 20, HASH),
    ]
    out = []
    for n, (side, pair, amount, price, ttl, address, htlc) in enumerate(rows):
        hex_seed = SEEDS[1 + n % 2]
        wallet = Wallet.from_seed(bytes.fromhex(hex_seed))
        amount_micro = to_units(parse_decimal(amount), 6)
        price_nano = to_units(parse_decimal(price), 9)
        bound: dict[str, Any] = {
            "side": side,
            "pair": pair,
            "amount_micro_rtc": amount_micro,
            "price_per_rtc_nano_quote": price_nano,
            "ttl_seconds": policy.clamp_reference_ttl(ttl),
            "eth_address": address.strip(),
        }
        if htlc is not None:
            bound["htlc_hash"] = htlc.strip().lower()
        ts = 1_750_000_000 + n
        message = signed_message(
            action="create_order",
            order_id="create_order",
            timestamp=ts,
            wallet=wallet.address,
            bound=bound,
        )
        out.append(
            {
                "seed": hex_seed,
                "timestamp": ts,
                "typed": {
                    "side": side,
                    "pair": pair,
                    "chain": PAIRS[pair].chain,
                    "quote_currency": PAIRS[pair].quote_currency,
                    "quote_decimals": PAIRS[pair].decimals,
                    "amount": amount,
                    "price": price,
                    "ttl_seconds": ttl,
                    "quote_address": address,
                    "htlc_hash": htlc,
                },
                "bound": bound,
                "total_quote_base": str(total_quote_base(PAIRS[pair], amount_micro, price_nano)),
                "escrow_micro": job_escrow_i64(amount_micro) if side == "sell" else 0,
                "message": message.decode("ascii"),
                "signature": wallet.key.sign(message).hex(),
            }
        )
    return out


def hashlock_vectors() -> list[dict[str, str]]:
    preimages = [
        "00" * 32,
        "ff" * 32,
        hashlib.sha256(b"otc-bridge test preimage").hexdigest(),
    ]
    return [{"preimage": p, "hashlock": hashlock(bytes.fromhex(p))} for p in preimages]


AMOUNT_TEXTS = [
    "0", "1", "2.01", "0.1", " 3 ", "+1.5", "-1.5", ".5", "5.", "1e3", "1E+3", "2.5e-3",
    "0.0000005", "0.00000049", "-0.0000005", "1.0000015", "10000", "0e999999999",
    "1e30", "1e31", "1e-31", "123456789012345678901234567890", "0001.2300",
    "", " ", "abc", "1.2.3", "1,5", "--1", "1e", "e3", ".", "0x10",
    "NaN", "inf", "-Infinity", "sNaN",
]  # fmt: skip


def amount_vectors() -> list[dict[str, Any]]:
    out = []
    for text in AMOUNT_TEXTS:
        for decimals in (6, 9, 18):
            try:
                units: str | None = str(to_units(parse_decimal(text), decimals))
                error = None
            except MoneyError as err:
                units, error = None, err.code
            out.append({"text": text, "decimals": decimals, "units": units, "error": error})
    return out


def total_vectors() -> list[dict[str, Any]]:
    cases = [
        (100_000, 1), (2_010_000, 100_000_000), (10_000_000_000, 10**12), (1, 1),
        (333_333, 333_333_333), (1_500_000, 499_999_999), (123_456_789, 987_654_321),
    ]  # fmt: skip
    return [
        {
            "pair": name,
            "decimals": pair.decimals,
            "amount_micro": amount,
            "price_nano": price,
            "total_quote_base": str(total_quote_base(pair, amount, price)),
            "total_quote_nano": str(total_quote_nano(amount, price)),
        }
        for name, pair in PAIRS.items()
        for amount, price in cases
    ]


def escrow_vectors() -> list[dict[str, int]]:
    rewards = [1, 19, 20, 21, 39, 100_000, 2_010_000, 2_009_999, 123_456_789,
               9_999_999_999, 10_000_000_000, 10_000_000_001, 2**52 - 1]  # fmt: skip
    return [
        {"reward_micro": r, "fee_micro": job_fee_i64(r), "escrow_micro": job_escrow_i64(r)}
        for r in rewards
    ]


def vectors() -> dict[str, Any]:
    return {
        "comment": (
            "Generated by `python -m tests.vectors.generate` from the Python domain code; "
            "do not edit. The page's JavaScript must reproduce every value."
        ),
        "keys": key_vectors(),
        "wallet_auth": auth_cases(),
        "create_orders": create_order_cases(),
        "hashlocks": hashlock_vectors(),
        "amounts": amount_vectors(),
        "totals": total_vectors(),
        "escrow": escrow_vectors(),
        "wallet_auth_errors": sorted(MESSAGES),
    }


def render() -> str:
    return json.dumps(vectors(), indent=1, ensure_ascii=True) + "\n"


def main() -> None:
    PATH.write_text(render())
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
