"""Trading pairs and the arithmetic of an order's terms.

Prices keep the reference's wire unit (nano-quote per RTC, 1e-9) so existing clients'
signatures still verify; totals are also kept in each quote token's own base units (wei,
USDC's 6 decimals, nanoERG), which is what the quote leg is checked against.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from otc_bridge.domain.money import MICRO_PER_RTC, to_units

QUOTE_PRICE_SCALE = 10**9  # the reference's nano-quote unit for prices and totals


@dataclass(frozen=True, slots=True)
class Pair:
    symbol: str
    quote_currency: str
    decimals: int
    chain: str  # "evm" or "ergo"


PAIRS: dict[str, Pair] = {
    "RTC/ETH": Pair("RTC/ETH", "ETH", 18, "evm"),
    "RTC/USDC": Pair("RTC/USDC", "USDC", 6, "evm"),
    "RTC/ERG": Pair("RTC/ERG", "ERG", 9, "ergo"),
}
DEFAULT_PAIR = "RTC/USDC"


def total_quote_nano(amount_micro_rtc: int, price_nano: int) -> int:
    """The total in nano-quote units, as the reference reports it."""
    return _half_up(amount_micro_rtc * price_nano, MICRO_PER_RTC)


def total_quote_base(pair: Pair, amount_micro_rtc: int, price_nano: int) -> int:
    """The total in the quote token's base units: what B must lock on the quote chain."""
    numerator = amount_micro_rtc * price_nano * 10**pair.decimals
    return _half_up(numerator, MICRO_PER_RTC * QUOTE_PRICE_SCALE)


def _half_up(numerator: int, denominator: int) -> int:
    return to_units(Decimal(numerator) / Decimal(denominator), 0, rounding=ROUND_HALF_UP)
