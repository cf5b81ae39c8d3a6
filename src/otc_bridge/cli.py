"""The `otc-bridge` command. Each subcommand imports what it runs only when invoked.

Traders use the HTTP API (or the web page); operators use this: run the processes, look
at orders, resolve the ones automation hands over.
"""

from __future__ import annotations

import json
import signal
import threading
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from otc_bridge.bootstrap import Container

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
orders_app = typer.Typer(no_args_is_help=True, help="Look at and resolve orders.")
alerts_app = typer.Typer(no_args_is_help=True, help="The alert outbox.")
webhooks_app = typer.Typer(no_args_is_help=True, help="Trader webhooks and their deliveries.")
app.add_typer(orders_app, name="orders")
app.add_typer(alerts_app, name="alerts")
app.add_typer(webhooks_app, name="webhooks")


def _container() -> Container:
    from otc_bridge.bootstrap import build
    from otc_bridge.config import Settings

    return build(Settings.from_env())


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def _refused(err: Exception) -> typer.Exit:
    from otc_bridge.services.errors import Refused

    if isinstance(err, Refused):
        typer.echo(f"refused: {err.error}", err=True)
        return typer.Exit(2)
    raise err


@app.command()
def devnode(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(
        None, envvar="DEVNODE_PORT", help="Port (default 8099, or DEVNODE_PORT)."
    ),
) -> None:
    """Run the RustChain devnode: the node API of the spec, quirks and faults included."""
    from otc_bridge.devnet.devnode.server import serve

    serve(host=host, port=port if port is not None else 8099)


@app.command()
def serve(
    workers: int = typer.Option(1, envvar="OTC_WORKERS", help="uvicorn worker processes."),
) -> None:
    """Run the bridge API against the node and database the environment names."""
    import uvicorn

    from otc_bridge.config import Settings

    settings = Settings.from_env()
    _metrics_dir(settings)
    uvicorn.run(
        "otc_bridge.api.asgi:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        proxy_headers=False,  # the bridge resolves client IPs itself (OTC_TRUSTED_PROXIES)
        log_config=None,  # each worker process configures JSON logs (api/asgi.py)
    )


def _metrics_dir(settings: Any) -> None:
    """Give every process on this host one PROMETHEUS_MULTIPROC_DIR (emptied at start)."""
    import os
    import shutil

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    target = settings.data_dir / "metrics"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(target.resolve())


@app.command()
def worker(
    metrics_port: int = typer.Option(
        0, envvar="OTC_WORKER_METRICS_PORT", help="Serve /metrics on this port (0: off)."
    ),
) -> None:
    """Run the reconciler (startup pass, then one pass per OTC_RECONCILE_INTERVAL_SECONDS),
    the alert delivery and the webhook deliveries, until SIGTERM/SIGINT. Safe to run on
    several hosts."""
    import os

    from otc_bridge.observability import logs

    logs.configure(
        json_lines=os.environ.get("OTC_LOG_FORMAT", "json") != "text",
        level=os.environ.get("OTC_LOG_LEVEL", "INFO"),
    )
    container = _container()
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=container.settings.host)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    settings = container.settings
    container.start_webhook_delivery()
    try:
        if settings.reconcile_disabled or settings.reconcile_interval_seconds <= 0:
            typer.echo(
                "automatic reconciliation is off (OTC_RECONCILE_DISABLED or "
                "OTC_RECONCILE_INTERVAL_SECONDS=0): use `otc-bridge reconcile` or "
                "POST /admin/reconcile; this worker delivers webhooks only",
                err=True,
            )
            stop.wait()
        else:
            container.reconciler.run_forever(stop, settings.reconcile_interval_seconds)
    finally:
        container.close()


@app.command()
def reconcile() -> None:
    """Run one reconciliation pass now and print its summary."""
    container = _container()
    try:
        _print(container.reconciler.run_pass(actor="cli").as_dict())
    finally:
        container.close()


@app.command()
def migrate() -> None:
    """Bring the database schema to the latest revision (every process also does this)."""
    _container().close()
    typer.echo("schema is at the latest revision")


