import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/util/index.ts';
import { scratchRoot, takePrivateCli, uplift } from '../util/apply-skiff.ts';
import { freePort } from '../util/free-port.ts';
import {
  copyTinyProfile,
  health,
  livePid,
  platformId,
  startTiny,
  type TinyMode,
  writeTinyRelease,
} from '../util/tiny-product.ts';

/**
 * The profile's lifecycle decides: a product no module under src/ knows ("tiny", its profile an
 * outside folder) is upgraded, and a new version that crashes 2 s after start, never becomes
 * ready, or fails its smoke test is rolled back at once with the old version running and ready
 * afterwards; the exit code and the message say so. Downtime is what the readiness probe saw.
 */
describe('uplift apply with the lifecycle a profile declares', () => {
  let root: string;
  let dispose: () => Promise<void>;
  const installs: string[] = [];

  beforeAll(async () => {
    ({ dispose } = await takePrivateCli());
    root = await scratchRoot('uplift-lifecycle-');
    await mkdir(join(root, 'keys'));
    const keys = uplift(['keys', 'generate', '--out', join(root, 'keys/release')]);
    expect(keys.code, keys.stderr).toBe(0);
    await writeTinyRelease(join(root, 'src/1.0.0'), '1.0.0', 'ok');
    const made = uplift([
      'release-tree',
      'make',
      join(root, 'src/1.0.0'),
      '--product',
      'tiny',
      '--version',
      '1.0.0',
      '--out',
      join(root, 'rel/1.0.0'),
    ]);
    expect(made.code, made.stderr).toBe(0);
  }, 120_000);

  afterEach(async () => {
    for (const i of installs.splice(0)) {
      const pid = Number(
        (await readFile(join(i, 'run/server.pid'), 'utf8').catch(() => '')).trim(),
      );
      if (pid > 0 && isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await dispose?.();
  });

  /** A profile, a 2.0.0 built in `mode`, its signed pack, and a running 1.0.0 installation. */
  async function setUp(mode: TinyMode) {
    const dir = join(root, mode);
    const risky = mode === 'ok';
    const profile = await copyTinyProfile(join(dir, 'profile'), { risky });
    await writeTinyRelease(join(dir, 'src/2.0.0'), '2.0.0', mode);
    const tree = uplift([
      'release-tree',
      'make',
      join(dir, 'src/2.0.0'),
      '--product',
      'tiny',
      '--version',
      '2.0.0',
      '--out',
      join(dir, 'rel/2.0.0'),
    ]);
    expect(tree.code, tree.stderr).toBe(0);
    const packs = join(dir, 'packs');
    await mkdir(packs);
    const pack = uplift([
      'pack',
      'build',
      '--from-tree',
      join(root, 'rel/1.0.0'),
      '--to-tree',
      join(dir, 'rel/2.0.0'),
      '--platform',
      platformId(),
      '--delta',
      '--key',
      join(root, 'keys/release.key'),
      '--out',
      join(packs, `tiny-2.0.0-from-1.0.0_${platformId()}.upk`),
      '--profile',
      profile,
    ]);
    expect(pack.code, pack.stderr).toBe(0);
    const install = join(dir, 'install');
    await cp(join(root, 'rel/1.0.0/tree'), install, { recursive: true });
    // An installation made without uplift (an unpacked archive) has no vendor manifest: the
    // release tree it came from says which files are the vendor's (--base-tree).
    const fromArchive = mode === 'ok';
    if (!fromArchive) {
      await mkdir(join(install, '.tiny'));
      await cp(join(root, 'rel/1.0.0/manifest.json'), join(install, '.tiny/manifest.json'));
    }
    const port = await freePort();
    // The customer's own edits: the port, and data the service keeps.
    await writeFile(join(install, 'config/port'), `${port}\n`);
    await mkdir(join(install, 'data'));
    await writeFile(join(install, 'data/customer.txt'), 'kept\n');
    installs.push(install);
    await startTiny(install);
    const args = [
      'apply',
      '--install',
      install,
      '--profile',
      profile,
      '--to',
      '2.0.0',
      '--packs',
      packs,
      '--trust',
      join(root, 'keys/release.pub'),
      ...(fromArchive ? ['--base-tree', join(root, 'rel/1.0.0')] : []),
      ...(risky ? ['--accept-risk', 'cacheMode is lax on every node (checked by hand)'] : []),
      '--yes',
      '--json',
    ];
    return { install, port, profile, args };
  }

  it('upgrades, measures the downtime until ready and stable, and `uplift rollback` brings 1.0.0 back running', async () => {
    const { install, port, args } = await setUp('ok');

    const r = uplift(args);

    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ from: '1.0.0', to: '2.0.0', outcome: 'committed' });
    // The stability window (3 s) is part of what clients wait for.
    expect(result.hops[0].downtimeSeconds).toBeGreaterThanOrEqual(3);
    expect(await health(port)).toBe('2.0.0');
    expect(await readFile(join(install, 'config/port'), 'utf8')).toBe(`${port}\n`);
    expect(await readFile(join(install, 'data/customer.txt'), 'utf8')).toBe('kept\n');
    // The plan was not-recommended (a fact unknown): the operator's reason is recorded.
    const history = JSON.parse(uplift(['history', '--install', install, '--json']).stdout);
    expect(history.runs[0].acceptedRisk).toEqual({
      verdict: 'not-recommended',
      reason: 'cacheMode is lax on every node (checked by hand)',
    });
    // The first apply leaves the new version's manifest: the next needs no --base-tree.
    expect(JSON.parse(await readFile(join(install, '.tiny/manifest.json'), 'utf8'))).toMatchObject({
      version: '2.0.0',
    });

    const rb = uplift(['rollback', '--install', install, '--json']);

    expect(rb.code, rb.stderr).toBe(0);
    expect(JSON.parse(rb.stdout)).toMatchObject({ version: '1.0.0', service: 'running' });
    expect(await health(port)).toBe('1.0.0');
    await livePid(install);
  }, 120_000);

  it.each([
    ['exit-after-2s', 'exited'],
    ['never-ready', 'health'],
    ['smoke-fails', 'work'],
  ] as const)(
    'rolls back a new version that %s: 1.0.0 runs and is ready again, exit 1 says so',
    async (mode, named) => {
      const { install, port, args } = await setUp(mode);

      const r = uplift(args);

      expect(r.code, r.stdout + r.stderr).toBe(1);
      const error = JSON.parse(r.stdout).error;
      expect(error.code).toBe('UPLIFT_APPLY_ROLLED_BACK');
      expect(error.message).toContain(named);
      expect(error.message).toContain('1.0.0 runs again');
      expect(await health(port)).toBe('1.0.0');
      await livePid(install);
      expect(await readFile(join(install, 'VERSION'), 'utf8')).toBe('1.0.0\n');
      const history = JSON.parse(uplift(['history', '--install', install, '--json']).stdout);
      expect(history.runs[0]).toMatchObject({ outcome: 'rolled-back', service: 'running' });
    },
    120_000,
  );
});
