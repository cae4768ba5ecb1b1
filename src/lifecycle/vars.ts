import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { UpliftError } from '../errors/index.ts';
import type { LifecycleTarget } from './types.ts';

const VAR = /\$\{([^}]*)\}/g;
/** The variables a lifecycle string may use, for hints. */
export const KNOWN_VARS = `\${install}, \${profile}, \${node}, \${version}, \${file:REL} or \${fact:PATH}`;

/**
 * A variable's value is needed at any step, after the switch too: this error cannot promise that
 * nothing changed, although its exit code (2, bad input) would by default.
 */
function varError(message: string, hint: string): UpliftError {
  return new UpliftError('UPLIFT_LIFECYCLE_VAR', message, { hint, unchanged: false });
}

/** The variables of `s` that are not one of the known forms (a typo in the profile). */
export function findUnknownVars(s: string): string[] {
  return [...s.matchAll(VAR)]
    .map((m) => m[1] as string)
    .filter(
      (name) =>
        !['install', 'profile', 'node', 'version'].includes(name) && !/^(file|fact):./.test(name),
    );
}

/**
 * The same target, with its facts detected at most once: facts do not change while one lifecycle
 * step runs, and a readiness wait expands its probes every round.
 */
export function withCachedFacts(t: LifecycleTarget): LifecycleTarget {
  const facts = t.facts;
  if (!facts) return t;
  let cached: Promise<Record<string, unknown>> | undefined;
  return {
    ...t,
    facts: () => {
      cached ??= facts();
      return cached;
    },
  };
}

/**
 * Replaces the variables of a lifecycle string (schema.ts lists them). A string without `${` is
 * returned as is; facts are detected only when a string uses one. `quote` is applied to each
 * value put in (a regex escape for `bodyMatch`).
 */
export async function expandVars(
  s: string,
  t: LifecycleTarget,
  quote: (value: string) => string = (v) => v,
): Promise<string> {
  if (!s.includes('${')) return s;
  let facts: Record<string, unknown> | undefined;
  let out = '';
  let last = 0;
  for (const m of s.matchAll(VAR)) {
    out += s.slice(last, m.index);
    last = m.index + m[0].length;
    const name = m[1] as string;
    if (name === 'install') out += quote(t.install);
    else if (name === 'profile') out += quote(t.profileDir);
    else if (name === 'node') out += quote(process.execPath);
    else if (name === 'version') {
      if (t.version === undefined)
        throw varError(
          `"${s}" uses \${version}, but no version is known at this point`,
          `Use \${version} only in readiness probes and smoke tests: they run with a known version.`,
        );
      out += quote(t.version);
    } else if (name.startsWith('file:')) out += quote(await readFirstLine(name.slice(5), s, t));
    else if (name.startsWith('fact:')) {
      facts ??= t.facts ? await t.facts() : {};
      out += quote(lookUpFact(facts, name.slice(5), s));
    } else
      throw varError(
        `"${s}" uses the unknown variable \${${name}}`,
        `Write one of ${KNOWN_VARS} in the profile's lifecycle section.`,
      );
  }
  return out + s.slice(last);
}

async function readFirstLine(rel: string, s: string, t: LifecycleTarget): Promise<string> {
  if (isAbsolute(rel) || rel.split('/').includes('..'))
    throw varError(
      `"${s}": \${file:${rel}} must name a file inside the installation`,
      'Write a path relative to the installation, without ..',
    );
  let text: string;
  try {
    text = await readFile(join(t.install, rel), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw varError(
      `"${s}": ${join(t.install, rel)} cannot be read (${code ?? (err as Error).message})`,
      code === 'ENOENT'
        ? 'Check that the service writes this file once it runs, and that the path is right.'
        : 'Make the file readable by the user uplift runs as.',
    );
  }
  const line = (text.split(/\r?\n/, 1)[0] ?? '').trim();
  if (line === '')
    throw varError(
      `"${s}": the first line of ${join(t.install, rel)} is empty`,
      'Check that the service writes this file once it runs.',
    );
  return line;
}

function lookUpFact(facts: Record<string, unknown>, path: string, s: string): string {
  let v: unknown = facts;
  for (const key of path.split('.')) {
    v =
      v !== null && typeof v === 'object' && Object.hasOwn(v, key)
        ? (v as Record<string, unknown>)[key]
        : undefined;
  }
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw varError(
    v === undefined
      ? `"${s}" uses \${fact:${path}}, but the installation has no fact ${path}`
      : `"${s}" uses \${fact:${path}}, which is not a single value`,
    'Run `uplift facts --install DIR` to see the facts, and name one that holds a string or a number.',
  );
}
