/**
 * The bytes Python's `json.dumps(value, sort_keys=True, separators=(",", ":"))` writes,
 * which is what `domain/wallet_auth.signed_message` signs. ASCII only: every character
 * outside space..tilde is a \uXXXX escape (astral ones as their UTF-16 surrogate pair,
 * exactly the code units a JavaScript string holds), keys sorted by code point.
 *
 * Integers are bigint or safe-integer numbers; a fractional number is refused, because
 * Python would print a float differently and no signed field is a float.
 */

export type JsonValue =
  string | bigint | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

export function pythonJsonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    const code = text.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (short !== undefined) out += short;
    else if (code < 0x20 || code > 0x7e) out += "\\u" + code.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

/** Python sorts str keys by code point; JavaScript's default sort uses UTF-16 units. */
function byCodePoint(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0) ?? 0);
  const y = Array.from(b, (c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

export function pythonJson(value: JsonValue): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError(`not a safe integer: ${value}`);
    return String(value);
  }
  if (typeof value === "string") return pythonJsonString(value);
  if (Array.isArray(value)) return "[" + value.map((v) => pythonJson(v)).join(",") + "]";
  const record = value as { readonly [key: string]: JsonValue };
  const keys = Object.keys(record).sort(byCodePoint);
  return "{" + keys.map((k) => pythonJsonString(k) + ":" + pythonJson(record[k] ?? null)).join(",") + "}";
}
