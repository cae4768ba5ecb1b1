import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPack, expansionFloor } from '../../src/pack/index.ts';
import { addToRepository, initRepository, publishIndex } from '../../src/repo/index.ts';
import { generateKeyPair } from '../../src/signing/index.ts';
import { noProxyEnv, runCli } from '../util/http-cli.ts';
import { cleanUp, makeSkiffInstall } from '../util/install-tree.ts';
import { writeReleaseTree } from '../util/pack-assemble.ts';

/**
 * `uplift fetch --max-expand`: an honest pack whose payload expands far beyond the default ratio
 * (a release holding 129 MiB of zeros, which zstd packs into a few KiB) is refused by a default
 * fetch and accepted when the operator raises the ratio on purpose.
 */

let work: string;
let repo: string;
let install: string;
const file = 'skiff-5.5-GA-from-5.4_linux-x86-64.upk';

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'uplift-fetch-expand-'));
  const keys = { root: generateKeyPair(), index: generateKeyPair(), packs: generateKeyPair() };
  const tree = (version: string, extra: Record<string, Buffer> = {}) =>
    writeReleaseTree(join(work, 'trees', version.replace(/ /g, '-')), version, {
      version: `${version}\n`,
      'lib/server.js': `// skiff ${version}\nsetInterval(() => {}, 1000);\n`,
      'conf/skiff.properties': 'http.port=8080\n',
      ...extra,
    });
  const from = tree('5.4 Patch 2');
  const to = tree('5.5 GA', { 'lib/zeros.bin': Buffer.alloc(expansionFloor + (1 << 20)) });
  const pack = join(work, file);
  await buildPack({
    fromTree: from,
    toTree: to,
    platform: 'linux-x86-64',
    delta: true,
    key: keys.packs.privateKey,
    out: pack,
    fromRange: '5.4 Patch 2',
  });
  await rm(join(work, 'trees'), { recursive: true, force: true });
  repo = join(work, 'repo');
  const expires = new Date(Date.now() + 7 * 86_400_000);
  await initRepository({
    dir: repo,
    rootKeys: [keys.root.privateKey],
    threshold: 1,
    indexKeys: [keys.index.privateKey],
    indexThreshold: 1,
    packKeys: [keys.packs.publicKey],
    rootExpires: expires,
    indexExpires: expires,
  });
  await addToRepository({ dir: repo, files: [pack], catalog: false, attributes: {} });
  await publishIndex({ dir: repo, indexKeys: [keys.index.privateKey], expires });
  ({ install } = await makeSkiffInstall({ version: '5.4 Patch 2' }));
}, 120_000);

afterAll(async () => {
  await cleanUp();
  await rm(work, { recursive: true, force: true });
});

const fetchInto = (out: string, extra: string[] = []) =>
  runCli(
    [
      'fetch',
      '--install',
      install,
      '--repo',
      repo,
      '--root',
      join(repo, '1.root.json'),
      '--out',
      out,
      '--no-progress',
      '--json',
      ...extra,
    ],
    { UPLIFT_STATE_DIR: join(work, 'state'), UPLIFT_CACHE_DIR: join(work, 'cache'), ...noProxyEnv },
  );

describe('uplift fetch --max-expand', () => {
  it('refuses a pack that expands beyond the default ratio, and keeps nothing of it', async () => {
    const out = join(work, 'default');

    const r = await fetchInto(out);

    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.json).toMatchObject({ error: { code: 'UPLIFT_PACK_EXPANSION' } });
    const kept = existsSync(out) ? await readdir(out) : [];
    expect(kept.filter((f) => f.endsWith('.upk'))).toEqual([]);
  }, 60_000);

  it('accepts it with a ratio raised on purpose, verified in full', async () => {
    const out = join(work, 'raised');

    const r = await fetchInto(out, ['--max-expand', '1000000']);

    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await readdir(out)).toContain(file);
  }, 60_000);

  it('refuses a ratio below 1 as bad input, before downloading', async () => {
    const out = join(work, 'bad');

    const r = await fetchInto(out, ['--max-expand', '0.5']);

    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ error: { code: 'UPLIFT_USAGE' } });
    expect(existsSync(join(out, file))).toBe(false);
  });
});
