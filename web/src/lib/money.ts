/**
 * Money as integer base units (bigint), parsed from decimal text and printed back exactly,
 * never through a float. Rounding is half-up (away from zero on a tie), as the bridge's
 * `to_units(parse_decimal(text), decimals)` does, so the integers the page signs are the
 * integers the bridge reads.
 *
 * The grammar is the plain decimal one (`12`, `0.5`, `.5`, `5.`, `+1`, `-2`, `1e3`,
 * `2.5E-3`, ASCII digits); anything else is refused here, even where Python's Decimal
 * would take it (`1_000`, other scripts' digits).
 */

export type ParseFailure = "not_a_number" | "not_finite" | "out_of_range";
export type Parsed = { ok: true; units: bigint } | { ok: false; reason: ParseFailure };

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const NON_FINITE = /^[+-]?(?:inf|infinity|s?nan\d*)$/i;
const MAX_ADJUSTED_EXPONENT = 30; // the bridge's limit: "1e999999" is refused, not rounded
const MAX_SIGNIFICANT_DIGITS = 60; // the bridge computes with 60 digits; more are not exact

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/** Half-up division of a non-negative numerator by a positive denominator. */
export function divHalfUp(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  return 2n * (numerator % denominator) >= denominator ? quotient + 1n : quotient;
}

export function parseUnits(text: string, decimals: number): Parsed {
  const trimmed = text.trim();
  if (NON_FINITE.test(trimmed)) return { ok: false, reason: "not_finite" };
  const match = DECIMAL.exec(trimmed);
  if (match === null) return { ok: false, reason: "not_a_number" };
  const [, sign = "", whole = "", fraction = "", exponentText] = match;
  if (whole === "" && fraction === "") return { ok: false, reason: "not_a_number" };
  const digits = (whole + fraction).replace(/^0+/, "");
  if (digits === "") return { ok: true, units: 0n }; // zero, whatever its exponent
  if (exponentText !== undefined && exponentText.replace(/^[+-]?0*/, "").length > 6) {
    return { ok: false, reason: "out_of_range" }; // also keeps Number() below exact
  }
  const exponent = Number(exponentText ?? "0") - fraction.length;
  const adjusted = digits.length - 1 + exponent;
  if (Math.abs(adjusted) > MAX_ADJUSTED_EXPONENT || digits.length > MAX_SIGNIFICANT_DIGITS) {
    return { ok: false, reason: "out_of_range" };
  }
  const scale = exponent + decimals;
  const magnitude = scale >= 0 ? BigInt(digits) * pow10(scale) : divHalfUp(BigInt(digits), pow10(-scale));
  return { ok: true, units: sign === "-" ? -magnitude : magnitude };
}

/** The exact decimal text of `units`, without trailing zeros: 2010000n, 6 → "2.01". */
export function formatUnits(units: bigint, decimals: number): string {
  const sign = units < 0n ? "-" : "";
  const abs = units < 0n ? -units : units;
  const base = pow10(decimals);
  const whole = abs / base;
  const frac = abs % base;
  if (decimals === 0 || frac === 0n) return `${sign}${whole}`;
  const digits = frac.toString().padStart(decimals, "0").replace(/0+$/, "");
  return `${sign}${whole}.${digits}`;
}

/** An exact integer out of a JSON number the API sent (ids, µRTC, nano-quote). */
export function jsonInteger(value: unknown): bigint | null {
  if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value);
  return null;
}
