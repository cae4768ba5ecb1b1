import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { put } from '../../test/util/tree-fixture.ts';
import { hashTree } from '../../test/util/tree-hash.ts';
import { makeReleaseTree, readReleaseTree } from './index.ts';
import { modeProblem } from './safe-path.ts';

/** A folder as `npm install` leaves it: packages, .bin links into them, an empty directory. */
function npmFolder(): { d: string; src: string } {
  const d = mkdtempSync(join(tmpdir(), 'uplift-rt-'));
  const src = join(d, 'src');
  put(src, 'package.json', '{"dependencies":{"verdaccio":"6.8.0"}}\n');
  put(src, 'node_modules/verdaccio/bin/verdaccio', '#!/usr/bin/env node\n', 0o755);
  put(src, 'node_modules/verdaccio/package.json', '{"name":"verdaccio"}\n');
  put(src, 'node_modules/semver/bin/semver.js', '#!/usr/bin/env node\n', 0o755);
  mkdirSync(join(src, 'node_modules/.bin'));
  symlinkSync('../verdaccio/bin/verdaccio', join(src, 'node_modules/.bin/verdaccio'));
  symlinkSync('../semver/bin/semver.js', join(src, 'node_modules/.bin/semver'));
  symlinkSync('node_modules/verdaccio', join(src, 'current'));
  mkdirSync(join(src, 'storage'), { mode: 0o750 });
  chmodSync(join(src, 'storage'), 0o750);
  return { d, src };
}

describe('makeReleaseTree', () => {
  it('copies files, symlinks and empty directories, and readReleaseTree accepts the result', async () => {
    const { d, src } = npmFolder();
    put(src, 'lib/loose.js', 'x', 0o666);
    const before = await hashTree(src);
    const progress: number[] = [];

    const r = makeReleaseTree({
      dir: src,
      product: 'verdaccio',
      version: '6.8.0',
      out: join(d, 'out'),
      platform: 'linux-x86-64',
      onProgress: (p) => progress.push(p.files),
    });

    expect(r).toMatchObject({ files: 5, symlinks: 3, directories: 1 });
    expect(r.adjusted).toEqual([{ path: 'lib/loose.js', from: 0o666, to: 0o664 }]);
    expect(modeProblem(0o664)).toBeUndefined();
    expect(progress.at(-1)).toBe(5);
    expect(readlinkSync(join(d, 'out/tree/node_modules/.bin/semver'))).toBe(
      '../semver/bin/semver.js',
    );
    expect(lstatSync(join(d, 'out/tree/storage')).mode & 0o7777).toBe(0o750);
    expect(readdirSync(d).sort()).toEqual(['out', 'src']);
    const m = JSON.parse(readFileSync(join(d, 'out/manifest.json'), 'utf8'));
    expect(m).toMatchObject({ product: 'verdaccio', version: '6.8.0', platform: 'linux-x86-64' });
    expect(m.symlinks).toEqual([
      { path: 'current', target: 'node_modules/verdaccio' },
      { path: 'node_modules/.bin/semver', target: '../semver/bin/semver.js' },
      { path: 'node_modules/.bin/verdaccio', target: '../verdaccio/bin/verdaccio' },
    ]);
    expect(m.directories).toEqual([{ path: 'storage', mode: 0o750 }]);
    const t = await readReleaseTree(join(d, 'out'));
    expect([...t.files.keys()]).toContain('node_modules/verdaccio/bin/verdaccio');
    expect(t.files.get('lib/loose.js')?.mode).toBe(0o664);
    expect(t.symlinks.size).toBe(3);
    expect(t.platform).toBe('linux-x86-64');
    expect((await hashTree(src)).hash).toBe(before.hash);
  });

  it('writes into an existing empty directory', () => {
    const { d, src } = npmFolder();
    mkdirSync(join(d, 'out'));

    makeReleaseTree({ dir: src, product: 'verdaccio', version: '6.8.0', out: join(d, 'out') });

    expect(readdirSync(join(d, 'out')).sort()).toEqual(['manifest.json', 'tree']);
  });

  it('reading refuses a tree whose link was changed or an empty directory the manifest omits', async () => {
    const { d, src } = npmFolder();
    makeReleaseTree({ dir: src, product: 'verdaccio', version: '6.8.0', out: join(d, 'a') });
    makeReleaseTree({ dir: src, product: 'verdaccio', version: '6.8.0', out: join(d, 'b') });

    symlinkSync('node_modules', join(d, 'a/tree/extra'));
    mkdirSync(join(d, 'b/tree/unlisted'));

    await expect(readReleaseTree(join(d, 'a'))).rejects.toMatchObject({
      code: 'UPLIFT_PACK_BUILD_INPUT',
      message: expect.stringContaining('extra'),
    });
    await expect(readReleaseTree(join(d, 'b'))).rejects.toMatchObject({
      code: 'UPLIFT_PACK_BUILD_INPUT',
      message: expect.stringContaining('unlisted'),
    });
  });

  describe('should error and not write if', () => {
    it.each([
      ['an absolute link', '/etc/passwd', 'node_modules/.bin/evil', 'absolute'],
      ['a link escaping the folder', '../../../etc', 'node_modules/.bin/evil', 'outside the tree'],
      ['a link climbing after a name', 'x/../../..', 'evil', '".." after a name'],
    ])('%s', async (_n, target, at, words) => {
      const { d, src } = npmFolder();
      symlinkSync(target, join(src, at));
      const before = await hashTree(d);

      const run = () =>
        makeReleaseTree({ dir: src, product: 'verdaccio', version: '6.8.0', out: join(d, 'out') });

      expect(run).toThrow(
        expect.objectContaining({ code: 'UPLIFT_PACK_BUILD_INPUT', exitCode: 2 }),
      );
      expect(run).toThrow(at);
      expect(run).toThrow(words);
      expect((await hashTree(d)).hash).toBe(before.hash);
      expect(existsSync(join(d, 'out'))).toBe(false);
    });

    it('OUT exists and is not empty', async () => {
      const { d, src } = npmFolder();
      put(d, 'out/keep.txt', 'mine');
      const before = await hashTree(d);

      const run = () =>
        makeReleaseTree({ dir: src, product: 'verdaccio', version: '6.8.0', out: join(d, 'out') });

      expect(run).toThrow(
        expect.objectContaining({ code: 'UPLIFT_PACK_BUILD_INPUT', exitCode: 2 }),
      );
      expect((await hashTree(d)).hash).toBe(before.hash);
    });

    it('OUT lies inside DIR', async () => {
      const { d, src } = npmFolder();
      const before = await hashTree(d);

      expect(() =>
        makeReleaseTree({ dir: src, product: 'verdaccio', version: '1', out: join(src, 'rt') }),
      ).toThrow(expect.objectContaining({ code: 'UPLIFT_PACK_BUILD_INPUT' }));
      expect((await hashTree(d)).hash).toBe(before.hash);
    });

    it.each([
      ['product', { product: 'Not A Product' }],
      ['platform', { platform: 'Linux x86' }],
    ])('the %s is not an id', async (_n, bad) => {
      const { d, src } = npmFolder();

      expect(() =>
        makeReleaseTree({ dir: src, product: 'v', version: '1', out: join(d, 'out'), ...bad }),
      ).toThrow(expect.objectContaining({ code: 'UPLIFT_PACK_BUILD_INPUT' }));
      expect(existsSync(join(d, 'out'))).toBe(false);
    });
  });
});
