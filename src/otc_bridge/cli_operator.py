"""The operator's commands: `orders list|explain|resolve`, `alerts list`, `reconcile`.

They read the bridge's database and (some) its node, so before anything else they check
that the settings name both: a database that does not exist is refused, never created
(it would report a false all-clear), and a command that talks to the node needs
RUSTCHAIN_NODE (nothing of ours reaches a node nobody named). They never make a secret
key of their own. Each says what happened in words; `--json` gives scripts the data.

Exit codes: 0 done; 1 done, but some orders failed (reconcile); 2 refused (settings, or
the request itself, with the reason on stderr); 3 reconcile made no pass, or stopped,
because another process holds the reconciler lease.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from otc_bridge.bootstrap import Container
    from otc_bridge.config import Settings

orders_app = typer.Typer(no_args_is_help=True, help="Look at and resolve orders.")
alerts_app = typer.Typer(no_args_is_help=True, help="The alert outbox.")
webhooks_app = typer.Typer(no_args_is_help=True, help="Trader webhooks and their deliveries.")
JSON_HELP = "Machine-readable output (JSON on stdout)."
DEVNET_HINT = (
    'For the devnet `make run` started: eval "$(otc-bridge devnet env)" (DEVNET_DIR names '
    "its state folder, default .devnet)."
)
EXIT_REFUSED, EXIT_NO_PASS = 2, 3


def fail(*lines: str) -> typer.Exit:
    typer.echo(f"otc-bridge: {lines[0]}", err=True)
    for line in lines[1:]:
        typer.echo(f"  {line}", err=True)
    return typer.Exit(EXIT_REFUSED)


def database_source() -> str:
    url, path = os.environ.get("OTC_DATABASE_URL", ""), os.environ.get("OTC_DB_PATH", "")
    if url.strip():
        return "It is OTC_DATABASE_URL's (which wins over OTC_DB_PATH)."
    if path.strip():
        return "It is OTC_DB_PATH's (OTC_DATABASE_URL is not set)."
    return (
        "Neither OTC_DATABASE_URL nor OTC_DB_PATH is set, so it is the default "
        "otc_bridge.db in the current folder."
    )


def operator_container(*, node: bool) -> Container:
    """The bridge's object graph for an operator command, once its settings name an
    existing bridge database (and a node, when the command talks to one)."""
    from otc_bridge.adapters.store.presence import database_problem
    from otc_bridge.bootstrap import build
    from otc_bridge.config import Settings

    settings = Settings.from_env()
    problem = database_problem(settings.database_url)
    if problem is not None:
        raise fail(
            f"no bridge database: {problem}.",
            database_source(),
            DEVNET_HINT,
            "Nothing was created.",
        )
    if node and not settings.node.named:
        raise fail(
            "RUSTCHAIN_NODE is not set, and this command talks to the node.",
            "The bridge names no node by default, so it never reaches one you did not name:",
            "set RUSTCHAIN_NODE to your node's URL (with RC_ADMIN_KEY for payouts).",
            DEVNET_HINT,
        )
    return build(settings, create_secret_key=False)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def when(ts: float | int | None) -> str:
    if ts is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def refused(err: Exception, as_json: bool) -> typer.Exit:
    """A use case's refusal, said on stderr (and as JSON on stdout for --json)."""
    from otc_bridge.services.errors import Refused

    if not isinstance(err, Refused):
        raise err
    if as_json:
        print_json({"error": err.error, **err.fields})
    message = err.fields.get("message")
    typer.echo(f"refused: {err.error}" + (f" ({message})" if message else ""), err=True)
    return typer.Exit(EXIT_REFUSED)


def shown_database(settings: Settings) -> str:
    from otc_bridge.adapters.store.presence import shown

    return shown(settings.database_url)


# ---------------------------------------------------------------------- reconcile


