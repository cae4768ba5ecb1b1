import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RepoServer, startRepoServer } from '../../test/util/http-repo-server.ts';
import { contentHash } from '../plan/index.ts';
import { canonicalBytes, initRepository, publishIndex } from '../repo/index.ts';
import { generateKeyPair, type KeyPair } from '../signing/index.ts';
import { fetchPacks } from './index.ts';

/**
 * Replay protection belongs to the repository (its root keys), not to the text of its address:
 * the same repository reached by another spelling of its URL, or moved to another address, still
 * refuses an index older than the highest version seen; an address that starts serving another
 * repository's root is refused until the operator re-initialises trust.
 */

let work: string;
let planFile: string;
let served: string;
let server: RepoServer;
let moved: RepoServer;
let state: string;

interface Repo {
  dir: string;
  root: string;
  index: KeyPair;
  v1: Buffer;
}

async function makeRepo(name: string): Promise<Repo> {
  const dir = join(work, name);
  const index = generateKeyPair();
  const expires = new Date(Date.now() + 86_400_000);
  await initRepository({
    dir,
    rootKeys: [generateKeyPair().privateKey],
    threshold: 1,
    indexKeys: [index.privateKey],
    indexThreshold: 1,
    packKeys: [generateKeyPair().publicKey],
    rootExpires: expires,
    indexExpires: expires,
  });
  return {
    dir,
    root: join(dir, '1.root.json'),
    index,
    v1: await readFile(join(dir, 'index.json')),
  };
}

async function publish(r: Repo): Promise<void> {
  await publishIndex({
    dir: r.dir,
    indexKeys: [r.index.privateKey],
    expires: new Date(Date.now() + 86_400_000),
  });
}

/** Makes the served folder a copy of `r`, optionally with an older index (a replay). */
async function serve(r: Repo, index?: Buffer): Promise<void> {
  await rm(served, { recursive: true, force: true });
  await cp(r.dir, served, { recursive: true });
  if (index) await writeFile(join(served, 'index.json'), index);
}

const fetchFrom = (repo: string, o: { root?: string; resetTrust?: boolean } = {}) =>
  fetchPacks({
    planFile,
    repo,
    root: o.root,
    out: join(work, 'out'),
    timeoutMs: 5000,
    retries: 0,
    ...(o.resetTrust ? { resetTrust: true } : {}),
  });

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'uplift-trust-id-'));
  served = join(work, 'served');
  await mkdir(served);
  // A plan with no pack to fetch: only the repository's metadata is read.
  const plan = {
    product: 'skiff',
    from: '5.5 GA',
    to: '5.5 GA',
    facts: { platform: 'linux-x86-64' },
    steps: [],
  };
  planFile = join(work, 'plan.json');
  await writeFile(planFile, JSON.stringify({ ...plan, hash: contentHash(plan) }));
  server = await startRepoServer(served);
  moved = await startRepoServer(served);
});

afterAll(async () => {
  await server.close();
  await moved.close();
  await rm(work, { recursive: true, force: true });
});

beforeEach(() => {
  state = join(work, `state-${Math.random().toString(36).slice(2)}`);
  process.env.UPLIFT_STATE_DIR = state;
});

afterEach(() => {
  delete process.env.UPLIFT_STATE_DIR;
});

