"""`otc order sell|buy|match|cancel|show`, `otc confirm` and `otc watch`: the order book
side of a swap, signed with the trader's RTC key."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import httpx
import typer

from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.clientlib.sse import Comment, ServerEvent
from otc_bridge.clientlib.trader_state import KeptSecret
from otc_bridge.trader_cli.context import (
    EVM,
    RTC_KEY,
    QuietOpt,
    Trader,
    answer_of,
    command,
    local,
    refused,
)
from otc_bridge.trader_cli.keys import PREIMAGE_BACKUP
from otc_bridge.trader_cli.order_view import (
    TERMINAL,
    action_line,
    describe,
    lock_of,
    role_of,
)
from otc_bridge.trader_cli.words import when

order_app = typer.Typer(no_args_is_help=True, help="Make, take, cancel and read orders.")

OrderArg = Annotated[str, typer.Argument(help="The order id (otc_…).")]
AmountArg = Annotated[str, typer.Argument(help="RTC amount, e.g. 10 or 2.5.")]
PriceArg = Annotated[str, typer.Argument(help="Price per RTC in the quote currency.")]
PairOpt = Annotated[str, typer.Option("--pair", help="RTC/ETH, RTC/USDC or RTC/ERG.")]
TtlOpt = Annotated[
    int | None,
    typer.Option(
        "--ttl", help="Seconds the order stays open (default 7 days).", show_default=False
    ),
]
QuoteAddressOpt = Annotated[
    str | None,
    typer.Option(
        "--eth-address",
        help="Your quote-chain address (default: your EVM account's).",
        show_default=False,
    ),
]


def get_order(api: BridgeClient, order_id: str) -> dict[str, Any]:
    found: dict[str, Any] = answer_of(api.http.get(f"/api/orders/{order_id}"), ok=(200,))["order"]
    return found


def _quote_address(t: Trader, given: str | None, why: str) -> str:
    address = given or t.evm_address()
    if not address:
        raise local(
            f"{why}: give --eth-address, or set up an EVM account "
            "(`otc evm-key new`, or --evm-account on a devnet)"
        )
    return address


def _place(
    t: Trader,
    side: str,
    terms: tuple[str, str, str, int | None],
    address: str | None,
    quiet: bool,
) -> None:
    amount, price, pair, ttl = terms
    wallet = t.wallet()
    if side == "sell":
        quote = _quote_address(t, address, "a sell order needs the address the buyer's lock pays")
        kept = t.secrets.new()  # on disk before its hashlock leaves this machine
        hashlock: str | None = kept.hashlock
    else:
        quote = _quote_address(t, address, "a buy order needs the address you lock from")
        hashlock = None
    with t.client() as api:
        body = answer_of(
            api.create_order(
                wallet,
                side=side,
                amount_rtc=amount,
                price_per_rtc=price,
                pair=pair,
                ttl_seconds=ttl,
                eth_address=quote,
                htlc_hash=hashlock,
            ),
            ok=(201,),
        )
        now = api.now()
    if hashlock:
        t.secrets.attach(hashlock, body["order_id"])
    lines = [
        f"order {body['order_id']} ({side} {body['amount_rtc']} RTC at {body['price_per_rtc']} "
        f"{body['quote_currency']}, {pair}): {body['status']}",
        str(body.get("message", "")),
        f"expires {when(body['expires_at'], now)}",
    ]
    if quiet and not t.as_json:
        typer.echo(body["order_id"])
    else:
        t.show(body, *lines)
    if hashlock:
        t.warn(PREIMAGE_BACKUP.format(path=t.secrets.path))


def _place_command(side: str, doc: str) -> Callable[..., None]:
    """`otc order sell` and `otc order buy`: the same terms, one side each."""

    def place(
        t: Trader,
        amount: AmountArg,
        price: PriceArg,
        pair: PairOpt = "RTC/USDC",
        ttl: TtlOpt = None,
        eth_address: QuoteAddressOpt = None,
        quiet: QuietOpt = False,
    ) -> None:
        _place(t, side, (amount, price, pair, ttl), eth_address, quiet)

    place.__doc__ = doc
    return command(*RTC_KEY, *EVM)(place)


order_app.command("sell")(
    _place_command(
        "sell", "Sell RTC: your RTC goes into escrow on the node; a new preimage is kept for you."
    )
)
order_app.command("buy")(
    _place_command(
        "buy", "Buy RTC: a seller who takes the order escrows the RTC; you then lock the quote."
    )
)


@order_app.command("match")
@command(*RTC_KEY, *EVM)
def order_match(t: Trader, order_id: OrderArg, eth_address: QuoteAddressOpt = None) -> None:
    """Take an open order: of a sell order you become the RTC buyer (you lock the quote),
    of a buy order the RTC seller (your RTC is escrowed, a new preimage kept for you)."""
    wallet = t.wallet()
    with t.client() as api:
        order = get_order(api, order_id)
        hashlock: str | None = None
        if order["side"] == "sell":
            quote = _quote_address(t, eth_address, "the lock you make must come from it")
        else:
            quote = _quote_address(t, eth_address, "the buyer's lock must pay it")
            hashlock = t.secrets.new().hashlock
        reply = answer_of(
            api.match(wallet, order_id, eth_address=quote, htlc_hash=hashlock), ok=(200,)
        )
        now = api.now()
    if hashlock:
        t.secrets.attach(hashlock, order_id)
        t.warn(PREIMAGE_BACKUP.format(path=t.secrets.path))
    deadline = (reply.get("deadlines") or {}).get("match_deadline")
    you_lock = order["side"] == "sell"
    t.show(
        reply,
        f"matched {order_id}: {reply['status']}",
        f"the buyer locks {reply['total_quote']} {order.get('quote_currency', '')} by "
        f"{when(deadline, now)}",
        f"next: otc lock {order_id}" if you_lock else f"next: otc watch {order_id}",
    )


@order_app.command("cancel")
@command(*RTC_KEY)
def order_cancel(t: Trader, order_id: OrderArg) -> None:
    """Cancel your open order (its RTC escrow, if any, is refunded)."""
    wallet = t.wallet()
    with t.client() as api:
        reply = answer_of(api.cancel(wallet, order_id), ok=(200,))
    t.show(reply, f"{order_id}: {reply['status']}", str(reply.get("message", "")))


@order_app.command("show")
@command(*RTC_KEY)
def order_show(t: Trader, order_id: OrderArg) -> None:
    """The order, its deadlines and your next action."""
    with t.client() as api:
        order = get_order(api, order_id)
        now = api.now()
    t.show(order, *describe(order, role_of(order, t.rtc_address()), now))


@command(*RTC_KEY)
def confirm(t: Trader, order_id: OrderArg) -> None:
    """RTC seller: reveal your kept preimage to the bridge; the escrowed RTC goes to the
    buyer. Then claim the quote on-chain (`otc claim`)."""
    address = t.rtc_address() or t.wallet().address
    with t.client() as api:
        order = get_order(api, order_id)
        if role_of(order, address) != "rtc_seller":
            raise refused(f"you ({address}) are not the RTC seller of {order_id}")
        kept = kept_preimage(t, order)
        lock = lock_of(order) or {}
        reply = answer_of(
            api.confirm(
                order_id,
                wallet=address,
                secret=kept.preimage,
                quote_tx=str(lock.get("tx_hash") or ""),
            ),
            ok=(200,),
        )
    t.show(
        reply,
        f"{order_id}: {reply['status']}",
        str(reply.get("message", "")),
        f"next: otc claim {order_id} (claim the locked quote on-chain before the timelock)",
    )


def kept_preimage(t: Trader, order: dict[str, Any]) -> KeptSecret:
    """The preimage this machine keeps for the order's hashlock (confirm and claim)."""
    kept = t.secrets.find(str(order.get("htlc_hash") or ""))
    if kept is None:
        raise local(f"no kept preimage for hashlock {order.get('htlc_hash')} in {t.secrets.path}")
    return kept


