import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPack } from '../../src/pack/index.ts';
import { addToRepository, initRepository, publishIndex } from '../../src/repo/index.ts';
import { generateKeyPair, type KeyPair, writeKeyPair } from '../../src/signing/index.ts';
import { writeReleaseTree } from './pack-assemble.ts';

/**
 * A repository folder for the fetch tests, with real signed uplift packs: small skiff release
 * trees, one delta pack per hop and platform, published with a signed index. The keys are
 * written beside it so CLI tests can use them.
 */
export interface RepoFixture {
  root: string;
  repo: string;
  keys: { root: KeyPair; index: KeyPair; packs: KeyPair };
  /** `<root>/keys/<name>.key|.pub`. */
  keyFile(name: 'root' | 'index' | 'packs', ext: 'key' | 'pub'): string;
  /** Pack file names by platform, in hop order. */
  packs: Record<string, string[]>;
  cleanUp(): Promise<void>;
}

export interface Hop {
  from: string;
  to: string;
  /** The pack's file name for a platform, e.g. `skiff-5.5-GA-from-5.4_<platform>.upk`. */
  file: (platform: string) => string;
  /** Bytes of incompressible data in the to release (to make a pack of some size). */
  bigFileBytes?: number;
}

/** The hops of skiff 5.3.0 Patch 1 → 5.5 GA, named as profiles/skiff/catalog.yaml names them. */
export const skiffHops: Hop[] = [
  ['5.3.0 Patch 1', '5.3.0 Patch 2', 'skiff-5.3.0-Patch-2-from-5.3.0'],
  ['5.3.0 Patch 2', '5.3.3 GA', 'skiff-5.3.3-GA-from-5.3.0'],
  ['5.3.3 GA', '5.3.6 GA', 'skiff-5.3.6-GA-from-5.3.3'],
  ['5.3.6 GA', '5.4 GA', 'skiff-5.4-GA-from-5.3.6'],
  ['5.4 GA', '5.4 Patch 2', 'skiff-5.4-Patch-2-from-5.4'],
  ['5.4 Patch 2', '5.5 GA', 'skiff-5.5-GA-from-5.4'],
].map(([from, to, stem]) => ({ from, to, file: (p: string) => `${stem}_${p}.upk` }) as Hop);

function pseudoRandom(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, i);
  }
  return b;
}

export async function makeRepoFixture(opts: {
  hops: Hop[];
  platforms: string[];
  indexExpires?: Date;
}): Promise<RepoFixture> {
  const root = await mkdtemp(join(tmpdir(), 'uplift-repo-fixture-'));
  const repo = join(root, 'repo');
  const keys = { root: generateKeyPair(), index: generateKeyPair(), packs: generateKeyPair() };
  await mkdir(join(root, 'keys'));
  for (const [name, pair] of Object.entries(keys))
    await writeKeyPair(pair, join(root, 'keys', name));
  const keyFile = (name: string, ext: string) => join(root, 'keys', `${name}.${ext}`);

  const trees = new Map<string, string>();
  const treeOf = (version: string, big = 0) => {
    let dir = trees.get(version);
    if (!dir) {
      dir = join(root, 'trees', version.replace(/ /g, '-'));
      const files: Record<string, string | Buffer> = {
        version: `${version}\n`,
        'lib/server.js': `// skiff ${version}\nsetInterval(() => {}, 1000);\n`,
        'conf/skiff.properties': 'http.port=8080\n',
      };
      if (big > 0) files['lib/data.bin'] = pseudoRandom(big, version.length * 7919 + big);
      writeReleaseTree(dir, version, files);
      trees.set(version, dir);
    }
    return dir;
  };

  await initRepository({
    dir: repo,
    rootKeys: [keys.root.privateKey],
    threshold: 1,
    indexKeys: [keys.index.privateKey],
    indexThreshold: 1,
    packKeys: [keys.packs.publicKey],
    rootExpires: new Date(Date.now() + 365 * 86_400_000),
    indexExpires: opts.indexExpires ?? new Date(Date.now() + 7 * 86_400_000),
  });
  const packs: Record<string, string[]> = {};
  await mkdir(join(root, 'built'));
  for (const platform of opts.platforms) {
    packs[platform] = [];
    for (const hop of opts.hops) {
      const out = join(root, 'built', hop.file(platform));
      await buildPack({
        fromTree: treeOf(hop.from),
        toTree: treeOf(hop.to, hop.bigFileBytes),
        platform,
        delta: true,
        key: keys.packs.privateKey,
        out,
        fromRange: hop.from,
      });
      await addToRepository({ dir: repo, files: [out], catalog: false, attributes: {} });
      packs[platform].push(hop.file(platform));
    }
  }
  await publishIndex({
    dir: repo,
    indexKeys: [keys.index.privateKey],
    expires: opts.indexExpires ?? new Date(Date.now() + 7 * 86_400_000),
  });
  return {
    root,
    repo,
    keys,
    keyFile,
    packs,
    cleanUp: () => rm(root, { recursive: true, force: true }),
  };
}
