"""A self-certifying RTC wallet that builds `POST /wallet/transfer/signed` bodies."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from otc_bridge.domain.rustchain import address_from_pubkey, signed_transfer_message
from tests.conftest import Devnode

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
        fee: Any = 0,
        chain_id: str | None = None,
        signed_amount: Any = None,
        legacy: bool = False,
        **overrides: Any,
    ) -> dict[str, Any]:
        """A request body; `signed_amount` lets a test sign a different number than it sends.

        A nonzero `fee` is signed (unless `legacy`) and sent as `fee_rtc`.
        """
        message = self.message(
            signed_amount if signed_amount is not None else amount,
            nonce,
            memo,
            chain_id,
            legacy,
            fee,
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
        if fee:
            body["fee_rtc"] = fee
        if chain_id is not None:
            body["chain_id"] = chain_id
        body.update(overrides)
        return body

    def message(
        self,
        amount: Any,
        nonce: int,
        memo: str,
        chain_id: str | None,
        legacy: bool,
        fee: Any = 0,
    ) -> bytes:
        if isinstance(amount, bytes):  # a hand-written message
            return amount
        return signed_transfer_message(
            from_address=self.address,
            to_address=RECEIVER,
            amount_rtc=amount,
            fee_rtc=fee,
            memo=memo,
            nonce=nonce,
            chain_id=chain_id,
            legacy=legacy,
        )


def send(devnode: Devnode, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = devnode.http.post("/wallet/transfer/signed", json=body)
    assert response.headers["content-type"] == "application/json", response.text
    return response.status_code, response.json()
