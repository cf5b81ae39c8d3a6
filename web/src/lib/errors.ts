/**
 * The API's refusals in plain words. The API keeps the reference bridge's error strings
 * (some are sentences with values inside, some are codes like `wallet_auth_replayed`);
 * each known one maps to a sentence a trader can act on. An unknown one is shown as the
 * API wrote it, never hidden.
 */

import { formatDuration } from "./durations";

export interface WordsContext {
  readonly quoteCurrency?: string;
  readonly retryAfterSeconds?: number | null;
  readonly requestId?: string | null;
  readonly method?: "GET" | "POST";
}

type Body = Readonly<Record<string, unknown>>;
type Words = string | ((match: RegExpMatchArray, body: Body, ctx: WordsContext) => string);

const CLOCK = "Check that your device's clock is right, then submit again (the page signs afresh).";
const SIGN_AGAIN = "Submit again: the page signs the request afresh.";

/** Exact error strings and codes. */
const EXACT: Readonly<Record<string, Words>> = {
  // request shape
  "JSON body required": "The bridge received an empty request. Reload the page and try again.",
  "JSON object required": "The bridge could not read the request. Reload the page and try again.",
  invalid_request: "The bridge could not read the request. Reload the page and try again.",
  request_too_large: "The request is too large for the bridge.",
  "ttl_seconds must be an integer": "The order's lifetime must be a whole number of seconds.",
  "amount_rtc must be a finite decimal number": "The amount must be a number, like 12.5.",
  "price_per_rtc must be a finite decimal number": "The price must be a number, like 0.25.",
  // terms
  "side must be 'buy' or 'sell'": "Choose whether you buy or sell RTC.",
  "wallet required (RTC wallet ID)": "Create or import a key first: your key's address is your RTC wallet.",
  "wallet required": "Create or import a key first: your key's address is your RTC wallet.",
  "Minimum order: 0.1 RTC": "The amount is below the minimum order of 0.1 RTC.",
  "Maximum order: 10000 RTC":
    "The amount is above the maximum order of 10,000 RTC (the node's escrow limit).",
  "price_per_rtc must be positive": "The price must be more than zero.",
  "price_per_rtc too high (max $1000)": "The price is above the maximum of 1000 per RTC.",
  "eth_address is too long": "The address is too long.",
  "eth_address must be a 0x-prefixed 40-hex address": (_m, _b, ctx) =>
    `Your ${ctx.quoteCurrency ?? "quote-chain"} address must be 0x followed by 40 hexadecimal characters.`,
  "eth_address must be a base58 Ergo address": "Your Ergo address is not a valid base58 Ergo address.",
  "htlc_hash must be 64 hex characters (sha256 of the preimage)":
    "The swap secret's hash must be 64 hexadecimal characters.",
  "htlc_hash is only accepted from the RTC seller": "Only the RTC seller provides a swap secret.",
  // balances and escrow
  "Insufficient RTC balance": (_m, body) => balanceWords(body, "place this sell order"),
  "Insufficient RTC balance to fill this buy order": (_m, body) => balanceWords(body, "fill this buy order"),
  "Failed to lock RTC in escrow": (_m, body) => {
    const details = typeof body["details"] === "string" && body["details"] ? ` (${body["details"]})` : "";
    return `The RustChain node refused to lock your RTC in escrow${details}. No order was created and nothing was taken.`;
  },
  "Escrow lock outcome unknown": (_m, body) => {
    const id = typeof body["order_id"] === "string" ? ` Order ${body["order_id"]}:` : "";
    return `The node did not confirm the escrow lock.${id} the bridge will find and refund any RTC it locked; look at the order again in a minute.`;
  },
  // orders
  "Order not found": "There is no such order.",
  "Cannot match your own order": "This is your own order; you cannot take it.",
  "Order has expired": "This order has expired.",
  "Order was matched by someone else": "Someone else took this order first.",
  "Only the order creator can cancel": "Only the key that placed this order can cancel it.",
  "Order is no longer open (matched or cancelled concurrently)":
    "The order changed while you cancelled it: it was taken or cancelled already.",
  "quote_tx required": "The quote payment's transaction is required.",
  "quote_tx is too long": "The quote payment's transaction id is too long.",
  "Only the RTC seller can confirm settlement": "Only the RTC seller can reveal the secret and settle.",
  "HTLC secret (preimage) required to confirm settlement": "The swap secret is required to settle.",
  "HTLC hash unavailable for matched order": "This order has no hashlock to settle against.",
  "Invalid HTLC secret format": "The swap secret must be 64 hexadecimal characters.",
  "Invalid HTLC secret": "This secret does not match the order's hashlock.",
  "Confirm window has closed":
    "It is too late to reveal the secret: the quote lock's claim window has closed.",
  "Rate limit exceeded": (_m, _b, ctx) =>
    ctx.retryAfterSeconds != null
      ? `Too many requests. Try again in ${formatDuration(ctx.retryAfterSeconds)}.`
      : "Too many requests. Wait a minute and try again.",
  "Internal server error": (_m, _b, ctx) =>
    `The bridge hit an internal error${ctx.requestId ? ` (request ${ctx.requestId})` : ""}. ` +
    "Do not assume it was carried out: look at your orders before trying again.",
  cors_preflight_refused: "The bridge refused a request from this page's address.",
  pair_disabled: (_m, body) =>
    `Trading on this pair is paused${typeof body["message"] === "string" ? `: ${body["message"]}` : "."}`,
  // wallet_auth (domain/wallet_auth.py)
  wallet_must_be_native_rtc_address:
    "Your wallet must be a native RTC address (RTC and 40 hexadecimal characters).",
  wallet_auth_required: "The request was not signed. Create or import a key, then submit again.",
  wallet_auth_public_key_signature_timestamp_required:
    "The request's signature was incomplete. " + SIGN_AGAIN,
  wallet_auth_invalid_timestamp: "The signature's time was not valid. " + CLOCK,
  wallet_auth_timestamp_expired:
    "The signature's time was too far from the bridge's clock. Submit again: the page now signs with the bridge's time.",
  wallet_auth_public_key_does_not_match_wallet: "The key does not belong to this wallet address.",
  wallet_auth_invalid_encoding: "The key or signature was not in the expected format. " + SIGN_AGAIN,
  wallet_auth_invalid_signature:
    "The signature did not match the order's terms. Nothing was created. " + SIGN_AGAIN,
  wallet_auth_replayed: "This signed request was already used once. " + SIGN_AGAIN,
  // the quote leg's lock checks (design §1.2): the API's message carries the values
  lock_not_found: (_m, body) => withMessage("No HTLC lock was found for this payment.", body),
  wrong_contract: (_m, body) =>
    withMessage("The payment was locked in another contract than the bridge's HTLC contract.", body),
  wrong_token: (_m, body) => withMessage("The payment was locked in the wrong token.", body),
  amount_too_low: (_m, body) => withMessage("The locked amount is less than the order's total.", body),
  wrong_hashlock: (_m, body) => withMessage("The lock uses another hashlock than the order's.", body),
  wrong_receiver: (_m, body) => withMessage("The lock pays another address than the seller's.", body),
  wrong_sender: (_m, body) => withMessage("The lock was made from another address than the buyer's.", body),
  lock_too_late: (_m, body) => withMessage("The lock was mined after the lock deadline.", body),
  timelock_too_short: (_m, body) => withMessage("The lock's timelock is too short.", body),
  timelock_too_long: (_m, body) => withMessage("The lock's timelock is too long.", body),
  timelock_after_escrow: (_m, body) =>
    withMessage("The lock's timelock ends after the RTC escrow would.", body),
  lock_not_open: (_m, body) => withMessage("The lock was already claimed or refunded.", body),
  not_final: (_m, body) =>
    withMessage("The lock is not final yet; the bridge counts it once it has enough confirmations.", body),
  lock_already_used: (_m, body) => withMessage("This lock already backs another order.", body),
  chain_unreachable: "The bridge cannot reach the quote chain right now. Try again shortly.",
  // the quote leg's order states (services/exchange.py)
  order_not_matched: (_m, body) => withMessage("This order is not waiting for a quote lock.", body),
  quote_not_locked: (_m, body) =>
    withMessage("The buyer's lock is not verified yet: the secret can be revealed only after it.", body),
  quote_locked: (_m, body) =>
    withMessage("The payment is locked on-chain, so the order can no longer be cancelled.", body),
  claim_deadline_passed: (_m, body) =>
    withMessage("It is too late to reveal through the bridge: claim the payment on-chain instead.", body),
  missing_quote_address: (_m, body) => withMessage("A quote-chain address is needed.", body),
  invalid_quote_address: (_m, body) => withMessage("That quote-chain address is not valid.", body),
  invalid_lock_reference: (_m, body) => withMessage("The lock's transaction id is not valid.", body),
};