@command(*RTC_KEY)
def watch(t: Trader, order_id: OrderArg) -> None:
    """Follow the order: print each status change and your next action; exit once it ends
    (completed, cancelled or expired)."""
    _watch(t, order_id)


def _emit(t: Trader, data: dict[str, Any], *lines: str) -> None:
    if t.as_json:
        typer.echo(json.dumps(data, sort_keys=True, default=str))  # one JSON object a line
    else:
        for line in lines:
            typer.echo(line)


def _watch(t: Trader, order_id: str) -> None:
    with t.client() as api:
        order = get_order(api, order_id)
        role = role_of(order, t.rtc_address())
        _emit(
            t,
            {"order_id": order_id, "status": order["status"], **_actions(order)},
            *describe(order, role, api.now()),
        )
        shown = _mine(order, role)
        if order["status"] not in TERMINAL:
            listed = answer_of(api.http.get(f"/api/orders/{order_id}/events"), ok=(200,))
            last = str(listed["events"][-1]["seq"]) if listed["events"] else None
            for item in _events(api, order_id, last):
                order = get_order(api, order_id)
                now = api.now()
                if isinstance(item, ServerEvent):
                    change = item.json()
                    _emit(
                        t,
                        {**change, "order_id": order_id, **_actions(order)},
                        f"{when(change['at'])}  {change['from']} → {change['to']} "
                        f"({change['cause']})",
                        *(f"  {line}" for line in action_line(order, role, now)),
                    )
                elif _mine(order, role) != shown:
                    # No status change, but a deadline passed (a timelock, the claim
                    # deadline): the next action is another one now.
                    _emit(
                        t,
                        {"order_id": order_id, "status": order["status"], **_actions(order)},
                        *(f"{when(now)}  {line}" for line in action_line(order, role, now)),
                    )
                shown = _mine(order, role)
            order = get_order(api, order_id)
    _emit(
        t, {"order_id": order_id, "final": order["status"]}, f"{order_id} ended: {order['status']}"
    )


def _actions(order: dict[str, Any]) -> dict[str, Any]:
    return {"next_actions": order.get("next_actions")}


def _mine(order: dict[str, Any], role: str | None) -> list[Any]:
    """The codes of the next actions `watch` shows (yours, or both parties')."""
    actions = order.get("next_actions") or {}
    roles = [role] if role else ["rtc_seller", "rtc_buyer"]
    return [(actions.get(r) or {}).get("code") for r in roles]


def _events(api: BridgeClient, order_id: str, last: str | None) -> Iterator[ServerEvent | Comment]:
    """The order's events after `last` as they happen, and the stream's keep-alives (a
    moment to look at the clock), until the stream's `end`; a stream that drops is
    resumed from the last id seen (each event comes once)."""
    while True:
        try:
            with api.order_stream(order_id, last_event_id=last, read_timeout=60.0) as stream:
                if stream.status_code == 204:  # the terminal event was already seen
                    return
                if stream.status_code != 200:
                    stream.response.read()
                    answer_of(stream.response, ok=(200,))
                for item in stream:
                    if isinstance(item, Comment):
                        yield item
                        continue
                    last = item.id or last
                    if item.event == "end":
                        return
                    if item.event == "order_event":
                        yield item
        except (httpx.ReadTimeout, httpx.RemoteProtocolError):
            continue  # resume from `last`
