/**
 * "My orders" (the key's orders as maker or taker, `GET /api/orders?wallet=`) and one
 * order's view: its terms, a status timeline from its history (lib/history.ts), its
 * deadlines as live countdowns until it ends (then how it ended), and the one next
 * action for this trader with the button that does it
 * (cancel, lock the quote payment, reveal, claim on-chain, refund). Live: the order's
 * event stream (SSE) redraws the view on every status change.
 *
 * Nothing here says "done" before the bridge does: `payout_pending` reads "waiting for
 * the RTC payout to confirm".
 */

import type { Address, Hex } from "viem";

import { ApiError, type BridgeApi } from "../lib/api";
import type { OrderDetail, OrderEvent, OrderSummary, PairInfo } from "../lib/api-types";
import { formatDuration } from "../lib/durations";
import { walletWords } from "../lib/evm-wallet";
import { CAUSES, outcome, traderEvents } from "../lib/history";
import { bytes32, chooseTimelock, orderRef } from "../lib/htlc";
import { formatUnits } from "../lib/money";
import {
  type NextAction,
  type Role,
  mayCancel,
  nextAction,
  quoteAddresses,
  roleOf,
  statusWords,
} from "../lib/next-action";
import { secretMatches } from "../lib/preimage";
import type { KeyValueStore, Vault } from "../lib/storage";
import { NANO_DECIMALS, RTC_DECIMALS } from "../lib/terms";
import { walletAuth } from "../lib/wallet-auth";
import { type Child, fill, focusOn, h } from "./dom";
import type { KeyState } from "./key-panel";
import type { Observable } from "./observable";
import type { QuoteWalletPanel } from "./quote-wallet";

const LOCKS_ITEM = "otc-bridge.locks.v1";
const REPORT_ATTEMPTS = 120; // lock reports retried while the lock gains its confirmations

export interface OrderViewDeps {
  readonly api: BridgeApi;
  readonly vault: Vault;
  readonly storage: KeyValueStore | null;
  readonly key: Observable<KeyState | null>;
  readonly pairs: () => readonly PairInfo[];
  readonly quoteWallet: QuoteWalletPanel;
  readonly nowSeconds: () => number;
  readonly announce: (text: string) => void;
}

function when(seconds: number): string {
  return new Date(seconds * 1000)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
}

function countdown(deadline: number, now: number): string {
  const left = deadline - now;
  return left > 0 ? `in ${formatDuration(left)}` : `${formatDuration(-left)} ago`;
}

/** Lock transactions this browser sent, so a lost report can be sent again after a reload. */
class SentLocks {
  constructor(private readonly storage: KeyValueStore | null) {}
  private memory: Record<string, string> = {};
  private all(): Record<string, string> {
    try {
      const parsed: unknown = JSON.parse(this.storage?.getItem(LOCKS_ITEM) ?? "{}");
      return {
        ...(typeof parsed === "object" && parsed !== null ? (parsed as Record<string, string>) : {}),
        ...this.memory,
      };
    } catch {
      return { ...this.memory };
    }
  }
  get(orderId: string): string | null {
    return this.all()[orderId] ?? null;
  }
  put(orderId: string, txHash: string): void {
    this.memory[orderId] = txHash;
    try {
      this.storage?.setItem(LOCKS_ITEM, JSON.stringify(this.all()));
    } catch {
      // Kept in memory: a reload forgets it, the bridge and the chain still have it.
    }
  }
}

export class OrderView {
  private order: OrderDetail | null = null;
  private events: readonly OrderEvent[] = [];
  private stream: EventSource | null = null;
  private busy = false;
  private mine: readonly OrderSummary[] = [];
  private readonly locks: SentLocks;
  private resultWords: { kind: "ok" | "error" | "busy"; text: string } | null = null;
  private lockState: string | null = null;
  /** Actions finished on this page (the result's `data-actions`): tests wait on it. */
  private finished = 0;

