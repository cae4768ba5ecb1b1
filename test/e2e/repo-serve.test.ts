import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AsyncCliRun, noProxyEnv, runCli, startCli } from '../util/http-cli.ts';
import { makeRepoFixture, type RepoFixture, skiffHops } from '../util/http-repo-fixture.ts';
import { cleanUp, makeSkiffInstall } from '../util/install-tree.ts';

/**
 * `uplift repo serve`: the built CLI serves a real repository on a loopback port; `uplift fetch`
 * downloads and verifies packs from it; nothing outside the folder, no listing, no dot files.
 */

let fx: RepoFixture;
let work: string;
let install: string;
let secret: string;
let server: { child: ReturnType<typeof startCli>['child']; done: Promise<AsyncCliRun> };
let url: string;
const pidFile = () => join(work, 'serve.pid');

beforeAll(async () => {
  fx = await makeRepoFixture({ hops: skiffHops.slice(-2), platforms: ['linux-x86-64'] });
  work = await mkdtemp(join(tmpdir(), 'uplift-repo-serve-'));
  secret = join(work, 'secret.txt');
  await writeFile(secret, 'not for the network\n');
  await symlink(secret, join(fx.repo, 'packs', 'escape.upk'));
  ({ install } = await makeSkiffInstall({ version: '5.4 GA' }));
  server = startCli(['repo', 'serve', fx.repo, '--pid-file', pidFile()], noProxyEnv);
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.child.stdout?.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    server.done.then((r) => reject(new Error(`repo serve exited: ${r.stdout}${r.stderr}`)), reject);
  });
}, 60_000);

afterAll(async () => {
  server.child.kill('SIGKILL');
  await fx.cleanUp();
  await cleanUp();
  await rm(work, { recursive: true, force: true });
});

/** One raw HTTP/1.1 request, the path sent byte for byte (no client-side normalising). */
function raw(
  path: string,
  method = 'GET',
  headers = '',
): Promise<{ status: number; head: string; body: Buffer }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split).toString('latin1');
      resolve({ status: Number(head.split(' ')[1]), head, body: all.subarray(split + 4) });
    });
    s.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}\r\n`);
  });
}

const headerOf = (head: string, name: string) =>
  new RegExp(`^${name}: (.*)$`, 'mi').exec(head)?.[1]?.trim();

describe('uplift repo serve', () => {
  it('listens on 127.0.0.1, writes its pid, and serves files with their exact length', async () => {
    const file = join(fx.repo, 'root.json');
    const pack = fx.packs['linux-x86-64']?.[0] as string;

    const root = await raw('/root.json');
    const head = await raw(`/packs/${pack}`, 'HEAD');
    const part = await raw(`/packs/${pack}`, 'GET', 'Range: bytes=10-19\r\n');

    expect(new URL(url).hostname).toBe('127.0.0.1');
    expect(readFileSync(pidFile(), 'utf8').trim()).toBe(String(server.child.pid));
    expect(root.status).toBe(200);
    expect(root.body.equals(readFileSync(file))).toBe(true);
    expect(Number(headerOf(root.head, 'content-length'))).toBe((await stat(file)).size);
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(headerOf(head.head, 'content-length'))).toBe(
      (await stat(join(fx.repo, 'packs', pack))).size,
    );
    expect(part.status).toBe(206);
    expect(part.body.equals(readFileSync(join(fx.repo, 'packs', pack)).subarray(10, 20))).toBe(
      true,
    );
  });

  it.each([
    ['/../secret.txt'],
    ['/packs/../../secret.txt'],
    ['/%2e%2e/secret.txt'],
    ['/packs/..%2f..%2fsecret.txt'],
    ['/packs/escape.upk'],
    ['/.uplift/attributes.json'],
    ['/'],
    ['/packs/'],
    ['/packs'],
    ['/no-such-file.json'],
  ])('refuses %s with 404 and never shows what lies outside or a listing', async (path) => {
    const r = await raw(path);

    expect(r.status).toBe(404);
    expect(r.body.toString()).not.toContain('not for the network');
    expect(r.body.toString()).not.toContain('.upk');
  });

  it('refuses to write: PUT and DELETE get 405', async () => {
    expect((await raw('/root.json', 'PUT', 'Content-Length: 0\r\n')).status).toBe(405);
    expect((await raw('/root.json', 'DELETE')).status).toBe(405);
  });

  it('is a repository uplift fetch downloads and verifies from, end to end', async () => {
    const out = join(work, 'packs');

    const r = await runCli(
      ['fetch', '--install', install, '--repo', url, '--root', join(fx.repo, '1.root.json')].concat(
        ['--out', out, '--no-progress', '--json'],
      ),
      {
        UPLIFT_STATE_DIR: join(work, 'state'),
        UPLIFT_CACHE_DIR: join(work, 'cache'),
        ...noProxyEnv,
      },
    );

    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual([...(fx.packs['linux-x86-64'] ?? [])].sort());
  }, 60_000);

  it('stops on SIGTERM with exit 0 and removes its pid file', async () => {
    server.child.kill('SIGTERM');

    const r = await server.done;

    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Stopped serving');
    expect(existsSync(pidFile())).toBe(false);
  });
});

describe('uplift repo serve --background', () => {
  it('prints the URL alone once it listens, keeps serving after it returns, and stops on kill', async () => {
    const pid = join(work, 'bg.pid');

    const r = await runCli(
      ['repo', 'serve', fx.repo, '--background', '--pid-file', pid],
      noProxyEnv,
    );

    expect(r.code, r.stderr).toBe(0);
    const served = r.stdout.trim();
    expect(served).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await fetch(`${served}index.json`);
    expect(res.status).toBe(200);
    expect(
      Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(fx.repo, 'index.json'))),
    ).toBe(true);
    const serverPid = Number(readFileSync(pid, 'utf8'));
    process.kill(serverPid, 'SIGTERM');
    for (let i = 0; i < 100 && existsSync(pid); i++) await new Promise((ok) => setTimeout(ok, 50));
    expect(existsSync(pid)).toBe(false);
    await expect(fetch(`${served}index.json`)).rejects.toThrow();
  }, 30_000);

  it('reports a folder that is not a repository as bad input, with no server left running', async () => {
    const r = await runCli(['repo', 'serve', work, '--background', '--json'], noProxyEnv);

    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ error: { code: 'UPLIFT_REPO_INVALID' } });
  });
});
