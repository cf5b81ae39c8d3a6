/**
 * The quote leg's HTLC contract as the page calls it (its interface is public:
 * /work/shared/specs/htlc-contract.md, docs/chains.md), and the choice of a lock's
 * timelock inside what the bridge accepts (domain/htlc_terms.py `check_lock`).
 */

import type { Hex } from "viem";

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

export const HTLC_ABI = [
  {
    type: "function",
    name: "lock",
    stateMutability: "payable",
    inputs: [
      { name: "receiver", type: "address" },
      { name: "hashlock", type: "bytes32" },
      { name: "timelock", type: "uint256" },
      { name: "token", type: "address" },
      { name: "amount", type: "uint256" },
      { name: "orderRef", type: "bytes32" },
    ],
    outputs: [{ name: "id", type: "bytes32" }],
  },
  {
    type: "function",
    name: "claim",
    stateMutability: "nonpayable",
    inputs: [
      { name: "id", type: "bytes32" },
      { name: "preimage", type: "bytes32" },
    ],
    outputs: [],
  },
  {
    type: "function",
    name: "refund",
    stateMutability: "nonpayable",
    inputs: [{ name: "id", type: "bytes32" }],
    outputs: [],
  },
  {
    type: "function",
    name: "getLock",
    stateMutability: "view",
    inputs: [{ name: "id", type: "bytes32" }],
    outputs: [
      { name: "sender", type: "address" },
      { name: "receiver", type: "address" },
      { name: "token", type: "address" },
      { name: "amount", type: "uint256" },
      { name: "hashlock", type: "bytes32" },
      { name: "timelock", type: "uint256" },
      { name: "orderRef", type: "bytes32" },
      { name: "state", type: "uint8" },
    ],
  },
  {
    type: "event",
    name: "Locked",
    inputs: [
      { name: "id", type: "bytes32", indexed: true },
      { name: "sender", type: "address", indexed: true },
      { name: "receiver", type: "address", indexed: true },
      { name: "token", type: "address", indexed: false },
      { name: "amount", type: "uint256", indexed: false },
      { name: "hashlock", type: "bytes32", indexed: false },
      { name: "timelock", type: "uint256", indexed: false },
      { name: "orderRef", type: "bytes32", indexed: false },
    ],
  },
] as const;

export const ERC20_ABI = [
  {
    type: "function",
    name: "approve",
    stateMutability: "nonpayable",
    inputs: [
      { name: "spender", type: "address" },
      { name: "amount", type: "uint256" },
    ],
    outputs: [{ name: "", type: "bool" }],
  },
  {
    type: "function",
    name: "allowance",
    stateMutability: "view",
    inputs: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
    ],
    outputs: [{ name: "", type: "uint256" }],
  },
  {
    type: "function",
    name: "balanceOf",
    stateMutability: "view",
    inputs: [{ name: "owner", type: "address" }],
    outputs: [{ name: "", type: "uint256" }],
  },
] as const;

export const LOCK_STATES = ["none", "locked", "claimed", "refunded"] as const;
export type LockState = (typeof LOCK_STATES)[number];

/** The order id as ASCII, right-padded with zero bytes to 32 (the contract's `orderRef`). */
export function orderRef(orderId: string): Hex {
  const bytes = new TextEncoder().encode(orderId).slice(0, 32);
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `0x${hex.padEnd(64, "0")}`;
}

export function bytes32(hexNo0x: string): Hex {
  const clean = hexNo0x.toLowerCase().replace(/^0x/, "");
  if (!/^[0-9a-f]{64}$/.test(clean)) throw new Error("not 32 bytes of hex");
  return `0x${clean}`;
}

export interface TimelockWindow {
  /** The chain's latest block time: the lock's block is at least this late. */
  readonly chainNow: number;
  readonly minSeconds: number;
  readonly maxSeconds: number;
  readonly claimMarginSeconds: number;
  /** The RTC escrow's expiry and the margin the bridge keeps before it. */
  readonly escrowExpiresAt: number | null;
  readonly settlementMarginSeconds: number;
}

export type TimelockChoice = { ok: true; timelock: number } | { ok: false; words: string };

// Slack for the blocks between reading the chain's time and the lock being mined.
const MINING_SLACK = 120;

/**
 * The latest timelock the bridge accepts, so the seller has the most time to reveal:
 * at most `maxSeconds` after the lock's block and no later than the escrow's expiry
 * minus the settlement margin; refused when that leaves less than `minSeconds`.
 */
export function chooseTimelock(w: TimelockWindow): TimelockChoice {
  let timelock = w.chainNow + w.maxSeconds;
  if (w.escrowExpiresAt !== null) {
    timelock = Math.min(timelock, w.escrowExpiresAt - w.settlementMarginSeconds - MINING_SLACK);
  }
  const shortest = w.chainNow + Math.max(w.minSeconds, w.claimMarginSeconds) + MINING_SLACK;
  if (timelock < shortest) {
    return {
      ok: false,
      words:
        "Too little time is left before the seller's RTC escrow expires for a lock the bridge would accept. Do not lock: the match will be undone.",
    };
  }
  return { ok: true, timelock };
}
