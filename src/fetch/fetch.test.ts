import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepoFixture, type RepoFixture, skiffHops } from '../../test/util/http-repo-fixture.ts';
import { type RepoServer, startRepoServer } from '../../test/util/http-repo-server.ts';
import { cleanUp, makeSkiffInstall } from '../../test/util/install-tree.ts';
import { currentTime, rotateRoot } from '../repo/index.ts';
import { generateKeyPair } from '../signing/index.ts';
import { processStart, readBootId } from '../util/index.ts';
import { fetchLockOf, fetchPacks, formatDownloadProgress, redactUrl } from './index.ts';

let fx: RepoFixture;
let install: string;
let work: string;

beforeAll(async () => {
  fx = await makeRepoFixture({ hops: skiffHops.slice(-1), platforms: ['linux-x86-64'] });
  ({ install } = await makeSkiffInstall({ version: '5.4 Patch 2' }));
  work = await mkdtemp(join(tmpdir(), 'uplift-fetch-unit-'));
  process.env.UPLIFT_STATE_DIR = join(work, 'state');
}, 60_000);

afterAll(async () => {
  delete process.env.UPLIFT_STATE_DIR;
  await fx.cleanUp();
  await cleanUp();
  await rm(work, { recursive: true, force: true });
});

/** The installation's packs from the fixture's repository, into `out`. */
const fetchInto = (out: string) =>
  fetchPacks({
    install,
    to: 'latest',
    repo: fx.repo,
    root: join(fx.repo, '1.root.json'),
    out,
    timeoutMs: 5000,
    retries: 0,
  });

describe("fetch's lock on its folder", () => {
  const lockOf = (pid: number) =>
    `${JSON.stringify({
      pid,
      bootId: readBootId(),
      startedAt: new Date().toISOString(),
      processStart: processStart(pid),
      command: 'fetch',
    })}\n`;

  it('refuses with exit 4 while another live fetch holds the folder, and downloads nothing', async () => {
    const out = join(work, 'held');
    await mkdir(out);
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await writeFile(fetchLockOf(out), lockOf(other.pid as number));

      const err = await fetchInto(out).catch((e: unknown) => e);

      expect(err).toMatchObject({
        code: 'UPLIFT_FETCH_LOCKED',
        exitCode: 4,
        message: expect.stringContaining(`pid ${other.pid}`),
      });
      expect(await readdir(out)).toEqual(['.uplift-fetch.lock']);
    } finally {
      other.kill();
    }
  });

  it('takes over the lock of a fetch that died, downloads, and releases the lock', async () => {
    const out = join(work, 'stale');
    await mkdir(out);
    const dead = spawnSync('true').pid as number;
    await writeFile(fetchLockOf(out), lockOf(dead));

    const r = await fetchInto(out);

    expect(r.packs.map((p) => p.status)).toEqual(['downloaded']);
    expect(await readdir(out)).toEqual([basename(r.packs[0]?.file as string)]);
  });
});

describe('fetchPacks should error with a code and not write if', () => {
  const fetchWith = (o: { out: string; repo?: string; root?: string }) =>
    fetchPacks({
      install,
      to: 'latest',
      repo: o.repo ?? fx.repo,
      root: o.root ?? join(fx.repo, '1.root.json'),
      out: o.out,
      timeoutMs: 5000,
      retries: 0,
    });

  it('--out is an existing regular file', async () => {
    const out = join(work, 'out-file');
    await writeFile(out, 'mine\n');

    await expect(fetchWith({ out })).rejects.toMatchObject({
      code: 'UPLIFT_PATH_UNWRITABLE',
      exitCode: 2,
    });
    expect(await readFile(out, 'utf8')).toBe('mine\n');
  });

  it('--repo is a regular file (it exists: not "does not exist")', async () => {
    const repo = join(work, 'repo-file');
    await writeFile(repo, 'x');

    const err = await fetchWith({ out: join(work, 'o1'), repo }).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_FILE_UNREADABLE', exitCode: 2 });
    expect((err as Error).message).not.toContain('does not exist');
  });

  it('--root is a folder', async () => {
    const err = await fetchWith({ out: join(work, 'o2'), root: fx.repo }).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_FILE_UNREADABLE', exitCode: 2 });
    expect((err as Error).message).not.toContain('does not exist');
  });
});

describe('fetchPacks', () => {
  it('removes a downloaded pack that the repository pack keys did not sign', async () => {
    const out = join(work, 'untrusted');
    await rotateRoot({
      dir: fx.repo,
      signers: [fx.keys.root.privateKey],
      addRootKeys: [],
      removeRootKeys: [],
      packKeys: [generateKeyPair().publicKey],
      expires: new Date(currentTime().getTime() + 86_400_000),
    });

    const err = await fetchInto(out).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_PACK_KEY_UNTRUSTED' });
    // fetch has no --trust option: the hint must not send the operator to one.
    expect((err as { hint: string }).hint).not.toContain('--trust');
    expect(await readdir(out)).toEqual([]);
  });

  it('never shows the credentials of a repository URL', async () => {
    const server: RepoServer = await startRepoServer(fx.repo, { prefix: '/private/' });
    const url = `http://operator:s3cret@127.0.0.1:${server.port}/wrong/`;

    const err = await fetchPacks({
      install,
      to: 'latest',
      repo: url,
      root: join(fx.repo, '1.root.json'),
      out: join(work, 'creds'),
      timeoutMs: 2000,
      retries: 0,
    }).catch((e: unknown) => e);
    await server.close();

    expect(err).toMatchObject({ code: 'UPLIFT_REPO_INVALID' });
    expect(JSON.stringify(err)).not.toContain('s3cret');
    expect((err as Error).message).toContain(`http://***:***@127.0.0.1:${server.port}/wrong/`);
    expect(redactUrl(url)).toBe(`http://***:***@127.0.0.1:${server.port}/wrong/`);
  });
});

describe('formatDownloadProgress', () => {
  it('shows bytes, total, percent, rate and time left', () => {
    const line = formatDownloadProgress({
      file: 'a.upk',
      bytes: 3 << 20,
      total: 4 << 20,
      resumedFrom: 1 << 20,
      transferred: 2 << 20,
      elapsedMs: 2000,
      done: false,
    });

    expect(line).toBe(
      'a.upk [###############-----] 75% 3.0 MiB/4.0 MiB 1.0 MiB/s ETA 1 s (resumed at 1.0 MiB)',
    );
  });
});
