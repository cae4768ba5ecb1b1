import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dedent from 'dedent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess, runCliProcess } from '../util/run-cli.ts';

/*
 * `--channel` on every command that chooses a target or lists a path (docs/catalog.md,
 * "channels"): plan, apply, check, fetch, notes and paths. A profile whose catalog has a stable
 * and a fast channel; 1.2 GA and 1.4 GA are fast only, so --to latest is 1.3 GA in stable and
 * 1.4 GA in fast.
 */
const pack = (file: string) => `packs: [{ platform: linux-x86-64, file: ${file}, size: 1000 }]`;
const catalog = dedent`
  catalog: 1
  product: demo
  title: Demo
  versionScheme: dotted-patch
  illustrative: true
  reason: a catalog written for a test
  channels:
    - { id: stable, default: true }
    - { id: fast }
  releases:
    - { version: 1.0 GA, kind: ga, ${pack('a.upk')} }
    - { version: 1.1 GA, kind: ga, channels: [stable, fast], ${pack('b.upk')}, notes: { fixed: [{ id: D-11, title: fixed in 1.1 }] } }
    - { version: 1.2 GA, kind: ga, channels: [fast], ${pack('c.upk')}, notes: { fixed: [{ id: D-12, title: fixed in 1.2 }] } }
    - { version: 1.3 GA, kind: ga, channels: [fast, stable], ${pack('d.upk')}, notes: { fixed: [{ id: D-13, title: fixed in 1.3 }] } }
    - { version: 1.4 GA, kind: ga, channels: [fast], ${pack('e.upk')}, notes: { fixed: [{ id: D-14, title: fixed in 1.4 }] } }
  upgrade: {}
  durations:
    downloadBytesPerSecond: 1000
    backup: { seconds: 60 }
    stop: { seconds: 10 }
    apply: { seconds: 60 }
    migrate: { seconds: 0 }
    start: { seconds: 20 }
    validate: { seconds: 60 }
    rollback: { seconds: 120 }
`;
const manifest = dedent`
  profile: 1
  name: demo
  title: Demo
  catalog: catalog.yaml
  detection:
    version: { file: version, pattern: '^(?<version>.+)$' }
`;

let root: string;
let profile: string;
let install: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'uplift-channels-'));
  profile = join(root, 'profile');
  install = join(root, 'install');
  mkdirSync(profile);
  mkdirSync(install);
  writeFileSync(join(profile, 'profile.yaml'), `${manifest}\n`);
  writeFileSync(join(profile, 'catalog.yaml'), `${catalog}\n`);
  writeFileSync(join(install, 'version'), '1.0 GA\n');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const facts = ['--from', '1.0 GA', '--fact', 'platform.id=linux-x86-64'];

describe('uplift notes --channel', () => {
  it.each`
    channel      | to          | target      | ids
    ${undefined} | ${'latest'} | ${'1.3 GA'} | ${['D-11', 'D-12', 'D-13']}
    ${'fast'}    | ${'latest'} | ${'1.4 GA'} | ${['D-11', 'D-12', 'D-13', 'D-14']}
    ${'fast'}    | ${'1.2 GA'} | ${'1.2 GA'} | ${['D-11', 'D-12']}
  `(
    '--channel $channel --to $to digests the notes up to $target',
    async ({ channel, to, target, ids }) => {
      const r = await runCliInProcess([
        'notes',
        '--profile',
        profile,
        ...facts,
        '--to',
        to,
        ...(channel ? ['--channel', channel] : []),
        '--json',
      ]);

      expect(r.code, r.stdout + r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.to).toBe(target);
      expect(out.entries.map((e: { id: string }) => e.id).sort()).toEqual(ids);
    },
  );
});

describe('uplift paths --channel', () => {
  it.each`
    channel      | targets
    ${undefined} | ${['1.1 GA', '1.3 GA']}
    ${'stable'}  | ${['1.1 GA', '1.3 GA']}
    ${'fast'}    | ${['1.1 GA', '1.2 GA', '1.3 GA', '1.4 GA']}
  `('--channel $channel lists $targets', async ({ channel, targets }) => {
    const r = await runCliInProcess([
      'paths',
      '--profile',
      profile,
      ...facts,
      ...(channel ? ['--channel', channel] : []),
      '--json',
    ]);

    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.channel).toBe(channel ?? 'stable');
    expect(out.targets.map((t: { to: string }) => t.to)).toEqual(targets);
  });

  it('names the channel in the text view', async () => {
    const r = await runCliInProcess(['paths', '--profile', profile, ...facts, '--channel', 'fast']);

    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('Demo, fast channel: from 1.0 GA');
  });
});