  constructor(
    private readonly listRoot: HTMLElement,
    private readonly detailRoot: HTMLElement,
    private readonly deps: OrderViewDeps,
  ) {
    this.locks = new SentLocks(deps.storage);
    deps.key.subscribe(() => void this.refreshList());
    deps.quoteWallet.onChange(() => this.render());
    setInterval(() => this.tick(), 1000);
    window.addEventListener("hashchange", () => void this.fromHash());
  }

  /** `#order/<id>` opens an order: a link to it can be shared or bookmarked. */
  async fromHash(): Promise<void> {
    const match = /^#order\/(otc_[0-9a-f]{16})$/.exec(location.hash);
    if (match?.[1] !== undefined && match[1] !== this.order?.order_id) await this.open(match[1], true);
  }

  async refreshList(): Promise<void> {
    const keyState = this.deps.key.value;
    if (keyState === null) {
      this.mine = [];
      fill(this.listRoot, h("p", { class: "hint" }, "Create or import a key to see your orders."));
      return;
    }
    try {
      this.mine = (await this.deps.api.walletOrders(keyState.key.address)).orders;
    } catch (err) {
      fill(this.listRoot, h("p", { class: "error" }, err instanceof ApiError ? err.words : String(err)));
      return;
    }
    this.renderList();
  }

  private renderList(): void {
    if (this.mine.length === 0) {
      fill(this.listRoot, h("p", { class: "hint" }, "No orders yet."));
      return;
    }
    const me = this.deps.key.value?.key.address ?? null;
    fill(
      this.listRoot,
      h(
        "ul",
        { id: "my-orders-list", class: "my-orders" },
        ...this.mine.map((o) => {
          const role = roleOf(
            { side: o.side, maker_wallet: o.maker_wallet, taker_wallet: o.maker_wallet === me ? null : me },
            me,
          );
          const verb = role === "rtc_seller" ? "Sell" : "Buy";
          return h(
            "li",
            { attrs: { "data-order": o.order_id } },
            h(
              "a",
              { attrs: { href: `#order/${o.order_id}` } },
              `${verb} ${formatUnits(BigInt(o.amount_micro_rtc), RTC_DECIMALS)} RTC at ${formatUnits(BigInt(o.price_per_rtc_nano_quote), NANO_DECIMALS)} ${o.quote_currency}`,
            ),
            " ",
            h("span", { class: "status", attrs: { "data-status": o.status } }, statusWords(o.status)),
            h("span", { class: "hint mono" }, ` ${o.order_id}`),
          );
        }),
      ),
    );
  }

  async open(orderId: string, focus: boolean): Promise<void> {
    this.stream?.close();
    this.stream = null;
    this.resultWords = null;
    this.lockState = null;
    if (location.hash !== `#order/${orderId}`) history.replaceState(null, "", `#order/${orderId}`);
    await this.reload(orderId);
    // Live: each event of the order's history arrives on its stream; the view reloads.
    const stream = new EventSource(this.deps.api.streamUrl(orderId));
    stream.addEventListener("order_event", () => void this.reload(orderId));
    stream.addEventListener("end", () => stream.close());
    this.stream = stream;
    if (focus) {
      const heading = document.getElementById("order-detail-heading");
      if (heading !== null) focusOn(heading);
    }
  }

  private async reload(orderId: string): Promise<void> {
    try {
      const [detail, history] = await Promise.all([
        this.deps.api.order(orderId),
        this.deps.api.events(orderId),
      ]);
      const statusChanged = this.order !== null && this.order.status !== detail.order.status;
      this.order = detail.order;
      this.events = history.events;
      if (statusChanged) this.deps.announce(`Order ${orderId}: ${statusWords(detail.order.status)}.`);
      await this.readLockState();
    } catch (err) {
      this.resultWords = { kind: "error", text: err instanceof ApiError ? err.words : String(err) };
    }
    this.render();
    void this.refreshList();
  }

