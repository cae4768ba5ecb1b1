/**
 * RFC 8785 (JCS) canonical JSON of plain JSON data: object keys sorted by UTF-16 code units, no
 * whitespace, numbers and strings as ECMAScript's JSON.stringify writes them. The same data always
 * gives the same text, whatever order its keys were built in.
 *
 * Written here rather than taken from the `canonicalize` package (which the tests use as the oracle)
 * because plans are hashed on every `uplift plan`: a plan across thousands of releases carries a
 * notes digest of some 300 KB, and the package's recursive string building took more than half of
 * the planner's time on such a plan; this takes about 45 % of its time (bench/planner.ts).
 *
 * Like JSON.stringify, it leaves out object properties that are `undefined`, writes `null` for
 * `undefined` array items and calls `toJSON`. It refuses what JSON cannot say: NaN, ±Infinity,
 * bigint, functions and symbols as values.
 */
export function canonicalJson(value: unknown): string {
  const text = write(value);
  if (text === undefined) throw new TypeError(`cannot write ${typeof value} as canonical JSON`);
  return text;
}

// Strings without quotes, backslashes, control characters or surrogates are written as they are;
// the rest go through JSON.stringify, which escapes them as RFC 8785 asks (lone surrogates as \uXXXX).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must be escaped.
const needsEscape = /["\\\u0000-\u001f\ud800-\udfff]/;

function str(s: string): string {
  return needsEscape.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function write(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return str(v);
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`${v} is not allowed in canonical JSON`);
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return undefined;
    case 'object':
      break;
    default:
      throw new TypeError(`a ${typeof v} is not allowed in canonical JSON`);
  }
  if (v === null) return 'null';
  const withToJson = v as { toJSON?: unknown };
  if (typeof withToJson.toJSON === 'function') return write((withToJson.toJSON as () => unknown)());
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) s += ',';
      s += write(v[i]) ?? 'null';
    }
    return `${s}]`;
  }
  const o = v as Record<string, unknown>;
  let s = '{';
  for (const k of Object.keys(o).sort()) {
    const item = write(o[k]);
    if (item === undefined) continue;
    if (s.length > 1) s += ',';
    s += `${str(k)}:${item}`;
  }
  return `${s}}`;
}
