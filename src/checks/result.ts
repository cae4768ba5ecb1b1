import type { CheckResult } from './types.ts';

type Details = Record<string, unknown>;

// Small constructors so every check spells its results the same way; `warn` and `fail` take a
// remediation because the contract promises one on every result that asks the operator to act.

export function pass(message: string, details?: Details): CheckResult {
  return details === undefined ? { status: 'pass', message } : { status: 'pass', message, details };
}

export function warn(message: string, remediation: string, details?: Details): CheckResult {
  return withDetails({ status: 'warn', message, remediation }, details);
}

export function fail(message: string, remediation: string, details?: Details): CheckResult {
  return withDetails({ status: 'fail', message, remediation }, details);
}

export function skip(message: string, details?: Details): CheckResult {
  return details === undefined ? { status: 'skip', message } : { status: 'skip', message, details };
}

function withDetails(r: CheckResult, details: Details | undefined): CheckResult {
  return details === undefined ? r : { ...r, details };
}

/**
 * The end of a remediation that asks for a value only the operator has (a fact, a file): the
 * prose has said which flag takes it; the command printed is one that runs as it stands.
 */
export function thenCheckAgain(what: string): string {
  return `${what} to the same check command, and check again; its options:\nuplift check --help`;
}

/** `a, b and c`. */
export function listText(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** `1 file`, `2 files`, `2 processes`. */
export function plural(n: number, word: string): string {
  const many = /(s|x|ch|sh)$/.test(word) ? `${word}es` : `${word}s`;
  return `${n.toLocaleString('en-US')} ${n === 1 ? word : many}`;
}

/** `a, b, c and 4 more`: keeps a one-line message one line however many items there are. */
export function listSome(items: readonly string[], max = 4): string {
  if (items.length <= max) return listText(items);
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
