"""The checks of `POST /wallet/transfer/signed` between the body preflight and the nonces.

In the node's order (node spec §3.6), each refusal with the node's exact body:
1. a non-string `signature` (400 `INVALID_SIGNATURE_TYPE`), then a non-string
   `public_key` (400 `INVALID_PUBLIC_KEY_TYPE`);
2. a `chain_id` other than the node's (400, with both ids);
3. a `bcn_…` sender: 404, since the devnode has no Beacon Atlas, so no beacon wallet can
   spend (the node answers this for any beacon id the Atlas does not know);
4. a `public_key` that is not hex (400 `invalid_public_key`), then a key whose address is
   not `from_address` (400, echoing only the sender's own address: the node stopped
   echoing the derived one, which mapped addresses to keys);
5. the signature, over the fee-bound message or the legacy one without `fee`: a legacy
   signature cannot carry a nonzero fee (401 `LEGACY_SIGNATURE_FEE_UNBOUND`); anything
   else that does not verify, non-hex included, is 401 `Invalid signature`;
6. a valid signature with a nonzero fee: 400 `SIGNED_TRANSFER_FEE_UNSETTLED` (the node
   has no fee settlement yet).

Each check raises `Refused` with the reply; none consumes the nonce or changes state.
"""

from __future__ import annotations

from typing import NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from otc_bridge.devnet.devnode.preflight import SignedTransfer, is_bcn_address
from otc_bridge.devnet.devnode.wire import Reply, json_reply
from otc_bridge.domain.rustchain import address_from_pubkey, signed_transfer_message


class Refused(Exception):
    """A check failed; `reply` is the node's answer."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def refuse(payload: dict[str, object], status: int = 400) -> NoReturn:
    raise Refused(json_reply(payload, status))


def credential_strings(data: dict[str, object]) -> tuple[str, str]:
    """(signature, public_key), stripped; refused unless both are strings."""
    signature = data.get("signature", "")
    if not isinstance(signature, str):
        refuse({"error": "INVALID_SIGNATURE_TYPE", "message": "Field 'signature' must be a string"})
    public_key = data.get("public_key", "")
    if not isinstance(public_key, str):
        refuse(
            {"error": "INVALID_PUBLIC_KEY_TYPE", "message": "Field 'public_key' must be a string"}
        )
    return signature.strip(), public_key.strip()


def check_chain(chain_id: str | None, expected: str) -> None:
    if chain_id and chain_id != expected:
        refuse(
            {
                "error": "chain_id does not match active network",
                "expected_chain_id": expected,
                "got_chain_id": chain_id,
            }
        )


def sender_key(sender: str, public_key_hex: str) -> bytes:
    """The raw public key, once it is known to belong to `sender`."""
    if is_bcn_address(sender):
        refuse(
            {
                "error": "Beacon ID not registered in Atlas: beacon_id_not_registered",
                "hint": "Register your agent first: beacon atlas register",
            },
            404,
        )
    try:
        public_key = bytes.fromhex(public_key_hex)
    except ValueError:
        refuse({"error": "invalid_public_key", "message": "Public key is not valid hexadecimal"})
    if address_from_pubkey(public_key) != sender:
        refuse({"error": "Public key does not match from_address", "from_address": sender})
    return public_key


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):  # a bad signature, or a key of the wrong length
        return False
    return True


def signed_message(
    checked: SignedTransfer, memo: str, public_key: bytes, signature: bytes
) -> bytes:
    """The message the signature verifies: the fee-bound form, else the legacy one.

    The node rebuilds both with Python floats (1 → 1.0) and a string nonce.
    """
    forms = {
        legacy: signed_transfer_message(
            from_address=checked.from_address,
            to_address=checked.to_address,
            amount_rtc=float(checked.amount),
            fee_rtc=float(checked.fee),
            memo=memo,
            nonce=checked.nonce,
            chain_id=checked.chain_id,
            legacy=legacy,
        )
        for legacy in (False, True)
    }
    if verify(public_key, forms[False], signature):
        return forms[False]
    if not verify(public_key, forms[True], signature):
        refuse({"error": "Invalid signature"}, 401)
    if checked.fee != 0:  # the legacy form does not sign the fee, so it cannot agree to one
        refuse(
            {
                "error": "Legacy signature format cannot authorize nonzero fee",
                "code": "LEGACY_SIGNATURE_FEE_UNBOUND",
            },
            401,
        )
    return forms[True]


def check_signature(
    checked: SignedTransfer, memo: str, public_key: bytes, signature_hex: str
) -> tuple[bytes, bytes]:
    """(message, signature) of a verified transfer whose fee the node can settle (zero)."""
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        refuse({"error": "Invalid signature"}, 401)
    message = signed_message(checked, memo, public_key, signature)
    if checked.fee != 0:
        refuse(
            {
                "error": "Nonzero signed transfer fees are not supported until fee settlement "
                "is implemented",
                "code": "SIGNED_TRANSFER_FEE_UNSETTLED",
                "fee_rtc": float(checked.fee),
            }
        )
    return message, signature
