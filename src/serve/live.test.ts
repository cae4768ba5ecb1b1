import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenedStateStore, openStateStore } from '../state/index.ts';
import { createServeToken, type RunningServer, revokeServeToken, startServe } from './index.ts';

/**
 * The shared live feed (src/serve/live.ts) on a real server over a real SQLite store: many streams
 * of the same runs, one poll of the audit per interval whatever their number, every row to every
 * stream of its run once and in order, resume after Last-Event-ID, and a revocation check per
 * token, not per stream.
 */
const dir = mkdtempSync(join(tmpdir(), 'uplift-live-'));
const pollMs = 50;
let real: OpenedStateStore;
let server: RunningServer;
let viewer: string;
/** Queries the server made, by kind. */
const calls = { poll: 0, runRead: 0, tokenByHash: 0 };

beforeAll(async () => {
  real = await openStateStore({ file: join(dir, 'state.db'), env: {} });
  // The server's store, counting its audit reads: a poll reads every run's new rows (no runId);
  // a stream's catch-up reads its own run's.
  const counted = new Proxy(real, {
    get(target, key) {
      const v = Reflect.get(target, key, target) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (key === 'listAudit') {
          const f = (args[0] ?? {}) as { runId?: string; afterId?: number };
          if (f.runId === undefined && f.afterId !== undefined) calls.poll++;
          if (f.runId !== undefined) calls.runRead++;
        }
        if (key === 'tokenByHash') calls.tokenByHash++;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  viewer = (await createServeToken(real, 'vera', 'viewer')).token;
  server = await startServe({
    store: counted,
    listen: '127.0.0.1:0',
    controller: 'serve:test',
    app: { pollMs, heartbeatMs: 60_000 },
  });
  for (const id of ['r-a', 'r-b'])
    await real.startRun({
      id,
      env: 'test',
      deployments: ['web'],
      topologyDigest: 'sha256:t',
      controller: 'c',
      dryRun: false,
    });
});
afterAll(async () => {
  await server?.close();
  await real?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function login(token: string): Promise<string> {
  const res = await fetch(`${server.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  expect(res.status).toBe(200);
  return (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
}

/** An EventSource-like client over fetch: every event id, every comment, and when the stream ended. */
async function subscribe(headers: Record<string, string>, run: string, lastEventId?: string) {
  const abort = new AbortController();
  const res = await fetch(`${server.url}/api/runs/${run}/events`, {
    headers: { ...headers, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    signal: abort.signal,
  });
  expect(res.status).toBe(200);
  const got = { ids: [] as number[], comments: [] as string[], ended: false };
  const done = (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          if (block.startsWith(':')) got.comments.push(block);
          const id = /^id: (\d+)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (id !== undefined && data !== undefined) {
            expect((JSON.parse(data) as { runId: string }).runId).toBe(run);
            got.ids.push(Number(id));
          }
        }
      }
      got.ended = true;
    } catch {
      // aborted by close()
    }
  })();
  return { got, done, close: () => abort.abort() };
}

const write = (runId: string, action: string) =>
  real.audit({ actor: 'a', controller: 'c', runId, action, outcome: 'ok' });

async function until(what: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('not within 5 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the shared live feed', () => {
  it('gives 60 streams of two runs every row of their run once, in order, with one poll per interval', async () => {
    const older = await write('r-a', 'rollout.start');
    const headers = { authorization: `Bearer ${viewer}` };
    const streams = await Promise.all(
      Array.from({ length: 60 }, (_, i) => subscribe(headers, i % 2 === 0 ? 'r-a' : 'r-b')),
    );
    await until(() => streams.filter((_, i) => i % 2 === 0).every((s) => s.got.ids.length === 1));
    const before = { ...calls };
    const started = Date.now();

    const written: Record<string, number[]> = { 'r-a': [older.id as number], 'r-b': [] };
    for (let i = 0; i < 20; i++) {
      const run = i % 3 === 0 ? 'r-b' : 'r-a';
      written[run]?.push((await write(run, `node.step-${i}`)).id as number);
      if (i % 4 === 0) await new Promise((r) => setTimeout(r, pollMs));
    }
    await until(() =>
      streams.every((s, i) => s.got.ids.length === written[i % 2 === 0 ? 'r-a' : 'r-b']?.length),
    );
    const elapsed = Date.now() - started;
    const polls = calls.poll - before.poll;
    const runReads = calls.runRead - before.runRead;
    for (const s of streams) s.close();
    await Promise.all(streams.map((s) => s.done));
    await new Promise((r) => setTimeout(r, pollMs * 4));
    const afterLeaving = calls.poll;
    await new Promise((r) => setTimeout(r, pollMs * 4));

    streams.forEach((s, i) => {
      expect(s.got.ids).toEqual(written[i % 2 === 0 ? 'r-a' : 'r-b']);
    });
    // One poller for all 60 streams: at most one read per interval (timers only run late), and
    // no stream read its run again once it had caught up.
    expect(polls).toBeGreaterThan(0);
    expect(polls).toBeLessThanOrEqual(Math.ceil(elapsed / pollMs) + 1);
    expect(runReads).toBe(0);
    // The poller stopped with the last stream.
    expect(calls.poll).toBe(afterLeaving);
  });

  it('resumes after Last-Event-ID with only newer rows, while other streams of the run are open', async () => {
    const headers = { authorization: `Bearer ${viewer}` };
    const open = await subscribe(headers, 'r-b');
    const rows = [await write('r-b', 'node.stop'), await write('r-b', 'node.upgrade')];
    await until(() => open.got.ids.at(-1) === rows[1]?.id);

    const resumed = await subscribe(headers, 'r-b', String(rows[0]?.id));
    const third = await write('r-b', 'node.start');
    await until(() => resumed.got.ids.at(-1) === third.id && open.got.ids.at(-1) === third.id);
    open.close();
    resumed.close();

    expect(resumed.got.ids).toEqual([rows[1]?.id, third.id]);
    expect(open.got.ids.slice(-3)).toEqual([rows[0]?.id, rows[1]?.id, third.id]);
  });

  it('ends the streams of a revoked token at the next heartbeat, asking the store once per token', async () => {
    const s = await startServe({
      store: new Proxy(real, {
        get(target, key) {
          const v = Reflect.get(target, key, target) as unknown;
          if (typeof v !== 'function') return v;
          return (...args: unknown[]) => {
            if (key === 'tokenByHash') calls.tokenByHash++;
            return (v as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      }),
      listen: '127.0.0.1:0',
      controller: 'serve:test',
      app: { pollMs, heartbeatMs: 300 },
    });
    const main = server;
    server = s;
    try {
      const { token } = await createServeToken(real, 'rob', 'viewer');
      const robs = [await login(token), await login(token), await login(token)];
      const vera = await login(viewer);
      const streams = await Promise.all(
        [...robs, vera].map((cookie) => subscribe({ cookie }, 'r-a')),
      );
      await until(() => streams.every((x) => x.got.comments.length >= 1));
      const checks = calls.tokenByHash;
      await until(() => streams.every((x) => x.got.comments.length >= 2));
      const perBeat = calls.tokenByHash - checks;

      await revokeServeToken(real, 'rob');
      await until(() => streams.slice(0, 3).every((x) => x.got.ended));
      const veraBeats = streams[3]?.got.comments.length ?? 0;
      await until(() => (streams[3]?.got.comments.length ?? 0) > veraBeats);
      streams[3]?.close();

      // Two tokens behind four streams: two checks per heartbeat, not four.
      expect(perBeat).toBe(2);
      expect(streams[3]?.got.ended).toBe(false);
    } finally {
      server = main;
      await s.close();
    }
  });
});