  /** The lock's state on the chain (claimed? refunded?), which the status alone does not say. */
  private async readLockState(): Promise<void> {
    const lockId = this.order?.quote_lock?.lock_id;
    const connected = this.deps.quoteWallet.current();
    if (!lockId || connected === null) return;
    try {
      this.lockState = (await connected.wallet.getLock(lockId as Hex)).state;
    } catch {
      this.lockState = null;
    }
  }

  private role(): Role {
    const order = this.order;
    return order === null ? "viewer" : roleOf(order, this.deps.key.value?.key.address ?? null);
  }

  private pair(): PairInfo | null {
    return this.deps.pairs().find((p) => p.pair === this.order?.pair) ?? null;
  }

  private tick(): void {
    const now = this.deps.nowSeconds();
    for (const el of this.detailRoot.querySelectorAll<HTMLElement>("[data-deadline]")) {
      el.textContent = countdown(Number(el.dataset["deadline"]), now);
    }
  }

  render(): void {
    const order = this.order;
    if (order === null) {
      fill(this.detailRoot, h("p", { class: "hint" }, "Choose one of your orders to follow it here."));
      return;
    }
    const pair = this.pair();
    const decimals = order.quote_decimals;
    const quote = order.quote_currency;
    const role = this.role();
    const now = this.deps.nowSeconds();
    const action = this.afterTheChain(nextAction(order, role, now), role);
    const roleWords = { rtc_seller: "You sell RTC", rtc_buyer: "You buy RTC", viewer: "You are not a party" }[
      role
    ];
    // A live redraw must not drop a keyboard user's focus to the page's start.
    const active = document.activeElement;
    const focusedId = active instanceof HTMLElement && this.detailRoot.contains(active) ? active.id : null;
    fill(
      this.detailRoot,
      h("h3", { id: "order-detail-heading", attrs: { tabindex: "-1" } }, `Order ${order.order_id}`),
      h(
        "dl",
        { class: "stats order-terms" },
        h("dt", {}, "Status"),
        h("dd", { id: "order-status", attrs: { "data-status": order.status } }, statusWords(order.status)),
        h("dt", {}, "Terms"),
        h(
          "dd",
          {},
          `${order.side === "sell" ? "Sell" : "Buy"} order: ${formatUnits(BigInt(order.amount_micro_rtc), RTC_DECIMALS)} RTC for ${formatUnits(BigInt(order.total_quote_base_units), decimals)} ${quote}`,
        ),
        h("dt", {}, "Your side"),
        h("dd", {}, roleWords),
      ),
      this.nextActionBlock(order, pair, role, action),
      this.deadlinesBlock(order, now),
      this.timelineBlock(),
    );
    if (focusedId !== null) {
      const again =
        (focusedId && document.getElementById(focusedId)) || document.getElementById("action-result");
      if (again !== null) focusOn(again);
    }
  }

  /** The bridge learns of a claim or a refund only when it acts on one: the chain's
   * state of the lock, read here, says when that step is already done. */
  private afterTheChain(action: NextAction, role: Role): NextAction {
    const quote = this.order?.quote_currency ?? "quote";
    if (action.code === "claim_quote" && role === "rtc_seller" && this.lockState === "claimed") {
      return {
        code: "none",
        label: `Nothing left to do: your ${quote} is claimed on-chain.`,
        deadline: null,
      };
    }
    if (action.code === "refund_quote" && role === "rtc_buyer" && this.lockState === "refunded") {
      return { code: "none", label: `Nothing left to do: your ${quote} lock is refunded.`, deadline: null };
    }
    return action;
  }

