/**
 * The order form: buy or sell RTC, with a live preview of the order's total, the escrow
 * the node takes from a seller (its 5 % fee included) and the deadlines the pair's policy
 * sets; then sign with the trader's key and place the order, and say what the bridge
 * answered in plain words.
 */

import { ApiError, type BridgeApi } from "../lib/api";
import type { PairInfo } from "../lib/api-types";
import { formatDuration } from "../lib/durations";
import { formatUnits, parseUnits } from "../lib/money";
import {
  type Field,
  type OrderDraft,
  type OrderTerms,
  type Side,
  checkDraft,
  signedCreateBody,
} from "../lib/order";
import { newSwapSecret } from "../lib/preimage";
import type { Vault } from "../lib/storage";
import { RTC_DECIMALS, NANO_DECIMALS } from "../lib/terms";
import { type Child, fill, focusOn, h } from "./dom";
import type { KeyState } from "./key-panel";
import type { Observable } from "./observable";
import type { SecretBackup } from "./secret-backup";

const TTL_CHOICES: ReadonlyArray<readonly [number, string]> = [
  [3600, "1 hour"],
  [6 * 3600, "6 hours"],
  [86400, "1 day"],
  [3 * 86400, "3 days"],
  [7 * 86400, "7 days"],
  [14 * 86400, "14 days"],
];
const DEFAULT_TTL = 7 * 86400;

function rtc(micro: bigint): string {
  return `${formatUnits(micro, RTC_DECIMALS)} RTC`;
}

/** A limit the API reports as a JSON number (0.1), read through its decimal text. */
function limitMicro(rtcAmount: number): bigint | null {
  const parsed = parseUnits(String(rtcAmount), RTC_DECIMALS);
  return parsed.ok ? parsed.units : null;
}

export interface OrderFormDeps {
  readonly api: BridgeApi;
  readonly vault: Vault;
  readonly key: Observable<KeyState | null>;
  readonly pair: Observable<PairInfo | null>;
  readonly secrets: SecretBackup;
  readonly nowSeconds: () => number;
  readonly placed: (orderId: string) => void;
}

export class OrderForm {
  private readonly form: HTMLFormElement;
  private readonly sideBuy: HTMLInputElement;
  private readonly sideSell: HTMLInputElement;
  private readonly amount: HTMLInputElement;
  private readonly price: HTMLInputElement;
  private readonly address: HTMLInputElement;
  private readonly ttl: HTMLSelectElement;
  private readonly priceLabel: HTMLLabelElement;
  private readonly addressLabel: HTMLLabelElement;
  private readonly addressHint: HTMLElement;
  private readonly amountHint: HTMLElement;
  private readonly preview: HTMLElement;
  private readonly submit: HTMLButtonElement;
  private readonly result: HTMLElement;
  private readonly errors: Record<Field, HTMLElement>;
  private submitting = false;

