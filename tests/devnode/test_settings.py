"""Start-up settings: the admin key is mandatory; other bad values fall back to defaults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from otc_bridge.devnet.devnode.settings import SettingsError, load_settings
from otc_bridge.devnet.process import DevnodeError, DevnodeProcess
from tests.conftest import DevnodeFactory

VALID = {"RC_ADMIN_KEY": "k" * 32}


def test_short_admin_key_refuses_to_start(tmp_path: Path) -> None:
    process = DevnodeProcess(tmp_path, admin_key="too-short", startup_timeout=10)
    with pytest.raises(DevnodeError):
        process.start()
    assert "RC_ADMIN_KEY must be set and at least 32 characters" in process.log_tail()


def test_missing_admin_key_exits_with_status_1(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DEVNET_DIR": str(tmp_path)}
    argv = [sys.executable, "-m", "otc_bridge", "devnode", "--port", "1"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 1
    assert "FATAL: RC_ADMIN_KEY must be set" in done.stderr


def test_defaults_follow_the_node() -> None:
    settings = load_settings(VALID)
    assert settings.confirmation_delay_seconds == 86400
    assert (settings.admin_rate_limit_max, settings.admin_rate_limit_window_seconds) == (12, 60)
    assert settings.chain_id == "rustchain-mainnet-v2"
    assert (settings.pending_confirm_default_limit, settings.pending_confirm_max_limit) == (
        100,
        500,
    )
    assert [str(net) for net in settings.trusted_proxies] == ["127.0.0.1/32", "::1/128"]
    assert settings.scheduler_enabled is False
    assert (settings.scheduler_interval_seconds, settings.scheduler_batch) == (2.0, 100)
    assert settings.db_path == Path(".devnet/devnode.sqlite3")


def test_bad_values_fall_back() -> None:
    settings = load_settings(
        {
            **VALID,
            "RC_ADMIN_RATE_LIMIT_MAX": "lots",
            "RC_CONFIRMATION_DELAY_SECONDS": "-5",
            "DEVNODE_SCHEDULER": "maybe",
            "DEVNODE_SCHEDULER_INTERVAL_SECONDS": "fast",
            "RC_TRUSTED_PROXY_IPS": "10.0.0.0/8, nonsense, 192.0.2.7",
            "RC_PENDING_CONFIRM_DEFAULT_LIMIT": "50",
        }
    )
    assert (settings.admin_rate_limit_max, settings.confirmation_delay_seconds) == (12, 86400)
    assert (settings.scheduler_enabled, settings.scheduler_interval_seconds) == (False, 2.0)
    assert [str(net) for net in settings.trusted_proxies] == ["10.0.0.0/8", "192.0.2.7/32"]
    assert settings.scheduler_batch == 50  # follows the confirm default
    with pytest.raises(SettingsError):
        load_settings({"RC_ADMIN_KEY": "k" * 31})


def test_node_settings_reach_the_endpoints(devnode_factory: DevnodeFactory) -> None:
    node = devnode_factory(
        env={
            "RC_CONFIRMATION_DELAY_SECONDS": "7200",
            "RC_CHAIN_ID": "rustchain-devnet",
            "RC_PENDING_CONFIRM_DEFAULT_LIMIT": "3",
            "RC_PENDING_CONFIRM_MAX_LIMIT": "4",
            "RC_ADMIN_RATE_LIMIT_WINDOW_SECONDS": "bogus",
        }
    )
    node.control.faucet("a", 10)
    queued = node.http.post(
        "/wallet/transfer",
        json={"from_miner": "a", "to_miner": "b", "amount_rtc": 1},
        headers=node.admin(),
    ).json()
    assert queued["confirms_in_hours"] == 2.0
    assert queued["message"] == "Transfer pending. Will confirm in 2 hours unless voided."
    confirm = node.http.post("/pending/confirm", headers=node.admin()).json()
    assert confirm["limit"] == 3
    assert node.http.post("/pending/confirm?limit=99", headers=node.admin()).json()["limit"] == 4
    body = {
        "from_address": "RTC" + "a" * 40,
        "to_address": "RTC" + "b" * 40,
        "amount_rtc": 1,
        "nonce": 1,
        "signature": "00",
        "public_key": "00",
        "chain_id": "rustchain-mainnet-v2",
    }
    signed = node.http.post("/wallet/transfer/signed", json=body).json()
    assert (signed["expected_chain_id"], signed["got_chain_id"]) == (
        "rustchain-devnet",
        "rustchain-mainnet-v2",
    )
