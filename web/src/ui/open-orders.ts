/**
 * The open orders of the selected pair, each with a "Take" action: the taker signs a
 * match with their quote address (a buy order's taker is the RTC seller, whose swap
 * secret is made here, kept in the browser with a backup prompt, and only its hash sent).
 */

import { ApiError, type BridgeApi } from "../lib/api";
import type { OrderSummary, PairInfo } from "../lib/api-types";
import { formatUnits } from "../lib/money";
import { newSwapSecret } from "../lib/preimage";
import { checkQuoteAddress } from "../lib/quote-address";
import type { Vault } from "../lib/storage";
import { NANO_DECIMALS, RTC_DECIMALS } from "../lib/terms";
import { walletAuth } from "../lib/wallet-auth";
import { fill, focusOn, h } from "./dom";
import type { KeyState } from "./key-panel";
import type { Observable } from "./observable";
import type { QuoteWalletPanel } from "./quote-wallet";
import type { SecretBackup } from "./secret-backup";

export interface OpenOrdersDeps {
  readonly api: BridgeApi;
  readonly vault: Vault;
  readonly key: Observable<KeyState | null>;
  readonly pair: Observable<PairInfo | null>;
  readonly secrets: SecretBackup;
  readonly quoteWallet: QuoteWalletPanel;
  readonly nowSeconds: () => number;
  readonly taken: (orderId: string) => void;
}

