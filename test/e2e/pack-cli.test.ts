import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, makeSkiffInstall } from '../util/install-tree.ts';
import { writeReleaseTree } from '../util/pack-assemble.ts';
import { cliPath, runCliProcess } from '../util/run-cli.ts';
import { hashTree } from '../util/tree-hash.ts';

/** uplift keys and uplift pack through the built CLI: exit codes, --json output and errors. */
let d: string;
let platform: string;
let install: string;
let pack: string;

/** `uplift pack verify FILE --trust release.pub`, then `more`. */
const verifyArgs = (file: string, ...more: string[]) => [
  'pack',
  'verify',
  file,
  '--trust',
  join(d, 'release.pub'),
  ...more,
];

const json = (s: string) => JSON.parse(s) as Record<string, unknown> & { error?: { code: string } };

beforeAll(async () => {
  d = mkdtempSync(join(tmpdir(), 'uplift-pack-cli-'));
  install = (await makeSkiffInstall({ version: '5.4 GA' })).install;
  platform = (
    json(runCliProcess(['facts', '--install', install, '--json']).stdout).platform as { id: string }
  ).id;
  writeReleaseTree(join(d, 'a'), '5.4 GA', {
    version: '5.4 GA\n',
    'lib/a.js': 'a\n',
    'conf/x': 'x\n',
  });
  writeReleaseTree(join(d, 'b'), '5.4 Patch 2', {
    version: '5.4 Patch 2\n',
    'lib/a.js': 'A\n',
    'lib/b.js': 'b\n',
  });
  pack = join(d, 'p.upk');
});

afterAll(cleanUp);

