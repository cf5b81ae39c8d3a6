/**
 * From what a trader typed to the signed `POST /api/orders` body. The terms are parsed
 * once into integers; the preview shows those integers and the signature binds them, so
 * what the trader sees is exactly what the bridge reads (the body sends the same values
 * as exact decimal text).
 */

import type { PairInfo } from "./api-types";
import type { SigningKey } from "./ed25519";
import { plainWords } from "./errors";
import { formatUnits, parseUnits } from "./money";
import { checkQuoteAddress } from "./quote-address";
import { NANO_DECIMALS, RTC_DECIMALS, clampTtl, escrowMicro, nodeFeeMicro, totalQuoteBase } from "./terms";
import { walletAuth } from "./wallet-auth";

export type Side = "buy" | "sell";

export interface OrderDraft {
  readonly side: Side;
  readonly amountText: string;
  readonly priceText: string;
  readonly ttlSeconds: number;
  readonly quoteAddress: string;
}

export interface OrderTerms {
  readonly side: Side;
  readonly pair: string;
  readonly quoteCurrency: string;
  readonly quoteDecimals: number;
  readonly amountMicro: bigint;
  readonly priceNano: bigint;
  readonly totalQuoteBase: bigint;
  readonly ttlSeconds: number;
  readonly quoteAddress: string;
  /** What an RTC seller locks on the node now: amount + fee (0 for a buy order). */
  readonly escrowMicro: bigint;
  readonly feeMicro: bigint;
}

export type Field = "amount" | "price" | "address";
export type DraftCheck =
  { ok: true; terms: OrderTerms } | { ok: false; problems: ReadonlyArray<{ field: Field; words: string }> };

// The API's own refusals for text it cannot read as a number; the page says the same.
const UNREADABLE: Record<"amount" | "price", string> = {
  amount: "amount_rtc must be a finite decimal number",
  price: "price_per_rtc must be a finite decimal number",
};

/**
 * The draft's terms, or what keeps it from being signed: text that is not a number, or no
 * usable quote address. Limits (minimum, maximum, price cap) are the bridge's to enforce
 * and word; the preview warns about them but the order is still sent.
 */
export function checkDraft(draft: OrderDraft, pair: PairInfo): DraftCheck {
  const problems: Array<{ field: Field; words: string }> = [];
  const amount = parseUnits(draft.amountText, RTC_DECIMALS);
  const price = parseUnits(draft.priceText, NANO_DECIMALS);
  if (!amount.ok) problems.push({ field: "amount", words: plainWords(400, { error: UNREADABLE.amount }) });
  if (!price.ok) problems.push({ field: "price", words: plainWords(400, { error: UNREADABLE.price }) });
  const address = checkQuoteAddress(draft.quoteAddress, pair.chain, pair.quote_currency);
  if (!address.ok) problems.push({ field: "address", words: address.words });
  if (!amount.ok || !price.ok || !address.ok) return { ok: false, problems };
  const amountMicro = amount.units;
  const isSell = draft.side === "sell";
  return {
    ok: true,
    terms: {
      side: draft.side,
      pair: pair.pair,
      quoteCurrency: pair.quote_currency,
      quoteDecimals: pair.decimals,
      amountMicro,
      priceNano: price.units,
      totalQuoteBase: totalQuoteBase(pair.decimals, amountMicro, price.units),
      ttlSeconds: draft.ttlSeconds,
      quoteAddress: address.address,
      escrowMicro: isSell ? escrowMicro(amountMicro) : 0n,
      feeMicro: isSell ? nodeFeeMicro(amountMicro) : 0n,
    },
  };
}

/** The `POST /api/orders` body, signed; `htlcHash` only for a sell (the seller's secret). */
export async function signedCreateBody(
  key: SigningKey & { readonly address: string },
  terms: OrderTerms,
  htlcHash: string | null,
  timestamp: number,
): Promise<Record<string, unknown>> {
  const bound: Record<string, string | bigint | number> = {
    side: terms.side,
    pair: terms.pair.toUpperCase(),
    amount_micro_rtc: terms.amountMicro,
    price_per_rtc_nano_quote: terms.priceNano,
    ttl_seconds: clampTtl(terms.ttlSeconds),
    eth_address: terms.quoteAddress,
  };
  if (htlcHash !== null) bound["htlc_hash"] = htlcHash.toLowerCase();
  const auth = await walletAuth(key, {
    action: "create_order",
    orderId: "create_order",
    timestamp,
    wallet: key.address,
    bound,
  });
  return {
    side: terms.side,
    pair: terms.pair,
    wallet: key.address,
    amount_rtc: formatUnits(terms.amountMicro, RTC_DECIMALS),
    price_per_rtc: formatUnits(terms.priceNano, NANO_DECIMALS),
    ttl_seconds: terms.ttlSeconds,
    eth_address: terms.quoteAddress,
    ...(htlcHash === null ? {} : { htlc_hash: htlcHash.toLowerCase() }),
    wallet_auth: auth,
  };
}
