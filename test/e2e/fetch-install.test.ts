import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { publishIndex } from '../../src/repo/index.ts';
import { noProxyEnv, runCli } from '../util/http-cli.ts';
import { startProxy, type TestProxy } from '../util/http-proxy.ts';
import { makeRepoFixture, type RepoFixture, skiffHops } from '../util/http-repo-fixture.ts';
import { type RepoServer, startRepoServer } from '../util/http-repo-server.ts';
import { cleanUp, makeSkiffInstall } from '../util/install-tree.ts';
import { cliPath, faultsCliPath, repoRoot } from '../util/run-cli.ts';

/**
 * `uplift fetch --install` on a real skiff installation (5.3.0 Patch 1, six hops to 5.5 GA) from
 * a repository of real signed packs for two platforms, served over HTTP on 127.0.0.1.
 */

let fx: RepoFixture;
let server: RepoServer;
let proxy: TestProxy;
let install: string;
let work: string;
let state: string;
let out: string;
const platform = 'linux-x86-64';

function fetchCli(args: string[], env: Record<string, string | undefined> = {}, entry = cliPath) {
  return runCli(
    ['fetch', '--install', install, '--repo', server.url, '--out', out, ...args],
    {
      UPLIFT_STATE_DIR: state,
      UPLIFT_CACHE_DIR: join(work, 'cache'),
      UPLIFT_FETCH_BACKOFF_MS: '20',
      ...noProxyEnv,
      ...env,
    },
    entry,
  );
}

const packRequests = () => server.requests.filter((q) => q.path.startsWith('packs/'));

beforeAll(async () => {
  fx = await makeRepoFixture({ hops: skiffHops, platforms: [platform, 'linux-arm64'] });
  server = await startRepoServer(fx.repo);
  proxy = await startProxy();
  ({ install } = await makeSkiffInstall({ version: '5.3.0 Patch 1' }));
}, 60_000);

afterAll(async () => {
  await server.close();
  await proxy.close();
  await fx.cleanUp();
  await cleanUp();
  await rm(work, { recursive: true, force: true });
});

beforeEach(async () => {
  if (work) await rm(work, { recursive: true, force: true });
  work = await mkdtemp(join(tmpdir(), 'uplift-fetch-'));
  state = join(work, 'state');
  out = join(work, 'packs');
  server.requests.length = 0;
  server.faults = {};
  proxy.relayed.length = 0;
});

