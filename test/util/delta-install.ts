import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPack, makeReleaseTree } from '../../src/pack/index.ts';
import type { PrivateKey } from '../../src/signing/index.ts';
import { put } from './tree-fixture.ts';

/**
 * Under `d`: the release trees `d/a` and `d/b` of two skiff versions made from the folders `a` and
 * `b`, a delta pack `d/p.upk` between them signed with `key`, and `d/install`, an installation of
 * the first with its vendor manifest at `manifestPath`.
 */
export async function deltaPackAndInstall(o: {
  d: string;
  a: string;
  b: string;
  from: string;
  to: string;
  key: PrivateKey;
  manifestPath: string;
}): Promise<{ pack: Awaited<ReturnType<typeof buildPack>>; install: string }> {
  const { d } = o;
  const opts = { product: 'skiff', platform: 'linux-x86-64' };
  makeReleaseTree({ ...opts, dir: o.a, version: o.from, out: join(d, 'a') });
  makeReleaseTree({ ...opts, dir: o.b, version: o.to, out: join(d, 'b') });
  const pack = await buildPack({
    fromTree: join(d, 'a'),
    toTree: join(d, 'b'),
    platform: 'linux-x86-64',
    delta: true,
    key: o.key,
    out: join(d, 'p.upk'),
  });
  const install = join(d, 'install');
  cpSync(join(d, 'a/tree'), install, { recursive: true, verbatimSymlinks: true });
  put(install, o.manifestPath, readFileSync(join(d, 'a/manifest.json'), 'utf8'));
  return { pack, install };
}
