import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError, BridgeApi, retryAfterSeconds } from "../src/lib/api";
import { plainWords } from "../src/lib/errors";
import { fakeFetch } from "./fixtures";

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApiError);
    return err;
  }
  assert.fail("expected a refusal");
}

test("a 429 carries Retry-After and says how long to wait", async () => {
  const { fetch, calls } = fakeFetch(() => ({
    status: 429,
    body: { error: "Rate limit exceeded", retry_after_seconds: 42 },
    headers: { "Retry-After": "17", "X-Request-Id": "req-1" },
  }));
  const err = await refusal(new BridgeApi(fetch).createOrder({ side: "buy" }));
  assert.equal(err.status, 429);
  assert.equal(err.retryAfterSeconds, 17);
  assert.equal(err.requestId, "req-1");
  assert.equal(err.words, "Too many requests. Try again in 17 s.");
  assert.equal(calls.length, 1, "a refused write is never retried on its own");
});

test("Retry-After as an HTTP date, or only in the body", () => {
  const now = Date.parse("2030-01-01T00:00:00Z");
  assert.equal(retryAfterSeconds("Tue, 01 Jan 2030 00:01:30 GMT", {}, now), 90);
  assert.equal(retryAfterSeconds(null, { retry_after_seconds: 5 }, now), 5);
  assert.equal(retryAfterSeconds("soon", {}, now), null);
});

test("refusals become plain words, values included", () => {
  assert.equal(
    plainWords(400, { error: "Minimum order: 0.1 RTC" }),
    "The amount is below the minimum order of 0.1 RTC.",
  );
  assert.equal(
    plainWords(400, { error: "Order total rounds to zero USDC base units" }),
    "The order's total is too small: it rounds to zero USDC.",
  );
  assert.equal(
    plainWords(400, { error: "Insufficient RTC balance", balance_rtc: 1, required_rtc: 10.5 }),
    "Your RTC balance (1 RTC) is too low to place this sell order: it needs 10.5 RTC, the amount plus the node's 5 % fee.",
  );
  assert.equal(
    plainWords(409, { error: "Order is not open (status: payout_pending)" }),
    "This order is no longer open (it is payout pending).",
  );
  assert.equal(
    plainWords(400, { error: "eth_address must be a 0x-prefixed 40-hex address" }, { quoteCurrency: "USDC" }),
    "Your USDC address must be 0x followed by 40 hexadecimal characters.",
  );
});

test("an unknown refusal is shown as the API wrote it", () => {
  assert.equal(
    plainWords(400, { error: "brand_new_code", message: "what happened" }),
    "The bridge refused the request: what happened",
  );
  assert.equal(plainWords(418, {}), "The bridge refused the request (HTTP 418).");
});

test("a write the bridge did not answer is never reported as not done", async () => {
  const { fetch } = fakeFetch(() => "network-error");
  const err = await refusal(new BridgeApi(fetch).createOrder({}));
  assert.equal(err.status, 0);
  assert.match(err.words, /may or may not have been carried out/);
  const failed = await refusal(new BridgeApi(fakeFetch(() => ({ status: 502 })).fetch).createOrder({}));
  assert.match(failed.words, /may or may not have been carried out/);
});

test("reads send no body and ask for JSON", async () => {
  const { fetch, calls } = fakeFetch(() => ({ status: 200, body: { ok: true, pairs: [] } }));
  await new BridgeApi(fetch).pairs();
  await new BridgeApi(fetch).trades("RTC/ETH", 20);
  assert.equal(calls[0]?.url, "/api/pairs");
  assert.equal(calls[1]?.url, "/api/trades?pair=RTC%2FETH&limit=20");
  assert.equal(calls[0]?.init?.method, "GET");
  assert.equal(calls[0]?.init?.body, undefined);
});

test("every answer's X-Server-Time sets the time the page signs with", async () => {
  let deviceMs = Date.parse("2030-01-01T00:00:00Z");
  const device = (): number => deviceMs;
  const serverSeconds = deviceMs / 1000 + 3600; // the bridge's clock is an hour ahead
  const { fetch } = fakeFetch((url) =>
    url.endsWith("/api/orders")
      ? { status: 401, body: { error: "wallet_auth_timestamp_expired" }, headers: { "X-Server-Time": "12" } }
      : { status: 200, body: { ok: true, pairs: [] }, headers: { "X-Server-Time": String(serverSeconds) } },
  );
  const api = new BridgeApi(fetch, "", device);
  assert.equal(api.clock.nowSeconds(), deviceMs / 1000, "the device's time until an answer");
  await api.pairs();
  assert.equal(api.clock.nowSeconds(), serverSeconds);
  deviceMs += 10_000;
  assert.equal(api.clock.nowSeconds(), serverSeconds + 10, "the offset is kept, time goes on");
  const refused = await refusal(api.createOrder({}));
  assert.equal(refused.code, "wallet_auth_timestamp_expired");
  assert.match(refused.words, /now signs with the bridge's time/);
  assert.equal(api.clock.nowSeconds(), 12, "a refusal's header teaches it too");
});

test("a missing or malformed X-Server-Time teaches nothing", async () => {
  const deviceMs = Date.parse("2030-01-01T00:00:00Z");
  for (const header of [undefined, "", "soon", "-5", "1e9"]) {
    const headers: Record<string, string> = header === undefined ? {} : { "X-Server-Time": header };
    const { fetch } = fakeFetch(() => ({ status: 200, body: { ok: true, pairs: [] }, headers }));
    const api = new BridgeApi(fetch, "", () => deviceMs);
    await api.pairs();
    assert.equal(api.clock.nowSeconds(), deviceMs / 1000, String(header));
  }
});
