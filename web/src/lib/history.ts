/**
 * What of an order's history a trader is shown: the events that changed its status
 * (created, taken, escrow locked, quote lock verified, revealed, claimed, paid out,
 * refunded, cancelled, expired), and once it has ended, how it ended.
 *
 * The history also holds the settlement's own progress within one status (cause `step`:
 * escrow claimed, payout requested, …; and a payout sent again): rows that change
 * nothing a trader can see or do, so they are left out.
 */

import type { OrderEvent } from "./api-types";

export const CAUSES: Record<string, string> = {
  create: "Order created",
  escrow_locked: "RTC escrow locked on the node",
  escrow_rejected: "The node refused the escrow",
  escrow_unresolved: "Escrow of unknown outcome being undone",
  match: "Taken",
  cancel: "Cancelled by its maker",
  expire: "Expired",
  match_timeout: "No verified lock in time",
  escrow_lost: "Escrow lost on the node",
  refund_confirmed: "RTC escrow refunded",
  lock_verified: "Quote payment locked and verified",
  lock_expired: "Quote lock expired unclaimed",
  confirm: "Secret revealed",
  quote_claimed: "Secret revealed by the on-chain claim",
  payout_queued: "RTC payout queued on the node",
  payout_redriven: "RTC payout sent again",
  payout_confirmed: "RTC payout confirmed",
  payout_voided: "RTC payout voided",
  settlement_failed: "Settlement needs an operator",
  operator: "Operator action",
};

export const TERMINAL: ReadonlySet<string> = new Set(["completed", "cancelled", "expired"]);

/** The events a trader sees: those that changed the order's status. */
export function traderEvents(events: readonly OrderEvent[]): OrderEvent[] {
  return events.filter((e) => e.from !== e.to);
}

// Why an order ended, by the cause of the event that ended it.
const ENDINGS: Record<string, string> = {
  payout_confirmed: "the RTC payout to the buyer is confirmed",
  operator: "an operator settled it",
  cancel: "its maker cancelled it",
  escrow_rejected: "the node refused the RTC escrow",
  escrow_unresolved: "the RTC escrow did not go through",
  refund_confirmed: "the RTC escrow went back to the seller",
  expire: "nobody took it in time",
  match_timeout: "no verified quote lock came in time",
  lock_expired: "the quote lock's timelock passed unclaimed",
};

export interface Outcome {
  readonly status: string;
  readonly at: number | null;
  readonly words: string;
}

/** How an ended order ended (null while it has not): its final status, when, and why. */
export function outcome(status: string, events: readonly OrderEvent[]): Outcome | null {
  if (!TERMINAL.has(status)) return null;
  const changes = traderEvents(events).reverse(); // the latest first
  const last = changes.find((e) => e.to === status);
  const title = status.charAt(0).toUpperCase() + status.slice(1);
  if (last === undefined) return { status, at: null, words: `${title}.` };
  let why = ending(last);
  if (last.cause === "refund_confirmed") {
    // The refund ends the order; what started it (a cancel, an expiry) is the reason.
    const start = changes.find((e) => e.to === "refund_pending" && e.seq < last.seq);
    if (start !== undefined) why = `${ending(start)}; ${why}`;
  }
  return { status, at: last.at, words: `${title}: ${why}.` };
}

function ending(e: OrderEvent): string {
  return ENDINGS[e.cause] ?? (CAUSES[e.cause] ?? e.cause.replace(/_/g, " ")).toLowerCase();
}
