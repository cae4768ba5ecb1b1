import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noProxyEnv, runCli, startCli } from '../util/http-cli.ts';
import { makeRepoFixture, type RepoFixture, skiffHops } from '../util/http-repo-fixture.ts';
import { type RepoServer, startRepoServer } from '../util/http-repo-server.ts';
import { cleanUp, makeSkiffInstall } from '../util/install-tree.ts';

/**
 * A fetch killed halfway (SIGKILL, a real `uplift fetch` process) resumes in a new process with a
 * Range request and ends with a verified pack identical to the one published.
 */

const platform = 'linux-x86-64';
const stallAt = 3 << 20;
let fx: RepoFixture;
let server: RepoServer;
let install: string;
let work: string;
let file: string;

beforeAll(async () => {
  const hop = skiffHops.find((h) => h.to === '5.5 GA');
  if (!hop) throw new Error('no 5.5 GA hop');
  fx = await makeRepoFixture({
    hops: [{ ...hop, bigFileBytes: 8 << 20 }],
    platforms: [platform],
  });
  file = fx.packs[platform]?.[0] as string;
  server = await startRepoServer(fx.repo);
  ({ install } = await makeSkiffInstall({ version: '5.4 Patch 2' }));
  work = await mkdtemp(join(tmpdir(), 'uplift-fetch-resume-'));
}, 60_000);

afterAll(async () => {
  await server.close();
  await fx.cleanUp();
  await cleanUp();
  await rm(work, { recursive: true, force: true });
});

async function sizeOf(path: string): Promise<number> {
  return (await stat(path).catch(() => undefined))?.size ?? -1;
}

describe('uplift fetch killed halfway', () => {
  it('resumes in a new process with a Range request and ends with the published pack', async () => {
    const out = join(work, 'packs');
    const published = await readFile(join(fx.repo, 'packs', file));
    expect(published.length).toBeGreaterThan(2 * stallAt);
    const args = ['fetch', '--install', install, '--repo', server.url, '--out', out, '--json'];
    const env = { ...noProxyEnv, UPLIFT_STATE_DIR: join(work, 'state') };
    server.faults = { stallAfterBytes: stallAt, path: `packs/${file}` };

    const first = startCli(
      [...args, '--root', join(fx.repo, 'root.json'), '--timeout', '60s'],
      env,
    );
    const part = join(out, `${file}.part`);
    for (let i = 0; i < 400 && (await sizeOf(part)) < stallAt; i++) await sleep(50);
    const heldBeforeKill = await sizeOf(part);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    const leftBehind = (await readdir(out)).sort();
    server.faults = {};
    server.requests.length = 0;
    const second = await runCli(args, env);

    expect(heldBeforeKill).toBe(stallAt);
    expect(killed.signal).toBe('SIGKILL');
    // The killed fetch's lock stays; the second fetch finds its holder dead and takes it over.
    expect(leftBehind).toEqual(['.uplift-fetch.lock', `${file}.part`, `${file}.part.json`]);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const packRequests = server.requests.filter((q) => q.path === `packs/${file}`);
    expect(packRequests).toEqual([
      expect.objectContaining({
        range: `bytes=${stallAt}-`,
        ifRange: expect.stringMatching(/^".+"$/),
        status: 206,
      }),
    ]);
    expect(second.json.packs).toEqual([
      expect.objectContaining({
        status: 'resumed',
        resumedFrom: stallAt,
        transferred: published.length - stallAt,
      }),
    ]);
    const fetched = await readFile(join(out, file));
    expect(createHash('sha256').update(fetched).digest('hex')).toBe(
      createHash('sha256').update(published).digest('hex'),
    );
    expect(await readdir(out)).toEqual([file]);
  });
});