/** A code's words plus the bridge's own message, which carries the values (deadlines…). */
function withMessage(words: string, body: Body): string {
  const message = typeof body["message"] === "string" ? body["message"].trim() : "";
  return message ? `${words} (${message})` : words;
}

/** Error strings with values inside. */
const PATTERNS: ReadonlyArray<readonly [RegExp, Words]> = [
  [/^Unsupported pair/i, "This trading pair is not supported by the bridge."],
  [
    /^Order total rounds to zero (\S+) base units$/,
    (m) => `The order's total is too small: it rounds to zero ${m[1]}.`,
  ],
  [
    /^ttl_seconds exceeds the maximum of (\d+)/,
    (m) => `The order's lifetime is too long: at most ${formatDuration(Number(m[1]))}.`,
  ],
  [
    /^Maximum (\d+) active escrows per wallet$/,
    (m) =>
      `Your wallet already has ${m[1]} active escrows, the node's maximum. Wait for one to finish or cancel an order.`,
  ],
  [/^Order is not open \(status: (\w+)\)$/, (m) => `This order is no longer open (it is ${words(m[1])}).`],
  [
    /^Can only cancel open orders \(current: (\w+)\)$/,
    (m) => `Only open orders can be cancelled; this one is ${words(m[1])}.`,
  ],
  [
    /^Order must be matched to confirm \(current: (\w+)\)$/,
    (m) => `The secret can be revealed only on a matched order; this one is ${words(m[1])}.`,
  ],
  [/^(limit|offset)_must_be_/, "The page asked for an invalid page of results. Reload the page."],
];

