import { spawnSync } from 'node:child_process';
import { chown, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanUp,
  makeSecureTransportInstall,
  makeSkiffInstall,
  put,
} from '../util/install-tree.ts';
import { repoRoot } from '../util/run-cli.ts';

/**
 * Every hint is a command that works as printed (issue 11 part 4): real error cases run through
 * the bundled CLI at --width 40, as `npx uplift` runs it. Each command a hint prints stands at the
 * start of its line (after `hint:`, `next:` or an indentation), is never broken inside a word
 * (continuation lines end in ` \`), pastes into bash as one command, names a command and flags the
 * CLI has (its --help lists them), and has no placeholder (DIR, URL, FILE, <…>, /opt/product).
 */

const bundle = join(repoRoot, 'dist/bundle/uplift.cjs');
const width = 40;
let work: string;
let install: string;
/** An installation whose journal is damaged before its last record. */
let damaged: string;
/** A securetransport installation: it keeps no vendor manifest, and its database is unknown. */
let st: string;
/** Owned by nobody, with one file of root's (only root can make it). */
let foreign: string;
const isRoot = process.getuid?.() === 0;

function cli(args: string[]): { code: number; out: string } {
  const r = spawnSync(process.execPath, [bundle, ...args, '--width', String(width)], {
    cwd: work,
    encoding: 'utf8',
    env: {
      ...process.env,
      NO_COLOR: '1',
      npm_command: 'exec',
      UPLIFT_STATE_DIR: join(work, 'state'),
      UPLIFT_CACHE_DIR: join(work, 'cache'),
    },
  });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** The commands printed: each from `npx uplift` to the end of its line and its ` \` continuations. */
function commandsIn(out: string): { text: string; atLineStart: boolean }[] {
  const lines = out.split('\n');
  const found: { text: string; atLineStart: boolean }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    let from = line.indexOf('npx uplift');
    while (from >= 0) {
      const before = line.slice(0, from);
      const atLineStart = /^\s*(?:[a-z][a-z ]{0,10}:\s+)?(?:[•*-]\s+|\d+[.)]\s+)?$/.test(before);
      let text = line.slice(from);
      let j = i;
      while (atLineStart && text.endsWith(' \\') && j + 1 < lines.length)
        text += `\n${lines[++j] as string}`;
      found.push({ text, atLineStart });
      from = line.indexOf('npx uplift', from + 1);
    }
  }
  return found;
}

/** The words bash reads from the command as pasted (no expansion of globs). */
function wordsOf(command: string): string[] {
  const r = spawnSync('bash', ['-c', `set -f; printf '%s\\0' ${command}`], { encoding: 'utf8' });
  expect(r.status, `${command}\n${r.stderr}`).toBe(0);
  return r.stdout.split('\0').slice(0, -1);
}

const helpCache = new Map<string, string>();
function helpOf(path: string[]): string {
  const key = path.join(' ');
  let help = helpCache.get(key);
  if (help === undefined) {
    const r = spawnSync(process.execPath, [bundle, ...path, '--help'], { encoding: 'utf8' });
    help = r.stdout;
    helpCache.set(key, help);
  }
  return help;
}

const placeholder = /^(?:[A-Z][A-Z_.|]*[A-Z]|[A-Z])(?:\.json)?$|[<>…]|\/opt\/product|example\.com/;

/** What is wrong with one printed command, or nothing. */
function problemsOf(command: string): string[] {
  const words = wordsOf(command);
  expect(words.slice(0, 2)).toEqual(['npx', 'uplift']);
  const rest = words.slice(2);
  const problems: string[] = [];
  const name = rest[0] as string;
  const top = helpOf([]);
  if (!new RegExp(`^\\s+${name}\\b`, 'm').test(top)) problems.push(`no command ${name}`);
  const path = [name];
  const sub = rest[1];
  if (sub !== undefined && !sub.startsWith('-') && /^Commands:/m.test(helpOf([name]))) {
    if (!new RegExp(`^\\s+${sub}\\b`, 'm').test(helpOf([name]))) problems.push(`no ${name} ${sub}`);
    path.push(sub);
  }
  const help = helpOf(path);
  for (const w of rest) {
    const flag = /^(--[a-z][a-z-]*)/.exec(w)?.[1];
    if (flag !== undefined && !help.includes(flag))
      problems.push(`${path.join(' ')} has no ${flag}`);
    for (const part of w.split('=')) if (placeholder.test(part)) problems.push(`placeholder ${w}`);
    // A sentence wrapped so that its command starts a line ("must run\n  uplift repo publish.").
    if (/^[a-z-]+[.,;:)]$/.test(w)) problems.push(`prose around ${w}`);
  }
  return problems;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'uplift-hints-'));
  ({ install } = await makeSkiffInstall({ version: '5.4 Patch 2' }));
  await mkdir(join(work, 'keys'));
  await mkdir(join(work, 'not-a-repo'));
  await writeFile(join(work, 'empty.json'), '');
  await cp(join(repoRoot, 'profiles/skiff'), join(work, 'my profiles/skiff'), { recursive: true });
  // Installations whose recorded profile (<parent>/.<name>.uplift/profile.json) is gone or unreadable.
  const record = { name: 'gone', dir: join(work, 'nowhere'), digest: 'x' };
  for (const [name, text] of [
    ['gone-app', JSON.stringify(record)],
    ['bad-app', '{}'],
  ] as const) {
    await mkdir(join(work, name));
    await mkdir(join(work, `.${name}.uplift`));
    await writeFile(join(work, `.${name}.uplift/profile.json`), text);
  }
  await mkdir(join(work, 'no-packs'));
  for (const key of ['root', 'index', 'packs'])
    expect(cli(['keys', 'generate', '--out', join(work, 'repo-keys', key)]).code).toBe(0);
  // A repository whose owner never published an index (repo init with only the index's .pub).
  const init = cli([
    'repo',
    'init',
    join(work, 'unpublished'),
    ...['--root-key', join(work, 'repo-keys/root.key')],
    ...['--index-key', join(work, 'repo-keys/index.pub')],
    ...['--pack-key', join(work, 'repo-keys/packs.pub')],
  ]);
  expect(init.code, init.out).toBe(0);
  ({ install: damaged } = await makeSkiffInstall({ version: '5.4 Patch 2' }));
  await put(dirname(damaged), '.skiff.uplift/journal', 'not a record\n{"seq":1}\n');
  ({ install: st } = await makeSecureTransportInstall());
  if (isRoot) {
    const made = await makeSkiffInstall({ version: '5.4 Patch 2' });
    foreign = made.install;
    const nobody = 65534;
    await chownTree(made.root, nobody);
    await chown(join(foreign, 'conf/crontab'), 0, 0);
  }
});

async function chownTree(dir: string, uid: number): Promise<void> {
  const r = spawnSync('chown', ['-R', `${uid}:${uid}`, dir]);
  expect(r.status).toBe(0);
}

afterAll(async () => {
  await cleanUp();
  await rm(work, { recursive: true, force: true });
});

const cases: [string, () => string[]][] = [
  [
    'a missing pack',
    () => ['pack', 'verify', join(work, 'skiff-5.5-GA-from-5.4_linux-x86-64.upk')],
  ],
  [
    'a missing pack, with the installation',
    () => ['pack', 'verify', join(work, 'skiff-5.5-GA-from-5.4_x.upk'), '--install', install],
  ],
  ['a missing vendor zip', () => ['pack', 'verify', join(work, 'SecureTransport_5.5.zip')]],
  ['fetch with no plan file', () => ['fetch', '--plan', join(work, 'plan.json'), '--repo', work]],
  ['fetch with neither --install nor --plan', () => ['fetch', '--repo', work]],
  [
    'fetch from a folder that is not a repository',
    () => ['fetch', '--install', install, '--repo', join(work, 'not-a-repo')],
  ],
  ['keys generate into a folder', () => ['keys', 'generate', '--out', join(work, 'keys')]],
  ['repo init without keys', () => ['repo', 'init', join(work, 'new-repo')]],
  ['repo publish of a folder that is not one', () => ['repo', 'publish', join(work, 'not-a-repo')]],
  ['repo serve of a folder that is not one', () => ['repo', 'serve', join(work, 'not-a-repo')]],
  ['apply with neither --to nor --plan', () => ['apply', '--install', install]],
  ['apply without --yes', () => ['apply', '--install', install, '--to', 'latest', '--packs', work]],
  ['backup with neither --install nor --verify', () => ['backup']],
  ['backup --verify of an empty file', () => ['backup', '--verify', join(work, 'empty.json')]],
  [
    'plan with an empty facts file',
    () => ['plan', '--profile', 'skiff', '--facts', join(work, 'empty.json')],
  ],
  ['plan with a misspelt fact', () => ['plan', '--profile', 'skiff', '--fact', 'setings.x=1']],
  [
    'plan with a misspelt fact, the profile a folder whose path has a space',
    () => ['plan', '--profile', join(work, 'my profiles/skiff'), '--fact', 'setings.x=1'],
  ],
  ['facts, the recorded profile gone', () => ['facts', '--install', join(work, 'gone-app')]],
  ['facts, the profile record unreadable', () => ['facts', '--install', join(work, 'bad-app')]],
];

/**
 * Cases that reach one hint each: the error's code says the hint under test was printed, and
 * whether it gives a command (an owner's refusal says to run the same command again, as its owner).
 */
type Reaching = [name: string, code: string, givesCommand: boolean, args: () => string[]];
const reaching: Reaching[] = [
  [
    'apply with a pack missing from --packs',
    'UPLIFT_APPLY_PACK_NOT_FOUND',
    true,
    () => [
      ...['apply', '--install', install, '--to', 'latest', '--packs', join(work, 'no-packs')],
      ...['--yes', '--accept-risk', 'the test needs the pack refusal'],
      ...['--trust', join(work, 'repo-keys/packs.pub')],
    ],
  ],
  [
    'resume with a damaged journal',
    'UPLIFT_APPLY_JOURNAL_CORRUPT',
    true,
    () => ['resume', '--install', damaged],
  ],
  [
    'apply with no keys to trust',
    'UPLIFT_PACK_NO_TRUST',
    false,
    () => [
      ...['apply', '--install', install, '--to', 'latest', '--packs', join(work, 'no-packs')],
      ...['--yes', '--accept-risk', 'the test needs the trust refusal'],
    ],
  ],
  [
    'fetch --reset-trust without --root',
    'UPLIFT_USAGE',
    true,
    () => ['fetch', '--install', install, '--repo', join(work, 'unpublished'), '--reset-trust'],
  ],
  [
    'fetch from a repository never published',
    'UPLIFT_REPO_INVALID',
    true,
    () => [
      ...['fetch', '--install', install, '--repo', join(work, 'unpublished')],
      ...['--root', join(work, 'unpublished/root.json')],
    ],
  ],
  ...(isRoot
    ? ([
        [
          "apply on an installation with a file of another user's",
          'UPLIFT_APPLY_WRONG_USER',
          false,
          () => [
            ...['apply', '--install', foreign, '--to', 'latest', '--packs', join(work, 'no-packs')],
            ...['--yes', '--accept-risk', 'the test needs the owner refusal'],
            ...['--trust', join(work, 'repo-keys/packs.pub')],
          ],
        ],
      ] as Reaching[])
    : []),
];

/** The remediations of `uplift check`: warnings, not errors, so exit 0 or 3 with `to do:`. */
const checks: [string, () => string[]][] = [
  ['check of an installation with no backup', () => ['check', '--install', install]],
  [
    'check of an installation with no vendor manifest and an unknown database',
    () => ['check', '--install', st, '--to', '5.5'],
  ],
];

function expectRunnable(out: string): void {
  for (const c of commandsIn(out)) {
    expect(c.atLineStart, `a command inside a sentence:\n${out}`).toBe(true);
    expect(problemsOf(c.text), `${c.text}\n--- in ---\n${out}`).toEqual([]);
  }
}

describe('hints at --width 40', () => {
  it.each(cases)('%s: every command in the hint is whole, real and runnable', (_name, args) => {
    const r = cli(args());

    expect(r.code, r.out).not.toBe(0);
    expect(r.out).toMatch(/^error UPLIFT_[A-Z_]+/m);
    const commands = commandsIn(r.out);
    for (const c of commands) {
      expect(c.atLineStart, `a command inside a sentence:\n${r.out}`).toBe(true);
      expect(problemsOf(c.text), `${c.text}\n--- in ---\n${r.out}`).toEqual([]);
    }
  });

  it.each(reaching)('%s: the hint of %s names whole, real commands', (_n, code, gives, args) => {
    const r = cli(args());

    expect(r.out).toMatch(new RegExp(`^error ${code}\\b`, 'm'));
    expect(commandsIn(r.out).length > 0, r.out).toBe(gives);
    expectRunnable(r.out);
  });

  it.each(checks)('%s: each to do that gives a command gives it whole and real', (_name, args) => {
    const r = cli(args());

    expect([0, 3], r.out).toContain(r.code);
    expect(r.out).toMatch(/^ {4}to do: /m);
    expect(commandsIn(r.out).length, r.out).toBeGreaterThan(0);
    expectRunnable(r.out);
  });

  it('finds commands in the hints at all (the check is not vacuous)', () => {
    const all = cases.flatMap(([, args]) => commandsIn(cli(args()).out));

    expect(all.length).toBeGreaterThan(8);
    expect(all.some((c) => c.text.includes(' \\\n'))).toBe(true);
  });
});
