import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noProxyEnv, runCli } from '../util/http-cli.ts';
import { makeRepoFixture, type RepoFixture, skiffHops } from '../util/http-repo-fixture.ts';
import { cleanUp, makeSkiffInstall } from '../util/install-tree.ts';
import { repoRoot } from '../util/run-cli.ts';
import { hashTree } from '../util/tree-hash.ts';

/** `uplift repo init|add|publish|rotate` through the real CLI, and a client that follows them. */

let work: string;
let repo: string;
let fx: RepoFixture;
const env = () => ({ ...noProxyEnv, UPLIFT_STATE_DIR: join(work, 'state') });
const uplift = (...args: string[]) => runCli(args, env());
const key = (name: string, ext = 'key') => join(work, 'keys', `${name}.${ext}`);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'uplift-repo-cli-'));
  repo = join(work, 'repo');
  // Real packs to add: the fixture builds them; this test publishes them itself.
  fx = await makeRepoFixture({ hops: skiffHops.slice(-1), platforms: ['linux-x86-64'] });
  await mkdir(join(work, 'keys'));
  for (const name of ['root1', 'root2', 'root3', 'index', 'packs'])
    expect((await uplift('keys', 'generate', '--out', join(work, 'keys', name))).code).toBe(0);
}, 60_000);

afterAll(async () => {
  await fx.cleanUp();
  await cleanUp();
  await rm(work, { recursive: true, force: true });
});

describe('uplift repo', () => {
  it('init, add, publish and rotate make a repository a client follows through the rotation', async () => {
    const pack = join(fx.root, 'built', fx.packs['linux-x86-64']?.[0] as string);
    const catalog = join(repoRoot, 'profiles/skiff/catalog.yaml');

    const init = await uplift(
      'repo',
      'init',
      repo,
      '--root-key',
      key('root1'),
      '--root-key',
      key('root2'),
      '--threshold',
      '2',
      '--index-key',
      key('index'),
      '--pack-key',
      key('packs', 'pub'),
      '--json',
    );
    const add = await uplift('repo', 'add', repo, pack, '--json');
    const addCatalog = await uplift('repo', 'add', repo, catalog, '--catalog', '--json');
    const publish = await uplift('repo', 'publish', repo, '--index-key', key('index'), '--json');
    await cp(join(repo, 'root.json'), join(work, 'root-v1.json'));
    const rotate = await uplift(
      'repo',
      'rotate',
      repo,
      '--sign',
      key('root1'),
      '--sign',
      key('root2'),
      '--sign',
      key('root3'),
      '--add-root-key',
      key('root3', 'pub'),
      '--remove-root-key',
      key('root2', 'pub'),
      '--json',
    );
    const { install } = await makeSkiffInstall({ version: '5.5 GA' });
    const fetch = await uplift(
      'fetch',
      '--install',
      install,
      '--repo',
      repo,
      '--root',
      join(work, 'root-v1.json'),
      '--out',
      join(work, 'packs'),
      '--json',
    );

    expect(init.code).toBe(0);
    expect(init.json).toMatchObject({ root: { version: 1 }, index: { version: 1 } });
    expect(add.json).toMatchObject({ added: [{ status: 'added' }] });
    expect(addCatalog.code).toBe(0);
    expect(publish.code).toBe(0);
    expect(publish.json).toMatchObject({
      version: 2,
      previousVersion: 1,
      packs: [
        {
          path: `packs/${fx.packs['linux-x86-64']?.[0]}`,
          platform: 'linux-x86-64',
          product: 'skiff',
          from: '5.4 Patch 2',
          to: '5.5 GA',
          kind: 'delta',
        },
      ],
      catalogs: [{ path: 'catalogs/catalog.yaml', product: 'skiff' }],
    });
    expect(rotate.code).toBe(0);
    expect(rotate.json).toMatchObject({ version: 2, thresholds: { root: 2 } });
    expect(JSON.parse(await readFile(join(repo, '2.root.json'), 'utf8'))).toEqual(
      JSON.parse(await readFile(join(repo, 'root.json'), 'utf8')),
    );
    expect(fetch.stderr).toBe('');
    expect(fetch.json).toMatchObject({
      root: { version: 2, rotations: [2] },
      index: { version: 2 },
      packs: [],
    });
  });

  describe('should error and not write if', () => {
    it.each([
      [
        'init runs on a repository',
        'UPLIFT_REPO_EXISTS',
        2,
        () => [
          'repo',
          'init',
          repo,
          '--root-key',
          key('root3'),
          '--index-key',
          key('index'),
          '--pack-key',
          key('packs', 'pub'),
        ],
      ],
      [
        'rotate lacks a threshold of the current root keys',
        'UPLIFT_REPO_SIGNATURE_THRESHOLD',
        3,
        () => ['repo', 'rotate', repo, '--sign', key('root1'), '--threshold', '1'],
      ],
      [
        'publish signs with a key the root does not list for the index',
        'UPLIFT_REPO_NOT_TRUSTED',
        2,
        () => ['repo', 'publish', repo, '--index-key', key('root1')],
      ],
      [
        'add meets a file that is not a pack',
        'UPLIFT_PACK_NOT_A_PACK',
        1,
        () => ['repo', 'add', repo, join(work, 'garbage.upk')],
      ],
      [
        'publish gets a bad expiry',
        'UPLIFT_USAGE',
        2,
        () => ['repo', 'publish', repo, '--index-key', key('index'), '--expires', 'soon'],
      ],
    ] as const)('%s', async (_name, code, exit, args) => {
      await writeFile(join(work, 'garbage.upk'), 'not a pack');
      const before = (await hashTree(repo)).records;

      const r = await uplift(...args(), '--json');

      expect(r.json).toMatchObject({ error: { code } });
      expect(r.code).toBe(exit);
      expect((await hashTree(repo)).records).toEqual(before);
    });
  });
});
