"""`POST /wallet/transfer/signed`: Ed25519, float-formatted message, nonces, chain id."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from otc_bridge.domain.rustchain import (
    address_from_pubkey,
    signed_transfer_message,
    signed_transfer_tx_hash,
)
from tests.conftest import Devnode
from tests.devnode.helpers import balance_i64, pending_rows

RECEIVER = "RTC" + "b" * 40


class Wallet:
    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.address = address_from_pubkey(self.public)

    def body(
        self,
        amount: Any,
        nonce: int,
        *,
        memo: str = "",
        chain_id: str | None = None,
        signed_amount: Any = None,
        legacy: bool = False,
        **overrides: Any,
    ) -> dict[str, Any]:
        """A request body; `signed_amount` lets a test sign a different number than it sends."""
        message = self.message(
            signed_amount if signed_amount is not None else amount, nonce, memo, chain_id, legacy
        )
        body: dict[str, Any] = {
            "from_address": self.address,
            "to_address": RECEIVER,
            "amount_rtc": amount,
            "nonce": nonce,
            "memo": memo,
            "public_key": self.public.hex(),
            "signature": self.key.sign(message).hex(),
        }
        if chain_id is not None:
            body["chain_id"] = chain_id
        body.update(overrides)
        return body

    def message(
        self, amount: Any, nonce: int, memo: str, chain_id: str | None, legacy: bool
    ) -> bytes:
        if isinstance(amount, bytes):  # a hand-written message
            return amount
        return signed_transfer_message(
            from_address=self.address,
            to_address=RECEIVER,
            amount_rtc=amount,
            fee_rtc=0,
            memo=memo,
            nonce=nonce,
            chain_id=chain_id,
            legacy=legacy,
        )


def send(devnode: Devnode, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = devnode.http.post("/wallet/transfer/signed", json=body)
    return response.status_code, response.json()


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


def test_bad_signature_and_wrong_key(devnode: Devnode) -> None:
    wallet, other = Wallet(), Wallet()
    devnode.control.faucet(wallet.address, 5)
    forged = wallet.body(1, 1, signature=other.key.sign(b"x").hex())
    assert send(devnode, forged) == (401, {"error": "Invalid signature"})
    assert send(devnode, wallet.body(1, 1, signature="zz")) == (401, {"error": "Invalid signature"})
    stolen = wallet.body(1, 1, public_key=other.public.hex())
    assert send(devnode, stolen) == (
        400,
        {
            "error": "Public key does not match from_address",
            "expected": other.address,
            "got": wallet.address,
        },
    )
    upper = wallet.body(1, 1, from_address="RTC" + wallet.address[3:].upper())
    assert send(devnode, upper)[1]["error"] == "Public key does not match from_address"
    assert send(devnode, wallet.body(1, 1))[0] == 200


def test_replay_and_out_of_order_nonces(devnode: Devnode) -> None:
    wallet = Wallet()
    devnode.control.faucet(wallet.address, 5)
    assert send(devnode, wallet.body(1, 5))[0] == 200
    assert send(devnode, wallet.body(1, 5)) == (
        400,
        {
            "error": "Nonce already used (replay attack detected)",
            "code": "REPLAY_DETECTED",
            "nonce": "5",
        },
    )
    status, reply = send(devnode, wallet.body(1, 4))
    assert (status, reply["code"], reply["latest_nonce"]) == (400, "OUT_OF_ORDER_NONCE", 5)
    assert send(devnode, wallet.body(1, 6))[0] == 200


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


def test_preflight_codes(devnode: Devnode) -> None:
    wallet = Wallet()
    cases: list[tuple[dict[str, Any], str, dict[str, Any]]] = [
        ({"signature": ""}, "missing_required_fields", {"missing": ["signature"]}),
        ({"amount_rtc": 0}, "amount_must_be_positive", {}),
        ({"fee_rtc": -1}, "fee_must_be_non_negative", {}),
        ({"fee_rtc": 0.01}, "fee_must_be_zero", {"fee_rtc": 0.01}),
        ({"to_address": "RTCxyz"}, "invalid_to_address_format", {}),
        ({"to_address": wallet.address}, "from_to_must_differ", {}),
        ({"public_key": None}, "missing_required_fields", {"missing": ["public_key"]}),
        ({"nonce": "1.5"}, "nonce_not_int", {}),
        ({"nonce": -3}, "nonce_must_be_gt_zero", {}),
        ({"chain_id": "bad chain!"}, "invalid_chain_id_format", {}),
    ]
    for overrides, code, details in cases:
        assert send(devnode, {**wallet.body(1, 1), **overrides}) == (
            400,
            {"error": code, "details": details},
        )
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
