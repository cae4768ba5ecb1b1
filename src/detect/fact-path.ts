import type { Facts } from '../catalog/index.ts';

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
  let node = facts;
  let i = 0;
  follow: while (i < segments.length - 1) {
    for (let take = segments.length - 1 - i; take >= 1; take--) {
      const child = node[segments.slice(i, i + take).join('.')];
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
  const existing = node[key];
  node[key] = isRecord(existing) && isRecord(value) ? { ...existing, ...value } : value;
}

/**
 * Deep-merges facts: `over` wins, mappings merge key by key, lists and scalars are replaced.
 * Used to lay a `--facts` file over detected facts, so an operator can correct one fact
 * (an external database's version) without restating the rest.
 */
export function mergeFacts(base: Facts, over: Facts): Facts {
  const out: FactMap = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isRecord(b) && isRecord(v) ? mergeFacts(b, v) : v;
  }
  return out as Facts;
}
