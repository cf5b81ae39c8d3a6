// The shared test vectors that the Python domain code wrote (tests/vectors/generate.py).

import { readFileSync } from "node:fs";
import { resolve } from "node:path";

export interface Vectors {
  keys: Array<{ seed: string; public_key: string; address: string }>;
  wallet_auth: Array<{
    what: string;
    seed: string;
    action: string;
    order_id: string;
    timestamp: number;
    wallet: string;
    canonical_wallet: string;
    bound: Record<string, string | number>;
    message: string;
    signature: string;
  }>;
  create_orders: Array<{
    seed: string;
    timestamp: number;
    typed: {
      side: "buy" | "sell";
      pair: string;
      chain: string;
      quote_currency: string;
      quote_decimals: number;
      amount: string;
      price: string;
      ttl_seconds: number;
      quote_address: string;
      htlc_hash: string | null;
    };
    bound: Record<string, string | number>;
    total_quote_base: string;
    escrow_micro: number;
    message: string;
    signature: string;
  }>;
  hashlocks: Array<{ preimage: string; hashlock: string }>;
  amounts: Array<{ text: string; decimals: number; units: string | null; error: string | null }>;
  totals: Array<{
    pair: string;
    decimals: number;
    amount_micro: number;
    price_nano: number;
    total_quote_base: string;
    total_quote_nano: string;
  }>;
  escrow: Array<{ reward_micro: number; fee_micro: number; escrow_micro: number }>;
  wallet_auth_errors: string[];
}

// npm runs the tests from web/; the vectors live in the Python test tree.
export const VECTORS_PATH = resolve(process.cwd(), "..", "tests", "vectors", "wallet_auth.json");

export const vectors: Vectors = JSON.parse(readFileSync(VECTORS_PATH, "utf8"));
