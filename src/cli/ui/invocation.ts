import { basename, delimiter, dirname, isAbsolute, relative, resolve, sep } from 'node:path';

/** What tells how this process was started; `main.ts` passes the real ones, tests their own. */
export interface InvocationInput {
  /** The environment: npm's `npm_command` says `exec` under `npx` and `npm exec`. */
  env: Record<string, string | undefined>;
  /** The script node runs (`process.argv[1]`): a bin link keeps its own path, not its target's. */
  script: string | undefined;
  cwd: string;
}

/**
 * The words to type to run uplift again the way it was run this time, for hints that name a
 * command: `npx uplift` under npx or `npm exec` (and from a project's `node_modules/.bin`, which
 * is on the PATH only inside npm scripts), `uplift` for a bin link on the PATH (a global
 * install), and `node <script>` for a script run by path (`node dist/cli/main.js` in a checkout;
 * relative when it is under the current folder).
 */
export function invocationPrefix({ env, script, cwd }: InvocationInput): string {
  if (env.npm_command === 'exec') return 'npx uplift';
  if (script === undefined || script === '') return 'uplift';
  const path = resolve(cwd, script);
  const dir = dirname(path);
  if (/^uplift(\.cmd|\.exe)?$/i.test(basename(path))) {
    if (dir.endsWith(`${sep}node_modules${sep}.bin`)) return 'npx uplift';
    const onPath = (env.PATH ?? '')
      .split(delimiter)
      .some((d) => d !== '' && resolve(cwd, d) === dir);
    return onPath ? 'uplift' : quote(path);
  }
  const rel = relative(cwd, path);
  const shown = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
  return `node ${quote(shown)}`;
}

function quote(s: string): string {
  return /^[\w./@:+=-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * Every uplift command named in text meant for people (hints, next steps, "… more: uplift notes
 * …"), written with `prefix` so it runs as printed. Handlers and errors write `uplift <command>`;
 * this is the one place that turns it into what this invocation needs. A word `uplift` that is
 * not followed by one of `commands` (a folder `.uplift/`, the product's name in a sentence) is
 * left alone, and so is one already written `npx uplift`. JSON output is not passed through here:
 * its hints keep `uplift …`.
 */
export function withInvocation(text: string, prefix: string, commands: readonly string[]): string {
  if (prefix === 'uplift' || text === '' || commands.length === 0) return text;
  const names = commands.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const pattern = new RegExp(`(?<![\\w./-])(?<!npx )uplift(?= (?:${names})(?![\\w-]))`, 'g');
  return text.replace(pattern, prefix);
}
