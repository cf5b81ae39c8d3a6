/** SHA-256 through WebCrypto: the hashlock `sha256(p)` and the RTC address both use it. */

export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(data)));
}
