"""`make run`'s bridge watches its dev chain by itself: on the devnet started as `make run`
starts it (a block a second, the bridge's embedded worker), B locks and S claims on the
chain, nobody calls the bridge after the match, and the order completes with B paid."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from otc_bridge.adapters.evm.writer import HtlcWriter
from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.deploy import ChainInfo
from otc_bridge.devnet.devnet_process import DevnetProcess


def wait_for_status(client: BridgeClient, order_id: str, status: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        now = client.order(order_id)["status"]
        if now == status or time.monotonic() > deadline:
            return str(now)
        time.sleep(0.2)  # polling what a trader would poll


@pytest.mark.slow
def test_the_devnets_bridge_settles_a_claim_made_only_on_chain(tmp_path: Path) -> None:
    env = {"OTC_WATCHER_POLL_SECONDS": "0.5"}
    with DevnetProcess(tmp_path / "devnet", env=env) as devnet:
        info = ChainInfo.read(tmp_path / "devnet" / "chain.json")
        assert info is not None
        client = BridgeClient(devnet.url)
        control = DevnetControl(devnet.node_url)
        seller, buyer, secret = Wallet(), Wallet(), Secret()
        control.faucet(seller.address, "50")
        s_address, b_address = info.accounts[2], info.accounts[1]
        created = client.create_order(
            seller,
            side="sell",
            pair="RTC/ETH",
            amount_rtc="5",
            price_per_rtc="0.001",
            htlc_hash=secret.hash,
            eth_address=s_address,
        )
        assert created.status_code == 201, created.text
        order_id = created.json()["order_id"]
        matched = client.match(buyer, order_id, eth_address=b_address)
        assert matched.status_code == 200, matched.text
        b_chain = HtlcWriter.connect(devnet.chain_url, info.htlc_contract, b_address)
        head = b_chain.web3.eth.get_block("latest")
        made = b_chain.lock(
            receiver=s_address,
            hashlock=bytes.fromhex(secret.hash),
            timelock=int(head["timestamp"]) + 3 * 3600,
            amount=int(matched.json()["total_quote_base_units"]),
        )
        assert wait_for_status(client, order_id, "quote_locked", 30) == "quote_locked"
        s_chain = HtlcWriter.connect(devnet.chain_url, info.htlc_contract, s_address)
        claim = s_chain.claim(made.lock_id, secret.preimage)
        # the devnode confirms payouts after 10 s; the reconciler polls every 3 s
        assert wait_for_status(client, order_id, "completed", 60) == "completed"
        events = client.events(order_id)
        claimed = [e for e in events if e["cause"] == "quote_claimed"]
        assert [(e["actor"], e["refs"]["quote_tx"]) for e in claimed] == [
            ("watcher", claim.tx_hash)
        ]
        assert control.balance_i64(buyer.address) == created.json()["amount_micro_rtc"]
