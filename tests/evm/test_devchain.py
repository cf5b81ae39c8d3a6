"""The dev chain harness: anvil up, contracts deployed, accounts funded, chain.json
written, and the control API a test drives time and blocks with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from web3 import Web3

from otc_bridge.adapters.evm.compiled import DEV_USDC, HTLC, load_artifact
from otc_bridge.devnet.devchain.binary import AnvilNotFound, find_anvil
from otc_bridge.devnet.devchain.control import ChainControl, ChainRpcError
from otc_bridge.devnet.devchain.handoff import bridge_chain_environment
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.service_process import free_port

from .conftest import Secret, chain_now


def test_deploys_the_shipped_contracts_and_funds_ten_accounts(devchain: Devchain) -> None:
    info = devchain.info
    w3 = Web3(Web3.HTTPProvider(devchain.rpc_url))
    assert w3.eth.chain_id == info.chain_id == 31337
    assert len(info.accounts) >= 10
    assert info.accounts == list(w3.eth.accounts)
    htlc_code = w3.eth.get_code(Web3.to_checksum_address(info.htlc_contract))
    assert htlc_code.to_0x_hex() == load_artifact(HTLC).deployed_bytecode
    usdc = w3.eth.contract(
        address=Web3.to_checksum_address(info.usdc_token), abi=load_artifact(DEV_USDC).abi
    )
    assert usdc.functions.decimals().call() == info.usdc_decimals == 6
    assert usdc.functions.symbol().call() == "USDC"
    for account in map(Web3.to_checksum_address, info.accounts):
        assert w3.eth.get_balance(account) >= 1000 * 10**18
        assert usdc.functions.balanceOf(account).call() >= 1_000_000 * 10**6
    assert info.finality_confirmations == 2


def test_chain_json_names_the_deployment(devchain: Devchain) -> None:
    written = json.loads(devchain.info_path.read_text())
    assert written["htlc_contract"] == devchain.info.htlc_contract
    assert written["usdc_token"] == devchain.info.usdc_token
    assert written["chain_id"] == 31337
    assert written["rpc_url"] == devchain.rpc_url
    assert len(written["accounts"]) >= 10


def test_bridge_settings_use_the_documented_names(devchain: Devchain) -> None:
    env = bridge_chain_environment(devchain.info, devchain.rpc_url)
    assert env["OTC_EVM_RPC_URL"] == devchain.rpc_url
    assert env["OTC_EVM_CHAIN_ID"] == "31337"
    assert env["OTC_EVM_HTLC_CONTRACT"] == devchain.info.htlc_contract
    assert env["OTC_EVM_FINALITY_CONFIRMATIONS"] == "2"
    assert env["OTC_RTC_USDC_TOKEN_ADDRESS"] == devchain.info.usdc_token
    from otc_bridge.adapters.evm.config import from_env

    settings = from_env(env)
    assert set(settings.pairs) == {"RTC/ETH", "RTC/USDC"}
    assert settings.pairs["RTC/USDC"].token_address == devchain.info.usdc_token
    assert settings.pairs["RTC/ETH"].token_address is None


def test_mining_is_on_demand_in_tests(devchain: Devchain) -> None:
    control = devchain.control
    before = control.head()
    assert control.head().number == before.number  # nothing mines by itself
    after = control.mine(5)
    assert after.number == before.number + 5


def test_time_controls(devchain: Devchain) -> None:
    control = devchain.control
    start = control.head()
    moved = control.advance_time(3600)
    assert moved.number == start.number + 1
    assert moved.timestamp >= start.timestamp + 3600
    target = moved.timestamp + 10_000
    control.set_next_timestamp(target)
    assert control.mine().timestamp == target
    control.catch_up(target + 500)
    assert control.head().timestamp == target + 500
    assert control.catch_up(target).timestamp == target + 500  # never backwards


def test_snapshot_and_revert(devchain: Devchain) -> None:
    control = devchain.control
    snap = control.snapshot()
    head = control.head()
    control.mine(3)
    assert control.revert(snap)
    assert control.head() == head


def test_reorg_replaces_the_last_blocks(devchain: Devchain, buyer, seller_address) -> None:
    made = buyer.lock(
        receiver=seller_address,
        hashlock=Secret.new().hashlock,
        timelock=chain_now(devchain) + 7200,
        amount=10**15,
    )
    control = devchain.control
    control.mine(1)
    head = control.head()
    after = control.reorg(2)
    assert after.number == head.number
    assert after.hash != head.hash
    w3 = Web3(Web3.HTTPProvider(devchain.rpc_url))
    replaced = w3.eth.get_block(made.tx.block_number)
    assert replaced["hash"].to_0x_hex() != made.tx.block_hash
    assert len(replaced["transactions"]) == 0


def test_control_errors_are_named(devchain: Devchain) -> None:
    with pytest.raises(ChainRpcError, match="no_such_method"):
        devchain.control.call("no_such_method")
    dead = ChainControl(f"http://127.0.0.1:{free_port()}", timeout=2.0)
    with pytest.raises(ChainRpcError, match="no answer"):
        dead.head()


def test_restart_with_kept_state_reuses_the_deployment(tmp_path: Path) -> None:
    folder = tmp_path / "chain"
    with Devchain(folder, persist=True) as first:
        info = first.info
        first.control.mine(4)
        head = first.control.head()
    with Devchain(folder, persist=True) as second:
        assert second.info.htlc_contract == info.htlc_contract
        assert second.info.deployed_at_block == info.deployed_at_block
        assert second.control.head().number >= head.number
        assert (
            second.control.call("eth_getBlockByNumber", hex(head.number), False)["hash"]
            == head.hash
        )


def test_missing_anvil_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ANVIL_BINARY", str(tmp_path / "nope"))
    with pytest.raises(AnvilNotFound, match="ANVIL_BINARY"):
        find_anvil()
    monkeypatch.delenv("ANVIL_BINARY")
    assert find_anvil().name == "anvil"
    assert "node_modules" in str(find_anvil())
