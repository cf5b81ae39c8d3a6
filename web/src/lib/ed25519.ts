/**
 * Ed25519 signing from a 32-byte seed (RFC 8032's private key, the same bytes as
 * `clientlib.wallet.Wallet.from_seed`). The browser's WebCrypto does it natively; only
 * when it cannot (an older browser), or signs RFC 8032's test vector wrongly, does the
 * page use `@noble/ed25519`. Both are deterministic, so both give the same signature,
 * which the shared test vectors check for each.
 */

import { bytesToHex, concatBytes } from "./hex";

export interface SigningKey {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export interface Ed25519Backend {
  readonly name: "webcrypto" | "noble";
  fromSeed(seed: Uint8Array): Promise<SigningKey>;
}

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): WebCrypto imports private keys only so.
const PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

// RFC 8032 §7.1, test 1: a backend must reproduce it before the page trusts it.
const PROBE_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const PROBE_SIGNATURE =
  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065" +
  "224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

function checkSeed(seed: Uint8Array): void {
  if (seed.length !== 32) throw new RangeError("an Ed25519 seed is 32 bytes");
}

function base64UrlToBytes(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export function webCryptoBackend(subtle: SubtleCrypto): Ed25519Backend {
  return {
    name: "webcrypto",
    async fromSeed(seed) {
      checkSeed(seed);
      const key = await subtle.importKey(
        "pkcs8",
        new Uint8Array(concatBytes(PKCS8_PREFIX, seed)),
        { name: "Ed25519" },
        true, // extractable only so that its public half can be read back as JWK
        ["sign"],
      );
      const jwk = await subtle.exportKey("jwk", key);
      if (typeof jwk.x !== "string") throw new Error("WebCrypto returned no Ed25519 public key");
      return {
        publicKey: base64UrlToBytes(jwk.x),
        async sign(message) {
          const sig = await subtle.sign({ name: "Ed25519" }, key, new Uint8Array(message));
          return new Uint8Array(sig);
        },
      };
    },
  };
}

export async function nobleBackend(): Promise<Ed25519Backend> {
  const ed = await import("@noble/ed25519");
  return {
    name: "noble",
    async fromSeed(seed) {
      checkSeed(seed);
      const own = new Uint8Array(seed);
      return {
        publicKey: await ed.getPublicKeyAsync(own),
        sign: (message) => ed.signAsync(new Uint8Array(message), own),
      };
    },
  };
}

/** True when `backend` signs RFC 8032's first test vector correctly. */
export async function passesProbe(backend: Ed25519Backend): Promise<boolean> {
  try {
    const seed = Uint8Array.from(PROBE_SEED.match(/../g) ?? [], (h) => parseInt(h, 16));
    const key = await backend.fromSeed(seed);
    return bytesToHex(await key.sign(new Uint8Array())) === PROBE_SIGNATURE;
  } catch {
    return false; // "Ed25519 is not supported" surfaces as NotSupportedError
  }
}

let chosen: Promise<Ed25519Backend> | null = null;

/** The backend this browser uses: WebCrypto when it signs correctly, else @noble/ed25519. */
export function ed25519(): Promise<Ed25519Backend> {
  chosen ??= (async () => {
    const subtle = globalThis.crypto?.subtle;
    if (subtle !== undefined) {
      const native = webCryptoBackend(subtle);
      if (await passesProbe(native)) return native;
    }
    return nobleBackend();
  })();
  return chosen;
}
