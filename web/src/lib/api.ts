/**
 * The bridge's HTTP API from the page: same-origin fetch, JSON in and out, and every
 * refusal turned into an `ApiError` that carries the API's code and the same refusal in
 * plain words. A 429 carries how long to wait (Retry-After); nothing here retries a
 * write on its own, because a signed request is accepted once and a retry must be signed
 * afresh by the person who asked for it. Every answer's `X-Server-Time` sets `clock`, the
 * time the page signs with.
 */

import type {
  CreateOrderResponse,
  EventsResponse,
  OrderDetailResponse,
  OrderbookResponse,
  OrdersResponse,
  PairsResponse,
  TradesResponse,
} from "./api-types";
import { type WordsContext, plainWords } from "./errors";
import { ServerClock } from "./server-clock";

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    /** HTTP status, or 0 when the bridge could not be reached at all. */
    readonly status: number,
    /** The API's `error` field ("" when there was no JSON answer). */
    readonly code: string,
    /** The refusal in words for a person. */
    readonly words: string,
    readonly body: Readonly<Record<string, unknown>>,
    readonly retryAfterSeconds: number | null,
    readonly requestId: string | null,
  ) {
    super(words);
  }
}

/** Retry-After as seconds: delta-seconds or an HTTP date; the body's field as fallback. */
export function retryAfterSeconds(header: string | null, body: unknown, nowMs: number): number | null {
  const text = header?.trim() ?? "";
  if (/^\d+$/.test(text)) return Number(text);
  if (text !== "") {
    const at = Date.parse(text);
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - nowMs) / 1000));
  }
  const field = isRecord(body) ? body["retry_after_seconds"] : undefined;
  return typeof field === "number" && Number.isFinite(field) && field >= 0 ? Math.ceil(field) : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export class BridgeApi {
  constructor(
    private readonly fetcher: Fetch = (input, init) => fetch(input, init),
    private readonly base = "",
    private readonly now: () => number = () => Date.now(),
    readonly clock: ServerClock = new ServerClock(now),
  ) {}

  /** The answer's JSON when the status is 2xx; an ApiError otherwise. The JSON's shape is
   * the API's (docs/api.md); the page reads integers through `jsonInteger`. */
  private async call<T>(
    method: "GET" | "POST",
    path: string,
    body: unknown,
    context: WordsContext,
  ): Promise<T> {
    let response: Response;
    try {
      response = await this.fetcher(this.base + path, {
        method,
        headers:
          body === undefined
            ? { Accept: "application/json" }
            : {
                Accept: "application/json",
                "Content-Type": "application/json",
              },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch {
      const words =
        method === "GET"
          ? "Could not reach the bridge. Check your connection; the page keeps trying."
          : "The bridge did not answer. The request may or may not have been carried out: " +
            "look at the order book and your orders before trying again.";
      throw new ApiError(0, "", words, {}, null, null);
    }
    this.clock.observe(response.headers.get("X-Server-Time"));
    const parsed: unknown = await response.json().catch(() => null);
    if (response.ok && isRecord(parsed)) return parsed as T;
    const data = isRecord(parsed) ? parsed : {};
    const code = typeof data["error"] === "string" ? data["error"] : "";
    const retry =
      response.status === 429
        ? retryAfterSeconds(response.headers.get("Retry-After"), data, this.now())
        : null;
    const requestId = response.headers.get("X-Request-Id");
    const words = plainWords(response.status, data, {
      ...context,
      retryAfterSeconds: retry,
      requestId,
      method,
    });
    throw new ApiError(response.status, code, words, data, retry, requestId);
  }

  private get<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const query = new URLSearchParams(params).toString();
    return this.call<T>("GET", query ? `${path}?${query}` : path, undefined, {});
  }

  pairs(): Promise<PairsResponse> {
    return this.get("/api/pairs");
  }

  orderbook(pair: string): Promise<OrderbookResponse> {
    return this.get("/api/orderbook", { pair });
  }

  trades(pair: string, limit: number): Promise<TradesResponse> {
    return this.get("/api/trades", { pair, limit: String(limit) });
  }

  openOrders(pair: string, limit: number): Promise<OrdersResponse> {
    return this.get("/api/orders", { pair, limit: String(limit) });
  }

  createOrder(body: object, context: WordsContext = {}): Promise<CreateOrderResponse> {
    return this.call<CreateOrderResponse>("POST", "/api/orders", body, context);
  }

  /** One wallet's orders, as maker or taker, every status, newest first. */
  walletOrders(wallet: string, limit = 50): Promise<OrdersResponse> {
    return this.get("/api/orders", { wallet, limit: String(limit) });
  }

  order(orderId: string): Promise<OrderDetailResponse> {
    return this.get(`/api/orders/${encodeURIComponent(orderId)}`);
  }

  events(orderId: string): Promise<EventsResponse> {
    return this.get(`/api/orders/${encodeURIComponent(orderId)}/events`);
  }

  /** The order's live stream (SSE); same origin, so the page's CSP allows it. */
  streamUrl(orderId: string): string {
    return `${this.base}/api/orders/${encodeURIComponent(orderId)}/stream`;
  }

  private action(
    orderId: string,
    verb: string,
    body: object,
    context: WordsContext,
  ): Promise<Record<string, unknown>> {
    return this.call("POST", `/api/orders/${encodeURIComponent(orderId)}/${verb}`, body, context);
  }

  match(orderId: string, body: object, context: WordsContext = {}): Promise<Record<string, unknown>> {
    return this.action(orderId, "match", body, context);
  }

  cancel(orderId: string, body: object, context: WordsContext = {}): Promise<Record<string, unknown>> {
    return this.action(orderId, "cancel", body, context);
  }

  confirm(orderId: string, body: object, context: WordsContext = {}): Promise<Record<string, unknown>> {
    return this.action(orderId, "confirm", body, context);
  }

  /** Report B's HTLC lock; the bridge reads it from the chain (design §3). */
  reportLock(orderId: string, quoteTx: string, context: WordsContext = {}): Promise<OrderDetailResponse> {
    return this.call(
      "POST",
      `/api/orders/${encodeURIComponent(orderId)}/lock`,
      { quote_tx: quoteTx },
      context,
    );
  }
}