def reconcile(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Run one reconciliation pass now and say what it did. Exit 3 when another process
    holds the reconciler lease (no pass was made, or it stopped), 1 when orders failed."""
    container = operator_container(node=True)
    try:
        summary = container.reconciler.run_pass(actor="cli").as_dict()
        holding = None
        if summary["skipped_locked"] or summary["lease_lost"]:
            holding = container.reconciler.lease.holding()
    finally:
        container.close()
    lease = None if holding is None else {"holder": holding.holder, "until": holding.until}
    if as_json:
        print_json({**summary, "lease": lease})
    else:
        typer.echo(reconcile_words(summary, holding))
    if summary["skipped_locked"] or summary["lease_lost"]:
        raise typer.Exit(EXIT_NO_PASS)
    if summary["errors"]:
        raise typer.Exit(1)


def reconcile_words(summary: dict[str, Any], holding: Any) -> str:
    if summary["skipped_locked"] or summary["lease_lost"]:
        if holding is None:
            who = "another process held the reconciler lease (it has let go since)"
        else:
            left = max(0, round(holding.until - time.time()))
            who = (
                f"another process holds the reconciler lease: process {holding.pid} on "
                f"{holding.host}, until {when(holding.until)} (in {left} s) unless it renews it"
            )
        if summary["lease_lost"]:
            return f"The pass stopped: {who}; it drives the orders this pass did not reach."
        return (
            f"No pass was made: {who}. It is running a pass of its own; run again once it "
            "has finished if you need another."
        )
    took = f"in {summary['seconds']} s"
    if not summary["due"]:
        return f"Reconcile pass done {took}: no order was due."
    counts = [
        f"{summary['promoted']} completed",
        f"{summary['recovered']} handed to an operator",
        f"{summary['refunded']} refunded",
        f"{summary['expired']} expired",
        f"{summary['advanced']} moved on",
        f"{summary['left']} still waiting",
    ]
    words = f"Reconcile pass done {took}: {summary['due']} order(s) due; " + ", ".join(counts)
    if summary["errors"]:
        words += f"; {summary['errors']} failed (see the log)"
    return words + "."


# ---------------------------------------------------------------------- orders


@orders_app.command("list")
def orders_list(
    status: str = typer.Option("settlement_recovery", help="Which state to list."),
    limit: int = typer.Option(100, min=1, max=10_000),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Orders in one state, oldest first."""
    from otc_bridge.services.views import order_detail

    container = operator_container(node=False)
    try:
        found = container.operators.list_orders(status, limit=limit)
    except Exception as err:
        raise refused(err, as_json) from None
    finally:
        container.close()
    if as_json:
        print_json([order_detail(o) for o in found])
        return
    for o in found:
        typer.echo(
            f"{o.order_id}  {o.side:4}  {o.pair:8}  {o.amount_micro_rtc / 1e6:>14.6f} RTC  "
            f"{o.status.value:20}  next action at {when(o.next_action_at)}  "
            f"{o.recovery_reason or ''}"
        )
    where = shown_database(container.settings)
    count = f"{len(found)} order(s)" if found else "No orders"
    typer.echo(f"{count} in {status} (database {where}).")


@orders_app.command("explain")
def orders_explain(
    order_id: str,
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """State, deadlines, the node's facts, the next automatic action, and the history."""
    container = operator_container(node=True)
    try:
        explained = container.operators.explain(order_id)
    except Exception as err:
        raise refused(err, as_json) from None
    finally:
        container.close()
    if as_json:
        print_json(explained)
    else:
        typer.echo(explain_words(explained))


def explain_words(explained: dict[str, Any]) -> str:
    order = explained["order"]
    lines = [
        f"{order['order_id']}: {order['status']}, {order['side']} {order['amount_rtc']} RTC "
        f"on {order['pair']} at {order['price_per_rtc']} (maker {order['maker_wallet']}, "
        f"taker {order.get('taker_wallet') or '—'})",
        f"  next automatic action: {explained['next_automatic_action']}, "
        f"at {when(explained['next_action_at'])}",
    ]
    if explained["recovery_reason"]:
        lines.append(f"  recovery reason: {explained['recovery_reason']}")
    deadlines = ", ".join(f"{k} {when(v)}" for k, v in explained["deadlines"].items() if v)
    lines.append(f"  deadlines: {deadlines or 'none'}")
    payout = explained["payout"]
    if payout["key"]:
        lines.append(
            f"  payout: key {payout['key']}, tx {payout['tx_hash'] or '—'}, "
            f"attempt {payout['attempt']}"
        )
    if explained.get("watcher"):
        from otc_bridge.services.watch_status import chain_lines

        lines.extend("  watcher: " + line.strip() for line in chain_lines(explained["watcher"]))
    for name, fact in explained["node"].items():
        lines.append(f"  node, {name.replace('_', ' ')}: {json.dumps(fact, default=str)}")
    lines.append("  history:")
    for e in explained["history"]:
        refs = f"  {json.dumps(e['refs'], sort_keys=True, default=str)}" if e["refs"] else ""
        lines.append(
            f"    {e['seq']:>3}  {when(e['at'])}  {e['to']:20} {e['cause']} by {e['actor']}{refs}"
        )
    return "\n".join(lines)


def operator_name(given: str | None) -> str:
    if given and given.strip():
        return given.strip()
    raise fail(
        "who is resolving? Give --operator NAME (or set OTC_OPERATOR, or USER).",
        "The name is recorded in the order's history with the reason.",
    )


@orders_app.command("resolve")
def orders_resolve(
    order_id: str,
    action: str = typer.Option(..., help="complete | redrive | refund"),
    reason: str = typer.Option(..., help="Why; recorded in the order's history."),
    operator: str | None = typer.Option(
        None,
        envvar=["OTC_OPERATOR", "USER"],
        help="Who is resolving, recorded in the order's history (default: OTC_OPERATOR, "
        "else USER; required when neither is set).",
        show_default=False,
    ),
    force: bool = typer.Option(
        False, help="refund after the preimage was revealed (check the quote chain first)"
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Resolve a settlement_recovery order; the reason goes into its history."""
    from otc_bridge.services.views import order_detail

    who = operator_name(operator)
    container = operator_container(node=True)
    try:
        order = container.operators.resolve(
            order_id, action, reason=reason, operator=who, force=force
        )
        if order.status.value in {"payout_pending", "refund_pending"}:
            order = (
                container.settlement.drive(order_id, actor=f"operator:{who}", budget_seconds=30)
                or order
            )
    except Exception as err:
        raise refused(err, as_json) from None
    finally:
        container.close()
    if as_json:
        print_json(order_detail(order))
    else:
        typer.echo(f"{order_id} is now {order.status.value} (resolved by {who}: {action}).")


# ---------------------------------------------------------------------- alerts


@alerts_app.command("list")
def alerts_list(
    limit: int = typer.Option(50, min=1, max=1000),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """The newest alerts and whether they were delivered."""
    from dataclasses import asdict

    container = operator_container(node=False)
    try:
        with container.store.read() as uow:
            rows = uow.alerts.newest(limit=limit)
    finally:
        container.close()
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    for r in rows:
        state = (
            f"delivered {when(r.delivered_at)}"
            if r.delivered_at
            else f"pending ({r.attempts} tries)"
        )
        fields = json.dumps(r.fields, sort_keys=True, default=str)
        typer.echo(f"#{r.alert_id} {when(r.created_at)} {r.level:8} {state:20} {r.title} {fields}")
    where = shown_database(container.settings)
    typer.echo(
        f"{len(rows)} alert(s) (database {where})." if rows else f"No alerts (database {where})."
    )


# ---------------------------------------------------------------------- webhooks


@webhooks_app.command("list")
def webhooks_list(
    wallet: str = typer.Option(..., help="The wallet (RTC + 40 hex)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """A wallet's webhooks and how their deliveries go (never their secrets)."""
    from otc_bridge.domain.wallet_auth import canonical_wallet

    container = operator_container(node=False)
    try:
        with container.store.read() as uow:
            found = uow.webhooks.of_wallet(canonical_wallet(wallet))
    finally:
        container.close()
    if as_json:
        print_json(
            [
                {
                    "webhook_id": f.webhook.webhook_id,
                    "url": f.webhook.url,
                    "pending": f.pending,
                    "delivered": f.delivered,
                    "failed": f.failed,
                    "last_error": f.last_error,
                }
                for f in found
            ]
        )
        return
    for f in found:
        hook = f.webhook
        typer.echo(
            f"{hook.webhook_id}  {hook.url}  pending {f.pending}  delivered {f.delivered}  "
            f"failed {f.failed}  last error: {f.last_error or '-'}"
        )
    typer.echo(f"{len(found)} webhook(s)." if found else f"No webhooks for {wallet}.")


@webhooks_app.command("retry")
def webhooks_retry(
    webhook_id: str,
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Deliver a webhook's given-up deliveries again, with a fresh set of attempts."""
    container = operator_container(node=False)
    try:
        with container.store.write() as uow:
            count = uow.deliveries.requeue_failed(webhook_id, now=container.clock.now())
    finally:
        container.close()
    if as_json:
        print_json({"webhook_id": webhook_id, "requeued": count})
        return
    typer.echo(f"{count} given-up delivery(ies) of {webhook_id} queued again.")
