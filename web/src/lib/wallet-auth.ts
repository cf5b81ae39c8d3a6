/**
 * `wallet_auth` for create, match and cancel: an Ed25519 signature over exactly the bytes
 * `domain/wallet_auth.signed_message` builds, i.e. the compact, key-sorted, ASCII-escaped
 * JSON of {...bound, action, order_id, timestamp, wallet}. `wallet` is the exact string
 * the request body sends.
 */

import { pythonJson } from "./canonical-json";
import type { SigningKey } from "./ed25519";
import { bytesToHex } from "./hex";

export type Action = "create_order" | "match_order" | "cancel_order";
export type BoundValue = string | bigint | number;
export type Bound = Readonly<Record<string, BoundValue>>;

export interface AuthTerms {
  readonly action: Action | string;
  readonly orderId: string;
  readonly timestamp: number;
  readonly wallet: string;
  readonly bound: Bound;
}

export interface WalletAuth {
  readonly public_key: string;
  readonly signature: string;
  readonly timestamp: number;
}

export function signedMessage(terms: AuthTerms): string {
  // Same precedence as the Python: the four named keys override any bound field.
  return pythonJson({
    ...terms.bound,
    action: terms.action,
    order_id: terms.orderId,
    timestamp: terms.timestamp,
    wallet: terms.wallet,
  });
}

export function signedMessageBytes(terms: AuthTerms): Uint8Array {
  return new TextEncoder().encode(signedMessage(terms)); // pure ASCII by construction
}

export async function walletAuth(key: SigningKey, terms: AuthTerms): Promise<WalletAuth> {
  const signature = await key.sign(signedMessageBytes(terms));
  return {
    public_key: bytesToHex(key.publicKey),
    signature: bytesToHex(signature),
    timestamp: terms.timestamp,
  };
}
