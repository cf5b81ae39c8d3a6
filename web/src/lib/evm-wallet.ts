/**
 * The quote chain through an EIP-1193 wallet, with viem. Two providers:
 *
 * - the browser's wallet (`window.ethereum`: MetaMask and the like), which signs;
 * - on a dev chain, a built-in provider that forwards JSON-RPC to the pair's RPC URL,
 *   where the dev node (anvil) signs for its own unlocked accounts. It is offered only
 *   when that RPC lists accounts (`eth_accounts`), which a public RPC never does.
 *
 * Reads and receipts always go to the pair's RPC URL from `GET /api/pairs` (the page's
 * Content-Security-Policy allows exactly that origin), never to a third party.
 */

import {
  type Address,
  type EIP1193Provider,
  type Hex,
  type Log,
  type PublicClient,
  type WalletClient,
  createPublicClient,
  createWalletClient,
  custom,
  getAddress,
  http,
  parseEventLogs,
} from "viem";

import { ERC20_ABI, HTLC_ABI, LOCK_STATES, type LockState, ZERO_ADDRESS } from "./htlc";

export interface Eip1193 {
  request(args: { method: string; params?: unknown }): Promise<unknown>;
}

export type ProviderKind = "injected" | "devchain";

/** `window.ethereum` when the browser has a wallet. */
export function injectedProvider(): Eip1193 | null {
  const candidate = (globalThis as { ethereum?: unknown }).ethereum;
  if (typeof candidate === "object" && candidate !== null && "request" in candidate) {
    return candidate as Eip1193;
  }
  return null;
}

export class RpcFailure extends Error {
  override name = "RpcFailure";
}

/** EIP-1193 over plain JSON-RPC to `rpcUrl`: the dev chain signs for its unlocked accounts. */
export function devChainProvider(rpcUrl: string): Eip1193 {
  let id = 0;
  return {
    async request({ method, params }) {
      id += 1;
      let response: Response;
      try {
        response = await fetch(rpcUrl, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id, method, params: params ?? [] }),
          cache: "no-store",
          credentials: "omit",
        });
      } catch {
        throw new RpcFailure(`The quote chain's RPC (${rpcUrl}) could not be reached.`);
      }
      const body = (await response.json().catch(() => null)) as {
        result?: unknown;
        error?: { message?: string };
      } | null;
      if (body === null) throw new RpcFailure(`The quote chain's RPC answered HTTP ${response.status}.`);
      if (body.error) throw new RpcFailure(body.error.message ?? "The quote chain refused the call.");
      return body.result;
    },
  };
}

export interface ChainTarget {
  readonly chainId: number;
  readonly rpcUrl: string;
  readonly htlc: Address;
  /** null for ETH. */
  readonly token: Address | null;
}

export interface LockView {
  readonly sender: Address;
  readonly receiver: Address;
  readonly token: Address;
  readonly amount: bigint;
  readonly hashlock: Hex;
  readonly timelock: number;
  readonly state: LockState;
}

export interface LockRequest {
  readonly receiver: Address;
  readonly hashlock: Hex;
  readonly timelock: number;
  readonly amount: bigint;
  readonly orderRef: Hex;
}

export interface Sent {
  readonly txHash: Hex;
  readonly lockId: Hex | null;
  readonly blockNumber: bigint;
}

/** Progress of a multi-step action, in words for the page to show. */
export type Progress = (words: string) => void;

export class QuoteWallet {
  private readonly wallet: WalletClient;
  readonly reader: PublicClient;

  constructor(
    readonly provider: Eip1193,
    readonly kind: ProviderKind,
    readonly target: ChainTarget,
  ) {
    this.wallet = createWalletClient({ transport: custom(provider as EIP1193Provider) });
    this.reader = createPublicClient({ transport: http(target.rpcUrl, { retryCount: 1 }) });
  }

  /** The wallet's accounts; the browser's wallet asks its owner first. */
  async accounts(): Promise<Address[]> {
    const method = this.kind === "injected" ? "eth_requestAccounts" : "eth_accounts";
    const found = (await this.provider.request({ method })) as unknown;
    // Checksummed (EIP-55), as a person compares them and as the bridge stores them.
    return Array.isArray(found)
      ? found.filter((a): a is string => typeof a === "string").map((a) => getAddress(a))
      : [];
  }

  /** The wallet must be on the pair's chain; the browser's wallet is asked to switch. */
  async ensureChain(): Promise<void> {
    const current = Number(await this.provider.request({ method: "eth_chainId" }));
    if (current === this.target.chainId) return;
    if (this.kind === "injected") {
      await this.provider.request({
        method: "wallet_switchEthereumChain",
        params: [{ chainId: `0x${this.target.chainId.toString(16)}` }],
      });
      const now = Number(await this.provider.request({ method: "eth_chainId" }));
      if (now === this.target.chainId) return;
    }
    throw new RpcFailure(
      `Your wallet is on chain ${current}; this pair settles on chain ${this.target.chainId}. Switch networks and try again.`,
    );
  }

  async chainTime(): Promise<number> {
    const block = await this.reader.getBlock({ blockTag: "latest" });
    return Number(block.timestamp);
  }