  private deadlinesBlock(order: OrderDetail, now: number): HTMLElement {
    // An ended order's deadlines no longer apply: it shows how it ended instead (an
    // on-chain claim or refund still open to this trader keeps its deadline in the
    // next step above).
    const ended = outcome(order.status, this.events);
    if (ended !== null) {
      return h(
        "section",
        { attrs: { "aria-labelledby": "outcome-heading" } },
        h("h4", { id: "outcome-heading" }, "Outcome"),
        h(
          "p",
          { id: "order-outcome", attrs: { "data-status": ended.status } },
          ended.words,
          ended.at === null ? null : h("span", { class: "hint" }, ` ${when(ended.at)}`),
        ),
      );
    }
    const d = order.deadlines;
    const rows: Array<[string, number | null]> = [
      ["The order expires", order.status === "open" ? d.expires_at : null],
      ["The buyer must lock by", d.match_deadline],
      ["The seller must reveal by", d.claim_deadline],
      ["The quote lock's timelock ends", d.quote_timelock],
      ["The RTC escrow expires", d.escrow_expires_at],
      ["The buyer may refund from", d.refundable_at],
    ];
    const shown = rows.filter((r): r is [string, number] => r[1] !== null && r[1] !== undefined);
    return h(
      "section",
      { attrs: { "aria-labelledby": "deadlines-heading" } },
      h("h4", { id: "deadlines-heading" }, "Deadlines"),
      shown.length === 0
        ? h("p", { class: "hint" }, "None yet.")
        : h(
            "ul",
            { id: "order-deadlines", class: "deadlines" },
            ...shown.map(([label, at]) =>
              h(
                "li",
                {},
                `${label}: ${when(at)} (`,
                h("span", { attrs: { "data-deadline": String(at) } }, countdown(at, now)),
                ")",
              ),
            ),
          ),
    );
  }

  private timelineBlock(): HTMLElement {
    return h(
      "section",
      { attrs: { "aria-labelledby": "timeline-heading" } },
      h("h4", { id: "timeline-heading" }, "Timeline"),
      h(
        "ol",
        { id: "order-timeline", class: "timeline" },
        ...traderEvents(this.events).map((e) =>
          h(
            "li",
            { attrs: { "data-cause": e.cause, "data-to": e.to } },
            h("strong", {}, CAUSES[e.cause] ?? e.cause.replace(/_/g, " ")),
            ` → ${statusWords(e.to)} `,
            h("span", { class: "hint" }, when(e.at)),
            ...this.refWords(e),
          ),
        ),
      ),
    );
  }

  private refWords(e: OrderEvent): Child[] {
    const refs = e.refs ?? {};
    const shown: Child[] = [];
    for (const name of [
      "tx_hash",
      "quote_tx",
      "claim_tx",
      "lock_id",
      "job_id",
      "pending_id",
      "stalled_taker",
    ]) {
      const value = refs[name];
      if (typeof value === "string" || typeof value === "number") {
        shown.push(h("span", { class: "hint mono ref" }, ` ${name.replace(/_/g, " ")} ${String(value)}`));
      }
    }
    return shown;
  }

  private button(id: string, label: string, run: () => Promise<void>, cls = "primary"): HTMLButtonElement {
    return h(
      "button",
      {
        id,
        class: cls,
        attrs: { type: "button", ...(this.busy ? { disabled: true } : {}) },
        on: { click: () => void this.run(run) },
      },
      label,
    );
  }

