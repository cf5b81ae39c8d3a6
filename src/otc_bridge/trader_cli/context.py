"""What every `otc` command shares: its options, where the trader's files live, the RTC
key and the EVM account, printing (words or `--json`), and failures as exit codes.

Exit codes: 0 done; 1 the bridge, node or chain did not answer (nothing was decided: try
again); 2 the command line itself is wrong (typer's usage errors); 3 refused (by the
bridge, with its error code and message, or by the chain, or by a check made here
before anything was sent); 4 a local file is the problem (key file missing, readable by
others or damaged, wrong passphrase, no kept preimage).
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer

from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.clientlib.keyfile import KeyFileError, KeyKind, key_info, read_key
from otc_bridge.clientlib.trader_state import LockBook, SecretBook
from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.trader_cli.words import refusal_words

EXIT_UNREACHABLE, EXIT_REFUSED, EXIT_LOCAL = 1, 3, 4
DEFAULT_BRIDGE = "http://127.0.0.1:5580"
DEFAULT_NODE = "http://127.0.0.1:8099"
PASSPHRASE_ENV = "OTC_KEY_PASSPHRASE"  # noqa: S105 (a variable name, not a secret)

BridgeOpt = Annotated[
    str,
    typer.Option("--bridge", envvar="OTC_BRIDGE_URL", help="The bridge's URL."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (JSON on stdout).")]
HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home",
        envvar="OTC_HOME",
        help="The folder of the trader's files (default ~/.config/otc).",
        show_default=False,
    ),
]
KeyFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        envvar="OTC_KEY_FILE",
        help="The RTC key file (default <home>/rtc-key.json).",
        show_default=False,
    ),
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print only the one value (for shell scripts).")
]
EvmAccountOpt = Annotated[
    str | None,
    typer.Option(
        "--evm-account",
        envvar="OTC_EVM_ACCOUNT",
        help="An address the chain's RPC node holds unlocked (a devnet's accounts); "
        "otherwise the EVM key file is used.",
        show_default=False,
    ),
]
EvmKeyFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--evm-key-file",
        envvar="OTC_EVM_KEY_FILE",
        help="The EVM private key file (default <home>/evm-key.json).",
        show_default=False,
    ),
]


class Failure(Exception):
    """Stop the command with `code`, saying `lines` on stderr (and `data` for --json)."""

    def __init__(self, code: int, *lines: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(lines[0] if lines else "")
        self.code = code
        self.lines = lines
        self.data = data


def refused(*lines: str, data: dict[str, Any] | None = None) -> Failure:
    return Failure(EXIT_REFUSED, *lines, data=data)


def local(*lines: str) -> Failure:
    return Failure(EXIT_LOCAL, *lines)


@dataclass
class Trader:
    """One command's view of the trader: options resolved, files located."""

    bridge_url: str = DEFAULT_BRIDGE
    as_json: bool = False
    home: Path | None = None
    key_file: Path | None = None
    evm_account: str | None = None
    evm_key_file: Path | None = None

    @property
    def folder(self) -> Path:
        return self.home or Path.home() / ".config" / "otc"

    @property
    def rtc_key_path(self) -> Path:
        return self.key_file or self.folder / "rtc-key.json"

    @property
    def evm_key_path(self) -> Path:
        return self.evm_key_file or self.folder / "evm-key.json"

    @property
    def secrets(self) -> SecretBook:
        return SecretBook(self.folder / "secrets.json")

    @property
    def locks(self) -> LockBook:
        return LockBook(self.folder / "locks.json")

    # ------------------------------------------------------------------ keys

    def wallet(self) -> Wallet:
        path = self.rtc_key_path
        if not path.exists():
            raise local(f"no RTC key at {path}", "Make one with `otc key new` (or --key-file).")
        seed = read_key(path, KeyKind.RTC, passphrase=passphrase_for(path))
        return Wallet.from_seed(seed)

    def rtc_address(self) -> str | None:
        """The RTC address of the key file, if there is one (no passphrase needed)."""
        try:
            return key_info(self.rtc_key_path, KeyKind.RTC).public
        except KeyFileError:
            return None

    def evm_address(self) -> str | None:
        """The EVM account's address without unlocking anything, if one is configured."""
        if self.evm_account:
            return self.evm_account
        try:
            return key_info(self.evm_key_path, KeyKind.EVM).public
        except KeyFileError:
            return None

    def evm_signer(self) -> Any:
        """The account to send from: the unlocked address, or the key file's LocalAccount."""
        if self.evm_account:
            return self.evm_account
        path = self.evm_key_path
        if not path.exists():
            raise local(
                f"no EVM account: {path} does not exist and --evm-account is not set",
                "Make a key with `otc evm-key new` (or `otc evm-key import`), or on a devnet "
                "name one of its unlocked accounts with --evm-account.",
            )
        from eth_account import Account

        key = read_key(path, KeyKind.EVM, passphrase=passphrase_for(path))
        return Account.from_key(key)

    # ------------------------------------------------------------------ output

    @contextmanager
    def client(self) -> Iterator[BridgeClient]:
        with BridgeClient(self.bridge_url, timeout=30.0) as api:
            yield api

    def warn(self, text: str) -> None:
        """A warning a person must see, on stderr whatever the output mode."""
        typer.echo(text, err=True)

    def show(self, data: Any, *lines: str) -> None:
        if self.as_json:
            typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
        else:
            for line in lines:
                typer.echo(line)


