/**
 * The bridge's clock as the page sees it. Every answer carries `X-Server-Time` (Unix
 * seconds); the page keeps the offset to the device's clock and signs with the bridge's
 * time, so a device clock that is off (or a devnet clock moved by `POST /devnet/clock`)
 * does not get every order refused as `wallet_auth_timestamp_expired`.
 */

export class ServerClock {
  private offsetSeconds = 0;

  constructor(private readonly deviceMs: () => number = () => Date.now()) {}

  /** Learn from an answer's `X-Server-Time`; a missing or malformed header teaches nothing. */
  observe(header: string | null): void {
    const text = header?.trim() ?? "";
    if (/^\d{1,12}$/.test(text)) this.offsetSeconds = Number(text) - this.deviceSeconds();
  }

  /** The bridge's time now, as last learned (the device's own until the first answer). */
  readonly nowSeconds = (): number => this.deviceSeconds() + this.offsetSeconds;

  private deviceSeconds(): number {
    return Math.floor(this.deviceMs() / 1000);
  }
}
