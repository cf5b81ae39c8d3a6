"""Per-pair EVM settings, read from the environment (documented in docs/chains.md).

Every setting has a shared name `OTC_EVM_<FIELD>` and a per-pair override
`OTC_<PAIR>_<FIELD>` (the symbol with `/` as `_`: `OTC_RTC_ETH_RPC_URL`,
`OTC_RTC_USDC_TOKEN_ADDRESS`). A pair's chain is configured when its RPC URL, chain id
and HTLC contract are all set and valid (and, for a token pair, its token address);
otherwise `EvmSettings.for_pair` returns None and `disabled` says why, so the pair can
be shown disabled instead of escrowing RTC for a trade that could never settle.
Optional numbers that do not parse fall back to their default with a warning, as every
other setting does; a required value that does not parse disables the pair.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from eth_utils.address import (
    is_address,
    is_checksum_address,
    is_checksum_formatted_address,
    to_checksum_address,
)

from otc_bridge.domain.htlc_terms import ZERO_ADDRESS
from otc_bridge.domain.pairs import PAIRS, Pair
from otc_bridge.envparse import env_float, env_int, env_str

log = logging.getLogger(__name__)

SHARED_PREFIX = "OTC_EVM_"
DEFAULT_FINALITY_CONFIRMATIONS = 12
DEFAULT_RPC_TIMEOUT_SECONDS = 10.0
DEFAULT_LOG_RANGE_BLOCKS = 10_000
DEFAULT_LOG_LOOKBACK_BLOCKS = 100_000


class ConfigProblem(ValueError):
    """A required setting is missing or malformed: the pair stays disabled."""


@dataclass(frozen=True, slots=True)
class EvmChain:
    """One chain and its HTLC deployment, as the bridge reaches it."""

    rpc_url: str
    chain_id: int
    htlc_contract: str
    finality_confirmations: int = DEFAULT_FINALITY_CONFIRMATIONS
    rpc_timeout_seconds: float = DEFAULT_RPC_TIMEOUT_SECONDS
    log_range_blocks: int = DEFAULT_LOG_RANGE_BLOCKS  # the largest eth_getLogs span we ask
    log_lookback_blocks: int = DEFAULT_LOG_LOOKBACK_BLOCKS  # how far back a lock is sought
    start_block: int = 0  # the contract's deployment block: nothing older is searched


@dataclass(frozen=True, slots=True)
class EvmPairConfig:
    pair: str
    chain: EvmChain
    public_rpc_url: str  # what clients are told to use (GET /api/pairs)
    token_address: str | None  # None for ETH
    decimals: int
    timelock_min_seconds: int | None = None  # None: the bridge's deadline policy
    timelock_max_seconds: int | None = None

    @property
    def token_or_zero(self) -> str:
        """The token as the contract records it: the zero address for ETH."""
        return self.token_address or ZERO_ADDRESS


@dataclass(frozen=True, slots=True)
class EvmSettings:
    pairs: dict[str, EvmPairConfig] = field(default_factory=dict)
    disabled: dict[str, str] = field(default_factory=dict)  # pair -> why

    def for_pair(self, symbol: str) -> EvmPairConfig | None:
        return self.pairs.get(symbol)

    def chains(self) -> list[EvmChain]:
        """Each configured chain once (pairs on one chain share its reader and watcher)."""
        seen: dict[tuple[int, str, str], EvmChain] = {}
        for config in self.pairs.values():
            chain = config.chain
            seen.setdefault((chain.chain_id, chain.rpc_url, chain.htlc_contract), chain)
        return list(seen.values())


def pair_prefix(symbol: str) -> str:
    return "OTC_" + symbol.upper().replace("/", "_") + "_"


def from_env(environ: Mapping[str, str] | None = None) -> EvmSettings:
    """Every EVM pair's settings; a pair whose chain is not configured is left out."""
    settings = EvmSettings()
    for symbol, pair in PAIRS.items():
        if pair.chain != "evm":
            continue
        try:
            settings.pairs[symbol] = _pair_from_env(pair, environ)
        except ConfigProblem as exc:
            settings.disabled[symbol] = str(exc)
            log.info("pair %s has no verifiable quote chain: %s", symbol, exc)
    return settings


