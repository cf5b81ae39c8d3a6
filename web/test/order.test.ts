import assert from "node:assert/strict";
import { test } from "node:test";

import { checkDraft } from "../src/lib/order";
import { pairInfo } from "./fixtures";

const USDC = pairInfo("RTC/USDC", "evm", "USDC", 6);
const draft = {
  side: "sell" as const,
  amountText: "10",
  priceText: "0.1",
  ttlSeconds: 86400,
  quoteAddress: "0x" + "ab".repeat(20),
};

test("a sell order's preview includes the node's 5 % fee in the escrow", () => {
  const checked = checkDraft(draft, USDC);
  assert.ok(checked.ok);
  assert.equal(checked.terms.escrowMicro, 10_500_000n);
  assert.equal(checked.terms.feeMicro, 500_000n);
  assert.equal(checked.terms.totalQuoteBase, 1_000_000n);
  const buy = checkDraft({ ...draft, side: "buy" }, USDC);
  assert.ok(buy.ok);
  assert.equal(buy.terms.escrowMicro, 0n);
});

test("text that is not a number is refused with the API's words, before signing", () => {
  const checked = checkDraft({ ...draft, priceText: "1.2.3", amountText: "ten" }, USDC);
  assert.equal(checked.ok, false);
  assert.deepEqual(!checked.ok && checked.problems, [
    { field: "amount", words: "The amount must be a number, like 12.5." },
    { field: "price", words: "The price must be a number, like 0.25." },
  ]);
});

test("an EVM address needs 40 hex digits and, in mixed case, a valid checksum", () => {
  const bad = (quoteAddress: string) => {
    const checked = checkDraft({ ...draft, quoteAddress }, USDC);
    return checked.ok ? "" : checked.problems.map((p) => p.words).join(" ");
  };
  assert.match(bad(""), /Enter your USDC address/);
  assert.match(bad("0x1234"), /40 hexadecimal/);
  assert.match(bad("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"), /checksum/);
  assert.equal(bad("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"), "");
  assert.equal(bad("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"), "");
});
