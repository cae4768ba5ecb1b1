import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';

// The package is CommonJS (`module.exports = fn`) while its typings claim an ES default export.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/** `sha256:<hex>` of a value's RFC 8785 canonical JSON: the same content always gives the same hash. */
export function contentHash(value: unknown): string {
  const text = canonicalize(value);
  /* v8 ignore next -- unreachable: plans and facts are plain JSON data */
  if (text === undefined) throw new Error('cannot canonicalize value');
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** True when a plan's `hash` matches its content: the plan is the one that was reviewed. */
export function isPlanIntact(plan: { hash: string }): boolean {
  const { hash, ...rest } = plan;
  return contentHash(rest) === hash;
}
