"""`otc key …` (the RTC Ed25519 key), `otc evm-key …` (the quote chain's account) and
`otc secret …` (the RTC seller's preimages)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from otc_bridge.clientlib.keyfile import KeyKind, key_info, read_key, write_key
from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.trader_cli.context import (
    EVM_KEY,
    RTC_KEY,
    QuietOpt,
    Trader,
    command,
    local,
    new_passphrase,
    passphrase_for,
)
from otc_bridge.trader_cli.words import when

key_app = typer.Typer(no_args_is_help=True, help="Your RTC key (Ed25519), in a 0600 file.")
evm_key_app = typer.Typer(
    no_args_is_help=True, help="Your quote-chain (EVM) account's private key, in a 0600 file."
)
secret_app = typer.Typer(
    no_args_is_help=True, help="Swap secrets (preimages) the RTC seller keeps, in a 0600 file."
)

EncryptOpt = Annotated[
    bool,
    typer.Option(
        "--encrypt",
        help="Encrypt the key with a passphrase (OTC_KEY_PASSPHRASE, or typed in).",
    ),
]
BACKUP = "Back this file up: whoever holds it holds the funds, and nothing can recover it."
PREIMAGE_BACKUP = (
    "Back up {path} until the trade completes: without the preimage you cannot claim "
    "the quote, and the buyer takes it back after the timelock."
)
# anvil's well-known development mnemonic: the devnet's accounts (never for real funds).
DEV_MNEMONIC = "test test test test test test test test test test test junk"


def _save_rtc(path: Path, wallet: Wallet, encrypt: bool) -> None:
    seed = wallet.key.private_bytes_raw()
    write_key(path, KeyKind.RTC, seed, public=wallet.address, passphrase=new_passphrase(encrypt))


def _show_key(t: Trader, chain: str, address: str, path: Path, encrypted: bool, note: str) -> None:
    """A key file's address and place (`note` after the path: its mode, encryption)."""
    t.show(
        {"address": address, "key_file": str(path), "encrypted": encrypted},
        f"{chain} address {address}",
        f"key file    {path}{note}",
    )


@key_app.command("new")
@command(*RTC_KEY)
def key_new(t: Trader, encrypt: EncryptOpt = False) -> None:
    """Make a new RTC key and keep it in the key file (never overwritten)."""
    wallet = Wallet()
    _save_rtc(t.rtc_key_path, wallet, encrypt)
    mode = f" (mode 0600{', encrypted' if encrypt else ''})"
    _show_key(t, "RTC", wallet.address, t.rtc_key_path, encrypt, mode)
    t.warn(BACKUP)


@key_app.command("import")
@command(*RTC_KEY)
def key_import(
    t: Trader,
    seed: Annotated[str, typer.Argument(help="The 32-byte Ed25519 seed, 64 hex characters.")],
    encrypt: EncryptOpt = False,
) -> None:
    """Keep an existing RTC key (the hex seed `otc key export` and the page print)."""
    try:
        raw = bytes.fromhex(seed.strip().removeprefix("0x"))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise local("the seed must be 32 bytes as 64 hex characters")
    wallet = Wallet.from_seed(raw)
    _save_rtc(t.rtc_key_path, wallet, encrypt)
    _show_key(t, "RTC", wallet.address, t.rtc_key_path, encrypt, " (mode 0600)")


@key_app.command("show")
@command(*RTC_KEY)
def key_show(t: Trader, quiet: QuietOpt = False) -> None:
    """The RTC address of the key file (no passphrase needed)."""
    info = key_info(t.rtc_key_path, KeyKind.RTC)
    if quiet and not t.as_json:
        typer.echo(info.public)
        return
    note = " (encrypted)" if info.encrypted else ""
    _show_key(t, "RTC", info.public, t.rtc_key_path, info.encrypted, note)


@key_app.command("export")
@command(*RTC_KEY)
def key_export(t: Trader) -> None:
    """Print the key's hex seed (for `otc key import` or the page's key import)."""
    wallet = t.wallet()
    seed = wallet.key.private_bytes_raw().hex()
    typer.echo("This is your secret key: anyone who sees it can spend your RTC.", err=True)
    t.show({"address": wallet.address, "seed": seed}, seed)


