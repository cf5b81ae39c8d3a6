/**
 * The market view: the aggregated book with cumulative depth, the spread, the last price,
 * 24 h figures and recent trades. Prices and amounts are shown from the API's integer
 * fields (nano-quote, µRTC, token base units), formatted exactly.
 */

import type { BookLevel, OrderbookResponse, PairInfo, Trade } from "../lib/api-types";
import { formatUnits, jsonInteger } from "../lib/money";
import { NANO_DECIMALS, RTC_DECIMALS } from "../lib/terms";
import { type Child, fill, h } from "./dom";

export interface MarketSnapshot {
  readonly pair: PairInfo;
  readonly book: OrderbookResponse;
  readonly trades: readonly Trade[];
  readonly tradesLimit: number;
  readonly nowSeconds: number;
}

const UNKNOWN = "?";

function price(nano: unknown): string {
  const value = jsonInteger(nano);
  return value === null ? UNKNOWN : formatUnits(value, NANO_DECIMALS);
}

function rtc(micro: unknown): string {
  const value = jsonInteger(micro);
  return value === null ? UNKNOWN : formatUnits(value, RTC_DECIMALS);
}

function time(seconds: number): string {
  return new Date(seconds * 1000).toLocaleString(undefined, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

function headerRow(...labels: string[]): HTMLTableRowElement {
  return h("tr", {}, ...labels.map((label) => h("th", { attrs: { scope: "col" } }, label)));
}

/** The spread and its share of the mid price, in exact integer arithmetic. */
export function spreadText(asks: readonly BookLevel[], bids: readonly BookLevel[], quote: string): string {
  const ask = jsonInteger(asks[0]?.price_nano);
  const bid = jsonInteger(bids[0]?.price_nano);
  if (ask === null || bid === null) return "none (one side of the book is empty)";
  const spread = ask - bid;
  const basisHundredths = ask + bid > 0n ? (spread * 20_000n) / (ask + bid) : 0n; // % × 100
  const pct = formatUnits(basisHundredths, 2);
  return `${formatUnits(spread, NANO_DECIMALS)} ${quote} (${pct} %)`;
}

function bookRows(
  levels: readonly BookLevel[],
  side: "ask" | "bid",
  maxDepth: bigint,
): HTMLTableRowElement[] {
  let depth = 0n;
  const rows = levels.map((level) => {
    depth += jsonInteger(level.total_micro_rtc) ?? 0n;
    const share = maxDepth > 0n ? Number((depth * 1000n) / maxDepth) / 10 : 0;
    const row = h(
      "tr",
      { class: `level ${side}` },
      h("td", {}, price(level.price_nano)),
      h("td", {}, rtc(level.total_micro_rtc)),
      h("td", {}, formatUnits(depth, RTC_DECIMALS)),
      h("td", {}, String(level.order_count)),
    );
    row.style.setProperty("--depth", `${share}%`); // CSSOM: allowed under a strict CSP
    return row;
  });
  return side === "ask" ? rows.reverse() : rows; // best ask next to the spread, like bids
}

function totalDepth(levels: readonly BookLevel[]): bigint {
  return levels.reduce((sum, level) => sum + (jsonInteger(level.total_micro_rtc) ?? 0n), 0n);
}

export function renderBook(table: HTMLTableElement, snap: MarketSnapshot): void {
  const { book, pair } = snap;
  const quote = pair.quote_currency;
  const maxDepth = [totalDepth(book.asks), totalDepth(book.bids)].reduce((a, b) => (a > b ? a : b));
  const empty = (text: string) => h("tr", { class: "empty" }, h("td", { attrs: { colspan: "4" } }, text));
  fill(
    table,
    h(
      "caption",
      {},
      `Order book, ${pair.pair}: sell orders (asks) above the spread, buy orders (bids) below`,
    ),
    h("thead", {}, headerRow(`Price (${quote})`, "Amount (RTC)", "Depth (RTC)", "Orders")),
    h(
      "tbody",
      { class: "asks", attrs: { "aria-label": "Asks" } },
      ...(book.asks.length ? bookRows(book.asks, "ask", maxDepth) : [empty("No sell orders")]),
    ),
    h(
      "tbody",
      { class: "spread-row" },
      h(
        "tr",
        {},
        h(
          "th",
          { attrs: { scope: "row", colspan: "4" } },
          `Spread: ${spreadText(book.asks, book.bids, quote)}`,
        ),
      ),
    ),
    h(
      "tbody",
      { class: "bids", attrs: { "aria-label": "Bids" } },
      ...(book.bids.length ? bookRows(book.bids, "bid", maxDepth) : [empty("No buy orders")]),
    ),
  );
}

function stat(term: string, value: Child, id: string): HTMLElement {
  return h("div", {}, h("dt", {}, term), h("dd", { id }, value));
}

export function renderStats(list: HTMLElement, snap: MarketSnapshot): void {
  const { book, pair, trades } = snap;
  const quote = pair.quote_currency;
  const last = trades[0];
  const dayAgo = snap.nowSeconds - 86400;
  const recent = trades.filter((t) => t.completed_at >= dayAgo);
  const prices = recent
    .map((t) => jsonInteger(t.price_per_rtc_nano_quote))
    .filter((p): p is bigint => p !== null);
  const high = prices.reduce<bigint | null>((m, p) => (m === null || p > m ? p : m), null);
  const low = prices.reduce<bigint | null>((m, p) => (m === null || p < m ? p : m), null);
  const partial = trades.length >= snap.tradesLimit && recent.length === trades.length;
  fill(
    list,
    stat(
      "Last price",
      last ? `${price(last.price_per_rtc_nano_quote)} ${quote}` : "no trades yet",
      "stat-last",
    ),
    stat("Spread", spreadText(book.asks, book.bids, quote), "stat-spread"),
    stat("24 h volume", `${book.volume_24h_rtc} RTC`, "stat-volume"),
    stat("24 h trades", String(book.trades_24h), "stat-trades"),
    stat(
      partial ? `High / low (last ${trades.length} trades)` : "24 h high / low",
      high === null || low === null
        ? "no trades in 24 h"
        : `${formatUnits(high, NANO_DECIMALS)} / ${formatUnits(low, NANO_DECIMALS)} ${quote}`,
      "stat-range",
    ),
  );
}

export function renderTrades(table: HTMLTableElement, snap: MarketSnapshot): void {
  const { pair, trades } = snap;
  const quote = pair.quote_currency;
  const rows = trades.map((t) => {
    const total = /^\d+$/.test(t.total_quote_base_units)
      ? formatUnits(BigInt(t.total_quote_base_units), pair.decimals)
      : UNKNOWN;
    return h(
      "tr",
      {},
      h(
        "td",
        {},
        h(
          "time",
          { attrs: { datetime: new Date(t.completed_at * 1000).toISOString() } },
          time(t.completed_at),
        ),
      ),
      h("td", {}, price(t.price_per_rtc_nano_quote)),
      h("td", {}, rtc(t.amount_micro_rtc)),
      h("td", {}, total),
    );
  });
  fill(
    table,
    h("caption", {}, `Recent trades, ${pair.pair}, newest first`),
    h("thead", {}, headerRow("Time", `Price (${quote})`, "Amount (RTC)", `Total (${quote})`)),
    h(
      "tbody",
      {},
      ...(rows.length
        ? rows
        : [h("tr", { class: "empty" }, h("td", { attrs: { colspan: "4" } }, "No trades yet"))]),
    ),
  );
}
