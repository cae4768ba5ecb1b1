import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPack, inspectPack, makeReleaseTree } from '../../src/pack/index.ts';
import { loadPrivateKey } from '../../src/signing/index.ts';
import {
  type ApplyFixture,
  applyArgs,
  prepareApplyFixture,
  startFreshInstall,
  upliftAsync,
} from '../util/apply-skiff.ts';
import { put } from '../util/tree-fixture.ts';

const from = '5.3.0 Patch 1';
const to = '5.3.0 Patch 2';

const gone = (p: string) => {
  try {
    lstatSync(p);
    return false;
  } catch {
    return true;
  }
};

/** The old version's own entries, put both in its release tree and in the installation. */
function addOldVendorEntries(root: string): void {
  put(root, 'plugins/legacy/a.txt', 'legacy plugin\n');
  put(root, 'docs/old/readme.txt', 'old docs\n');
  symlinkSync('../plugins/legacy/a.txt', join(root, 'bin/legacy'));
  mkdirSync(join(root, 'cache'));
}

/** Release tree `dir` made again with makeReleaseTree from its own tree/ (links and directories listed). */
function remake(dir: string, version: string): void {
  makeReleaseTree({ dir: join(dir, 'tree'), product: 'skiff', version, out: `${dir}.new` });
  rmSync(dir, { recursive: true, force: true });
  renameSync(`${dir}.new`, dir);
}

/**
 * A real `uplift apply` of a skiff hop whose pack (format 1.1) drops a plugin folder, a docs
 * folder, a link and an empty directory of the old version, and brings a link and an empty
 * directory of its own.
 */
describe('uplift apply with a pack of links and empty directories', () => {
  let fx: ApplyFixture;

  beforeAll(async () => {
    fx = await prepareApplyFixture('uplift-links-apply-', from, to);
    const a = join(fx.releases, fx.skiff.releaseSlug(from));
    const b = join(fx.releases, fx.skiff.releaseSlug(to));
    addOldVendorEntries(join(a, 'tree'));
    put(join(b, 'tree'), 'plugins/tool.txt', 'tool\n');
    symlinkSync('plugins/tool.txt', join(b, 'tree/tool-current'));
    mkdirSync(join(b, 'tree/spool'));
    remake(a, from);
    remake(b, to);
    const [file] = readdirSync(fx.packs);
    const out = join(fx.packs, file as string);
    const { platform } = (await inspectPack(out)).manifest;
    await buildPack({
      fromTree: a,
      toTree: b,
      platform,
      delta: true,
      fromRange: from,
      key: await loadPrivateKey(join(fx.root, 'keys/vendor.key')),
      out,
    });
    addOldVendorEntries(fx.template);
    cpSync(join(a, 'manifest.json'), join(fx.template, '.skiff/manifest.json'));
  }, 240_000);

  afterAll(async () => {
    await fx?.dispose();
  });

  it('removes what the new version dropped, keeps the customer file, adds the new link and directory', async () => {
    const install = await startFreshInstall(fx);
    try {
      put(install, 'plugins/legacy/mine.txt', 'customer plugin\n');

      const r = await upliftAsync(applyArgs(fx, install));

      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(gone(join(install, 'bin/legacy'))).toBe(true);
      expect(gone(join(install, 'docs/old'))).toBe(true);
      expect(gone(join(install, 'cache'))).toBe(true);
      expect(gone(join(install, 'plugins/legacy/a.txt'))).toBe(true);
      expect(readdirSync(join(install, 'plugins/legacy'))).toEqual(['mine.txt']);
      expect(readlinkSync(join(install, 'tool-current'))).toBe('plugins/tool.txt');
      expect(existsSync(join(install, 'tool-current'))).toBe(true);
      expect(readdirSync(join(install, 'spool'))).toEqual([]);
      const vendor = JSON.parse(readFileSync(join(install, '.skiff/manifest.json'), 'utf8'));
      expect(vendor.version).toBe(to);
      expect(vendor.symlinks).toEqual([{ path: 'tool-current', target: 'plugins/tool.txt' }]);
      expect(vendor.directories).toEqual([{ path: 'spool', mode: 0o755 }]);
    } finally {
      await fx.skiff.stopInstallation(install).catch(() => undefined);
      await rm(dirname(install), { recursive: true, force: true });
    }
  }, 240_000);
});
