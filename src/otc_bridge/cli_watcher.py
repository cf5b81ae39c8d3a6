"""`otc-bridge watcher status`: what each chain watcher has done and how far behind it is
(the checkpoint, the head, the lag, the last poll, rewinds, the lease holder, and the
events seen in blocks that are not final yet)."""

from __future__ import annotations

import typer

from otc_bridge.cli_operator import JSON_HELP, operator_container, print_json, refused

watcher_app = typer.Typer(no_args_is_help=True, help=__doc__)


@watcher_app.command("status")
def watcher_status(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Each watched quote chain: checkpoint, head, lag, last poll, rewinds, lease holder,
    and unfinal sightings. Reads the database only (no chain call)."""
    from otc_bridge.services.watch_status import WatchStatus, chain_lines

    container = operator_container(node=False)
    try:
        status = WatchStatus(
            store=container.store, evm=container.settings.evm, settings=container.settings.watcher
        )
        chains = status.chains_status(container.clock.now())
    except Exception as err:
        raise refused(err, as_json) from None
    finally:
        container.close()
    if as_json:
        print_json({"chains": chains})
        return
    if not chains:
        typer.echo(
            "No quote chain is configured (OTC_EVM_* / OTC_<PAIR>_*, docs/chains.md): "
            "there is nothing to watch."
        )
        return
    for view in chains:
        typer.echo("\n".join(chain_lines(view)))
