"""The `otc` command: every trader action of a swap, from a terminal or a script.

A swap, RTC seller S and RTC buyer B (docs/trader-cli.md has every command):

    S: otc key new; otc order sell 10 0.001 --pair RTC/ETH      (RTC escrowed, preimage kept)
    B: otc key new; otc order match <order>; otc lock <order>   (quote locked, reported)
    S: otc confirm <order>; otc claim <order>                   (B is paid RTC, S the quote)
    B: otc watch <order>                                        (until completed)

`--json` on every command prints data for scripts; exit codes: 0 done, 1 unreachable
(try again), 2 usage, 3 refused (the bridge's or the chain's reason in words), 4 a local
file problem (key, passphrase, kept preimage).
"""

from __future__ import annotations

import typer

from otc_bridge.trader_cli import chain, orders
from otc_bridge.trader_cli.keys import evm_key_app, key_app, secret_app

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # click's own wrapping: paragraphs rewrapped, examples kept
    help="The trader's command line for a whole swap (docs/trader-cli.md). Exit codes: 0 "
    "done, 1 unreachable (try again), 2 usage, 3 refused (the bridge's or the chain's "
    "reason in words), 4 a local file problem (key, passphrase, kept preimage).",
)
app.add_typer(key_app, name="key")
app.add_typer(evm_key_app, name="evm-key")
app.add_typer(secret_app, name="secret")
app.add_typer(orders.order_app, name="order")
app.command("balance")(chain.balance)
app.command("lock")(chain.lock)
app.command("confirm")(orders.confirm)
app.command("claim")(chain.claim)
app.command("refund")(chain.refund)
app.command("watch")(orders.watch)
