// Small fixtures for the node tests: a pair as GET /api/pairs describes it, an in-memory
// localStorage, and a fetch that answers what a test tells it to.

import type { PairInfo } from "../src/lib/api-types";
import type { Fetch } from "../src/lib/api";
import type { KeyValueStore } from "../src/lib/storage";

export function pairInfo(pair: string, chain: string, currency: string, decimals: number): PairInfo {
  return {
    pair,
    quote_currency: currency,
    decimals,
    chain,
    timelock_window: {
      min_seconds: 7200,
      max_seconds: 86400,
      claim_margin_seconds: 3600,
      settlement_margin_seconds: 21600,
    },
    lock_window_seconds: 3600,
    limits: { min_amount_rtc: 0.1, max_amount_rtc: 10000, max_price: 1000, max_ttl_seconds: 2_484_000 },
  };
}

export class MemoryStorage implements KeyValueStore {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

export interface Recorded {
  url: string;
  init: RequestInit | undefined;
}

export function fakeFetch(
  answer: (
    url: string,
  ) => { status: number; body?: unknown; headers?: Record<string, string> } | "network-error",
): { fetch: Fetch; calls: Recorded[] } {
  const calls: Recorded[] = [];
  const fetch: Fetch = async (url, init) => {
    calls.push({ url, init });
    const reply = answer(url);
    if (reply === "network-error") throw new TypeError("Failed to fetch");
    const text = reply.body === undefined ? "" : JSON.stringify(reply.body);
    return new Response(text, {
      status: reply.status,
      headers: { "Content-Type": "application/json", ...(reply.headers ?? {}) },
    });
  };
  return { fetch, calls };
}
