import { lookupFact } from './facts.ts';
import type { Rule } from './schema.ts';

/** Kleene three-valued truth: a rule over a missing fact is neither true nor false. */
export type Truth = true | false | 'unknown';

export interface RuleOutcome {
  value: Truth;
  /** The facts whose absence made the outcome unknown (empty when the value is known). */
  missing: string[];
  /** The facts the rule read, with their values: the evidence for the outcome. */
  used: Record<string, unknown>;
}

/** Evaluates a catalog rule against an installation's facts. Pure. */
export function evaluateRule(rule: Rule, facts: unknown): RuleOutcome {
  const seen: Seen = { missing: new Set(), used: {} };
  const value = evaluate(rule, facts, seen);
  return { value, missing: value === 'unknown' ? [...seen.missing].sort() : [], used: seen.used };
}

interface Seen {
  missing: Set<string>;
  used: Record<string, unknown>;
}

function evaluate(rule: Rule, facts: unknown, seen: Seen): Truth {
  if ('all' in rule) {
    let sawUnknown = false;
    for (const r of rule.all) {
      const v = evaluate(r, facts, seen);
      if (v === false) return false;
      if (v === 'unknown') sawUnknown = true;
    }
    return sawUnknown ? 'unknown' : true;
  }
  if ('any' in rule) {
    let sawUnknown = false;
    for (const r of rule.any) {
      const v = evaluate(r, facts, seen);
      if (v === true) return true;
      if (v === 'unknown') sawUnknown = true;
    }
    return sawUnknown ? 'unknown' : false;
  }
  if ('not' in rule) {
    const v = evaluate(rule.not, facts, seen);
    return v === 'unknown' ? 'unknown' : !v;
  }
  const fact = lookupFact(facts, rule.fact);
  if (rule.exists !== undefined) return fact.found === rule.exists;
  if (!fact.found) {
    seen.missing.add(rule.fact);
    return 'unknown';
  }
  seen.used[rule.fact] = fact.value;
  return testValue(rule, fact.value);
}

type FactRule = Extract<Rule, { fact: string }>;

function testValue(rule: FactRule, value: unknown): Truth {
  if (rule.equals !== undefined) return looselyEqual(value, rule.equals);
  if (rule.notEquals !== undefined) return !looselyEqual(value, rule.notEquals);
  if (rule.in !== undefined) return rule.in.some((x) => looselyEqual(value, x));
  if (rule.contains !== undefined) {
    const needle = rule.contains;
    if (Array.isArray(value)) return value.some((x) => looselyEqual(x, needle));
    return typeof value === 'string' && value.includes(String(needle));
  }
  if (rule.matches !== undefined) return new RegExp(rule.matches).test(String(value));
  if (rule.versionAtLeast !== undefined)
    return compareDotted(String(value), rule.versionAtLeast) >= 0;
  if (rule.versionBelow !== undefined) return compareDotted(String(value), rule.versionBelow) < 0;
  const n = typeof value === 'number' ? value : Number(value);
  if (Number.isNaN(n)) return false;
  if (rule.gt !== undefined) return n > rule.gt;
  if (rule.gte !== undefined) return n >= rule.gte;
  if (rule.lt !== undefined) return n < rule.lt;
  if (rule.lte !== undefined) return n <= rule.lte;
  /* v8 ignore next -- unreachable: the schema requires exactly one operator */
  throw new Error(`rule on ${rule.fact} has no operator`);
}

/** Facts come from YAML, files and flags, so `true`, `"true"` and `1` vs `"1"` must compare equal. */
function looselyEqual(a: unknown, b: string | number | boolean): boolean {
  if (a === b) return true;
  if (typeof a === 'string' || typeof a === 'number' || typeof a === 'boolean') {
    return String(a).toLowerCase() === String(b).toLowerCase();
  }
  return false;
}

/**
 * Compares outside systems' versions (`12.1.0.2`, `19c`, `15.4`) by their leading dotted numbers,
 * zero-padded. Those systems are not the product, so the catalog's version scheme does not apply.
 */
export function compareDotted(a: string, b: string): number {
  const pa = leadingNumbers(a);
  const pb = leadingNumbers(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function leadingNumbers(v: string): number[] {
  const m = /^\s*v?(\d+(?:\.\d+)*)/.exec(v);
  return m?.[1] ? m[1].split('.').map(Number) : [];
}
