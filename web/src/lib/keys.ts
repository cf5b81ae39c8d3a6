/**
 * A trader's key: a 32-byte Ed25519 seed, exported and imported as 64 hex characters,
 * the same bytes `clientlib.wallet.Wallet.from_seed(bytes.fromhex(text))` takes, so the
 * page and the Python client can share one key.
 */

import { addressFromPublicKey } from "./address";
import { type Ed25519Backend, type SigningKey, ed25519 } from "./ed25519";
import { bytesToHex, hexToBytes } from "./hex";

export class SeedFormatError extends Error {
  override name = "SeedFormatError";
}

export interface TradingKey extends SigningKey {
  readonly address: string;
  readonly backend: Ed25519Backend["name"];
  /** The seed as 64 lower-case hex characters: the export format. */
  exportSeedHex(): string;
}

/** Parse a pasted seed: 64 hex characters, spaces and an optional 0x prefix tolerated. */
export function parseSeedHex(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, "").replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]{64}$/.test(compact)) {
    throw new SeedFormatError("A key is 64 hexadecimal characters (0-9, a-f).");
  }
  return hexToBytes(compact, 32);
}

export async function keyFromSeed(seed: Uint8Array, backend?: Ed25519Backend): Promise<TradingKey> {
  const own = new Uint8Array(seed);
  const chosen = backend ?? (await ed25519());
  const signer = await chosen.fromSeed(own);
  const address = await addressFromPublicKey(signer.publicKey);
  return {
    address,
    backend: chosen.name,
    publicKey: signer.publicKey,
    sign: (message) => signer.sign(message),
    exportSeedHex: () => bytesToHex(own),
  };
}

export function newSeed(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

export async function createKey(backend?: Ed25519Backend): Promise<TradingKey> {
  return keyFromSeed(newSeed(), backend);
}

export async function importKey(text: string, backend?: Ed25519Backend): Promise<TradingKey> {
  return keyFromSeed(parseSeedHex(text), backend);
}
