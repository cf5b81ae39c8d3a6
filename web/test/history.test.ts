import assert from "node:assert/strict";
import { test } from "node:test";

import type { OrderEvent } from "../src/lib/api-types";
import { outcome, traderEvents } from "../src/lib/history";

let seq = 0;
function event(from: string | null, to: string, cause: string, at = 1000 + seq): OrderEvent {
  seq += 1;
  return { seq, from, to, cause, at };
}

// A sell order's whole swap as the bridge records it, settlement steps included.
const swap: OrderEvent[] = [
  event(null, "opening", "create"),
  event("opening", "open", "escrow_locked"),
  event("open", "matched", "match"),
  event("matched", "quote_locked", "lock_verified"),
  event("quote_locked", "settling", "confirm"),
  event("settling", "settling", "step"),
  event("settling", "settling", "step"),
  event("settling", "payout_pending", "payout_queued"),
  event("payout_pending", "payout_pending", "payout_redriven"),
  event("payout_pending", "completed", "payout_confirmed", 5000),
];

test("a trader sees the status changes of the history, not the settlement's steps", () => {
  assert.deepEqual(
    traderEvents(swap).map((e) => e.cause),
    ["create", "escrow_locked", "match", "lock_verified", "confirm", "payout_queued", "payout_confirmed"],
  );
});

test("an ended order says how and when it ended; a live one has no outcome", () => {
  assert.deepEqual(outcome("completed", swap), {
    status: "completed",
    at: 5000,
    words: "Completed: the RTC payout to the buyer is confirmed.",
  });
  assert.equal(outcome("payout_pending", swap.slice(0, -1)), null);
  const expired = [
    event(null, "opening", "create"),
    event("opening", "open", "escrow_locked"),
    event("open", "refund_pending", "expire"),
    event("refund_pending", "expired", "refund_confirmed", 7000),
  ];
  assert.deepEqual(outcome("expired", expired), {
    status: "expired",
    at: 7000,
    words: "Expired: nobody took it in time; the RTC escrow went back to the seller.",
  });
  const cancelled = [event(null, "open", "create"), event("open", "cancelled", "cancel", 9000)];
  assert.equal(outcome("cancelled", cancelled)?.words, "Cancelled: its maker cancelled it.");
  assert.deepEqual(outcome("cancelled", []), { status: "cancelled", at: null, words: "Cancelled." });
});
