/**
 * The quote-chain wallet panel: which EIP-1193 provider signs the HTLC transactions (the
 * browser's wallet, or on a dev chain its unlocked accounts) and which account, for the
 * selected pair's chain. The order form and the order view read `current()`.
 */

import type { Address } from "viem";

import type { PairInfo } from "../lib/api-types";
import {
  type ChainTarget,
  type ProviderKind,
  QuoteWallet,
  devChainProvider,
  injectedProvider,
  walletWords,
} from "../lib/evm-wallet";
import { formatUnits } from "../lib/money";
import { fill, h } from "./dom";
import type { Observable } from "./observable";

export interface Connected {
  readonly wallet: QuoteWallet;
  readonly account: Address;
}

/** The pair's chain as `GET /api/pairs` publishes it, or null (no verifiable quote chain). */
export function chainTarget(pair: PairInfo): ChainTarget | null {
  if (pair.chain !== "evm" || !pair.rpc_url || !pair.htlc_contract || !pair.chain_id) return null;
  return {
    chainId: pair.chain_id,
    rpcUrl: pair.rpc_url,
    htlc: pair.htlc_contract as Address,
    token: (pair.token_address ?? null) as Address | null,
  };
}

export class QuoteWalletPanel {
  private kinds: ProviderKind[] = [];
  private kind: ProviderKind | null = null;
  private accounts: Address[] = [];
  private account: Address | null = null;
  private wallet: QuoteWallet | null = null;
  private problem = "";
  private balance: bigint | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly root: HTMLElement,
    private readonly pair: Observable<PairInfo | null>,
  ) {
    pair.subscribe(() => void this.pairChanged());
  }

  current(): Connected | null {
    return this.wallet !== null && this.account !== null
      ? { wallet: this.wallet, account: this.account }
      : null;
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private changed(): void {
    this.render();
    for (const listener of this.listeners) listener();
  }

  private async pairChanged(): Promise<void> {
    this.wallet = null;
    this.account = null;
    this.accounts = [];
    this.kinds = [];
    this.kind = null;
    this.problem = "";
    const pair = this.pair.value;
    const target = pair === null ? null : chainTarget(pair);
    if (target === null) {
      this.problem =
        pair === null
          ? ""
          : `${pair.pair} has no quote chain this page can use${pair.disabled_reason ? `: ${pair.disabled_reason}` : "."}`;
      this.changed();
      return;
    }
    if (injectedProvider() !== null) this.kinds.push("injected");
    try {
      const listed = await devChainProvider(target.rpcUrl).request({ method: "eth_accounts" });
      if (Array.isArray(listed) && listed.length > 0) this.kinds.push("devchain");
    } catch {
      // A public RPC without unlocked accounts, or unreachable: no dev-chain option.
    }
    if (this.kinds.length === 0) {
      this.problem = "No wallet found: install a browser wallet such as MetaMask to lock or claim.";
    }
    this.changed();
  }

  private async choose(kind: ProviderKind): Promise<void> {
    const pair = this.pair.value;
    const target = pair === null ? null : chainTarget(pair);
    if (target === null) return;
    const provider = kind === "injected" ? injectedProvider() : devChainProvider(target.rpcUrl);
    if (provider === null) return;
    if (kind === this.kind && this.wallet !== null) return; // already chosen: keep the account
    const previous = this.account;
    this.kind = kind;
    this.wallet = new QuoteWallet(provider, kind, target);
    this.problem = "";
    try {
      this.accounts = await this.wallet.accounts();
      this.account = this.accounts.find((a) => a === previous) ?? this.accounts[0] ?? null;
      if (this.account === null) this.problem = "The wallet shared no account.";
    } catch (err) {
      this.problem = walletWords(err);
      this.accounts = [];
      this.account = null;
    }
    await this.refreshBalance();
    this.changed();
  }

  async refreshBalance(): Promise<void> {
    const connected = this.current();
    this.balance = null;
    if (connected === null) return;
    try {
      this.balance = await connected.wallet.balance(connected.account);
    } catch {
      this.balance = null;
    }
    this.render();
  }

  render(): void {
    const pair = this.pair.value;
    const children: HTMLElement[] = [];
    if (this.kinds.length > 0) {
      const labels: Record<ProviderKind, string> = {
        injected: "Browser wallet (MetaMask or similar)",
        devchain: "Dev chain accounts (unlocked on the dev chain's RPC)",
      };
      const select = h(
        "select",
        { id: "wallet-provider", on: { change: () => void this.choose(select.value as ProviderKind) } },
        h(
          "option",
          { attrs: { value: "", selected: this.kind === null, disabled: true } },
          "Choose a wallet",
        ),
        ...this.kinds.map((k) => h("option", { attrs: { value: k, selected: this.kind === k } }, labels[k])),
      );
      children.push(
        h("div", { class: "field" }, h("label", { attrs: { for: "wallet-provider" } }, "Wallet"), select),
      );
    }
    if (this.accounts.length > 0) {
      const select = h(
        "select",
        {
          id: "wallet-account",
          class: "mono",
          on: {
            change: () => {
              this.account = select.value as Address;
              void this.refreshBalance().then(() => this.changed());
            },
          },
        },
        ...this.accounts.map((a) => h("option", { attrs: { value: a, selected: a === this.account } }, a)),
      );
      children.push(
        h("div", { class: "field" }, h("label", { attrs: { for: "wallet-account" } }, "Account"), select),
      );
      if (this.balance !== null && pair !== null) {
        children.push(
          h(
            "p",
            { id: "wallet-balance", class: "hint" },
            `Balance: ${formatUnits(this.balance, pair.decimals)} ${pair.quote_currency}`,
          ),
        );
      }
    }
    if (this.problem)
      children.push(h("p", { id: "wallet-problem", class: "hint", attrs: { role: "status" } }, this.problem));
    if (children.length === 0) children.push(h("p", { class: "hint" }, "Looking for a wallet…"));
    fill(this.root, ...children);
  }
}
