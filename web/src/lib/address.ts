/** RTC wallet addresses, as `domain/rustchain.address_from_pubkey` and
 * `domain/wallet_auth` define them: "RTC" + the first 40 lower-case hex of sha256(pubkey). */

import { bytesToHex } from "./hex";
import { sha256 } from "./sha256";

const NATIVE_WALLET = /^RTC[0-9a-fA-F]{40}$/;

export async function addressFromPublicKey(publicKey: Uint8Array): Promise<string> {
  return "RTC" + bytesToHex(await sha256(publicKey)).slice(0, 40);
}

export function isNativeWallet(wallet: string): boolean {
  return NATIVE_WALLET.test(wallet);
}

/** The spelling the node derives from a key; identity compares this, never the raw text. */
export function canonicalWallet(wallet: string): string {
  return isNativeWallet(wallet) ? "RTC" + wallet.slice(3).toLowerCase() : wallet;
}
