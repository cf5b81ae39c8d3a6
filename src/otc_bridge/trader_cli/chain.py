"""`otc balance`, `otc lock`, `otc claim`, `otc refund`: the quote chain's side of a swap,
on the HTLC contract the bridge publishes for the order's pair (`GET /api/pairs`)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import typer

from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.domain.htlc_terms import LockState
from otc_bridge.trader_cli.context import (
    DEFAULT_NODE,
    EVM,
    EXIT_UNREACHABLE,
    RTC_KEY,
    Failure,
    Trader,
    answer_of,
    command,
    local,
    refused,
)
from otc_bridge.trader_cli.order_view import (
    buyer_quote_address,
    lock_of,
    role_of,
    seller_quote_address,
)
from otc_bridge.trader_cli.orders import OrderArg, get_order, kept_preimage
from otc_bridge.trader_cli.words import format_units, when

if TYPE_CHECKING:  # the chain's libraries load only for the commands that use them
    from otc_bridge.adapters.evm.results import OnChainLock
    from otc_bridge.clientlib.quote_chain import QuoteChainSettings, QuoteWallet

RpcOpt = Annotated[
    str | None,
    typer.Option(
        "--rpc-url",
        envvar="OTC_RPC_URL",
        help="The quote chain's RPC (default: the one the bridge publishes for the pair).",
        show_default=False,
    ),
]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", help="Seconds to wait for finality and the bridge.")
]
# What `otc lock` adds to the pair's shortest timelock: room for the lock's block to be
# mined later than the head it was computed from.
TIMELOCK_SLACK_SECONDS = 1800


def pair_info(api: BridgeClient, pair: str) -> dict[str, Any]:
    for info in answer_of(api.http.get("/api/pairs"), ok=(200,))["pairs"]:
        if info.get("pair") == pair:
            found: dict[str, Any] = info
            return found
    raise refused(f"the bridge does not list the pair {pair}")


def _wallet(t: Trader, api: BridgeClient, pair: str, rpc_url: str | None) -> QuoteWallet:
    from otc_bridge.clientlib.quote_chain import QuoteChainSettings, QuoteWallet

    settings = QuoteChainSettings.from_pair(pair_info(api, pair), rpc_url)
    wallet = QuoteWallet(settings, t.evm_signer())
    wallet.check_chain()
    return wallet


@command(*RTC_KEY, *EVM)
def balance(
    t: Trader,
    node: Annotated[
        str, typer.Option("--node", envvar="OTC_NODE_URL", help="The RustChain node's URL.")
    ] = DEFAULT_NODE,
    rpc_url: RpcOpt = None,
) -> None:
    """Your RTC on the node, and your ETH and USDC on the quote chain."""
    from otc_bridge.clientlib.quote_chain import QuoteChainSettings, QuoteWallet

    data: dict[str, Any] = {}
    lines = []
    address = t.rtc_address()
    if address:
        with httpx.Client(base_url=node, timeout=10.0) as http:
            got = http.get("/wallet/balance", params={"miner_id": address})
        if got.status_code >= 500:
            raise Failure(EXIT_UNREACHABLE, f"the node answered {got.status_code}: {got.text}")
        if got.status_code != 200:
            raise refused(f"the node refused ({got.status_code}): {got.text.strip()}")
        found = got.json()
        data["rtc"] = {"address": address, "amount_i64": found["amount_i64"]}
        lines.append(f"RTC   {format_units(int(found['amount_i64']), 6)}  ({address})")
    evm = t.evm_address()
    if evm:
        with t.client() as api:
            pairs = answer_of(api.http.get("/api/pairs"), ok=(200,))["pairs"]
        held: dict[str, tuple[int, int]] = {}  # currency -> (base units, decimals)
        for info in pairs:
            usable = info.get("enabled") is not False and info.get("htlc_contract")
            if info.get("chain") != "evm" or not usable:
                continue
            settings = QuoteChainSettings.from_pair(info, rpc_url)
            reader = QuoteWallet(settings, evm)
            held[settings.currency] = (reader.quote_balance(), settings.decimals)
            if "ETH" not in held:  # what gas is paid in, on a token's chain too
                held["ETH"] = (reader.eth_balance(), 18)
        data["quote"] = {"address": evm, **{c: str(a) for c, (a, _) in held.items()}}
        for currency, (amount, decimals) in sorted(held.items()):
            lines.append(f"{currency:5} {format_units(amount, decimals)}  ({evm})")
    if not data:
        raise local("no RTC key and no EVM account: nothing to show (see `otc key new`)")
    t.show(data, *lines)


def _timelock(
    order: dict[str, Any], info: dict[str, Any], settings: QuoteChainSettings, head: int, span: int
) -> int:
    """A timelock inside the pair's window that ends before the RTC escrow's margin."""
    timelock = head + span
    window = info.get("timelock_window") or {}
    margin = int(window.get("settlement_margin_seconds") or 0)
    escrow_end = (order.get("deadlines") or {}).get("escrow_expires_at")
    if escrow_end is not None and timelock > int(escrow_end) - margin:
        timelock = int(escrow_end) - margin
    if timelock - head < settings.timelock_min_seconds + 60:
        raise refused(
            "no timelock fits: the RTC escrow expires too soon after the shortest timelock "
            f"the pair allows ({settings.timelock_min_seconds} s)"
        )
    return timelock


@command(*RTC_KEY, *EVM)
def lock(
    t: Trader,
    order_id: OrderArg,
    timelock_seconds: Annotated[
        int | None,
        typer.Option(
            "--timelock-seconds",
            help="How long after now the lock is refundable (default: the pair's minimum "
            "plus 30 minutes).",
            show_default=False,
        ),
    ] = None,
    timeout: TimeoutOpt = 300.0,
    rpc_url: RpcOpt = None,
) -> None:
    """RTC buyer: lock the order's quote total on the HTLC (approving USDC first if
    needed), wait for finality, and report the lock to the bridge."""
    with t.client() as api:
        order = get_order(api, order_id)
        if order["status"] != "matched":
            raise refused(f"{order_id} is {order['status']}: only a matched order is locked")
        info = pair_info(api, order["pair"])
        wallet = _wallet(t, api, order["pair"], rpc_url)
        sender, receiver = buyer_quote_address(order), seller_quote_address(order)
        if not receiver or not sender:
            raise refused(f"{order_id} names no quote address for both parties")
        if sender.lower() != wallet.address.lower():
            raise refused(
                f"the lock must come from {sender} (the buyer's quote address on the "
                f"order); your EVM account is {wallet.address}"
            )
        amount = int(order["total_quote_base_units"])
        settings = wallet.settings
        if wallet.quote_balance() < amount:
            raise refused(
                f"your {settings.currency} balance "
                f"{format_units(wallet.quote_balance(), settings.decimals)} is below the "
                f"order's total {format_units(amount, settings.decimals)}"
            )
        head = wallet.head_time()
        deadline = (order.get("deadlines") or {}).get("match_deadline")
        if deadline is not None and head >= int(deadline):
            raise refused(f"the lock window closed at {when(int(deadline))}; do not lock now")
        span = timelock_seconds or min(
            settings.timelock_min_seconds + TIMELOCK_SLACK_SECONDS,
            settings.timelock_max_seconds - 60,
        )
        timelock = _timelock(order, info, settings, head, span)
        made = wallet.lock(
            receiver=receiver,
            hashlock="0x" + str(order["htlc_hash"]).removeprefix("0x"),
            timelock=timelock,
            amount=amount,
            order_ref=order_id,
        )
        record = {
            "lock_id": made.lock_id,
            "tx_hash": made.tx.tx_hash,
            "timelock": timelock,
            "amount": str(made.amount),
            "pair": order["pair"],
            "chain_id": settings.chain_id,
            "htlc_contract": settings.htlc_contract,
        }
        t.locks.record(order_id, record)  # a refund needs it even if the bridge never counts it
        if not t.as_json:
            typer.echo(f"locked in {made.tx.tx_hash} (lock {made.lock_id}); waiting for finality")
        started = time.monotonic()
        wallet.wait_final(made.tx.tx_hash, timeout=timeout)
        reported = _report(api, order_id, made.tx.tx_hash, timeout - (time.monotonic() - started))
    t.show(
        {**record, "order": reported},
        f"the bridge counted the lock: {order_id} is {reported['status']}",
        f"refundable by you from {when(timelock)} if the seller never reveals",
    )


def _report(api: BridgeClient, order_id: str, tx_hash: str, timeout: float) -> dict[str, Any]:
    """POST the lock; retried while the bridge says not final yet or chain unreachable."""
    deadline = time.monotonic() + max(timeout, 5.0)
    while True:
        response = api.report_lock(order_id, quote_tx=tx_hash)
        retry = response.status_code in (409, 503) and _code(response) in (
            "not_final",
            "chain_unreachable",
        )
        if not retry or time.monotonic() > deadline:
            body = answer_of(response, ok=(200,))
            found: dict[str, Any] = body.get("order", body)
            return found
        time.sleep(min(float(response.headers.get("Retry-After", "1")), 2.0))


def _code(response: httpx.Response) -> str | None:
    try:
        return str(response.json().get("error"))
    except (ValueError, AttributeError):
        return None


def _lock_id(t: Trader, order: dict[str, Any]) -> str:
    lock = lock_of(order)
    if lock:
        return str(lock["lock_id"])
    kept = t.locks.find(order["order_id"])
    if kept:
        return str(kept["lock_id"])
    raise refused(f"{order['order_id']} has no quote lock the bridge or this machine knows")


def _state(found: OnChainLock) -> str:
    return found.state.name.lower()


def _order_and_wallet(
    t: Trader, order_id: str, rpc_url: str | None
) -> tuple[dict[str, Any], QuoteWallet]:
    with t.client() as api:
        order = get_order(api, order_id)
        wallet = _wallet(t, api, order["pair"], rpc_url)
    return order, wallet


def _show_moved(
    t: Trader, verb: str, wallet: QuoteWallet, lock_id: str, found: OnChainLock, tx: str
) -> None:
    """What a claim or a refund moved, and in which transaction."""
    t.show(
        {"lock_id": lock_id, "tx_hash": tx, "amount": str(found.amount)},
        f"{verb} {format_units(found.amount, wallet.settings.decimals)} "
        f"{wallet.settings.currency} in {tx} (lock {lock_id})",
    )


@command(*RTC_KEY, *EVM)
def claim(t: Trader, order_id: OrderArg, rpc_url: RpcOpt = None) -> None:
    """RTC seller: claim the locked quote on-chain with your kept preimage (before the
    timelock). This also reveals the preimage, so the bridge pays the buyer the RTC."""
    order, wallet = _order_and_wallet(t, order_id, rpc_url)
    kept = kept_preimage(t, order)
    lock_id = _lock_id(t, order)
    found = wallet.lock_state(lock_id)
    if found.state is LockState.CLAIMED:
        t.show({"lock_id": lock_id, "state": "claimed"}, f"lock {lock_id} is already claimed")
        return
    if found.state is not LockState.LOCKED:
        raise refused(f"lock {lock_id} is {_state(found)}: there is nothing to claim")
    if wallet.head_time() >= found.timelock:
        raise refused(f"the timelock passed at {when(found.timelock)}: it can no longer be claimed")
    outcome = wallet.claim(lock_id, "0x" + kept.preimage)
    _show_moved(t, "claimed", wallet, lock_id, found, outcome.tx_hash)


@command(*RTC_KEY, *EVM)
def refund(t: Trader, order_id: OrderArg, rpc_url: RpcOpt = None) -> None:
    """RTC buyer: take your quote lock back once its timelock has passed unclaimed."""
    order, wallet = _order_and_wallet(t, order_id, rpc_url)
    lock_id = _lock_id(t, order)
    found = wallet.lock_state(lock_id)
    if found.state is not LockState.LOCKED:
        raise refused(f"lock {lock_id} is {_state(found)}: there is nothing to refund")
    now = wallet.head_time()
    if now < found.timelock:
        raise refused(f"the timelock has not passed: refundable from {when(found.timelock, now)}")
    outcome = wallet.refund(lock_id)
    _show_moved(t, "refunded", wallet, lock_id, found, outcome.tx_hash)


__all__ = ["balance", "claim", "lock", "refund", "role_of"]
