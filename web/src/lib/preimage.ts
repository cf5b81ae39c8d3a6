/**
 * The RTC seller's swap secret: 32 random bytes `p` made in this browser, and its
 * hashlock `sha256(p)` (lower-case hex), which is all the bridge sees until the seller
 * reveals `p` to be paid. Same hash as `domain/hashing.hashlock`.
 */

import { bytesToHex, hexToBytes } from "./hex";
import { sha256 } from "./sha256";

export interface SwapSecret {
  readonly preimageHex: string;
  readonly hashlock: string;
}

export async function hashlockOf(preimage: Uint8Array): Promise<string> {
  return bytesToHex(await sha256(preimage));
}

export async function newSwapSecret(): Promise<SwapSecret> {
  const preimage = crypto.getRandomValues(new Uint8Array(32));
  return { preimageHex: bytesToHex(preimage), hashlock: await hashlockOf(preimage) };
}

export async function secretMatches(preimageHex: string, hashlock: string): Promise<boolean> {
  return (await hashlockOf(hexToBytes(preimageHex, 32))) === hashlock.toLowerCase();
}
