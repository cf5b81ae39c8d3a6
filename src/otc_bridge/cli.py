"""The `otc-bridge` command. Each subcommand imports what it runs only when invoked.

Traders use the HTTP API (or the web page); operators use this: run the processes, look
at orders, resolve the ones automation hands over (the operator's commands are in
`cli_operator`).
"""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, Any

import typer

from otc_bridge.cli_operator import (
    JSON_HELP,
    alerts_app,
    fail,
    orders_app,
    print_json,
    reconcile,
    webhooks_app,
)
from otc_bridge.cli_watcher import watcher_app

if TYPE_CHECKING:
    from otc_bridge.config import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
devnet_app = typer.Typer(
    invoke_without_command=True,
    help="Start the whole devnet on loopback (what `make run` runs); `devnet env` prints "
    "the settings that point the operator commands at it.",
)
app.add_typer(orders_app, name="orders")
app.add_typer(alerts_app, name="alerts")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(devnet_app, name="devnet")
app.add_typer(watcher_app, name="watcher")
app.command()(reconcile)


def _service_settings() -> Settings:
    """A bridge process's settings, once they name the node it is to talk to."""
    from otc_bridge.config import Settings

    settings = Settings.from_env()
    if not settings.node.named:
        raise fail(
            "RUSTCHAIN_NODE is not set: name the RustChain node this bridge settles on "
            "(the bridge names none by default, never a production node you did not name).",
            "`make run` starts a devnet with its own devnode.",
        )
    return settings


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
    workers: int = typer.Option(
        1, envvar="OTC_WORKERS", help="API worker processes (each on its own socket)."
    ),
) -> None:
    """Run the bridge API against the node and database the environment names."""
    import os

    import uvicorn

    settings = _service_settings()
    _metrics_dir(settings)
    config: dict[str, Any] = {
        "app": "otc_bridge.api.asgi:app_from_env",
        "factory": True,
        "host": settings.host,
        "port": settings.port,
        "proxy_headers": False,  # the bridge resolves client IPs itself (OTC_TRUSTED_PROXIES)
        "log_config": None,  # each worker process configures JSON logs (api/asgi.py)
        # A line per request costs more than a cached read itself: only when asked for
        # (every request is still counted in otc_http_request_seconds).
        "access_log": os.environ.get("OTC_ACCESS_LOG", "0") == "1",
    }
    if workers > 1:  # a socket per process, so connections spread over them (api/workers.py)
        from otc_bridge.api.workers import run_workers

        raise typer.Exit(
            run_workers(workers, host=settings.host, port=settings.port, config=config)
        )
    uvicorn.run(**config)


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
    the alert delivery, the webhook deliveries and the chain watchers, until SIGTERM/SIGINT.
    Safe to run on several hosts."""
    import os

    from otc_bridge.observability import logs

    logs.configure(
        json_lines=os.environ.get("OTC_LOG_FORMAT", "json") != "text",
        level=os.environ.get("OTC_LOG_LEVEL", "INFO"),
    )
    from otc_bridge.bootstrap import build

    container = build(_service_settings())
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=container.settings.host)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    settings = container.settings
    container.start_webhook_delivery()
    watched = container.start_watchers()
    if watched:
        typer.echo(
            f"watching {watched} quote chain(s) (one watcher per chain across workers)", err=True
        )
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
def migrate(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Create the database if it is new and bring its schema to the latest revision
    (every bridge process also does this at start)."""
    from otc_bridge.adapters.store.migrate import current_revision
    from otc_bridge.adapters.store.presence import shown
    from otc_bridge.bootstrap import build
    from otc_bridge.config import Settings

    settings = Settings.from_env()
    container = build(settings, create_secret_key=False)
    try:
        revision = current_revision(container.store.engine)
    finally:
        container.close()
    where = shown(settings.database_url)
    if as_json:
        print_json({"database": where, "revision": revision})
    else:
        typer.echo(f"The schema of {where} is at the latest revision ({revision}).")


@devnet_app.callback()
def devnet(ctx: typer.Context) -> None:
    """Start the whole devnet on loopback (what `make run` runs)."""
    if ctx.invoked_subcommand is None:
        from otc_bridge.devnet.runner import run_devnet

        run_devnet()


@devnet_app.command("env")
def devnet_env(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """The `export` lines that point the operator commands at the running devnet (its
    database, node, admin key, data folder, clock and chain): eval "$(otc-bridge devnet env)".
    Reads DEVNET_DIR (default .devnet), as `make run` does."""
    from pathlib import Path

    from otc_bridge.devnet import operator_env
    from otc_bridge.envparse import env_str

    state = Path(env_str("DEVNET_DIR", ".devnet")).resolve()
    handed = operator_env.read(state)
    if handed is None:
        raise fail(
            f"no devnet has started in {state}: there is no {operator_env.ENV_FILE} there.",
            "Start one with `make run` (or `otc-bridge devnet`); DEVNET_DIR names its state "
            "folder (default .devnet, relative to the folder it runs in).",
        )
    if as_json:
        print_json({"bridge_url": handed.bridge_url, "settings": handed.settings})
    else:
        typer.echo(f"# the devnet in {state} (bridge {handed.bridge_url})")
        for line in handed.exports():
            typer.echo(line)
    if not _answers(handed.bridge_url):
        typer.echo(
            f"otc-bridge: note: the devnet's bridge at {handed.bridge_url} does not answer: "
            "these settings name its state, but it is not running now (start it with make run).",
            err=True,
        )


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/api/pairs", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def main() -> None:
    app()
