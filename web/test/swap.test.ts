import assert from "node:assert/strict";
import { test } from "node:test";

import type { OrderDetail } from "../src/lib/api-types";
import { chooseTimelock, orderRef } from "../src/lib/htlc";
import {
  WAITING_FOR_PAYOUT,
  derivedNextAction,
  nextAction,
  roleOf,
  statusWords,
} from "../src/lib/next-action";

const S = "RTC" + "1".repeat(40);
const B = "RTC" + "2".repeat(40);

function order(over: Partial<OrderDetail>): OrderDetail {
  return {
    order_id: "otc_0123456789abcdef",
    side: "sell",
    pair: "RTC/USDC",
    maker_wallet: S,
    amount_micro_rtc: 1_000_000,
    price_per_rtc_nano_quote: 100_000_000,
    total_quote_base_units: "100000",
    quote_currency: "USDC",
    status: "matched",
    created_at: 1000,
    expires_at: 90000,
    htlc_hash: "ab".repeat(32),
    quote_decimals: 6,
    maker_eth_address: "0x" + "aa".repeat(20),
    taker_wallet: B,
    taker_eth_address: "0x" + "bb".repeat(20),
    escrow_expires_at: 100000,
    settlement_tx: null,
    payout_tx_hash: null,
    deadlines: {
      expires_at: 90000,
      match_deadline: 5000,
      quote_timelock: 20000,
      claim_deadline: 19000,
      refundable_at: 20100,
      escrow_expires_at: 100000,
    },
    quote_lock: null,
    ...over,
  };
}

test("the order ref is the order id as ASCII, right-padded to 32 bytes", () => {
  const ref = orderRef("otc_0123456789abcdef");
  assert.equal(ref.length, 66);
  assert.ok(ref.startsWith("0x6f74635f"));
  assert.ok(ref.endsWith("0".repeat(24)));
});

test("the timelock is the latest the bridge accepts, and refused when too little time is left", () => {
  const w = {
    chainNow: 1000,
    minSeconds: 3600,
    maxSeconds: 86400,
    claimMarginSeconds: 600,
    settlementMarginSeconds: 1800,
  };
  assert.deepEqual(chooseTimelock({ ...w, escrowExpiresAt: null }), { ok: true, timelock: 87400 });
  // The escrow's expiry minus the margin (and mining slack) caps it.
  assert.deepEqual(chooseTimelock({ ...w, escrowExpiresAt: 50000 }), {
    ok: true,
    timelock: 50000 - 1800 - 120,
  });
  assert.equal(chooseTimelock({ ...w, escrowExpiresAt: 6000 }).ok, false);
});

test("roles: the RTC seller is a sell order's maker and a buy order's taker", () => {
  assert.equal(roleOf(order({}), S), "rtc_seller");
  assert.equal(roleOf(order({}), B), "rtc_buyer");
  assert.equal(roleOf(order({ side: "buy", maker_wallet: B, taker_wallet: S }), S), "rtc_seller");
  assert.equal(roleOf(order({}), "RTC" + "3".repeat(40)), "viewer");
  assert.equal(roleOf(order({}), null), "viewer");
});

test("the next action follows the status; payout_pending is never done", () => {
  const at = (status: string, role: "rtc_seller" | "rtc_buyer", now = 2000) =>
    derivedNextAction(order({ status }), role, now).code;
  assert.equal(at("matched", "rtc_buyer"), "lock_quote");
  assert.equal(at("matched", "rtc_seller"), "wait_for_lock");
  assert.equal(at("quote_locked", "rtc_seller"), "reveal");
  assert.equal(at("quote_locked", "rtc_seller", 19000), "none"); // past the claim deadline
  assert.equal(at("quote_locked", "rtc_buyer"), "wait_for_reveal");
  assert.equal(at("payout_pending", "rtc_seller"), "claim_quote");
  const payout = derivedNextAction(order({ status: "payout_pending" }), "rtc_buyer", 2000);
  assert.equal(payout.code, "wait_for_payout");
  assert.equal(payout.label, WAITING_FOR_PAYOUT);
  assert.equal(statusWords("payout_pending"), "waiting for the RTC payout to confirm");
  assert.equal(at("open", "rtc_seller"), "wait_for_match");
  assert.equal(at("open", "rtc_seller", 95000), "cancel"); // expired unmatched
  const ended = order({ status: "expired", quote_lock: { lock_id: "0x" + "1".repeat(64) } });
  assert.equal(derivedNextAction(ended, "rtc_buyer", 30000).code, "refund_quote");
  assert.equal(derivedNextAction(order({ status: "expired" }), "rtc_buyer", 30000).code, "none");
});

test("the bridge's next_actions win over the page's own derivation", () => {
  const served = order({
    status: "quote_locked",
    next_actions: { rtc_seller: { code: "none", label: "Too late", deadline: null } },
  });
  assert.equal(nextAction(served, "rtc_seller", 2000).code, "none");
  assert.equal(nextAction(served, "rtc_buyer", 2000).code, "wait_for_reveal");
});

test("the quote leg's refusals are in plain words, with the bridge's values", async () => {
  const { plainWords } = await import("../src/lib/errors");
  assert.equal(
    plainWords(409, { error: "quote_locked", message: "refundable at 1700000000" }),
    "The payment is locked on-chain, so the order can no longer be cancelled. (refundable at 1700000000)",
  );
  assert.equal(
    plainWords(422, { error: "wrong_sender" }),
    "The lock was made from another address than the buyer's.",
  );
  assert.match(plainWords(409, { error: "claim_deadline_passed" }), /claim the payment on-chain/);
});
