import type { UpliftCode } from '../errors/index.ts';
import {
  type SourceLocation,
  shellWord,
  UpliftError,
  type UpliftErrorDetail,
} from '../errors/index.ts';
import { formatPath, locate, locateKey, type PositionedYaml } from '../yaml/index.ts';
import { coverageOf, type DeclaredFact, type DeclaredFacts, factNames } from './declared.ts';
import { closest } from './suggest.ts';

/** How facts are checked against a profile's declarations. */
export interface FactCheck {
  declared: DeclaredFacts;
  /** `--allow-undeclared`: unknown facts and undeclared values are warnings, not errors. */
  allowUndeclared: boolean;
  /** Receives the warnings of what `allowUndeclared` let through. */
  warnings: string[];
}

/** Where facts came from, so that a problem names the place to correct it. */
export type FactOrigin =
  | { kind: 'file'; yaml: PositionedYaml }
  | { kind: 'flag'; flag: string }
  | { kind: 'detected'; install: string };

/** One problem with one fact. */
interface FactIssue {
  code: UpliftCode;
  /** Unknown facts and values outside the declared ones; `--allow-undeclared` lets them through. */
  undeclared: boolean;
  /** The YAML keys of the fact (dotted keys kept whole), for positions. */
  keys: string[];
  /** Point at the key (unknown fact) rather than the value. */
  atKey: boolean;
  message: string;
  hint: string;
}

const allowHint = 'or pass --allow-undeclared to try it anyway';

/**
 * Checks facts against the declarations: every fact declared (or inside a declared open group),
 * every value of its declared type and among its declared values. Throws the first problem, with
 * every other one in `details`; what `allowUndeclared` lets through goes to `warnings`.
 */
export function checkFacts(facts: unknown, origin: FactOrigin, check: FactCheck): void {
  const issues: FactIssue[] = [];
  walk(facts, [], check.declared, issues, false);
  report(issues, origin, check);
}

/**
 * Every problem `checkFacts` would raise, as messages (`file:line:col: message`), none thrown: for
 * showing what detection read, where a fact outside the declarations must be seen without
 * stopping the showing. The caller says what to do: the hints of `checkFacts` name plan flags.
 */
export function factWarnings(
  facts: unknown,
  origin: FactOrigin,
  declared: DeclaredFacts,
): string[] {
  const issues: FactIssue[] = [];
  walk(facts, [], declared, issues, false);
  return issues.map((issue) => `${where(origin, issue)}${issue.message}`);
}

/** Checks `--fact path=value` flags one by one, before they are laid over the other facts. */
export function checkFactFlags(
  flags: readonly { flag: string; path: string; value: unknown }[],
  check: FactCheck,
): void {
  for (const f of flags) {
    const issues: FactIssue[] = [];
    const c = coverageOf(check.declared, f.path);
    const keys = f.path.split('.');
    if (c.kind === 'declared') issues.push(...valueIssues(c.fact, f.value, keys));
    else if (c.kind === 'group') issues.push(groupIssue(check.declared, f.path, keys, f.value));
    else if (c.kind === 'unknown') issues.push(unknownIssue(check.declared, f.path, keys));
    report(issues, { kind: 'flag', flag: f.flag }, check);
  }
}

function walk(
  node: unknown,
  keys: string[],
  declared: DeclaredFacts,
  issues: FactIssue[],
  open: boolean,
): void {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
  for (const [key, value] of Object.entries(node)) {
    const path = [...keys, key];
    const name = path.join('.');
    const c = coverageOf(declared, name);
    if (c.kind === 'declared') {
      issues.push(...valueIssues(c.fact, value, path));
      if (c.fact.type === 'map') walk(value, path, declared, issues, true);
    } else if (c.kind === 'group') {
      if (isRecord(value)) walk(value, path, declared, issues, open);
      else if (value !== null && !open) issues.push(groupIssue(declared, name, path, value));
    } else if (c.kind === 'unknown' && !open) {
      issues.push(unknownIssue(declared, name, path));
    }
  }
}

function unknownIssue(declared: DeclaredFacts, name: string, keys: string[]): FactIssue {
  const guess = closest(name, factNames(declared));
  return {
    code: 'UPLIFT_FACTS_UNDECLARED',
    undeclared: true,
    keys,
    atKey: true,
    message: `the profile ${declared.profile} declares no fact "${name}"${guess ? `; did you mean ${guess}?` : ''}`,
    hint: `${guess ? `write ${guess}` : 'correct the name'}, ${allowHint}. The facts the profile declares:\nuplift profile schema ${shellWord(declared.ref)} --facts`,
  };
}

function groupIssue(
  declared: DeclaredFacts,
  name: string,
  keys: string[],
  value: unknown,
): FactIssue {
  const inside = [...declared.facts.keys()].filter((n) => n.startsWith(`${name}.`)).slice(0, 4);
  return {
    code: 'UPLIFT_FACTS_INVALID',
    undeclared: false,
    keys,
    atKey: false,
    message: `${name} is a group of facts (${inside.join(', ')}), not a value: got ${show(value)}`,
    hint: `give the facts inside it, e.g. ${inside[0] ?? name}`,
  };
}

