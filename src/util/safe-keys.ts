/**
 * Keys that reach `Object.prototype` or `Object` through an ordinary property access:
 * `obj.__proto__` is the prototype, `obj.constructor.prototype` is too. A reader that writes
 * `out[key] = value` with such a key from a file or a flag changes every object in the process
 * ("prototype pollution"), so every reader of uplift (detection, facts, `--fact` flags, merges)
 * checks its keys here.
 *
 * Two policies, one per kind of input:
 * - Files uplift reads from an installation (settings, version files, command output): the key is
 *   left out and detection warns, naming file, line when known, and key path. The product wrote
 *   the file; refusing it would stop detection on an installation the operator cannot change.
 * - What the operator writes (`--fact` flags, `--facts` files) and profiles: refused with a coded
 *   error naming the key (and file:line:col for files).
 * Merges keep such keys as data (the customer's file must come back whole): they define them as
 * own properties with `defineEntry` instead of assigning them.
 */
export const unsafeKeys: readonly string[] = ['__proto__', 'constructor', 'prototype'];

export function isUnsafeKey(key: string): boolean {
  return key === '__proto__' || key === 'constructor' || key === 'prototype';
}

/** Sets `obj[key]` as an own data property, so `__proto__` is a key like any other. */
export function defineEntry(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * A deep copy of parsed data (plain objects, arrays, scalars) without unsafe keys; `dropped` gets
 * the path of every key left out (`a.b.__proto__`). Objects come back as plain objects.
 */
export function withoutUnsafeKeys<T>(value: T, dropped: string[] = [], path = ''): T {
  if (Array.isArray(value))
    return value.map((v, i) => withoutUnsafeKeys(v, dropped, `${path}[${i}]`)) as T;
  if (typeof value !== 'object' || value === null || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (isUnsafeKey(key)) {
      dropped.push(at);
      continue;
    }
    out[key] = withoutUnsafeKeys((value as Record<string, unknown>)[key], dropped, at);
  }
  return out as T;
}