export class OpenOrders {
  private orders: readonly OrderSummary[] = [];
  private taking: string | null = null;
  private busy = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly deps: OpenOrdersDeps,
  ) {
    deps.pair.subscribe(() => void this.refresh());
    deps.key.subscribe(() => this.render());
  }

  async refresh(): Promise<void> {
    const pair = this.deps.pair.value;
    if (pair === null) return;
    try {
      this.orders = (await this.deps.api.openOrders(pair.pair, 50)).orders;
    } catch {
      return; // the market's freshness indicator already says the bridge is unreachable
    }
    if (this.busy) return; // do not redraw under a taker's form being submitted
    this.render();
  }

  render(): void {
    const pair = this.deps.pair.value;
    const me = this.deps.key.value?.key.address ?? null;
    if (pair === null) return;
    if (this.orders.length === 0) {
      fill(this.root, h("p", { class: "hint" }, `No open orders on ${pair.pair}.`));
      return;
    }
    const rows = this.orders.map((o) => {
      const mine = o.maker_wallet === me;
      const verb = o.side === "sell" ? "Buy" : "Sell";
      const label = `${verb} ${formatUnits(BigInt(o.amount_micro_rtc), RTC_DECIMALS)} RTC from order ${o.order_id}`;
      return h(
        "tr",
        { attrs: { "data-order": o.order_id } },
        h("td", {}, o.side === "sell" ? "sells RTC" : "buys RTC"),
        h("td", { class: "num" }, formatUnits(BigInt(o.amount_micro_rtc), RTC_DECIMALS)),
        h("td", { class: "num" }, formatUnits(BigInt(o.price_per_rtc_nano_quote), NANO_DECIMALS)),
        h(
          "td",
          { class: "num" },
          `${formatUnits(BigInt(o.total_quote_base_units), pair.decimals)} ${o.quote_currency}`,
        ),
        h(
          "td",
          {},
          mine
            ? h("span", { class: "hint" }, "yours")
            : h(
                "button",
                {
                  class: "secondary",
                  attrs: { type: "button", "aria-label": label, "data-take": o.order_id },
                  on: { click: () => this.openTake(o.order_id) },
                },
                verb,
              ),
        ),
      );
    });
    const table = h(
      "table",
      { id: "open-orders-table", class: "trades" },
      h("caption", { class: "visually-hidden" }, `Open orders on ${pair.pair}`),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { attrs: { scope: "col" } }, "Order"),
          h("th", { attrs: { scope: "col" } }, "RTC"),
          h("th", { attrs: { scope: "col" } }, `Price (${pair.quote_currency})`),
          h("th", { attrs: { scope: "col" } }, "Total"),
          h("th", { attrs: { scope: "col" } }, h("span", { class: "visually-hidden" }, "Action")),
        ),
      ),
      h("tbody", {}, ...rows),
    );
    const take = this.taking === null ? null : (this.orders.find((o) => o.order_id === this.taking) ?? null);
    fill(this.root, h("div", { class: "scroll" }, table), take === null ? null : this.takeForm(pair, take));
  }

  private openTake(orderId: string): void {
    this.taking = orderId;
    this.render();
    const first = document.getElementById("take-address");
    if (first !== null) focusOn(first);
  }

  private takeForm(pair: PairInfo, order: OrderSummary): HTMLElement {
    const iSell = order.side === "buy"; // taking a buy order: I sell RTC
    const quote = pair.quote_currency;
    const connected = this.deps.quoteWallet.current();
    const address = h("input", {
      id: "take-address",
      class: "mono",
      attrs: {
        type: "text",
        autocomplete: "off",
        spellcheck: "false",
        "aria-describedby": "take-address-hint take-result",
      },
    });
    address.value = connected?.account ?? "";
    const result = h("div", {
      id: "take-result",
      class: "result",
      attrs: { role: "status", tabindex: "-1" },
    });
    const total = `${formatUnits(BigInt(order.total_quote_base_units), pair.decimals)} ${quote}`;
    const amount = `${formatUnits(BigInt(order.amount_micro_rtc), RTC_DECIMALS)} RTC`;
    const explain = iSell
      ? `You sell ${amount} for ${total}. Your RTC plus the node's 5 % fee is locked in escrow now; a swap secret is made in this browser (only its hash is sent). The buyer then locks ${total} for you.`
      : `You buy ${amount} for ${total}. After taking it you lock ${total} in the HTLC contract within ${Math.round(pair.lock_window_seconds / 60)} min, from the address below.`;
    const form = h(
      "form",
      {
        id: "take-form",
        class: "callout",
        attrs: { novalidate: true, "aria-labelledby": "take-heading" },
        on: {
          submit: (event) => {
            event.preventDefault();
            void this.take(pair, order, address.value, result);
          },
        },
      },
      h("h3", { id: "take-heading" }, `Take order ${order.order_id}`),
      h("p", {}, explain),
      h("label", { attrs: { for: "take-address" } }, `Your ${quote} address`),
      address,
      h(
        "p",
        { id: "take-address-hint", class: "hint" },
        iSell ? `Where you are paid the ${quote}.` : `The address you lock from; a refund goes back to it.`,
      ),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          { id: "take-submit", class: "primary", attrs: { type: "submit" } },
          "Sign and take the order",
        ),
        h(
          "button",
          {
            class: "secondary",
            attrs: { type: "button" },
            on: {
              click: () => {
                this.taking = null;
                this.render();
              },
            },
          },
          "Close",
        ),
      ),
      result,
    );
    return form;
  }

  private async take(
    pair: PairInfo,
    order: OrderSummary,
    rawAddress: string,
    result: HTMLElement,
  ): Promise<void> {
    if (this.busy) return;
    const say = (kind: "ok" | "error" | "busy", text: string): void => {
      result.dataset["kind"] = kind;
      result.setAttribute("role", kind === "error" ? "alert" : "status");
      fill(result, text);
      if (kind !== "busy") focusOn(result);
    };
    const keyState = this.deps.key.value;
    if (keyState === null) {
      say("error", "Create or import a key first: it signs your match.");
      return;
    }
    const address = checkQuoteAddress(rawAddress, pair.chain, pair.quote_currency);
    if (!address.ok) {
      say("error", address.words);
      return;
    }
    this.busy = true;
    say("busy", "Signing and sending the match…");
    const iSell = order.side === "buy";
    const secret = iSell ? await newSwapSecret() : null;
    if (secret !== null) {
      this.deps.vault.putSecret({
        id: order.order_id,
        preimageHex: secret.preimageHex,
        hashlock: secret.hashlock,
        pair: pair.pair,
        createdAt: this.deps.nowSeconds(),
        backedUp: false,
      });
    }
    try {
      const bound: Record<string, string> = { eth_address: address.address };
      if (secret !== null) bound["htlc_hash"] = secret.hashlock;
      const auth = await walletAuth(keyState.key, {
        action: "match_order",
        orderId: order.order_id,
        timestamp: this.deps.nowSeconds(),
        wallet: keyState.key.address,
        bound,
      });
      await this.deps.api.match(
        order.order_id,
        {
          wallet: keyState.key.address,
          eth_address: address.address,
          ...(secret === null ? {} : { htlc_hash: secret.hashlock }),
          wallet_auth: auth,
        },
        { quoteCurrency: pair.quote_currency },
      );
      this.taking = null;
      this.busy = false;
      this.deps.secrets.render(false);
      this.deps.taken(order.order_id);
      void this.refresh();
    } catch (err) {
      this.busy = false;
      const refused = err instanceof ApiError && err.status >= 400 && err.status < 500;
      if (secret !== null && refused) this.deps.vault.dropSecret(order.order_id);
      this.deps.secrets.render(false);
      say(
        "error",
        (refused ? "The bridge refused the match; nothing changed. " : "") +
          (err instanceof ApiError ? err.words : String(err)),
      );
    }
  }
}
