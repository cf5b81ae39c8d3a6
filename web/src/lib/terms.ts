/**
 * An order's arithmetic, as the bridge and the node do it: the quote total in the quote
 * token's base units (`domain/pairs.total_quote_base`), the nano-quote total the reference
 * reports, and the escrow the node takes from an RTC seller (`domain/rustchain`:
 * reward + int(reward × 0.05)).
 */

import { divHalfUp } from "./money";

export const RTC_DECIMALS = 6;
export const NANO_DECIMALS = 9; // prices: the reference's nano-quote per RTC
const MICRO_PER_RTC = 10n ** 6n;
const NANO_PER_QUOTE = 10n ** 9n;

/** What B must lock on the quote chain, in the token's base units (wei, USDC's 6 decimals). */
export function totalQuoteBase(quoteDecimals: number, amountMicro: bigint, priceNano: bigint): bigint {
  return divHalfUp(amountMicro * priceNano * 10n ** BigInt(quoteDecimals), MICRO_PER_RTC * NANO_PER_QUOTE);
}

export function totalQuoteNano(amountMicro: bigint, priceNano: bigint): bigint {
  return divHalfUp(amountMicro * priceNano, MICRO_PER_RTC);
}

/**
 * The node's 5 % platform fee, `int(reward_i64 * 0.05)` in Python. For every reward below
 * 2^52 µRTC (the node caps one at 10^10) that float product truncates to exactly
 * reward // 20: the double nearest 0.05 lies just above it, so a multiple of 20 never lands
 * below its integer quotient, and any other reward sits at least 0.05 from the next
 * integer, far beyond the product's rounding error there. The shared test vectors check
 * it against the Python formula.
 */
export function nodeFeeMicro(rewardMicro: bigint): bigint {
  return rewardMicro / 20n;
}

export function escrowMicro(rewardMicro: bigint): bigint {
  return rewardMicro + nodeFeeMicro(rewardMicro);
}

// The reference's TTL clamp, applied to the signed value before verifying
// (`DeadlinePolicy.clamp_reference_ttl`).
export const TTL_MIN = 3600;
export const TTL_MAX = 30 * 86400;

export function clampTtl(seconds: number): number {
  return Math.min(Math.max(seconds, TTL_MIN), TTL_MAX);
}