function words(status: string | undefined): string {
  return (status ?? "").replace(/_/g, " ");
}

function balanceWords(body: Body, what: string): string {
  const balance = body["balance_rtc"];
  const required = body["required_rtc"];
  if (typeof balance === "number" && typeof required === "number") {
    return `Your RTC balance (${balance} RTC) is too low to ${what}: it needs ${required} RTC, the amount plus the node's 5 % fee.`;
  }
  return `Your RTC balance is too low to ${what} (the amount plus the node's 5 % fee).`;
}

function render(w: Words, match: RegExpMatchArray, body: Body, ctx: WordsContext): string {
  return typeof w === "string" ? w : w(match, body, ctx);
}

export function plainWords(status: number, body: Body, ctx: WordsContext = {}): string {
  const code = typeof body["error"] === "string" ? body["error"] : "";
  const exact = EXACT[code];
  if (exact !== undefined) return render(exact, [code], body, ctx);
  for (const [pattern, w] of PATTERNS) {
    const match = code.match(pattern);
    if (match !== null) return render(w, match, body, ctx);
  }
  if (status === 429) return render(EXACT["Rate limit exceeded"] ?? "", [code], body, ctx);
  const message = typeof body["message"] === "string" ? body["message"] : "";
  if (code || message) return `The bridge refused the request: ${message || code}`;
  if (status >= 500) {
    return ctx.method === "POST"
      ? `The bridge failed (HTTP ${status}). The request may or may not have been carried out: look at your orders before trying again.`
      : `The bridge failed to answer (HTTP ${status}).`;
  }
  return `The bridge refused the request (HTTP ${status}).`;
}