  async balance(owner: Address): Promise<bigint> {
    if (this.target.token === null) return this.reader.getBalance({ address: owner });
    return this.reader.readContract({
      address: this.target.token,
      abi: ERC20_ABI,
      functionName: "balanceOf",
      args: [owner],
    });
  }

  private async mined(txHash: Hex, what: string): Promise<{ logs: readonly Log[]; blockNumber: bigint }> {
    const receipt = await this.reader.waitForTransactionReceipt({ hash: txHash, pollingInterval: 500 });
    if (receipt.status !== "success") {
      throw new RpcFailure(`The ${what} transaction ${txHash} failed on the chain.`);
    }
    return { logs: receipt.logs, blockNumber: receipt.blockNumber };
  }

  /** Until `confirmations` blocks stand on `block` (the bridge counts a lock only then). */
  async confirmed(block: bigint, confirmations: number, progress: Progress): Promise<void> {
    for (;;) {
      const head = await this.reader.getBlockNumber({ cacheTime: 0 });
      const have = head >= block ? Number(head - block) + 1 : 0;
      if (have > confirmations) return;
      progress(`Waiting for the lock to be final: ${have} of ${confirmations + 1} blocks…`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /** Lock the order's total on the HTLC: ETH directly; a token after an approval. */
  async lock(from: Address, req: LockRequest, progress: Progress): Promise<Sent> {
    await this.ensureChain();
    const token = this.target.token;
    if (token !== null) {
      const allowance = await this.reader.readContract({
        address: token,
        abi: ERC20_ABI,
        functionName: "allowance",
        args: [from, this.target.htlc],
      });
      if (allowance < req.amount) {
        progress("Approve the HTLC contract to take the tokens (1 of 2)…");
        const approval = await this.wallet.writeContract({
          account: from,
          chain: null,
          address: token,
          abi: ERC20_ABI,
          functionName: "approve",
          args: [this.target.htlc, req.amount],
        });
        progress("Waiting for the approval to be mined…");
        await this.mined(approval, "approval");
      }
      progress("Lock the tokens in the HTLC contract (2 of 2)…");
    } else {
      progress("Lock the ETH in the HTLC contract…");
    }
    const txHash = await this.wallet.writeContract({
      ...this.htlc(from),
      functionName: "lock",
      args: [
        req.receiver,
        req.hashlock,
        BigInt(req.timelock),
        token ?? ZERO_ADDRESS,
        req.amount,
        req.orderRef,
      ],
      value: token === null ? req.amount : 0n,
    });
    progress("Waiting for the lock to be mined…");
    const { logs, blockNumber } = await this.mined(txHash, "lock");
    const events = parseEventLogs({ abi: HTLC_ABI, eventName: "Locked", logs: [...logs] });
    const ours = events.find((e) => e.address.toLowerCase() === this.target.htlc.toLowerCase());
    return { txHash, lockId: ours?.args.id ?? null, blockNumber };
  }

  async claim(from: Address, lockId: Hex, preimage: Hex): Promise<Sent> {
    return this.settle(lockId, "claim", () =>
      this.wallet.writeContract({ ...this.htlc(from), functionName: "claim", args: [lockId, preimage] }),
    );
  }

  async refund(from: Address, lockId: Hex): Promise<Sent> {
    return this.settle(lockId, "refund", () =>
      this.wallet.writeContract({ ...this.htlc(from), functionName: "refund", args: [lockId] }),
    );
  }

  /** What every write to the HTLC contract from `from` names (viem's writeContract). */
  private htlc(from: Address) {
    return { account: from, chain: null, address: this.target.htlc, abi: HTLC_ABI } as const;
  }

  /** A claim or refund of `lockId`: on the pair's chain, written, then mined successfully. */
  private async settle(lockId: Hex, what: string, write: () => Promise<Hex>): Promise<Sent> {
    await this.ensureChain();
    const txHash = await write();
    const { blockNumber } = await this.mined(txHash, what);
    return { txHash, lockId, blockNumber };
  }

  async getLock(lockId: Hex): Promise<LockView> {
    const [sender, receiver, token, amount, hashlock, timelock, , state] = await this.reader.readContract({
      address: this.target.htlc,
      abi: HTLC_ABI,
      functionName: "getLock",
      args: [lockId],
    });
    return {
      sender,
      receiver,
      token,
      amount,
      hashlock,
      timelock: Number(timelock),
      state: LOCK_STATES[state] ?? "none",
    };
  }
}

/** A refusal from a wallet or the chain in plain words (a rejected prompt says so). */
export function walletWords(err: unknown): string {
  const e = err as { code?: number; shortMessage?: string; message?: string; name?: string };
  if (e?.code === 4001 || /User (rejected|denied)/i.test(e?.message ?? "")) {
    return "You declined the request in your wallet; nothing was sent.";
  }
  if (e instanceof RpcFailure) return e.message;
  const text = e?.shortMessage ?? e?.message ?? String(err);
  return `The quote chain refused the transaction: ${text.split("\n")[0]}`;
}