  constructor(
    root: HTMLElement,
    private readonly deps: OrderFormDeps,
  ) {
    const input = (id: string, describedBy: string) =>
      h("input", {
        id,
        attrs: {
          type: "text",
          inputmode: "decimal",
          autocomplete: "off",
          spellcheck: "false",
          "aria-describedby": describedBy,
        },
      });
    this.sideBuy = h("input", { id: "side-buy", attrs: { type: "radio", name: "side", value: "buy" } });
    this.sideSell = h("input", {
      id: "side-sell",
      attrs: { type: "radio", name: "side", value: "sell", checked: true },
    });
    this.amount = input("amount", "amount-hint amount-error");
    this.price = input("price", "price-error");
    this.address = h("input", {
      id: "quote-address",
      class: "mono",
      attrs: {
        type: "text",
        autocomplete: "off",
        spellcheck: "false",
        "aria-describedby": "address-hint address-error",
      },
    });
    this.address.removeAttribute("inputmode");
    this.ttl = h("select", { id: "ttl" });
    this.priceLabel = h("label", { attrs: { for: "price" } }, "Price per RTC");
    this.addressLabel = h("label", { attrs: { for: "quote-address" } }, "Your address");
    this.addressHint = h("p", { id: "address-hint", class: "hint" });
    this.amountHint = h("p", { id: "amount-hint", class: "hint" });
    this.errors = {
      amount: h("p", { id: "amount-error", class: "error" }),
      price: h("p", { id: "price-error", class: "error" }),
      address: h("p", { id: "address-error", class: "error" }),
    };
    this.preview = h("div", {
      id: "order-preview",
      class: "preview",
      attrs: { role: "region", "aria-labelledby": "preview-title" },
    });
    this.submit = h(
      "button",
      { id: "place-order", class: "primary", attrs: { type: "submit" } },
      "Sign and place order",
    );
    this.result = h("div", {
      id: "order-result",
      class: "result",
      attrs: { role: "status", tabindex: "-1" },
    });
    this.form = h(
      "form",
      { id: "order-form", attrs: { novalidate: true, "aria-labelledby": "order-heading" } },
      h(
        "fieldset",
        { class: "side" },
        h("legend", {}, "I want to"),
        h("span", { class: "choice" }, this.sideBuy, h("label", { attrs: { for: "side-buy" } }, "Buy RTC")),
        h(
          "span",
          { class: "choice" },
          this.sideSell,
          h("label", { attrs: { for: "side-sell" } }, "Sell RTC"),
        ),
      ),
      h(
        "div",
        { class: "field" },
        h("label", { attrs: { for: "amount" } }, "Amount (RTC)"),
        this.amount,
        this.amountHint,
        this.errors.amount,
      ),
      h("div", { class: "field" }, this.priceLabel, this.price, this.errors.price),
      h("div", { class: "field" }, this.addressLabel, this.address, this.addressHint, this.errors.address),
      h(
        "div",
        { class: "field" },
        h("label", { attrs: { for: "ttl" } }, "The order stays open for"),
        this.ttl,
      ),
      this.preview,
      this.submit,
    );
    fill(root, this.form, this.result);
    this.form.addEventListener("input", () => this.refresh());
    this.form.addEventListener("change", () => this.refresh());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.place();
    });
    deps.pair.subscribe(() => this.pairChanged());
    deps.key.subscribe(() => this.refresh());
    this.pairChanged();
  }

  private side(): Side {
    return this.sideBuy.checked ? "buy" : "sell";
  }

  private draft(): OrderDraft {
    return {
      side: this.side(),
      amountText: this.amount.value,
      priceText: this.price.value,
      ttlSeconds: Number(this.ttl.value) || DEFAULT_TTL,
      quoteAddress: this.address.value,
    };
  }

  private pairChanged(): void {
    const pair = this.deps.pair.value;
    if (pair === null) return;
    const chosen = Number(this.ttl.value) || DEFAULT_TTL;
    const max = pair.limits.max_ttl_seconds;
    const choices = TTL_CHOICES.filter(([s]) => s <= max);
    if (!choices.some(([s]) => s === max))
      choices.push([max, `${formatDuration(max)} (the longest allowed)`]);
    fill(
      this.ttl,
      ...choices.map(([seconds, label]) =>
        h("option", { attrs: { value: String(seconds), selected: seconds === chosen } }, label),
      ),
    );
    this.priceLabel.textContent = `Price (${pair.quote_currency} per RTC)`;
    this.amountHint.textContent = `From ${pair.limits.min_amount_rtc} to ${pair.limits.max_amount_rtc} RTC.`;
    this.refresh();
  }

  /** Labels that depend on the side, and the preview. */
  private refresh(): void {
    const pair = this.deps.pair.value;
    if (pair === null) return;
    const quote = pair.quote_currency;
    const sell = this.side() === "sell";
    this.addressLabel.textContent = `Your ${quote} address`;
    this.addressHint.textContent = sell
      ? `Where you are paid the ${quote} for your RTC.`
      : `Where you lock the ${quote} from; a refund goes back here.`;
    const disabled = pair.enabled === false;
    this.submit.disabled = disabled;
    const check = checkDraft(this.draft(), pair);
    // A field marked wrong is re-checked as it is edited; others wait for the submit.
    const marked = (Object.keys(this.errors) as Field[]).filter(
      (f) => this.control(f).getAttribute("aria-invalid") === "true",
    );
    this.showProblems(check.ok ? [] : check.problems.filter((p) => marked.includes(p.field)));
    fill(
      this.preview,
      h("h3", { id: "preview-title" }, "Preview"),
      ...this.previewLines(pair, check.ok ? check.terms : null),
    );
    if (disabled)
      this.preview.append(
        h(
          "p",
          { class: "error" },
          `Trading on ${pair.pair} is paused${pair.disabled_reason ? `: ${pair.disabled_reason}` : "."}`,
        ),
      );
  }

  private previewLines(pair: PairInfo, terms: OrderTerms | null): Child[] {
    const quote = pair.quote_currency;
    const lines: Child[] = [];
    const tw = pair.timelock_window;
    if (terms === null) {
      lines.push(
        h(
          "p",
          { class: "hint" },
          "Enter an amount, a price and your address to see the order's total, escrow and deadlines.",
        ),
      );
    } else {
      const verb = terms.side === "sell" ? "Sell" : "Buy";
      lines.push(
        h(
          "p",
          { id: "preview-summary" },
          `${verb} ${rtc(terms.amountMicro)} at ${formatUnits(terms.priceNano, NANO_DECIMALS)} ${quote} per RTC.`,
        ),
        h(
          "p",
          { id: "preview-total" },
          `Total: ${formatUnits(terms.totalQuoteBase, terms.quoteDecimals)} ${quote}.`,
        ),
      );
      lines.push(
        terms.side === "sell"
          ? h(
              "p",
              { id: "preview-escrow" },
              `Locked now in escrow on the RustChain node: ${rtc(terms.escrowMicro)} (${rtc(terms.amountMicro)} plus the node's 5 % fee of ${rtc(terms.feeMicro)}). Your RTC balance must cover it.`,
            )
          : h(
              "p",
              { id: "preview-escrow" },
              `Nothing is locked now. When a seller takes the order, you lock ${formatUnits(terms.totalQuoteBase, terms.quoteDecimals)} ${quote} in the HTLC contract within ${formatDuration(pair.lock_window_seconds)}.`,
            ),
      );
      const minimum = limitMicro(pair.limits.min_amount_rtc);
      const maximum = limitMicro(pair.limits.max_amount_rtc);
      if (minimum !== null && terms.amountMicro < minimum)
        lines.push(
          h(
            "p",
            { class: "warn-text" },
            `Below the minimum order of ${pair.limits.min_amount_rtc} RTC: the bridge will refuse it.`,
          ),
        );
      if (maximum !== null && terms.amountMicro > maximum)
        lines.push(
          h(
            "p",
            { class: "warn-text" },
            `Above the maximum order of ${pair.limits.max_amount_rtc} RTC: the bridge will refuse it.`,
          ),
        );
    }
    const ttl = Number(this.ttl.value) || DEFAULT_TTL;
    const until = new Date((this.deps.nowSeconds() + ttl) * 1000).toLocaleString(undefined, {
      dateStyle: "medium",
      timeStyle: "short",
    });
    lines.push(
      h(
        "ul",
        { id: "preview-deadlines", class: "deadlines" },
        h("li", {}, `Open for ${formatDuration(ttl)} (until about ${until}) unless taken or cancelled.`),
        h(
          "li",
          {},
          `After a match, the buyer has ${formatDuration(pair.lock_window_seconds)} to lock the ${quote}, or the match is undone.`,
        ),
        h(
          "li",
          {},
          `The lock's timelock runs ${formatDuration(tw.min_seconds)} to ${formatDuration(tw.max_seconds)}; the seller must reveal the secret at least ${formatDuration(tw.claim_margin_seconds)} before it ends to be paid.`,
        ),
      ),
    );
    if (this.side() === "sell") {
      lines.push(
        h(
          "p",
          { class: "hint" },
          "A swap secret is made in this browser when you place the order; only its hash goes to the bridge.",
        ),
      );
    }
    return lines;
  }

  private control(field: Field): HTMLInputElement {
    return { amount: this.amount, price: this.price, address: this.address }[field];
  }

  private showProblems(problems: ReadonlyArray<{ field: Field; words: string }>): void {
    for (const field of Object.keys(this.errors) as Field[]) {
      const problem = problems.find((p) => p.field === field);
      this.errors[field].textContent = problem?.words ?? "";
      const control = this.control(field);
      if (problem) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    }
  }

  private say(kind: "ok" | "error" | "busy", ...children: Child[]): void {
    this.result.dataset["kind"] = kind;
    this.result.setAttribute("role", kind === "error" ? "alert" : "status");
    fill(this.result, ...children);
  }

  private async place(): Promise<void> {
    if (this.submitting) return;
    const pair = this.deps.pair.value;
    const keyState = this.deps.key.value;
    if (pair === null) return;
    if (keyState === null) {
      this.say("error", "Create or import a key first: it signs your order.");
      const create = document.getElementById("create-key");
      focusOn(create ?? this.result);
      return;
    }
    const check = checkDraft(this.draft(), pair);
    if (!check.ok) {
      this.showProblems(check.problems);
      this.say("error", "The order was not sent: ", check.problems.map((p) => p.words).join(" "));
      const first = check.problems[0]?.field;
      focusOn(this.control(first ?? "amount"));
      return;
    }
    this.showProblems([]);
    const terms = check.terms;
    this.submitting = true;
    this.submit.disabled = true;
    this.form.setAttribute("aria-busy", "true");
    this.say("busy", "Signing and sending the order…");
    const secret = terms.side === "sell" ? await newSwapSecret() : null;
    const pendingId = secret === null ? null : `pending:${secret.hashlock}`;
    if (secret !== null && pendingId !== null) {
      // Kept before anything is sent: if the answer is lost, the order may exist.
      this.deps.vault.putSecret({
        id: pendingId,
        preimageHex: secret.preimageHex,
        hashlock: secret.hashlock,
        pair: pair.pair,
        createdAt: this.deps.nowSeconds(),
        backedUp: false,
      });
    }
    try {
      const body = await signedCreateBody(
        keyState.key,
        terms,
        secret?.hashlock ?? null,
        this.deps.nowSeconds(),
      );
      const answer = await this.deps.api.createOrder(body, { quoteCurrency: pair.quote_currency });
      if (pendingId !== null) this.deps.vault.renameSecret(pendingId, answer.order_id);
      this.say("ok", ...this.placedWords(answer.order_id, answer.status, terms, answer.escrow_job_id));
      this.amount.value = "";
      this.deps.placed(answer.order_id);
      this.deps.secrets.render(false);
    } catch (err) {
      const refused = err instanceof ApiError && err.status >= 400 && err.status < 500;
      const orderId =
        err instanceof ApiError && typeof err.body["order_id"] === "string" ? err.body["order_id"] : null;
      if (pendingId !== null && refused && orderId === null)
        this.deps.vault.dropSecret(pendingId); // nothing was created
      else if (pendingId !== null && orderId !== null) this.deps.vault.renameSecret(pendingId, orderId);
      const words =
        err instanceof ApiError ? err.words : "The page failed to sign the order; nothing was sent.";
      this.say("error", refused ? "The bridge refused the order; nothing was created. " : "", words);
      this.deps.secrets.render(false);
    } finally {
      this.submitting = false;
      this.submit.disabled = this.deps.pair.value?.enabled === false;
      this.form.removeAttribute("aria-busy");
      focusOn(this.result);
    }
  }

  private placedWords(
    orderId: string,
    status: string,
    terms: OrderTerms,
    jobId: string | undefined,
  ): Child[] {
    const quote = terms.quoteCurrency;
    const what = `${terms.side === "sell" ? "Sell" : "Buy"} order `;
    const state = status.replace(/_/g, " ");
    const detail =
      terms.side === "sell"
        ? `${rtc(terms.escrowMicro)} is locked in escrow on the RustChain node (${rtc(terms.amountMicro)} plus the node's fee of ${rtc(terms.feeMicro)})${jobId ? `, escrow job ${jobId}` : ""}. A buyer who takes it locks ${formatUnits(terms.totalQuoteBase, terms.quoteDecimals)} ${quote} for you.`
        : `Nothing is locked until a seller takes it; then you lock ${formatUnits(terms.totalQuoteBase, terms.quoteDecimals)} ${quote}.`;
    return [
      h("strong", {}, what, h("code", { id: "placed-order-id" }, orderId), ` placed: ${state}.`),
      " ",
      detail,
    ];
  }
}