class _Reader:
    """Looks a field up under the pair's name first, then the shared one."""

    def __init__(self, pair: Pair, environ: Mapping[str, str] | None) -> None:
        self.prefix = pair_prefix(pair.symbol)
        self.environ = environ

    def name(self, name: str) -> str:
        """The variable that sets `name` for this pair (the per-pair one if present)."""
        own = self.prefix + name
        return own if env_str(own, "", self.environ) else SHARED_PREFIX + name

    def text(self, name: str, *, shared: bool = True) -> str:
        value = env_str(self.prefix + name, "", self.environ)
        if not value and shared:
            value = env_str(SHARED_PREFIX + name, "", self.environ)
        return value

    def number(self, name: str, default: int, minimum: int) -> int:
        return env_int(self.name(name), default, minimum=minimum, environ=self.environ)

    def optional_int(self, name: str, minimum: int) -> int | None:
        if not self.text(name):
            return None
        value = env_int(self.name(name), -1, minimum=minimum, environ=self.environ)
        return None if value == -1 else value


def _required(read: _Reader, name: str) -> str:
    value = read.text(name)
    if not value:
        raise ConfigProblem(f"{read.prefix}{name} (or {SHARED_PREFIX}{name}) is not set")
    return value


def _address(read: _Reader, name: str, value: str) -> str:
    # Mixed case is a checksum (EIP-55) and must verify: a typo there is caught, not used.
    bad_checksum = is_checksum_formatted_address(value) and not is_checksum_address(value)
    if not is_address(value) or bad_checksum:
        raise ConfigProblem(f"{read.name(name)}={value!r} is not an address (or its checksum)")
    return to_checksum_address(value)


def _pair_from_env(pair: Pair, environ: Mapping[str, str] | None) -> EvmPairConfig:
    read = _Reader(pair, environ)
    rpc_url = _required(read, "RPC_URL")
    chain_id_text = _required(read, "CHAIN_ID")
    if not chain_id_text.isdigit() or int(chain_id_text) <= 0:
        raise ConfigProblem(f"{read.name('CHAIN_ID')}={chain_id_text!r} is not a chain id")
    htlc = _address(read, "HTLC_CONTRACT", _required(read, "HTLC_CONTRACT"))
    token_text = read.text("TOKEN_ADDRESS", shared=False)  # a token is never shared
    token: str | None = None
    if pair.quote_currency == "ETH":
        if token_text and _address(read, "TOKEN_ADDRESS", token_text) != ZERO_ADDRESS:
            raise ConfigProblem(f"{read.prefix}TOKEN_ADDRESS must be unset for ETH")
    else:
        if not token_text:
            raise ConfigProblem(f"{read.prefix}TOKEN_ADDRESS is not set")
        token = _address(read, "TOKEN_ADDRESS", token_text)
        if token == ZERO_ADDRESS:
            raise ConfigProblem(f"{read.prefix}TOKEN_ADDRESS is the zero address")
    chain = EvmChain(
        rpc_url=rpc_url,
        chain_id=int(chain_id_text),
        htlc_contract=htlc,
        finality_confirmations=read.number(
            "FINALITY_CONFIRMATIONS", DEFAULT_FINALITY_CONFIRMATIONS, minimum=1
        ),
        rpc_timeout_seconds=env_float(
            read.name("RPC_TIMEOUT_SECONDS"),
            DEFAULT_RPC_TIMEOUT_SECONDS,
            minimum=0.1,
            environ=environ,
        ),
        log_range_blocks=read.number("LOG_RANGE_BLOCKS", DEFAULT_LOG_RANGE_BLOCKS, minimum=1),
        log_lookback_blocks=read.number(
            "LOG_LOOKBACK_BLOCKS", DEFAULT_LOG_LOOKBACK_BLOCKS, minimum=1
        ),
        start_block=read.number("START_BLOCK", 0, minimum=0),
    )
    low = read.optional_int("TIMELOCK_MIN_SECONDS", minimum=1)
    high = read.optional_int("TIMELOCK_MAX_SECONDS", minimum=1)
    if low is not None and high is not None and low > high:
        raise ConfigProblem(f"{read.prefix}TIMELOCK_MIN_SECONDS is above TIMELOCK_MAX_SECONDS")
    return EvmPairConfig(
        pair=pair.symbol,
        chain=chain,
        public_rpc_url=read.text("PUBLIC_RPC_URL") or rpc_url,
        token_address=token,
        decimals=env_int(  # per pair only: the token's own property
            read.prefix + "DECIMALS", pair.decimals, minimum=0, maximum=36, environ=environ
        ),
        timelock_min_seconds=low,
        timelock_max_seconds=high,
    )
