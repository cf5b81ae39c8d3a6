"""The dev chain for suites that run the bridge, and the quote lock a buyer makes on it.

Each devnode the shared fixtures start gets its own anvil (`Devchain`, ~0.4 s to start
and deploy), wired as `make run` wires them: the devnode's `POST /devnet/clock` moves the
chain's time too, so the bridge (which reads the devnode's clock file) and the chain keep
one clock. A chain shared across modules could not: a module that moves its clock by days
would leave the chain ahead of every later module's bridge, and every lock too late.

`bridge_env(node, ...)` configures the bridge's EVM pairs for the node's chain (the
production variable names, `devnet.devchain.handoff`), so RTC/ETH and RTC/USDC verify
locks on it. `lock_quote(client, chain, order_id)` is what the buyer does after a match:
lock the quote leg in the HTLC from the buyer's quote address (impersonated on anvil, so
any address a test chose works), mine the finality depth, and `POST /lock`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from eth_utils.address import to_checksum_address
from web3 import Web3

from otc_bridge.adapters.evm.rpc import connect
from otc_bridge.adapters.evm.writer import HtlcWriter, LockMade
from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.devnet.devchain.handoff import bridge_chain_environment
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.domain.deadlines import DeadlinePolicy

# The devnode URL → its chain (bridge_env finds the chain of the node it is given).
_CHAINS: dict[str, Devchain] = {}
# A timelock comfortably inside every window: >= 2 h after the block, <= 24 h, more than
# the 1 h claim margin ahead of the bridge's clock.
LOCK_SPAN = 12 * 3600
TRANSFER_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "transfer",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "type": "function",
        "name": "balanceOf",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
]


def start_chain(state_dir: Path) -> Devchain:
    return Devchain(state_dir).start()


def register(node_url: str, chain: Devchain) -> None:
    _CHAINS[node_url] = chain


def unregister(node_url: str) -> None:
    _CHAINS.pop(node_url, None)


def chain_of(node_url: str) -> Devchain | None:
    return _CHAINS.get(node_url)


def chain_for(node_url: str) -> Devchain:
    chain = chain_of(node_url)
    assert chain is not None, f"no dev chain is wired to the devnode at {node_url}"
    return chain


def chain_env(node_url: str) -> dict[str, str]:
    """The bridge's EVM settings for the node's chain (none if it has no chain)."""
    chain = chain_of(node_url)
    if chain is None:
        return {}
    return bridge_chain_environment(chain.info, chain.rpc_url)


def node_env(chain: Devchain) -> dict[str, str]:
    """What a devnode needs to move the chain's clock with its own."""
    return {"DEVNODE_CHAIN_RPC_URL": chain.rpc_url}


@dataclass(frozen=True)
class QuoteLockMade:
    made: LockMade
    report: httpx.Response

    @property
    def tx_hash(self) -> str:
        return self.made.tx.tx_hash

    @property
    def lock_id(self) -> str:
        return self.made.lock_id


def parties(order: dict[str, Any]) -> tuple[str, str]:
    """(receiver S, sender B) quote addresses of an order as `GET /api/orders/{id}` shows it."""
    if order["side"] == "sell":
        return order["maker_eth_address"], order["taker_eth_address"]
    return order["taker_eth_address"], order["maker_eth_address"]


# The deployer pays every test address its USDC: two threads sending from it at once pick
# the same nonce and anvil refuses the second ("replacement transaction underpriced").
_DEPLOYER = threading.Lock()


def fund(chain: Devchain, address: str, *, usdc: int = 0) -> Web3:
    """Let `address` send transactions (impersonated) with ETH and `usdc` base units."""
    web3 = connect(chain.rpc_url, timeout=10)
    checksum = to_checksum_address(address)
    chain.control.call("anvil_impersonateAccount", checksum)
    chain.control.call("anvil_setBalance", checksum, hex(10**24))
    if usdc:
        token = web3.eth.contract(
            address=to_checksum_address(chain.info.usdc_token), abi=TRANSFER_ABI
        )
        rich = to_checksum_address(chain.info.deployer)
        with _DEPLOYER:  # one sender, one nonce at a time (parallel swaps fund together)
            tx = token.functions.transfer(checksum, usdc).transact({"from": rich})
            web3.eth.wait_for_transaction_receipt(tx, timeout=30, poll_latency=0.05)
    return web3


def lock_on_chain(
    chain: Devchain,
    order: dict[str, Any],
    *,
    now: int,
    timelock: int | None = None,
    amount: int | None = None,
    receiver: str | None = None,
    hashlock: str | None = None,
    sender: str | None = None,
    token: str | None = None,
) -> LockMade:
    """B's lock for the order (each term overridable, to make a bad one)."""
    s_address, b_address = parties(order)
    sender = sender or b_address
    usdc = order["pair"] == "RTC/USDC"
    total = int(order["total_quote_base_units"])
    amount = total if amount is None else amount
    web3 = fund(chain, sender, usdc=amount if usdc else 0)
    writer = HtlcWriter(web3, chain.info.htlc_contract, to_checksum_address(sender))
    head = chain.control.head()
    start = max(head.timestamp, now)
    return writer.lock(
        receiver=receiver or s_address,
        hashlock=hashlock or "0x" + order["htlc_hash"],
        timelock=timelock if timelock is not None else start + LOCK_SPAN,
        amount=amount,
        token=token if token is not None else (chain.info.usdc_token if usdc else None),
        order_ref=order["order_id"],
    )


def make_final(chain: Devchain) -> None:
    """Mine the devnet's finality depth on top of the lock's block."""
    chain.control.mine(chain.info.finality_confirmations)


def lock_quote(
    client: BridgeClient, chain: Devchain, order_id: str, *, now: int | None = None
) -> QuoteLockMade:
    """What B does after the match: lock the quote leg, wait for finality, report it."""
    order = client.order(order_id)
    made = lock_on_chain(chain, order, now=now if now is not None else client.now())
    make_final(chain)
    report = client.report_lock(order_id, quote_tx=made.tx.tx_hash)
    return QuoteLockMade(made, report)


def locked(client: BridgeClient, chain: Devchain, order_id: str) -> QuoteLockMade:
    """`lock_quote`, asserting the bridge verified it (the order is `quote_locked`)."""
    done = lock_quote(client, chain, order_id)
    assert done.report.status_code == 200, done.report.text
    assert done.report.json()["order"]["status"] == "quote_locked", done.report.text
    return done


def claim_margin() -> int:
    return DeadlinePolicy().claim_margin
