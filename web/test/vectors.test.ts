// The page's modules against the values the Python domain code computed: byte-identical
// signed messages, identical signatures (Ed25519 is deterministic) and addresses, with
// WebCrypto and with the @noble/ed25519 fallback alike.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { type Ed25519Backend, nobleBackend, passesProbe, webCryptoBackend } from "../src/lib/ed25519";
import { addressFromPublicKey, canonicalWallet } from "../src/lib/address";
import { plainWords } from "../src/lib/errors";
import { bytesToHex, hexToBytes } from "../src/lib/hex";
import { keyFromSeed } from "../src/lib/keys";
import { parseUnits } from "../src/lib/money";
import { checkDraft, signedCreateBody } from "../src/lib/order";
import { hashlockOf } from "../src/lib/preimage";
import { escrowMicro, nodeFeeMicro, totalQuoteBase, totalQuoteNano } from "../src/lib/terms";
import { type Bound, signedMessage, walletAuth } from "../src/lib/wallet-auth";
import { pairInfo } from "./fixtures";
import { vectors } from "./vectors";

const INTEGER_FIELDS = new Set(["amount_micro_rtc", "price_per_rtc_nano_quote"]);

/** The page holds money as bigint; the vectors' JSON numbers become bigint here. */
function asPageBound(bound: Record<string, string | number>): Bound {
  return Object.fromEntries(
    Object.entries(bound).map(([k, v]) => [
      k,
      INTEGER_FIELDS.has(k) && typeof v === "number" ? BigInt(v) : v,
    ]),
  );
}

const backends: Array<[string, () => Promise<Ed25519Backend>]> = [
  ["webcrypto", async () => webCryptoBackend(globalThis.crypto.subtle)],
  ["noble", () => nobleBackend()],
];

for (const [name, make] of backends) {
  describe(`Ed25519 through ${name}`, () => {
    test("passes the RFC 8032 probe the page runs before trusting a backend", async () => {
      assert.equal(await passesProbe(await make()), true);
    });

    test("derives the public keys and RTC addresses of domain/rustchain", async () => {
      const backend = await make();
      for (const v of vectors.keys) {
        const key = await keyFromSeed(hexToBytes(v.seed, 32), backend);
        assert.equal(bytesToHex(key.publicKey), v.public_key);
        assert.equal(key.address, v.address);
        assert.equal(key.exportSeedHex(), v.seed);
      }
    });

    test("signs byte-identical messages with identical signatures", async () => {
      const backend = await make();
      for (const v of vectors.wallet_auth) {
        const key = await keyFromSeed(hexToBytes(v.seed, 32), backend);
        for (const bound of [v.bound, asPageBound(v.bound)]) {
          const terms = {
            action: v.action,
            orderId: v.order_id,
            timestamp: v.timestamp,
            wallet: v.wallet,
            bound,
          };
          assert.equal(signedMessage(terms), v.message, v.what);
          const auth = await walletAuth(key, terms);
          assert.equal(auth.signature, v.signature, v.what);
          assert.equal(auth.public_key, bytesToHex(key.publicKey));
          assert.equal(auth.timestamp, v.timestamp);
        }
        assert.equal(canonicalWallet(v.wallet), v.canonical_wallet, v.what);
      }
    });

    test("builds create-order requests the bridge reads as the same signed terms", async () => {
      const backend = await make();
      for (const v of vectors.create_orders) {
        const t = v.typed;
        const key = await keyFromSeed(hexToBytes(v.seed, 32), backend);
        const checked = checkDraft(
          {
            side: t.side,
            amountText: t.amount,
            priceText: t.price,
            ttlSeconds: t.ttl_seconds,
            quoteAddress: t.quote_address,
          },
          pairInfo(t.pair, t.chain, t.quote_currency, t.quote_decimals),
        );
        assert.ok(checked.ok, checked.ok ? "" : JSON.stringify(checked.problems));
        assert.equal(checked.terms.totalQuoteBase, BigInt(v.total_quote_base));
        assert.equal(checked.terms.escrowMicro, BigInt(v.escrow_micro));
        const body = await signedCreateBody(key, checked.terms, t.htlc_hash, v.timestamp);
        const auth = body["wallet_auth"] as { signature: string };
        assert.equal(auth.signature, v.signature, JSON.stringify(t));
        // What the body says, read back the bridge's way, is what was signed.
        const amount = parseUnits(String(body["amount_rtc"]), 6);
        const price = parseUnits(String(body["price_per_rtc"]), 9);
        assert.deepEqual(amount, { ok: true, units: BigInt(v.bound["amount_micro_rtc"] ?? -1) });
        assert.deepEqual(price, { ok: true, units: BigInt(v.bound["price_per_rtc_nano_quote"] ?? -1) });
        assert.equal(body["eth_address"], v.bound["eth_address"]);
        assert.equal(body["htlc_hash"], v.bound["htlc_hash"]);
        assert.equal(body["wallet"], key.address);
      }
    });
  });
}

test("addresses come from sha256 of the public key", async () => {
  for (const v of vectors.keys) {
    assert.equal(await addressFromPublicKey(hexToBytes(v.public_key, 32)), v.address);
  }
});

test("hashlocks are sha256 of the preimage, as domain/hashing computes them", async () => {
  for (const v of vectors.hashlocks) {
    assert.equal(await hashlockOf(hexToBytes(v.preimage, 32)), v.hashlock);
  }
});

test("decimal text becomes the same base units, or the same refusal", () => {
  for (const v of vectors.amounts) {
    const parsed = parseUnits(v.text, v.decimals);
    const expected = v.units === null ? { ok: false, reason: v.error } : { ok: true, units: BigInt(v.units) };
    assert.deepEqual(parsed, expected, `${JSON.stringify(v.text)} at ${v.decimals} decimals`);
  }
});

test("quote totals round half up like domain/pairs", () => {
  for (const v of vectors.totals) {
    const amount = BigInt(v.amount_micro);
    const price = BigInt(v.price_nano);
    assert.equal(totalQuoteBase(v.decimals, amount, price), BigInt(v.total_quote_base), v.pair);
    assert.equal(totalQuoteNano(amount, price), BigInt(v.total_quote_nano));
  }
});

test("the escrow is the reward plus the node's 5 % fee, as domain/rustchain computes it", () => {
  for (const v of vectors.escrow) {
    assert.equal(nodeFeeMicro(BigInt(v.reward_micro)), BigInt(v.fee_micro), String(v.reward_micro));
    assert.equal(escrowMicro(BigInt(v.reward_micro)), BigInt(v.escrow_micro));
  }
});

test("every wallet_auth refusal of the bridge has its own plain words", () => {
  const generic = plainWords(401, { error: "some_code_nobody_knows" });
  for (const code of vectors.wallet_auth_errors) {
    const words = plainWords(401, { error: code });
    assert.notEqual(words, generic.replace("some_code_nobody_knows", code), code);
    assert.doesNotMatch(words, /wallet_auth|_/, code);
  }
});
