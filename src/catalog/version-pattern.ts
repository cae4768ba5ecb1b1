import { sameRelease, type VersionScheme } from '../versioning/index.ts';

/**
 * A compiled pattern over versions. Grammar (docs/catalog.md):
 *   pattern     := alternative ( "||" alternative )*
 *   alternative := term ( "," term )*            -- all terms must hold
 *   term        := "*" | "release:" VERSION | ( ">=" | ">" | "<=" | "<" | "=" ) VERSION | VERSION
 * A bare VERSION matches that version exactly; `release:5.3.0` matches every level of release 5.3.0.
 */
export interface VersionPattern {
  readonly source: string;
  /** Set when the pattern is one exact version, so callers can index by it. */
  readonly exact?: string;
  matches(version: string): boolean;
}

type Term = (v: string) => boolean;

/** Compiles a pattern, or returns the reason it cannot be read. */
export function compilePattern(source: string, scheme: VersionScheme): VersionPattern | string {
  const alternatives: Term[][] = [];
  for (const alt of source.split('||')) {
    const terms: Term[] = [];
    for (const raw of alt.split(',')) {
      const term = compileTerm(raw.trim(), scheme);
      if (typeof term === 'string') return term;
      terms.push(term);
    }
    alternatives.push(terms);
  }
  const only = alternatives.length === 1 && alternatives[0]?.length === 1;
  const exactVersion =
    only && /^=?\s*[^<>=*,|]+$/.test(source.trim()) && !source.includes('release:');
  return {
    source,
    exact: exactVersion ? source.trim().replace(/^=\s*/, '') : undefined,
    matches: memoize((v) => alternatives.some((terms) => terms.every((t) => t(v)))),
  };
}

function compileTerm(text: string, scheme: VersionScheme): Term | string {
  if (text === '*') return () => true;
  if (text === '') return 'an empty term (two commas or a trailing "||")';
  if (text.startsWith('release:')) {
    const ref = text.slice('release:'.length).trim();
    const parsed = scheme.parse(ref);
    if (!parsed) return `"${ref}" is not a ${scheme.id} version`;
    return (v) => sameRelease(scheme, v, ref);
  }
  const m = /^(>=|<=|>|<|=)?\s*(.+)$/.exec(text);
  const op = m?.[1] ?? '=';
  const version = (m?.[2] ?? '').trim();
  if (!scheme.isValid(version)) return `"${version}" is not a ${scheme.id} version`;
  switch (op) {
    case '>=':
      return (v) => scheme.compare(v, version) >= 0;
    case '>':
      return (v) => scheme.compare(v, version) > 0;
    case '<=':
      return (v) => scheme.compare(v, version) <= 0;
    case '<':
      return (v) => scheme.compare(v, version) < 0;
    default:
      return (v) => scheme.equals(v, version);
  }
}

/**
 * The planner asks the same pattern about the same versions many times (every blocked rule about
 * every vertex it visits), so answers are remembered, within a bound.
 */
function memoize(test: (v: string) => boolean): (v: string) => boolean {
  const seen = new Map<string, boolean>();
  return (v) => {
    let answer = seen.get(v);
    if (answer === undefined) {
      if (seen.size >= 100_000) seen.clear();
      answer = test(v);
      seen.set(v, answer);
    }
    return answer;
  };
}
