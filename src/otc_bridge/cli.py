"""The `otc-bridge` command. Each subcommand imports what it runs only when invoked."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


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
    uvicorn.run(
        "otc_bridge.api.asgi:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        proxy_headers=False,  # the bridge resolves client IPs itself (OTC_TRUSTED_PROXIES)
    )


@app.command()
def devnet() -> None:
    """Start the whole devnet on loopback (what `make run` runs)."""
    from otc_bridge.devnet.runner import run_devnet

    run_devnet()


def main() -> None:
    app()
