import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess } from '../util/run-cli.ts';
import { put } from '../util/tree-fixture.ts';
import { hashTree } from '../util/tree-hash.ts';

/** `uplift release-tree make` through the built CLI, and packs built from what it writes. */
let d: string;

/** A folder as `npm install` leaves it: many files, node_modules/.bin links, an empty directory. */
function npmFolder(dir: string, version: string, modules: number): string {
  put(dir, 'version', `${version}\n`);
  for (let i = 0; i < modules; i++)
    put(dir, `node_modules/m${i}/index.js`, `module.exports = ${i};\n`);
  put(dir, 'node_modules/verdaccio/bin/verdaccio', `#!/usr/bin/env node\n// ${version}\n`, 0o755);
  mkdirSync(join(dir, 'node_modules/.bin'));
  symlinkSync('../verdaccio/bin/verdaccio', join(dir, 'node_modules/.bin/verdaccio'));
  mkdirSync(join(dir, 'storage'));
  return dir;
}

const make = (dir: string, out: string, ...more: string[]) =>
  runCliProcess([
    'release-tree',
    'make',
    dir,
    '--product',
    'skiff',
    '--version',
    readFileSync(join(dir, 'version'), 'utf8').trim(),
    '--out',
    out,
    ...more,
  ]);

beforeAll(() => {
  d = mkdtempSync(join(tmpdir(), 'uplift-rt-e2e-'));
  npmFolder(join(d, 'src-a'), '5.4 GA', 600);
  const b = npmFolder(join(d, 'src-b'), '5.4 Patch 2', 550);
  symlinkSync('../m0/index.js', join(b, 'node_modules/.bin/m0'));
});

afterAll(async () => {
  await rm(d, { recursive: true, force: true });
}, 120_000);

describe('uplift release-tree make', () => {
  it('writes a release tree with links and empty directories, with progress, and pack build takes it', () => {
    const r = make(join(d, 'src-a'), join(d, 'rt/a'), '--platform', 'linux-x86-64', '--json');
    const b = make(join(d, 'src-b'), join(d, 'rt/b'), '--platform', 'linux-x86-64');

    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 602, symlinks: 1, directories: 1 });
    expect(r.stderr).toMatch(/copied 500\/602 files/);
    expect(r.stderr).toMatch(/copied 602\/602 files/);
    expect(b.code).toBe(0);
    expect(b.stdout).toContain('symlinks     2');
    expect(readlinkSync(join(d, 'rt/a/tree/node_modules/.bin/verdaccio'))).toBe(
      '../verdaccio/bin/verdaccio',
    );
    expect(readdirSync(join(d, 'rt')).sort()).toEqual(['a', 'b']);

    const keys = runCliProcess(['keys', 'generate', '--out', join(d, 'release')]);
    expect(keys.code).toBe(0);
    const built = runCliProcess([
      'pack',
      'build',
      '--from-tree',
      join(d, 'rt/a'),
      '--to-tree',
      join(d, 'rt/b'),
      '--platform',
      'linux-x86-64',
      '--delta',
      '--key',
      join(d, 'release.key'),
      '--out',
      join(d, 'p.upk'),
      '--json',
    ]);
    expect(built.code, built.stderr).toBe(0);
    const verified = runCliProcess([
      'pack',
      'verify',
      join(d, 'p.upk'),
      '--trust',
      join(d, 'release.pub'),
      '--json',
    ]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      manifest: { format: 'uplift-pack/1.1' },
    });
  });

  describe('should error and not write if', () => {
    it.each([
      ['a link climbs out of the folder', '../../../../etc', 'outside the tree'],
      ['a link is absolute', '/etc', 'absolute'],
    ])('%s', async (_n, target, words) => {
      const bad = mkdtempSync(join(d, 'bad-'));
      const src = npmFolder(join(bad, 'src'), '5.4 GA', 3);
      symlinkSync(target, join(src, 'node_modules/.bin/evil'));
      const before = await hashTree(bad);

      const r = make(src, join(bad, 'out'), '--json');

      expect(r.code).toBe(2);
      const err = JSON.parse(r.stdout).error;
      expect(err.code).toBe('UPLIFT_PACK_BUILD_INPUT');
      expect(err.message).toContain('node_modules/.bin/evil');
      expect(err.message).toContain(words);
      expect(readdirSync(bad)).toEqual(['src']);
      expect((await hashTree(bad)).hash).toBe(before.hash);
    });

    it('OUT exists and is not empty', async () => {
      const bad = mkdtempSync(join(d, 'bad-'));
      const src = npmFolder(join(bad, 'src'), '5.4 GA', 3);
      put(bad, 'taken/keep.txt', 'mine');
      const before = await hashTree(bad);

      const r = make(src, join(bad, 'taken'));

      expect(r.code).toBe(2);
      expect(r.stderr).toContain('UPLIFT_PACK_BUILD_INPUT');
      expect((await hashTree(bad)).hash).toBe(before.hash);
    });
  });
});
