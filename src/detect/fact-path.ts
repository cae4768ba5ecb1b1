import type { Facts } from '../catalog/index.ts';
import { isUnsafeKey, withoutUnsafeKeys } from '../util/index.ts';

export type FactMap = Record<string, unknown>;

export function isRecord(v: unknown): v is FactMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Sets a fact by dotted path so that `lookupFact` finds it again. Existing mappings are followed
 * (longest key first, as lookup does); the first segment makes a group when it is missing, and the
 * rest of the path becomes one key: `settings.Direct.Connection.When.Proxy.Down` lands in the
 * settings file's own flat key, and `data.historyFiles` in `{ data: { historyFiles } }`.
 * Two mappings written to one path merge, the later one's keys winning.
 */
export function setFact(facts: FactMap, path: string, value: unknown): void {
  const segments = path.split('.');
  /* v8 ignore next 2 -- unreachable: profiles and flags refuse such paths before they get here */
  if (segments.some(isUnsafeKey))
    throw new Error(`fact path ${path} has a key that reaches Object.prototype`);
  let node = facts;
  let i = 0;
  follow: while (i < segments.length - 1) {
    for (let take = segments.length - 1 - i; take >= 1; take--) {
      const key = segments.slice(i, i + take).join('.');
      const child = Object.hasOwn(node, key) ? node[key] : undefined;
      if (isRecord(child)) {
        node = child;
        i += take;
        continue follow;
      }
    }
    break;
  }
  if (i === 0 && segments.length > 1) {
    const group: FactMap = {};
    node[segments[0] as string] = group;
    node = group;
    i = 1;
  }
  const key = segments.slice(i).join('.');
  const existing = Object.hasOwn(node, key) ? node[key] : undefined;
  node[key] = isRecord(existing) && isRecord(value) ? { ...existing, ...value } : value;
}

/**
 * Deep-merges facts: `over` wins, mappings merge key by key, lists and scalars are replaced.
 * Used to lay a `--facts` file over detected facts, so an operator can correct one fact
 * (an external database's version) without restating the rest.
 */
export function mergeFacts(base: Facts, over: Facts): Facts {
  const out: FactMap = { ...base };
  // Facts files refuse unsafe keys (src/facts); this keeps any other caller from reaching the prototype.
  for (const [k, v] of Object.entries(over)) {
    if (isUnsafeKey(k)) continue;
    const b = Object.hasOwn(out, k) ? out[k] : undefined;
    out[k] = isRecord(b) && isRecord(v) ? mergeFacts(b, v) : withoutUnsafeKeys(v);
  }
  return out as Facts;
}
