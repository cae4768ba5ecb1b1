/** What a lookup of one fact found. */
export type FactLookup = { found: true; value: unknown } | { found: false };

/**
 * Reads a fact by dotted path. Keys may themselves contain dots (`settings.Direct.Connection.When.Proxy.Down`
 * names the key `Direct.Connection.When.Proxy.Down` under `settings`), so at each level the longest
 * run of segments that is a key wins.
 */
export function lookupFact(facts: unknown, path: string): FactLookup {
  return lookupSegments(facts, path.split('.'));
}

function lookupSegments(node: unknown, segments: readonly string[]): FactLookup {
  if (segments.length === 0)
    return node === undefined || node === null ? { found: false } : { found: true, value: node };
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return { found: false };
  const record = node as Record<string, unknown>;
  for (let take = segments.length; take >= 1; take--) {
    const key = segments.slice(0, take).join('.');
    if (Object.hasOwn(record, key)) {
      const found = lookupSegments(record[key], segments.slice(take));
      if (found.found) return found;
    }
  }
  return { found: false };
}
