import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dedent from 'dedent';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath } from '../util/run-cli.ts';
import { hashTree } from '../util/tree-hash.ts';

/**
 * `uplift apply` obeys the plan's verdict before it touches anything: `blocked` refuses (exit 3),
 * `not-recommended` needs `--accept-risk`. The product is a small one described by a profile
 * folder outside uplift, so the verdict comes only from its catalog and the facts given.
 */
const root = mkdtempSync(join(tmpdir(), 'uplift-apply-verdict-'));
const profileDir = join(root, 'profiles/widget');
const parent = join(root, 'opt');
const install = join(parent, 'widget');
const stateDir = join(parent, '.widget.uplift');

mkdirSync(profileDir, { recursive: true });
writeFileSync(
  join(profileDir, 'profile.yaml'),
  [
    'profile: 1',
    'name: widget',
    'title: Widget server',
    'catalog: catalog.yaml',
    'detection:',
    String.raw`  version: { file: version, pattern: '^\s*(?<version>\S.*?)\s*$' }`,
    '  vendorManifest: .widget/manifest.json',
    '',
  ].join('\n'),
);
writeFileSync(
  join(profileDir, 'catalog.yaml'),
  `${dedent`
    catalog: 1
    product: widget
    title: Widget server
    versionScheme: semver
    releases:
      - { version: 1.0.0, kind: ga }
      - { version: 2.0.0, kind: ga }
    upgrade: {}
    incompatibilities:
      - id: database-14
        title: 2.0.0 needs database 14 or later
        introducedIn: 2.0.0
        when: { fact: database.version, lt: 14 }
        severity: blocking
        action: Upgrade the database to 14 first.
    durations:
      downloadBytesPerSecond: 10000000
      backup: { seconds: 1 }
      stop: { seconds: 1 }
      apply: { seconds: 1 }
      migrate: { seconds: 0 }
      start: { seconds: 1 }
      validate: { seconds: 1 }
      rollback: { seconds: 1 }
    illustrative: true
    reason: a product that exists only in this test
  `}\n`,
);
mkdirSync(join(install, 'conf'), { recursive: true });
writeFileSync(join(install, 'version'), '1.0.0\n');
writeFileSync(join(install, 'conf/widget.properties'), 'port=8080\n');

afterAll(() => rmSync(root, { recursive: true, force: true }));

function uplift(args: string[]) {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', UPLIFT_TRUST: '' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const applyArgs = ['apply', '--install', install, '--profile', profileDir, '--to', 'latest'];

describe('uplift apply and the verdict', () => {
  it('plans the same verdicts the apply tests rely on', () => {
    const unknown = uplift(['plan', '--install', install, '--profile', profileDir, '--json']);
    const blocked = uplift([
      'plan',
      '--install',
      install,
      '--profile',
      profileDir,
      '--fact',
      'database.version=12',
      '--json',
    ]);

    expect(JSON.parse(unknown.stdout).verdict, unknown.stderr).toBe('not-recommended');
    expect(JSON.parse(blocked.stdout).verdict, blocked.stderr).toBe('blocked');
  });

  describe('should error and not write if', () => {
    it('the verdict is blocked: exit 3, the reasons listed, no state folder', async () => {
      const before = await hashTree(root);

      const r = uplift([...applyArgs, '--fact', 'database.version=12', '--yes', '--json']);

      expect(r.code, r.stderr).toBe(3);
      const error = JSON.parse(r.stdout).error;
      expect(error).toMatchObject({ code: 'UPLIFT_APPLY_BLOCKED', unchanged: true });
      expect(error.message).toContain('2.0.0 needs database 14 or later');
      expect(error.details.length).toBeGreaterThan(0);
      expect((await hashTree(root)).hash).toBe(before.hash);
      expect(existsSync(stateDir)).toBe(false);
    });

    it('the verdict is blocked, in text: the error names the reason and what to do', async () => {
      const before = await hashTree(root);

      const r = uplift([...applyArgs, '--fact', 'database.version=12', '--yes']);

      expect(r.code).toBe(3);
      expect(r.stderr).toContain('UPLIFT_APPLY_BLOCKED');
      expect(r.stderr.replace(/\s+/g, ' ')).toContain('2.0.0 needs database 14 or later');
      // The hint names uplift as this run was started (npx uplift, uplift, node …/uplift.cjs).
      expect(r.stderr.replace(/\s+/g, ' ')).toMatch(/hint: .*(uplift|uplift\.cjs|main\.js) plan/);
      expect((await hashTree(root)).hash).toBe(before.hash);
    });

    it('the verdict is not-recommended and no --accept-risk is given: exit 3 with a hint', async () => {
      const before = await hashTree(root);

      const r = uplift([...applyArgs, '--yes', '--json']);

      expect(r.code, r.stderr).toBe(3);
      const error = JSON.parse(r.stdout).error;
      expect(error.code).toBe('UPLIFT_APPLY_RISK_NOT_ACCEPTED');
      expect(error.hint).toContain('--accept-risk');
      expect((await hashTree(root)).hash).toBe(before.hash);
      expect(existsSync(stateDir)).toBe(false);
    });

    it('the verdict is not-recommended, and the run is a dry run: the same refusal the real run gives', async () => {
      const before = await hashTree(root);

      const dry = uplift([...applyArgs, '--dry-run', '--json']);
      const real = uplift([...applyArgs, '--yes', '--json']);

      expect(dry.code, dry.stderr).toBe(3);
      expect(JSON.parse(dry.stdout).error.code).toBe('UPLIFT_APPLY_RISK_NOT_ACCEPTED');
      expect(JSON.parse(dry.stdout).error.hint).toContain('a dry run with it shows the hops');
      expect(JSON.parse(dry.stdout).error.message).toBe(JSON.parse(real.stdout).error.message);
      expect((await hashTree(root)).hash).toBe(before.hash);
    });

    it('--accept-risk is empty', async () => {
      const before = await hashTree(root);

      const r = uplift([...applyArgs, '--accept-risk', ' ', '--yes', '--json']);

      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout).error.code).toBe('UPLIFT_USAGE');
      expect((await hashTree(root)).hash).toBe(before.hash);
    });
  });

  it('goes past the verdict with --accept-risk (here it then stops at the confirmation)', async () => {
    const before = await hashTree(root);

    const r = uplift([
      ...applyArgs,
      '--accept-risk',
      'database version checked by hand',
      '--packs',
      join(root, 'packs'),
      '--trust',
      join(root, 'none.pub'),
      '--json',
    ]);

    // Past the gate: the next refusal is another one (no trusted keys, or no confirmation).
    const code = JSON.parse(r.stdout).error?.code;
    expect(r.stderr).toContain('risk accepted: database version checked by hand');
    expect(code, r.stdout).not.toBe('UPLIFT_APPLY_RISK_NOT_ACCEPTED');
    expect(code).not.toBe('UPLIFT_APPLY_BLOCKED');
    expect((await hashTree(root)).hash).toBe(before.hash);
  });

  it('says the verdict first, on standard error, whatever stops it later', () => {
    const r = uplift([...applyArgs, '--dry-run', '--accept-risk', 'a rehearsal']);

    expect(r.stderr).toMatch(/^Verdict: not recommended: facts are missing\n {2}- /);
  });
});
