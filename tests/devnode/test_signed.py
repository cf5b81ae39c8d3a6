"""`POST /wallet/transfer/signed`: Ed25519, float-formatted message, preflight, chain id.

The refusals of node spec §3.6, in the node's check order, are in `test_signed_refusals.py`.
"""

from __future__ import annotations

from typing import Any

import pytest

from otc_bridge.domain.rustchain import signed_transfer_tx_hash
from tests.conftest import Devnode
from tests.devnode.helpers import balance_i64, pending_rows
from tests.devnode.signed_wallet import RECEIVER, Wallet, send


def test_valid_signed_transfer_is_queued(devnode: Devnode) -> None:
    wallet = Wallet()
    devnode.control.faucet(wallet.address, 5)
    body = wallet.body(1, 7, memo="m" * 100, chain_id="rustchain-mainnet-v2")
    status, reply = send(devnode, body)
    assert status == 200, reply
    message = wallet.message(1, 7, "m" * 100, "rustchain-mainnet-v2", False)
    assert reply["tx_hash"] == signed_transfer_tx_hash(message, bytes.fromhex(body["signature"]))
    assert {
        k: reply[k] for k in ("ok", "verified", "signature_type", "replay_protected", "phase")
    } == {
        "ok": True,
        "verified": True,
        "signature_type": "Ed25519",
        "replay_protected": True,
        "phase": "pending",
    }
    assert (reply["from_address"], reply["to_address"], reply["chain_id"]) == (
        wallet.address,
        RECEIVER,
        "rustchain-mainnet-v2",
    )
    assert reply["amount_rtc"] == 1.0
    [row] = pending_rows(devnode)
    assert row["reason"] == "signed_transfer:" + "m" * 80
    assert balance_i64(devnode, wallet.address) == 5_000_000  # settled balance untouched


def test_amount_must_be_signed_as_a_float(devnode: Devnode) -> None:
    wallet = Wallet()
    devnode.control.faucet(wallet.address, 5)
    as_int = (
        f'{{"amount":1,"fee":0.0,"from":"{wallet.address}","memo":"","nonce":"1","to":"{RECEIVER}"}}'
    ).encode()
    assert send(devnode, wallet.body(1, 1, signed_amount=as_int)) == (
        401,
        {"error": "Invalid signature"},
    )
    assert send(devnode, wallet.body(1, 1))[0] == 200  # nonce 1 was not consumed


def test_legacy_message_without_fee_is_accepted(devnode: Devnode) -> None:
    wallet = Wallet()
    devnode.control.faucet(wallet.address, 5)
    assert send(devnode, wallet.body("0.5", 1, legacy=True))[0] == 200


def test_low_balance_does_not_consume_the_nonce(devnode: Devnode) -> None:
    wallet = Wallet()
    devnode.control.faucet(wallet.address, 1)
    status, reply = send(devnode, wallet.body(2, 1))
    assert (status, reply["error"], reply["available_rtc"]) == (
        400,
        "Insufficient available balance",
        1.0,
    )
    devnode.control.faucet(wallet.address, 1)
    assert send(devnode, wallet.body(2, 1))[0] == 200


def test_chain_id_must_match(devnode: Devnode) -> None:
    wallet = Wallet()
    devnode.control.faucet(wallet.address, 5)
    assert send(devnode, wallet.body(1, 1, chain_id="rustchain-testnet")) == (
        400,
        {
            "error": "chain_id does not match active network",
            "expected_chain_id": "rustchain-mainnet-v2",
            "got_chain_id": "rustchain-testnet",
        },
    )
    # a chain_id that was sent but not signed breaks the signature
    unsigned = {**wallet.body(1, 1), "chain_id": "rustchain-mainnet-v2"}
    assert send(devnode, unsigned) == (401, {"error": "Invalid signature"})


SENDER = Wallet()  # preflight refusals never look at keys or balances
PREFLIGHT: dict[str, tuple[dict[str, Any], str, dict[str, Any]]] = {
    "signature_empty": ({"signature": ""}, "missing_required_fields", {"missing": ["signature"]}),
    "amount_zero": ({"amount_rtc": 0}, "amount_must_be_positive", {}),
    "amount_beyond_decimal": ({"amount_rtc": "1e999999"}, "amount_exceeds_i64", {}),
    "fee_negative": ({"fee_rtc": -1}, "fee_must_be_non_negative", {}),
    "fee_not_a_number": ({"fee_rtc": "lots"}, "amount_not_number", {"field": "fee_rtc"}),
    "fee_infinite": ({"fee_rtc": "Infinity"}, "amount_not_finite", {"field": "fee_rtc"}),
    "to_address_malformed": ({"to_address": "RTCxyz"}, "invalid_to_address_format", {}),
    "to_self": ({"to_address": SENDER.address}, "from_to_must_differ", {}),
    "public_key_null": (
        {"public_key": None},
        "missing_required_fields",
        {"missing": ["public_key"]},
    ),
    "nonce_fraction": ({"nonce": "1.5"}, "nonce_not_int", {}),
    "nonce_negative": ({"nonce": -3}, "nonce_must_be_gt_zero", {}),
    "chain_id_malformed": ({"chain_id": "bad chain!"}, "invalid_chain_id_format", {}),
}


@pytest.mark.parametrize(("overrides", "code", "details"), PREFLIGHT.values(), ids=PREFLIGHT)
def test_preflight_refusal(
    devnode: Devnode, overrides: dict[str, Any], code: str, details: dict[str, Any]
) -> None:
    devnode.control.faucet(SENDER.address, 5)
    assert send(devnode, {**SENDER.body(1, 1), **overrides}) == (
        400,
        {"error": code, "details": details},
    )
    assert pending_rows(devnode) == []


def test_empty_body_lists_every_missing_field(devnode: Devnode) -> None:
    assert send(devnode, {}) == (
        400,
        {
            "error": "missing_required_fields",
            "details": {
                "missing": ["from_address", "to_address", "amount_rtc", "nonce", "signature"]
            },
        },
    )


def test_signed_transfers_are_not_rate_limited(devnode: Devnode) -> None:
    wallet = Wallet()
    devnode.control.faucet(wallet.address, 100)
    for nonce in range(1, 16):
        assert send(devnode, wallet.body("0.1", nonce))[0] == 200
