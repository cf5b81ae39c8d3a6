/**
 * Polling the market for the selected pair (until the bridge has a status stream): every
 * few seconds while the page is visible, at once when the pair changes, and no sooner
 * than a 429's Retry-After. Answers for a pair no longer selected are dropped.
 */

import { ApiError, type BridgeApi } from "../lib/api";
import type { PairInfo } from "../lib/api-types";
import type { Freshness } from "./freshness";
import type { MarketSnapshot } from "./market";
import type { Observable } from "./observable";

export const POLL_MS = 5000;
export const TRADES_LIMIT = 50;

export class MarketFeed {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private generation = 0;

  constructor(
    private readonly api: BridgeApi,
    private readonly pair: Observable<PairInfo | null>,
    private readonly freshness: Freshness,
    private readonly show: (snap: MarketSnapshot) => void,
    private readonly nowSeconds: () => number,
  ) {
    pair.subscribe(() => void this.refresh());
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) void this.refresh();
    });
  }

  async refresh(): Promise<void> {
    const pair = this.pair.value;
    if (pair === null) return;
    const generation = ++this.generation;
    if (this.timer !== null) clearTimeout(this.timer);
    let waitMs = POLL_MS;
    try {
      const [book, trades] = await Promise.all([
        this.api.orderbook(pair.pair),
        this.api.trades(pair.pair, TRADES_LIMIT),
      ]);
      if (generation !== this.generation) return; // a newer refresh (another pair) won
      this.show({
        pair,
        book,
        trades: trades.trades,
        tradesLimit: TRADES_LIMIT,
        nowSeconds: this.nowSeconds(),
      });
      this.freshness.succeeded();
    } catch (err) {
      if (generation !== this.generation) return;
      const words = err instanceof ApiError ? err.words : "The page could not read the bridge's answer.";
      this.freshness.failed(words);
      if (err instanceof ApiError && err.retryAfterSeconds !== null) {
        waitMs = Math.max(POLL_MS, err.retryAfterSeconds * 1000);
      }
    }
    if (!document.hidden) this.timer = setTimeout(() => void this.refresh(), waitMs);
  }
}
