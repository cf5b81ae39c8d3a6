/**
 * The one next action of a trader on an order. The bridge computes it
 * (`domain/next_action.py`, served as `next_actions` in the order JSON, shared with the
 * trader CLI); the page uses the bridge's answer when it has one and otherwise derives
 * the same codes from the status, so it never invents a step the bridge would refuse.
 *
 * `payout_pending` is never "done": the RTC buyer reads "waiting for the RTC payout to
 * confirm" until the bridge says `completed`.
 */

import type { NextActionView, OrderDetail } from "./api-types";

export type Role = "rtc_seller" | "rtc_buyer" | "viewer";

export interface NextAction {
  readonly code: string;
  readonly label: string;
  readonly deadline: number | null;
}

export const WAITING_FOR_PAYOUT = "Waiting for the RTC payout to confirm";

/** Who `wallet` is on this order: the RTC seller is a sell order's maker or a buy order's taker. */
export function roleOf(
  order: Pick<OrderDetail, "side" | "maker_wallet" | "taker_wallet">,
  wallet: string | null,
): Role {
  if (wallet === null) return "viewer";
  const maker = order.maker_wallet === wallet;
  const taker = order.taker_wallet === wallet;
  if (!maker && !taker) return "viewer";
  const sellerIsMaker = order.side === "sell";
  return maker === sellerIsMaker ? "rtc_seller" : "rtc_buyer";
}

/** The RTC seller's and buyer's quote addresses (receiver and sender of the lock). */
export function quoteAddresses(order: OrderDetail): { receiver: string | null; sender: string | null } {
  return order.side === "sell"
    ? { receiver: order.maker_eth_address, sender: order.taker_eth_address }
    : { receiver: order.taker_eth_address, sender: order.maker_eth_address };
}

function fromBridge(order: OrderDetail, role: Role): NextAction | null {
  if (role === "viewer") return null;
  const served: NextActionView | undefined = order.next_actions?.[role];
  if (served === undefined || served === null || typeof served.code !== "string") return null;
  return { code: served.code, label: served.label, deadline: served.deadline ?? null };
}

/** The status-derived next action (the bridge's rules, design §5). */
export function derivedNextAction(order: OrderDetail, role: Role, now: number): NextAction {
  const d = order.deadlines;
  const none = (label: string): NextAction => ({ code: "none", label, deadline: null });
  if (role === "viewer") return none("You are not a party to this order.");
  const seller = role === "rtc_seller";
  const isMaker = (order.side === "sell") === seller;
  switch (order.status) {
    case "opening":
      return none("The RTC escrow is being locked on the node.");
    case "open":
      if (isMaker && d.expires_at !== null && now > d.expires_at) {
        return { code: "cancel", label: "Your order has expired unmatched: cancel it.", deadline: null };
      }
      return {
        code: "wait_for_match",
        label: isMaker
          ? "Waiting for a taker (you may cancel until someone matches)."
          : "Waiting for a taker.",
        deadline: d.expires_at,
      };
    case "matching":
      return none("The seller's RTC escrow is being locked on the node.");
    case "matched":
      return seller
        ? {
            code: "wait_for_lock",
            label: "Waiting for the buyer to lock the quote payment.",
            deadline: d.match_deadline,
          }
        : { code: "lock_quote", label: "Lock the payment in the HTLC contract.", deadline: d.match_deadline };
    case "quote_locked":
      if (seller) {
        return d.claim_deadline !== null && now >= d.claim_deadline
          ? none("Too late to reveal: the buyer's lock will be refunded and your escrow returned.")
          : { code: "reveal", label: "Reveal your secret to get paid.", deadline: d.claim_deadline };
      }
      return {
        code: "wait_for_reveal",
        label: "Waiting for the seller to reveal the secret.",
        deadline: d.claim_deadline,
      };
    case "settling":
    case "payout_pending":
      return seller
        ? { code: "claim_quote", label: "Claim your payment on the quote chain.", deadline: d.quote_timelock }
        : { code: "wait_for_payout", label: WAITING_FOR_PAYOUT, deadline: null };
    case "completed":
      return seller
        ? {
            code: "claim_quote",
            label: "Claim your payment on the quote chain if you have not yet.",
            deadline: d.quote_timelock,
          }
        : none("Done: the RTC payout is confirmed.");
    case "settlement_recovery":
      return none("An operator is resolving this order's settlement.");
    case "refund_pending":
    case "expired":
    case "cancelled":
      if (!seller && order.quote_lock !== null && order.quote_lock !== undefined) {
        return { code: "refund_quote", label: "Take your locked payment back.", deadline: d.quote_timelock };
      }
      return none(
        order.status === "refund_pending" ? "The RTC escrow is being refunded." : "This order has ended.",
      );
    default:
      return none(`Status: ${order.status.replace(/_/g, " ")}.`);
  }
}

/** The maker of an open order may always cancel it, whatever the next action says. */
export function mayCancel(order: OrderDetail, role: Role): boolean {
  if (role === "viewer" || order.status !== "open") return false;
  return (order.side === "sell") === (role === "rtc_seller");
}

export function nextAction(order: OrderDetail, role: Role, now: number): NextAction {
  return fromBridge(order, role) ?? derivedNextAction(order, role, now);
}

/** Status words for a person; `payout_pending` is not done. */
export function statusWords(status: string): string {
  const words: Record<string, string> = {
    opening: "locking the RTC escrow",
    open: "open",
    matching: "being taken",
    matched: "matched: waiting for the buyer's lock",
    quote_locked: "payment locked: waiting for the seller's reveal",
    settling: "settling",
    payout_pending: "waiting for the RTC payout to confirm",
    settlement_recovery: "settlement needs an operator",
    refund_pending: "refunding the RTC escrow",
    completed: "completed",
    cancelled: "cancelled",
    expired: "expired",
  };
  return words[status] ?? status.replace(/_/g, " ");
}