  private async run(step: () => Promise<void>): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.resultWords = null;
    this.render();
    try {
      await step();
    } catch (err) {
      this.say("error", err instanceof ApiError ? err.words : walletWords(err));
    } finally {
      this.busy = false;
      const orderId = this.order?.order_id;
      this.finished += 1;
      if (orderId !== undefined) await this.reload(orderId);
      const result = document.getElementById("action-result");
      // (read through a cast: the compiler cannot see that `step` set it)
      const words = this.resultWords as { kind: string } | null;
      if (result !== null && words?.kind !== "busy") focusOn(result);
    }
  }

  private say(kind: "ok" | "error" | "busy", text: string): void {
    this.resultWords = { kind, text };
    const result = document.getElementById("action-result");
    if (result !== null) {
      result.dataset["kind"] = kind;
      result.setAttribute("role", kind === "error" ? "alert" : "status");
      result.textContent = text;
    }
  }

  private nextActionBlock(
    order: OrderDetail,
    pair: PairInfo | null,
    role: Role,
    action: NextAction,
  ): HTMLElement {
    const buttons: Child[] = [];
    const connected = this.deps.quoteWallet.current();
    const needWallet = (): Child =>
      connected === null ? h("p", { class: "hint" }, "Choose a wallet in “Quote wallet” first.") : null;
    const lockId = order.quote_lock?.lock_id ?? null;
    if (mayCancel(order, role)) {
      buttons.push(this.button("cancel-order", "Cancel the order", () => this.cancel(order), "secondary"));
    }
    switch (action.code) {
      case "lock_quote":
        buttons.push(
          needWallet(),
          this.button(
            "lock-quote",
            `Lock ${formatUnits(BigInt(order.total_quote_base_units), order.quote_decimals)} ${order.quote_currency}`,
            () => this.lock(order, pair),
          ),
        );
        if (this.locks.get(order.order_id) !== null) {
          buttons.push(
            this.button(
              "report-lock",
              "Report my lock again",
              () => this.report(order, this.locks.get(order.order_id) ?? ""),
              "secondary",
            ),
          );
        }
        break;
      case "reveal":
        buttons.push(this.button("reveal", "Reveal the secret and settle", () => this.reveal(order)));
        if (lockId !== null) {
          buttons.push(
            needWallet(),
            this.button(
              "claim-instead",
              "Claim on-chain instead (reveals the secret there)",
              () => this.claim(order, lockId),
              "secondary",
            ),
          );
        }
        break;
      case "claim_quote":
        if (lockId !== null && this.lockState !== "claimed") {
          buttons.push(
            needWallet(),
            this.button("claim-quote", `Claim the ${order.quote_currency} on-chain`, () =>
              this.claim(order, lockId),
            ),
          );
        }
        break;
      case "refund_quote":
        if (lockId !== null && this.lockState !== "refunded" && this.lockState !== "claimed") {
          const at = order.deadlines.quote_timelock;
          buttons.push(
            needWallet(),
            this.button("refund-quote", `Refund my ${order.quote_currency}`, () => this.refund(lockId)),
          );
          if (at !== null)
            buttons.push(h("p", { class: "hint" }, `The contract allows the refund from ${when(at)}.`));
        }
        break;
      default:
        break;
    }
    // What the chain says of the lock, whatever the next action: claimed or refunded.
    if (role === "rtc_seller" && this.lockState === "claimed") {
      buttons.push(h("p", { id: "claimed-note" }, `Your ${order.quote_currency} has been claimed on-chain.`));
    }
    if (role === "rtc_buyer" && this.lockState === "refunded") {
      buttons.push(h("p", { id: "refunded-note" }, `Your ${order.quote_currency} lock has been refunded.`));
    }
    const result = h(
      "div",
      {
        id: "action-result",
        class: "result",
        attrs: {
          role: this.resultWords?.kind === "error" ? "alert" : "status",
          tabindex: "-1",
          "data-actions": String(this.finished),
          ...(this.resultWords ? { "data-kind": this.resultWords.kind } : {}),
        },
      },
      this.resultWords?.text ?? "",
    );
    return h(
      "section",
      {
        class: "callout next-action",
        attrs: { "aria-labelledby": "next-action-heading", "data-code": action.code },
      },
      h("h4", { id: "next-action-heading" }, role === "viewer" ? "Next step" : "Your next step"),
      h(
        "p",
        { id: "next-action" },
        action.label,
        action.deadline !== null
          ? h(
              "span",
              {},
              " (deadline ",
              when(action.deadline),
              ", ",
              h(
                "span",
                { attrs: { "data-deadline": String(action.deadline) } },
                countdown(action.deadline, this.deps.nowSeconds()),
              ),
              ")",
            )
          : null,
      ),
      ...buttons,
      result,
    );
  }

  // --- actions ---------------------------------------------------------------------------

  private async cancel(order: OrderDetail): Promise<void> {
    const keyState = this.deps.key.value;
    if (keyState === null)
      throw new ApiError(0, "", "Create or import a key first: it signs the cancel.", {}, null, null);
    this.say("busy", "Signing and sending the cancel…");
    const auth = await walletAuth(keyState.key, {
      action: "cancel_order",
      orderId: order.order_id,
      timestamp: this.deps.nowSeconds(),
      wallet: keyState.key.address,
      bound: {},
    });
    const answer = await this.deps.api.cancel(order.order_id, {
      wallet: keyState.key.address,
      wallet_auth: auth,
    });
    const status = typeof answer["status"] === "string" ? answer["status"] : "";
    this.say("ok", `Order cancelled (${statusWords(status)}).`);
  }

  private connectedFor(
    expected: string | null,
    what: string,
  ): { wallet: NonNullable<ReturnType<QuoteWalletPanel["current"]>>["wallet"]; account: Address } {
    const connected = this.deps.quoteWallet.current();
    if (connected === null)
      throw new ApiError(0, "", `Choose a wallet in “Quote wallet” to ${what}.`, {}, null, null);
    if (expected !== null && connected.account.toLowerCase() !== expected.toLowerCase()) {
      throw new ApiError(
        0,
        "",
        `Choose the account ${expected} in “Quote wallet”: it is the address you gave for this order, and the bridge accepts a lock only from it.`,
        {},
        null,
        null,
      );
    }
    return connected;
  }

  private async lock(order: OrderDetail, pair: PairInfo | null): Promise<void> {
    if (pair === null || order.htlc_hash === null) throw new Error("this order has no hashlock or pair");
    const { receiver, sender } = quoteAddresses(order);
    if (receiver === null) throw new Error("the seller's address is unknown");
    const { wallet, account } = this.connectedFor(sender, "lock the payment");
    this.say("busy", "Reading the chain's time…");
    const tw = pair.timelock_window;
    const choice = chooseTimelock({
      chainNow: await wallet.chainTime(),
      minSeconds: pair.timelock_min_seconds ?? tw.min_seconds,
      maxSeconds: pair.timelock_max_seconds ?? tw.max_seconds,
      claimMarginSeconds: tw.claim_margin_seconds,
      escrowExpiresAt: order.deadlines.escrow_expires_at,
      settlementMarginSeconds: tw.settlement_margin_seconds,
    });
    if (!choice.ok) throw new ApiError(0, "", choice.words, {}, null, null);
    const sent = await wallet.lock(
      account,
      {
        receiver: receiver as Address,
        hashlock: bytes32(order.htlc_hash),
        timelock: choice.timelock,
        amount: BigInt(order.total_quote_base_units),
        orderRef: orderRef(order.order_id),
      },
      (words) => this.say("busy", words),
    );
    this.locks.put(order.order_id, sent.txHash);
    // The bridge counts a lock once it is final: wait for that here rather than be told
    // "not final" and wait out its Retry-After.
    await wallet.confirmed(sent.blockNumber, pair.finality_confirmations ?? 1, (words) =>
      this.say("busy", words),
    );
    await this.report(order, sent.txHash);
    void this.deps.quoteWallet.refreshBalance();
  }

  /** Tell the bridge about the lock; while it is not final yet, ask again when told to. */
  private async report(order: OrderDetail, txHash: string): Promise<void> {
    for (let attempt = 0; attempt < REPORT_ATTEMPTS; attempt += 1) {
      try {
        await this.deps.api.reportLock(order.order_id, txHash, { quoteCurrency: order.quote_currency });
        this.say(
          "ok",
          `Your lock (transaction ${txHash}) is verified by the bridge. The seller reveals the secret next.`,
        );
        return;
      } catch (err) {
        const retry =
          err instanceof ApiError && (err.code === "not_final" || err.code === "chain_unreachable");
        if (!retry) throw err;
        // The bridge's Retry-After, but never more than a few blocks: the chain is watched here.
        const wait = Math.min(Math.max(Number(err.body["retry_after_seconds"] ?? 0) || 2, 1), 5);
        this.say("busy", `${err.words} Transaction ${txHash}; asking again in ${wait} s…`);
        await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      }
    }
    throw new ApiError(
      0,
      "",
      `The bridge has not counted your lock yet (transaction ${txHash}). Use “Report my lock again” later.`,
      {},
      null,
      null,
    );
  }

  private async preimage(order: OrderDetail): Promise<string> {
    const record = this.deps.vault.secret(order.order_id);
    const candidate = record?.preimageHex ?? order.htlc_secret ?? null;
    if (candidate !== null && order.htlc_hash !== null && (await secretMatches(candidate, order.htlc_hash)))
      return candidate;
    throw new ApiError(
      0,
      "",
      "This browser does not have the order's swap secret. Import the key and secret you backed up, on the browser that made it.",
      {},
      null,
      null,
    );
  }

  private async reveal(order: OrderDetail): Promise<void> {
    const keyState = this.deps.key.value;
    if (keyState === null) throw new ApiError(0, "", "Create or import a key first.", {}, null, null);
    const secret = await this.preimage(order);
    this.say("busy", "Revealing the secret to the bridge…");
    // The secret leaves the browser only here, at the reveal, and only to the bridge.
    const answer = await this.deps.api.confirm(
      order.order_id,
      {
        wallet: keyState.key.address,
        secret,
        quote_tx: order.quote_lock?.tx_hash ?? order.quote_lock?.lock_id ?? "",
      },
      { quoteCurrency: order.quote_currency },
    );
    const status = typeof answer["status"] === "string" ? answer["status"] : "";
    this.say(
      "ok",
      status === "completed"
        ? `Settled: the RTC payout is confirmed. Now claim your ${order.quote_currency} on-chain.`
        : `Secret accepted (${statusWords(status)}). Now claim your ${order.quote_currency} on-chain.`,
    );
  }

  private async claim(order: OrderDetail, lockId: string): Promise<void> {
    const secret = await this.preimage(order);
    const { wallet, account } = this.connectedFor(null, "claim");
    this.say("busy", "Claiming on the HTLC contract…");
    const sent = await wallet.claim(account, lockId as Hex, bytes32(secret));
    this.say(
      "ok",
      `Claimed on-chain (transaction ${sent.txHash}). The ${order.quote_currency} is paid to ${quoteAddresses(order).receiver ?? "your address"}.`,
    );
    void this.deps.quoteWallet.refreshBalance();
  }

  private async refund(lockId: string): Promise<void> {
    const { wallet, account } = this.connectedFor(null, "refund");
    const lock = await wallet.getLock(lockId as Hex);
    const chainNow = await wallet.chainTime();
    if (lock.state !== "locked")
      throw new ApiError(0, "", `The lock is ${lock.state}: there is nothing to refund.`, {}, null, null);
    if (chainNow < lock.timelock) {
      throw new ApiError(
        0,
        "",
        `The contract allows the refund from ${when(lock.timelock)}, ${formatDuration(lock.timelock - chainNow)} from now (chain time).`,
        {},
        null,
        null,
      );
    }
    this.say("busy", "Refunding your lock on the HTLC contract…");
    const sent = await wallet.refund(account, lockId as Hex);
    this.say("ok", `Refunded (transaction ${sent.txHash}) to ${lock.sender}.`);
    void this.deps.quoteWallet.refreshBalance();
  }
}
