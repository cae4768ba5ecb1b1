import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchRoot, takePrivateCli } from '../util/apply-skiff.ts';
import { repoRoot } from '../util/run-cli.ts';

/**
 * The README is executable (issue 11 part 2): every ```sh block of README.md, and every block of
 * docs/*.md marked ```sh runnable, runs in order, as written, on a fresh sample in a temporary
 * folder, through `npx uplift` resolving to this checkout's build. Each command must exit 0, or
 * the code its trailing comment gives (`# exits 3`). The Quick start block is not run: it
 * installs, builds and runs this very suite; this test makes the sample with the same command
 * `npm start` runs (`uplift sample`, then the plan). Nor is the dashboard block (`npm run
 * dashboard` serves until stopped; test/e2e/serve-sample.test.ts runs it).
 *
 * The folder looks like a checkout to the commands: profiles/ (README paths such as
 * profiles/skiff/catalog.yaml) and node_modules/.bin/uplift (what `npx uplift` finds, offline)
 * lead to a private snapshot of the build, so a rebuild by someone else mid-run changes nothing.
 */

interface Command {
  line: number;
  text: string;
  exits: number;
}

interface ShellBlock {
  file: string;
  line: number;
  heading: string;
  commands: Command[];
}

/** The shell blocks of a Markdown file: all ```sh blocks, or only those marked `runnable`. */
function shellBlocks(file: string, only: 'all' | 'runnable'): ShellBlock[] {
  const lines = readFileSync(join(repoRoot, file), 'utf8').split('\n');
  const blocks: ShellBlock[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) heading = h[2] as string;
    const fence = /^```(\S*)\s*(.*)$/.exec(line);
    if (!fence) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    const body = lines.slice(i + 1, end);
    const words = (fence[2] ?? '').split(/\s+/);
    if (fence[1] === 'sh' && (only === 'all' || words.includes('runnable')))
      blocks.push({ file, line: i + 1, heading, commands: commandsOf(body, i + 2) });
    i = end;
  }
  return blocks;
}

/** Logical commands (continuation lines joined), without blank and comment lines. */
function commandsOf(body: string[], firstLine: number): Command[] {
  const commands: Command[] = [];
  for (let i = 0; i < body.length; i++) {
    const line = firstLine + i;
    let text = body[i] as string;
    while (text.endsWith('\\') && i + 1 < body.length) text = `${text.slice(0, -1)}${body[++i]}`;
    if (text.trim() === '' || text.trim().startsWith('#')) continue;
    const exits = /#\s*exits\s+(\d+)\b/.exec(text);
    commands.push({ line, text, exits: exits ? Number(exits[1]) : 0 });
  }
  return commands;
}

/** One bash script for a block: each command's exit code checked against what it should be. */
function scriptOf(block: ShellBlock): string {
  const checked = block.commands.map(
    (c) =>
      `${c.text}\n__rc=$?; if [ "$__rc" != ${c.exits} ]; then echo ${JSON.stringify(
        `${block.file}:${c.line}: exited `,
      )}"$__rc"${JSON.stringify(`, not ${c.exits}: ${c.text}`)} >&2; exit 100; fi`,
  );
  return ['set -o pipefail', ...checked].join('\n');
}

const readme = shellBlocks('README.md', 'all');
const quickStart = readme.filter((b) => b.heading === 'Quick start');
// `npm run dashboard` serves until it is stopped: test/e2e/serve-sample.test.ts runs it and stops it.
const dashboard = readme.filter((b) => b.heading === 'The dashboard');
const docs = readdirSync(join(repoRoot, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .sort()
  .flatMap((f) => shellBlocks(`docs/${f}`, 'runnable'));
const blocks = [
  ...readme.filter((b) => b.heading !== 'Quick start' && b.heading !== 'The dashboard'),
  ...docs,
];

let work: string;
let cli: Awaited<ReturnType<typeof takePrivateCli>>;
let env: NodeJS.ProcessEnv;
let start: string;
let latest: string;
/** After the block that rolls back: the installed version and the history, as --json gives it. */
let afterRollback: { version: string; history: { runs: Run[] } } | undefined;

interface Run {
  kind: string;
  from: string;
  to: string;
  outcome: string;
}

/** Runs a script in the work folder; asynchronous, so the test worker keeps answering vitest. */
function sh(
  script: string,
  timeout = 240_000,
): Promise<{ code: number | null; stdout: string; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', script], {
      cwd: work,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      out += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, out });
    });
  });
}

const sampleDir = () => join(work, '.uplift/sample');
const installedVersion = () => readFileSync(join(sampleDir(), 'install/version'), 'utf8').trim();

beforeAll(async () => {
  cli = await takePrivateCli();
  work = await scratchRoot('uplift-readme-');
  const bin = (
    JSON.parse(readFileSync(join(cli.root, 'package.json'), 'utf8')) as {
      bin: { uplift: string };
    }
  ).bin.uplift;
  await writeFile(
    join(work, 'package.json'),
    `${JSON.stringify({ name: 'uplift-readme-run', private: true })}\n`,
  );
  await mkdir(join(work, 'node_modules/.bin'), { recursive: true });
  await symlink(join(cli.root, bin), join(work, 'node_modules/.bin/uplift'));
  await symlink(join(cli.root, 'profiles'), join(work, 'profiles'));
  const {
    UPLIFT_PROFILE_PATH: _p,
    UPLIFT_TRUST: _t,
    UPLIFT_TEST_CRASH_AT: _c,
    ...base
  } = process.env;
  env = {
    ...base,
    NO_COLOR: '1',
    UPLIFT_CACHE_DIR: join(work, '.cache'),
    // npx finds uplift in node_modules/.bin; it must never ask the registry.
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
  };

  const made = await sh(
    'npx uplift sample && npx uplift plan --install .uplift/sample/install --to latest --report .uplift/sample/plan.md --format json > .uplift/sample/plan.json',
  );
  if (made.code !== 0) throw new Error(`the sample failed (${made.code}): ${made.out}`);
  start = installedVersion();
  latest = (JSON.parse(readFileSync(join(sampleDir(), 'plan.json'), 'utf8')) as { to: string }).to;
}, 300_000);

afterAll(async () => {
  if (work) {
    // A block that failed before its `kill` leaves the README's background repository server.
    await sh('[ -f .uplift/sample/serve.pid ] && kill "$(cat .uplift/sample/serve.pid)"; true');
    await sh('npx uplift sample --stop', 120_000);
    await rm(work, { recursive: true, force: true, maxRetries: 5 });
  }
  await cli?.dispose();
});

describe('the README runs as written on a fresh sample', () => {
  it('finds the blocks: the Quick start and dashboard blocks left out, every other block run', () => {
    expect(quickStart).toHaveLength(1);
    expect(dashboard.map((b) => b.commands.map((c) => c.text))).toEqual([['npm run dashboard']]);
    expect(quickStart[0]?.commands.map((c) => c.text)).toEqual([
      'npm install && npm start',
      'npm test',
    ]);
    expect(blocks.length).toBeGreaterThan(5);
    for (const b of blocks)
      for (const c of b.commands) expect(c.text).not.toMatch(/\/srv\/|\/var\//);
  });

  it.each(blocks.map((b) => [`${b.file}:${b.line} (${b.heading})`, b] as const))(
    '%s',
    { timeout: 300_000 },
    async (_name, block) => {
      const r = await sh(scriptOf(block));

      expect(r.code, r.out).toBe(0);
      if (block.commands.some((c) => /uplift rollback/.test(c.text))) {
        const history = await sh('npx uplift history --install .uplift/sample/install --json');
        expect(history.code, history.out).toBe(0);
        afterRollback = {
          version: installedVersion(),
          history: JSON.parse(history.stdout),
        };
      }
    },
  );

  it('upgraded the sample to the latest version and took it back to where it began', () => {
    expect(latest).not.toBe(start);
    expect(afterRollback?.version).toBe(start);
    expect(afterRollback?.history.runs).toContainEqual(
      expect.objectContaining({ kind: 'apply', from: start, to: latest, outcome: 'committed' }),
    );
    // One rollback took the whole run back (rollback --run), not a hop and a restore.
    expect(afterRollback?.history.runs).toContainEqual(
      expect.objectContaining({ kind: 'rollback', from: latest, to: start }),
    );
    expect(installedVersion()).toBe(start);
  });
});
