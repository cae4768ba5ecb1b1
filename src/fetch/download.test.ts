import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RepoServer, startRepoServer } from '../../test/util/http-repo-server.ts';
import { downloadFile, openRepository, type RepositorySource } from './index.ts';

const size = 1 << 20;
const content = randomBytes(size);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sha256 = sha(content);
const path = 'packs/a.upk';

let tmp: string;
let out: string;
let server: RepoServer;
let source: RepositorySource;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'uplift-download-'));
  await mkdir(join(tmp, 'repo/packs'), { recursive: true });
  await writeFile(join(tmp, 'repo', path), content);
  server = await startRepoServer(join(tmp, 'repo'));
});

afterAll(async () => {
  await server.close();
  await rm(tmp, { recursive: true, force: true });
});

beforeEach(async () => {
  out = await mkdtemp(join(tmp, 'out-'));
  server.faults = {};
  server.substitute.clear();
  server.requests.length = 0;
});

afterEach(async () => {
  await source?.close();
});

async function download(o: { timeoutMs?: number; retries?: number; file?: string } = {}) {
  source = await openRepository(server.url, { timeoutMs: o.timeoutMs ?? 5000, retries: 3 });
  return downloadFile({
    open: source.opener(o.file ?? path),
    from: `${server.url}${o.file ?? path}`,
    dest: join(out, 'a.upk'),
    size,
    sha256,
    retries: o.retries ?? 3,
    backoffMs: 20,
  });
}

