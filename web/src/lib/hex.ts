/** Hex ⇄ bytes, strict: a wrong length or a non-hex character is an error, never a guess. */

export class HexError extends Error {
  override name = "HexError";
}

export function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** Lower- or upper-case hex of exactly `length` bytes (any length when omitted). */
export function hexToBytes(hex: string, length?: number): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new HexError("not hexadecimal");
  }
  if (length !== undefined && hex.length !== length * 2) {
    throw new HexError(`expected ${length} bytes, got ${hex.length / 2}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
