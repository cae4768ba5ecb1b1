import { createHash } from 'node:crypto';
import { canonicalJson } from '../util/index.ts';

/** `sha256:<hex>` of a value's RFC 8785 canonical JSON: the same content always gives the same hash. */
export function contentHash(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}

/** True when a plan's `hash` matches its content: the plan is the one that was reviewed. */
export function isPlanIntact(plan: { hash: string }): boolean {
  const { hash, ...rest } = plan;
  return contentHash(rest) === hash;
}
