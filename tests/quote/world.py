"""The quote leg's test world: a real anvil (`Devchain`), a devnode whose clock moves the
chain's, and a bridge configured for the chain exactly as `make run` configures it.

    trader = ChainTrader.fresh(chain, eth=10**18, usdc=5_000_000)   # a new key, funded
    trade = Trade.open(bridge, devnet, chain, side="sell", pair="RTC/ETH")  # matched
    made = trade.lock()                                               # B locks on the HTLC
    trade.report(made)                                                # 409 not_final
    chain.control.mine(1); trade.report(made)                         # 200 quote_locked

Every chain account a test uses is a fresh local key (funded by `anvil_setBalance` and a
USDC mint), so its balance before a test is known exactly and every wei it spends on gas
is in the receipts of the transactions it signed (`ChainTrader.gas_spent`). Every RTC
wallet is fresh too, so node balances are exact as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import Web3

from otc_bridge.adapters.evm.compiled import DEV_USDC, load_artifact
from otc_bridge.adapters.evm.rpc import connect
from otc_bridge.adapters.evm.writer import HtlcWriter, LockMade, TxOutcome
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.handoff import bridge_chain_environment
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from otc_bridge.domain.deadlines import DeadlinePolicy
from otc_bridge.domain.htlc_terms import ZERO_ADDRESS
from otc_bridge.domain.rustchain import FEE_WALLET, WORKER_WALLET
from tests.support.bridge import RunningBridge, bridge_env

POLICY = DeadlinePolicy()  # the bridge's defaults: the tests leave them as they are
HOUR = 3600
DAY = 86400
FUNDS_RTC = "100"
FUNDS_I64 = 100_000_000
AMOUNT_RTC = "10"
AMOUNT_I64 = 10_000_000
# 10 RTC at these prices: 0.01 ETH (10**16 wei) and 1 USDC (1,000,000 base units).
PRICES = {"RTC/ETH": "0.001", "RTC/USDC": "0.1"}
TOTALS = {"RTC/ETH": 10**16, "RTC/USDC": 1_000_000}
ETH_FUNDS = 10**18  # each fresh chain account: 1 ETH for gas and locks
USDC_FUNDS = 50_000_000  # and 50 USDC
LOCK_SPAN = 6 * HOUR  # a good lock's timelock: this long after the chain's head


def quote_bridge_env(node: DevnodeProcess, state: Path, chain: Devchain) -> dict[str, str]:
    """The test bridge's settings with the dev chain's, as `make run` hands them over.
    No quote policy is set: EVM pairs are verified on the chain, never taken on trust."""
    env = bridge_env(node, state)
    env.pop("OTC_QUOTE_VERIFICATION", None)
    env.update(bridge_chain_environment(chain.info, chain.rpc_url))
    return env


def chain_web3(chain: Devchain) -> Web3:
    return connect(chain.rpc_url, timeout=30.0)


def usdc_contract(web3: Web3, chain: Devchain) -> Any:
    return web3.eth.contract(
        address=to_checksum_address(chain.info.usdc_token), abi=load_artifact(DEV_USDC).abi
    )


@dataclass
class ChainTrader:
    """A fresh key on the dev chain, with exact balances and every transaction it sent."""

    chain: Devchain
    account: LocalAccount
    web3: Web3
    writer: HtlcWriter
    sent: list[TxOutcome] = field(default_factory=list)

    @classmethod
    def fresh(cls, chain: Devchain, *, eth: int = ETH_FUNDS, usdc: int = USDC_FUNDS) -> ChainTrader:
        account: LocalAccount = Account.create()
        web3 = chain_web3(chain)
        chain.control.call("anvil_setBalance", account.address, hex(eth))
        if usdc:
            mint = usdc_contract(web3, chain).functions.mint(account.address, usdc)
            tx = mint.transact({"from": to_checksum_address(chain.info.deployer)})
            web3.eth.wait_for_transaction_receipt(tx, timeout=30, poll_latency=0.05)
        writer = HtlcWriter(web3, chain.info.htlc_contract, account)
        return cls(chain, account, web3, writer)

    @property
    def address(self) -> str:
        return str(self.account.address)

    # ------------------------------------------------------------------ balances

    def eth(self) -> int:
        return int(self.web3.eth.get_balance(self.account.address))

    def usdc(self) -> int:
        return int(usdc_contract(self.web3, self.chain).functions.balanceOf(self.address).call())

    def balance(self, pair: str) -> int:
        return self.eth() if pair == "RTC/ETH" else self.usdc()

    def gas_spent(self) -> int:
        """Wei paid for every transaction this trader sent, from their receipts."""
        total = 0
        for outcome in self.sent:
            receipt = self.web3.eth.get_transaction_receipt(outcome.tx_hash)  # type: ignore[arg-type]
            total += int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])
        return total

    # ------------------------------------------------------------------ HTLC calls

    def lock(
        self,
        *,
        receiver: str,
        hashlock: str,
        timelock: int,
        amount: int,
        token: str | None,
        order_ref: str = "",
    ) -> LockMade:
        if token is not None and token != ZERO_ADDRESS:
            # Approve explicitly, so the approval's gas is in `sent` too.
            self.sent.append(self.writer.approve(token, amount))
        made = self.writer.lock(
            receiver=receiver,
            hashlock="0x" + hashlock.removeprefix("0x"),
            timelock=timelock,
            amount=amount,
            token=token,
            order_ref=order_ref,
        )
        self.sent.append(made.tx)
        return made

    def claim(self, lock_id: str, preimage_hex: str) -> TxOutcome:
        outcome = self.writer.claim(lock_id, "0x" + preimage_hex.removeprefix("0x"))
        self.sent.append(outcome)
        return outcome

    def refund(self, lock_id: str) -> TxOutcome:
        outcome = self.writer.refund(lock_id)
        self.sent.append(outcome)
        return outcome


def token_of(chain: Devchain, pair: str) -> str | None:
    """The token a pair's lock holds: None for ETH (the contract's zero address)."""
    return None if pair == "RTC/ETH" else chain.info.usdc_token


def chain_now(chain: Devchain) -> int:
    return chain.control.head().timestamp


@dataclass
class NodeBalances:
    """The RTC side of a trade, to the µRTC."""

    seller: int
    buyer: int
    fee: int
    worker: int

    @classmethod
    def read(cls, devnet: DevnetControl, seller: Wallet, buyer: Wallet) -> NodeBalances:
        balances: dict[str, int] = devnet.ledger()["balances"]
        return cls(
            balances.get(seller.address, 0),
            balances.get(buyer.address, 0),
            balances.get(FEE_WALLET, 0),
            balances.get(WORKER_WALLET, 0),
        )


@dataclass
class Trade:
    """One order between a fresh RTC seller S and a fresh RTC buyer B, each with a fresh
    key on the dev chain; `open` leaves it `matched` (B's lock is next)."""

    bridge: RunningBridge
    devnet: DevnetControl
    chain: Devchain
    side: str  # the maker's side: "sell" (S makes) or "buy" (B makes)
    pair: str
    seller: Wallet
    buyer: Wallet
    s_chain: ChainTrader
    b_chain: ChainTrader
    secret: Secret
    order_id: str = ""
    ttl_seconds: int | None = None
    made: LockMade | None = None  # B's latest lock

    @classmethod
    def new(
        cls,
        bridge: RunningBridge,
        devnet: DevnetControl,
        chain: Devchain,
        *,
        side: str = "sell",
        pair: str = "RTC/ETH",
        secret: Secret | None = None,
        s_chain: ChainTrader | None = None,
        b_chain: ChainTrader | None = None,
        ttl_seconds: int | None = None,
    ) -> Trade:
        seller, buyer = Wallet(), Wallet()
        devnet.faucet(seller.address, FUNDS_RTC)
        return cls(
            bridge,
            devnet,
            chain,
            side,
            pair,
            seller,
            buyer,
            s_chain or ChainTrader.fresh(chain),
            b_chain or ChainTrader.fresh(chain),
            secret or Secret(),
            ttl_seconds=ttl_seconds,
        )

    @classmethod
    def open(
        cls,
        bridge: RunningBridge,
        devnet: DevnetControl,
        chain: Devchain,
        *,
        side: str = "sell",
        pair: str = "RTC/ETH",
        **kwargs: Any,
    ) -> Trade:
        trade = cls.new(bridge, devnet, chain, side=side, pair=pair, **kwargs)
        trade.create()
        trade.match()
        return trade

    # ------------------------------------------------------------------ the book

    @property
    def client(self) -> Any:
        return self.bridge.client

    @property
    def total(self) -> int:
        return TOTALS[self.pair]

    def create(self) -> dict[str, Any]:
        sell = self.side == "sell"
        created = self.client.create_order(
            self.seller if sell else self.buyer,
            side=self.side,
            amount_rtc=AMOUNT_RTC,
            price_per_rtc=PRICES[self.pair],
            pair=self.pair,
            eth_address=self.s_chain.address if sell else self.b_chain.address,
            htlc_hash=self.secret.hash if sell else None,
            ttl_seconds=self.ttl_seconds,
        )
        assert created.status_code == 201, created.text
        body: dict[str, Any] = created.json()
        self.order_id = body["order_id"]
        return body

    def match(self) -> dict[str, Any]:
        sell = self.side == "sell"
        matched = self.client.match(
            self.buyer if sell else self.seller,
            self.order_id,
            eth_address=self.b_chain.address if sell else self.s_chain.address,
            htlc_hash=None if sell else self.secret.hash,
        )
        assert matched.status_code == 200, matched.text
        order = self.order()
        assert order["status"] == "matched", order
        assert order["total_quote_base_units"] == str(self.total)
        return order

    def order(self) -> dict[str, Any]:
        order: dict[str, Any] = self.client.order(self.order_id)
        return order

    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.client.events(self.order_id)
        return events

    def node(self) -> NodeBalances:
        return NodeBalances.read(self.devnet, self.seller, self.buyer)

    # ------------------------------------------------------------------ the quote leg

    def lock(self, **overrides: Any) -> LockMade:
        """B's lock with the order's terms (each may be overridden)."""
        terms: dict[str, Any] = {
            "receiver": self.s_chain.address,
            "hashlock": self.secret.hash,
            "timelock": chain_now(self.chain) + LOCK_SPAN,
            "amount": self.total,
            "token": token_of(self.chain, self.pair),
            "order_ref": self.order_id,
        }
        by = overrides.pop("by", self.b_chain)
        terms.update(overrides)
        made: LockMade = by.lock(**terms)
        self.made = made
        return made

    def report(self, made: LockMade | None = None, **body: str) -> httpx.Response:
        """POST /api/orders/{id}/lock with the lock's transaction, or with `body` as given
        (`quote_tx=` or `lock_id=`)."""
        sent: Mapping[str, str] = body or {"quote_tx": made.tx.tx_hash if made else ""}
        response: httpx.Response = self.client.http.post(
            f"/api/orders/{self.order_id}/lock", json=dict(sent)
        )
        return response

    def lock_verified(self, **overrides: Any) -> LockMade:
        """B locks, the lock's block becomes final, B reports it: `quote_locked`."""
        made = self.lock(**overrides)
        self.chain.control.mine(self.chain.info.finality_confirmations - 1)
        answer = self.report(made)
        assert answer.status_code == 200, answer.text
        assert self.order()["status"] == "quote_locked"
        return made

    def confirm(self) -> httpx.Response:
        response: httpx.Response = self.client.confirm(
            self.order_id,
            wallet=self.seller.address,
            secret=self.secret.hex,
            quote_tx=self.made.tx.tx_hash if self.made else "0x" + "00" * 32,
        )
        return response

    def cancel(self) -> httpx.Response:
        maker = self.seller if self.side == "sell" else self.buyer
        response: httpx.Response = self.client.cancel(maker, self.order_id)
        return response

    # ------------------------------------------------------------------ time

    def advance_to(self, at: int) -> None:
        """Move the one devnet clock (node, bridge and chain) to `at` or just past it."""
        step = at - self.devnet.now()
        if step > 0:
            self.devnet.advance_clock(step)

    def settle_payout(self) -> None:
        """The node's confirmation delay passes (its scheduler ticks), then a reconcile
        pass: the worker sees the payout confirmed."""
        delay = int(self.devnet.scheduler()["confirmation_delay_seconds"])
        self.devnet.advance_clock(delay + 1)
        self.devnet.tick()
        self.bridge.run_worker()


def run_until(trade: Trade, statuses: set[str], *, passes: int = 8) -> dict[str, Any]:
    """Let time and the reconciler carry the order on: advance the one clock to the
    order's `next_action_at`, tick the node's scheduler, run one reconcile pass; until
    the order reaches one of `statuses` (at most `passes` rounds: a bound, not a timeout)."""
    order = trade.order()
    for _ in range(passes):
        if order["status"] in statuses:
            return order
        if order["status"] == "payout_pending":
            trade.settle_payout()
            order = trade.order()
            continue
        due = order["deadlines"]["next_action_at"]
        if due is not None:
            trade.advance_to(due + 1)
        trade.devnet.tick()
        trade.bridge.run_worker()
        order = trade.order()
    assert order["status"] in statuses, (
        f"{trade.order_id} is {order['status']} after {passes} passes: "
        f"{[(e['to'], e['cause']) for e in trade.events()]}"
    )
    return order


@dataclass(frozen=True)
class Snapshot:
    """What a refusal must leave as it was: the order (status, version, history) and
    both parties' RTC on the node."""

    status: str
    version: int
    events: int
    node: NodeBalances

    @classmethod
    def take(cls, trade: Trade) -> Snapshot:
        order = trade.order()
        return cls(order["status"], order["version"], len(trade.events()), trade.node())