describe('downloadFile over HTTP', () => {
  it('downloads, verifies, and does not download a complete file again', async () => {
    const first = await download();
    const again = await download();

    expect(first).toMatchObject({ status: 'downloaded', transferred: size, attempts: 1 });
    expect(sha(await readFile(join(out, 'a.upk')))).toBe(sha256);
    expect(again).toMatchObject({ status: 'cached', transferred: 0 });
    expect(server.requestsFor(path)).toHaveLength(1);
    expect(await readdir(out)).toEqual(['a.upk']);
  });

  it('retries with backoff on 503 and ends with the right hash', async () => {
    server.faults = { fail503Times: 2 };

    const r = await download();

    expect(r.attempts).toBe(3);
    expect(server.requestsFor(path).map((q) => q.status)).toEqual([503, 503, 200]);
    expect(
      createHash('sha256')
        .update(await readFile(r.file))
        .digest('hex'),
    ).toBe(sha256);
  });

  it('after a reset mid-body, asks only for the rest (Range + If-Range) and ends with the right hash', async () => {
    server.faults = { cutAfterBytes: 300_000, cutTimes: 1 };

    const r = await download();

    const reqs = server.requestsFor(path);
    expect(reqs).toHaveLength(2);
    expect(reqs[1]).toMatchObject({ status: 206, ifRange: expect.stringMatching(/^"/) });
    const from = Number(/bytes=(\d+)-/.exec(reqs[1]?.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(r.transferred).toBe(size);
    expect(sha(await readFile(r.file))).toBe(sha256);
  });

  it('times out on a stalled server within the timeout, keeping the part for a resume', async () => {
    server.faults = { stallAfterBytes: 200_000 };
    const started = Date.now();

    const err = await download({ timeoutMs: 400, retries: 0 }).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_FETCH_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await readdir(out)).sort()).toEqual(['a.upk.part', 'a.upk.part.json']);
  });

  it('times out on a server that trickles bytes (slowloris) though each byte comes within the idle limit', async () => {
    server.faults = { stallAfterBytes: 10, trickleMs: 50 };
    const started = Date.now();

    const err = await download({ timeoutMs: 500, retries: 0 }).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_FETCH_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('times out on a server that never answers', async () => {
    server.faults = { noHeaders: true };
    const started = Date.now();

    await expect(download({ timeoutMs: 400, retries: 1 })).rejects.toMatchObject({
      code: 'UPLIFT_FETCH_TIMEOUT',
    });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(server.requestsFor(path)).toHaveLength(2);
  });

  it('resumes a part left by an earlier run, and starts over when the server ignores Range', async () => {
    server.faults = { stallAfterBytes: 400_000 };
    await download({ timeoutMs: 300, retries: 0 }).catch(() => undefined);
    server.faults = {};
    const resumed = await download();
    await rm(join(out, 'a.upk'));
    server.faults = { stallAfterBytes: 400_000 };
    await download({ timeoutMs: 300, retries: 0 }).catch(() => undefined);
    server.faults = { ignoreRange: true };
    server.requests.length = 0;

    const full = await download();

    expect(resumed).toMatchObject({
      status: 'resumed',
      resumedFrom: 400_000,
      transferred: size - 400_000,
    });
    expect(full).toMatchObject({
      status: 'downloaded',
      resumedFrom: 400_000,
      restarts: 1,
      transferred: size,
    });
    expect(server.requests[0]).toMatchObject({ range: 'bytes=400000-', status: 200 });
    expect(sha(await readFile(full.file))).toBe(sha256);
  });

  it('refuses other content under the right name and leaves nothing in the output folder', async () => {
    server.substitute.set(path, randomBytes(size));

    await expect(download()).rejects.toMatchObject({ code: 'UPLIFT_FETCH_MISMATCH' });
    expect(await readdir(out)).toEqual([]);
  });

  it('refuses a file larger than the index lists without reading it', async () => {
    server.substitute.set(path, randomBytes(size * 4));

    await expect(download()).rejects.toMatchObject({ code: 'UPLIFT_FETCH_MISMATCH' });
    expect(await readdir(out)).toEqual([]);
  });

  it('does not retry a 404 and names the URL', async () => {
    const err = await download({ file: 'packs/missing.upk' }).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_FETCH_HTTP' });
    expect((err as Error).message).toContain(`${server.url}packs/missing.upk`);
    expect(server.requestsFor('packs/missing.upk')).toHaveLength(1);
  });
});

describe('downloadFile never writes outside its folder', () => {
  it.each(['a.upk.part', 'a.upk.part.json'])(
    'replaces a symlink planted at %s instead of following it',
    async (name) => {
      const victim = join(tmp, `victim-${name}`);
      await writeFile(victim, 'VICTIM\n');
      await symlink(victim, join(out, name));

      const r = await download();

      expect(await readFile(victim, 'utf8')).toBe('VICTIM\n');
      expect(sha(await readFile(r.file))).toBe(sha256);
      expect(await readdir(out)).toEqual(['a.upk']);
    },
  );

  it('does not write through a hard link to a file outside the folder', async () => {
    const victim = join(tmp, 'victim-hard');
    await writeFile(victim, 'VICTIM\n');
    spawnSync('ln', [victim, join(out, 'a.upk.part')]);

    await download();

    expect(await readFile(victim, 'utf8')).toBe('VICTIM\n');
  });

  it('refuses a folder at the .part path with a coded error, leaving it', async () => {
    await mkdir(join(out, 'a.upk.part'));

    await expect(download()).rejects.toMatchObject({ code: 'UPLIFT_PATH_UNWRITABLE' });
    expect((await lstat(join(out, 'a.upk.part'))).isDirectory()).toBe(true);
  });
});

/** A small tmpfs makes ENOSPC happen for real; mounting needs root (CI runs as root). */
const mountTmpfs = (dir: string, size: string) =>
  spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status === 0;
const probe = join(tmpdir(), `uplift-download-probe-${process.pid}`);
spawnSync('mkdir', ['-p', probe]);
const canMount = mountTmpfs(probe, '1m') && spawnSync('umount', [probe]).status === 0;

describe.runIf(canMount)('downloadFile onto a full disk', () => {
  it('says the disk is full at once, without retrying, and keeps what it received', async () => {
    const full = join(out, 'small');
    await mkdir(full);
    mountTmpfs(full, '256k');
    try {
      source = await openRepository(server.url, { timeoutMs: 5000, retries: 3 });

      const err = await downloadFile({
        open: source.opener(path),
        from: `${server.url}${path}`,
        dest: join(full, 'a.upk'),
        size,
        sha256,
        retries: 5,
        backoffMs: 20,
      }).catch((e: unknown) => e);

      expect(err).toMatchObject({ code: 'UPLIFT_NO_SPACE' });
      expect((err as Error).message).toContain('disk is full');
      expect(server.requestsFor(path)).toHaveLength(1);
    } finally {
      spawnSync('umount', [full]);
    }
  });
});

describe('downloadFile from a folder', () => {
  it('copies and verifies the same way', async () => {
    source = await openRepository(join(tmp, 'repo'), { timeoutMs: 1000, retries: 0 });

    const r = await downloadFile({
      open: source.opener(path),
      from: path,
      dest: join(out, 'a.upk'),
      size,
      sha256,
      retries: 0,
    });

    expect(r.status).toBe('downloaded');
    expect(sha(await readFile(r.file))).toBe(sha256);
  });
});
