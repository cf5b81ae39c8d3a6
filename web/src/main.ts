/**
 * The trading page: wires the market view, the key panel and the order form to the
 * bridge's API. Served by the bridge (api/web.py) under a strict Content-Security-Policy;
 * talks to nothing but the bridge.
 */

import "./styles.css";

import { BridgeApi, ApiError } from "./lib/api";
import type { PairInfo } from "./lib/api-types";
import { keyFromSeed } from "./lib/keys";
import { hexToBytes } from "./lib/hex";
import { Vault, browserStorage } from "./lib/storage";
import { byId, fill, focusableWhileScrolling, h } from "./ui/dom";
import { Freshness } from "./ui/freshness";
import { type KeyState, KeyPanel } from "./ui/key-panel";
import { renderBook, renderStats, renderTrades } from "./ui/market";
import { MarketFeed } from "./ui/market-feed";
import { Observable } from "./ui/observable";
import { OpenOrders } from "./ui/open-orders";
import { OrderForm } from "./ui/order-form";
import { OrderView } from "./ui/order-view";
import { QuoteWalletPanel } from "./ui/quote-wallet";
import { SecretBackup } from "./ui/secret-backup";

const DEFAULT_PAIR = "RTC/USDC";
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function announcer(): (text: string) => void {
  const region = byId("announcer");
  return (text) => {
    region.textContent = text;
  };
}

async function restoreKey(vault: Vault): Promise<KeyState | null> {
  const stored = vault.storedKey();
  if (stored === null) return null;
  try {
    return { key: await keyFromSeed(hexToBytes(stored.seedHex, 32)), backedUp: stored.backedUp };
  } catch {
    return null; // an unreadable record: the panel offers create/import again
  }
}

/** The bridge's pairs; retried every few seconds until the bridge answers. */
async function loadPairs(api: BridgeApi, freshness: Freshness): Promise<readonly PairInfo[]> {
  for (;;) {
    try {
      return (await api.pairs()).pairs;
    } catch (err) {
      freshness.failed(err instanceof ApiError ? err.words : "The bridge's pairs could not be read.");
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
  }
}

async function start(): Promise<void> {
  const api = new BridgeApi();
  const storage = browserStorage();
  const vault = new Vault(storage);
  const announce = announcer();
  const keyState = new Observable<KeyState | null>(await restoreKey(vault));
  const pair = new Observable<PairInfo | null>(null);
  const freshness = new Freshness(byId("freshness"), announce);
  setInterval(() => freshness.render(), 1000);

  const keyPanel = new KeyPanel(byId("key-panel"), keyState, vault, nowSeconds);
  keyPanel.render();
  for (const box of document.querySelectorAll<HTMLElement>(".scroll[data-label]")) {
    focusableWhileScrolling(box, box.dataset["label"] ?? "");
  }
  const secrets = new SecretBackup(byId("secret-backup"), vault);
  secrets.render();

  let pairs: readonly PairInfo[] = [];
  const quoteWallet = new QuoteWalletPanel(byId("quote-wallet"), pair);
  const orderView = new OrderView(byId("my-orders"), byId("order-detail-body"), {
    api,
    vault,
    storage,
    key: keyState,
    pairs: () => pairs,
    quoteWallet,
    nowSeconds: api.clock.nowSeconds,
    announce,
  });
  orderView.render();
  const openOrders = new OpenOrders(byId("open-orders"), {
    api,
    vault,
    key: keyState,
    pair,
    secrets,
    quoteWallet,
    nowSeconds: api.clock.nowSeconds,
    taken: (orderId) => void orderView.open(orderId, true),
  });
  const feed = new MarketFeed(
    api,
    pair,
    freshness,
    (snap) => {
      renderStats(byId("market-stats"), snap);
      renderBook(byId<HTMLTableElement>("book"), snap);
      renderTrades(byId<HTMLTableElement>("trades"), snap);
      void openOrders.refresh();
    },
    api.clock.nowSeconds, // "24 h" as the bridge counts it
  );
  new OrderForm(byId("order-panel"), {
    api,
    vault,
    key: keyState,
    pair,
    secrets,
    nowSeconds: api.clock.nowSeconds, // orders are signed with the bridge's time
    placed: (orderId) => {
      void feed.refresh();
      void orderView.open(orderId, false);
    },
  });

  pairs = await loadPairs(api, freshness);
  const select = byId<HTMLSelectElement>("pair");
  const wanted = new URLSearchParams(location.search).get("pair") ?? DEFAULT_PAIR;
  const initial = pairs.find((p) => p.pair === wanted) ?? pairs[0] ?? null;
  fill(
    select,
    ...pairs.map((p) => h("option", { attrs: { value: p.pair, selected: p === initial } }, p.pair)),
  );
  select.disabled = pairs.length === 0;
  select.addEventListener("change", () => pair.set(pairs.find((p) => p.pair === select.value) ?? null));
  pair.set(initial);
  void orderView.refreshList();
  await orderView.fromHash();
  document.body.dataset["ready"] = "true"; // for the browser tests: the page is wired
}

void start();
