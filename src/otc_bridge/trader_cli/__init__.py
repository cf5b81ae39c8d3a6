"""`otc`: the trader's command line for the whole swap (keys, orders, the quote lock,
reveal, claim, refund, following an order). Thin over `otc_bridge.clientlib`."""

from __future__ import annotations


def main() -> None:
    from otc_bridge.trader_cli.app import app

    app()
