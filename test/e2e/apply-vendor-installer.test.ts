import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uplift } from '../util/apply-skiff.ts';
import {
  applyArgs,
  from,
  homeHash,
  livePids,
  makeStHome,
  productFiles,
  type StHome,
  stopAll,
  to,
} from '../util/st-installer.ts';

/**
 * securetransport's vendor-installer hop method through the built CLI, on an Axway home laid out
 * as the upgrade guide documents it, with a stand-in update.sh that succeeds, fails midway, or
 * leaves a broken tree (test/fixtures/securetransport-installer). Every failure must end with
 * both directories byte-identical to before (content, modes, owners) and the old version running.
 */
describe('uplift apply with the vendor-installer method', () => {
  let root: string;
  let n = 0;
  const homes: StHome[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'uplift-st-apply-'));
  });
  afterEach(async () => {
    for (const h of homes.splice(0)) await stopAll(h.install);
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function running(): Promise<StHome> {
    const h = await makeStHome(root, `home-${++n}`);
    homes.push(h);
    const r = spawnSync(join(h.install, 'bin/start_all'), []);
    expect(r.status).toBe(0);
    expect(Object.keys(await livePids(h.install)).sort()).toEqual([
      'admin.pid',
      'ftpd.pid',
      'sshd.pid',
      'tm.pid',
    ]);
    return h;
  }

  const version = async (h: StHome) =>
    /^ProductVersion=(.*)$/m.exec(
      await readFile(join(h.install, 'conf/version.info'), 'utf8'),
    )?.[0];

  it('runs UpgradeStep1 then UpgradeStep2 through update.sh, starts every service, and uplift rollback restores both directories', async () => {
    const h = await running();
    const before = await homeHash(h);

    const r = uplift(applyArgs(h));

    expect(r.stderr).toContain('installer update: ./update.sh -i UpgradeStep1/');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { to: string; hops: { downtimeSeconds: number }[] };
    expect(out.to).toBe(to);
    expect(await version(h)).toBe(`ProductVersion=${to}`);
    for (const [path, body] of Object.entries(productFiles))
      expect(await readFile(join(h.install, path), 'utf8')).toBe(body);
    expect(await readFile(join(h.installer, 'conf/installer.version'), 'utf8')).toBe(
      `InstallerVersion=${to}\n`,
    );
    // The product update starts all but TM; apply's start brings TM up too.
    expect(Object.keys(await livePids(h.install)).sort()).toEqual([
      'admin.pid',
      'ftpd.pid',
      'sshd.pid',
      'tm.pid',
    ]);
    const logs = await readdir(join(h.home, '.SecureTransport.uplift/logs'));
    expect(logs.sort()).toEqual([
      expect.stringMatching(/-0-installer-update\.log$/),
      expect.stringMatching(/-0-product-update\.log$/),
    ]);
    const journal = await readdir(join(h.home, '.SecureTransport.uplift/runs'));
    const steps = (
      await readFile(join(h.home, '.SecureTransport.uplift/runs', journal[0] as string), 'utf8')
    )
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: string; state: string })
      .filter((x) => x.state === 'begin')
      .map((x) => x.step);
    expect(steps).toEqual([
      'run',
      'verify',
      'stage',
      'backup',
      'stop',
      'installer-update',
      'product-update',
      'start',
      'probe',
      'commit',
    ]);

    const back = uplift(['rollback', '--install', h.install, '--json']);

    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ method: 'backup', version: from });
    expect(await homeHash(h)).toEqual(before);
    expect(Object.keys(await livePids(h.install))).toHaveLength(4);
  }, 120_000);

  it.each([
    ['fails midway (exit 7 after changing two files)', 'fail-midway', 'product-update'],
    // Nothing of the new version stays up: the start step sees no process within its 10 s, or
    // sees one that is gone when the readiness wait begins (which of the two depends on timing).
    ['leaves a broken tree (exit 0, nothing stays up)', 'broken', '(start|probe)'],
  ])(
    'restores both directories byte for byte and restarts the old version when update.sh %s',
    async (_t, behaviour, step) => {
      const h = await running();
      const before = await homeHash(h);

      const r = uplift(applyArgs(h), {
        env: { ST_STUB_BEHAVIOUR: behaviour },
      });

      expect(r.code, r.stderr).toBe(1);
      const err = JSON.parse(r.stdout) as { error: { code: string; message: string } };
      expect(err.error.code).toBe('UPLIFT_APPLY_ROLLED_BACK');
      expect(err.error.message).toMatch(new RegExp(`step ${step} `));
      expect(await homeHash(h)).toEqual(before);
      expect(await version(h)).toBe(`ProductVersion=${from}`);
      expect(Object.keys(await livePids(h.install))).toHaveLength(4);
      const status = uplift(['status', '--install', h.install, '--json']);
      expect(JSON.parse(status.stdout)).toMatchObject({
        state: 'idle',
        last: { outcome: 'rolled-back' },
      });
    },
    120_000,
  );

  it('after kill -9 just after the product update changed the tree, uplift resume restores the old version', async () => {
    const h = await running();
    const before = await homeHash(h);

    const r = uplift(applyArgs(h), { crashAt: 'product-update:done' });

    expect(r.signal).toBe('SIGKILL');
    expect(await version(h)).toBe(`ProductVersion=${to}`);
    const status = uplift(['status', '--install', h.install, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({
      state: 'interrupted',
      run: { step: 'product-update', resumeWould: 'roll-back' },
    });

    // --abort: a plain resume now carries the run on to its target (docs/apply.md, "Resume").
    const resumed = uplift(['resume', '--install', h.install, '--abort', '--json']);

    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ action: 'roll-back', version: from });
    expect(await homeHash(h)).toEqual(before);
    expect(Object.keys(await livePids(h.install))).toHaveLength(4);
  }, 120_000);

  it('refuses a zip whose checksum is not the catalog entry, before anything stops', async () => {
    const h = await running();
    const before = await homeHash(h);
    const pids = await livePids(h.install);
    const zip = (await readdir(h.packs))[0] as string;
    const bytes = await readFile(join(h.packs, zip));
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 30) ^ 0xff, bytes.length - 30);
    await writeFile(join(h.packs, zip), bytes);

    const r = uplift(applyArgs(h));

    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe('UPLIFT_VENDOR_PACK_CHECKSUM_MISMATCH');
    expect(await homeHash(h)).toEqual(before);
    expect(await livePids(h.install)).toEqual(pids);
  }, 60_000);
});
