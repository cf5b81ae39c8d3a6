"""Shared setup of the service-layer benchmarks (`reconcile_pass`, `settlement_throughput`,
`lock_verify`): an in-process bridge served by uvicorn in a thread, a container whose
node client counts every HTTP exchange, and matched sell orders made through the same
`Exchange` the HTTP routes call (real signatures, real node calls)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from otc_bridge.adapters.node import NodeClient
from otc_bridge.adapters.node.transport import CallRecord
from otc_bridge.api import commands
from otc_bridge.api.app import create_app
from otc_bridge.bootstrap import Container, build
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.config import Settings
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.process import free_port
from otc_bridge.domain.deadlines import ORDER_TTL_DEFAULT
from otc_bridge.domain.money import format_units, parse_decimal, to_units
from otc_bridge.domain.rustchain import job_escrow_i64

AMOUNT = "2.01"  # an awkward amount on purpose (the node's float rounding)
PRICE = "0.1"
# The settlement benches measure the RTC side: they trade RTC/ERG under its documented
# `unverified` policy (confirm straight from `matched`), with no quote chain to drive.
PAIR = "RTC/ERG"
QUOTE_POLICY = {"OTC_RTC_ERG_QUOTE_POLICY": "unverified"}
SELLER_ETH = "9fRAWhdxEsTcdb8PhGNrZfwqa65zfkuYHAMmkQLcic1gdLSV5vA"
BUYER_ETH = "9gXPZWxZyZXgEhzP1ajPxvsHWQpCoqYVsLqMSeTN4nLeqXSq6TG"


class CallCounter:
    """The node client's observer: one record per HTTP exchange with the node."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.routes: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()

    def __call__(self, record: CallRecord) -> None:
        with self._lock:
            self.routes[f"{record.method} {record.route}"] += 1
            self.outcomes[record.outcome] += 1

    def reset(self) -> None:
        with self._lock:
            self.routes.clear()
            self.outcomes.clear()

    @property
    def total(self) -> int:
        return sum(self.routes.values())


def observed_container(settings: Settings, counter: CallCounter) -> Container:
    """The bridge's own wiring, with a node client that reports every exchange."""
    container = build(settings)
    container.node.close()
    node = NodeClient(settings.node, observer=counter, clock=container.clock.now)
    container.node = node
    container.settlement.kit.node = node
    container.exchange.node = node
    container.operators.node = node
    return container


@dataclass(frozen=True)
class Matched:
    order_id: str
    seller: Wallet
    buyer: Wallet
    secret: Secret


def matched_order(container: Container, control: DevnetControl, index: int) -> Matched:
    """A funded seller creates a sell order (escrow locked on the node), a fresh buyer
    matches it: through the service layer."""
    exchange, now = container.exchange, container.clock.now
    seller, buyer, secret = Wallet(), Wallet(), Secret()
    micro = to_units(parse_decimal(AMOUNT), 6)
    control.faucet(seller.address, format_units(job_escrow_i64(micro), 6))
    bound: dict[str, object] = {
        "side": "sell",
        "pair": PAIR,
        "amount_micro_rtc": micro,
        "price_per_rtc_nano_quote": to_units(parse_decimal(PRICE), 9),
        "ttl_seconds": ORDER_TTL_DEFAULT,
        "eth_address": SELLER_ETH,
        "htlc_hash": secret.hash,
    }
    created = exchange.create(
        commands.create_order(
            {
                "side": "sell",
                "pair": PAIR,
                "wallet": seller.address,
                "amount_rtc": AMOUNT,
                "price_per_rtc": PRICE,
                "eth_address": SELLER_ETH,
                "htlc_hash": secret.hash,
                "wallet_auth": seller.wallet_auth(
                    "create_order", "create_order", bound, timestamp=now()
                ),
            }
        )
    )
    order_id = created.order.order_id
    matched = exchange.match(
        commands.match_order(
            order_id,
            {
                "wallet": buyer.address,
                "eth_address": BUYER_ETH,
                "wallet_auth": buyer.wallet_auth(
                    "match_order", order_id, {"eth_address": BUYER_ETH}, timestamp=now()
                ),
            },
        )
    )
    assert matched.order.status.value == "matched", (index, matched.order)
    return Matched(order_id, seller, buyer, secret)


SERVER_THREAD = "bridge-bench"  # the thread running uvicorn's event loop


@contextmanager
def thread_server(container: Container) -> Iterator[str]:
    """The bridge app under uvicorn in a thread of this process (named SERVER_THREAD)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(container, start_worker=False),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,  # `otc-bridge serve`'s default (OTC_ACCESS_LOG unset)
            lifespan="off",  # the container is closed by the caller
            proxy_headers=False,  # as `otc-bridge serve`: client IPs are the bridge's call
        )
    )
    thread = threading.Thread(target=server.run, name=SERVER_THREAD, daemon=True)
    thread.start()
    ready = threading.Event()
    while not server.started and thread.is_alive():
        ready.wait(0.01)  # waiting for the port to open, not synchronisation
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