# ---------------------------------------------------------------------- EVM key


def _save_evm(path: Path, key: bytes, encrypt: bool) -> str:
    from eth_account import Account

    address = str(Account.from_key(key).address)
    write_key(path, KeyKind.EVM, key, public=address, passphrase=new_passphrase(encrypt))
    return address


@evm_key_app.command("new")
@command(*EVM_KEY)
def evm_key_new(t: Trader, encrypt: EncryptOpt = False) -> None:
    """Make a new EVM account key and keep it in the EVM key file."""
    from eth_account import Account

    key = bytes(Account.create().key)
    address = _save_evm(t.evm_key_path, key, encrypt)
    _show_key(t, "EVM", address, t.evm_key_path, encrypt, " (mode 0600)")
    t.warn(BACKUP)


@evm_key_app.command("import")
@command(*EVM_KEY)
def evm_key_import(
    t: Trader,
    private_key: Annotated[
        str | None, typer.Argument(help="The private key, 64 hex characters.", show_default=False)
    ] = None,
    dev_account: Annotated[
        int | None,
        typer.Option(
            "--dev-account",
            help="Devnet only: take account N of anvil's public development mnemonic.",
            show_default=False,
        ),
    ] = None,
    encrypt: EncryptOpt = False,
) -> None:
    """Keep an existing EVM private key (or a devnet account's)."""
    from eth_account import Account

    if (private_key is None) == (dev_account is None):
        raise local("give either a private key or --dev-account N")
    if dev_account is not None:
        Account.enable_unaudited_hdwallet_features()
        path = f"m/44'/60'/0'/0/{dev_account}"
        key = bytes(Account.from_mnemonic(DEV_MNEMONIC, account_path=path).key)
    else:
        try:
            key = bytes.fromhex((private_key or "").strip().removeprefix("0x"))
        except ValueError:
            key = b""
        if len(key) != 32:
            raise local("the private key must be 32 bytes as 64 hex characters")
    address = _save_evm(t.evm_key_path, key, encrypt)
    _show_key(t, "EVM", address, t.evm_key_path, encrypt, " (mode 0600)")


@evm_key_app.command("show")
@command(*EVM_KEY)
def evm_key_show(t: Trader) -> None:
    """The EVM address of the key file (no passphrase needed)."""
    info = key_info(t.evm_key_path, KeyKind.EVM)
    note = " (encrypted)" if info.encrypted else ""
    _show_key(t, "EVM", info.public, t.evm_key_path, info.encrypted, note)


@evm_key_app.command("export")
@command(*EVM_KEY)
def evm_key_export(t: Trader) -> None:
    """Print the EVM private key (to import it into a wallet such as MetaMask)."""
    path = t.evm_key_path
    key = read_key(path, KeyKind.EVM, passphrase=passphrase_for(path))
    typer.echo("This is your secret key: anyone who sees it can spend your funds.", err=True)
    info = key_info(path, KeyKind.EVM)
    t.show({"address": info.public, "private_key": "0x" + key.hex()}, "0x" + key.hex())


# ---------------------------------------------------------------------- secrets


@secret_app.command("new")
@command()
def secret_new(t: Trader) -> None:
    """Make a preimage and its hashlock (sha256); only the hashlock is ever shown."""
    kept = t.secrets.new()
    t.show(
        {"hashlock": kept.hashlock, "secrets_file": str(t.secrets.path)},
        f"hashlock {kept.hashlock}",
        f"preimage kept in {t.secrets.path} (mode 0600)",
    )
    t.warn(PREIMAGE_BACKUP.format(path=t.secrets.path))


@secret_app.command("list")
@command()
def secret_list(t: Trader) -> None:
    """The kept secrets' hashlocks and the orders they back (never the preimages)."""
    kept = t.secrets.all()
    rows = [
        {"hashlock": k.hashlock, "order_id": k.order_id, "created_at": k.created_at} for k in kept
    ]
    t.show(
        rows,
        *(
            f"{k.hashlock}  {k.order_id or '(no order yet)'}  made {when(k.created_at)}"
            for k in kept
        ),
    )