describe('replay protection is keyed by the root keys, not the address', () => {
  it.each([
    ['with a query string', (u: string) => `${u}?mirror=1`],
    ['without the final slash', (u: string) => u.replace(/\/$/, '')],
  ])('refuses an older index reached %s', async (_how, respell) => {
    const r = await makeRepo(`repo-${Math.random().toString(36).slice(2)}`);
    await publish(r);
    await serve(r);
    expect((await fetchFrom(server.url, { root: r.root })).index.version).toBe(2);
    await serve(r, r.v1);

    const err = await fetchFrom(respell(server.url), { root: r.root }).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_REPO_ROLLBACK' });
  });

  it('keeps the history of a repository moved to another address, with or without --root', async () => {
    const r = await makeRepo('repo-moved');
    await publish(r);
    await serve(r);
    await fetchFrom(server.url, { root: r.root });
    await serve(r, r.v1);

    const withRoot = await fetchFrom(moved.url, { root: r.root }).catch((e: unknown) => e);
    const withoutRoot = await fetchFrom(moved.url).catch((e: unknown) => e);

    expect(withRoot).toMatchObject({ code: 'UPLIFT_REPO_ROLLBACK' });
    expect(withoutRoot).toMatchObject({ code: 'UPLIFT_REPO_ROLLBACK' });
  });

  it('refuses an address that serves another root until trust is re-initialised', async () => {
    const a = await makeRepo('repo-a');
    const b = await makeRepo('repo-b');
    await serve(a);
    await fetchFrom(server.url, { root: a.root });
    await serve(b);

    const without = await fetchFrom(server.url).catch((e: unknown) => e);
    const otherRoot = await fetchFrom(server.url, { root: b.root }).catch((e: unknown) => e);

    expect(without).toMatchObject({ code: 'UPLIFT_REPO_ROOT_CHANGED' });
    expect(otherRoot).toMatchObject({ code: 'UPLIFT_REPO_ROOT_CHANGED' });
    expect((await fetchFrom(server.url, { root: b.root, resetTrust: true })).index.status).toBe(
      'first',
    );
    expect((await fetchFrom(server.url)).index.status).toBe('unchanged');
  });

  it('reads client state an older uplift kept under the address, and keeps its history', async () => {
    const r = await makeRepo('repo-legacy');
    await publish(r);
    await serve(r);
    // The layout before: repos/<first 16 hex of SHA-256 of the address>/.
    const legacy = join(
      state,
      'repos',
      createHash('sha256').update(server.url).digest('hex').slice(0, 16),
    );
    await mkdir(legacy, { recursive: true });
    await writeFile(join(legacy, 'trusted-root.json'), await readFile(r.root));
    const seen2 = JSON.parse(await readFile(join(r.dir, 'index.json'), 'utf8'));
    await writeFile(
      join(legacy, 'seen.json'),
      JSON.stringify({
        repository: server.url,
        indexVersion: 2,
        indexSha256: createHash('sha256').update(canonicalBytes(seen2.signed)).digest('hex'),
        seenAt: new Date().toISOString(),
        rootVersion: 1,
        indexRole: `${seen2.signatures[0].keyid}/1`,
      }),
    );
    await serve(r, r.v1);

    const sameAddress = await fetchFrom(server.url).catch((e: unknown) => e);
    const otherSpelling = await fetchFrom(`${server.url}?x`, { root: r.root }).catch(
      (e: unknown) => e,
    );

    expect(sameAddress).toMatchObject({ code: 'UPLIFT_REPO_ROLLBACK' });
    expect(otherSpelling).toMatchObject({ code: 'UPLIFT_REPO_ROLLBACK' });
    expect((await readdir(join(state, 'repos'))).sort()).toEqual(
      expect.arrayContaining(['by-address', 'by-root', basename(legacy)]),
    );
    expect((await readdir(join(state, 'repos'))).some((n) => n.startsWith('root-'))).toBe(true);
  });

  it('refuses a --root of another known repository at a bound address, and --reset-trust keeps that repository its history', async () => {
    const a = await makeRepo('repo-known-a');
    const b = await makeRepo('repo-known-b');
    await publish(a);
    await serve(a);
    await fetchFrom(server.url, { root: a.root });
    await serve(b);
    await fetchFrom(moved.url, { root: b.root });
    await serve(a, a.v1);

    const refused = await fetchFrom(moved.url, { root: a.root }).catch((e: unknown) => e);
    const reset = await fetchFrom(moved.url, { root: a.root, resetTrust: true }).catch(
      (e: unknown) => e,
    );

    expect(refused).toMatchObject({ code: 'UPLIFT_REPO_ROOT_CHANGED' });
    expect(reset).toMatchObject({ code: 'UPLIFT_REPO_ROLLBACK' });
  });
});
