import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, repoRoot } from '../util/run-cli.ts';

/**
 * Output a person reads (issue 11 part 4): text wraps to the width, the plan says what to do
 * first and each missing thing once, paths are grouped by release with the reason, an empty list
 * names the filter that emptied it, and hints name uplift the way it was run.
 */
const plainEnv = () => {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('npm_')) delete env[k];
  return env;
};

function cli(
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; bin?: string } = {},
) {
  const r = spawnSync(opts.bin ?? process.execPath, opts.bin ? args : [cliPath, ...args], {
    cwd: opts.cwd ?? repoRoot,
    encoding: 'utf8',
    env: opts.env ?? plainEnv(),
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const widest = (s: string) => Math.max(...s.split('\n').map((l) => [...l].length));
const stPlan = ['plan', '--profile', 'securetransport', '--from', '5.3.0 Patch 3', '--to', '5.5'];

describe('plan text', () => {
  it('wraps to 80 columns when not a terminal, and to --width anywhere on the line', () => {
    const plain = cli(stPlan);
    const wide = cli([...stPlan, '--width', '100']);

    expect(plain.code, plain.stderr).toBe(0);
    expect(widest(plain.stdout)).toBeLessThanOrEqual(80);
    expect(widest(wide.stdout)).toBeLessThanOrEqual(100);
    expect(widest(wide.stdout)).toBeGreaterThan(80);
  });

  it('puts the verdict and what to do next first, and says each missing thing once', () => {
    const { stdout } = cli(stPlan);

    const lines = stdout.split('\n');
    expect(lines[0]).toContain('NOT RECOMMENDED');
    expect(stdout.indexOf('Next\n  1. ')).toBeLessThan(stdout.indexOf('Path: 7 hops'));
    expect(stdout).toMatch(/\n {2}3\. /);
    expect(stdout).not.toMatch(/\n {2}4\. /);
    expect(stdout.match(/the platform is unknown/g)).toHaveLength(1);
    expect(stdout.replace(/\s+/g, ' ')).toContain(
      'the platform is unknown, so no pack is picked for steps 1–7; give it with --fact platform.id=<id> (--ask lists them)',
    );
    expect(stdout).not.toMatch(/step \d: the platform/);
    expect(stdout).not.toContain('unknown: unknown:');
    expect(stdout.match(/^ {2}• missing facts \(17\)/gm)).toHaveLength(1);
  });

  it('rejects a --width that is not a number of columns, changing nothing', () => {
    const r = cli([...stPlan, '--width', 'wide']);

    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error UPLIFT_USAGE');
  });
});

describe('paths', () => {
  const from = ['--profile', 'securetransport', '--from', '5.3.1 GA'];

  it('groups the targets by release and says why they are not recommended, without a boxed table', () => {
    const r = cli(['paths', ...from]);

    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('│');
    expect(r.stdout.split('\n').length).toBeLessThan(60);
    expect(widest(r.stdout)).toBeLessThanOrEqual(80);
    expect(r.stdout).toMatch(/^5\.4 {2}\(36 versions\)$/m);
    expect(r.stdout).toMatch(/^ {2}- GA … Patch 35: not recommended; missing facts /m);
    expect(r.stdout).toContain('path to 5.4 Patch 35: 5.3.1 Patch 19 → 5.3.3 GA');
  });

  it('keeps --json as it was: one row per target', () => {
    const r = cli(['paths', ...from, '--json']);

    const data = JSON.parse(r.stdout);
    expect(data.targets).toHaveLength(146);
    expect(Object.keys(data.targets[0]).sort()).toEqual(
      ['blockedBy', 'downtimeSeconds', 'hops', 'manualSteps', 'steps', 'to', 'verdict'].sort(),
    );
  });
});

describe('notes', () => {
  it('says which filter emptied the list', () => {
    const r = cli([
      'notes',
      '--profile',
      'securetransport',
      '--from',
      '5.4 GA',
      '--to',
      '5.5',
      '--type',
      'limitation',
      '--security',
    ]);

    const text = r.stdout.replace(/\s+/g, ' ');
    expect(text).toContain('0 entries');
    expect(text).toMatch(
      /no entries match --type limitation AND --security \(filters combine with AND\); \d+ match --type limitation alone, \d+ match --security alone/,
    );
  });
});

describe('hints name uplift as it was run', () => {
  const bad = ['plan', '--profile', 'skiff', '--from', 'bogus!'];
  const dir = mkdtempSync(join(tmpdir(), 'uplift-bin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('npx uplift under npx (npm_command=exec)', () => {
    const r = cli(bad, { env: { ...plainEnv(), npm_command: 'exec' } });

    expect(r.code).toBe(2);
    expect(r.stderr.replace(/\s+/g, ' ')).toContain('run npx uplift paths to list versions');
  });

  it('node dist/cli/main.js from a checkout', () => {
    const r = cli(bad);

    expect(r.stderr.replace(/\s+/g, ' ')).toContain(
      'run node dist/cli/main.js paths to list versions',
    );
  });

  it('uplift for a bin on the PATH (a global install)', () => {
    // What a global install links: package.json's bin, the bundle (built executable; tsc's
    // dist/cli/main.js is not, in a fresh clone).
    symlinkSync(join(repoRoot, 'dist/bundle/uplift.cjs'), join(dir, 'uplift'));

    const r = cli(bad, {
      bin: join(dir, 'uplift'),
      env: { ...plainEnv(), PATH: `${dir}:${process.env.PATH}` },
    });

    expect(r.stderr.replace(/\s+/g, ' ')).toContain('; run uplift paths to list versions');
  });

  it('--json keeps uplift …', () => {
    const r = cli([...bad, '--json'], { env: { ...plainEnv(), npm_command: 'exec' } });

    expect(JSON.parse(r.stdout).error.hint).toContain('run uplift paths');
  });
});
