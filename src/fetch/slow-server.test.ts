import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RepoServer, startRepoServer } from '../../test/util/http-repo-server.ts';
import { initRepository } from '../repo/index.ts';
import { generateKeyPair } from '../signing/index.ts';
import { downloadFile, openRepository, type RepositorySource } from './index.ts';

/**
 * Reliability C.6.1, for every kind of request uplift makes: a loopback server that sends one
 * byte a second (each byte well within any idle limit) is cut off by the minimum rate and the
 * deadline within `--timeout` plus a little slack, with a coded error naming the URL, the rate and
 * the deadline. Before, metadata read this way never ended.
 */
const timeoutMs = 2000;
const slackMs = 1500;

let tmp: string;
let server: RepoServer;
let source: RepositorySource | undefined;
const files: Record<string, Buffer> = {
  'packs/a.upk': Buffer.alloc(64 << 10, 7),
  'packs/SecureTransport_5.5-from-5.4_linux-x86-64_BN1.zip': Buffer.alloc(64 << 10, 9),
};

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'uplift-slow-'));
  const repo = join(tmp, 'repo');
  const expires = new Date(Date.now() + 86_400_000);
  const index = generateKeyPair();
  await initRepository({
    dir: repo,
    rootKeys: [generateKeyPair().privateKey],
    threshold: 1,
    indexKeys: [index.privateKey],
    indexThreshold: 1,
    packKeys: [generateKeyPair().publicKey],
    rootExpires: expires,
    indexExpires: expires,
  });
  await mkdir(join(repo, 'packs'), { recursive: true });
  for (const [p, b] of Object.entries(files)) await writeFile(join(repo, p), b);
  // A second root version, so the rotation walk (<N>.root.json) has a file to read.
  await writeFile(join(repo, '2.root.json'), await readFile(join(repo, 'root.json')));
  server = await startRepoServer(repo);
});

afterAll(async () => {
  await server.close();
  await rm(tmp, { recursive: true, force: true });
});

afterEach(async () => {
  await source?.close();
  source = undefined;
  server.faults = {};
});

async function timed(run: () => Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const t = Date.now();
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  return { err, ms: Date.now() - t };
}

function expectCutOff(r: { err: unknown; ms: number }, path: string) {
  expect(r.err).toMatchObject({ code: 'UPLIFT_FETCH_TIMEOUT' });
  const message = (r.err as Error).message;
  expect(message).toContain(`${server.url}${path}`);
  expect(message).toMatch(/minimum rate of \d+ bytes\/s/);
  expect(message).toMatch(/deadline/);
  expect(r.ms).toBeLessThan(timeoutMs + slackMs);
}

describe('a server that sends one byte a second is cut off within --timeout', () => {
  it.each([
    ['the current root', 'root.json'],
    ['a root rotation', '2.root.json'],
    ['the index', 'index.json'],
  ])(
    'metadata: %s (%s)',
    async (_what, path) => {
      server.faults = { stallAfterBytes: 0, trickleMs: 1000, path };
      source = await openRepository(server.url, { timeoutMs, retries: 0 });
      const reader = source.reader;

      const r = await timed(() => reader.read(path));

      expectCutOff(r, path);
    },
    10_000,
  );

  it.each([
    ['an uplift pack', 'packs/a.upk'],
    ['a vendor download', 'packs/SecureTransport_5.5-from-5.4_linux-x86-64_BN1.zip'],
  ])(
    'downloads: %s',
    async (_what, path) => {
      server.faults = { stallAfterBytes: 0, trickleMs: 1000, path };
      source = await openRepository(server.url, { timeoutMs, retries: 0 });
      const body = files[path] as Buffer;
      const open = source.opener(path);

      const r = await timed(() =>
        downloadFile({
          open,
          from: `${server.url}${path}`,
          dest: join(tmp, `out-${path.replace(/\//g, '_')}`),
          size: body.length,
          sha256: createHash('sha256').update(body).digest('hex'),
          retries: 0,
        }),
      );

      expectCutOff(r, path);
    },
    10_000,
  );
});
