"""Node spec §3.6: every refusal of `POST /wallet/transfer/signed` after the body preflight,
with the node's exact status and body, in the node's check order; none changes anything.

Each case runs on a wallet holding 5 RTC that has already queued one transfer with nonce 5.
After the refusal, the same wallet's transfer with nonce 6 must still be queued, and it
must be the only new row: the refusal neither queued anything nor spent a nonce.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Devnode
from tests.devnode.helpers import pending_rows
from tests.devnode.signed_wallet import Wallet, send

Body = dict[str, Any]
MISMATCH = "Public key does not match from_address"
INVALID_SIGNATURE: Body = {"error": "Invalid signature"}
SIGNATURE_TYPE: Body = {
    "error": "INVALID_SIGNATURE_TYPE",
    "message": "Field 'signature' must be a string",
}
PUBLIC_KEY_TYPE: Body = {
    "error": "INVALID_PUBLIC_KEY_TYPE",
    "message": "Field 'public_key' must be a string",
}
CHAIN_MISMATCH: Body = {
    "error": "chain_id does not match active network",
    "expected_chain_id": "rustchain-mainnet-v2",
    "got_chain_id": "rustchain-testnet",
}
NOT_HEX: Body = {"error": "invalid_public_key", "message": "Public key is not valid hexadecimal"}
FEE_UNSETTLED: Body = {
    "error": "Nonzero signed transfer fees are not supported until fee settlement is implemented",
    "code": "SIGNED_TRANSFER_FEE_UNSETTLED",
    "fee_rtc": 0.5,
}


@dataclass(frozen=True)
class Case:
    body: Callable[[Wallet, Wallet], Body]  # (sender, another wallet) -> request body
    status: int
    reply: Callable[[Wallet], Body]  # sender -> the node's exact reply


def fixed(reply: Body) -> Callable[[Wallet], Body]:
    return lambda _sender: reply


# One case per documented answer, in the node's check order.
DOCUMENTED = {
    "signature_not_a_string": Case(
        lambda w, _o: w.body(1, 6, signature=12345), 400, fixed(SIGNATURE_TYPE)
    ),
    "public_key_not_a_string": Case(
        lambda w, _o: w.body(1, 6, public_key=["ab"]), 400, fixed(PUBLIC_KEY_TYPE)
    ),
    "chain_id_of_another_network": Case(
        lambda w, _o: w.body(1, 6, chain_id="rustchain-testnet"), 400, fixed(CHAIN_MISMATCH)
    ),
    "public_key_not_hex": Case(
        lambda w, _o: w.body(1, 6, public_key="zz" * 32), 400, fixed(NOT_HEX)
    ),
    "public_key_of_another_wallet": Case(
        lambda w, o: w.body(1, 6, public_key=o.public.hex()),
        400,
        lambda w: {"error": MISMATCH, "from_address": w.address},
    ),
    "legacy_signature_with_a_fee": Case(
        lambda w, _o: w.body(1, 6, fee=0.5, legacy=True),
        401,
        fixed(
            {
                "error": "Legacy signature format cannot authorize nonzero fee",
                "code": "LEGACY_SIGNATURE_FEE_UNBOUND",
            }
        ),
    ),
    "signature_of_another_message": Case(
        lambda w, o: w.body(1, 6, signature=o.key.sign(b"x").hex()), 401, fixed(INVALID_SIGNATURE)
    ),
    "valid_signature_with_a_fee": Case(
        lambda w, _o: w.body(1, 6, fee=0.5), 400, fixed(FEE_UNSETTLED)
    ),
    "nonce_already_used": Case(
        lambda w, _o: w.body(1, 5),
        400,
        fixed(
            {
                "error": "Nonce already used (replay attack detected)",
                "code": "REPLAY_DETECTED",
                "nonce": "5",
            }
        ),
    ),
    "nonce_not_above_the_latest": Case(
        lambda w, _o: w.body(1, 4),
        400,
        fixed(
            {
                "error": "Signed transfer nonce must increase for this wallet",
                "code": "OUT_OF_ORDER_NONCE",
                "nonce": "4",
                "latest_nonce": 5,
            }
        ),
    ),
}

# Two faults in one request: the check that comes first in the node's order answers.
ORDER = {
    "signature_type_before_public_key_type": Case(
        lambda w, _o: w.body(1, 6, signature=1, public_key=2), 400, fixed(SIGNATURE_TYPE)
    ),
    "public_key_type_before_chain": Case(
        lambda w, _o: w.body(1, 6, public_key=7, chain_id="rustchain-testnet"),
        400,
        fixed(PUBLIC_KEY_TYPE),
    ),
    "chain_before_public_key_hex": Case(
        lambda w, _o: w.body(1, 6, chain_id="rustchain-testnet", public_key="not hex"),
        400,
        fixed(CHAIN_MISMATCH),
    ),
    "key_owner_before_signature": Case(
        lambda w, o: w.body(1, 6, public_key=o.public.hex(), signature="zz"),
        400,
        lambda w: {"error": MISMATCH, "from_address": w.address},
    ),
    "signature_before_fee": Case(  # signed with fee 0, sent with fee 0.5
        lambda w, _o: {**w.body(1, 6), "fee_rtc": 0.5}, 401, fixed(INVALID_SIGNATURE)
    ),
    "fee_before_nonce": Case(lambda w, _o: w.body(1, 5, fee=0.5), 400, fixed(FEE_UNSETTLED)),
    "signature_before_nonce": Case(
        lambda w, o: w.body(1, 4, signature=o.key.sign(b"x").hex()), 401, fixed(INVALID_SIGNATURE)
    ),
    "nonce_before_balance": Case(
        lambda w, _o: w.body(100, 4),
        400,
        fixed(
            {
                "error": "Signed transfer nonce must increase for this wallet",
                "code": "OUT_OF_ORDER_NONCE",
                "nonce": "4",
                "latest_nonce": 5,
            }
        ),
    ),
}

# Further shapes the same answers cover.
MORE = {
    "signature_not_hex": Case(
        lambda w, _o: w.body(1, 6, signature="zz" * 64), 401, fixed(INVALID_SIGNATURE)
    ),
    "signature_of_the_wrong_length": Case(
        lambda w, _o: w.body(1, 6, signature="ab" * 10), 401, fixed(INVALID_SIGNATURE)
    ),
    "public_key_of_odd_length": Case(
        lambda w, _o: w.body(1, 6, public_key=w.public.hex()[:-1]), 400, fixed(NOT_HEX)
    ),
    "public_key_too_short_is_another_wallet": Case(
        lambda w, _o: w.body(1, 6, public_key="00"),
        400,
        lambda w: {"error": MISMATCH, "from_address": w.address},
    ),
    "upper_case_address_is_another_wallet": Case(
        lambda w, _o: w.body(1, 6, from_address="RTC" + w.address[3:].upper()),
        400,
        lambda w: {"error": MISMATCH, "from_address": "RTC" + w.address[3:].upper()},
    ),
    "signature_true_is_not_a_string": Case(
        lambda w, _o: w.body(1, 6, signature=True), 400, fixed(SIGNATURE_TYPE)
    ),
}


@pytest.mark.parametrize(
    "case",
    [*DOCUMENTED.values(), *ORDER.values(), *MORE.values()],
    ids=[*DOCUMENTED, *ORDER, *MORE],
)
def test_refusal_matches_the_node_and_changes_nothing(devnode: Devnode, case: Case) -> None:
    wallet, other = Wallet(), Wallet()
    devnode.control.faucet(wallet.address, 5)
    assert send(devnode, wallet.body(1, 5))[0] == 200
    before = pending_rows(devnode)

    assert send(devnode, case.body(wallet, other)) == (case.status, case.reply(wallet))

    assert pending_rows(devnode) == before
    assert send(devnode, wallet.body(1, 6))[0] == 200  # nonce 6 is still free
    assert len(pending_rows(devnode)) == len(before) + 1


def test_a_nonce_beyond_i64_is_kept_and_caps_the_latest(devnode: Devnode) -> None:
    """The node keeps nonces as text and reads the latest with `CAST(nonce AS INTEGER)`,
    which stops at 2^63 - 1: a huge nonce is accepted, and smaller ones are then refused."""
    wallet = Wallet()
    devnode.control.faucet(wallet.address, 5)
    assert send(devnode, wallet.body(1, 10**30))[0] == 200
    assert send(devnode, wallet.body(1, 10**30)) == (
        400,
        {
            "error": "Nonce already used (replay attack detected)",
            "code": "REPLAY_DETECTED",
            "nonce": str(10**30),
        },
    )
    assert send(devnode, wallet.body(1, 7)) == (
        400,
        {
            "error": "Signed transfer nonce must increase for this wallet",
            "code": "OUT_OF_ORDER_NONCE",
            "nonce": "7",
            "latest_nonce": 2**63 - 1,
        },
    )