@app.command()
def devnet() -> None:
    """Start the whole devnet on loopback (what `make run` runs)."""
    from otc_bridge.devnet.runner import run_devnet

    run_devnet()


@orders_app.command("list")
def orders_list(
    status: str = typer.Option("settlement_recovery", help="Which state to list."),
    limit: int = typer.Option(100, min=1, max=10_000),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Orders in one state, oldest first."""
    container = _container()
    try:
        found = container.operators.list_orders(status, limit=limit)
    except Exception as err:
        raise _refused(err) from None
    finally:
        container.close()
    if as_json:
        from otc_bridge.services.views import order_detail

        _print([order_detail(o) for o in found])
        return
    for o in found:
        typer.echo(
            f"{o.order_id}  {o.side:4}  {o.pair:8}  {o.amount_micro_rtc / 1e6:>14.6f} RTC  "
            f"{o.status.value:20}  next action at {o.next_action_at}  {o.recovery_reason or ''}"
        )
    typer.echo(f"{len(found)} order(s) in {status}")


@orders_app.command("explain")
def orders_explain(order_id: str) -> None:
    """State, deadlines, the node's facts, the next automatic action, and the history."""
    container = _container()
    try:
        _print(container.operators.explain(order_id))
    except Exception as err:
        raise _refused(err) from None
    finally:
        container.close()


@orders_app.command("resolve")
def orders_resolve(
    order_id: str,
    action: str = typer.Option(..., help="complete | redrive | refund"),
    reason: str = typer.Option(..., help="Why; recorded in the order's history."),
    operator: str = typer.Option(..., envvar="USER", help="Who is resolving."),
    force: bool = typer.Option(
        False, help="refund after the preimage was revealed (check the quote chain first)"
    ),
) -> None:
    """Resolve a settlement_recovery order; the reason goes into its history."""
    container = _container()
    try:
        order = container.operators.resolve(
            order_id, action, reason=reason, operator=operator, force=force
        )
        if order.status.value in {"payout_pending", "refund_pending"}:
            order = (
                container.settlement.drive(
                    order_id, actor=f"operator:{operator}", budget_seconds=30
                )
                or order
            )
        typer.echo(f"{order_id} is now {order.status.value}")
    except Exception as err:
        raise _refused(err) from None
    finally:
        container.close()


@alerts_app.command("list")
def alerts_list(limit: int = typer.Option(50, min=1, max=1000)) -> None:
    """The newest alerts and whether they were delivered."""
    container = _container()
    try:
        with container.store.read() as uow:
            rows = uow.alerts.newest(limit=limit)
    finally:
        container.close()
    for r in rows:
        state = "delivered" if r.delivered_at else f"pending ({r.attempts} tries)"
        fields = json.dumps(r.fields, sort_keys=True, default=str)
        typer.echo(f"#{r.alert_id} {r.level:8} {state:20} {r.title} {fields}")


@webhooks_app.command("list")
def webhooks_list(wallet: str = typer.Option(..., help="The wallet (RTC + 40 hex).")) -> None:
    """A wallet's webhooks and how their deliveries go (never their secrets)."""
    from otc_bridge.domain.wallet_auth import canonical_wallet

    container = _container()
    try:
        with container.store.read() as uow:
            found = uow.webhooks.of_wallet(canonical_wallet(wallet))
    finally:
        container.close()
    for f in found:
        hook = f.webhook
        typer.echo(
            f"{hook.webhook_id}  {hook.url}  pending {f.pending}  delivered {f.delivered}  "
            f"failed {f.failed}  last error: {f.last_error or '-'}"
        )
    typer.echo(f"{len(found)} webhook(s)")


@webhooks_app.command("retry")
def webhooks_retry(webhook_id: str) -> None:
    """Deliver a webhook's given-up deliveries again, with a fresh set of attempts."""
    container = _container()
    try:
        with container.store.write() as uow:
            count = uow.deliveries.requeue_failed(webhook_id, now=container.clock.now())
    finally:
        container.close()
    typer.echo(f"{count} delivery(ies) of {webhook_id} queued again")


def main() -> None:
    app()
