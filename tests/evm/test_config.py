"""Per-pair EVM settings from the environment (docs/chains.md). No chain needed."""

from __future__ import annotations

import logging

import pytest

from otc_bridge.adapters.evm.config import (
    DEFAULT_FINALITY_CONFIRMATIONS,
    EvmSettings,
    from_env,
    pair_prefix,
)

HTLC = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
USDC = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
BASE = {
    "OTC_EVM_RPC_URL": "http://10.1.2.3:8545",
    "OTC_EVM_CHAIN_ID": "8453",
    "OTC_EVM_HTLC_CONTRACT": HTLC.lower(),
}


def test_no_settings_means_no_pair_and_says_why() -> None:
    settings = from_env({})
    assert settings.pairs == {}
    assert settings.for_pair("RTC/ETH") is None
    assert "OTC_RTC_ETH_RPC_URL (or OTC_EVM_RPC_URL) is not set" in settings.disabled["RTC/ETH"]
    assert "RTC/ERG" not in settings.disabled  # not an EVM pair


def test_shared_settings_configure_eth_and_a_token_pair_needs_its_token() -> None:
    settings = from_env(BASE)
    eth = settings.for_pair("RTC/ETH")
    assert eth is not None
    assert eth.chain.chain_id == 8453
    assert eth.chain.htlc_contract == HTLC  # checksummed
    assert eth.token_address is None
    assert eth.token_or_zero == "0x" + "00" * 20
    assert eth.decimals == 18
    assert eth.chain.finality_confirmations == DEFAULT_FINALITY_CONFIRMATIONS
    assert eth.public_rpc_url == BASE["OTC_EVM_RPC_URL"]
    assert settings.for_pair("RTC/USDC") is None
    assert settings.disabled["RTC/USDC"] == "OTC_RTC_USDC_TOKEN_ADDRESS is not set"


def test_per_pair_values_override_the_shared_ones() -> None:
    env = {
        **BASE,
        "OTC_RTC_USDC_TOKEN_ADDRESS": USDC,
        "OTC_RTC_USDC_FINALITY_CONFIRMATIONS": "20",
        "OTC_EVM_FINALITY_CONFIRMATIONS": "5",
        "OTC_RTC_USDC_PUBLIC_RPC_URL": "https://mainnet.base.org",
        "OTC_RTC_USDC_TIMELOCK_MIN_SECONDS": "3600",
        "OTC_RTC_USDC_TIMELOCK_MAX_SECONDS": "7200",
        "OTC_RTC_ETH_RPC_URL": "http://10.9.9.9:8545",
    }
    settings = from_env(env)
    usdc = settings.for_pair("RTC/USDC")
    eth = settings.for_pair("RTC/ETH")
    assert usdc is not None
    assert eth is not None
    assert usdc.token_address == USDC
    assert usdc.decimals == 6
    assert usdc.chain.finality_confirmations == 20
    assert eth.chain.finality_confirmations == 5
    assert usdc.public_rpc_url == "https://mainnet.base.org"
    assert (usdc.timelock_min_seconds, usdc.timelock_max_seconds) == (3600, 7200)
    assert (eth.timelock_min_seconds, eth.timelock_max_seconds) == (None, None)
    assert eth.chain.rpc_url == "http://10.9.9.9:8545"
    assert len(settings.chains()) == 2  # two RPC URLs: two readers


def test_pairs_on_one_chain_share_it() -> None:
    settings = from_env({**BASE, "OTC_RTC_USDC_TOKEN_ADDRESS": USDC})
    assert len(settings.chains()) == 1


@pytest.mark.parametrize(
    ("change", "pair", "reason"),
    [
        ({"OTC_EVM_CHAIN_ID": "base"}, "RTC/ETH", "is not a chain id"),
        ({"OTC_EVM_CHAIN_ID": "0"}, "RTC/ETH", "is not a chain id"),
        ({"OTC_EVM_HTLC_CONTRACT": "0x1234"}, "RTC/ETH", "is not an address"),
        ({"OTC_RTC_ETH_TOKEN_ADDRESS": USDC}, "RTC/ETH", "must be unset for ETH"),
        ({"OTC_RTC_USDC_TOKEN_ADDRESS": "usdc"}, "RTC/USDC", "is not an address"),
        ({"OTC_RTC_USDC_TOKEN_ADDRESS": "0x" + "00" * 20}, "RTC/USDC", "zero address"),
        (
            {
                "OTC_RTC_USDC_TOKEN_ADDRESS": USDC,
                "OTC_RTC_USDC_TIMELOCK_MIN_SECONDS": "9000",
                "OTC_RTC_USDC_TIMELOCK_MAX_SECONDS": "3600",
            },
            "RTC/USDC",
            "TIMELOCK_MIN_SECONDS is above",
        ),
    ],
)
def test_a_malformed_required_value_disables_the_pair(
    change: dict[str, str], pair: str, reason: str
) -> None:
    settings = from_env({**BASE, **change})
    assert settings.for_pair(pair) is None
    assert reason in settings.disabled[pair]


def test_a_mixed_case_address_with_a_bad_checksum_is_refused() -> None:
    bad = "0x5fbDB2315678afecb367f032d93F642f64180aa3"  # HTLC with one letter's case flipped
    assert bad.lower() == HTLC.lower()
    settings = from_env({**BASE, "OTC_EVM_HTLC_CONTRACT": bad})
    assert settings.pairs == {}


def test_a_bad_optional_number_falls_back_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        settings = from_env({**BASE, "OTC_EVM_FINALITY_CONFIRMATIONS": "many"})
    eth = settings.for_pair("RTC/ETH")
    assert eth is not None
    assert eth.chain.finality_confirmations == DEFAULT_FINALITY_CONFIRMATIONS
    assert "OTC_EVM_FINALITY_CONFIRMATIONS" in caplog.text


def test_prefixes() -> None:
    assert pair_prefix("RTC/USDC") == "OTC_RTC_USDC_"
    assert isinstance(from_env({}), EvmSettings)