describe('the built CLI refuses a bad --channel on each command (exit 2)', () => {
  it.each`
    command    | channel     | to          | code
    ${'plan'}  | ${'beta'}   | ${'latest'} | ${'UPLIFT_PLAN_UNKNOWN_CHANNEL'}
    ${'notes'} | ${'beta'}   | ${'latest'} | ${'UPLIFT_PLAN_UNKNOWN_CHANNEL'}
    ${'notes'} | ${'stable'} | ${'1.2 GA'} | ${'UPLIFT_PLAN_NOT_IN_CHANNEL'}
    ${'paths'} | ${'beta'}   | ${null}     | ${'UPLIFT_PLAN_UNKNOWN_CHANNEL'}
  `('$command --channel $channel --to $to: $code', ({ command, channel, to, code }) => {
    const r = runCliProcess([
      command,
      '--profile',
      profile,
      ...facts,
      ...(to ? ['--to', to] : []),
      '--channel',
      channel,
      '--json',
    ]);

    expect(r.code, r.stdout + r.stderr).toBe(2);
    const error = JSON.parse(r.stdout).error;
    expect(error.code).toBe(code);
    expect(error.hint).toMatch(/--channel|channel/);
  });

  it.each`
    channel     | to          | code
    ${'beta'}   | ${'latest'} | ${'UPLIFT_PLAN_UNKNOWN_CHANNEL'}
    ${'stable'} | ${'1.2 GA'} | ${'UPLIFT_PLAN_NOT_IN_CHANNEL'}
  `(
    'fetch --install --channel $channel --to $to: $code, before any download',
    ({ channel, to, code }) => {
      const repo = mkdtempSync(join(root, 'repo-'));
      const r = runCliProcess([
        'fetch',
        '--install',
        install,
        '--profile',
        profile,
        '--to',
        to,
        '--channel',
        channel,
        '--repo',
        repo,
        '--out',
        join(repo, 'out'),
        '--json',
      ]);

      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(JSON.parse(r.stdout).error.code).toBe(code);
    },
  );

  it.each`
    channel     | to          | code
    ${'beta'}   | ${'latest'} | ${'UPLIFT_PLAN_UNKNOWN_CHANNEL'}
    ${'stable'} | ${'1.2 GA'} | ${'UPLIFT_PLAN_NOT_IN_CHANNEL'}
  `('check --install --channel $channel --to $to: $code', ({ channel, to, code }) => {
    const r = runCliProcess([
      'check',
      '--install',
      install,
      '--profile',
      profile,
      '--to',
      to,
      '--channel',
      channel,
      '--json',
    ]);

    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe(code);
  });

  it('check --install --channel fast --to 1.2 GA checks the upgrade to a release of the fast channel', () => {
    const r = runCliProcess([
      'check',
      '--install',
      install,
      '--profile',
      profile,
      '--to',
      '1.2 GA',
      '--channel',
      'fast',
      '--json',
    ]);

    expect(JSON.parse(r.stdout).error, r.stdout + r.stderr).toBeUndefined();
    expect(JSON.stringify(JSON.parse(r.stdout))).toContain('1.2 GA');
  });

  it('fetch --install --channel fast --to 1.2 GA plans in the fast channel and goes on to the repository', () => {
    const repo = mkdtempSync(join(root, 'repo-'));
    const r = runCliProcess([
      'fetch',
      '--install',
      install,
      '--profile',
      profile,
      '--to',
      '1.2 GA',
      '--channel',
      'fast',
      '--repo',
      repo,
      '--out',
      join(repo, 'out'),
      '--json',
    ]);

    // The plan is made; the empty folder is no repository, which is the next thing refused.
    const error = JSON.parse(r.stdout).error;
    expect(error.code).not.toMatch(/CHANNEL/);
    expect(`${error.message} ${error.hint}`).toMatch(/root\.json|repository/i);
  });
});