/** The problems of one declared fact's value; null is "not known", which is always allowed. */
function valueIssues(fact: DeclaredFact, value: unknown, keys: string[]): FactIssue[] {
  if (value === null || value === undefined) return [];
  const wrongType = (expected: string, hint: string): FactIssue[] => [
    {
      code: 'UPLIFT_FACTS_INVALID',
      undeclared: false,
      keys,
      atKey: false,
      message: `${fact.name}: expected ${expected}, got ${show(value)}`,
      hint,
    },
  ];
  const unit = fact.unit ? ` (${fact.unit})` : '';
  switch (fact.type) {
    case 'string':
      return typeof value === 'string' ? [] : wrongType('a string', `write ${fact.name} as text`);
    case 'boolean':
      return typeof value === 'boolean'
        ? []
        : wrongType('true or false', `write ${fact.name} as true or false`);
    case 'number':
    case 'integer': {
      const ok =
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (fact.type === 'number' || Number.isInteger(value));
      if (!ok)
        return wrongType(
          `${fact.type === 'integer' ? 'a whole number' : 'a number'}${unit}`,
          `write ${fact.name} as a plain number${unit}, without units or quotes`,
        );
      // Beyond 2^53 a number is rounded as it is read: 99999999999999999999999 becomes 1e23,
      // and the rules would compare a value the operator never wrote.
      if (Math.abs(value) > Number.MAX_SAFE_INTEGER)
        return wrongType(
          `a number${unit} between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER} (larger ones cannot be held exactly)`,
          `give ${fact.name} a value within ±${Number.MAX_SAFE_INTEGER}`,
        );
      if (
        (fact.min !== undefined && value < fact.min) ||
        (fact.max !== undefined && value > fact.max)
      )
        return wrongType(
          `a number${unit} ${rangeText(fact)}`,
          `give ${fact.name} a value ${rangeText(fact)}`,
        );
      return [];
    }
    case 'version':
      return (typeof value === 'string' || typeof value === 'number') && /\d/.test(String(value))
        ? []
        : wrongType('a version such as 12.2', `write ${fact.name} as a version, e.g. "19.3"`);
    case 'enum':
      if (typeof value === 'object')
        return wrongType(`one of ${listValues(fact)}`, `write one of ${listValues(fact)}`);
      return outsideValues(fact, value, keys);
    case 'list': {
      if (!Array.isArray(value))
        return wrongType(
          'a list',
          `write ${fact.name} as a list, e.g. [${fact.values?.[0] ?? 'a'}]`,
        );
      const issues: FactIssue[] = [];
      value.forEach((item, i) => {
        if (typeof item === 'object' && item !== null)
          issues.push(
            ...wrongType('a list of values', `write each item of ${fact.name} as a value`),
          );
        else issues.push(...outsideValues(fact, item, [...keys, String(i)]));
      });
      return issues;
    }
    case 'map':
      return isRecord(value)
        ? []
        : wrongType('a mapping', `write ${fact.name} as a mapping of keys to values`);
    case 'any':
      return [];
  }
}

function outsideValues(fact: DeclaredFact, value: unknown, keys: string[]): FactIssue[] {
  if (fact.values === undefined || fact.values.some((v) => v === value)) return [];
  const guess = closest(
    String(value),
    fact.values.map((v) => String(v)),
  );
  return [
    {
      code: 'UPLIFT_FACTS_INVALID',
      undeclared: true,
      keys,
      atKey: false,
      message: `${fact.name}: ${show(value)} is not one of ${listValues(fact)}${guess ? `; did you mean ${guess}?` : ''}`,
      hint: `${guess ? `write ${guess}` : `write one of ${listValues(fact)}`}, ${allowHint}`,
    },
  ];
}

function report(issues: FactIssue[], origin: FactOrigin, check: FactCheck): void {
  const errors: FactIssue[] = [];
  for (const issue of issues) {
    if (issue.undeclared && check.allowUndeclared)
      check.warnings.push(
        `${where(origin, issue)}${issue.message} (allowed by --allow-undeclared)`,
      );
    else errors.push(issue);
  }
  const first = errors[0];
  if (first === undefined) return;
  const details: UpliftErrorDetail[] = errors.map((e) => ({
    message: e.message,
    location: locationOf(origin, e),
    hint: e.hint,
  }));
  throw new UpliftError(first.code, `${source(origin)}: ${first.message}`, {
    location: locationOf(origin, first),
    details: details.length > 1 ? details : undefined,
    hint: first.hint,
  });
}

function source(origin: FactOrigin): string {
  if (origin.kind === 'flag') return `--fact ${origin.flag}`;
  if (origin.kind === 'file') return origin.yaml.file;
  return `detected in ${origin.install}`;
}

function where(origin: FactOrigin, issue: FactIssue): string {
  const l = locationOf(origin, issue);
  if (origin.kind === 'flag') return `--fact ${origin.flag}: `;
  return `${l?.file ?? ''}${l?.line ? `:${l.line}:${l.col}` : ''}: `;
}

function locationOf(origin: FactOrigin, issue: FactIssue): SourceLocation | undefined {
  if (origin.kind === 'flag') return undefined;
  if (origin.kind === 'detected') return { file: origin.install, path: issue.keys.join('.') };
  const y = origin.yaml;
  const path = issue.keys.map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  const at = issue.atKey ? locateKey(y, path.slice(0, -1), String(path.at(-1))) : locate(y, path);
  return { ...at, path: formatPath(path) };
}

function rangeText(fact: DeclaredFact): string {
  if (fact.min !== undefined && fact.max !== undefined) return `from ${fact.min} to ${fact.max}`;
  return fact.min !== undefined ? `of at least ${fact.min}` : `of at most ${fact.max}`;
}

function listValues(fact: DeclaredFact): string {
  return (fact.values ?? []).map((v) => String(v)).join(', ');
}

function show(value: unknown): string {
  if (isRecord(value)) return 'a mapping';
  if (Array.isArray(value)) return 'a list';
  return JSON.stringify(value);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