describe('uplift fetch --install', () => {
  it('downloads exactly the packs the plan needs for the platform, verified, and nothing else', async () => {
    const root = join(fx.repo, 'root.json');

    const first = await fetchCli(['--root', root, '--json']);
    const again = await fetchCli(['--json']);

    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const wanted = fx.packs[platform] as string[];
    expect(wanted).toHaveLength(6);
    expect(packRequests().map((q) => q.path)).toEqual(wanted.map((f) => `packs/${f}`));
    expect((await readdir(out)).sort()).toEqual([...wanted].sort());
    for (const f of wanted)
      expect(
        createHash('sha256')
          .update(await readFile(join(out, f)))
          .digest('hex'),
      ).toBe(
        createHash('sha256')
          .update(await readFile(join(fx.repo, 'packs', f)))
          .digest('hex'),
      );
    const packs = first.json.packs as { status: string; checks: string[] }[];
    expect(packs.map((p) => p.status)).toEqual(Array(6).fill('downloaded'));
    expect(packs[0]?.checks.join()).toMatch(/pack signature/);
    expect(first.json).toMatchObject({ platform, from: '5.3.0 Patch 1', to: '5.5 GA' });
    expect(again.code).toBe(0);
    expect(again.json).toMatchObject({ index: { status: 'unchanged' } });
    expect((again.json.packs as { status: string }[]).map((p) => p.status)).toEqual(
      Array(6).fill('cached'),
    );
    expect(packRequests()).toHaveLength(6);
  });

  it('gives up on index.json sent one byte a second within --timeout (metadata has the minimum rate too)', async () => {
    server.faults = { stallAfterBytes: 0, trickleMs: 1000, path: 'index.json' };
    const started = Date.now();

    const r = await fetchCli([
      '--root',
      join(fx.repo, '1.root.json'),
      '--timeout',
      '2s',
      '--retries',
      '0',
      '--json',
    ]);

    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ error: { code: 'UPLIFT_FETCH_TIMEOUT' } });
    const message = String((r.json.error as { message?: string } | undefined)?.message);
    expect(message).toContain(`${server.url}index.json`);
    expect(message).toMatch(/minimum rate of 1024 bytes\/s.*deadline/);
    // 2 s, plus the CLI's start on a loaded 2-core machine.
    expect(Date.now() - started).toBeLessThan(9000);
    expect(packRequests()).toHaveLength(0);
  });

  it('needs a root for the first use', async () => {
    const r = await fetchCli(['--json']);

    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ error: { code: 'UPLIFT_REPO_NOT_TRUSTED' } });
    expect(packRequests()).toHaveLength(0);
  });

  it('fetches from a saved plan, and refuses a plan edited after it was made', async () => {
    const planFile = join(work, 'plan.json');
    const plan = spawnSync(
      process.execPath,
      [cliPath, 'plan', '--install', install, '--json', '--out', planFile],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(plan.status).toBe(0);

    const ok = await fetchCli([
      '--plan',
      planFile,
      '--root',
      join(fx.repo, 'root.json'),
      '--json',
      '--progress',
    ]);
    const edited = JSON.parse(await readFile(planFile, 'utf8'));
    edited.steps[0].pack.file = 'other.upk';
    await writeFile(planFile, JSON.stringify(edited));
    const refused = await fetchCli(['--plan', planFile, '--json']);

    expect(ok.code).toBe(0);
    expect((ok.json.packs as unknown[]).length).toBe(6);
    expect(ok.stderr.match(/ 100% .* done in /g)).toHaveLength(6);
    expect(ok.stderr).toMatch(
      /^skiff-5\.5-GA-from-5\.4_linux-x86-64\.upk \[#{20}\] 100% .* done in/m,
    );
    expect(refused.code).toBe(2);
    expect(refused.json).toMatchObject({ error: { code: 'UPLIFT_FETCH_PLAN_INVALID' } });
  });

  it('goes through HTTP_PROXY, and not when NO_PROXY names the host', async () => {
    const root = join(fx.repo, 'root.json');

    const proxied = await fetchCli(['--root', root, '--json'], { HTTP_PROXY: proxy.url });
    const viaProxy = [...proxy.relayed];
    proxy.relayed.length = 0;
    const direct = await fetchCli(['--json'], { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });

    expect(proxied.code).toBe(0);
    expect(viaProxy.length).toBeGreaterThan(0);
    expect(viaProxy.every((r) => r.includes(`127.0.0.1:${server.port}`))).toBe(true);
    expect(direct.code).toBe(0);
    expect(proxy.relayed).toEqual([]);
  });

  it('refuses replayed and expired metadata, and downloads nothing then', async () => {
    const root = join(fx.repo, 'root.json');
    const v2 = await readFile(join(fx.repo, 'index.json'));
    expect((await fetchCli(['--root', root, '--json'])).code).toBe(0);
    await publishIndex({
      dir: fx.repo,
      indexKeys: [fx.keys.index.privateKey],
      expires: new Date(Date.now() + 86_400_000),
    });
    expect((await fetchCli(['--json'])).json).toMatchObject({
      index: { status: 'updated', version: 3 },
    });
    await rm(out, { recursive: true });
    const newer = await readFile(join(fx.repo, 'index.json'));
    await writeFile(join(fx.repo, 'index.json'), v2);
    server.requests.length = 0;

    const replay = await fetchCli(['--json']);
    await writeFile(join(fx.repo, 'index.json'), newer);
    const expired = await fetchCli(
      ['--json'],
      { UPLIFT_TEST_NOW: new Date(Date.now() + 2 * 86_400_000).toISOString() },
      faultsCliPath,
    );

    expect(replay.code).toBe(3);
    expect(replay.json).toMatchObject({ error: { code: 'UPLIFT_REPO_ROLLBACK' } });
    expect(expired.code).toBe(3);
    expect(expired.json).toMatchObject({ error: { code: 'UPLIFT_REPO_EXPIRED' } });
    expect(packRequests()).toHaveLength(0);
  });

  it('names the step whose pack the index does not list, before downloading anything', async () => {
    const copy = join(work, 'repo');
    await cp(fx.repo, copy, { recursive: true });
    await rm(join(copy, 'packs', fx.packs[platform]?.[3] as string));
    await publishIndex({
      dir: copy,
      indexKeys: [fx.keys.index.privateKey],
      expires: new Date(Date.now() + 86_400_000),
    });

    const r = spawnSync(
      process.execPath,
      [
        cliPath,
        'fetch',
        '--install',
        install,
        '--repo',
        copy,
        '--root',
        join(copy, 'root.json'),
        '--out',
        out,
        '--json',
      ],
      { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, UPLIFT_STATE_DIR: state } },
    );

    expect(r.status).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({
      error: { code: 'UPLIFT_FETCH_NOT_IN_INDEX', message: expect.stringContaining('step 4') },
    });
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });
});
