"""The node's formulas, pinned with the node spec's literal values."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from otc_bridge.domain.rustchain import (
    address_from_pubkey,
    idempotent_tx_hash,
    job_escrow_i64,
    job_fee_i64,
    job_reward_i64,
    job_reward_wire,
    signed_transfer_message,
    transfer_i64,
)


def test_rip302_golden_values_for_2_01() -> None:
    reward = job_reward_i64(2.01)
    assert reward == 2_009_999
    assert job_fee_i64(reward) == 100_499
    assert job_escrow_i64(reward) == 2_110_498
    assert job_reward_i64(4.1) == 4_099_999


def test_transfers_round_decimals_down() -> None:
    assert transfer_i64(2.01) == 2_010_000
    assert transfer_i64("2.0100009") == 2_010_000
    assert transfer_i64(Decimal("0.000001")) == 1


def test_sweep_of_cents_matches_the_spec_count() -> None:
    low = sum(1 for cents in range(1, 100_000) if job_reward_i64(cents / 100) != cents * 10_000)
    assert low == 1_196


@given(st.integers(min_value=10_000, max_value=10_000_000_000))
def test_reward_wire_value_books_exactly(reward_i64: int) -> None:
    wire = job_reward_wire(reward_i64)
    assert job_reward_i64(wire) == reward_i64
    assert abs(wire - reward_i64 / 1e6) < 1e-9


def test_reward_wire_value_for_truncating_amounts() -> None:
    assert job_reward_i64(job_reward_wire(2_010_000)) == 2_010_000
    assert job_reward_wire(10_000_000_000) == 10_000.0


def test_idempotent_tx_hash_is_the_node_formula() -> None:
    import hashlib

    key = "otc_payout:otc_abc"
    expected = hashlib.sha256(b"wallet_transfer_idempotency:otc_payout:otc_abc").hexdigest()[:32]
    assert idempotent_tx_hash(key) == expected
    assert len(expected) == 32


def test_address_is_lower_case_rtc_plus_40_hex() -> None:
    address = address_from_pubkey(bytes(32))
    assert address.startswith("RTC")
    assert len(address) == 43
    assert address[3:] == address[3:].lower()


def test_signed_transfer_message_uses_python_floats_and_string_nonce() -> None:
    message = signed_transfer_message(
        from_address="RTCa",
        to_address="RTCb",
        amount_rtc=1,
        fee_rtc=0,
        memo="",
        nonce=7,
        chain_id=None,
    )
    assert message == b'{"amount":1.0,"fee":0.0,"from":"RTCa","memo":"","nonce":"7","to":"RTCb"}'
    legacy = signed_transfer_message(
        from_address="RTCa",
        to_address="RTCb",
        amount_rtc=1,
        fee_rtc=0,
        memo="m",
        nonce="7",
        chain_id="rustchain-mainnet-v2",
        legacy=True,
    )
    assert b'"fee"' not in legacy
    assert b'"chain_id":"rustchain-mainnet-v2"' in legacy