# The options every command shares, in the order `--help` lists them (after the
# command's own): --bridge, --json and --home on all; the key options where they are used.
SHARED_OPTIONS: dict[str, tuple[Any, Any]] = {
    "bridge": (BridgeOpt, DEFAULT_BRIDGE),
    "as_json": (JsonOpt, False),
    "home": (HomeOpt, None),
    "key_file": (KeyFileOpt, None),
    "evm_account": (EvmAccountOpt, None),
    "evm_key_file": (EvmKeyFileOpt, None),
}
RTC_KEY = ("key_file",)
EVM = ("evm_account", "evm_key_file")
EVM_KEY = ("evm_key_file",)

Body = Callable[..., None]


def command(*uses: str) -> Callable[[Body], Body]:
    """Make `body(t: Trader, <its own parameters>)` a typer command that also takes the
    shared options (--bridge, --json, --home and those named in `uses`), builds the
    Trader from them and runs the body under `run` (every failure to its exit code).

    The options stay on each command (`otc key new --json`), as they always were: a
    callback on the top-level app would move them before the command's name."""
    unknown = set(uses) - set(SHARED_OPTIONS)
    if unknown:
        raise ValueError(f"not a shared option: {sorted(unknown)}")
    names = [n for n in SHARED_OPTIONS if n in ("bridge", "as_json", "home") or n in uses]

    def wrap(body: Body) -> Body:
        own = list(inspect.signature(body, eval_str=True).parameters.values())[1:]
        shared = [
            inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=a, default=d)
            for n, (a, d) in ((n, SHARED_OPTIONS[n]) for n in names)
        ]
        params = [*own, *shared]

        @functools.wraps(body)
        def typer_command(**given: Any) -> None:
            t = trader(**{n: given.pop(n) for n in names})
            run(lambda: body(t, **given), t)

        # typer reads the parameters from the signature and the types from __annotations__.
        typer_command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        typer_command.__annotations__ = {p.name: p.annotation for p in params}
        return typer_command

    return wrap


def trader(
    bridge: str,
    as_json: bool,
    home: Path | None = None,
    key_file: Path | None = None,
    evm_account: str | None = None,
    evm_key_file: Path | None = None,
) -> Trader:
    return Trader(bridge.rstrip("/"), as_json, home, key_file, evm_account, evm_key_file)


def passphrase_for(path: Path) -> str | None:
    """The passphrase of an encrypted key file: OTC_KEY_PASSPHRASE, else typed in (only
    when a person is at the terminal)."""
    given = os.environ.get(PASSPHRASE_ENV)
    if given is not None:
        return given
    try:
        encrypted = key_info(path, KeyKind.RTC).encrypted
    except KeyFileError:
        try:
            encrypted = key_info(path, KeyKind.EVM).encrypted
        except KeyFileError:
            return None
    if not encrypted or not sys.stdin.isatty():
        return None
    answer: str = typer.prompt(f"Passphrase for {path}", hide_input=True)
    return answer


def new_passphrase(encrypt: bool) -> str | None:
    if not encrypt:
        return None
    given = os.environ.get(PASSPHRASE_ENV)
    if given:
        return given
    if not sys.stdin.isatty():
        raise local(f"--encrypt needs a passphrase: set {PASSPHRASE_ENV} or run it in a terminal")
    answer: str = typer.prompt("New passphrase", hide_input=True, confirmation_prompt=True)
    return answer


def answer_of(response: httpx.Response, *, ok: tuple[int, ...] = (200, 201)) -> dict[str, Any]:
    """The body of a successful answer, or a Failure saying the bridge's refusal."""
    try:
        body = response.json()
    except ValueError:
        body = {"error": f"HTTP {response.status_code}", "message": response.text[:200]}
    if response.status_code in ok and isinstance(body, dict):
        return body
    data = body if isinstance(body, dict) else {"error": str(body)}
    raise refused(
        *refusal_words(response.status_code, data, response.headers.get("Retry-After")),
        data={"http_status": response.status_code, **data},
    )


def run(command: Callable[[], None], t: Trader) -> None:
    """Run a command body, turning every failure into its words and exit code."""
    from otc_bridge.adapters.evm.writer import HtlcWriteError
    from otc_bridge.clientlib.quote_chain import QuoteChainError

    try:
        command()
    except Failure as failure:
        _fail(t, failure)
    except KeyFileError as exc:
        _fail(t, local(str(exc)))
    except HtlcWriteError as exc:
        _fail(t, refused(f"the chain refused: {exc}"))
    except QuoteChainError as exc:
        _fail(t, refused(str(exc)))
    except httpx.TransportError as exc:
        _fail(
            t,
            Failure(
                EXIT_UNREACHABLE,
                f"could not reach {exc.request.url.scheme}://{exc.request.url.netloc.decode()}"
                f" ({type(exc).__name__}); nothing was decided, try again",
            ),
        )
    except ConnectionError as exc:
        _fail(t, Failure(EXIT_UNREACHABLE, f"could not reach the chain: {exc}"))


def _fail(t: Trader, failure: Failure) -> NoReturn:
    if t.as_json:
        data = failure.data or {"error": failure.lines[0] if failure.lines else "failed"}
        typer.echo(json.dumps({"ok": False, **data}, indent=2, sort_keys=True, default=str))
    if failure.lines:
        typer.echo(f"otc: {failure.lines[0]}", err=True)
        for line in failure.lines[1:]:
            typer.echo(f"  {line}", err=True)
    raise typer.Exit(failure.code)