describe('uplift keys and uplift pack', () => {
  it('generates a key pair and refuses to overwrite it', () => {
    const first = runCliProcess([
      'keys',
      'generate',
      '--out',
      join(d, 'release'),
      '--name',
      'test',
      '--json',
    ]);
    const again = runCliProcess(['keys', 'generate', '--out', join(d, 'release'), '--json']);

    expect(first.code).toBe(0);
    expect(json(first.stdout).keyid).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(d, 'release.key')).mode & 0o777).toBe(0o600);
    expect(again.code).toBe(2);
    expect(json(again.stdout).error?.code).toBe('UPLIFT_KEY_EXISTS');
  });

  it('builds, inspects and verifies a delta pack against a real installation', () => {
    const built = runCliProcess([
      'pack',
      'build',
      '--from-tree',
      join(d, 'a'),
      '--to-tree',
      join(d, 'b'),
      '--platform',
      platform,
      '--delta',
      '--key',
      join(d, 'release.key'),
      '--out',
      pack,
      '--build',
      '42',
      '--sha256',
      '--json',
    ]);
    const inspected = runCliProcess(['pack', 'inspect', pack]);
    const inspectedJson = runCliProcess(['pack', 'inspect', pack, '--json']);
    const verified = runCliProcess(verifyArgs(pack, '--install', install, '--json', '--sha256'));

    expect(built.code, built.stderr).toBe(0);
    expect(json(built.stdout).manifest).toMatchObject({
      build: '42',
      kind: 'delta',
      counts: { add: 1, replace: 2, delete: 1 },
    });
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toContain('NOT verified');
    expect(inspected.stdout).toContain('5.4 GA → 5.4 Patch 2');
    expect((json(inspectedJson.stdout).manifest as { files: unknown[] }).files).toHaveLength(4);
    expect(verified.code, verified.stdout).toBe(0);
    expect(json(verified.stdout)).toMatchObject({
      verified: true,
      sha256: json(built.stdout).sha256,
      installation: { version: '5.4 GA', platform },
    });
  });

  it('takes the trust from UPLIFT_TRUST, and without any trust refuses with exit 2', () => {
    const env = runWithEnv(['pack', 'verify', pack], { UPLIFT_TRUST: join(d, 'release.pub') });
    const none = runWithEnv(['pack', 'verify', pack, '--json'], { UPLIFT_TRUST: '' });

    expect(env.code, env.stderr).toBe(0);
    expect(env.stdout).toContain('OK ');
    // The whole file's SHA-256 costs one more hash of every byte: only with --sha256.
    expect(env.stdout).not.toContain('sha256 ');
    expect(none.code).toBe(2);
    expect(json(none.stdout).error?.code).toBe('UPLIFT_PACK_NO_TRUST');
  });

  it('--workers and UPLIFT_PACK_WORKERS give the same bytes; a bad count is refused with exit 2', () => {
    const buildArgs = (out: string, ...more: string[]) => [
      'pack',
      'build',
      '--from-tree',
      join(d, 'a'),
      '--to-tree',
      join(d, 'b'),
      '--platform',
      platform,
      '--key',
      join(d, 'release.key'),
      '--out',
      join(d, out),
      ...more,
    ];

    const one = runCliProcess(buildArgs('w1.upk', '--workers', '1'));
    const env = runWithEnv(buildArgs('w3.upk'), { UPLIFT_PACK_WORKERS: '3' });
    const zero = runCliProcess(buildArgs('w0.upk', '--workers', '0', '--json'));
    const badEnv = runWithEnv(buildArgs('wx.upk', '--json'), { UPLIFT_PACK_WORKERS: 'many' });

    expect(one.code, one.stderr).toBe(0);
    expect(env.code, env.stderr).toBe(0);
    expect(readFileSync(join(d, 'w3.upk')).equals(readFileSync(join(d, 'w1.upk')))).toBe(true);
    expect(zero.code).toBe(2);
    expect(json(zero.stdout).error?.code).toBe('UPLIFT_USAGE');
    expect(badEnv.code).toBe(2);
    expect(json(badEnv.stdout).error?.code).toBe('UPLIFT_USAGE');
    expect(existsSync(join(d, 'w0.upk')) || existsSync(join(d, 'wx.upk'))).toBe(false);
  });

  describe('should refuse and not write if', () => {
    it.each([
      [
        'the installation is at another version',
        async () => (await makeSkiffInstall({ version: '5.3.6 GA' })).install,
        undefined,
        3,
        'UPLIFT_PACK_FROM_MISMATCH',
      ],
      [
        'the installation is already newer',
        async () => (await makeSkiffInstall({ version: '5.5 GA' })).install,
        undefined,
        3,
        'UPLIFT_PACK_DOWNGRADE',
      ],
      [
        'the pack is for another platform',
        async () => install,
        'aix-power-64',
        3,
        'UPLIFT_PACK_WRONG_PLATFORM',
      ],
    ] as const)('%s', async (_n, target, otherPlatform, code, error) => {
      const dir = await target();
      const before = await hashTree(dir);
      const stage = join(d, `stage-${code}-${error}`);
      const args = verifyArgs(pack, '--install', dir, '--stage', stage, '--json');
      if (otherPlatform) args.push('--platform', otherPlatform);

      const r = runCliProcess(args);

      expect(r.code).toBe(code);
      expect(json(r.stdout).error).toMatchObject({
        code: error,
        unchanged: true,
        location: { file: pack },
      });
      expect(existsSync(stage)).toBe(false);
      expect((await hashTree(dir)).hash).toBe(before.hash);
    });

    it('the pack is damaged: exit 1, the staging directory removed', () => {
      const bad = join(d, 'bad.upk');
      const bytes = readFileSync(pack);
      bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 0xff;
      writeFileSync(bad, bytes);

      const r = runCliProcess(verifyArgs(bad, '--stage', join(d, 'stage-bad')));

      expect(r.code).toBe(1);
      expect(r.stderr).toContain('UPLIFT_PACK_CORRUPT');
      expect(r.stderr).toContain('Nothing was changed');
      expect(readdirSync(d)).not.toContain('stage-bad');
    });

    it('the key is not trusted: exit 3', () => {
      runCliProcess(['keys', 'generate', '--out', join(d, 'other')]);

      const r = runCliProcess(['pack', 'verify', pack, '--trust', join(d, 'other.pub'), '--json']);

      expect(r.code).toBe(3);
      expect(json(r.stdout).error?.code).toBe('UPLIFT_PACK_KEY_UNTRUSTED');
    });
  });

  it('pack verify --help names the exit codes and an example', () => {
    const r = runCliProcess(['pack', 'verify', '--help']);

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Exit codes: 0 verified/);
    expect(r.stdout).toMatch(/Example: uplift pack verify/);
  });
});

function runWithEnv(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
